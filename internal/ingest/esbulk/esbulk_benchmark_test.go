package esbulk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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

// cpuTime is the CPU time (user and system) this process has used, in
// nanoseconds: the client's and the server's together.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

const benchDocs = 1000

// benchBodies returns the same 1000 events (about 200 bytes each) as an
// NDJSON body and as a bulk body (each with a create action, as Beats
// send them).
func benchBodies() (ndjson, bulk []byte) {
	for i := range benchDocs {
		doc := fmt.Appendf(nil, `{"@timestamp":"2026-11-25T17:17:31.%06dZ","host":{"name":"council-web%02d"},"process":{"name":"sshd","pid":%d},"message":"Failed password for invalid user admin%d from 203.0.113.%d port %d ssh2"}`, i, i%20, 4000+i, i, i%250, 40000+i)
		ndjson = append(append(ndjson, doc...), '\n')
		bulk = append(bulk, `{"create":{"_index":"logs-system.auth-default"}}`+"\n"...)
		bulk = append(append(bulk, doc...), '\n')
	}
	return ndjson, bulk
}

// runBench posts body b.N/1000 times (rounded up) and reports events/s
// and CPU per event.
func runBench(b *testing.B, post func() error) {
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	n := 0
	for ; n < b.N; n += benchDocs {
		if err := post(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(n), "cpu-ns/event")
}

// ndjsonHandler stands for the /api/v1/ingest path over HTTP: bearer
// token to tenant, body read whole, AcceptNDJSON, summary as JSON.
func ndjsonHandler(svc *ingest.Service, a ingest.Authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := a.IngestTenant(r.Context(), r.Header.Get("Authorization")[len("Bearer "):])
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sum, err := svc.AcceptNDJSON(r.Context(), t, "http", body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(sum)
	})
}

func post(c *http.Client, url, authz, ct string, body []byte) error {
	req, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", authz)
	req.Header.Set("Content-Type", ct)
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		return err
	}
	if res.StatusCode != 200 {
		return fmt.Errorf("status %d", res.StatusCode)
	}
	return nil
}

// BenchmarkBulkIngest measures the bulk API into a sink that does nothing,
// against the NDJSON ingest path (ingest.Service.AcceptNDJSON) in the same
// run, on the same 1000 events per request:
//
//   - es/http and ndjson/http: over loopback HTTP (client, server, auth,
//     framing, reply), one connection;
//   - es/handler and ndjson/direct: without the network: the bulk handler
//     called in process, and AcceptNDJSON called directly.
//
// cpu-ns/event includes the client's CPU in the http cases.
func BenchmarkBulkIngest(b *testing.B) {
	ndjson, bulk := benchBodies()
	sink := &nopSink{}
	r, err := New(DefaultConfig(), ingest.Deps{Sink: sink, DeadLetters: sink, Auth: testTokens, Metrics: sink})
	if err != nil {
		b.Fatal(err)
	}
	svc := ingest.NewService(ingest.DefaultConfig(), sink, sink, sink)
	esAuth := apiKey("bench", tokenA)

	b.Run("es/handler", func(b *testing.B) {
		b.SetBytes(int64(len(ndjson) / benchDocs))
		h := r.Handler()
		runBench(b, func() error {
			req := httptest.NewRequest("POST", "/_bulk", bytes.NewReader(bulk))
			req.Header.Set("Authorization", esAuth)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				return fmt.Errorf("status %d: %s", rec.Code, rec.Body)
			}
			return nil
		})
	})
	b.Run("ndjson/direct", func(b *testing.B) {
		b.SetBytes(int64(len(ndjson) / benchDocs))
		runBench(b, func() error {
			_, err := svc.AcceptNDJSON(context.Background(), "cardiff", "http", ndjson)
			return err
		})
	})
	b.Run("es/http", func(b *testing.B) {
		b.SetBytes(int64(len(ndjson) / benchDocs))
		srv := httptest.NewServer(r.Handler())
		defer srv.Close()
		c := srv.Client()
		runBench(b, func() error {
			return post(c, srv.URL+"/_bulk", esAuth, "application/x-ndjson", bulk)
		})
	})
	b.Run("ndjson/http", func(b *testing.B) {
		b.SetBytes(int64(len(ndjson) / benchDocs))
		srv := httptest.NewServer(ndjsonHandler(svc, testTokens))
		defer srv.Close()
		c := srv.Client()
		runBench(b, func() error {
			return post(c, srv.URL+"/api/v1/ingest", "Bearer "+tokenA, "application/x-ndjson", ndjson)
		})
	})
}
