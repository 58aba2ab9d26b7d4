package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/feed"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// BenchmarkAlertQueue measures the server's side of the console's alert
// queue over 100,000 alerts in SQLite, spread over 2 and over 25 members:
// the first page the console asks for (GET
// /api/v1/alerts?tenant=*&limit=250, a provider analyst, audited). Issue
// 13's budget is 50 ms.
func BenchmarkAlertQueue(b *testing.B) {
	for _, members := range []int{2, 25} {
		b.Run(fmt.Sprintf("members=%d", members), func(b *testing.B) {
			const n, batchSize = 100000, 5000
			l := newLive(b, feed.DefaultConfig())
			ts := []tenant.ID{"tenant-a", "tenant-b"}
			for i := len(ts); i < members; i++ {
				id := tenant.ID(fmt.Sprintf("member-%02d", i))
				if _, err := l.db.CreateTenant(context.Background(), tenant.Tenant{ID: id, Name: string(id), Created: t0}); err != nil {
					b.Fatal(err)
				}
				ts = append(ts, id)
			}
			levels := []string{"low", "medium", "high", "critical"}
			for batch := 0; batch < n; batch += batchSize {
				for j, ten := range ts {
					var ds []alert.Detection
					for i := batch + j; i < batch+batchSize; i += len(ts) {
						ds = append(ds, alert.Detection{Producer: alert.ProducerSigma, RuleID: fmt.Sprint("r", i%50), Title: "bulk", Level: levels[i%len(levels)],
							Entities: []alert.Entity{{Type: alert.EntityHost, Value: fmt.Sprint("h", i)}}, EventHash: fmt.Sprint(ten, i),
							Tags: []string{"attack.execution", "attack.t1059"}, EventTime: t0, Received: t0.Add(time.Second)})
					}
					l.setClock(t0.Add(time.Minute))
					if _, err := l.alerts.Raise(context.Background(), ten, ds); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				status, body := l.do(b, "GET", "/api/v1/alerts?tenant=*&limit=250", l.tokens["provider-analyst"], "")
				if status != 200 || len(body) < 250*300 {
					b.Fatalf("%d %d bytes", status, len(body))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
		})
	}
}
