package otlp

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

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

// benchLogs is 1000 records as an SDK sends them: one resource (service,
// host), one scope, each record with a time, severity, a string body of
// about 100 bytes and three attributes. ndjson is, as the baseline, the
// events they become, one per line.
func benchLogs(b *testing.B) (pb, js, ndjson []byte) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "auth-api")
	rl.Resource().Attributes().PutStr("host.name", "council-web01")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("auth")
	for i := range 1000 {
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.Timestamp(1795627458821000000 + int64(i)*1000))
		lr.SetSeverityNumber(plog.SeverityNumberWarn)
		lr.SetSeverityText("WARN")
		lr.Body().SetStr(fmt.Sprintf("Failed password for invalid user admin%d from 203.0.113.%d port %d ssh2", i, i%250, 40000+i))
		lr.Attributes().PutStr("source.ip", fmt.Sprintf("203.0.113.%d", i%250))
		lr.Attributes().PutStr("event.code", "4625")
		lr.Attributes().PutInt("attempt", int64(i))
	}
	req := plogotlp.NewExportRequestFromLogs(ld)
	pb, _ = req.MarshalProto()
	js, _ = req.MarshalJSON()
	var bt batch
	bt.convert(ld, "alpha", time.Unix(1795627458, 0), 1<<20)
	if len(bt.recs) != 1000 {
		b.Fatalf("%d events", len(bt.recs))
	}
	for _, r := range bt.recs {
		ndjson = append(append(ndjson, r.Data...), '\n')
	}
	return pb, js, ndjson
}

// BenchmarkIngest measures the OTLP/HTTP handler (auth, body read, pdata
// decode, one JSON event per record, one sink write, the reply) on
// 1000-record requests served in-process, and, in the same run,
// ingest.Service.AcceptNDJSON (the /api/v1/ingest path) on the same
// events as NDJSON: the baseline. cpu-ns/event is process CPU time per
// event.
func BenchmarkIngest(b *testing.B) {
	pb, js, ndjson := benchLogs(b)
	for _, tc := range []struct {
		name, contentType string
		body              []byte
	}{{"otlp-http/proto", typeProto, pb}, {"otlp-http/json", typeJSON, js}} {
		b.Run(tc.name, func(b *testing.B) {
			sink := &nopSink{}
			r, err := New(DefaultConfig(), ingest.Deps{Sink: sink, DeadLetters: sink, Auth: testTokens, Metrics: sink})
			if err != nil {
				b.Fatal(err)
			}
			h := r.Handler()
			measure(b, len(tc.body), func() {
				req := httptest.NewRequest(http.MethodPost, "/v1/logs", bytes.NewReader(tc.body))
				req.Header.Set("Content-Type", tc.contentType)
				req.Header.Set("Authorization", "Bearer "+tokA)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatal(w.Code, w.Body.String())
				}
			})
			if sink.n.Load() == 0 {
				b.Fatal("nothing written")
			}
		})
	}
	// What pdata's protobuf decoding alone costs: the floor of the
	// OTLP/HTTP protobuf path.
	b.Run("pdata-decode-only", func(b *testing.B) {
		measure(b, len(pb), func() {
			req := plogotlp.NewExportRequest()
			if err := req.UnmarshalProto(pb); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("ndjson-baseline", func(b *testing.B) {
		sink := &nopSink{}
		svc := ingest.NewService(ingest.DefaultConfig(), sink, sink, sink)
		measure(b, len(ndjson), func() {
			if _, err := svc.AcceptNDJSON(context.Background(), "alpha", "http", ndjson); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// measure calls one (1000 events) until b.N events are done and reports
// events/s and CPU per event.
func measure(b *testing.B, size int, one func()) {
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
