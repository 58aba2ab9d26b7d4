package microsoft

import (
	"bytes"
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
)

// benchParse parses payload b.N times into a reused event and reports
// events/s per core and allocations per event.
func benchParse(b *testing.B, p parser, payload string) {
	data := []byte(payload)
	var ev event.Event
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		ev.Fields = ev.Fields[:0]
		if err := p.Parse(data, &ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkParseSignIn(b *testing.B)          { benchParse(b, &SignIn{}, signInMonitor) }
func BenchmarkParseSignInGraph(b *testing.B)     { benchParse(b, &SignIn{}, signInGraph) }
func BenchmarkParseAudit(b *testing.B)           { benchParse(b, &Audit{}, auditMonitor) }
func BenchmarkParseM365(b *testing.B)            { benchParse(b, &M365{}, m365Record) }
func BenchmarkParseDefender(b *testing.B)        { benchParse(b, &Defender{}, defenderStreamed) }
func BenchmarkParseSentinelWindows(b *testing.B) { benchParse(b, &Sentinel{}, windowsRow) }

// BenchmarkSplitEventHub cuts an Event Hub batch of 100 sign-ins.
func BenchmarkSplitEventHub(b *testing.B) {
	recs := bytes.Repeat([]byte(signInMonitor+","), 100)
	payload := append(append([]byte(`{"records":[`), recs[:len(recs)-1]...), "]}"...)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		out, err := Split(payload)
		if err != nil || len(out) != 100 {
			b.Fatal(err, len(out))
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "records/s")
}
