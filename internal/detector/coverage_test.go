package detector

import (
	"slices"
	"testing"
)

// TestCoverageAddSearch: a scheduled search's techniques are covered, a
// blind one leaves the blind part (first in order) and what connecting a
// log source would bring, and a search naming none counts for nothing.
func TestCoverageAddSearch(t *testing.T) {
	c := Coverage{
		Techniques: []Technique{{ID: "T1046", Rules: 1}, {ID: "T1110", Rules: 2}, {ID: "T1059", Rules: 1, Fed: 1}},
		Covered:    1, Blind: 2,
		Next: []SourceGain{{Source: "firewall", Techniques: []string{"T1046"}, Rules: 1}, {Source: "azure", Techniques: []string{"T1110"}, Rules: 2}},
	}
	c.AddSearch(nil)
	if c.Searches != 0 || c.Covered != 1 {
		t.Fatalf("a search naming no technique: %+v", c)
	}
	c.AddSearch([]string{"T1046", "T1567"})
	c.AddSearch([]string{"T1046"})
	if c.Searches != 2 || c.Covered != 3 || c.Blind != 1 {
		t.Fatalf("counts: %+v", c)
	}
	var order []string
	for _, tc := range c.Techniques {
		order = append(order, tc.ID)
	}
	if !slices.Equal(order, []string{"T1110", "T1046", "T1059", "T1567"}) || c.Techniques[1].Searches != 2 || c.Techniques[3].Rules != 0 {
		t.Fatalf("techniques: %+v", c.Techniques)
	}
	if c.Next[0].Source != "azure" || len(c.Next[1].Techniques) != 0 {
		t.Fatalf("next: %+v", c.Next)
	}
}
