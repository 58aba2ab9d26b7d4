package web

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"

	"github.com/tarian-soc/tarian/internal/auth"
)

// contentSecurityPolicy allows the console's own scripts, styles and
// images and nothing inline, framed or plugged in.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// secureHeaders sets the security headers every API and console response
// carries; Strict-Transport-Security only on a TLS connection, where a
// browser honours it. Cache-Control: no-store keeps answers (a session's
// CSRF token, a new token's secret, members' events and audit records) out
// of browser and proxy caches on shared SOC workstations; the console's
// own files set their cache rules over it (console.go).
func secureHeaders(h http.Header, tls bool) {
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	if tls {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// withHeaders wraps h with secureHeaders.
func withHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secureHeaders(w.Header(), r.TLS != nil)
		h.ServeHTTP(w, r)
	})
}

// getMetrics serves /metrics on the API listener to provider roles only:
// the exposition names every member and its volumes. A scraper uses a
// provider-analyst token, or the anonymous loopback listener
// (api.metrics_listen).
func (a *API) getMetrics(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if !p.Role.Provider() {
		return fmt.Errorf("%w: metrics are for provider roles", auth.ErrForbidden)
	}
	a.d.Metrics.ServeHTTP(w, r)
	return nil
}

// Diagnostics returns the handler of the loopback diagnostics listener
// (api.metrics_listen): /metrics and /debug/pprof/ without a token, since
// only processes on the host can reach it.
func (a *API) Diagnostics() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.d.Metrics)
	mux.HandleFunc("GET /debug/pprof/{name...}", func(w http.ResponseWriter, r *http.Request) {
		_ = a.getPprof(w, r, auth.Principal{Role: auth.RoleProviderAdmin})
	})
	return withHeaders(mux)
}

// validateTransport checks the TLS and diagnostics listener settings.
func (c Config) validateTransport() error {
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("tls_cert: tls_cert and tls_key go together")
	}
	if c.MetricsListen == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(c.MetricsListen)
	if err != nil {
		return fmt.Errorf("metrics_listen: %w", err)
	}
	if host == "localhost" {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
		return fmt.Errorf("metrics_listen: %q is not a loopback address (127.0.0.1, ::1 or localhost): the listener answers without a token", c.MetricsListen)
	}
	return nil
}
