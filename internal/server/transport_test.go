package server_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/server/servertest"
	"github.com/tarian-soc/tarian/internal/tlsfile"
	"github.com/tarian-soc/tarian/internal/tlsfile/tlsfiletest"
)

// TestMetricsNeedToken: on the API listener /metrics and /debug/pprof/
// refuse anonymous callers and member roles; the loopback diagnostics
// listener serves both without a token.
func TestMetricsNeedToken(t *testing.T) {
	cfg := servertest.Config(t.TempDir())
	cfg.API.MetricsListen = "127.0.0.1:0"
	s := servertest.Start(t, cfg)
	s.AddTenant(t, "council-a")
	member := s.Token(t, "council-a", "tenant-admin")
	analyst := s.Token(t, "", "provider-analyst")
	for _, tc := range []struct {
		path, token string
		want        int
	}{
		{"/metrics", "", http.StatusUnauthorized},
		{"/metrics", "trn_not-a-token", http.StatusUnauthorized},
		{"/metrics", member, http.StatusForbidden},
		{"/metrics", analyst, http.StatusOK},
		{"/metrics", servertest.AdminToken, http.StatusOK},
		{"/debug/pprof/", "", http.StatusUnauthorized},
		{"/debug/pprof/cmdline", "", http.StatusUnauthorized},
		{"/debug/pprof/", member, http.StatusForbidden},
		{"/debug/pprof/", analyst, http.StatusForbidden},
		{"/debug/pprof/", servertest.AdminToken, http.StatusOK},
	} {
		status, body := s.Do(t, "GET", tc.path, tc.token, nil)
		if status != tc.want {
			t.Errorf("GET %s with %.12q: %d, want %d", tc.path, tc.token, status, tc.want)
		}
		if status != http.StatusOK && strings.Contains(string(body), "council-a") {
			t.Errorf("GET %s refused but names a member: %s", tc.path, body)
		}
	}
	_, body := s.Do(t, "GET", "/metrics", servertest.AdminToken, nil)
	if !strings.Contains(string(body), "tarian_") {
		t.Errorf("/metrics with a token: no tarian series:\n%.500s", body)
	}

	diag := "http://" + s.DiagnosticsAddr()
	if s.DiagnosticsAddr() == "" {
		t.Fatal("no diagnostics listener")
	}
	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/goroutine?debug=1"} {
		resp, err := http.Get(diag + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("diagnostics GET %s: %d %s", path, resp.StatusCode, b)
		}
		if path == "/metrics" && !strings.Contains(string(b), "tarian_") {
			t.Errorf("diagnostics /metrics: no tarian series:\n%.500s", b)
		}
	}
	// The diagnostics listener serves nothing else.
	resp, err := http.Get(diag + "/api/v1/tenants")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("diagnostics GET /api/v1/tenants: %d, want 404", resp.StatusCode)
	}
}

// securityHeaders are the headers every API and console response carries.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
	"X-Content-Type-Options":  "nosniff",
	"Referrer-Policy":         "no-referrer",
	"X-Frame-Options":         "DENY",
}

func checkHeaders(t *testing.T, what string, h http.Header, hsts bool) {
	t.Helper()
	for k, v := range securityHeaders {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
	if got := h.Get("Strict-Transport-Security"); (got != "") != hsts {
		t.Errorf("%s: Strict-Transport-Security = %q, want it only under TLS (tls %v)", what, got, hsts)
	}
}

// TestSecurityHeaders: answers of every kind (ok, refused, not found,
// error) carry the headers; without TLS there is no HSTS.
func TestSecurityHeaders(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	for _, tc := range []struct{ method, path, token string }{
		{"GET", "/healthz", ""},
		{"GET", "/readyz", ""},
		{"GET", "/metrics", ""},
		{"GET", "/api/v1/tenants", ""},
		{"GET", "/api/v1/tenants", servertest.AdminToken},
		{"GET", "/api/v1/nothing", servertest.AdminToken},
		{"POST", "/api/v1/tenants", servertest.AdminToken}, // bad body
		{"GET", "/", ""},
	} {
		req, err := http.NewRequest(tc.method, s.URL+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		checkHeaders(t, tc.method+" "+tc.path, resp.Header, false)
	}
}

// TestAPITLS serves the API over HTTPS from certificate files: TLS 1.2 at
// least, HSTS, plain HTTP refused, and a renewed certificate served
// without a restart.
func TestAPITLS(t *testing.T) {
	dir := t.TempDir()
	first := tlsfiletest.Write(t, dir, "first")
	cfg := servertest.Config(t.TempDir())
	cfg.API.TLSCert, cfg.API.TLSKey = first.CertFile, first.KeyFile
	s := servertest.Start(t, cfg)
	if !strings.HasPrefix(s.URL, "https://") {
		t.Fatalf("URL %s, want https://", s.URL)
	}
	client := func(p tlsfiletest.Pair, max uint16) *http.Client {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.Pool, MinVersion: tls.VersionTLS10, MaxVersion: max}}}
	}
	s.Client = client(first, 0)
	status, _ := s.Do(t, "GET", "/api/v1/tenants", servertest.AdminToken, nil)
	if status != http.StatusOK {
		t.Fatalf("GET /api/v1/tenants over TLS: %d", status)
	}
	resp, err := s.Client.Get(s.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	checkHeaders(t, "GET /healthz over TLS", resp.Header, true)
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("TLS state %+v", resp.TLS)
	}

	if _, err := client(first, tls.VersionTLS11).Get(s.URL + "/healthz"); err == nil {
		t.Error("TLS 1.1 client accepted")
	}
	plain := "http://" + s.Addr()
	if resp, err := http.Get(plain + "/api/v1/tenants"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered 200 on the TLS listener")
		}
	}

	if testing.Short() {
		return
	}
	// Renew: the new pair is written over the files; within the reload
	// interval the server presents it.
	second := tlsfiletest.Write(t, dir, "second")
	for _, f := range [][2]string{{second.CertFile, first.CertFile}, {second.KeyFile, first.KeyFile}} {
		b, err := os.ReadFile(f[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f[1], b, 0o600); err != nil {
			t.Fatal(err)
		}
		later := time.Now().Add(time.Minute)
		if err := os.Chtimes(f[1], later, later); err != nil {
			t.Fatal(err)
		}
	}
	renewed := client(second, 0)
	renewed.Transport.(*http.Transport).DisableKeepAlives = true
	deadline := time.Now().Add(tlsfile.DefaultInterval + 5*time.Second)
	for {
		resp, err := renewed.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if got := resp.TLS.PeerCertificates[0].SerialNumber; got.Cmp(second.Cert.SerialNumber) != 0 {
				t.Fatalf("serial %s, want the renewed %s", got, second.Cert.SerialNumber)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("renewed certificate not served after %v: %v", tlsfile.DefaultInterval+5*time.Second, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
