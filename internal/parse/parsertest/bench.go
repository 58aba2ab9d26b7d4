package parsertest

import (
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
)

// Bench runs a format parser's benchmark: parse over lines in turn, each
// into one reused event received at received, reporting allocations and
// events/s.
func Bench(b *testing.B, received time.Time, parse func([]byte, *event.Event) error, lines [][]byte) {
	ev := &event.Event{Fields: make([]event.Field, 0, 256)}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		ev.Fields, ev.Time = ev.Fields[:0], received
		if err := parse(lines[n%len(lines)], ev); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// CheckFields is what a fuzz test asks of every event a parser writes: each
// field once, the array-valued ECS fields (event.category, event.type,
// related.*) JSON arrays, and the fields named in want present.
func CheckFields(t *testing.T, ev *event.Event, want ...string) {
	t.Helper()
	seen := map[string]bool{}
	for _, fl := range ev.Fields {
		if seen[fl.Name] {
			t.Fatalf("field %s twice", fl.Name)
		}
		seen[fl.Name] = true
		if (strings.HasPrefix(fl.Name, "related.") || fl.Name == "event.type" || fl.Name == "event.category") && !strings.HasPrefix(fl.Value, "[") {
			t.Fatalf("%s = %q", fl.Name, fl.Value)
		}
	}
	for _, k := range want {
		if !seen[k] {
			t.Fatalf("no %s", k)
		}
	}
}
