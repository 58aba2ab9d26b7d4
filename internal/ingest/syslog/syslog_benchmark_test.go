package syslog

import (
	"context"
	"fmt"
	"net"
	"sync"
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

// BenchmarkTCPIngest measures syslog over TCP into a sink that does
// nothing: framing, tenant, batching and copying, per event (about 200
// bytes of RFC 5424 each), over one connection or several.
func BenchmarkTCPIngest(b *testing.B) {
	for _, bc := range []struct {
		name  string
		octet bool
		conns int
	}{
		{"octet/conns=1", true, 1},
		{"newline/conns=1", false, 1},
		{"octet/conns=4", true, 4},
	} {
		b.Run(bc.name, func(b *testing.B) {
			// A block of 1000 messages and where each ends.
			var block []byte
			var ends []int
			for i := range 1000 {
				msg := fmt.Sprintf("<86>1 2026-11-25T17:17:31.%06d+00:00 council-web%02d sshd %d - -  Failed password for invalid user admin%d from 203.0.113.%d port %d ssh2", i, i%20, 4000+i, i, i%250, 40000+i)
				if bc.octet {
					block = fmt.Appendf(block, "%d %s\n", len(msg)+1, msg)
				} else {
					block = append(append(block, msg...), '\n')
				}
				ends = append(ends, len(block))
			}
			sink := &nopSink{}
			cfg := DefaultConfig()
			cfg.Listeners = []Listener{{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "alpha"}}
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
			addr := r.Addrs()[0].String()
			conns := make([]net.Conn, bc.conns)
			for i := range conns {
				if conns[i], err = net.Dial("tcp", addr); err != nil {
					b.Fatal(err)
				}
				defer conns[i].Close()
			}
			b.SetBytes(int64(len(block) / len(ends)))
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			var wg sync.WaitGroup
			for c := range conns {
				share := b.N / len(conns)
				if c == 0 {
					share += b.N % len(conns)
				}
				wg.Go(func() {
					for sent := 0; sent < share; {
						n := min(share-sent, len(ends))
						if _, err := conns[c].Write(block[:ends[n-1]]); err != nil {
							b.Error(err)
							return
						}
						sent += n
					}
				})
			}
			wg.Wait()
			for sink.n.Load() < int64(b.N) {
				time.Sleep(100 * time.Microsecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/event")
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
// events of the same size, into the same sink (no HTTP server, no TLS, no
// gzip; cpu-ns/event is what the syslog path should be compared with).
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
