// Package tlsfile serves a certificate and key read from files, and
// re-reads them when they change, so a renewed certificate takes effect
// without a restart. Every TLS listener in Tarian (the API and the
// receivers) uses it, with TLS 1.2 as the minimum version.
package tlsfile

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// DefaultInterval is how often, at most, the files' modification times
// are checked.
const DefaultInterval = 5 * time.Second

// Cert is a certificate pair loaded from files and reloaded on change.
type Cert struct {
	certFile, keyFile string
	log               *slog.Logger
	interval          time.Duration
	now               func() time.Time

	mu      sync.Mutex
	cert    *tls.Certificate
	certMod time.Time
	keyMod  time.Time
	checked time.Time
}

// Load reads the pair from certFile and keyFile; a later change to
// either file is picked up by the next handshake after at most
// DefaultInterval. A changed pair that fails to load keeps the old one
// and logs a warning to log.
func Load(certFile, keyFile string, log *slog.Logger) (*Cert, error) {
	c := &Cert{certFile: certFile, keyFile: keyFile, log: log, interval: DefaultInterval, now: time.Now}
	cm, km, err := c.modTimes()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load %s, %s: %w", certFile, keyFile, err)
	}
	c.cert, c.certMod, c.keyMod, c.checked = &cert, cm, km, c.now()
	return c, nil
}

func (c *Cert) modTimes() (cert, key time.Time, err error) {
	ci, err := os.Stat(c.certFile)
	if err != nil {
		return cert, key, fmt.Errorf("certificate: %w", err)
	}
	ki, err := os.Stat(c.keyFile)
	if err != nil {
		return cert, key, fmt.Errorf("key: %w", err)
	}
	return ci.ModTime(), ki.ModTime(), nil
}

// Certificate returns the current certificate, first re-reading the files
// if the interval has passed and either file's modification time changed.
// Its signature is tls.Config's GetCertificate.
func (c *Cert) Certificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if now.Sub(c.checked) < c.interval {
		return c.cert, nil
	}
	c.checked = now
	cm, km, err := c.modTimes()
	if err != nil {
		c.log.Warn("tls certificate not reloaded: keeping the previous one", "cert_file", c.certFile, "err", err)
		return c.cert, nil
	}
	if cm.Equal(c.certMod) && km.Equal(c.keyMod) {
		return c.cert, nil
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		// The files may be mid-rotation (certificate written, key not
		// yet): leave the times alone so the next check tries again.
		c.log.Warn("tls certificate not reloaded: keeping the previous one", "cert_file", c.certFile, "err", err)
		return c.cert, nil
	}
	c.cert, c.certMod, c.keyMod = &cert, cm, km
	c.log.Info("tls certificate reloaded", "cert_file", c.certFile)
	return c.cert, nil
}

// Config returns a server configuration serving c with TLS 1.2 as the
// minimum version.
func (c *Cert) Config() *tls.Config {
	return &tls.Config{GetCertificate: c.Certificate, MinVersion: tls.VersionTLS12}
}

// ServerConfig loads certFile and keyFile and returns a server
// configuration that reloads them on change (see Load).
func ServerConfig(certFile, keyFile string, log *slog.Logger) (*tls.Config, error) {
	c, err := Load(certFile, keyFile, log)
	if err != nil {
		return nil, err
	}
	return c.Config(), nil
}
