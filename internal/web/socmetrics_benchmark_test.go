package web_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/feed"
)

// BenchmarkSOCMetrics measures GET /api/v1/metrics/soc over 20,000 alerts
// of one tenant in SQLite (one scan of alerts_created; of the JSON
// columns, the tags only), with a daily series.
func BenchmarkSOCMetrics(b *testing.B) {
	const n = 20000
	l := newLive(b, feed.DefaultConfig())
	for batch := 0; batch < n; batch += 5000 {
		var ds []alert.Detection
		for i := batch; i < batch+5000; i++ {
			ds = append(ds, alert.Detection{Producer: alert.ProducerSigma, RuleID: fmt.Sprint("r", i%50), Title: "bulk", Level: "medium",
				Tags:     []string{"attack.execution", "attack.t1059.001"},
				Entities: []alert.Entity{{Type: alert.EntityHost, Value: fmt.Sprint("h", i)}}, EventHash: fmt.Sprint("bulk", i),
				EventTime: t0, Received: t0.Add(time.Second)})
		}
		l.setClock(t0.Add(time.Minute))
		if _, err := l.alerts.Raise(context.Background(), "tenant-a", ds); err != nil {
			b.Fatal(err)
		}
	}
	q := url.Values{"from": {t0.Format(time.RFC3339)}, "to": {t0.Add(time.Hour).Format(time.RFC3339)}, "step": {"1d"}}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		status, body := l.do(b, "GET", "/api/v1/metrics/soc?"+q.Encode(), l.tokens["a/tenant-analyst"], "")
		if status != 200 {
			b.Fatalf("%d %s", status, body)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/alert")
}
