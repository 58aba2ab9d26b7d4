package cli

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"text/tabwriter"
)

func runCampaigns(ctx context.Context, args []string, env Env) error {
	if len(args) > 0 {
		switch args[0] {
		case "list":
			return campaignsList(ctx, args[1:], env)
		case "show":
			return campaignsShow(ctx, args[1:], env)
		case "close", "reopen":
			return campaignsStatus(ctx, args[0], args[1:], env)
		}
	}
	return usageError(strings.TrimSuffix(commandUsage([]string{"campaigns"}), "\n"))
}

func campaignsList(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("campaigns list", env)
	limit := fs.Int("limit", 100, "at most this many, newest first")
	status := fs.String("status", "all", "open, closed or all")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("usage: tarian campaigns list [--status open|closed|all] [--limit N] [--json]")
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var out struct {
		Campaigns []map[string]any `json:"campaigns"`
	}
	q := url.Values{"limit": {fmt.Sprint(*limit)}, "status": {*status}}
	if err := c.json(ctx, "GET", "/api/v1/campaigns?"+q.Encode(), nil, &out); err != nil {
		return err
	}
	if *asJSON {
		return writeJSONLines(env.Stdout, out.Campaigns)
	}
	tw := table(env, len(out.Campaigns), "no campaigns match", "ID\tSTATUS\tMEMBERS\tOBSERVABLE\tFIRST SEEN\tLAST SEEN")
	if tw == nil {
		return nil
	}
	for _, cp := range out.Campaigns {
		fmt.Fprintf(tw, "%v\t%s\t%v\t%v %v\t%s\t%s\n", cp["id"], campaignStatus(cp), cp["members"], cp["kind"], cp["value"], shortTime(cp["first_seen"]), shortTime(cp["last_seen"]))
	}
	return tw.Flush()
}

// campaignStatus is open (active: still taking alerts; quiet: its window
// passed) or closed.
func campaignStatus(cp map[string]any) string {
	switch {
	case cp["status"] != "open":
		return fmt.Sprint(cp["status"])
	case cp["active"] == true:
		return "active"
	}
	return "quiet"
}

// campaignsStatus closes a campaign (with --note, why) or opens it again.
func campaignsStatus(ctx context.Context, verb string, args []string, env Env) error {
	fs := newFlagSet("campaigns "+verb, env)
	var note *string
	usage := "usage: tarian campaigns reopen ID"
	if verb == "close" {
		note = fs.String("note", "", "why it is closed")
		usage = "usage: tarian campaigns close ID [--note TEXT]"
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError(usage)
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var body any
	if note != nil && *note != "" {
		body = map[string]string{"note": *note}
	}
	var cp map[string]any
	if err := c.json(ctx, "POST", "/api/v1/campaigns/"+url.PathEscape(pos[0])+"/"+verb, body, &cp); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "campaign %v: %s\n", cp["id"], campaignStatus(cp))
	return nil
}

func campaignsShow(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("campaigns show", env)
	asJSON := fs.Bool("json", false, "the campaign as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: tarian campaigns show ID [--json]")
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var cp map[string]any
	if err := c.json(ctx, "GET", "/api/v1/campaigns/"+url.PathEscape(pos[0]), nil, &cp); err != nil {
		return err
	}
	if *asJSON {
		return writeJSONLines(env.Stdout, []map[string]any{cp})
	}
	fmt.Fprintf(env.Stdout, "campaign %v: %v (%s)\n%v members, %s .. %s\n", cp["id"], cp["title"], campaignStatus(cp), cp["members"], shortTime(cp["first_seen"]), shortTime(cp["last_seen"]))
	if cp["status"] == "closed" {
		fmt.Fprintf(env.Stdout, "closed %s by %v", shortTime(cp["closed_at"]), cp["closed_by"])
		if n, _ := cp["close_note"].(string); n != "" {
			fmt.Fprintf(env.Stdout, ": %s", n)
		}
		fmt.Fprintln(env.Stdout)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tALERT\tSEEN")
	for _, l := range asMaps(cp["alerts"]) {
		fmt.Fprintf(tw, "%v\t%v\t%s\n", l["tenant"], l["alert"], shortTime(l["seen"]))
	}
	return tw.Flush()
}
