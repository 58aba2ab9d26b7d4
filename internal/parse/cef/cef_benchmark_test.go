package cef

import (
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
)

// BenchmarkParseCEF parses a firewall CEF message with a syslog header and
// eighteen extensions.
func BenchmarkParseCEF(b *testing.B) {
	line := []byte(`<134>Feb 11 09:20:00 edge-1 CEF:0|Acme|EdgeWall|4.2.1|fw-deny|Connection denied|7|rt=1770801242123 src=198.51.100.7 spt=50123 dst=10.20.0.5 dpt=3389 proto=TCP act=blocked suser=eve duser=administrator dvchost=edge-1.example.org dvc=192.0.2.1 in=60 out=0 cs1Label=Rule Name cs1=Block RDP request=https://portal.example.org/login?next\=/ fname=payload.bin smac=00-0C-29-AA-BB-CC deviceDirection=0 msg=Denied by rule 12 on edge-1`)
	var p Parser
	ev := &event.Event{Fields: make([]event.Field, 0, 128)}
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
