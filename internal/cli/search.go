package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

func runSearch(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("search", env)
	ten := fs.String("tenant", "", "tenant to search, or * for every tenant (provider roles)")
	from := fs.String("from", "", "earliest event time (RFC 3339, or relative: -1h or 1h, 7d)")
	to := fs.String("to", "", "latest event time (RFC 3339, relative or now)")
	limit := fs.Int("limit", 0, "most results (newest first); server default when 0")
	asJSON := fs.Bool("json", false, "one JSON object per line, as the API returns it")
	raw := fs.Bool("raw", false, "each result's record as it was received (from the raw archive), instead of its fields")
	saved := fs.String("saved", "", "run the saved search of this name (tarian searches list) instead of a QUERY")
	asCSV := fs.Bool("csv", false, "the results as CSV, one column per field (for a spreadsheet; a cell a spreadsheet would run as a formula starts with ')")
	pos, err := parse(fs, args)
	if err != nil {
		if q := queryFlag(fs, args); q != "" {
			// LogsQL negates with a leading "-": -user.name:svc_backup.
			return usageError(fmt.Sprintf("%v\n(a query starting with '-' goes after --: tarian search -- '%s')", err, q))
		}
		return err
	}
	switch {
	case len(pos) == 0 && *saved == "":
		return usageError("usage: tarian search [--tenant ID|*] [--from T] [--to T] [--limit N] [--json|--raw|--csv] QUERY|--saved NAME")
	case len(pos) > 0 && *saved != "":
		return usageError("a QUERY and --saved: choose one")
	}
	if btoi(*raw)+btoi(*asJSON)+btoi(*asCSV) > 1 {
		return usageError("--raw, --json and --csv: choose one")
	}
	if *limit < 0 {
		return usageError(fmt.Sprintf("--limit %d: want a positive number (0 for the server's default)", *limit))
	}
	*from, *to = relative(*from), relative(*to)
	c, err := newClient(env)
	if err != nil {
		return err
	}
	query := strings.Join(pos, " ")
	if *saved != "" {
		if query, err = savedQuery(ctx, c, *saved, *ten); err != nil {
			return err
		}
	}
	q := url.Values{"q": {query}}
	for k, v := range map[string]string{"tenant": *ten, "from": *from, "to": *to} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if *limit > 0 {
		q.Set("limit", strconv.Itoa(*limit))
	}
	resp, err := c.do(ctx, "GET", "/api/v1/search?"+q.Encode(), nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	out := bufio.NewWriter(env.Stdout)
	defer out.Flush()
	n := 0
	lastRecord := ""
	var table []map[string]string // --csv: every row, for the columns
	for sc.Scan() {
		line := sc.Bytes()
		var row map[string]string
		if err := json.Unmarshal(line, &row); err != nil {
			return fmt.Errorf("bad result line: %w", err)
		}
		// Every result names its tenant; the line saying the search
		// failed after results started does not (an event's own "error"
		// field is a result).
		if _, ok := row["tenant"]; !ok && row["error"] != "" {
			return fmt.Errorf("%s: %s", row["error"], row["message"])
		}
		n++
		switch {
		case *asCSV:
			table = append(table, row)
			continue
		case *asJSON:
			out.Write(line)
			out.WriteByte('\n')
			continue
		case *raw:
			// The events of one record share it: print it once.
			rec, _, _ := strings.Cut(row["tarian.idx"], ".")
			rec = row["tenant"] + "/" + row["tarian.seq"] + ":" + rec
			if rec == lastRecord {
				continue
			}
			lastRecord = rec
			data, err := rawRecord(ctx, c, row)
			if err != nil {
				return err
			}
			out.Write(bytes.TrimRight(data, "\n"))
			out.WriteByte('\n')
			continue
		}
		out.WriteString(humanRow(row))
		out.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if *asCSV {
		if err := writeCSV(out, table); err != nil {
			return err
		}
	}
	if !*asJSON {
		out.Flush()
		fmt.Fprintln(env.Stderr, plural(n, "result"))
	}
	if lim, err := strconv.Atoi(resp.Header.Get("X-Tarian-Limit")); err == nil && n >= lim {
		fmt.Fprintf(env.Stderr, "the limit (%d) was reached: there may be more; raise --limit or narrow the query or the time range\n", lim)
	}
	return nil
}

// writeCSV writes rows as CSV (RFC 4180): a header of every field the
// rows have, @timestamp and tenant first, the others sorted, then one
// line per row. Events are attacker-controlled text: a cell that a
// spreadsheet would run as a formula (=, +, -, @, a tab or a carriage
// return first) gets a leading ', unless it is a number.
func writeCSV(w io.Writer, rows []map[string]string) error {
	seen := map[string]bool{}
	var cols []string
	for _, r := range rows {
		for k := range r {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	first := map[string]int{"@timestamp": 0, "tenant": 1}
	sort.Slice(cols, func(i, j int) bool {
		fi, iok := first[cols[i]]
		fj, jok := first[cols[j]]
		switch {
		case iok && jok:
			return fi < fj
		case iok != jok:
			return iok
		}
		return cols[i] < cols[j]
	})
	// Field names come from events too: guarded as well, but @timestamp.
	line := make([]string, len(cols))
	for i, c := range cols {
		line[i] = c
		if c != "@timestamp" {
			line[i] = csvCell(c)
		}
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(line); err != nil {
		return err
	}
	for _, r := range rows {
		for i, c := range cols {
			line[i] = csvCell(r[c])
		}
		if err := cw.Write(line); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvCell guards a value against a spreadsheet's formula injection.
func csvCell(v string) string {
	if v == "" || !strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return v
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return v
	}
	return "'" + v
}

// rawRecord fetches the archived record of a search row.
func rawRecord(ctx context.Context, c *client, row map[string]string) ([]byte, error) {
	seq, idx := row["tarian.seq"], row["tarian.idx"]
	if seq == "" || idx == "" {
		return nil, fmt.Errorf("--raw: a result has no tarian.seq and tarian.idx to find its record by (--raw needs events: a pipe such as stats, uniq or fields that drops them has none)")
	}
	q := url.Values{"tenant": {row["tenant"]}, "ref": {seq + ":" + idx}}
	resp, err := c.do(ctx, "GET", "/api/v1/raw?"+q.Encode(), nil, "")
	if err != nil {
		return nil, fmt.Errorf("record %s:%s of %s: %w", seq, idx, row["tenant"], err)
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// humanRow renders a result as "time tenant message", or with the event's
// fields when it has no message; a row without time (stats, uniq) starts
// at its tenant.
func humanRow(row map[string]string) string {
	var b strings.Builder
	if ts := row["@timestamp"]; ts != "" {
		b.WriteString(ts)
		b.WriteString("  ")
	}
	b.WriteString(row["tenant"])
	b.WriteString("  ")
	if msg := row["message"]; msg != "" {
		b.WriteString(msg)
		return b.String()
	}
	keys := make([]string, 0, len(row))
	for k := range row {
		switch k {
		case "@timestamp", "tenant", "event.original", "event.ingested", "tarian.seq", "tarian.idx":
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%q", k, row[k])
	}
	return b.String()
}

// relative reads a bare duration as a time that long ago: --from 1h is
// --from -1h. Anything else goes to the server as written.
func relative(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || s == "now" || strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		return s
	}
	n := s
	if v, ok := strings.CutSuffix(s, "d"); ok {
		n = v + "h"
	} else if v, ok := strings.CutSuffix(s, "w"); ok {
		n = v + "h"
	}
	if _, err := time.ParseDuration(n); err != nil {
		return s
	}
	return "-" + s
}

// queryFlag returns the first argument with one "-" that parse took for an
// unknown flag: a LogsQL query negated with "-" (-user.name:x, -mimikatz),
// or "".
func queryFlag(fs *flag.FlagSet, args []string) string {
	for _, a := range args {
		if a == "--" {
			return ""
		}
		// The usage says --flag: "-x" is more likely a query than a typo.
		name, ok := strings.CutPrefix(a, "-")
		if !ok || name == "" || strings.HasPrefix(name, "-") {
			continue
		}
		name, _, _ = strings.Cut(name, "=")
		if fs.Lookup(name) == nil && name != "h" && name != "help" {
			return a
		}
	}
	return ""
}
