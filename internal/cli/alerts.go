package cli

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
)

// alertsPage is the most alerts asked for in one request.
const alertsPage = 1000

const alertsUsage = "usage: tarian alerts list [--tenant ID|*] [--status S] [--severity L] [--limit N] [--cursor C] [--json]"

func runAlerts(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 || args[0] != "list" {
		return usageError(alertsUsage)
	}
	fs := newFlagSet("alerts list", env)
	ten := fs.String("tenant", "", "tenant, or * for every tenant (provider roles)")
	status := fs.String("status", "", "only alerts in this state (new, ...)")
	severity := fs.String("severity", "", "only alerts of this level ("+alert.Levels+")")
	limit := fs.Int("limit", 100, "most alerts, newest first; 0 for all")
	cursor := fs.String("cursor", "", "start after the alerts already shown (the cursor a truncated listing names)")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usageError(fmt.Sprintf("unexpected argument %q\n%s", pos[0], alertsUsage))
	case *severity != "" && !alert.ValidLevel(*severity):
		return usageError(fmt.Sprintf("--severity %q: want one of %s", *severity, alert.Levels))
	case *limit < 0:
		return usageError("--limit: want 0 (all) or more")
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	q := url.Values{}
	for k, v := range map[string]string{"tenant": *ten, "status": *status, "severity": *severity} {
		if v != "" {
			q.Set(k, v)
		}
	}
	// Follow the pages until --limit alerts or the last page.
	var alerts []map[string]any
	next := *cursor
	for {
		page := alertsPage
		if *limit > 0 {
			page = min(page, *limit-len(alerts))
		}
		q.Set("limit", strconv.Itoa(page))
		if next != "" {
			q.Set("cursor", next)
		}
		var out struct {
			Alerts     []map[string]any `json:"alerts"`
			NextCursor string           `json:"next_cursor"`
		}
		if err := c.json(ctx, "GET", "/api/v1/alerts?"+q.Encode(), nil, &out); err != nil {
			return err
		}
		alerts = append(alerts, out.Alerts...)
		next = out.NextCursor
		if next == "" || *limit > 0 && len(alerts) >= *limit {
			break
		}
	}
	if *asJSON {
		err = writeJSONLines(env.Stdout, alerts)
	} else {
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EVENT TIME\tCREATED\tTENANT\tLEVEL\tHOST\tUSER\tRULE\tAUTHOR")
		for _, a := range alerts {
			fmt.Fprintf(tw, "%s\t%s\t%v\t%v\t%s\t%s\t%v\t%v\n", shortTime(a["event_time"]), shortTime(a["created"]), a["tenant"], a["level"],
				orDash(a["host"]), orDash(a["user"]), a["title"], a["author"])
		}
		err = tw.Flush()
	}
	if err != nil {
		return err
	}
	if next != "" {
		fmt.Fprintf(env.Stderr, "listed %s; more match: raise --limit (0 for all), or list the next ones with --cursor %s\n", plural(len(alerts), "alert"), next)
	}
	return nil
}

// shortTime shows an API time to the second.
func shortTime(v any) string {
	s, _ := v.(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.Format(time.RFC3339)
}

func orDash(v any) string {
	if s, _ := v.(string); s != "" {
		return s
	}
	return "-"
}

// plural is "1 alert", "2 alerts".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
