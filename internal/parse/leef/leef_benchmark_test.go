package leef

import (
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
)

// BenchmarkParseLEEF parses a LEEF 2.0 firewall message with a syslog
// header and twelve attributes.
func BenchmarkParseLEEF(b *testing.B) {
	line := []byte("<134>Feb 11 09:20:00 fw-2 LEEF:2.0|Acme|FW|7.1|deny|^|devTime=1770801242123^src=10.1.8.8^dst=203.0.113.5^srcPort=50000^dstPort=443^proto=TCP^srcBytes=100^dstBytes=0^policy=Default deny^cat=Traffic^usrName=jdoe^sev=4")
	var p Parser
	ev := &event.Event{Fields: make([]event.Field, 0, 64)}
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		ev.Fields = ev.Fields[:0]
		if err := p.Parse(line, ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
