package detector

import (
	"cmp"
	"slices"
	"strings"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/sigma"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Coverage is what a member's enabled rules can see, given the log sources
// its events have come from: the ATT&CK techniques it is covered for, those
// it is blind to, and the log sources that would cover the most.
type Coverage struct {
	// Seen are the mapped log sources the member's events have come
	// from ("windows/process_creation").
	Seen []string `json:"seen"`
	// RulesEnabled counts the member's enabled detection rules; RulesFed
	// those whose log source has been seen.
	RulesEnabled int `json:"rules_enabled"`
	RulesFed     int `json:"rules_fed"`
	// Techniques are the techniques of the enabled rules, blind ones
	// first.
	Techniques []Technique `json:"techniques"`
	Covered    int         `json:"covered"`
	Blind      int         `json:"blind"`
	// Next are the log sources not seen, those that would cover the most
	// blind techniques first.
	Next []SourceGain `json:"next"`
}

// Technique is one ATT&CK technique's coverage.
type Technique struct {
	ID string `json:"id"`
	// Rules count the enabled rules naming it; Fed those whose log
	// source has been seen (0: blind).
	Rules int `json:"rules"`
	Fed   int `json:"fed"`
	// Sources are the log sources its rules read.
	Sources []string `json:"sources"`
}

// SourceGain is a log source not seen and what connecting it would bring.
type SourceGain struct {
	Source string `json:"source"`
	// Techniques are the blind techniques it would cover; Rules the
	// enabled rules it would feed.
	Techniques []string `json:"techniques"`
	Rules      int      `json:"rules"`
}

// SourceName is a mapped log source key ("windows|process_creation|") as
// people read it ("windows/process_creation").
func SourceName(key string) string {
	var parts []string
	for p := range strings.SplitSeq(key, "|") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "/")
}

// Coverage returns tenant t's coverage now, from the log sources this
// service's consumers have seen.
func (s *Service) Coverage(t tenant.ID) Coverage {
	var seen []string
	s.statesMu.RLock()
	if st := s.states[t]; st != nil {
		seen = st.Sources()
	}
	s.statesMu.RUnlock()
	return s.CoverageOf(t, seen)
}

// CoverageOf returns tenant t's coverage given the mapped log sources seen
// (detect.State.Sources): for a member whose stream another node reads,
// from its state as saved.
func (s *Service) CoverageOf(t tenant.ID, seen []string) Coverage {
	rs := s.rs.Load()
	fed := map[string]bool{}
	for _, src := range seen {
		fed[src] = true
	}
	off := rs.disabled[t]
	c := Coverage{Seen: make([]string, 0, len(seen)), Techniques: []Technique{}, Next: []SourceGain{}}
	for _, src := range seen {
		c.Seen = append(c.Seen, SourceName(src))
	}
	byID := map[string]*Technique{}
	gains := map[string]*SourceGain{}
	rs.engineFor(t).RuleSources(func(r *sigma.Rule, src string) {
		if off[r.ID] {
			return
		}
		c.RulesEnabled++
		if fed[src] {
			c.RulesFed++
		}
		name := SourceName(src)
		for _, id := range alert.Techniques(r.Tags) {
			tc := byID[id]
			if tc == nil {
				tc = &Technique{ID: id}
				byID[id] = tc
			}
			tc.Rules++
			if fed[src] {
				tc.Fed++
			}
			if !slices.Contains(tc.Sources, name) {
				tc.Sources = append(tc.Sources, name)
			}
		}
		if !fed[src] {
			g := gains[name]
			if g == nil {
				g = &SourceGain{Source: name}
				gains[name] = g
			}
			g.Rules++
		}
	})
	for _, tc := range byID {
		slices.Sort(tc.Sources)
		if tc.Fed > 0 {
			c.Covered++
		} else {
			c.Blind++
			for _, src := range tc.Sources {
				if g := gains[src]; g != nil {
					g.Techniques = append(g.Techniques, tc.ID)
				}
			}
		}
		c.Techniques = append(c.Techniques, *tc)
	}
	slices.SortFunc(c.Techniques, func(a, b Technique) int {
		return cmp.Or(cmp.Compare(min(a.Fed, 1), min(b.Fed, 1)), cmp.Compare(a.ID, b.ID))
	})
	for _, g := range gains {
		slices.Sort(g.Techniques)
		if g.Techniques == nil {
			g.Techniques = []string{}
		}
		c.Next = append(c.Next, *g)
	}
	slices.SortFunc(c.Next, func(a, b SourceGain) int {
		return cmp.Or(cmp.Compare(len(b.Techniques), len(a.Techniques)), cmp.Compare(b.Rules, a.Rules), cmp.Compare(a.Source, b.Source))
	})
	return c
}
