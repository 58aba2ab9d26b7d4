package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tarian-soc/tarian/internal/health"
)

const sourcesUsage = "usage: tarian sources list [--tenant ID|*] [--json]"

func runSources(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 || args[0] != "list" {
		return usageError(sourcesUsage)
	}
	var out struct {
		Sources []health.Source `json:"sources"`
	}
	asJSON, err := getScoped(ctx, env, "sources list", sourcesUsage, args[1:], "/api/v1/sources", &out)
	if err != nil || asJSON {
		return err
	}
	return writeSources(env.Stdout, out.Sources, time.Now())
}

// getScoped runs a read command of the shape `tarian CMD [--tenant ID|*]
// [--json]`: it GETs path for the tenant asked into out and, with --json,
// prints out as the API's JSON object and says so.
func getScoped(ctx context.Context, env Env, name, usage string, args []string, path string, out any) (bool, error) {
	fs := newFlagSet(name, env)
	ten := fs.String("tenant", "", "tenant, or * for every tenant (provider roles)")
	asJSON := fs.Bool("json", false, "the API's JSON object")
	pos, err := parse(fs, args)
	if err != nil {
		return false, err
	}
	if len(pos) > 0 {
		return false, usageError(fmt.Sprintf("unexpected argument %q\n%s", pos[0], usage))
	}
	c, err := newClient(env)
	if err != nil {
		return false, err
	}
	q := url.Values{}
	if *ten != "" {
		q.Set("tenant", *ten)
	}
	if err := c.json(ctx, "GET", path+"?"+q.Encode(), nil, out); err != nil {
		// A provider's token reads no member by default: that is a
		// missing flag, not a refusal.
		var ae *apiError
		if *ten == "" && errors.As(err, &ae) && ae.Status == http.StatusForbidden && strings.Contains(ae.Message, "must name a tenant") {
			return false, usageError(fmt.Sprintf("a provider's token must name the member: --tenant ID, or --tenant '*' for every member\n%s", usage))
		}
		return false, err
	}
	if *asJSON {
		return true, json.NewEncoder(env.Stdout).Encode(out)
	}
	return false, nil
}

// writeSources prints one line per source, the worst first within each
// tenant (the API's order).
func writeSources(w io.Writer, ss []health.Source, now time.Time) error {
	if len(ss) == 0 {
		_, err := fmt.Fprintln(w, "no log sources yet: nothing received, none declared")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tSTATE\tNAME\tRECEIVER\tTYPE\tHOST\tLAST SEEN\tRATE/S\tBASELINE/S\tUNPARSED\tDEAD 24H")
	for _, s := range ss {
		last := "never"
		if !s.LastSeen.IsZero() {
			last = ago(now.Sub(s.LastSeen))
		}
		base := "learning"
		if s.Baseline != nil {
			base = fmt.Sprintf("%.2f", *s.Baseline)
		}
		typ := cmp.Or(s.Type, health.TypeUnknown)
		if s.Host == "" && s.Type == "" && !s.Declared {
			typ = "-" // a receiver's row: its dead letters
		}
		unparsed := strconv.FormatInt(s.Unparsed, 10)
		if s.Unparsed > 0 && s.Events > 0 {
			unparsed += fmt.Sprintf(" (%.1f%%)", 100*float64(s.Unparsed)/float64(s.Events))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%s\t%s\t%d\n", s.Tenant, s.State, cmp.Or(s.Name, "-"), s.Receiver,
			typ, cmp.Or(s.Host, "-"), last, s.Rate, base, unparsed, s.DeadLetters)
	}
	return tw.Flush()
}

// ago says how long ago d was, to the second under a minute, else to the
// minute.
func ago(d time.Duration) string {
	if d < time.Minute {
		return d.Truncate(time.Second).String() + " ago"
	}
	return d.Truncate(time.Minute).String() + " ago"
}
