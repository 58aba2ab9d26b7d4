package parse

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
)

// BenchmarkFinish measures finish (the pipeline's fields and dedupe) on
// the events of the realistic benchmark's records
// (TARIAN_BENCH_EVENTS_FILE, bench/README.md), parsed beforehand.
func BenchmarkFinish(b *testing.B) {
	path := os.Getenv("TARIAN_BENCH_EVENTS_FILE")
	if path == "" {
		b.Skip("TARIAN_BENCH_EVENTS_FILE not set")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	recs := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	recs = recs[:min(len(recs), 5000)]
	p, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	pp := p.NewParser()
	received := time.Now()
	var evs []event.Event
	for _, r := range recs {
		if evs, err = pp.ParseAs(Auto, event.Raw{Received: received, Source: "file", Data: r}, evs); err != nil {
			b.Fatal(err)
		}
	}
	// finish runs again on events that have its fields already: the
	// same names, the same work.
	work := make([]event.Event, len(evs))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		k := i % len(evs)
		work[k].Fields = append(work[k].Fields[:0], evs[k].Fields...)
		work[k].Time = evs[k].Time
		pp.hash = "x"
		pp.finish(event.Raw{Received: received, Data: recs[0]}, &work[k], "windows", nil, true)
	}
}
