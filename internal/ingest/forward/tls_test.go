package forward

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/ingest/ingesttest"
	"github.com/tarian-soc/tarian/internal/ingest/listener"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// tlsSetup is a TLS listener whose client certificates map to alpha
// (by CN) and bravo (by DNS SAN), and the certificates to test it with.
type tlsSetup struct {
	ca                         *ingesttest.PKI
	cfg                        Config
	alpha, bravo, stray, other [2]string // cert, key
}

func newTLSSetup(t testing.TB) *tlsSetup {
	t.Helper()
	ca := ingesttest.NewPKI(t, "Members CA")
	srvCert, srvKey := ca.Issue(t, "tarian.example", nil, []net.IP{net.IPv4(127, 0, 0, 1)}, x509.ExtKeyUsageServerAuth)
	s := &tlsSetup{ca: ca}
	s.alpha[0], s.alpha[1] = ca.Issue(t, "fb.alpha.example", nil, nil, x509.ExtKeyUsageClientAuth)
	s.bravo[0], s.bravo[1] = ca.Issue(t, "relay", []string{"fb.bravo.example"}, nil, x509.ExtKeyUsageClientAuth)
	s.stray[0], s.stray[1] = ca.Issue(t, "fb.nobody.example", nil, nil, x509.ExtKeyUsageClientAuth)
	rogue := ingesttest.NewPKI(t, "Rogue CA")
	s.other[0], s.other[1] = rogue.Issue(t, "fb.alpha.example", nil, nil, x509.ExtKeyUsageClientAuth)
	s.cfg = DefaultConfig()
	s.cfg.Listeners = []Listener{{Config: listener.Config{Protocol: "tls", Listen: "127.0.0.1:0", TLS: &TLSConfig{
		Cert: srvCert, Key: srvKey, ClientCA: ca.CAFile,
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
	pool := s.ca.Pool()
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
	ingesttest.WaitFor(t, 5*time.Second, "two refusals", func() bool { return sink.Counted(MetricRefused, "") == 2 })
	for _, tn := range []string{"alpha", "bravo"} {
		if got := sink.data(tenant.ID(tn)); len(got) != 1 || got[0] != `{"who":"`+tn+`","@timestamp":"2024-05-01T10:22:33Z","fluent.tag":"tls"}` {
			t.Errorf("%s: %q", tn, got)
		}
	}
	if sink.Total() != 2 {
		t.Errorf("%d records stored, want 2", sink.Total())
	}
}
