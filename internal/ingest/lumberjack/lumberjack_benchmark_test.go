package lumberjack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	v2 "github.com/elastic/go-lumber/client/v2"

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

const benchEvents = 1000

// benchDocs returns the same 1000 events (about 200 bytes each) as
// pre-encoded JSON for the go-lumber client and as one NDJSON body.
func benchDocs() (docs []any, ndjson []byte) {
	for i := range benchEvents {
		doc := fmt.Appendf(nil, `{"@timestamp":"2026-11-25T17:17:31.%06dZ","host":{"name":"council-web%02d"},"process":{"name":"sshd","pid":%d},"message":"Failed password for invalid user admin%d from 203.0.113.%d port %d ssh2"}`, i, i%20, 4000+i, i, i%250, 40000+i)
		docs = append(docs, json.RawMessage(doc))
		ndjson = append(append(ndjson, doc...), '\n')
	}
	return docs, ndjson
}

// rawEncoder hands go-lumber the pre-encoded documents as they are, so the
// client costs what posting a ready NDJSON body costs.
func rawEncoder(v any) ([]byte, error) { return v.(json.RawMessage), nil }

// runBench calls send (1000 events) b.N/1000 times (rounded up) and reports
// events/s and CPU per event.
func runBench(b *testing.B, send func() error) {
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	n := 0
	for ; n < b.N; n += benchEvents {
		if err := send(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(n), "cpu-ns/event")
}

// ndjsonHandler stands for the /api/v1/ingest path over HTTP: bearer
// token to tenant, body read whole, AcceptNDJSON, summary as JSON.
func ndjsonHandler(svc *ingest.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer trn_bench" {
			http.Error(w, "unauthenticated", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sum, err := svc.AcceptNDJSON(r.Context(), "alpha", "http", body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(sum)
	})
}

// BenchmarkIngest measures Lumberjack v2 into a sink that does nothing
// against the NDJSON ingest path (ingest.Service.AcceptNDJSON) in the same
// run, on the same 1000 events per window or request:
//
//   - lumberjack/tcp/zlib=N: go-lumber's SyncClient over loopback TCP, one
//     connection, windows of 1000, compression 0 and 3 (Beats' default;
//     the client's compression is CPU of this process too);
//   - ndjson/http: the baseline over loopback HTTP, one connection;
//   - lumberjack/session and ndjson/direct: without the network, a session
//     reading a window from memory, and AcceptNDJSON called directly.
//
// cpu-ns/event includes the client's CPU in the network cases.
func BenchmarkIngest(b *testing.B) {
	docs, ndjson := benchDocs()
	per := int64(len(ndjson) / benchEvents)
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
	svc := ingest.NewService(ingest.DefaultConfig(), sink, sink, sink)

	for _, level := range []int{0, 3} {
		b.Run(fmt.Sprintf("lumberjack/tcp/zlib=%d", level), func(b *testing.B) {
			b.SetBytes(per)
			c, err := v2.SyncDial(addr, v2.CompressionLevel(level), v2.JSONEncoder(rawEncoder), v2.Timeout(30*time.Second))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			runBench(b, func() error {
				n, err := c.Send(docs)
				if err == nil && n != benchEvents {
					err = fmt.Errorf("acked %d", n)
				}
				return err
			})
		})
	}
	b.Run("ndjson/http", func(b *testing.B) {
		b.SetBytes(per)
		srv := httptest.NewServer(ndjsonHandler(svc))
		defer srv.Close()
		c := srv.Client()
		runBench(b, func() error {
			req, err := http.NewRequest("POST", srv.URL+"/api/v1/ingest", bytes.NewReader(ndjson))
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", "Bearer trn_bench")
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
		})
	})
	b.Run("lumberjack/session", func(b *testing.B) {
		b.SetBytes(per)
		var window []byte
		window = append(window, windowFrame(benchEvents)...)
		for i, d := range docs {
			window = append(window, jsonFrame(uint32(i+1), string(d.(json.RawMessage)))...)
		}
		sr := &Receiver{d: ingest.Deps{Sink: sink, DeadLetters: sink, Metrics: sink, Log: slog.New(slog.DiscardHandler)}, now: time.Now}
		cfg := DefaultConfig()
		runBench(b, func() error {
			s := &session{r: sr, cfg: &cfg, t: "alpha", log: sr.d.Log, dec: newDecoder(bytes.NewReader(window), cfg.MaxEventBytes), wait: func(bool) {}}
			s.ack = acker{w: &ackBuf{}, timeout: time.Second}
			s.run(context.Background())
			return nil
		})
	})
	b.Run("ndjson/direct", func(b *testing.B) {
		b.SetBytes(per)
		runBench(b, func() error {
			_, err := svc.AcceptNDJSON(context.Background(), "alpha", "http", ndjson)
			return err
		})
	})
}
