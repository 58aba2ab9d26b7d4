package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tarian-soc/tarian/internal/web"
)

const metricsUsage = "usage: tarian metrics soc [--tenant ID|*] [--from T] [--to T] [--json]"

// socRules is how many of the noisiest rules the summary lists.
const socRules = 10

func runMetrics(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 || args[0] != "soc" {
		return usageError(metricsUsage)
	}
	fs := newFlagSet("metrics soc", env)
	ten := fs.String("tenant", "", "tenant, or * for every tenant and each one's (provider roles)")
	from := fs.String("from", "", "alerts created from T (default: 30 days ago)")
	to := fs.String("to", "", "alerts created before T (default: now)")
	asJSON := fs.Bool("json", false, "the API's JSON object")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fmt.Sprintf("unexpected argument %q\n%s", pos[0], metricsUsage))
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	q := url.Values{}
	for k, v := range map[string]string{"tenant": *ten, "from": *from, "to": *to} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var st web.SOCStatsJSON
	if err := c.json(ctx, "GET", "/api/v1/metrics/soc?"+q.Encode(), nil, &st); err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(st)
	}
	return writeSOCSummary(env.Stdout, st)
}

// writeSOCSummary prints st for people: the measures, the volumes, the
// noisiest rules, and for every tenant ("*") one line per tenant.
func writeSOCSummary(w io.Writer, st web.SOCStatsJSON) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	who := "tenant " + st.Tenant
	if st.Tenant == "*" {
		who = fmt.Sprintf("every tenant (%d)", len(st.Tenants))
	}
	fmt.Fprintf(tw, "SOC metrics of %s, alerts created %s to %s\n\n", who, st.From.Format(time.RFC3339), st.To.Format(time.RFC3339))
	fmt.Fprintf(tw, "alerts\t%d (%s)\n", st.Alerts, plural(int(st.Events), "event"))
	fmt.Fprintf(tw, "MTTD\t%s\t(ingest lag %s, detection lag %s)\n", meanText(st.MTTD.Total), meanSeconds(st.MTTD.IngestLag), meanSeconds(st.MTTD.DetectionLag))
	fmt.Fprintf(tw, "MTTA\t%s\n", meanText(st.MTTA))
	fmt.Fprintf(tw, "MTTR\t%s\n", meanText(st.MTTR))
	fmt.Fprintf(tw, "SLA breaches\tacknowledge %d, resolve %d\n", st.SLABreaches.Acknowledge, st.SLABreaches.Resolve)
	fmt.Fprintf(tw, "by severity\t%s\n", counts(st.BySeverity, strings.Split("critical high medium low informational", " ")))
	fmt.Fprintf(tw, "by status\t%s\n", counts(st.ByStatus, strings.Split("new acknowledged in-progress escalated resolved", " ")))
	fmt.Fprintf(tw, "by resolution\t%s\n", counts(st.ByResolution, strings.Split("true-positive benign-positive false-positive duplicate", " ")))
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(st.Rules) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NOISIEST RULES\tALERTS\tRESOLVED\tFALSE POS.\tFP RATE\tTITLE")
		for _, r := range st.Rules[:min(len(st.Rules), socRules)] {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.0f%%\t%s\n", r.RuleID, r.Alerts, r.Resolved, r.FalsePositives, 100*r.FalsePositiveRate, r.Title)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if len(st.Rules) > socRules {
			fmt.Fprintf(w, "(%d more rules; --json lists every one)\n", len(st.Rules)-socRules)
		}
	}
	if len(st.Tenants) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TENANT\tALERTS\tMTTD\tMTTA\tMTTR\tSLA BREACHES (ACK/RESOLVE)")
		for _, t := range st.Tenants {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d/%d\n", t.Tenant, t.Alerts, meanSeconds(t.MTTD.Total), meanSeconds(t.MTTA), meanSeconds(t.MTTR),
				t.SLABreaches.Acknowledge, t.SLABreaches.Resolve)
		}
		return tw.Flush()
	}
	return nil
}

// meanText is "5m over 3 alerts", or "-" when no alert counts.
func meanText(m web.MeanJSON) string {
	if m.Count == 0 {
		return "-"
	}
	return meanSeconds(m) + " over " + plural(int(m.Count), "alert")
}

// meanSeconds shows a mean duration to the second (to the tenth under a
// minute): "15.5s", "5m", "1h2m3s".
func meanSeconds(m web.MeanJSON) string {
	if m.Count == 0 {
		return "-"
	}
	d := time.Duration(m.MeanSeconds * float64(time.Second))
	if d < time.Minute {
		return d.Round(100 * time.Millisecond).String()
	}
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// counts lists m's non-zero counts, the keys in order first, then any
// others alphabetically: "high 3, low 1".
func counts[K ~string](m map[K]int64, order []string) string {
	var parts []string
	seen := map[string]bool{}
	for _, k := range order {
		seen[k] = true
		if n := m[K(k)]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	var rest []string
	for k, n := range m {
		if !seen[string(k)] && n > 0 {
			rest = append(rest, fmt.Sprintf("%s %d", k, n))
		}
	}
	sort.Strings(rest)
	parts = append(parts, rest...)
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}
