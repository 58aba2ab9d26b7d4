package tlsfile

import (
	"bytes"
	"crypto/tls"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/tlsfile/tlsfiletest"
)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func serial(t *testing.T, c *Cert) string {
	t.Helper()
	cert, err := c.Certificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	return cert.Leaf.SerialNumber.String()
}

// replace copies src's pair over dst's files with a later modification time.
func replace(t *testing.T, dst, src tlsfiletest.Pair, at time.Time) {
	t.Helper()
	for _, f := range [][2]string{{src.CertFile, dst.CertFile}, {src.KeyFile, dst.KeyFile}} {
		b, err := os.ReadFile(f[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f[1], b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f[1], at, at); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	first := tlsfiletest.Write(t, dir, "first")
	second := tlsfiletest.Write(t, dir, "second")
	var logs bytes.Buffer
	c, err := Load(first.CertFile, first.KeyFile, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Now()}
	c.now = clk.Now
	c.checked = clk.Now()
	want := first.Cert.SerialNumber.String()
	if got := serial(t, c); got != want {
		t.Fatalf("serial %s, want the first %s", got, want)
	}

	// A new pair is not looked for before the interval has passed.
	replace(t, first, second, time.Now().Add(time.Minute))
	if got := serial(t, c); got != want {
		t.Errorf("within the interval: serial %s, want still %s", got, want)
	}
	clk.Add(DefaultInterval)
	want = second.Cert.SerialNumber.String()
	if got := serial(t, c); got != want {
		t.Errorf("after the interval: serial %s, want the new %s", got, want)
	}
	if !strings.Contains(logs.String(), "tls certificate reloaded") {
		t.Errorf("no reload logged: %s", logs.String())
	}

	// A broken new pair keeps the old certificate and warns.
	if err := os.WriteFile(first.KeyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(2 * time.Minute)
	if err := os.Chtimes(first.KeyFile, later, later); err != nil {
		t.Fatal(err)
	}
	clk.Add(DefaultInterval)
	if got := serial(t, c); got != want {
		t.Errorf("broken pair: serial %s, want the kept %s", got, want)
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("no warning for the broken pair: %s", logs.String())
	}
	// Once fixed, the next check loads it.
	replace(t, first, tlsfiletest.Write(t, dir, "third"), time.Now().Add(3*time.Minute))
	clk.Add(DefaultInterval)
	if got := serial(t, c); got == want {
		t.Error("fixed pair not loaded")
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	p := tlsfiletest.Write(t, dir, "p")
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct{ cert, key string }{
		{filepath.Join(dir, "missing.crt"), p.KeyFile},
		{p.CertFile, filepath.Join(dir, "missing.key")},
		{p.CertFile, p.CertFile},
	} {
		if _, err := Load(tc.cert, tc.key, log); err == nil {
			t.Errorf("Load(%s, %s): no error", tc.cert, tc.key)
		}
	}
}

func TestMinVersion(t *testing.T) {
	dir := t.TempDir()
	p := tlsfiletest.Write(t, dir, "p")
	cfg, err := ServerConfig(p.CertFile, p.KeyFile, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _ = c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	for _, tc := range []struct {
		max uint16
		ok  bool
	}{{tls.VersionTLS11, false}, {tls.VersionTLS12, true}, {tls.VersionTLS13, true}} {
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: p.Pool, MinVersion: tls.VersionTLS10, MaxVersion: tc.max})
		if (err == nil) != tc.ok {
			t.Errorf("client max version %x: err %v, want ok=%v", tc.max, err, tc.ok)
		}
		if err == nil {
			c.Close()
		}
	}
}
