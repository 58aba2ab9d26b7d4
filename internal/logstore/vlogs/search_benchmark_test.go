package vlogs

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/parse"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// corpusEvents parses every line of $TARIAN_CORPUS/events (the Windows and
// Sysmon attack events) with the server's parse stage, or skips.
func corpusEvents(tb testing.TB) []event.Event {
	tb.Helper()
	root := os.Getenv("TARIAN_CORPUS")
	if root == "" {
		tb.Skip("TARIAN_CORPUS not set: skipping the search over the corpus' Windows events (set it to ../shared/corpus)")
	}
	pl, err := parse.New(parse.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	p := pl.NewParser()
	now := time.Now()
	var evs []event.Event
	err = filepath.WalkDir(filepath.Join(root, "events"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".jsonl") && !strings.HasSuffix(path, ".json") {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			if l := sc.Bytes(); len(l) > 0 && l[0] == '{' {
				raw := event.Raw{Received: now, Source: "http", Data: append([]byte(nil), l...)}
				if evs, err = p.Parse("council-a", raw, evs); err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
			}
		}
		return sc.Err()
	})
	if err != nil || len(evs) == 0 {
		tb.Fatalf("corpus events: %d, %v", len(evs), err)
	}
	return evs
}

// openCorpusStore stores copies copies of the corpus events for
// council-a, spread over the last week, flushed to disk.
func openCorpusStore(b *testing.B, copies int) (*Store, int) {
	evs := corpusEvents(b)
	s := openStore(b, testConfig(b.TempDir()))
	start := time.Now().Add(-7 * 24 * time.Hour)
	step := 7 * 24 * time.Hour / time.Duration(copies*len(evs))
	at := start
	batch := make([]event.Event, 0, 1000)
	for c := range copies {
		for i := range evs {
			e := evs[i]
			e.Time = at
			at = at.Add(step)
			// Each copy its own record, as in a real week.
			e.Fields = append(e.Fields[:len(e.Fields):len(e.Fields)], event.Field{Name: event.FieldSeq, Value: strconv.Itoa(c*len(evs) + i)})
			batch = append(batch, e)
			if len(batch) == cap(batch) {
				mustAdd(b, s, "council-a", batch...)
				batch = batch[:0]
			}
		}
	}
	mustAdd(b, s, "council-a", batch...)
	mustFlush(b, s)
	return s, copies * len(evs)
}

// BenchmarkSearchText measures what searching the text fields costs over
// searching the message alone (LogsQL's meaning of a bare word) and over
// searching every field (*:word), on ten copies of the corpus' 22,071
// Windows and Sysmon events (220,710 events, a week, one tenant), parsed
// and stored as the server stores them. "hits" is the number of events
// found.
//
//	TARIAN_CORPUS=../shared/corpus go test ./internal/logstore/vlogs -run '^$' -bench SearchText -benchtime 20x
func BenchmarkSearchText(b *testing.B) {
	s, n := openCorpusStore(b, 10)
	b.Logf("%d events, %d bytes on disk", n, s.Stats().DiskBytes)
	words := []struct{ name, q string }{
		{"rare", "mimikatz"},     // a tool name, in command lines and script blocks
		{"common", "powershell"}, // in a large share of the events
		{"absent", "zqxjvkw"},    // in no event
		{"phrase", `"sekurlsa::logonpasswords"`},
		{"prefix", "mimi*"},
	}
	modes := []struct {
		name   string
		fields []string
		q      func(string) string
	}{
		{"message", nil, func(w string) string { return w }},
		{"text", textFields, func(w string) string { return w }},
		{"all", nil, func(w string) string { return "*:" + w }},
	}
	for _, w := range words {
		for _, m := range modes {
			for _, tail := range []string{" | stats count() as n", ""} {
				if tail == "" && w.name == "common" {
					// Rows of tens of thousands of matches need more than
					// the engine's sort budget (20% of SetProcessLimits'
					// memory) at the test's memory.
					continue
				}
				name := w.name + "/" + m.name
				if tail == "" {
					name += "/rows"
				}
				b.Run(name, func(b *testing.B) {
					q := logstore.Query{Tenants: []tenant.ID{"council-a"}, LogsQL: m.q(w.q) + tail, Limit: 1000}
					hits := ""
					b.ReportAllocs()
					for b.Loop() {
						rows := 0
						err := s.search(b.Context(), q, m.fields, func(r logstore.Row) error {
							rows++
							if tail != "" {
								hits = r.Fields[0].Value
							}
							return nil
						})
						if err != nil {
							b.Fatal(err)
						}
						if tail == "" {
							hits = strconv.Itoa(rows)
						}
					}
					h, _ := strconv.Atoi(hits)
					b.ReportMetric(float64(h), "hits")
				})
			}
		}
	}
}
