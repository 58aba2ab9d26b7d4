package envelope

import (
	"fmt"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
)

// BenchmarkJSONParse parses 500-byte ECS-style records, nested two levels.
func BenchmarkJSONParse(b *testing.B) {
	recs := make([]event.Raw, 1000)
	for i := range recs {
		recs[i] = event.Raw{Received: time.Now(), Source: "http", Data: fmt.Appendf(nil,
			`{"@timestamp":"2026-11-25T10:00:00.%03dZ","message":"Accepted password for user%d from 10.1.%d.%d port %d ssh2","host":{"name":"host-%d"},"user":{"name":"user%d"},"source":{"ip":"10.1.%d.%d","port":%d},"event":{"id":"%d","category":["authentication"],"outcome":"success"},"pad":"%0150d"}`,
			i%1000, i%50, i%200, i%7, 40000+i, i%20, i%50, i%200, i%7, 40000+i, i, i)}
	}
	var j JSON
	var ev event.Event
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := j.Parse(recs[i%len(recs)], &ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
