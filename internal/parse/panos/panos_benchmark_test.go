package panos

import (
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
)

// BenchmarkParsePANOS parses TRAFFIC and THREAT records, the bulk of a
// firewall's volume, as a syslog receiver hands them over.
func BenchmarkParsePANOS(b *testing.B) {
	lines := [][]byte{[]byte(trafficEnd[len("<14>Nov 30 16:09:08 PA-220 "):]), []byte(threatURL), []byte(threatFile)}
	var p Parser
	ev := &event.Event{Fields: make([]event.Field, 0, 256)}
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
