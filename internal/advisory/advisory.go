// Package advisory is the provider's advisories to member bodies: a
// bilingual (English and Welsh) notice with a TLP marking, the intel
// indicators it advises and the recommended actions, addressed to every
// member or to chosen ones; members acknowledge it, and the provider sees
// who has not and where the advised indicators have since been seen.
//
// The model, its validation and the rule of who may see an advisory are
// pure; Service adds the checks that need the stores.
package advisory

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Advisory is one published advisory.
type Advisory struct {
	ID        int64  `json:"id"`
	TitleEN   string `json:"title_en"`
	TitleCY   string `json:"title_cy"`
	SummaryEN string `json:"summary_en"`
	SummaryCY string `json:"summary_cy"`
	// ActionsEN and ActionsCY are the recommended actions.
	ActionsEN string    `json:"actions_en,omitempty"`
	ActionsCY string    `json:"actions_cy,omitempty"`
	TLP       intel.TLP `json:"tlp"`
	// Indicators are the ids of the intel indicators it advises.
	Indicators []string `json:"indicators"`
	// Audience is the members it is addressed to; nil is all members.
	Audience []tenant.ID `json:"audience,omitempty"`
	// Author is who published it (a token id, or "user:NAME").
	Author    string    `json:"author"`
	Published time.Time `json:"published"`
}

// Ack is a member's acknowledgement of an advisory.
type Ack struct {
	Advisory int64     `json:"advisory"`
	Tenant   tenant.ID `json:"tenant"`
	// By is who acknowledged (a token id, or "user:NAME").
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// Sentinel errors.
var (
	// ErrNotFound is returned for an advisory that does not exist or is
	// not addressed to the reader (the two are not told apart).
	ErrNotFound = errors.New("advisory not found")
	// ErrInvalid wraps every validation failure.
	ErrInvalid = errors.New("invalid advisory")
)

// Limits on the text of an advisory.
const (
	maxTitle      = 300
	maxText       = 20_000
	maxIndicators = 1000
)

// Validate reports the first problem with a before it is published.
func (a Advisory) Validate() error {
	for _, f := range []struct {
		name, v string
		max     int
		need    bool
	}{
		{"title_en", a.TitleEN, maxTitle, true}, {"title_cy", a.TitleCY, maxTitle, true},
		{"summary_en", a.SummaryEN, maxText, true}, {"summary_cy", a.SummaryCY, maxText, true},
		{"actions_en", a.ActionsEN, maxText, false}, {"actions_cy", a.ActionsCY, maxText, false},
	} {
		switch {
		case f.need && strings.TrimSpace(f.v) == "":
			return fmt.Errorf("%w: %s: empty (an advisory is published in English and Welsh)", ErrInvalid, f.name)
		case len(f.v) > f.max:
			return fmt.Errorf("%w: %s: longer than %d bytes", ErrInvalid, f.name, f.max)
		}
	}
	if (a.ActionsEN == "") != (a.ActionsCY == "") {
		return fmt.Errorf("%w: actions_en and actions_cy: give both or neither", ErrInvalid)
	}
	if _, err := intel.ParseTLP(string(a.TLP)); err != nil || a.TLP == "" {
		return fmt.Errorf("%w: tlp %q: want clear, green, amber, amber+strict or red", ErrInvalid, a.TLP)
	}
	if a.Audience != nil && len(a.Audience) == 0 {
		return fmt.Errorf("%w: audience: empty (omit it for all members)", ErrInvalid)
	}
	if a.Audience == nil && a.TLP.Restricted() {
		return fmt.Errorf("%w: %s: name the members in audience (it may not go to all members)", ErrInvalid, a.TLP.Label())
	}
	for i, t := range a.Audience {
		if _, err := tenant.Parse(string(t)); err != nil {
			return fmt.Errorf("%w: audience: %w", ErrInvalid, err)
		}
		if slices.Contains(a.Audience[:i], t) {
			return fmt.Errorf("%w: audience: %s named twice", ErrInvalid, t)
		}
	}
	if len(a.Indicators) > maxIndicators {
		return fmt.Errorf("%w: indicators: more than %d", ErrInvalid, maxIndicators)
	}
	for i, id := range a.Indicators {
		if strings.TrimSpace(id) == "" {
			return fmt.Errorf("%w: indicators: an empty id", ErrInvalid)
		}
		if slices.Contains(a.Indicators[:i], id) {
			return fmt.Errorf("%w: indicators: %s named twice", ErrInvalid, id)
		}
	}
	return nil
}

// AddressedTo reports whether a is addressed to member t: its audience
// names t, or it goes to all members and its TLP allows that
// (TLP:AMBER+STRICT and TLP:RED go only to named members), the rule of
// intel.Indicator.AppliesTo.
func (a Advisory) AddressedTo(t tenant.ID) bool {
	if t == "" {
		return false
	}
	if a.Audience == nil {
		return !a.TLP.Restricted()
	}
	return slices.Contains(a.Audience, t)
}

// VisibleTo reports whether a principal of tenant t may read a: provider
// staff (t is "") read every advisory, a member the ones addressed to it.
func (a Advisory) VisibleTo(t tenant.ID) bool { return t == "" || a.AddressedTo(t) }

// ForMember is a as member t reads it: an audience that names members
// names t alone, so that no member learns which others were told.
func (a Advisory) ForMember(t tenant.ID) Advisory {
	if a.Audience != nil {
		a.Audience = []tenant.ID{t}
	}
	return a
}

// Recipients are the members a is addressed to, of members (every
// member body).
func (a Advisory) Recipients(members []tenant.ID) []tenant.ID {
	var out []tenant.ID
	for _, t := range members {
		if a.AddressedTo(t) {
			out = append(out, t)
		}
	}
	return out
}

// CheckIndicator reports whether indicator i may be advised in a: it
// exists for every member a is addressed to (intel's sharing rule), and
// a's marking is at least as strict as i's, so that the advisory cannot
// carry an indicator further than the indicator's own TLP allows.
func (a Advisory) CheckIndicator(i intel.Indicator, recipients []tenant.ID) error {
	if i.Revoked {
		return fmt.Errorf("%w: indicator %s: revoked", ErrInvalid, i.ID)
	}
	if a.TLP.Rank() < i.TLP.Rank() {
		return fmt.Errorf("%w: indicator %s is %s: the advisory must be marked at least as strictly", ErrInvalid, i.ID, i.TLP.Label())
	}
	if a.Audience == nil && (i.Owner != "" || i.Audience != nil) {
		return fmt.Errorf("%w: indicator %s is not shared with all members", ErrInvalid, i.ID)
	}
	for _, t := range recipients {
		if !i.AppliesTo(t) {
			return fmt.Errorf("%w: indicator %s is not shared with %s", ErrInvalid, i.ID, t)
		}
	}
	return nil
}
