package vlogs

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
)

// benchBatch returns n events of about 500 bytes and 10 fields, varied the
// way a shared SOC's authentication and firewall logs are.
func benchBatch(r *rand.Rand, n int, at time.Time) []event.Event {
	modules := []string{"sshd", "windows.security", "fortigate"}
	actions := []string{"logon-failed", "logon", "connection-denied", "connection-allowed"}
	batch := make([]event.Event, n)
	for i := range batch {
		host := fmt.Sprintf("srv-%02d.council.example", r.IntN(40))
		user := fmt.Sprintf("user%03d", r.IntN(500))
		ip := fmt.Sprintf("10.%d.%d.%d", r.IntN(4), r.IntN(256), r.IntN(256))
		action := actions[r.IntN(len(actions))]
		msg := fmt.Sprintf("%s for %s from %s port %d ssh2 session %016x", action, user, ip, 1024+r.IntN(60000), r.Uint64())
		at = at.Add(time.Duration(r.IntN(2000)) * time.Microsecond)
		batch[i] = event.Event{Time: at, Fields: []event.Field{
			{Name: "message", Value: msg},
			{Name: "event.original", Value: "<38>1 " + at.Format(time.RFC3339Nano) + " " + host + " " + msg + strings.Repeat(" ", r.IntN(40))},
			{Name: "event.module", Value: modules[r.IntN(len(modules))]},
			{Name: "event.action", Value: action},
			{Name: "event.outcome", Value: []string{"success", "failure"}[r.IntN(2)]},
			{Name: "event.ingested", Value: at.Add(time.Second).Format(time.RFC3339Nano)},
			{Name: "host.name", Value: host},
			{Name: "user.name", Value: user},
			{Name: "source.ip", Value: ip},
			{Name: "source.port", Value: fmt.Sprint(1024 + r.IntN(60000))},
		}}
	}
	return batch
}

// BenchmarkAdd adds batches of 1,000 events, flushing every 10 batches, and
// reports events per second, time per Flush and bytes per event on disk after
// the last flush. VictoriaMetrics skips fsync in test binaries; set
// DISABLE_FSYNC_FOR_TESTING=false for production-like figures.
func BenchmarkAdd(b *testing.B) {
	s := openStore(b, testConfig(b.TempDir()))
	r := rand.New(rand.NewPCG(1, 2))
	const batchSize, flushEvery = 1000, 10
	// Pre-generated so the benchmark measures the store, not the generator.
	batches := make([][]event.Event, 100)
	at := time.Now().Add(-time.Hour)
	for i := range batches {
		batches[i] = benchBatch(r, batchSize, at)
		at = batches[i][batchSize-1].Time
	}
	var flushTime time.Duration
	flushes := 0
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	n := 0
	for b.Loop() {
		if err := s.Add(b.Context(), "council-a", batches[n%len(batches)]); err != nil {
			b.Fatal(err)
		}
		n++
		if n%flushEvery == 0 {
			t0 := time.Now()
			mustFlush(b, s)
			flushTime += time.Since(t0)
			flushes++
		}
	}
	mustFlush(b, s)
	elapsed := time.Since(start)
	b.StopTimer()

	events := float64(n * batchSize)
	b.ReportMetric(events/elapsed.Seconds(), "events/s")
	if flushes > 0 {
		b.ReportMetric(float64(flushTime.Microseconds())/float64(flushes)/1000, "ms/flush")
	}
	st := s.Stats()
	if st.Rows != uint64(events) {
		b.Fatalf("stored %d rows, want %d", st.Rows, uint64(events))
	}
	b.ReportMetric(float64(st.DiskBytes)/events, "disk-bytes/event")
}
