package server_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver "pgx"

	"github.com/tarian-soc/tarian/internal/bus/natstest"
	"github.com/tarian-soc/tarian/internal/logstore/vltest"
	"github.com/tarian-soc/tarian/internal/server/servertest"
	"github.com/tarian-soc/tarian/internal/store/pgtest"
)

type readyzAnswer struct {
	Status  string `json:"status"`
	Error   string `json:"error"`
	Message string `json:"message"`
	Engines map[string]struct {
		Kind   string `json:"kind"`
		Status string `json:"status"`
		Error  string `json:"error"`
	} `json:"engines"`
}

// TestReadyzFollowsTheEngines runs a server on external engines — a
// victoria-logs process, PostgreSQL and NATS JetStream — and stops each in
// turn: /readyz answers 503 naming the state store or bus down and why
// within a few seconds (200 degraded for the event store: ingest goes on),
// and 200 ready again once it is back; /healthz stays 200 throughout.
func TestReadyzFollowsTheEngines(t *testing.T) {
	if testing.Short() {
		t.Skip("starts victoria-logs, PostgreSQL and NATS")
	}
	vl := vltest.Start(t)
	nc := natstest.Start(t, 1)
	pg := pgtest.Start(t)
	cfg := servertest.Config(t.TempDir())
	cfg.Events.URL, cfg.Bus.URL, cfg.State.URL = vl.URL, nc.URL(), pg
	s := servertest.Start(t, cfg)

	get := func() (int, readyzAnswer) {
		t.Helper()
		resp, err := http.Get(s.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a readyzAnswer
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
			t.Fatalf("GET /readyz: HTTP %d: %v", resp.StatusCode, err)
		}
		return resp.StatusCode, a
	}
	// wait polls /readyz until it answers want with down the engine down
	// (none: every engine up).
	wait := func(what string, want int, down string) readyzAnswer {
		t.Helper()
		var status int
		var a readyzAnswer
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			status, a = get()
			ok := status == want && len(a.Engines) == 3
			for name, e := range a.Engines {
				ok = ok && e.Kind == "external" && (e.Status == "down") == (name == down)
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: /readyz answers %d %+v, want %d with engine %q down (\"\": none)", what, status, a, want, down)
			}
		}
		if status, b := s.Do(t, http.MethodGet, "/healthz", "", nil); status != http.StatusOK {
			t.Errorf("%s: /healthz %d %s, want 200", what, status, b)
		}
		return a
	}
	wait("all up", http.StatusOK, "")

	// The event store: the victoria-logs process stopped, then started again.
	vl.Stop()
	a := wait("victoria-logs stopped", http.StatusOK, "events")
	if a.Status != "degraded" || a.Engines["events"].Error != "VictoriaLogs: connection refused" || !strings.Contains(a.Message, "events (external)") {
		t.Errorf("victoria-logs stopped: %+v, want 200 degraded naming the event store", a)
	}
	if strings.Contains(a.Message, vl.Addr) {
		t.Errorf("/readyz shows the event store's address: %+v", a)
	}
	vl.Restart()
	wait("victoria-logs back", http.StatusOK, "")

	// The state store: PostgreSQL refuses connections to the database, and
	// ends those open.
	u, err := url.Parse(pg)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	admin, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	exec := func(q string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS false`)
	exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '` + name + `'`)
	a = wait("PostgreSQL refusing", http.StatusServiceUnavailable, "state")
	if e := a.Engines["state"].Error; !strings.HasPrefix(e, "PostgreSQL SQLSTATE ") && e != "connection lost" {
		t.Errorf("PostgreSQL refusing: %+v", a)
	}
	exec(`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS true`)
	wait("PostgreSQL back", http.StatusOK, "")

	// The bus: the NATS server killed, then started again.
	nc.Kill(0)
	a = wait("NATS killed", http.StatusServiceUnavailable, "bus")
	if e := a.Engines["bus"].Error; e != "NATS connection reconnecting" {
		t.Errorf("NATS killed: %+v", a)
	}
	nc.Restart(0)
	wait("NATS back", http.StatusOK, "")
}

// TestReadyzEmbeddedStoreOutOfDisk: the embedded event store turned
// read-only for want of free disk space (events.min_free_disk_bytes above
// what the disk has) makes /readyz 200 degraded naming it, while ingest is
// still acknowledged onto the bus.
func TestReadyzEmbeddedStoreOutOfDisk(t *testing.T) {
	cfg := servertest.Config(t.TempDir())
	cfg.Events.MinFreeDiskBytes = 1 << 60
	s := servertest.Start(t, cfg)
	var a readyzAnswer
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		status, body := s.Do(t, http.MethodGet, "/readyz", "", nil)
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatalf("GET /readyz: %d %s: %v", status, body, err)
		}
		if status == http.StatusOK && a.Status == "degraded" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz answers %d %+v, want 200 degraded", status, a)
		}
	}
	e := a.Engines["events"]
	if e.Kind != "embedded" || e.Status != "down" || e.Error != "read-only: free disk space below events.min_free_disk_bytes" ||
		a.Engines["state"].Status != "up" || a.Engines["bus"].Status != "up" {
		t.Errorf("/readyz: %+v, want the embedded event store down for want of disk, the rest up", a)
	}
	s.AddTenant(t, "gwynedd")
	if status, body := s.Do(t, http.MethodPost, "/api/v1/ingest", s.Token(t, "gwynedd", "ingest"), []byte(`{"message":"kept"}`+"\n")); status != http.StatusOK {
		t.Errorf("ingest while the event store is read-only: %d %s, want 200 (onto the bus)", status, body)
	}
}
