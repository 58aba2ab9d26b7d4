package syslog

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/ingest/ingesttest"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// memSink is the shared in-memory pipeline boundary, with this package's
// view of its records.
type memSink struct{ *ingesttest.Sink }

func newMemSink() *memSink { return &memSink{ingesttest.NewSink()} }

// messages returns tenant t's records as strings.
func (s *memSink) messages(t tenant.ID) []string {
	var out []string
	for _, r := range s.Records(t) {
		out = append(out, string(r.Data))
	}
	return out
}

var testTenants = ingesttest.TenantList{"alpha", "bravo", "charlie", "delta"}

// start runs a receiver for cfg until the test ends and returns it with
// its sink.
func start(t testing.TB, cfg Config) (*Receiver, *memSink) {
	t.Helper()
	sink := newMemSink()
	r, err := New(cfg, ingest.Deps{Sink: sink, DeadLetters: sink, Tenants: testTenants, Metrics: sink})
	if err != nil {
		t.Fatal(err)
	}
	ingesttest.Serve(t, r, len(cfg.Listeners))
	return r, sink
}

func config(ls ...Listener) Config {
	c := DefaultConfig()
	c.MaxMessageBytes = 1024
	c.BatchWait = 5 * time.Millisecond
	c.Listeners = ls
	return c
}

// send writes data on a TCP connection from local (an address on lo,
// empty for any) and closes it.
func send(t testing.TB, addr net.Addr, local string, data string) {
	t.Helper()
	d := net.Dialer{}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	c, err := d.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
}

func TestTCPFramings(t *testing.T) {
	r, sink := start(t, config(Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "alpha"}))
	addr := r.Addrs()[0]
	send(t, addr, "", "11 <13>1 - hi\n17 <12>1 - a\nsecond\n")
	send(t, addr, "", "<13>Nov 25 17:17:31 h a: one\r\n<13>Nov 25 17:17:31 h a: two\n\n<13>three")
	want := []string{"<13>1 - hi", "<12>1 - a\nsecond", "<13>Nov 25 17:17:31 h a: one", "<13>Nov 25 17:17:31 h a: two", "<13>three"}
	ingesttest.WaitFor(t, 5*time.Second, "5 records", func() bool { return len(sink.messages("alpha")) == 5 })
	got := sink.messages("alpha")
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	for _, rec := range sink.Records("alpha") {
		if rec.Source != "syslog" || rec.Received.IsZero() {
			t.Errorf("record %q: source %q, received %v", rec.Data, rec.Source, rec.Received)
		}
	}
	if n := sink.Counted(MetricEvents, "alpha"); n != 5 {
		t.Errorf("%s = %d, want 5", MetricEvents, n)
	}
}

// TestCapturesOverTCP sends each captured stream over a real connection:
// the sink gets what the framer's golden file holds.
func TestCapturesOverTCP(t *testing.T) {
	dir := corpus(t)
	cfg := config(Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "alpha"})
	cfg.MaxMessageBytes = DefaultConfig().MaxMessageBytes
	r, sink := start(t, cfg)
	var want []string
	for _, c := range streamCaptures {
		b, err := os.ReadFile(filepath.Join(dir, c))
		if err != nil {
			t.Fatal(err)
		}
		for _, fr := range Split(b, 64<<10) {
			want = append(want, string(fr.Msg))
		}
		send(t, r.Addrs()[0], "", string(b))
	}
	ingesttest.WaitFor(t, 5*time.Second, fmt.Sprintf("%d records", len(want)), func() bool { return len(sink.messages("alpha")) >= len(want) })
	got := sink.messages("alpha")
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

func TestDeadLetters(t *testing.T) {
	r, sink := start(t, config(Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "alpha"}))
	long := strings.Repeat("x", 1500)
	// Newline framing resyncs after an over-long line.
	send(t, r.Addrs()[0], "", "<13>before\n"+long+"\n<13>after\n")
	// Octet counting: an over-long frame is skipped, a bad count closes.
	send(t, r.Addrs()[0], "", fmt.Sprintf("3 one%d %s3 twoXX <13>lost\n", len(long), long))
	ingesttest.WaitFor(t, 5*time.Second, "records and dead letters", func() bool {
		return len(sink.Records("alpha")) == 4 && len(sink.DeadLetters("alpha")) == 3
	})
	got := sink.messages("alpha")
	slices.Sort(got)
	if diff := cmp.Diff([]string{"<13>after", "<13>before", "one", "two"}, got); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	var reasons []string
	for _, d := range sink.DeadLetters("alpha") {
		reasons = append(reasons, d.Reason)
		if d.Source != "syslog" || len(d.Data) == 0 || len(d.Data) > 1024 {
			t.Errorf("dead letter %q: source %q, %d bytes", d.Reason, d.Source, len(d.Data))
		}
	}
	slices.Sort(reasons)
	want := []string{
		"frame of 1500 bytes is over the 1024-byte limit (first 1024 bytes kept)",
		"line is over the 1024-byte limit (first 1024 bytes kept)",
		`octet-counted framing: bad frame length "X"`,
	}
	if diff := cmp.Diff(want, reasons); diff != "" {
		t.Errorf("dead letter reasons (-want +got):\n%s", diff)
	}
	if n := sink.Counted(MetricRejected, "alpha"); n != 3 {
		t.Errorf("%s = %d, want 3", MetricRejected, n)
	}
}

// TestBackpressure: while the sink refuses, the connection retries and
// loses nothing.
func TestBackpressure(t *testing.T) {
	cfg := config(Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "alpha"})
	cfg.BatchRecords = 10
	r, sink := start(t, cfg)
	sink.RefuseNext(4)
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "<13>line %d\n", i)
	}
	send(t, r.Addrs()[0], "", b.String())
	ingesttest.WaitFor(t, 10*time.Second, "100 records", func() bool { return len(sink.messages("alpha")) >= 100 })
	got := sink.messages("alpha")
	if len(got) != 100 {
		t.Fatalf("%d records, want 100", len(got))
	}
	for i, m := range got {
		if want := fmt.Sprintf("<13>line %d", i); m != want {
			t.Fatalf("record %d = %q, want %q (order kept, none twice)", i, m, want)
		}
	}
}

func TestUDP(t *testing.T) {
	r, sink := start(t, config(
		Listener{Protocol: "udp", Listen: "127.0.0.1:0", Tenant: "alpha"},
		Listener{Protocol: "udp", Listen: "127.0.0.1:0", Sources: map[string]string{"10.0.0.0/8": "bravo"}},
	))
	c, err := net.Dial("udp", r.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, m := range []string{"<13>1 - one\n", "<13>two", strings.Repeat("y", 2000)} {
		if _, err := c.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	c2, err := net.Dial("udp", r.Addrs()[1].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := c2.Write([]byte("<13>not allowed")); err != nil {
		t.Fatal(err)
	}
	ingesttest.WaitFor(t, 5*time.Second, "2 datagrams and a dead letter, 1 refused", func() bool {
		return len(sink.Records("alpha")) == 2 && len(sink.DeadLetters("alpha")) == 1 && sink.Counted(MetricRefused, "") == 1
	})
	if diff := cmp.Diff([]string{"<13>1 - one", "<13>two"}, sink.messages("alpha")); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if ts := sink.Tenants(); !slices.Equal(ts, []tenant.ID{"alpha"}) {
		t.Errorf("tenants written: %v", ts)
	}
}

// TestUDPBackpressure: datagrams the sink refuses are dropped and counted.
func TestUDPBackpressure(t *testing.T) {
	r, sink := start(t, config(Listener{Protocol: "udp", Listen: "127.0.0.1:0", Tenant: "alpha"}))
	sink.RefuseNext(1)
	c, err := net.Dial("udp", r.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("<13>dropped")); err != nil {
		t.Fatal(err)
	}
	ingesttest.WaitFor(t, 5*time.Second, "a counted drop", func() bool { return sink.Counted(MetricDropped, "alpha") == 1 })
	if _, err := c.Write([]byte("<13>kept")); err != nil {
		t.Fatal(err)
	}
	ingesttest.WaitFor(t, 5*time.Second, "the next datagram", func() bool { return len(sink.messages("alpha")) == 1 })
}

// TestCrossTenantSources: an address allowed for one tenant writes only
// there; an address not listed is refused.
func TestCrossTenantSources(t *testing.T) {
	r, sink := start(t, config(
		Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Sources: map[string]string{"127.0.0.1": "alpha", "127.0.0.2/32": "bravo", "127.0.1.0/24": "charlie", "127.0.1.9": "delta"}},
		Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "bravo"},
	))
	shared, bravo := r.Addrs()[0], r.Addrs()[1]
	send(t, shared, "127.0.0.1", "<13>from alpha\n")
	send(t, shared, "127.0.0.2", "<13>from bravo\n")
	send(t, shared, "127.0.1.5", "<13>from charlie\n")
	send(t, shared, "127.0.1.9", "<13>from delta, the most specific prefix\n")
	send(t, bravo, "127.0.0.1", "<13>to bravo's own listener\n")
	// Not listed: the connection is closed without reading.
	c, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.3")}}).Dial("tcp", shared.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = c.Write([]byte("<13>from a stranger\n"))
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("stranger's connection not closed")
	}
	ingesttest.WaitFor(t, 5*time.Second, "5 records, 1 refused", func() bool {
		n := 0
		for _, tt := range testTenants {
			n += len(sink.messages(tt))
		}
		return n == 5 && sink.Counted(MetricRefused, "") == 1
	})
	want := map[tenant.ID][]string{
		"alpha":   {"<13>from alpha"},
		"bravo":   {"<13>from bravo", "<13>to bravo's own listener"},
		"charlie": {"<13>from charlie"},
		"delta":   {"<13>from delta, the most specific prefix"},
	}
	for tt, w := range want {
		got := sink.messages(tt)
		slices.Sort(got)
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("tenant %s (-want +got):\n%s", tt, diff)
		}
	}
}

// sendTLS sends data over TLS with a client certificate and reports
// whether the server kept the connection after the handshake.
func sendTLS(t testing.TB, addr net.Addr, caFile, certFile, keyFile, data string) error {
	t.Helper()
	pool := x509.NewCertPool()
	b, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool.AppendCertsFromPEM(b)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tls.Dial("tcp", addr.String(), &tls.Config{RootCAs: pool, ServerName: "localhost", Certificates: []tls.Certificate{cert}})
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write([]byte(data)); err != nil {
		return err
	}
	// A refused client sees the connection closed; an accepted one does
	// not within a short while.
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	_, err = c.Read(make([]byte, 1))
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil
	}
	return fmt.Errorf("connection closed: %v", err)
}

// TestCrossTenantTLS: a client certificate for one tenant lands in that
// tenant; a certificate that maps to no tenant, or from another CA, is
// refused.
func TestCrossTenantTLS(t *testing.T) {
	ca := ingesttest.NewPKI(t, "Tarian test members CA")
	srvCert, srvKey := ca.Issue(t, "localhost", []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")}, x509.ExtKeyUsageServerAuth)
	aCert, aKey := ca.Issue(t, "fw01.alpha.example", nil, nil, x509.ExtKeyUsageClientAuth)
	bCert, bKey := ca.Issue(t, "ignored-cn", []string{"relay.bravo.example"}, nil, x509.ExtKeyUsageClientAuth)
	strangerCert, strangerKey := ca.Issue(t, "stranger.example", nil, nil, x509.ExtKeyUsageClientAuth)
	other := ingesttest.NewPKI(t, "Someone else's CA")
	forgedCert, forgedKey := other.Issue(t, "fw01.alpha.example", nil, nil, x509.ExtKeyUsageClientAuth)

	r, sink := start(t, config(Listener{Protocol: "tls", Listen: "127.0.0.1:0", TLS: &TLSConfig{
		Cert: srvCert, Key: srvKey, ClientCA: ca.CAFile,
		Clients: map[string]string{"fw01.alpha.example": "alpha", "relay.bravo.example": "bravo"},
	}}))
	addr := r.Addrs()[0]
	if err := sendTLS(t, addr, ca.CAFile, aCert, aKey, "23 <13>1 - - - - - - to A\n"); err != nil {
		t.Errorf("alpha's certificate: %v", err)
	}
	if err := sendTLS(t, addr, ca.CAFile, bCert, bKey, "<13>to B by SAN\n"); err != nil {
		t.Errorf("bravo's certificate: %v", err)
	}
	if err := sendTLS(t, addr, ca.CAFile, strangerCert, strangerKey, "<13>stranger\n"); err == nil {
		t.Error("a certificate that maps to no tenant was accepted")
	}
	if err := sendTLS(t, addr, ca.CAFile, forgedCert, forgedKey, "<13>forged as alpha\n"); err == nil {
		t.Error("a certificate from another CA was accepted")
	}
	ingesttest.WaitFor(t, 5*time.Second, "2 records, 2 refused", func() bool {
		return len(sink.messages("alpha"))+len(sink.messages("bravo")) == 2 && sink.Counted(MetricRefused, "") == 2
	})
	if diff := cmp.Diff([]string{"<13>1 - - - - - - to A"}, sink.messages("alpha")); diff != "" {
		t.Errorf("alpha (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"<13>to B by SAN"}, sink.messages("bravo")); diff != "" {
		t.Errorf("bravo (-want +got):\n%s", diff)
	}
	if ts := sink.Tenants(); !slices.Equal(ts, []tenant.ID{"alpha", "bravo"}) {
		t.Errorf("tenants written: %v", ts)
	}
}

func TestStartErrors(t *testing.T) {
	sink := newMemSink()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r, err := New(config(Listener{Protocol: "tcp", Listen: ln.Addr().String(), Tenant: "alpha"}), ingest.Deps{Sink: sink, DeadLetters: sink, Tenants: testTenants, Metrics: sink})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "listeners[0]") {
		t.Errorf("address in use: Run = %v", err)
	}
	if r.Addrs() != nil {
		t.Error("Addrs after a failed start")
	}
}

// TestMissingTenant: a listener that names a tenant not created yet
// starts anyway and refuses that tenant's senders (TCP closed, UDP
// dropped, counted), never touching the other listeners' traffic; once the
// tenant exists the next connection and datagram are accepted.
func TestMissingTenant(t *testing.T) {
	dir := ingesttest.NewDirectory("alpha")
	sink := newMemSink()
	r, err := New(config(
		Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "gwynedd"},
		Listener{Protocol: "udp", Listen: "127.0.0.1:0", Tenant: "gwynedd"},
		Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "alpha"},
	), ingest.Deps{Sink: sink, DeadLetters: sink, Tenants: dir, Metrics: sink})
	if err != nil {
		t.Fatal(err)
	}
	ingesttest.Serve(t, r, 3)
	addrs := r.Addrs()
	if got := r.Tenants(); !slices.Equal(got, []tenant.ID{"gwynedd", "gwynedd", "alpha"}) {
		t.Errorf("Tenants() = %v", got)
	}
	// alpha's sender stays connected throughout.
	alpha, err := net.Dial("tcp", addrs[2].String())
	if err != nil {
		t.Fatal(err)
	}
	defer alpha.Close()
	fmt.Fprint(alpha, "<13>alpha before\n")

	c, err := net.Dial("tcp", addrs[0].String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(c, "<13>gwynedd too early\n")
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("connection of a missing tenant: read = %v, want it closed", err)
	}
	c.Close()
	u, err := net.Dial("udp", addrs[1].String())
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	fmt.Fprint(u, "<13>gwynedd datagram too early")
	ingesttest.WaitFor(t, 5*time.Second, "2 senders refused", func() bool { return sink.Counted(MetricRefused, "") == 2 })

	dir.Add("gwynedd")
	send(t, addrs[0], "", "<13>gwynedd on time\n")
	fmt.Fprint(u, "<13>gwynedd datagram on time")
	fmt.Fprint(alpha, "<13>alpha after\n")
	ingesttest.WaitFor(t, 5*time.Second, "gwynedd's and alpha's records", func() bool {
		return len(sink.Records("gwynedd")) == 2 && len(sink.Records("alpha")) == 2
	})
	got := sink.messages("gwynedd")
	slices.Sort(got)
	if diff := cmp.Diff([]string{"<13>gwynedd datagram on time", "<13>gwynedd on time"}, got); diff != "" {
		t.Errorf("gwynedd (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"<13>alpha before", "<13>alpha after"}, sink.messages("alpha")); diff != "" {
		t.Errorf("alpha, on one connection throughout (-want +got):\n%s", diff)
	}
	if n := sink.Counted(MetricRefused, ""); n != 2 {
		t.Errorf("refused = %d, want 2", n)
	}
}

// TestReload: listeners added, removed and changed while the receiver
// runs; the connections of a listener that stays are never dropped, an
// invalid configuration changes nothing.
func TestReload(t *testing.T) {
	ctx := context.Background()
	// Listeners on port 0 (a port picked beforehand could be taken by
	// another test's connection before the receiver binds it); their
	// addresses are read back.
	a := Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "alpha"}
	r, sink := start(t, config(a))
	aAddr := r.Addrs()[0].String()
	ca, err := net.Dial("tcp", aAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	fmt.Fprint(ca, "<13>a1\n")
	ingesttest.WaitFor(t, 5*time.Second, "a1", func() bool { return len(sink.Records("alpha")) == 1 })

	// An invalid configuration is refused whole.
	bad := config(a, Listener{Protocol: "tcp", Listen: "127.0.0.1:0"})
	if err := r.Reload(ctx, bad); err == nil || !strings.Contains(err.Error(), "syslog: listeners[1].tenant") {
		t.Errorf("invalid reload: %v", err)
	}
	badTLS := config(a, Listener{Protocol: "tls", Listen: "127.0.0.1:0", Tenant: "bravo", TLS: &TLSConfig{Cert: "/nonexistent.pem", Key: "/nonexistent.key", ClientCA: "/nonexistent.pem"}})
	if err := r.Reload(ctx, badTLS); err == nil || !strings.Contains(err.Error(), "listeners[1].tls: cert, key") {
		t.Errorf("reload with unreadable TLS files: %v", err)
	}
	if n := len(r.Addrs()); n != 1 {
		t.Fatalf("after refused reloads %d listeners, want 1", n)
	}

	// Add b: a's connection keeps going.
	b := Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "bravo"}
	next := config(a, b)
	next.MaxMessageBytes = 2048
	if err := r.Reload(ctx, next); err != nil {
		t.Fatal(err)
	}
	if got := r.Addrs(); len(got) != 2 || got[0].String() != aAddr {
		t.Fatalf("Addrs after adding b = %v, want a's %s kept", got, aAddr)
	}
	// b from now on at the address it was given.
	b.Listen = r.Addrs()[1].String()
	next.Listeners[1] = b
	if err := r.Reload(ctx, next); err != nil {
		t.Fatal(err)
	}
	if got := r.Addrs(); len(got) != 2 || got[1].String() != b.Listen {
		t.Fatalf("Addrs after naming b's address = %v", got)
	}
	send(t, r.Addrs()[1], "", "<13>b1\n")
	fmt.Fprint(ca, "<13>a2\n")
	ingesttest.WaitFor(t, 5*time.Second, "a2 and b1", func() bool {
		return len(sink.Records("alpha")) == 2 && len(sink.Records("bravo")) == 1
	})

	// Change b's tenant at the same address; remove a.
	b2 := b
	b2.Tenant = "charlie"
	if err := r.Reload(ctx, config(b2)); err != nil {
		t.Fatal(err)
	}
	_ = ca.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := ca.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("connection of a removed listener: read = %v, want it closed", err)
	}
	if _, err := net.Dial("tcp", aAddr); err == nil {
		t.Error("removed listener still accepts")
	}
	send(t, r.Addrs()[0], "", "<13>b2\n")
	ingesttest.WaitFor(t, 5*time.Second, "b2 under charlie", func() bool { return len(sink.Records("charlie")) == 1 })
	if n := len(sink.Records("bravo")); n != 1 {
		t.Errorf("bravo has %d records after its listener moved to charlie", n)
	}

	// A listener that cannot bind is named; the rest runs.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	err = r.Reload(ctx, config(b2, Listener{Protocol: "tcp", Listen: busy.Addr().String(), Tenant: "delta"}))
	if err == nil || !strings.Contains(err.Error(), "syslog: listeners[1]: ") {
		t.Errorf("reload with an address in use: %v", err)
	}
	if got := r.Addrs(); len(got) != 1 || got[0].String() != b.Listen {
		t.Errorf("Addrs after a partial reload = %v", got)
	}
}

func TestValidate(t *testing.T) {
	ok := Listener{Protocol: "tcp", Listen: "127.0.0.1:6601", Tenant: "alpha"}
	tests := []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"default with a listener", func(c *Config) {}, ""},
		{"port only means 127.0.0.1", func(c *Config) { c.Listeners[0].Listen = ":6601" }, ""},
		{"protocol", func(c *Config) { c.Listeners[0].Protocol = "sctp" }, `listeners[0].protocol: "sctp" is not one of tcp, udp, tls`},
		{"listen", func(c *Config) { c.Listeners[0].Listen = "6601" }, `listeners[0].listen: "6601"`},
		{"no tenant rule", func(c *Config) { c.Listeners[0].Tenant = "" }, "listeners[0].tenant: one of tenant or sources is required"},
		{"two tenant rules", func(c *Config) { c.Listeners[0].Sources = map[string]string{"10.0.0.1": "bravo"} }, "listeners[0].tenant: set only one of"},
		{"bad tenant", func(c *Config) { c.Listeners[0].Tenant = "Alpha" }, "listeners[0].tenant: invalid tenant id"},
		{"bad source", func(c *Config) {
			c.Listeners[0].Tenant = ""
			c.Listeners[0].Sources = map[string]string{"10.0.0.300": "bravo"}
		}, `listeners[0].sources: "10.0.0.300": not an IP address or CIDR`},
		{"same prefix twice", func(c *Config) {
			c.Listeners[0].Tenant = ""
			c.Listeners[0].Sources = map[string]string{"10.0.0.1": "bravo", "10.0.0.1/32": "alpha"}
		}, "listeners[0].sources: "},
		{"tls without files", func(c *Config) { c.Listeners[0].Protocol = "tls" }, "listeners[0].tls: cert, key and client_ca are required"},
		{"tls on tcp", func(c *Config) { c.Listeners[0].TLS = &TLSConfig{} }, "listeners[0].tls: only for protocol tls"},
		{"twice", func(c *Config) { c.Listeners = append(c.Listeners, ok) }, "listeners[1].listen: tcp 127.0.0.1:6601 is configured twice"},
		{"max", func(c *Config) { c.MaxMessageBytes = 10 }, "max_message_bytes: "},
		{"batch", func(c *Config) { c.BatchRecords = 0 }, "batch_records: "},
		{"wait", func(c *Config) { c.BatchWait = time.Minute }, "batch_wait: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.Listeners = []Listener{ok}
			tt.edit(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate = %v", err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
				t.Errorf("Validate = %v, want %q...", err, tt.want)
			}
		})
	}
}

// TestShutdownWritesWhatWasRead: records read but still waiting for their
// batch are written when the receiver stops.
func TestShutdownWritesWhatWasRead(t *testing.T) {
	cfg := config(Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "alpha"})
	cfg.BatchWait = 10 * time.Second
	sink := newMemSink()
	r, err := New(cfg, ingest.Deps{Sink: sink, DeadLetters: sink, Tenants: testTenants, Metrics: sink})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	c, err := net.Dial("tcp", r.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("<13>one\n<13>two\n<13>partial")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // read, not yet written
	if n := len(sink.messages("alpha")); n != 0 {
		t.Fatalf("%d records written before the batch wait", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The unfinished line is not a record: the sender never ended it.
	if diff := cmp.Diff([]string{"<13>one", "<13>two"}, sink.messages("alpha")); diff != "" {
		t.Errorf("records after shutdown (-want +got):\n%s", diff)
	}
}

// TestSample: the embedded sample configuration is valid.
func TestSample(t *testing.T) {
	c := DefaultConfig()
	dec := yaml.NewDecoder(strings.NewReader(Sample))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.Listeners) != 3 || c.Listeners[2].TLS == nil || len(c.Listeners[1].Sources) != 2 {
		t.Errorf("sample decoded as %+v", c)
	}
}

func TestNewErrors(t *testing.T) {
	sink := newMemSink()
	d := ingest.Deps{Sink: sink, DeadLetters: sink, Tenants: testTenants, Metrics: sink}
	_, err := New(config(Listener{Protocol: "tls", Listen: "127.0.0.1:0", Tenant: "alpha", TLS: &TLSConfig{Cert: "/nonexistent.pem", Key: "/nonexistent.key", ClientCA: "/nonexistent-ca.pem"}}), d)
	if err == nil || !strings.Contains(err.Error(), "listeners[0].tls: cert, key:") {
		t.Errorf("missing TLS files: New = %v", err)
	}
	if _, err := New(config(Listener{Protocol: "tcp", Listen: "127.0.0.1:0"}), d); err == nil || !strings.Contains(err.Error(), "listeners[0].tenant") {
		t.Errorf("invalid config: New = %v", err)
	}
}

// TestTLSListenerTenant: on a per-tenant TLS listener any certificate of
// the deployment CA lands in the listener's tenant; others are refused.
func TestTLSListenerTenant(t *testing.T) {
	ca := ingesttest.NewPKI(t, "Tarian test members CA")
	srvCert, srvKey := ca.Issue(t, "localhost", []string{"localhost"}, nil, x509.ExtKeyUsageServerAuth)
	cert, key := ca.Issue(t, "anything.example", nil, nil, x509.ExtKeyUsageClientAuth)
	other := ingesttest.NewPKI(t, "Someone else's CA")
	forged, forgedKey := other.Issue(t, "anything.example", nil, nil, x509.ExtKeyUsageClientAuth)
	r, sink := start(t, config(Listener{Protocol: "tls", Listen: "127.0.0.1:0", Tenant: "charlie", TLS: &TLSConfig{Cert: srvCert, Key: srvKey, ClientCA: ca.CAFile}}))
	if err := sendTLS(t, r.Addrs()[0], ca.CAFile, cert, key, "<13>to charlie\n"); err != nil {
		t.Error(err)
	}
	if err := sendTLS(t, r.Addrs()[0], ca.CAFile, forged, forgedKey, "<13>forged\n"); err == nil {
		t.Error("a certificate from another CA was accepted")
	}
	ingesttest.WaitFor(t, 5*time.Second, "1 record, 1 refused", func() bool {
		return len(sink.messages("charlie")) == 1 && sink.Counted(MetricRefused, "") == 1
	})
	if ts := sink.Tenants(); !slices.Equal(ts, []tenant.ID{"charlie"}) {
		t.Errorf("tenants written: %v", ts)
	}
}

// TestReloadRenewsCertificate: reloading an unchanged configuration makes
// a TLS listener read its certificate files again for new connections (a
// renewed certificate), and keeps the connections it has.
func TestReloadRenewsCertificate(t *testing.T) {
	ca1, ca2 := ingesttest.NewPKI(t, "old server CA"), ingesttest.NewPKI(t, "new server CA")
	clients := ingesttest.NewPKI(t, "clients CA")
	cert, key := clients.Issue(t, "fw01", nil, nil, x509.ExtKeyUsageClientAuth)
	dir := t.TempDir()
	srvCert, srvKey := filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	install := func(ca *ingesttest.PKI) {
		c, k := ca.Issue(t, "localhost", []string{"localhost"}, nil, x509.ExtKeyUsageServerAuth)
		for from, to := range map[string]string{c: srvCert, k: srvKey} {
			b, err := os.ReadFile(from)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(to, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	install(ca1)
	cfg := config(Listener{Protocol: "tls", Listen: "127.0.0.1:0", Tenant: "alpha", TLS: &TLSConfig{Cert: srvCert, Key: srvKey, ClientCA: clients.CAFile}})
	r, sink := start(t, cfg)
	addr := r.Addrs()[0]
	if err := sendTLS(t, addr, ca1.CAFile, cert, key, "<13>old 1\n"); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	b, _ := os.ReadFile(ca1.CAFile)
	pool.AppendCertsFromPEM(b)
	kp, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := tls.Dial("tcp", addr.String(), &tls.Config{RootCAs: pool, ServerName: "localhost", Certificates: []tls.Certificate{kp}})
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Close()

	install(ca2)
	if err := sendTLS(t, addr, ca2.CAFile, cert, key, "<13>too soon\n"); err == nil {
		t.Error("the renewed certificate was served before the reload")
	}
	if err := r.Reload(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if got := r.Addrs()[0].String(); got != addr.String() {
		t.Errorf("listener moved from %s to %s", addr, got)
	}
	if err := sendTLS(t, addr, ca2.CAFile, cert, key, "<13>new 1\n"); err != nil {
		t.Errorf("renewed certificate after the reload: %v", err)
	}
	if _, err := kept.Write([]byte("<13>old 2\n")); err != nil {
		t.Fatal(err)
	}
	ingesttest.WaitFor(t, 5*time.Second, "3 records", func() bool { return len(sink.Records("alpha")) == 3 })
	got := sink.messages("alpha")
	slices.Sort(got)
	if diff := cmp.Diff([]string{"<13>new 1", "<13>old 1", "<13>old 2"}, got); diff != "" {
		t.Errorf("alpha (-want +got):\n%s", diff)
	}
}
