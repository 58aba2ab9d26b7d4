package forward

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// nopSink accepts and forgets, counting records.
type nopSink struct{ n atomic.Int64 }

func (s *nopSink) Write(_ context.Context, _ tenant.ID, recs []event.Raw) error {
	s.n.Add(int64(len(recs)))
	return nil
}

func (s *nopSink) AddDeadLetters(context.Context, tenant.ID, []ingest.DeadLetter) error { return nil }
func (s *nopSink) Count(string, tenant.ID, int)                                         {}

// benchRecord is the i-th benchmark event: the same fields as the NDJSON
// baseline's.
func benchRecord(i int) map[string]any {
	return map[string]any{
		"host":    map[string]any{"name": fmt.Sprintf("council-web%02d", i%20)},
		"process": map[string]any{"name": "sshd", "pid": 4000 + i},
		"message": fmt.Sprintf("Failed password for invalid user admin%d from 203.0.113.%d port %d ssh2", i, i%250, 40000+i),
	}
}

// BenchmarkForwardIngest measures Fluent Forward over TCP into a sink that
// does nothing: framing, MessagePack decoding, JSON building, batching and
// acknowledgements, per event, in the modes shippers use.
func BenchmarkForwardIngest(b *testing.B) {
	ts := time.Date(2026, 11, 25, 17, 17, 31, 0, time.UTC)
	for _, bc := range []struct {
		name string
		// block is 1000 events as the mode sends them.
		block func(b *testing.B) []byte
		acks  int
	}{
		{"message", func(b *testing.B) []byte {
			var out []byte
			for i := range 1000 {
				out = append(out, pack(b, []any{"bench", evTime(ts.Add(time.Duration(i) * time.Microsecond)), benchRecord(i)})...)
			}
			return out
		}, 0},
		{"packedforward-ack", func(b *testing.B) []byte {
			var entries []byte
			for i := range 1000 {
				entries = append(entries, pack(b, []any{evTime(ts.Add(time.Duration(i) * time.Microsecond)), benchRecord(i)})...)
			}
			return pack(b, []any{"bench", entries, map[string]any{"chunk": "bench-chunk", "size": 1000}})
		}, 1},
		{"compressed-ack", func(b *testing.B) []byte {
			var entries []byte
			for i := range 1000 {
				entries = append(entries, pack(b, []any{evTime(ts.Add(time.Duration(i) * time.Microsecond)), benchRecord(i)})...)
			}
			return pack(b, []any{"bench", gz(b, entries), map[string]any{"chunk": "bench-chunk", "compressed": "gzip"}})
		}, 1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			block := bc.block(b)
			sink := &nopSink{}
			cfg := tcpConfig("alpha")
			r, err := New(cfg, ingest.Deps{Sink: sink, DeadLetters: sink, Tenants: testTenants, Metrics: sink})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- r.Run(ctx) }()
			defer func() {
				cancel()
				<-done
			}()
			c, err := net.Dial("tcp", r.Addrs()[0].String())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			ack := make([]byte, 64)
			blocks := (b.N + 999) / 1000
			b.SetBytes(int64(len(block) / 1000))
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for range blocks {
				if _, err := c.Write(block); err != nil {
					b.Fatal(err)
				}
				if bc.acks > 0 {
					// As a shipper does: wait for the ack before the next chunk.
					if _, err := c.Read(ack); err != nil {
						b.Fatal(err)
					}
				}
			}
			for sink.n.Load() < int64(blocks*1000) {
				time.Sleep(100 * time.Microsecond)
			}
			b.StopTimer()
			n := blocks * 1000
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(n), "cpu-ns/event")
		})
	}
}

// cpuTime is the CPU time (user and system) this process has used, in
// nanoseconds: the sender's and the receiver's together.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkNDJSONBaseline is the HTTP path's framing stage in the same
// run, for comparison: ingest.Service.AcceptNDJSON on 1000-line bodies of
// the same events, into the same sink (no HTTP server, no TLS, no gzip;
// cpu-ns/event is what the Forward path should be compared with).
func BenchmarkNDJSONBaseline(b *testing.B) {
	var body []byte
	for i := range 1000 {
		body = fmt.Appendf(body, `{"@timestamp":"2026-11-25T17:17:31.%06dZ","host":{"name":"council-web%02d"},"process":{"name":"sshd","pid":%d},"message":"Failed password for invalid user admin%d from 203.0.113.%d port %d ssh2"}`+"\n", i, i%20, 4000+i, i, i%250, 40000+i)
	}
	sink := &nopSink{}
	svc := ingest.NewService(ingest.DefaultConfig(), sink, sink, sink)
	b.SetBytes(int64(len(body) / 1000))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for done := 0; done < b.N; done += 1000 {
		if _, err := svc.AcceptNDJSON(context.Background(), "alpha", "http", body); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	n := (b.N + 999) / 1000 * 1000
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(n), "cpu-ns/event")
}
