package forward

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/ingest/listener"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// pki is a test CA and the files of certificates it issued.
type pki struct {
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newPKI(t testing.TB, name string) *pki {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	p := &pki{dir: t.TempDir(), cert: cert, key: key}
	p.write(t, "ca.pem", "CERTIFICATE", der)
	return p
}

func (p *pki) write(t testing.TB, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// issue makes a certificate for cn (and dns names) and returns the paths
// of its certificate and key.
func (p *pki) issue(t testing.TB, cn string, server bool, dns ...string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     dns,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return p.write(t, cn+".pem", "CERTIFICATE", der), p.write(t, cn+".key", "EC PRIVATE KEY", kder)
}

// tlsSetup is a TLS listener whose client certificates map to alpha
// (by CN) and bravo (by DNS SAN), and the certificates to test it with.
type tlsSetup struct {
	ca                         *pki
	cfg                        Config
	alpha, bravo, stray, other [2]string // cert, key
}

func newTLSSetup(t testing.TB) *tlsSetup {
	t.Helper()
	ca := newPKI(t, "Members CA")
	srvCert, srvKey := ca.issue(t, "tarian.example", true)
	s := &tlsSetup{ca: ca}
	s.alpha[0], s.alpha[1] = ca.issue(t, "fb.alpha.example", false)
	s.bravo[0], s.bravo[1] = ca.issue(t, "relay", false, "fb.bravo.example")
	s.stray[0], s.stray[1] = ca.issue(t, "fb.nobody.example", false)
	rogue := newPKI(t, "Rogue CA")
	s.other[0], s.other[1] = rogue.issue(t, "fb.alpha.example", false)
	s.cfg = DefaultConfig()
	s.cfg.Listeners = []Listener{{Config: listener.Config{Protocol: "tls", Listen: "127.0.0.1:0", TLS: &TLSConfig{
		Cert: srvCert, Key: srvKey, ClientCA: filepath.Join(ca.dir, "ca.pem"),
		Clients: map[string]string{"fb.alpha.example": "alpha", "fb.bravo.example": "bravo"},
	}}}}
	return s
}

// TestTLSClientCertificates sends over Go's TLS client with each
// certificate: the identity decides the tenant; an unmapped identity and a
// certificate from another CA are refused, nothing stored.
func TestTLSClientCertificates(t *testing.T) {
	s := newTLSSetup(t)
	r, sink := start(t, s.cfg)
	pool := x509.NewCertPool()
	pool.AddCert(s.ca.cert)
	send := func(pair [2]string, who string) error {
		cert, err := tls.LoadX509KeyPair(pair[0], pair[1])
		if err != nil {
			t.Fatal(err)
		}
		c, err := tls.Dial("tcp", r.Addrs()[0].String(), &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, ServerName: "127.0.0.1"})
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := c.Write(pack(t, []any{"tls", 1714558953, map[string]any{"who": who}, map[string]any{"chunk": who}})); err != nil {
			return err
		}
		_, err = readAck(t, c, 5*time.Second)
		return err
	}
	if err := send(s.alpha, "alpha"); err != nil {
		t.Fatalf("alpha: %v", err)
	}
	if err := send(s.bravo, "bravo"); err != nil {
		t.Fatalf("bravo: %v", err)
	}
	if err := send(s.stray, "stray"); err == nil {
		t.Error("an unmapped certificate got an ack")
	}
	if err := send(s.other, "rogue"); err == nil {
		t.Error("a certificate from another CA got an ack")
	}
	waitFor(t, 5*time.Second, "two refusals", func() bool { return sink.Counted(MetricRefused, "") == 2 })
	for _, tn := range []string{"alpha", "bravo"} {
		if got := sink.data(tenant.ID(tn)); len(got) != 1 || got[0] != `{"who":"`+tn+`","@timestamp":"2024-05-01T10:22:33Z","fluent.tag":"tls"}` {
			t.Errorf("%s: %q", tn, got)
		}
	}
	if sink.Total() != 2 {
		t.Errorf("%d records stored, want 2", sink.Total())
	}
}
