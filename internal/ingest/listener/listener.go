package listener

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
	"github.com/tarian-soc/tarian/internal/tlsfile"
)

const (
	// handshakeTimeout bounds a TLS handshake.
	handshakeTimeout = 10 * time.Second
	minBackoff       = 5 * time.Millisecond
	maxBackoff       = time.Second
)

// Listener is a validated Config ready to serve: its allow-list parsed and
// its TLS files loaded.
type Listener struct {
	Config
	tenant  tenant.ID
	sources []source
	tls     *tls.Config
	clients map[string]tenant.ID
}

// New loads c's TLS files; c must have passed Validate. The certificate
// and key are re-read when they change (package tlsfile), with warnings
// to log. Errors name the key under the listener ("tls: client_ca: ...").
func New(c Config, log *slog.Logger) (*Listener, error) {
	sources, err := parseSources(c.Sources)
	if err != nil {
		return nil, fmt.Errorf("sources: %w", err)
	}
	l := &Listener{Config: c, tenant: tenant.ID(c.Tenant), sources: sources}
	if c.Protocol == "tls" {
		if c.TLS == nil {
			return nil, errors.New("tls: cert, key and client_ca are required for protocol tls")
		}
		if l.tls, err = loadTLS(c.TLS, log); err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		l.clients = map[string]tenant.ID{}
		for id, t := range c.TLS.Clients {
			l.clients[id] = tenant.ID(t)
		}
	}
	return l, nil
}

func loadTLS(c *TLSConfig, log *slog.Logger) (*tls.Config, error) {
	cert, err := tlsfile.Load(c.Cert, c.Key, log)
	if err != nil {
		return nil, fmt.Errorf("cert, key: %w", err)
	}
	pem, err := os.ReadFile(c.ClientCA)
	if err != nil {
		return nil, fmt.Errorf("client_ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("client_ca: no PEM certificate in %s", c.ClientCA)
	}
	cfg := cert.Config() // TLS 1.2 minimum
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	cfg.ClientCAs = pool
	return cfg, nil
}

// RemoteAddr is a sender's address (TCP or UDP), IPv4 unmapped; the zero
// Addr for any other kind.
func RemoteAddr(a net.Addr) netip.Addr {
	var ap netip.AddrPort
	switch a := a.(type) {
	case *net.TCPAddr:
		ap = a.AddrPort()
	case *net.UDPAddr:
		ap = a.AddrPort()
	}
	return ap.Addr().Unmap()
}

// HasSources reports whether the listener allow-lists sender addresses.
func (l *Listener) HasSources() bool { return len(l.sources) > 0 }

// SourceTenant finds the tenant of an allow-listed address: the most
// specific listed prefix that contains it.
func (l *Listener) SourceTenant(a netip.Addr) (tenant.ID, bool) {
	a = a.Unmap()
	for _, s := range l.sources {
		if s.prefix.Contains(a) {
			return s.tenant, true
		}
	}
	return "", false
}

// CertTenant finds the tenant of a verified client certificate: its DNS
// SANs, then its subject CN. Identities that name different tenants are
// refused.
func (l *Listener) CertTenant(c *x509.Certificate) (tenant.ID, bool) {
	var found tenant.ID
	for _, id := range append(append([]string(nil), c.DNSNames...), c.Subject.CommonName) {
		if t, ok := l.clients[id]; ok {
			if found != "" && found != t {
				return "", false
			}
			found = t
		}
	}
	return found, found != ""
}

// RefusedError is a sender the listener will not serve: its address is not
// allow-listed, its TLS handshake failed, or it maps to no tenant.
type RefusedError struct {
	Reason string
}

func (e *RefusedError) Error() string { return e.Reason }

// Authenticate finds the tenant of an accepted connection. On a TLS
// listener it completes the handshake (bounded, and cut short when ctx is
// done) and returns the TLS connection to read from. A sender that has no
// tenant gets a *RefusedError; the caller closes c.
func (l *Listener) Authenticate(ctx context.Context, c net.Conn) (net.Conn, tenant.ID, error) {
	t := l.tenant
	if len(l.sources) > 0 {
		var ok bool
		if t, ok = l.SourceTenant(RemoteAddr(c.RemoteAddr())); !ok {
			return c, "", &RefusedError{"source address not allow-listed"}
		}
	}
	if l.tls != nil {
		tc := tls.Server(c, l.tls)
		c = tc
		hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			return c, "", &RefusedError{"TLS handshake: " + err.Error()}
		}
		if len(l.clients) > 0 {
			certs := tc.ConnectionState().PeerCertificates
			var ok bool
			if len(certs) > 0 {
				t, ok = l.CertTenant(certs[0])
			}
			if !ok {
				name := ""
				if len(certs) > 0 {
					name = certs[0].Subject.CommonName
				}
				return c, "", &RefusedError{fmt.Sprintf("client certificate %q maps to no tenant", name)}
			}
		}
	}
	if t == "" {
		return c, "", &RefusedError{"no tenant"}
	}
	return c, t, nil
}

// Accept serves each connection of ln with serve, in its own goroutine
// counted in wg, until ln is closed or ctx is done. Accept errors (out of
// file descriptors and the like) are logged as "<receiver> accept" and
// retried after a growing pause, as net/http does.
func Accept(ctx context.Context, ln net.Listener, wg *sync.WaitGroup, log *slog.Logger, receiver string, serve func(net.Conn)) {
	delay := minBackoff
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			log.Warn(receiver+" accept", "receiver", receiver, "err", err)
			time.Sleep(delay)
			delay = min(2*delay, maxBackoff)
			continue
		}
		delay = minBackoff
		wg.Go(func() { serve(c) })
	}
}
