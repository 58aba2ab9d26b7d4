package cli

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// TestIngestRetriesLostAnswer: a batch whose answer is lost on the way
// back (the connection cut after the server took it) is sent again by
// tarian ingest with the same Idempotency-Key, and stored once. The
// network fault is a proxy in front of a real server that passes the
// first batch on and then cuts the client's connection instead of
// answering.
func TestIngestRetriesLostAnswer(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	s.AddTenant(t, "gwynedd")
	target, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	var keys []string
	cut := false
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		first := !cut && r.URL.Path == "/api/v1/ingest"
		cut = cut || first
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		mu.Unlock()
		if !first {
			rp.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		rp.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			t.Errorf("the first batch, passed on: %d %s", rec.Code, rec.Body)
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	}))
	defer proxy.Close()

	var in strings.Builder
	const n = 1500 // two batches
	for i := range n {
		fmt.Fprintf(&in, `{"message":"retried %d"}`+"\n", i)
	}
	code, _, errs := (cmdEnv{url: proxy.URL, token: s.Token(t, "gwynedd", "ingest")}).run(t, in.String(), "ingest")
	if code != 0 || !strings.Contains(errs, "ingested 1500 events") {
		t.Fatalf("tarian ingest through a cut connection: exit %d, %q; want 1500 events ingested", code, errs)
	}
	mu.Lock()
	if len(keys) != 3 || keys[0] == "" || keys[1] != keys[0] || keys[2] == keys[0] || keys[2] == "" {
		t.Errorf("Idempotency-Keys sent: %q; want the first batch's twice, then another", keys)
	}
	mu.Unlock()
	analyst := s.Token(t, "gwynedd", "tenant-analyst")
	count := func() int {
		status, b := s.Do(t, http.MethodGet, "/api/v1/search?q="+url.QueryEscape("retried | stats count() n"), analyst, nil)
		var row struct{ N string }
		if status != http.StatusOK || json.Unmarshal(b, &row) != nil {
			t.Fatalf("count: %d %s", status, b)
		}
		got, _ := strconv.Atoi(row.N)
		return got
	}
	// Everything was acknowledged; the second batch went last, so once
	// the count reaches n a duplicate of the first would be in it.
	deadline := time.Now().Add(20 * time.Second)
	for count() < n && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := count(); got != n {
		t.Errorf("%d events stored, want %d: the retried batch once", got, n)
	}
}

// TestIngestRefusalNotRetried: a connection refused for good (a server
// certificate the client does not trust) fails the ingest at once, on
// one connection, instead of being retried as a lost answer would be.
func TestIngestRefusalNotRetried(t *testing.T) {
	var mu sync.Mutex
	conns := 0
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	srv.StartTLS()
	defer srv.Close()
	code, _, errs := (cmdEnv{url: srv.URL, token: "trn_x"}).run(t, `{"message":"x"}`+"\n", "ingest")
	mu.Lock()
	defer mu.Unlock()
	if code != 1 || !strings.Contains(errs, "certificate") || conns != 1 {
		t.Errorf("ingest to an untrusted server: exit %d, %q, %d connections; want exit 1 naming the certificate, one connection", code, errs, conns)
	}
}
