// Package onboard is a member's onboarding scorecard: the log sources it
// was expected to send (declared) against those heard from, the ATT&CK
// coverage of its enabled rules given the log sources actually seen (which
// techniques it is blind to), days since onboarding, and what to connect
// next.
package onboard

import (
	"fmt"
	"time"

	"github.com/tarian-soc/tarian/internal/detector"
	"github.com/tarian-soc/tarian/internal/health"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Scorecard is one member's onboarding.
type Scorecard struct {
	Tenant    tenant.ID `json:"tenant"`
	Name      string    `json:"name"`
	Onboarded time.Time `json:"onboarded"`
	Days      int       `json:"days_onboarded"`
	Sources   Sources   `json:"sources"`
	// Coverage is the ATT&CK coverage of the enabled rules.
	Coverage detector.Coverage `json:"coverage"`
	// Score is 0..100: half for declared sources heard from, half for
	// techniques covered.
	Score int `json:"score"`
	// Next says what to connect next, most useful first.
	Next []string `json:"next"`
}

// Sources counts the member's log sources.
type Sources struct {
	// Declared counts the sources the configuration expects; Heard the
	// declared ones heard from; Waiting names those never heard from.
	Declared int      `json:"declared"`
	Heard    int      `json:"heard"`
	Waiting  []string `json:"waiting"`
	// Seen counts every source heard from (declared or not); Silent
	// and Dropped those in that state now.
	Seen    int `json:"seen"`
	Silent  int `json:"silent"`
	Dropped int `json:"dropped"`
}

// nextSources is how many unseen log sources Next suggests.
const nextSources = 5

// Build makes t's scorecard from its sources' health and its coverage.
func Build(t tenant.Tenant, sources []health.Source, cov detector.Coverage, now time.Time) Scorecard {
	sc := Scorecard{Tenant: t.ID, Name: t.Name, Onboarded: t.Created, Coverage: cov, Sources: Sources{Waiting: []string{}}, Next: []string{}}
	if !t.Created.IsZero() && now.After(t.Created) {
		sc.Days = int(now.Sub(t.Created) / (24 * time.Hour))
	}
	heard := map[string]bool{}
	declared := map[string]bool{}
	for _, s := range sources {
		if s.Tenant != t.ID {
			continue
		}
		if s.Declared {
			declared[s.Name] = true
		}
		switch s.State {
		case health.StateWaiting:
			sc.Sources.Waiting = append(sc.Sources.Waiting, s.Name)
			continue
		case health.StateSilent:
			sc.Sources.Silent++
		case health.StateDropped:
			sc.Sources.Dropped++
		}
		if s.Events > 0 {
			sc.Sources.Seen++
			if s.Declared {
				heard[s.Name] = true
			}
		}
	}
	sc.Sources.Declared, sc.Sources.Heard = len(declared), len(heard)
	for _, name := range sc.Sources.Waiting {
		sc.Next = append(sc.Next, fmt.Sprintf("connect %s: declared, nothing received yet", name))
	}
	if sc.Sources.Silent > 0 {
		sc.Next = append(sc.Next, fmt.Sprintf("restore %s: tarian sources list --tenant %s", count(sc.Sources.Silent, "silent source", "silent sources"), t.ID))
	}
	for i, g := range cov.Next {
		if i == nextSources || len(g.Techniques) == 0 {
			break
		}
		sc.Next = append(sc.Next, fmt.Sprintf("send %s logs: %s would cover %s (%s)", g.Source, count(g.Rules, "rule", "rules"),
			count(len(g.Techniques), "blind technique", "blind techniques"), list(g.Techniques, 6)))
	}
	sourcePart, techPart := 1.0, 0.0
	if sc.Sources.Declared > 0 {
		sourcePart = float64(sc.Sources.Heard) / float64(sc.Sources.Declared)
	} else if sc.Sources.Seen == 0 {
		sourcePart = 0
	}
	if n := cov.Covered + cov.Blind; n > 0 {
		techPart = float64(cov.Covered) / float64(n)
	}
	sc.Score = int(50*sourcePart + 50*techPart + 0.5)
	return sc
}

// list joins up to n of ids, saying how many more there are.
func list(ids []string, n int) string {
	s := ""
	for i, id := range ids {
		if i == n {
			return s + fmt.Sprintf(" and %d more", len(ids)-n)
		}
		if i > 0 {
			s += ", "
		}
		s += id
	}
	return s
}

// count is "1 rule", "2 rules".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
