package cli

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/tarian-soc/tarian/internal/detector"
)

// runRulesServer handles the rule commands that talk to a server.
func runRulesServer(ctx context.Context, sub string, args []string, env Env) error {
	switch sub {
	case "import":
		return runRulesImport(ctx, args, env)
	case "list":
		fs := newFlagSet("rules list", env)
		ten := fs.String("tenant", "", "show enabled/disabled for this tenant")
		asJSON := fs.Bool("json", false, "one JSON object per line")
		summary := fs.Bool("summary", false, "only the count per log source: rules active, not evaluated, and why")
		if _, err := parse(fs, args); err != nil {
			return err
		}
		c, err := newClient(env)
		if err != nil {
			return err
		}
		var out struct {
			Rules      []map[string]any            `json:"rules"`
			LogSources []detector.LogSourceSummary `json:"logsources"`
		}
		path := "/api/v1/rules"
		if *ten != "" {
			path += "?tenant=" + url.QueryEscape(*ten)
		}
		if err := c.json(ctx, "GET", path, nil, &out); err != nil {
			return err
		}
		switch {
		case *summary && *asJSON:
			return writeJSONLines(env.Stdout, out.LogSources)
		case *summary:
			return writeLogSources(env.Stdout, out.LogSources)
		case *asJSON:
			return writeJSONLines(env.Stdout, out.Rules)
		}
		tw := table(env, len(out.Rules), "no rules (tarian rules import brings them)", "ID\tLEVEL\tENABLED\tTITLE")
		if tw == nil {
			return nil
		}
		for _, r := range out.Rules {
			fmt.Fprintf(tw, "%v\t%v\t%v\t%v\n", r["id"], r["level"], r["enabled"], r["title"])
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout)
		return writeLogSources(env.Stdout, out.LogSources)
	case "placeholders":
		return runPlaceholders(ctx, args, env)
	case "enable", "disable":
		fs := newFlagSet("rules "+sub, env)
		ten := fs.String("tenant", "", "tenant (tenant-admin tokens act on their own)")
		pos, err := parse(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError("usage: tarian rules " + sub + " RULE_ID [--tenant ID]")
		}
		c, err := newClient(env)
		if err != nil {
			return err
		}
		path := "/api/v1/rules/" + url.PathEscape(pos[0]) + "/" + sub
		if *ten != "" {
			path += "?tenant=" + url.QueryEscape(*ten)
		}
		var out map[string]any
		if err := c.json(ctx, "POST", path, nil, &out); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "rule %s %sd for %v\n", pos[0], sub, out["tenant"])
		return nil
	case "delete":
		return runRulesDelete(ctx, args, env)
	}
	return usageError(fmt.Sprintf("unknown rules command %q", sub))
}

// runRulesDelete deletes a shared rule (provider-admin, no --tenant) or a
// tenant's own filter document (--tenant, or a tenant-admin's token).
func runRulesDelete(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("rules delete", env)
	ten := fs.String("tenant", "", "delete this tenant's own filter document (tenant-admin tokens act on their own)")
	asJSON := fs.Bool("json", false, "print what was deleted as one JSON object")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: tarian rules delete RULE_ID [--tenant ID] [--json]")
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	path := "/api/v1/rules/" + url.PathEscape(pos[0])
	if *ten != "" {
		path += "?tenant=" + url.QueryEscape(*ten)
	}
	var out detector.Deleted
	if err := c.json(ctx, "DELETE", path, nil, &out); err != nil {
		return err
	}
	if *asJSON {
		return writeJSONLines(env.Stdout, []detector.Deleted{out})
	}
	where := "shared rules"
	if out.Tenant != "" {
		where = "the filters of " + string(out.Tenant)
	}
	fmt.Fprintf(env.Stdout, "%s rule %s (%s) deleted from %s; its alerts are kept\n", out.Kind, out.RuleID, out.Title, where)
	return nil
}

// importBatch is how many rule files go in one request.
const importBatch = 500

type importFile struct {
	Name string `json:"name"`
	Data []byte `json:"data"`
}

func runRulesImport(ctx context.Context, args []string, env Env) error {
	flags := newFlagSet("rules import", env)
	ten := flags.String("tenant", "", "import filter documents for this tenant only (detection rules are shared)")
	paths, err := parse(flags, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return usageError("usage: tarian rules import PATH...")
	}
	var files []importFile
	for _, root := range paths {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !(strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".yaml")) {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files = append(files, importFile{Name: path, Data: data})
			return nil
		})
		if err != nil {
			return err
		}
	}
	if len(files) == 0 {
		return fmt.Errorf("no .yml or .yaml files under %s", strings.Join(paths, ", "))
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var imported, failed, unsupported, active, notEvaluated int
	var logSources []detector.LogSourceSummary
	for start := 0; start < len(files); start += importBatch {
		batch := files[start:min(start+importBatch, len(files))]
		var res struct {
			Imported     int                         `json:"imported"`
			Active       int                         `json:"active"`
			NotEvaluated int                         `json:"not_evaluated"`
			LogSources   []detector.LogSourceSummary `json:"logsources"`
			Failed       []struct {
				File        string `json:"file"`
				Line        int    `json:"line"`
				Reason      string `json:"reason"`
				Unsupported bool   `json:"unsupported"`
			} `json:"failed"`
			Warnings []struct {
				File   string `json:"file"`
				Line   int    `json:"line"`
				Reason string `json:"reason"`
			} `json:"warnings"`
		}
		path := "/api/v1/rules"
		if *ten != "" {
			path += "?tenant=" + url.QueryEscape(*ten)
		}
		if err := c.json(ctx, "POST", path, map[string]any{"files": batch}, &res); err != nil {
			return err
		}
		imported += res.Imported
		active, notEvaluated, logSources = res.Active, res.NotEvaluated, res.LogSources
		for _, w := range res.Warnings {
			fmt.Fprintf(env.Stderr, "%s:%d: note: %s\n", w.File, w.Line, w.Reason)
		}
		seen := map[string]bool{}
		for _, f := range res.Failed {
			where := f.File
			if f.Line > 0 {
				where = fmt.Sprintf("%s:%d", f.File, f.Line)
			}
			kind := ""
			if f.Unsupported {
				kind = "unsupported: "
			}
			fmt.Fprintf(env.Stderr, "%s: %s%s\n", where, kind, f.Reason)
			if !seen[f.File] {
				seen[f.File] = true
				if f.Unsupported {
					unsupported++
				} else {
					failed++
				}
			}
		}
	}
	writeNotEvaluated(env.Stderr, logSources)
	if *ten != "" {
		// A tenant's import is of its filter documents: count those.
		var filters, applied int
		for _, l := range logSources {
			if l.Kind == "filter" {
				filters += l.Rules
				applied += l.Active
			}
		}
		fmt.Fprintf(env.Stderr, "%s: %d imported, %d failed, %d unsupported; %s has %s, %d applied, %d not (see 'tarian rules list --tenant %s')\n",
			plural(len(files), "file"), imported, failed, unsupported, *ten, plural(filters, "filter document"), applied, filters-applied, *ten)
	} else {
		fmt.Fprintf(env.Stderr, "%s: %d imported, %d failed, %d unsupported; %s active, %d not evaluated here (see 'tarian rules list')\n",
			plural(len(files), "file"), imported, failed, unsupported, plural(active, "rule"), notEvaluated)
	}
	if failed > 0 {
		return fmt.Errorf("%d files failed to import", failed)
	}
	return nil
}

// writeLogSources prints the count of rules per log source: all, active,
// switched off, not evaluated and why.
func writeLogSources(w io.Writer, ls []detector.LogSourceSummary) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOG SOURCE\tRULES\tACTIVE\tDISABLED\tNOT EVALUATED\tWHY")
	for _, l := range ls {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\n", l.Name(), l.Rules, l.Active, l.Disabled, l.NotEvaluated, why(l))
	}
	return tw.Flush()
}

// writeNotEvaluated prints, after an import, each log source with rules
// that are not evaluated, and a line for the others.
func writeNotEvaluated(w io.Writer, ls []detector.LogSourceSummary) {
	others, rules, unmapped := 0, 0, false
	for _, l := range ls {
		if l.NotEvaluated == 0 {
			others++
			rules += l.Active + l.Disabled
			continue
		}
		unmapped = unmapped || l.Why[detector.WhyUnmapped] > 0
		fmt.Fprintf(w, "%s: %d of %s not evaluated (%s); %d active\n", l.Name(), l.NotEvaluated, plural(l.Rules, "rule"), why(l), l.Active)
	}
	if others > 0 {
		fmt.Fprintf(w, "%s: %s, every one evaluated ('tarian rules list --summary' lists them)\n", plural(others, "other log source"), plural(rules, "rule"))
	}
	if unmapped {
		fmt.Fprintln(w, "a log source not in the mapping can be added for your shipper's events with a mapping file (detection.mapping_file; docs/detection.md)")
	}
}

// why joins a log source's reasons, the most frequent first.
func why(l detector.LogSourceSummary) string {
	reasons := make([]string, 0, len(l.Why))
	for r := range l.Why {
		reasons = append(reasons, r)
	}
	slices.SortFunc(reasons, func(a, b string) int {
		if l.Why[a] != l.Why[b] {
			return l.Why[b] - l.Why[a]
		}
		return strings.Compare(a, b)
	})
	if len(reasons) == 1 {
		return reasons[0]
	}
	for i, r := range reasons {
		reasons[i] = fmt.Sprintf("%d: %s", l.Why[r], r)
	}
	return strings.Join(reasons, "; ")
}

// runPlaceholders shows, or with NAME=V1,V2 arguments replaces, a tenant's
// values for the %name% placeholders of |expand rules.
func runPlaceholders(ctx context.Context, args []string, env Env) error {
	flags := newFlagSet("rules placeholders", env)
	ten := flags.String("tenant", "", "tenant (tenant-admin tokens act on their own)")
	pos, err := parse(flags, args)
	if err != nil {
		return err
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	path := "/api/v1/placeholders"
	if *ten != "" {
		path += "?tenant=" + url.QueryEscape(*ten)
	}
	var out struct {
		Placeholders map[string][]string `json:"placeholders"`
	}
	if len(pos) == 0 {
		err = c.json(ctx, "GET", path, nil, &out)
	} else {
		set := map[string][]string{}
		for _, a := range pos {
			name, vals, ok := strings.Cut(a, "=")
			if !ok || name == "" {
				return usageError("usage: tarian rules placeholders [--tenant ID] [NAME=VALUE[,VALUE...]...]")
			}
			set[name] = strings.Split(vals, ",")
		}
		err = c.json(ctx, "PUT", path, map[string]any{"placeholders": set}, &out)
	}
	if err != nil {
		return err
	}
	names := make([]string, 0, len(out.Placeholders))
	for n := range out.Placeholders {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(env.Stdout, "%s=%s\n", n, strings.Join(out.Placeholders[n], ","))
	}
	return nil
}
