package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tarian-soc/tarian/internal/intel/misp"
)

func runIntel(ctx context.Context, args []string, env Env) error {
	if len(args) > 0 {
		switch args[0] {
		case "add":
			return intelAdd(ctx, args[1:], env)
		case "list":
			return intelList(ctx, args[1:], env)
		case "show":
			return intelShow(ctx, args[1:], env)
		case "revoke":
			return intelRevoke(ctx, args[1:], env)
		case "import":
			return intelImport(ctx, args[1:], env)
		case "export":
			return intelExport(ctx, args[1:], env)
		case "hunts":
			return intelHunts(ctx, args[1:], env)
		}
	}
	return usageError(strings.TrimSuffix(commandUsage([]string{"intel"}), "\n"))
}

func intelAdd(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("intel add", env)
	ten := fs.String("tenant", "", "the member that owns it (provider roles; a member's own by default); none: the provider's")
	tlp := fs.String("tlp", "", "clear, green, amber (default), amber+strict or red")
	conf := fs.Int("confidence", 50, "0..100")
	expires := fs.String("expires", "", "when it stops matching: RFC 3339, or a duration from now (30d)")
	name := fs.String("name", "", "a short name shown on its alerts")
	audience := fs.String("audience", "", "the provider's: all (default) or ID,ID")
	var tags stringList
	fs.Var(&tags, "tag", "a tag; repeat for several")
	asJSON := fs.Bool("json", false, "the indicator as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError("usage: tarian intel add TYPE VALUE [--tenant ID] [--tlp LEVEL] [--confidence N] [--expires T]\n" + strings.TrimSuffix(flagsHelp(fs), "\n"))
	}
	req := map[string]any{"tenant": *ten, "type": pos[0], "value": pos[1], "tlp": *tlp, "confidence": *conf, "name": *name, "audience": *audience, "tags": []string(tags)}
	if *expires != "" {
		t, err := futureTime(*expires, time.Now())
		if err != nil {
			return usageError("--expires: " + err.Error())
		}
		req["valid_until"] = t
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var i map[string]any
	if err := c.json(ctx, "POST", "/api/v1/intel/indicators", req, &i); err != nil {
		return err
	}
	if *asJSON {
		return writeJSONLines(env.Stdout, []map[string]any{i})
	}
	fmt.Fprintf(env.Stdout, "indicator %v added: %s\n", i["id"], observables(i))
	for _, o := range asMaps(i["observables"]) {
		if l, ok := o["warninglist"].(string); ok && l != "" {
			fmt.Fprintf(env.Stdout, "note: %v is on the warning list %q (known benign); it will not alert\n", o["value"], l)
		}
	}
	return nil
}

func asMaps(v any) []map[string]any {
	var out []map[string]any
	if l, ok := v.([]any); ok {
		for _, x := range l {
			if m, ok := x.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

// observables writes an indicator's values: "domain evil.example", or its
// pattern when it has none.
func observables(i map[string]any) string {
	var parts []string
	for _, o := range asMaps(i["observables"]) {
		parts = append(parts, fmt.Sprintf("%v %v", o["type"], o["value"]))
	}
	if len(parts) == 0 {
		return fmt.Sprint(i["pattern"])
	}
	return strings.Join(parts, ", ")
}

func intelList(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("intel list", env)
	ten := fs.String("tenant", "", "list what applies to this member (provider roles; default every indicator)")
	typ := fs.String("type", "", "only this type (ipv4, domain, sha256, ...)")
	limit := fs.Int("limit", 100, "at most this many")
	revoked := fs.Bool("revoked", false, "include revoked indicators")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var all []map[string]any
	next := ""
	for len(all) < *limit {
		q := url.Values{"limit": {fmt.Sprint(min(*limit-len(all), 10_000))}}
		for k, v := range map[string]string{"tenant": *ten, "type": *typ, "after": next} {
			if v != "" {
				q.Set(k, v)
			}
		}
		if *revoked {
			q.Set("revoked", "true")
		}
		var page struct {
			Indicators []map[string]any `json:"indicators"`
			Next       string           `json:"next"`
		}
		if err := c.json(ctx, "GET", "/api/v1/intel/indicators?"+q.Encode(), nil, &page); err != nil {
			return err
		}
		all = append(all, page.Indicators...)
		if next = page.Next; next == "" {
			break
		}
	}
	if *asJSON {
		return writeJSONLines(env.Stdout, all)
	}
	tw := table(env, len(all), "no indicators match (tarian intel add or import brings some)", "ID\tVALUE\tTLP\tCONFIDENCE\tOWNER\tSOURCE\tVALID UNTIL")
	if tw == nil {
		return nil
	}
	for _, i := range all {
		owner := "provider"
		if o, ok := i["owner"].(string); ok && o != "" {
			owner = o
		}
		until := "-"
		if u, ok := i["valid_until"].(string); ok && u != "" {
			until = u
		}
		value := observables(i)
		if r, _ := i["revoked"].(bool); r {
			value += " (revoked)"
		}
		fmt.Fprintf(tw, "%v\t%s\t%s\t%v\t%s\t%v\t%s\n", i["id"], value, strings.ToUpper(fmt.Sprint(i["tlp"])), i["confidence"], owner, i["source"], until)
	}
	return tw.Flush()
}

func intelShow(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("intel show", env)
	asJSON := fs.Bool("json", false, "the indicator and its sightings as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: tarian intel show ID [--json]")
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var out struct {
		Indicator map[string]any   `json:"indicator"`
		Sightings []map[string]any `json:"sightings"`
	}
	if err := c.json(ctx, "GET", "/api/v1/intel/indicators/"+url.PathEscape(pos[0]), nil, &out); err != nil {
		return err
	}
	if *asJSON {
		return writeJSONLines(env.Stdout, []any{out})
	}
	i := out.Indicator
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	for _, k := range []string{"id", "name", "description", "pattern", "tlp", "confidence", "valid_from", "valid_until", "source", "owner", "audience", "tags", "attack", "revoked"} {
		if v, ok := i[k]; ok && v != nil && v != "" {
			fmt.Fprintf(tw, "%s:\t%v\n", k, v)
		}
	}
	fmt.Fprintf(tw, "observables:\t%s\n", observables(i))
	for _, o := range asMaps(i["observables"]) {
		if l, _ := o["warninglist"].(string); l != "" {
			fmt.Fprintf(tw, "warning list:\t%v %v is on %q (known benign): it never alerts\n", o["type"], o["value"], l)
		}
	}
	for _, s := range out.Sightings {
		where := "feed " + fmt.Sprint(s["source"])
		if t, ok := s["tenant"].(string); ok && t != "" {
			where = t
		}
		fmt.Fprintf(tw, "sighting:\t%s, %v times, %v .. %v\n", where, s["count"], s["first_seen"], s["last_seen"])
	}
	return tw.Flush()
}

func intelRevoke(ctx context.Context, args []string, env Env) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return usageError("usage: tarian intel revoke ID")
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var i map[string]any
	if err := c.json(ctx, "POST", "/api/v1/intel/indicators/"+url.PathEscape(args[0])+"/revoke", map[string]any{}, &i); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "indicator %v revoked: it no longer matches\n", i["id"])
	return nil
}

func intelExport(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("intel export", env)
	ten := fs.String("tenant", "", "what this member may read (provider roles; default everything)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("usage: tarian intel export [--tenant ID] > bundle.json")
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	q := url.Values{}
	if *ten != "" {
		q.Set("tenant", *ten)
	}
	resp, err := c.do(ctx, "GET", "/api/v1/intel/export?"+q.Encode(), nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(env.Stdout, resp.Body)
	return err
}

func intelHunts(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("intel hunts", env)
	ten := fs.String("tenant", "", "this member's hunts (provider roles; default all)")
	ind := fs.String("indicator", "", "only this indicator's hunts")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("usage: tarian intel hunts [--tenant ID] [--indicator ID] [--json]")
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	q := url.Values{}
	if *ten != "" {
		q.Set("tenant", *ten)
	}
	if *ind != "" {
		q.Set("indicator", *ind)
	}
	var out struct {
		Hunts  []map[string]any `json:"hunts"`
		Queued int64            `json:"queued"`
	}
	if err := c.json(ctx, "GET", "/api/v1/intel/hunts?"+q.Encode(), nil, &out); err != nil {
		return err
	}
	if *asJSON {
		err = writeJSONLines(env.Stdout, out.Hunts)
	} else if tw := table(env, len(out.Hunts), "no retro-hunts match", "ID\tOBSERVABLE\tTENANT\tSTATUS\tSINCE\tSCANNED\tHITS\tINDICATOR\tERROR"); tw != nil {
		for _, h := range out.Hunts {
			fmt.Fprintf(tw, "%v\t%v\t%v\t%v\t%s\t%v\t%v\t%v\t%v\n", h["id"], orDash(h["observable"]), h["tenant"], h["status"], shortTime(h["since"]), h["scanned"], h["hits"], h["indicator"], orDash(h["error"]))
		}
		err = tw.Flush()
	}
	if err == nil && out.Queued > 0 {
		fmt.Fprintf(env.Stderr, "%s queued for a retro-hunt\n", plural(int(out.Queued), "indicator"))
	}
	return err
}

// intelFile is one file to upload, with the name the server detects its
// format by.
type intelFile struct {
	path, name string
}

// importFiles expands the arguments: a file as it is; a MISP feed
// directory (manifest.json) as the event files its manifest lists; any
// other directory as its .json, .csv and .txt files, recursively.
func intelFiles(args []string, stderr io.Writer) ([]intelFile, error) {
	var out []intelFile
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, intelFile{a, filepath.Base(a)})
			continue
		}
		if data, err := os.ReadFile(filepath.Join(a, "manifest.json")); err == nil {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(data, &m); err != nil {
				return nil, fmt.Errorf("%s: %v", filepath.Join(a, "manifest.json"), err)
			}
			ids := make([]string, 0, len(m))
			for id := range m {
				ids = append(ids, id)
			}
			slices.Sort(ids)
			var feed []intelFile
			for _, id := range ids {
				p := filepath.Join(a, id+".json")
				if _, err := os.Stat(p); err != nil {
					fmt.Fprintf(stderr, "%s: event %s is in the manifest but its file is missing\n", a, id)
					continue
				}
				feed = append(feed, intelFile{p, id + ".json"})
			}
			checkFeed(a, ids, feed, stderr)
			out = append(out, feed...)
			continue
		}
		err = filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			switch strings.ToLower(filepath.Ext(p)) {
			case ".json", ".csv", ".txt":
				out = append(out, intelFile{p, d.Name()})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkFeed reports what a MISP feed directory holds beyond its manifest,
// and every difference between its events' values and hashes.csv (the
// feed's cache of "have we seen this value"): either means the feed was
// copied incompletely or changed after it was published.
func checkFeed(dir string, ids []string, feed []intelFile, stderr io.Writer) {
	names, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, n := range names {
		base := strings.TrimSuffix(filepath.Base(n), ".json")
		if base != "manifest" && !slices.Contains(ids, base) {
			fmt.Fprintf(stderr, "%s: %s is not in the manifest; not imported\n", dir, filepath.Base(n))
		}
	}
	f, err := os.Open(filepath.Join(dir, "hashes.csv"))
	if err != nil {
		return
	}
	defer f.Close()
	listed, err := misp.ReadHashes(f)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", dir, err)
		return
	}
	computed := map[string][]string{}
	for _, e := range feed {
		data, err := os.ReadFile(e.path)
		if err != nil {
			continue
		}
		if uuid, hs, err := misp.ValueHashes(data); err == nil {
			computed[uuid] = hs
		}
	}
	for _, d := range misp.CompareHashes(computed, listed) {
		fmt.Fprintf(stderr, "%s: %s: %s\n", dir, d.Ref, d.Reason)
	}
}

type importSummary struct {
	Imported  int       `json:"imported"`
	Updated   int       `json:"updated"`
	Unchanged int       `json:"unchanged"`
	Objects   int       `json:"objects"`
	Sightings int       `json:"sightings"`
	Skipped   []skipped `json:"skipped"`
	Notes     []skipped `json:"notes,omitempty"`
}

type skipped struct {
	Ref    string `json:"ref"`
	Reason string `json:"reason"`
}

func intelImport(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("intel import", env)
	ten := fs.String("tenant", "", "the member that owns what is imported (provider roles); none: the provider's")
	tlp := fs.String("tlp", "", "the marking of objects that carry none (default amber)")
	audience := fs.String("audience", "", "the provider's: all (default) or ID,ID")
	source := fs.String("source", "", "the feed's name (default the file's)")
	asJSON := fs.Bool("json", false, "the summary as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError("usage: tarian intel import [--tenant ID] [--tlp LEVEL] [--audience all|ID,ID] FILE|DIR...")
	}
	files, err := intelFiles(pos, env.Stderr)
	if err != nil {
		return err
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var total importSummary
	failed := 0
	for n, f := range files {
		data, err := os.ReadFile(f.path)
		if err != nil {
			return err
		}
		q := url.Values{"name": {f.name}}
		for k, v := range map[string]string{"tenant": *ten, "tlp": *tlp, "audience": *audience, "source": *source} {
			if v != "" {
				q.Set(k, v)
			}
		}
		resp, err := c.do(ctx, "POST", "/api/v1/intel/import?"+q.Encode(), bytes.NewReader(data), "application/octet-stream")
		if env.IsTerminal {
			fmt.Fprintf(env.Stderr, "\r\033[K%d/%d files  %d imported  %d updated  %d skipped", n+1, len(files), total.Imported, total.Updated, len(total.Skipped))
		}
		if err != nil {
			if env.IsTerminal {
				fmt.Fprint(env.Stderr, "\r\033[K")
			}
			fmt.Fprintf(env.Stderr, "%s: %v\n", f.path, err)
			failed++
			continue
		}
		var s importSummary
		err = json.NewDecoder(resp.Body).Decode(&s)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("%s: reading the answer: %w", f.path, err)
		}
		total.Imported += s.Imported
		total.Updated += s.Updated
		total.Unchanged += s.Unchanged
		total.Objects += s.Objects
		total.Sightings += s.Sightings
		for _, k := range s.Skipped {
			k.Ref = f.name + ": " + k.Ref
			total.Skipped = append(total.Skipped, k)
		}
		for _, k := range s.Notes {
			k.Ref = f.name + ": " + k.Ref
			total.Notes = append(total.Notes, k)
		}
	}
	if env.IsTerminal && len(files) > 0 {
		fmt.Fprint(env.Stderr, "\r\033[K")
	}
	if *asJSON {
		err = writeJSONLines(env.Stdout, []importSummary{total})
	} else {
		fmt.Fprintf(env.Stdout, "%d files: %d indicators imported, %d updated, %d unchanged, %d skipped; %d STIX objects kept, %d sightings\n",
			len(files), total.Imported, total.Updated, total.Unchanged, len(total.Skipped), total.Objects, total.Sightings)
		printReasons(env.Stdout, "skipped", total.Skipped)
		printReasons(env.Stdout, "note", total.Notes)
	}
	if err == nil && failed > 0 {
		err = fmt.Errorf("%d of %d files failed", failed, len(files))
	}
	return err
}

// printReasons prints how many were skipped (or noted) for each reason,
// most common first, with one example each.
func printReasons(w io.Writer, what string, ks []skipped) {
	type reason struct {
		text, example string
		n             int
	}
	var rs []*reason
	by := map[string]*reason{}
	for _, k := range ks {
		r := by[k.Reason]
		if r == nil {
			r = &reason{text: k.Reason, example: k.Ref}
			by[k.Reason] = r
			rs = append(rs, r)
		}
		r.n++
	}
	slices.SortStableFunc(rs, func(a, b *reason) int { return b.n - a.n })
	for _, r := range rs {
		fmt.Fprintf(w, "  %s %d: %s (e.g. %s)\n", what, r.n, r.text, r.example)
	}
}
