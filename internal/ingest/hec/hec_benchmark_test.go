package hec

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"

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

// benchEvents is 1000 HEC envelopes of about 250 bytes, concatenated, and
// the same envelopes as NDJSON for the baseline.
func benchEvents() (hec, ndjson []byte) {
	for i := range 1000 {
		e := fmt.Appendf(nil, `{"time":1795627447.%03d,"host":"council-web%02d","source":"/var/log/auth.log","sourcetype":"linux_secure","event":"Failed password for invalid user admin%d from 203.0.113.%d port %d ssh2"}`, i, i%20, i, i%250, 40000+i)
		hec = append(hec, e...)
		ndjson = append(append(ndjson, e...), '\n')
	}
	return hec, ndjson
}

// BenchmarkIngest measures the HEC handler (auth, body read, framing,
// validation, one sink write) on 1000-event requests served in-process,
// and, in the same run, ingest.Service.AcceptNDJSON on the same events as
// the baseline. cpu-ns/event is process CPU time per event.
func BenchmarkIngest(b *testing.B) {
	body, ndjson := benchEvents()
	b.Run("hec/event", func(b *testing.B) {
		sink := &nopSink{}
		r, err := New(DefaultConfig(), ingest.Deps{Sink: sink, DeadLetters: sink, Auth: testTokens, Metrics: sink})
		if err != nil {
			b.Fatal(err)
		}
		h := r.Handler()
		run(b, len(body), func() {
			req := httptest.NewRequest(http.MethodPost, "/services/collector/event", bytes.NewReader(body))
			req.Header.Set("Authorization", "Splunk "+tokA)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatal(w.Code, w.Body.String())
			}
		})
	})
	b.Run("ndjson-baseline", func(b *testing.B) {
		sink := &nopSink{}
		svc := ingest.NewService(ingest.DefaultConfig(), sink, sink, sink)
		run(b, len(ndjson), func() {
			if _, err := svc.AcceptNDJSON(context.Background(), "alpha", "http", ndjson); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// run calls one (1000 events) until b.N events are done and reports
// events/s and CPU per event.
func run(b *testing.B, size int, one func()) {
	b.SetBytes(int64(size / 1000))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	n := 0
	for ; n < b.N; n += 1000 {
		one()
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(n), "cpu-ns/event")
}

// cpuTime is the CPU time (user and system) this process has used, in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
