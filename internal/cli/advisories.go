package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tarian-soc/tarian/internal/advisory"
)

func runAdvisories(ctx context.Context, args []string, env Env) error {
	if len(args) > 0 {
		switch args[0] {
		case "publish":
			return advisoriesPublish(ctx, args[1:], env)
		case "list":
			return advisoriesList(ctx, args[1:], env)
		case "ack":
			return advisoriesAck(ctx, args[1:], env)
		case "show":
			return advisoriesShow(ctx, args[1:], env)
		}
	}
	return usageError(strings.TrimSuffix(commandUsage([]string{"advisories"}), "\n"))
}

// advisoriesPublish sends the file (YAML or JSON) as it is: the API reads
// both, so its errors name the file's own fields.
func advisoriesPublish(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("advisories publish", env)
	asJSON := fs.Bool("json", false, "the published advisory as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: tarian advisories publish FILE   (YAML or JSON: title_en, title_cy, summary_en, summary_cy, actions_en, actions_cy, tlp, indicators, audience)")
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	ct := "application/yaml"
	if strings.EqualFold(filepath.Ext(pos[0]), ".json") {
		ct = "application/json"
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	resp, err := c.do(ctx, "POST", "/api/v1/advisories", bytes.NewReader(data), ct)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var a advisory.Advisory
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	if *asJSON {
		return writeJSONLines(env.Stdout, []advisory.Advisory{a})
	}
	fmt.Fprintln(env.Stdout, a.ID)
	return nil
}

func advisoriesList(ctx context.Context, args []string, env Env) error {
	list, printed, err := listCommand[advisory.Entry](ctx, newFlagSet("advisories list", env), args, env, "/api/v1/advisories", "advisories")
	if err != nil || printed {
		return err
	}
	tw := table(env, len(list), "no advisories", "ID\tTLP\tPUBLISHED\tACKNOWLEDGED\tTITLE")
	if tw == nil {
		return nil
	}
	for _, e := range list {
		ack := "no"
		switch {
		case e.Recipients != nil && e.Acks != nil:
			ack = fmt.Sprintf("%d/%d members", *e.Acks, *e.Recipients)
		case e.Acknowledged != nil:
			ack = e.Acknowledged.At.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s / %s\n", e.ID, e.TLP.Label(), e.Published.Format(time.RFC3339), ack, e.TitleEN, e.TitleCY)
	}
	return tw.Flush()
}

func advisoriesAck(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("advisories ack", env)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: tarian advisories ack ID")
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var k advisory.Ack
	if err := c.json(ctx, "POST", "/api/v1/advisories/"+url.PathEscape(pos[0])+"/ack", map[string]any{}, &k); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "advisory %d acknowledged for %s by %s at %s\n", k.Advisory, k.Tenant, k.By, k.At.Format(time.RFC3339))
	return nil
}

func advisoriesShow(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("advisories show", env)
	asJSON := fs.Bool("json", false, "the advisory, acknowledgements and sightings as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: tarian advisories show ID [--json]")
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var d advisory.Detail
	if err := c.json(ctx, "GET", "/api/v1/advisories/"+url.PathEscape(pos[0]), nil, &d); err != nil {
		return err
	}
	if *asJSON {
		return writeJSONLines(env.Stdout, []advisory.Detail{d})
	}
	a := d.Advisory
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "id:\t%d\n", a.ID)
	fmt.Fprintf(tw, "tlp:\t%s\n", a.TLP.Label())
	fmt.Fprintf(tw, "published:\t%s by %s\n", a.Published.Format(time.RFC3339), a.Author)
	audience := "all members"
	if a.Audience != nil {
		audience = fmt.Sprint(a.Audience)
	}
	fmt.Fprintf(tw, "audience:\t%s\n", audience)
	for _, f := range [][2]string{{"title (en)", a.TitleEN}, {"teitl (cy)", a.TitleCY}, {"summary (en)", a.SummaryEN}, {"crynodeb (cy)", a.SummaryCY},
		{"actions (en)", a.ActionsEN}, {"camau (cy)", a.ActionsCY}} {
		if f[1] != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", f[0], strings.ReplaceAll(strings.TrimSpace(f[1]), "\n", "\n\t"))
		}
	}
	if d.Acknowledged != nil {
		fmt.Fprintf(tw, "acknowledged:\t%s by %s\n", d.Acknowledged.At.Format(time.RFC3339), d.Acknowledged.By)
	} else if d.Members == nil {
		fmt.Fprintf(tw, "acknowledged:\tno\n")
	}
	for _, m := range d.Members {
		st := "not acknowledged"
		if m.Acknowledged {
			st = "acknowledged " + m.At.Format(time.RFC3339) + " by " + m.By
		}
		fmt.Fprintf(tw, "member:\t%s %s\n", m.Tenant, st)
	}
	for _, s := range d.Seen {
		var where []string
		for _, m := range s.Members {
			w := string(m.Tenant) + " (last " + m.LastSeen.Format(time.RFC3339) + ")"
			if !m.Addressed {
				w += " [not addressed]"
			}
			where = append(where, w)
		}
		if len(where) == 0 {
			where = []string{"not seen since publication"}
		}
		fmt.Fprintf(tw, "indicator:\t%s: %s\n", s.Indicator, strings.Join(where, ", "))
	}
	return tw.Flush()
}
