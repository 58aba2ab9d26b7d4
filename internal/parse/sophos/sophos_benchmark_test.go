package sophos

import (
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
)

// BenchmarkParseSophos parses firewall records (≈50 pairs each), the
// bulk of an XG's volume.
func BenchmarkParseSophos(b *testing.B) {
	lines := [][]byte{[]byte(fwAllowed), []byte(sfos19[len("<30>"):])}
	var p Parser
	ev := &event.Event{Fields: make([]event.Field, 0, 128)}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		ev.Fields, ev.Time = ev.Fields[:0], received
		if err := p.Parse(lines[n%len(lines)], ev); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
