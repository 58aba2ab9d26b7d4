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
		}
	}
	return usageError(strings.TrimSuffix(commandUsage([]string{"campaigns"}), "\n"))
}

func campaignsList(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("campaigns list", env)
	limit := fs.Int("limit", 100, "at most this many, newest first")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("usage: tarian campaigns list [--limit N] [--json]")
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var out struct {
		Campaigns []map[string]any `json:"campaigns"`
	}
	if err := c.json(ctx, "GET", "/api/v1/campaigns?limit="+fmt.Sprint(*limit), nil, &out); err != nil {
		return err
	}
	if *asJSON {
		return writeJSONLines(env.Stdout, out.Campaigns)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tMEMBERS\tOBSERVABLE\tFIRST SEEN\tLAST SEEN")
	for _, cp := range out.Campaigns {
		fmt.Fprintf(tw, "%v\t%v\t%v\t%v %v\t%s\t%s\n", cp["id"], cp["status"], cp["members"], cp["kind"], cp["value"], shortTime(cp["first_seen"]), shortTime(cp["last_seen"]))
	}
	return tw.Flush()
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
	fmt.Fprintf(env.Stdout, "campaign %v: %v (%v)\n%v members, %s .. %s\n", cp["id"], cp["title"], cp["status"], cp["members"], shortTime(cp["first_seen"]), shortTime(cp["last_seen"]))
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tALERT\tSEEN")
	for _, l := range asMaps(cp["alerts"]) {
		fmt.Fprintf(tw, "%v\t%v\t%s\n", l["tenant"], l["alert"], shortTime(l["seen"]))
	}
	return tw.Flush()
}
