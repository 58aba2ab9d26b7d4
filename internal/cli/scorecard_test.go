package cli

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/detector"
	"github.com/tarian-soc/tarian/internal/onboard"
)

// TestWriteScorecard: a member blind to hundreds of techniques gets the
// first few named and how many more there are, on one line; a member
// blind to a few gets them all.
func TestWriteScorecard(t *testing.T) {
	card := func(blind int) string {
		sc := onboard.Scorecard{Tenant: "conwy", Name: "Conwy", Onboarded: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Score: 0}
		for i := range blind {
			sc.Coverage.Techniques = append(sc.Coverage.Techniques, detector.Technique{ID: fmt.Sprintf("T%d", 1000+i), Rules: 1})
		}
		sc.Coverage.Techniques = append(sc.Coverage.Techniques, detector.Technique{ID: "T1999", Rules: 1, Fed: 1})
		sc.Coverage.Blind, sc.Coverage.Covered = blind, 1
		var b strings.Builder
		writeScorecard(&b, sc)
		return b.String()
	}
	out := card(234)
	var line string
	for l := range strings.Lines(out) {
		if strings.HasPrefix(l, "  blind to") {
			line = l
		}
	}
	if n := strings.Count(line, " T1"); n != blindShown || !strings.Contains(line, "and 222 more") || strings.Contains(line, "T1999") {
		t.Errorf("blind to 234: %q: want %d named and 222 more", line, blindShown)
	}
	if out := card(3); !strings.Contains(out, "  blind to   T1000 T1001 T1002\n") || strings.Contains(out, "more") || strings.Contains(out, "searches") {
		t.Errorf("blind to 3:\n%s", out)
	}

	// Techniques scheduled searches name are covered, and said so.
	sc := onboard.Scorecard{Tenant: "conwy", Name: "Conwy"}
	sc.Coverage.Searches, sc.Coverage.Covered, sc.Coverage.Blind = 2, 2, 1
	sc.Coverage.Techniques = []detector.Technique{{ID: "T1046", Rules: 1}, {ID: "T1490", Rules: 1, Searches: 1}, {ID: "T1567", Searches: 2}}
	var b strings.Builder
	writeScorecard(&b, sc)
	if out := b.String(); !strings.Contains(out, "  searches   2 scheduled searches over its events, naming T1490 T1567\n") || !strings.Contains(out, "  blind to   T1046\n") {
		t.Errorf("with scheduled searches:\n%s", out)
	}
}
