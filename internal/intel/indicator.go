// Package intel is threat intelligence: indicators of compromise with their
// sharing markings, the rules of who may see and match them, and the
// normalisation that makes one value match however a feed or a log writes
// it. Importers (STIX, MISP, CSV), the matcher on the event stream and the
// TAXII server build on it.
package intel

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// Type is the kind of an observable value.
type Type string

// The observable types.
const (
	TypeIPv4         Type = "ipv4"
	TypeIPv6         Type = "ipv6"
	TypeCIDR         Type = "cidr"
	TypeDomain       Type = "domain"
	TypeURL          Type = "url"
	TypeMD5          Type = "md5"
	TypeSHA1         Type = "sha1"
	TypeSHA256       Type = "sha256"
	TypeEmail        Type = "email"
	TypeEmailSubject Type = "email-subject"
	TypeFileName     Type = "filename"
)

// Types lists every type.
func Types() []Type {
	return []Type{TypeIPv4, TypeIPv6, TypeCIDR, TypeDomain, TypeURL, TypeMD5, TypeSHA1, TypeSHA256, TypeEmail, TypeEmailSubject, TypeFileName}
}

// ParseType returns the type named s; "ip" is read as ipv4 or ipv6 by the
// caller's value, so it is not accepted here.
func ParseType(s string) (Type, error) {
	t := Type(strings.ToLower(strings.TrimSpace(s)))
	switch t {
	case "domain-name", "hostname":
		return TypeDomain, nil
	case "email-addr", "email-address":
		return TypeEmail, nil
	case "file-name":
		return TypeFileName, nil
	case "sha-256":
		return TypeSHA256, nil
	case "sha-1":
		return TypeSHA1, nil
	}
	if slices.Contains(Types(), t) {
		return t, nil
	}
	return "", fmt.Errorf("unknown indicator type %q (want one of %s)", s, typeList())
}

func typeList() string {
	var b strings.Builder
	for i, t := range Types() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(t))
	}
	return b.String()
}

// Observable is one value an indicator looks for.
type Observable struct {
	Type  Type   `json:"type"`
	Value string `json:"value"`
	// Warninglist names the warning list that flags the value as known
	// benign (a public resolver, a top site): such a value never alerts.
	Warninglist string `json:"warninglist,omitempty"`
}

// Indicator is one piece of intelligence: the observables it matches (or,
// for a STIX pattern that is more than a list of values, the pattern
// itself), its marking and its audience.
type Indicator struct {
	// ID is the STIX identifier ("indicator--<uuid>"), kept from the
	// source when it has one.
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Description is free text from the source.
	Description string `json:"description,omitempty"`
	// Observables are the values matched on events. Empty when the
	// indicator is a Pattern the fast index cannot hold.
	Observables []Observable `json:"observables,omitempty"`
	// Pattern is the STIX pattern, when the indicator came as one or is
	// exported as one.
	Pattern    string    `json:"pattern,omitempty"`
	TLP        TLP       `json:"tlp"`
	Confidence int       `json:"confidence"`
	ValidFrom  time.Time `json:"valid_from"`
	// ValidUntil, when set, ends the indicator's life.
	ValidUntil time.Time `json:"valid_until,omitzero"`
	// Source names where it came from: a feed, an import file, "manual".
	Source string   `json:"source,omitempty"`
	Tags   []string `json:"tags,omitempty"`
	// Attack holds ATT&CK technique and tactic ids ("T1566.001").
	Attack []string `json:"attack,omitempty"`
	// Owner is the tenant that owns it; "" is the provider.
	Owner tenant.ID `json:"owner,omitempty"`
	// Audience is the members it is shared with; nil is all members.
	// Ignored for an indicator a member owns (it is that member's).
	Audience []tenant.ID `json:"audience,omitempty"`
	Revoked  bool        `json:"revoked,omitempty"`
	// Created and Modified are the STIX timestamps; Modified orders
	// versions of one ID.
	Created  time.Time `json:"created"`
	Modified time.Time `json:"modified"`
}

// Validate reports the first problem with i; the observables must be
// normalised already (see Normalize).
func (i Indicator) Validate() error {
	switch {
	case i.ID == "":
		return errors.New("id: empty")
	case len(i.Observables) == 0 && i.Pattern == "":
		return errors.New("neither observables nor a pattern")
	case i.Confidence < 0 || i.Confidence > 100:
		return fmt.Errorf("confidence %d: want 0..100", i.Confidence)
	case !i.ValidUntil.IsZero() && !i.ValidUntil.After(i.ValidFrom):
		return errors.New("valid_until: must be after valid_from")
	}
	if _, err := ParseTLP(string(i.TLP)); err != nil {
		return err
	}
	for _, o := range i.Observables {
		v, err := Normalize(o.Type, o.Value)
		if err != nil {
			return err
		}
		if v != o.Value {
			return fmt.Errorf("%s %q: not normalised (want %q)", o.Type, o.Value, v)
		}
	}
	return nil
}

// Active reports whether i is in force at now.
func (i Indicator) Active(now time.Time) bool {
	return !i.Revoked && !now.Before(i.ValidFrom) && (i.ValidUntil.IsZero() || now.Before(i.ValidUntil))
}

// AppliesTo reports whether i may be matched on (and shown to) tenant t's
// data. A member's own indicators apply to it alone. The provider's apply to
// its audience; TLP:AMBER+STRICT and TLP:RED ones, which may not spread
// beyond named recipients, apply only to members named in the audience,
// never to "all".
func (i Indicator) AppliesTo(t tenant.ID) bool {
	if i.Owner != "" {
		return i.Owner == t
	}
	if i.Audience == nil {
		return !i.TLP.Restricted()
	}
	return slices.Contains(i.Audience, t)
}

// VisibleTo reports whether a principal of tenant t (provider staff: t is
// "") may read i: provider staff read every indicator, a member the ones
// that apply to it.
func (i Indicator) VisibleTo(t tenant.ID) bool {
	return t == "" || i.AppliesTo(t)
}

// ErrNotFound is returned for an indicator that does not exist or that the
// caller may not see (the two are not told apart).
var ErrNotFound = errors.New("indicator not found")

// Filter selects indicators to list.
type Filter struct {
	// Viewer is the reading tenant; "" with Provider set reads all.
	Viewer   tenant.ID
	Provider bool
	// Owner, when set with Provider, lists one tenant's own indicators
	// ("*" the provider's).
	Owner string
	Type  Type
	// Value, when set, keeps the indicators with an observable of this
	// value (normalised as its type's are).
	Value string
	// Revoked includes revoked indicators.
	Revoked bool
	// After pages: indicators stored after this row.
	After int64
	Limit int
}

// Visible reports whether f's viewer may read i.
func (f Filter) Visible(i Indicator) bool {
	if f.Provider {
		return true
	}
	return i.AppliesTo(f.Viewer)
}
