package mail

import (
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
)

// bench parses the synthetic golden lines of typ (error lines excluded)
// round robin.
func bench(b *testing.B, typ string) {
	_, lines, _ := goldenInput(b, typ)
	parse := parsers()[typ]
	recv := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	var payloads [][]byte
	for _, l := range lines {
		ev := event.Event{Time: recv}
		if parse([]byte(l), &ev) == nil {
			payloads = append(payloads, []byte(l))
		}
	}
	ev := event.Event{Fields: make([]event.Field, 0, 128)}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ev.Fields, ev.Time = ev.Fields[:0], recv
		if err := parse(payloads[i%len(payloads)], &ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkParsePostfix(b *testing.B)     { bench(b, TypePostfix) }
func BenchmarkParseFortiMail(b *testing.B)   { bench(b, TypeFortiMail) }
func BenchmarkParseMailScanner(b *testing.B) { bench(b, TypeMailScanner) }
func BenchmarkParseExchange(b *testing.B)    { bench(b, TypeExchange) }
