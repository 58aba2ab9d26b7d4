// Package servertest starts a whole Tarian server in-process for tests:
// real embedded JetStream, VictoriaLogs and SQLite under t.TempDir(),
// listening on 127.0.0.1 with a known provider-admin token.
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/config"
	"github.com/tarian-soc/tarian/internal/logstore/vlogs"
	"github.com/tarian-soc/tarian/internal/server"
)

// AdminToken is the provider-admin token of every test server.
const AdminToken = "trn_test-admin-token-0123456789abcdefghijklmnop"

// Server is a running test server.
type Server struct {
	URL string
	// Client sends Do's requests (nil: http.DefaultClient); set it to
	// trust the certificate of a server started with api.tls_cert.
	Client *http.Client
	*server.Server
	stop func(t testing.TB)
}

// Stop shuts the server down gracefully, as SIGTERM would; a new Start on
// the same directory then sees everything it had.
func (s *Server) Stop(t testing.TB) { s.stop(t) }

// Config returns a configuration for a test server in dir.
func Config(dir string) config.Config {
	cfg := config.Default()
	cfg.Data = dir
	cfg.Listen = "127.0.0.1:0"
	cfg.BootstrapToken = AdminToken
	cfg.Events.MinFreeDiskBytes = -1
	return cfg
}

// Start runs a server with cfg until the test ends.
func Start(t testing.TB, cfg config.Config) *Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return StartLog(t, cfg, log)
}

// StartLog is Start with the server logging to log.
func StartLog(t testing.TB, cfg config.Config, log *slog.Logger) *Server {
	t.Helper()
	if err := vlogs.SetProcessLimits(cfg.Events.MemoryBytes); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	var once sync.Once
	stop := func(t testing.TB) {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("server run: %v", err)
			}
		})
	}
	t.Cleanup(func() { stop(t) })
	deadline := time.Now().Add(30 * time.Second)
	for srv.Addr() == "" {
		if time.Now().After(deadline) {
			t.Fatal("server did not start listening")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return &Server{URL: srv.URL(), Server: srv, stop: stop}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(p)))
	return len(p), nil
}

// Do sends an API request with token and returns the status and body.
func (s *Server) Do(t testing.TB, method, path, token string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	hc := s.Client
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

// JSON sends v as a JSON body and decodes a 2xx answer into out; it fails
// the test on any other status.
func (s *Server) JSON(t testing.TB, method, path, token string, v, out any) {
	t.Helper()
	var body []byte
	if v != nil {
		var err error
		if body, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	status, data := s.Do(t, method, path, token, body)
	if status/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
}

// AddTenant creates tenant id as the admin.
func (s *Server) AddTenant(t testing.TB, id string) {
	t.Helper()
	s.JSON(t, "POST", "/api/v1/tenants", AdminToken, map[string]string{"id": id, "name": "Tenant " + id}, nil)
}

// Token creates a token of role for tenant (empty for provider roles) as
// the admin and returns its secret.
func (s *Server) Token(t testing.TB, tenant, role string) string {
	t.Helper()
	var out map[string]string
	s.JSON(t, "POST", "/api/v1/tokens", AdminToken, map[string]string{"tenant": tenant, "role": role}, &out)
	return out["token"]
}
