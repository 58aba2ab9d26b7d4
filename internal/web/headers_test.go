package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/auth"
)

func TestValidateTransport(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string // error prefix; "" for none
	}{
		{Config{}, ""},
		{Config{TLSCert: "c.pem", TLSKey: "k.pem"}, ""},
		{Config{TLSCert: "c.pem"}, "tls_cert: "},
		{Config{TLSKey: "k.pem"}, "tls_cert: "},
		{Config{MetricsListen: "127.0.0.1:9090"}, ""},
		{Config{MetricsListen: "127.0.0.2:0"}, ""},
		{Config{MetricsListen: "[::1]:9090"}, ""},
		{Config{MetricsListen: "localhost:9090"}, ""},
		{Config{MetricsListen: ":9090"}, "metrics_listen: "},
		{Config{MetricsListen: "0.0.0.0:9090"}, "metrics_listen: "},
		{Config{MetricsListen: "[::]:9090"}, "metrics_listen: "},
		{Config{MetricsListen: "10.0.0.1:9090"}, "metrics_listen: "},
		{Config{MetricsListen: "metrics.example:9090"}, "metrics_listen: "},
		{Config{MetricsListen: "127.0.0.1"}, "metrics_listen: "},
	} {
		err := tc.cfg.validateTransport()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestBearer(t *testing.T) {
	for _, tc := range []struct {
		header, secret string
		ok             bool
	}{
		{"Bearer trn_abc", "trn_abc", true},
		{"bearer  trn_abc ", "trn_abc", true},
		{"BEARER trn_abc", "trn_abc", true},
		{"", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Basic dXNlcjpwYXNz", "", false},
		{"Bearertrn_abc", "", false},
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", tc.header)
		secret, ok := bearer(r)
		if secret != tc.secret || ok != tc.ok {
			t.Errorf("bearer(%q) = %q, %v; want %q, %v", tc.header, secret, ok, tc.secret, tc.ok)
		}
	}
}

// FuzzBearer: the bearer-header parser never panics, and a secret it
// returns is non-empty, trimmed, and taken from the header.
func FuzzBearer(f *testing.F) {
	for _, s := range []string{"Bearer trn_abc", "bearer x", "Basic x", "", " ", "Bearer \t", "Bearer a b", "Bearer\x00x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		r := &http.Request{Header: http.Header{"Authorization": {h}}}
		secret, ok := bearer(r)
		if !ok {
			if secret != "" {
				t.Fatalf("bearer(%q) refused but returned %q", h, secret)
			}
			return
		}
		if secret == "" || secret != strings.TrimSpace(secret) || !strings.Contains(h, secret) {
			t.Fatalf("bearer(%q) = %q", h, secret)
		}
		if scheme, _, _ := strings.Cut(h, " "); !strings.EqualFold(scheme, "Bearer") {
			t.Fatalf("bearer(%q) accepted scheme %q", h, scheme)
		}
	})
}

func TestSecureHeaders(t *testing.T) {
	for _, tls := range []bool{false, true} {
		h := http.Header{}
		secureHeaders(h, tls)
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("CSP %q allows inline script", csp)
		}
		if got := h.Get("Strict-Transport-Security") != ""; got != tls {
			t.Errorf("tls %v: HSTS present %v", tls, got)
		}
	}
}

// TestAPIAnswersAreNotCached: an API answer (here the login's, with the
// session's CSRF token) says no-store; the console's files keep their own
// cache rules.
func TestAPIAnswersAreNotCached(t *testing.T) {
	w := newAcctWorld(t, nil)
	w.addUser(t, "alice", "council-a", auth.RoleTenantAnalyst, pw, false)
	a, s := w.login(t, "alice", pw, "", "")
	if got := a.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("login answer Cache-Control %q; want no-store", got)
	}
	if got := w.do(t, "GET", "/api/v1/session", nil, s).header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("GET /api/v1/session Cache-Control %q; want no-store", got)
	}
	if got := w.do(t, "GET", "/no-such-endpoint-here", nil, req{}).header.Get("Cache-Control"); got != cacheIndex {
		t.Errorf("console page Cache-Control %q; want %q", got, cacheIndex)
	}
}

// TestStoreUnavailableIs503: a credential the state store could not check
// is answered 503 with Retry-After, and the store's own error (addresses,
// user names) stays out of the answer.
func TestStoreUnavailableIs503(t *testing.T) {
	rec := httptest.NewRecorder()
	writeError(rec, fmt.Errorf("%w: look up token: failed to connect to `user=tarian database=tarian`: 10.0.0.5:5432", auth.ErrUnavailable))
	body := rec.Body.String()
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || !strings.Contains(body, `"unavailable"`) ||
		strings.Contains(body, "10.0.0.5") || strings.Contains(body, "user=tarian") {
		t.Fatalf("%d %v %s", rec.Code, rec.Header(), body)
	}
}
