package listener

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/ingest/ingesttest"
	"github.com/tarian-soc/tarian/internal/tenant"
)

func mustNew(t *testing.T, c Config, protocols ...string) *Listener {
	t.Helper()
	if err := c.Validate(protocols...); err != nil {
		t.Fatal(err)
	}
	l, err := New(c, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestSourceTenantMostSpecificPrefix(t *testing.T) {
	l := mustNew(t, Config{Protocol: "tcp", Listen: ":0", Sources: map[string]string{
		"10.0.0.0/8":          "alpha",
		"10.1.0.0/16":         "bravo",
		"10.1.2.3":            "charlie",
		"::ffff:10.9.0.0/112": "delta", // IPv4-mapped: the same as 10.9.0.0/16
		"2001:db8::/32":       "alpha",
	}}, "tcp")
	for _, tc := range []struct {
		addr string
		want tenant.ID
	}{
		{"10.200.0.1", "alpha"},
		{"10.1.9.9", "bravo"},
		{"10.1.2.3", "charlie"},
		{"::ffff:10.1.2.3", "charlie"},
		{"10.9.1.1", "delta"},
		{"2001:db8::1", "alpha"},
		{"192.0.2.1", ""},
		{"2001:db9::1", ""},
	} {
		got, ok := l.SourceTenant(netip.MustParseAddr(tc.addr))
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("SourceTenant(%s) = %q, %v; want %q", tc.addr, got, ok, tc.want)
		}
	}
}

func TestCertTenant(t *testing.T) {
	l := &Listener{clients: map[string]tenant.ID{
		"alpha.example": "alpha", "bravo-cn": "bravo", "bravo.example": "bravo", "charlie.example": "charlie",
	}}
	cert := func(cn string, dns ...string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn}, DNSNames: dns}
	}
	for _, tc := range []struct {
		name string
		c    *x509.Certificate
		want tenant.ID
	}{
		{"DNS SAN", cert("unknown", "other.example", "alpha.example"), "alpha"},
		{"subject CN", cert("bravo-cn"), "bravo"},
		{"SAN and CN agree", cert("bravo-cn", "bravo.example"), "bravo"},
		{"identities disagree", cert("bravo-cn", "charlie.example"), ""},
		{"unknown", cert("nobody", "nobody.example"), ""},
	} {
		got, ok := l.CertTenant(tc.c)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: CertTenant = %q, %v; want %q", tc.name, got, ok, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	tlsc := &TLSConfig{Cert: "c.pem", Key: "k.pem", ClientCA: "ca.pem"}
	for _, tc := range []struct {
		name      string
		c         Config
		protocols []string
		want      string // "" for valid
	}{
		{"tenant", Config{Protocol: "tcp", Listen: ":514", Tenant: "alpha"}, []string{"tcp", "tls"}, ""},
		{"sources", Config{Protocol: "udp", Listen: "0.0.0.0:514", Sources: map[string]string{"10.0.0.0/8": "alpha"}}, []string{"tcp", "udp", "tls"}, ""},
		{"tls clients", Config{Protocol: "tls", Listen: ":6514", TLS: &TLSConfig{Cert: "c", Key: "k", ClientCA: "ca", Clients: map[string]string{"a": "alpha"}}}, []string{"tcp", "tls"}, ""},
		{"protocol", Config{Protocol: "udp", Listen: ":514", Tenant: "alpha"}, []string{"tcp", "tls"}, `protocol: "udp" is not one of tcp, tls`},
		{"protocol list", Config{Protocol: "sctp", Listen: ":514", Tenant: "alpha"}, []string{"tcp", "udp", "tls"}, `protocol: "sctp" is not one of tcp, udp, tls`},
		{"listen", Config{Protocol: "tcp", Listen: "514", Tenant: "alpha"}, []string{"tcp"}, `listen: "514": `},
		{"bad tenant", Config{Protocol: "tcp", Listen: ":514", Tenant: "Not A Tenant"}, []string{"tcp"}, "tenant: "},
		{"bad source", Config{Protocol: "tcp", Listen: ":514", Sources: map[string]string{"nope": "alpha"}}, []string{"tcp"}, `sources: "nope": not an IP address or CIDR`},
		{"bad cidr", Config{Protocol: "tcp", Listen: ":514", Sources: map[string]string{"10.0.0.0/33": "alpha"}}, []string{"tcp"}, `sources: "10.0.0.0/33": `},
		{"source twice", Config{Protocol: "tcp", Listen: ":514", Sources: map[string]string{"10.0.0.1": "alpha", "10.0.0.1/32": "bravo"}}, []string{"tcp"}, "is listed twice"},
		{"source tenant", Config{Protocol: "tcp", Listen: ":514", Sources: map[string]string{"10.0.0.1": "Bad Tenant"}}, []string{"tcp"}, "sources: 10.0.0.1: "},
		{"tls files", Config{Protocol: "tls", Listen: ":6514", Tenant: "alpha", TLS: &TLSConfig{Cert: "c"}}, []string{"tcp", "tls"}, "tls: cert, key and client_ca are required for protocol tls"},
		{"tls missing", Config{Protocol: "tls", Listen: ":6514", Tenant: "alpha"}, []string{"tcp", "tls"}, "tls: cert, key and client_ca are required"},
		{"tls on tcp", Config{Protocol: "tcp", Listen: ":514", Tenant: "alpha", TLS: tlsc}, []string{"tcp", "tls"}, "tls: only for protocol tls, not tcp"},
		{"empty identity", Config{Protocol: "tls", Listen: ":6514", TLS: &TLSConfig{Cert: "c", Key: "k", ClientCA: "ca", Clients: map[string]string{"": "alpha"}}}, []string{"tls"}, "tls.clients: empty certificate identity"},
		{"identity tenant", Config{Protocol: "tls", Listen: ":6514", TLS: &TLSConfig{Cert: "c", Key: "k", ClientCA: "ca", Clients: map[string]string{"a": "Bad"}}}, []string{"tls"}, "tls.clients[a]: "},
		{"no tenant", Config{Protocol: "tcp", Listen: ":514"}, []string{"tcp"}, "tenant: one of tenant or sources is required"},
		{"no tenant tls", Config{Protocol: "tls", Listen: ":6514", TLS: tlsc}, []string{"tls"}, "tenant: one of tenant, sources or tls.clients is required"},
		{"two rules", Config{Protocol: "tcp", Listen: ":514", Tenant: "alpha", Sources: map[string]string{"10.0.0.1": "bravo"}}, []string{"tcp"}, "tenant: set only one of tenant, sources and tls.clients"},
	} {
		err := tc.c.Validate(tc.protocols...)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want) && !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestAddressAndTenants(t *testing.T) {
	if got := (Config{Listen: ":514"}).Address(); got != "127.0.0.1:514" {
		t.Errorf("Address of :514 = %q, want 127.0.0.1:514", got)
	}
	if got := (Config{Listen: "0.0.0.0:514"}).Address(); got != "0.0.0.0:514" {
		t.Errorf("Address of 0.0.0.0:514 = %q", got)
	}
	c := Config{Tenant: "alpha", Sources: map[string]string{"10.0.0.1": "bravo"}, TLS: &TLSConfig{Clients: map[string]string{"x": "charlie"}}}
	got := strings.Join(c.Tenants(), ",")
	for _, want := range []string{"alpha", "bravo", "charlie"} {
		if !strings.Contains(got, want) {
			t.Errorf("Tenants() = %s, missing %s", got, want)
		}
	}
}

func TestNewTLSErrors(t *testing.T) {
	ca := ingesttest.NewPKI(t, "test CA")
	cert, key := ca.Issue(t, "localhost", []string{"localhost"}, nil, x509.ExtKeyUsageServerAuth)
	notPEM := filepath.Join(t.TempDir(), "empty.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tls  TLSConfig
		want string
	}{
		{TLSConfig{Cert: "/nonexistent.pem", Key: key, ClientCA: ca.CAFile}, "tls: cert, key: "},
		{TLSConfig{Cert: cert, Key: key, ClientCA: "/nonexistent.pem"}, "tls: client_ca: "},
		{TLSConfig{Cert: cert, Key: key, ClientCA: notPEM}, "tls: client_ca: no PEM certificate in "},
	} {
		c := Config{Protocol: "tls", Listen: ":0", Tenant: "alpha", TLS: &tc.tls}
		if _, err := New(c, slog.New(slog.DiscardHandler)); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want %q", tc.tls, err, tc.want)
		}
	}
}

// serve runs Accept on a fresh 127.0.0.1 socket, authenticating every
// connection with l; each outcome is sent on the returned channel.
type outcome struct {
	tenant tenant.ID
	err    error
}

func serve(t *testing.T, l *Listener) (string, <-chan outcome) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan outcome, 16)
	var wg sync.WaitGroup
	wg.Go(func() {
		Accept(ctx, ln, &wg, slog.New(slog.DiscardHandler), "test", func(c net.Conn) {
			defer c.Close()
			c, tn, err := l.Authenticate(ctx, c)
			if err == nil {
				_, _ = c.Write([]byte("ok"))
			}
			out <- outcome{tn, err}
		})
	})
	t.Cleanup(func() {
		cancel()
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String(), out
}

func result(t *testing.T, out <-chan outcome) outcome {
	t.Helper()
	select {
	case o := <-out:
		return o
	case <-time.After(10 * time.Second):
		t.Fatal("no connection authenticated")
		return outcome{}
	}
}

func wantRefused(t *testing.T, o outcome, reason string) {
	t.Helper()
	var re *RefusedError
	if !errors.As(o.err, &re) || !strings.Contains(re.Reason, reason) {
		t.Errorf("got tenant %q, err %v; want refused: %s", o.tenant, o.err, reason)
	}
}

// TestAuthenticateSources: a connection from an allow-listed address gets
// its tenant; one from elsewhere is refused before a byte is read.
func TestAuthenticateSources(t *testing.T) {
	addr, out := serve(t, mustNew(t, Config{Protocol: "tcp", Listen: ":0", Sources: map[string]string{"127.0.0.2": "alpha", "127.0.0.0/8": "bravo"}}, "tcp"))
	dial := func(local string) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Skipf("cannot dial from %s on this host: %v", local, err)
		}
		t.Cleanup(func() { c.Close() })
	}
	dial("127.0.0.2")
	if o := result(t, out); o.err != nil || o.tenant != "alpha" {
		t.Errorf("from 127.0.0.2: %q, %v; want alpha", o.tenant, o.err)
	}
	dial("127.0.0.1")
	if o := result(t, out); o.err != nil || o.tenant != "bravo" {
		t.Errorf("from 127.0.0.1: %q, %v; want bravo", o.tenant, o.err)
	}

	addr, out = serve(t, mustNew(t, Config{Protocol: "tcp", Listen: ":0", Sources: map[string]string{"10.0.0.0/8": "alpha"}}, "tcp"))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wantRefused(t, result(t, out), "source address not allow-listed")
}

// TestAuthenticateCertificates: over real TLS, a client certificate names
// its tenant; an unknown identity, a certificate of another CA and no
// certificate at all are refused.
func TestAuthenticateCertificates(t *testing.T) {
	ca := ingesttest.NewPKI(t, "members CA")
	other := ingesttest.NewPKI(t, "other CA")
	srvCert, srvKey := ca.Issue(t, "localhost", []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, x509.ExtKeyUsageServerAuth)
	l := mustNew(t, Config{Protocol: "tls", Listen: ":0", TLS: &TLSConfig{
		Cert: srvCert, Key: srvKey, ClientCA: ca.CAFile,
		Clients: map[string]string{"alpha.example": "alpha", "bravo": "bravo"},
	}}, "tcp", "tls")
	addr, out := serve(t, l)
	roots := x509.NewCertPool()
	pemCA, err := os.ReadFile(ca.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots.AppendCertsFromPEM(pemCA)
	connect := func(p *ingesttest.PKI, cn string, dns ...string) {
		cfg := &tls.Config{RootCAs: roots, ServerName: "localhost"}
		if p != nil {
			cf, kf := p.Issue(t, cn, dns, nil, x509.ExtKeyUsageClientAuth)
			cert, err := tls.LoadX509KeyPair(cf, kf)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		c, err := tls.Dial("tcp", addr, cfg)
		if err != nil {
			return // the server refused in the handshake; the outcome says why
		}
		defer c.Close()
		_, _ = io.ReadAll(c)
	}
	connect(ca, "someone", "alpha.example")
	if o := result(t, out); o.err != nil || o.tenant != "alpha" {
		t.Errorf("alpha.example: %q, %v; want alpha", o.tenant, o.err)
	}
	connect(ca, "bravo")
	if o := result(t, out); o.err != nil || o.tenant != "bravo" {
		t.Errorf("CN bravo: %q, %v; want bravo", o.tenant, o.err)
	}
	connect(ca, "mallory", "mallory.example")
	wantRefused(t, result(t, out), `client certificate "mallory" maps to no tenant`)
	connect(other, "bravo")
	wantRefused(t, result(t, out), "TLS handshake: ")
	connect(nil, "")
	wantRefused(t, result(t, out), "TLS handshake: ")
}

// TestAuthenticateListenerTenant: a TLS listener with its own tenant takes
// any certificate of its CA.
func TestAuthenticateListenerTenant(t *testing.T) {
	ca := ingesttest.NewPKI(t, "members CA")
	srvCert, srvKey := ca.Issue(t, "localhost", []string{"localhost"}, nil, x509.ExtKeyUsageServerAuth)
	addr, out := serve(t, mustNew(t, Config{Protocol: "tls", Listen: ":0", Tenant: "charlie", TLS: &TLSConfig{Cert: srvCert, Key: srvKey, ClientCA: ca.CAFile}}, "tls"))
	cf, kf := ca.Issue(t, "anyone", nil, nil, x509.ExtKeyUsageClientAuth)
	cert, err := tls.LoadX509KeyPair(cf, kf)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	b, _ := os.ReadFile(ca.CAFile)
	roots.AppendCertsFromPEM(b)
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if o := result(t, out); o.err != nil || o.tenant != "charlie" {
		t.Errorf("got %q, %v; want charlie", o.tenant, o.err)
	}
}
