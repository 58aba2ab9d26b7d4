package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/tarian-soc/tarian/internal/onboard"
)

const scorecardUsage = "usage: tarian scorecard [--tenant ID|*] [--json]"

func runScorecard(ctx context.Context, args []string, env Env) error {
	var out struct {
		Scorecards []onboard.Scorecard `json:"scorecards"`
	}
	asJSON, err := getScoped(ctx, env, "scorecard", scorecardUsage, args, "/api/v1/scorecard", &out)
	if err != nil || asJSON {
		return err
	}
	for i, sc := range out.Scorecards {
		if i > 0 {
			fmt.Fprintln(env.Stdout)
		}
		writeScorecard(env.Stdout, sc)
	}
	return nil
}

// blindShown is how many blind techniques a scorecard names for people: a
// member with nothing connected yet is blind to every technique the
// rules name (hundreds), which buried the rest of its card.
const blindShown = 12

// writeScorecard prints one member's scorecard for people.
func writeScorecard(w io.Writer, sc onboard.Scorecard) {
	fmt.Fprintf(w, "%s (%s): onboarding score %d/100, onboarded %s (%d days)\n", sc.Name, sc.Tenant, sc.Score, sc.Onboarded.Format("2006-01-02"), sc.Days)
	s := sc.Sources
	fmt.Fprintf(w, "  sources    %d of %d declared heard from; %d seen in all; %d silent, %d dropped\n", s.Heard, s.Declared, s.Seen, s.Silent, s.Dropped)
	if len(s.Waiting) > 0 {
		fmt.Fprintf(w, "  waiting    %s\n", strings.Join(s.Waiting, ", "))
	}
	c := sc.Coverage
	fmt.Fprintf(w, "  rules      %d enabled, %d fed by log sources seen (%s)\n", c.RulesEnabled, c.RulesFed, orNone(strings.Join(c.Seen, ", ")))
	if c.Searches > 0 {
		var named []string
		for _, t := range c.Techniques {
			if t.Searches > 0 {
				named = append(named, t.ID)
			}
		}
		if len(named) > blindShown {
			named = append(named[:blindShown], fmt.Sprintf("... and %d more", len(named)-blindShown))
		}
		fmt.Fprintf(w, "  searches   %s over its events, naming %s\n", plural(c.Searches, "scheduled search"), strings.Join(named, " "))
	}
	fmt.Fprintf(w, "  ATT&CK     %d techniques covered, %d blind\n", c.Covered, c.Blind)
	var blind []string
	for _, t := range c.Techniques {
		if t.Blind() {
			blind = append(blind, t.ID)
		}
	}
	if len(blind) > blindShown {
		fmt.Fprintf(w, "  blind to   %s ... and %d more (--json lists every one)\n", strings.Join(blind[:blindShown], " "), len(blind)-blindShown)
	} else if len(blind) > 0 {
		fmt.Fprintf(w, "  blind to   %s\n", strings.Join(blind, " "))
	}
	for i, n := range sc.Next {
		label := ""
		if i == 0 {
			label = "next"
		}
		fmt.Fprintf(w, "  %-10s %s\n", label, n)
	}
}

func orNone(s string) string {
	if s == "" {
		return "none yet"
	}
	return s
}
