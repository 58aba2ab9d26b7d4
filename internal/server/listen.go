package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/tarian-soc/tarian/internal/tlsfile"
)

// apiTLS loads the API's certificate pair (api.tls_cert, api.tls_key),
// reloaded on change; nil when TLS is off.
func (s *Server) apiTLS() (*tls.Config, error) {
	if s.cfg.API.TLSCert == "" {
		return nil, nil
	}
	c, err := tlsfile.ServerConfig(s.cfg.API.TLSCert, s.cfg.API.TLSKey, s.log.With("component", "api"))
	if err != nil {
		return nil, fmt.Errorf("api.tls_cert: %w", err)
	}
	return c, nil
}

// serveHTTP serves hs on ln, over TLS when hs has a TLS configuration.
func serveHTTP(hs *http.Server, ln net.Listener) error {
	var err error
	if hs.TLSConfig != nil {
		err = hs.ServeTLS(ln, "", "")
	} else {
		err = hs.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// diagnostics starts the loopback listener for /metrics and /debug/pprof/
// (api.metrics_listen), sending its serve error to errc; it returns the
// server to shut down, or nil when the listener is not configured.
func (s *Server) diagnostics(errc chan<- error) (*http.Server, error) {
	if s.cfg.API.MetricsListen == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", s.cfg.API.MetricsListen)
	if err != nil {
		return nil, fmt.Errorf("api.metrics_listen %s: %w", s.cfg.API.MetricsListen, err)
	}
	s.diagAddr.Store(ln.Addr().String())
	hs := &http.Server{Handler: s.api.Diagnostics(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	go func() {
		if err := serveHTTP(hs, ln); err != nil {
			errc <- fmt.Errorf("metrics listener: %w", err)
		}
	}()
	s.log.Info("diagnostics listening", "addr", ln.Addr().String())
	return hs, nil
}

// DiagnosticsAddr returns the loopback diagnostics listener's address once
// Run is listening, or "" when it is not configured.
func (s *Server) DiagnosticsAddr() string {
	a, _ := s.diagAddr.Load().(string)
	return a
}

// URL returns the API's base URL (https:// under TLS) once Run is
// listening, or "".
func (s *Server) URL() string {
	a := s.Addr()
	switch {
	case a == "":
		return ""
	case s.cfg.API.TLSCert != "":
		return "https://" + a
	}
	return "http://" + a
}

// shutdownHTTP shuts hs down if it is not nil.
func (s *Server) shutdownHTTP(ctx context.Context, hs *http.Server, name string) {
	if hs == nil {
		return
	}
	if err := hs.Shutdown(ctx); err != nil {
		s.log.Warn("http shutdown", "listener", name, "err", err)
	}
}
