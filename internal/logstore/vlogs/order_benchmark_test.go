package vlogs

import (
	"bytes"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/logstore/vlrow"
	"github.com/tarian-soc/tarian/internal/parse"
)

// sortedFields is the engine's sort.Interface over a row.
type sortedFields []logstorage.Field

func (sf *sortedFields) Len() int           { return len(*sf) }
func (sf *sortedFields) Less(i, j int) bool { a := *sf; return a[i].Name < a[j].Name }
func (sf *sortedFields) Swap(i, j int)      { a := *sf; a[i], a[j] = a[j], a[i] }

// BenchmarkRowOrder compares the engine's sort of the rows of the
// realistic benchmark's events (TARIAN_BENCH_EVENTS_FILE, bench/README.md)
// as the parser emits them ("engine") with the rowOrder and then the
// engine's sort of the ordered row ("ordered+engine").
func BenchmarkRowOrder(b *testing.B) {
	path := os.Getenv("TARIAN_BENCH_EVENTS_FILE")
	if path == "" {
		b.Skip("TARIAN_BENCH_EVENTS_FILE not set")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	recs := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	pl, err := parse.New(parse.Config{})
	if err != nil {
		b.Fatal(err)
	}
	pp := pl.NewParser()
	w := vlrow.NewWindow(time.Now(), 365*24*time.Hour, 48*time.Hour)
	var rows [][]logstorage.Field
	var evs []event.Event
	for _, r := range recs[:min(len(recs), 20000)] {
		if evs, err = pp.Parse("t", event.Raw{Received: time.Now(), Source: "http", Data: r}, evs[:0]); err != nil {
			continue
		}
		for i := range evs {
			fs, _, _ := vlrow.Append(nil, &evs[i], w)
			rows = append(rows, fs)
		}
	}
	work := make([]logstorage.Field, 0, 300)
	b.Run("engine", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			work = append(work[:0], rows[i%len(rows)]...)
			sf := sortedFields(work)
			sort.Sort(&sf)
		}
	})
	b.Run("ordered+engine", func(b *testing.B) {
		o := newRowOrder()
		for i := 0; b.Loop(); i++ {
			work = append(work[:0], rows[i%len(rows)]...)
			o.sort(work)
			sf := sortedFields(work)
			sort.Sort(&sf)
		}
	})
}
