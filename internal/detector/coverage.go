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
	// Searches counts the scheduled searches over the member's events
	// that name ATT&CK techniques (AddSearch).
	Searches int `json:"searches"`
	// Techniques are the techniques of the enabled rules and the
	// scheduled searches, blind ones first.
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
	// source has been seen; Searches the scheduled searches naming it.
	// It is blind when Fed and Searches are both 0.
	Rules    int `json:"rules"`
	Fed      int `json:"fed"`
	Searches int `json:"searches"`
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
	c.sort()
	for _, g := range gains {
		slices.Sort(g.Techniques)
		if g.Techniques == nil {
			g.Techniques = []string{}
		}
		c.Next = append(c.Next, *g)
	}
	c.sortNext()
	return c
}

// Blind says whether no rule fed by a log source seen and no scheduled
// search covers the technique.
func (tc Technique) Blind() bool { return tc.Fed == 0 && tc.Searches == 0 }

// AddSearch counts a scheduled search that runs over the member's events
// and names techniques (ATT&CK IDs, alert.Techniques): each is covered
// from now on. What a search reads is its query's (no log source a LogsQL
// query needs can be named), so its coverage is as good as the query: a
// search over events the member does not send finds nothing.
func (c *Coverage) AddSearch(techniques []string) {
	if len(techniques) == 0 {
		return
	}
	c.Searches++
	for _, id := range techniques {
		i := slices.IndexFunc(c.Techniques, func(tc Technique) bool { return tc.ID == id })
		if i < 0 {
			c.Techniques = append(c.Techniques, Technique{ID: id, Searches: 1, Sources: []string{}})
			c.Covered++
			continue
		}
		tc := &c.Techniques[i]
		if tc.Blind() {
			c.Blind--
			c.Covered++
			for k := range c.Next {
				c.Next[k].Techniques = slices.DeleteFunc(c.Next[k].Techniques, func(s string) bool { return s == id })
			}
		}
		tc.Searches++
	}
	c.sort()
	c.sortNext()
}

// sort puts the blind techniques first, each part by ID.
func (c *Coverage) sort() {
	covered := func(tc Technique) int {
		if tc.Blind() {
			return 0
		}
		return 1
	}
	slices.SortFunc(c.Techniques, func(a, b Technique) int {
		return cmp.Or(cmp.Compare(covered(a), covered(b)), cmp.Compare(a.ID, b.ID))
	})
}

// sortNext puts the log sources that would cover the most blind
// techniques first.
func (c *Coverage) sortNext() {
	slices.SortFunc(c.Next, func(a, b SourceGain) int {
		return cmp.Or(cmp.Compare(len(b.Techniques), len(a.Techniques)), cmp.Compare(b.Rules, a.Rules), cmp.Compare(a.Source, b.Source))
	})
}
