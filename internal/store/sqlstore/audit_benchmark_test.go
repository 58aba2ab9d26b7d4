package sqlstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/tarian-soc/tarian/internal/audit"
)

// BenchmarkAuditAppend measures chained appends (one write transaction
// each: read the chain head, insert; a signed checkpoint every
// audit.CheckpointEvery) over 10 chains, serially and from 8 goroutines.
// The detail is a typical auditChange JSON of ~200 bytes.
func BenchmarkAuditAppend(b *testing.B) {
	detail := `{"id":123,"before":{"status":"new","assignee":""},"after":{"status":"acknowledged","assignee":"alice@council-a.example"},"note":"triaged from the queue"}`
	for _, par := range []int{1, 8} {
		b.Run(fmt.Sprintf("goroutines=%d", par), func(b *testing.B) {
			db := openAudit(b, sqlitePlace(b))
			defer db.Close()
			ctx := context.Background()
			b.ReportAllocs()
			b.SetParallelism(par)
			b.ResetTimer()
			var n int
			if par == 1 {
				for i := 0; b.Loop(); i++ {
					if err := db.Append(ctx, audit.Record{Actor: "tok", Role: "tenant-admin", Action: "alert.ack", Scope: fmt.Sprint("council-", i%10), Detail: detail}); err != nil {
						b.Fatal(err)
					}
					n++
				}
			} else {
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						if err := db.Append(ctx, audit.Record{Actor: "tok", Role: "tenant-admin", Action: "alert.ack", Scope: fmt.Sprint("council-", i%10), Detail: detail}); err != nil {
							b.Error(err)
							return
						}
						i++
					}
				})
				n = b.N
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkAuditVerify measures verification of one chain (records/s).
func BenchmarkAuditVerify(b *testing.B) {
	db := openAudit(b, sqlitePlace(b))
	defer db.Close()
	const n = 20000
	appendN(b, db, "council-a", n)
	pub := testSigner(b).PublicKey()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := db.VerifyAudit(ctx, "council-a", pub); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}
