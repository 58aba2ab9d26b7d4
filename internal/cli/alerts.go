package cli

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"text/tabwriter"
)

func runAlerts(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 || args[0] != "list" {
		return usageError("usage: tarian alerts list [--tenant ID|*] [--status S] [--severity L] [--limit N] [--json]")
	}
	fs := newFlagSet("alerts list", env)
	ten := fs.String("tenant", "", "tenant, or * for every tenant (provider roles)")
	status := fs.String("status", "", "only alerts in this state (new, ...)")
	severity := fs.String("severity", "", "only alerts of this level (low, medium, high, critical)")
	limit := fs.Int("limit", 100, "most alerts, newest first")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	if _, err := parse(fs, args[1:]); err != nil {
		return err
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	q := url.Values{"limit": {strconv.Itoa(*limit)}}
	for k, v := range map[string]string{"tenant": *ten, "status": *status, "severity": *severity} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var out struct {
		Alerts []map[string]any `json:"alerts"`
	}
	if err := c.json(ctx, "GET", "/api/v1/alerts?"+q.Encode(), nil, &out); err != nil {
		return err
	}
	if *asJSON {
		return writeJSONLines(env.Stdout, out.Alerts)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CREATED\tTENANT\tLEVEL\tRULE\tAUTHOR")
	for _, a := range out.Alerts {
		fmt.Fprintf(tw, "%v\t%v\t%v\t%v\t%v\n", a["created"], a["tenant"], a["level"], a["title"], a["author"])
	}
	return tw.Flush()
}
