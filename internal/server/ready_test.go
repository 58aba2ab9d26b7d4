package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tarian-soc/tarian/internal/web"
)

// countingCheck is a probe that counts its calls and answers err().
func countingCheck(engine string, n *atomic.Int64, err func() error) engineCheck {
	return engineCheck{engine: engine, kind: "external", probe: func(ctx context.Context) error {
		n.Add(1)
		return err()
	}}
}

// TestReadinessCachesItsAnswer: a storm of concurrent probes runs one round
// of checks; the answer is reused within the TTL and renewed after it.
func TestReadinessCachesItsAnswer(t *testing.T) {
	var state, bus atomic.Int64
	var busErr atomic.Pointer[error]
	r := &readiness{ttl: 200 * time.Millisecond, timeout: time.Second, checks: []engineCheck{
		countingCheck("state", &state, func() error { return nil }),
		countingCheck("bus", &bus, func() error {
			time.Sleep(20 * time.Millisecond) // so that the storm arrives during the round
			if p := busErr.Load(); p != nil {
				return *p
			}
			return nil
		}),
	}}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			for _, e := range r.status(context.Background()) {
				if e.Status != web.EngineUp {
					t.Errorf("%s: %+v, want up", e.Engine, e)
				}
			}
		})
	}
	wg.Wait()
	if state.Load() != 1 || bus.Load() != 1 {
		t.Fatalf("50 concurrent probes ran the checks %d and %d times, want once", state.Load(), bus.Load())
	}
	down := error(&probeError{"NATS connection reconnecting"})
	busErr.Store(&down)
	if st := r.status(context.Background()); st[1].Status != web.EngineUp || bus.Load() != 1 {
		t.Fatalf("within the TTL: %+v after %d checks, want the cached answer", st, bus.Load())
	}
	time.Sleep(250 * time.Millisecond)
	st := r.status(context.Background())
	if bus.Load() != 2 || st[1].Status != web.EngineDown || st[1].Error != "NATS connection reconnecting" || st[0].Status != web.EngineUp {
		t.Fatalf("after the TTL: %+v after %d checks, want the bus down", st, bus.Load())
	}
}

// TestReadinessNeverWaitsLong: a probe that does not answer is reported
// down after the timeout, and the others' answers stand.
func TestReadinessNeverWaitsLong(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	var n atomic.Int64
	r := &readiness{ttl: time.Second, timeout: 200 * time.Millisecond, checks: []engineCheck{
		countingCheck("state", &n, func() error { return nil }),
		{engine: "events", kind: "external", probe: func(ctx context.Context) error {
			<-release // ignores ctx: a probe stuck for good
			return nil
		}},
	}}
	began := time.Now()
	st := r.status(context.Background())
	if took := time.Since(began); took > time.Second {
		t.Errorf("status took %v with a stuck probe, want about the timeout (200ms)", took)
	}
	if st[0].Status != web.EngineUp || st[1].Status != web.EngineDown || st[1].Error != "no answer within 200ms" || st[1].Checked.IsZero() {
		t.Fatalf("statuses %+v, want state up and events down for want of an answer", st)
	}
	// A caller who gives up while a round runs gets an answer at once.
	r.ttl = 0
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	go r.status(context.Background())
	time.Sleep(20 * time.Millisecond)
	if st := r.status(ctx); len(st) != 2 {
		t.Fatalf("a caller who gave up: %+v", st)
	}
}

// TestReadyzAnswer: GET /readyz answers 503 naming the engine down and why,
// 200 degraded when only the event store is down, 200 with every engine's
// status when all are up; /healthz stays 200.
func TestReadyzAnswer(t *testing.T) {
	var stateErr, eventsErr atomic.Pointer[error]
	r := &readiness{ttl: 0, timeout: time.Second, checks: []engineCheck{
		{engine: "state", kind: "external", probe: func(context.Context) error {
			if p := stateErr.Load(); p != nil {
				return *p
			}
			return nil
		}},
		{engine: "events", kind: "external", probe: func(context.Context) error {
			if p := eventsErr.Load(); p != nil {
				return *p
			}
			return nil
		}},
		{engine: "bus", kind: "embedded", probe: func(context.Context) error { return nil }},
	}}
	api := web.New(web.DefaultConfig(), web.Deps{Ready: func() error { return nil }, Engines: r.status, Log: slog.New(slog.DiscardHandler)})
	get := func(path string) (int, http.Header, map[string]any) {
		t.Helper()
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("GET %s: %d %q: %v", path, rec.Code, rec.Body, err)
		}
		return rec.Code, rec.Header(), body
	}
	status, _, body := get("/readyz")
	engines, _ := body["engines"].(map[string]any)
	if status != http.StatusOK || body["status"] != "ready" || len(engines) != 3 {
		t.Fatalf("all up: %d %v", status, body)
	}
	for _, name := range []string{"state", "events", "bus"} {
		if e, _ := engines[name].(map[string]any); e["status"] != "up" || e["checked"] == nil {
			t.Errorf("engine %s: %v", name, engines[name])
		}
	}

	down := fmt.Errorf("ping state store: %w", &pgconn.PgError{Code: "55000", Message: `database "secret_db" is not currently accepting connections`})
	stateErr.Store(&down)
	status, hdr, body := get("/readyz")
	engines, _ = body["engines"].(map[string]any)
	state, _ := engines["state"].(map[string]any)
	msg, _ := body["message"].(string)
	if status != http.StatusServiceUnavailable || body["error"] != "not_ready" || hdr.Get("Retry-After") == "" ||
		state["status"] != "down" || state["error"] != "PostgreSQL SQLSTATE 55000" || state["kind"] != "external" ||
		!strings.Contains(msg, "state (external): PostgreSQL SQLSTATE 55000") || strings.Contains(msg, "bus") {
		t.Fatalf("state store down: %d %v", status, body)
	}
	if strings.Contains(fmt.Sprint(body), "secret_db") {
		t.Errorf("/readyz shows the database's own error: %v", body)
	}
	if status, _, body := get("/healthz"); status != http.StatusOK {
		t.Errorf("/healthz while the state store is down: %d %v, want 200", status, body)
	}
	stateErr.Store(nil)
	if status, _, body := get("/readyz"); status != http.StatusOK || body["status"] != "ready" {
		t.Errorf("back up: %d %v", status, body)
	}

	// The event store alone down: still ready to take ingest, degraded.
	refused := fmt.Errorf("%w: dial", &probeError{"VictoriaLogs: connection refused"})
	eventsErr.Store(&refused)
	status, hdr, body = get("/readyz")
	msg, _ = body["message"].(string)
	if status != http.StatusOK || body["status"] != "degraded" || hdr.Get("Retry-After") != "" || !strings.Contains(msg, "events (external): VictoriaLogs: connection refused") {
		t.Errorf("event store down: %d %v, want 200 degraded naming it", status, body)
	}
	// With the state store down too: not ready, naming both.
	stateErr.Store(&down)
	status, _, body = get("/readyz")
	msg, _ = body["message"].(string)
	if status != http.StatusServiceUnavailable || !strings.Contains(msg, "state (external)") || !strings.Contains(msg, "events (external)") {
		t.Errorf("state and event stores down: %d %v, want 503 naming both", status, body)
	}
}

// TestReason: what /readyz says of a probe's error names no address.
func TestReason(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("dial 10.0.0.5:5432: %w", refused), "connection refused"},
		{fmt.Errorf("ping state store: %w", context.DeadlineExceeded), "no answer within 1.5s"},
		{fmt.Errorf("ping: %w", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}), "PostgreSQL SQLSTATE 57P01"},
		{fmt.Errorf("%w: %w", &probeError{"NATS connection reconnecting"}, errors.New("nats: dial nats://10.0.0.7:4222")), "NATS connection reconnecting"},
		{errors.New("disk I/O error at /var/lib/tarian/state.db"), "query failed (the server log says why)"},
	}
	for _, tt := range tests {
		if got := reason(tt.err, readyTimeout); got != tt.want {
			t.Errorf("reason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// TestEventsProbe: the external event store is up only while its server
// and every storage node answer /health; the reason names which, without
// its address.
func TestEventsProbe(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("OK"))
	}))
	defer ok.Close()
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "storage unavailable", http.StatusServiceUnavailable)
	}))
	defer sick.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	tests := []struct {
		url   string
		nodes []string
		want  string // "": up
	}{
		{ok.URL, nil, ""},
		{ok.URL + "/", []string{ok.URL, ok.URL}, ""},
		{ok.URL, []string{ok.URL, sick.URL}, "VictoriaLogs storage node 2: GET /health: HTTP 503"},
		{gone.URL, []string{ok.URL}, "VictoriaLogs: connection refused"},
	}
	for _, tt := range tests {
		err := eventsProbe(tt.url, tt.nodes, nil)(context.Background())
		got := ""
		if err != nil {
			got = reason(err, readyTimeout)
		}
		if got != tt.want {
			t.Errorf("events %s, nodes %v: %q (%v), want %q", tt.url, tt.nodes, got, err, tt.want)
		}
		if strings.Contains(got, "127.0.0.1") {
			t.Errorf("the reason names an address: %q", got)
		}
	}
	// The embedded store is up unless it refuses writes for want of disk.
	var ro fakeReadOnly
	probe := eventsProbe("", nil, &ro)
	if err := probe(context.Background()); err != nil {
		t.Errorf("embedded store taking writes: %v, want up", err)
	}
	ro = true
	if err := probe(context.Background()); err == nil || reason(err, readyTimeout) != "read-only: free disk space below events.min_free_disk_bytes" {
		t.Errorf("embedded store read-only: %v, want down naming the disk", err)
	}
}

type fakeReadOnly bool

func (f *fakeReadOnly) ReadOnly() bool { return bool(*f) }
