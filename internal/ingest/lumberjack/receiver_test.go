package lumberjack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	v2 "github.com/elastic/go-lumber/client/v2"
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

// docs returns tenant t's records as strings.
func (s *memSink) docs(t tenant.ID) []string {
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
	c.MaxEventBytes = 4096
	c.Listeners = ls
	return c
}

// beatEvents returns n Beats-like events; each carries its tag and index
// in "message", so every one can be found again.
func beatEvents(tag string, n int) []any {
	evs := make([]any, n)
	for i := range evs {
		evs[i] = map[string]any{
			"@timestamp": fmt.Sprintf("2026-11-25T17:17:%02d.%03dZ", i%60, i%1000),
			"@metadata":  map[string]any{"beat": "winlogbeat", "version": "8.17.0"},
			"host":       map[string]any{"name": "council-dc01"},
			"winlog":     map[string]any{"channel": "Security", "event_id": "4625", "event_data": map[string]any{"TargetUserName": fmt.Sprintf("user%d", i), "IpAddress": "203.0.113.45"}},
			"message":    fmt.Sprintf("%s event %d", tag, i),
		}
	}
	return evs
}

// messages returns the "message" of each record, sorted.
func messages(t testing.TB, docs []string) []string {
	t.Helper()
	var out []string
	for _, d := range docs {
		var v struct{ Message string }
		if err := json.Unmarshal([]byte(d), &v); err != nil {
			t.Fatalf("record %q: %v", d, err)
		}
		out = append(out, v.Message)
	}
	slices.Sort(out)
	return out
}

func wantMessages(tag string, n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("%s event %d", tag, i))
	}
	slices.Sort(out)
	return out
}

// TestGoLumberClients sends with go-lumber's SyncClient and AsyncClient
// (the library Beats' Logstash output is built on), uncompressed and at
// Beats' default compression level 3: every event lands once, in the
// listener's tenant, and every window is acknowledged with its sequence.
func TestGoLumberClients(t *testing.T) {
	r, sink := start(t, config(
		Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "alpha"},
		Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "bravo"},
	))
	alpha, bravo := r.Addrs()[0].String(), r.Addrs()[1].String()
	for _, level := range []int{0, 3} {
		t.Run(fmt.Sprintf("sync/compression=%d", level), func(t *testing.T) {
			tag := fmt.Sprintf("sync%d", level)
			c, err := v2.SyncDial(alpha, v2.Timeout(10*time.Second), v2.CompressionLevel(level))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			evs := beatEvents(tag, 250)
			for i := 0; i < len(evs); i += 50 {
				n, err := c.Send(evs[i : i+50])
				if err != nil || n != 50 {
					t.Fatalf("Send: acked %d, %v", n, err)
				}
			}
		})
		t.Run(fmt.Sprintf("async/compression=%d", level), func(t *testing.T) {
			tag := fmt.Sprintf("async%d", level)
			c, err := v2.AsyncDial(bravo, 4, v2.Timeout(10*time.Second), v2.CompressionLevel(level))
			if err != nil {
				t.Fatal(err)
			}
			evs := beatEvents(tag, 400)
			var mu sync.Mutex
			var acked []uint32
			var wg sync.WaitGroup
			for i := 0; i < len(evs); i += 40 {
				wg.Add(1)
				err := c.Send(func(seq uint32, err error) {
					defer wg.Done()
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						t.Errorf("async ack: %v", err)
					}
					acked = append(acked, seq)
				}, evs[i:i+40])
				if err != nil {
					t.Fatal(err)
				}
			}
			wg.Wait()
			c.Close()
			if want := slices.Repeat([]uint32{40}, 10); !slices.Equal(acked, want) {
				t.Errorf("acks %v, want %v", acked, want)
			}
		})
	}
	var wantA, wantB []string
	for _, level := range []int{0, 3} {
		wantA = append(wantA, wantMessages(fmt.Sprintf("sync%d", level), 250)...)
		wantB = append(wantB, wantMessages(fmt.Sprintf("async%d", level), 400)...)
	}
	slices.Sort(wantA)
	slices.Sort(wantB)
	if diff := cmp.Diff(wantA, messages(t, sink.docs("alpha"))); diff != "" {
		t.Errorf("alpha (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantB, messages(t, sink.docs("bravo"))); diff != "" {
		t.Errorf("bravo (-want +got):\n%s", diff)
	}
	if ts := sink.Tenants(); !slices.Equal(ts, []tenant.ID{"alpha", "bravo"}) {
		t.Errorf("tenants written: %v", ts)
	}
	for _, rec := range sink.Records("alpha") {
		if rec.Source != Source || rec.Received.IsZero() {
			t.Fatalf("record source %q, received %v", rec.Source, rec.Received)
		}
	}
	if n := sink.Counted(MetricEvents, "alpha"); n != 500 {
		t.Errorf("%s{alpha} = %d, want 500", MetricEvents, n)
	}
}

// tlsDial returns a dialer for go-lumber that presents a client
// certificate and trusts caFile.
func tlsDial(t testing.TB, caFile, certFile, keyFile string) func(network, addr string) (net.Conn, error) {
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
	cfg := &tls.Config{RootCAs: pool, ServerName: "localhost", Certificates: []tls.Certificate{cert}}
	return func(network, addr string) (net.Conn, error) {
		d := &net.Dialer{Timeout: 5 * time.Second}
		return tls.DialWithDialer(d, network, addr, cfg)
	}
}

// sendSync sends evs with a go-lumber SyncClient over dial in windows of
// 25 and returns the first error.
func sendSync(dial func(network, addr string) (net.Conn, error), addr string, level int, evs []any) error {
	c, err := v2.SyncDialWith(dial, addr, v2.Timeout(5*time.Second), v2.CompressionLevel(level))
	if err != nil {
		return err
	}
	defer c.Close()
	for i := 0; i < len(evs); i += 25 {
		win := evs[i:min(i+25, len(evs))]
		n, err := c.Send(win)
		if err != nil {
			return err
		}
		if n != len(win) {
			return fmt.Errorf("acked %d of %d", n, len(win))
		}
	}
	return nil
}

// TestTLSClientCertificates: over TLS with go-lumber's client, a client
// certificate of tenant A writes into A only, whatever the compression; a
// certificate that maps to no tenant, or from another CA, writes nothing.
func TestTLSClientCertificates(t *testing.T) {
	ca := ingesttest.NewPKI(t, "Tarian test members CA")
	srvCert, srvKey := ca.Issue(t, "localhost", []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")}, x509.ExtKeyUsageServerAuth)
	aCert, aKey := ca.Issue(t, "winlogbeat.alpha.example", nil, nil, x509.ExtKeyUsageClientAuth)
	bCert, bKey := ca.Issue(t, "ignored-cn", []string{"filebeat.bravo.example"}, nil, x509.ExtKeyUsageClientAuth)
	strangerCert, strangerKey := ca.Issue(t, "stranger.example", nil, nil, x509.ExtKeyUsageClientAuth)
	// Two identities of different tenants in one certificate: refused.
	bothCert, bothKey := ca.Issue(t, "winlogbeat.alpha.example", []string{"filebeat.bravo.example"}, nil, x509.ExtKeyUsageClientAuth)
	other := ingesttest.NewPKI(t, "Someone else's CA")
	forgedCert, forgedKey := other.Issue(t, "winlogbeat.alpha.example", nil, nil, x509.ExtKeyUsageClientAuth)

	r, sink := start(t, config(Listener{Protocol: "tls", Listen: "127.0.0.1:0", TLS: &TLSConfig{
		Cert: srvCert, Key: srvKey, ClientCA: ca.CAFile,
		Clients: map[string]string{"winlogbeat.alpha.example": "alpha", "filebeat.bravo.example": "bravo"},
	}}))
	addr := r.Addrs()[0].String()
	for _, level := range []int{0, 3} {
		if err := sendSync(tlsDial(t, ca.CAFile, aCert, aKey), addr, level, beatEvents(fmt.Sprintf("a%d", level), 60)); err != nil {
			t.Errorf("alpha's certificate, compression %d: %v", level, err)
		}
		if err := sendSync(tlsDial(t, ca.CAFile, bCert, bKey), addr, level, beatEvents(fmt.Sprintf("b%d", level), 40)); err != nil {
			t.Errorf("bravo's certificate, compression %d: %v", level, err)
		}
	}
	refused := []struct{ name, cert, key, ca string }{
		{"no tenant", strangerCert, strangerKey, ca.CAFile},
		{"two tenants", bothCert, bothKey, ca.CAFile},
		{"another CA", forgedCert, forgedKey, ca.CAFile},
	}
	for _, c := range refused {
		if err := sendSync(tlsDial(t, c.ca, c.cert, c.key), addr, 3, beatEvents("refused", 5)); err == nil {
			t.Errorf("%s: a certificate that must be refused was acknowledged", c.name)
		}
	}
	ingesttest.WaitFor(t, 5*time.Second, "3 refusals", func() bool { return sink.Counted(MetricRefused, "") == 3 })
	want := func(tag string, n int) []string {
		return slices.Sorted(slices.Values(append(wantMessages(tag+"0", n), wantMessages(tag+"3", n)...)))
	}
	if diff := cmp.Diff(want("a", 60), messages(t, sink.docs("alpha"))); diff != "" {
		t.Errorf("alpha (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want("b", 40), messages(t, sink.docs("bravo"))); diff != "" {
		t.Errorf("bravo (-want +got):\n%s", diff)
	}
	if ts := sink.Tenants(); !slices.Equal(ts, []tenant.ID{"alpha", "bravo"}) {
		t.Errorf("tenants written: %v", ts)
	}
}

// TestTLSListenerTenant: on a per-tenant TLS listener any certificate of
// the deployment CA writes into the listener's tenant; others are refused.
func TestTLSListenerTenant(t *testing.T) {
	ca := ingesttest.NewPKI(t, "Tarian test members CA")
	srvCert, srvKey := ca.Issue(t, "localhost", []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")}, x509.ExtKeyUsageServerAuth)
	cert, key := ca.Issue(t, "anything.example", nil, nil, x509.ExtKeyUsageClientAuth)
	other := ingesttest.NewPKI(t, "Someone else's CA")
	forged, forgedKey := other.Issue(t, "anything.example", nil, nil, x509.ExtKeyUsageClientAuth)
	r, sink := start(t, config(Listener{Protocol: "tls", Listen: "127.0.0.1:0", Tenant: "charlie", TLS: &TLSConfig{Cert: srvCert, Key: srvKey, ClientCA: ca.CAFile}}))
	addr := r.Addrs()[0].String()
	if err := sendSync(tlsDial(t, ca.CAFile, cert, key), addr, 3, beatEvents("c", 30)); err != nil {
		t.Error(err)
	}
	if err := sendSync(tlsDial(t, ca.CAFile, forged, forgedKey), addr, 3, beatEvents("forged", 3)); err == nil {
		t.Error("a certificate from another CA was acknowledged")
	}
	ingesttest.WaitFor(t, 5*time.Second, "1 refusal", func() bool { return sink.Counted(MetricRefused, "") == 1 })
	if diff := cmp.Diff(wantMessages("c", 30), messages(t, sink.docs("charlie"))); diff != "" {
		t.Errorf("charlie (-want +got):\n%s", diff)
	}
	if ts := sink.Tenants(); !slices.Equal(ts, []tenant.ID{"charlie"}) {
		t.Errorf("tenants written: %v", ts)
	}
}

// fromAddr returns a dialer whose connections come from local, an address
// on the loopback interface.
func fromAddr(local string) func(network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	return d.Dial
}

// TestCrossTenantSources: on a shared listener an allow-listed address
// writes into its own tenant only, the most specific prefix winning; an
// address not listed is refused.
func TestCrossTenantSources(t *testing.T) {
	r, sink := start(t, config(
		Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Sources: map[string]string{"127.0.0.1": "alpha", "127.0.0.2/32": "bravo", "127.0.1.0/24": "charlie", "127.0.1.9": "delta"}},
		Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "bravo"},
	))
	shared, bravo := r.Addrs()[0].String(), r.Addrs()[1].String()
	for _, s := range []struct{ from, to, tag string }{
		{"127.0.0.1", shared, "alpha"},
		{"127.0.0.2", shared, "bravo"},
		{"127.0.1.5", shared, "charlie"},
		{"127.0.1.9", shared, "delta"},
		{"127.0.0.1", bravo, "bravo-own"},
	} {
		if err := sendSync(fromAddr(s.from), s.to, 3, beatEvents(s.tag, 10)); err != nil {
			t.Errorf("from %s: %v", s.from, err)
		}
	}
	if err := sendSync(fromAddr("127.0.0.3"), shared, 0, beatEvents("stranger", 10)); err == nil {
		t.Error("an address not allow-listed was acknowledged")
	}
	ingesttest.WaitFor(t, 5*time.Second, "1 refusal", func() bool { return sink.Counted(MetricRefused, "") == 1 })
	want := map[tenant.ID][]string{
		"alpha":   wantMessages("alpha", 10),
		"bravo":   slices.Sorted(slices.Values(append(wantMessages("bravo", 10), wantMessages("bravo-own", 10)...))),
		"charlie": wantMessages("charlie", 10),
		"delta":   wantMessages("delta", 10),
	}
	for tt, w := range want {
		if diff := cmp.Diff(w, messages(t, sink.docs(tt))); diff != "" {
			t.Errorf("tenant %s (-want +got):\n%s", tt, diff)
		}
	}
	if n := sink.Total(); n != 50 {
		t.Errorf("%d records in all, want 50", n)
	}
}

// TestDeadLetters: data frames that are not one JSON object, or too long,
// are dead-lettered with the reason, and the window is still acknowledged
// with its last sequence number.
func TestDeadLetters(t *testing.T) {
	r, sink := start(t, config(Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "alpha"}))
	c := dialRaw(t, r.Addrs()[0])
	long := `{"message":"` + strings.Repeat("x", 5000) + `"}`
	c.send(cat(windowFrame(6),
		jsonFrame(1, ` {"message":"kept"} `),
		jsonFrame(2, `[1,2]`),
		jsonFrame(3, `{"unterminated":`),
		jsonFrame(4, long),
		jsonFrame(5, `"a string"`),
		jsonFrame(6, `{"message":"kept too"}`),
	))
	if seq, ok, err := c.ack(5 * time.Second); !ok || seq != 6 {
		t.Fatalf("ack = %d, %v, %v; want 6", seq, ok, err)
	}
	// Compressed, the same rules.
	c.send(cat(windowFrame(2), compressedFrame(jsonFrame(1, `null`), jsonFrame(2, `{"message":"compressed"}`))))
	if seq, ok, err := c.ack(5 * time.Second); !ok || seq != 2 {
		t.Fatalf("ack = %d, %v, %v; want 2", seq, ok, err)
	}
	if diff := cmp.Diff([]string{`{"message":"kept"}`, `{"message":"kept too"}`, `{"message":"compressed"}`}, sink.docs("alpha")); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	var got []string
	for _, d := range sink.DeadLetters("alpha") {
		got = append(got, fmt.Sprintf("%s | %d bytes", d.Reason, len(d.Data)))
		if d.Source != Source || d.Received.IsZero() {
			t.Errorf("dead letter source %q received %v", d.Source, d.Received)
		}
	}
	want := []string{
		"not a JSON object: array | 5 bytes",
		`invalid JSON: cannot parse JSON: cannot parse object: cannot parse object value: cannot parse empty string; unparsed tail: "" | 16 bytes`,
		"event of 5014 bytes is over the 4096-byte limit (first 4096 bytes kept) | 4096 bytes",
		"not a JSON object: string | 10 bytes",
		"not a JSON object: null | 4 bytes",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dead letters (-want +got):\n%s", diff)
	}
	if n := sink.Counted(MetricRejected, "alpha"); n != 5 {
		t.Errorf("%s = %d, want 5", MetricRejected, n)
	}
}

// TestMalformedFrames: a frame that cannot be read past closes the
// connection, counted and dead-lettered with the reason and what of it
// arrived; the events before it are written and acknowledged.
func TestMalformedFrames(t *testing.T) {
	good := jsonFrame(1, `{"message":"before"}`)
	zgood := compressedFrame(jsonFrame(1, `{"message":"before"}`))
	tests := []struct {
		name    string
		data    []byte
		acks    []uint32
		records int
		reason  string
	}{
		{"unknown frame type", cat(windowFrame(3), good, []byte("2Xjunk")), []uint32{1}, 1, `malformed frame: frame type 'X' where a data frame (2J or 2C) was due`},
		{"bad version", cat(windowFrame(2), good, []byte("3J\x00\x00")), []uint32{1}, 1, `malformed frame: not a Lumberjack v2 frame (starts 0x33 0x4a) where a data frame (2J or 2C) was due`},
		{"lumberjack v1", []byte("1W\x00\x00\x00\x01"), nil, 0, `malformed frame: a Lumberjack v1 frame ("1W"); only v2 is supported`},
		{"TLS on plain TCP", []byte("\x16\x03\x01\x02\x00\x01"), nil, 0, "malformed frame: a TLS handshake on a plain TCP listener"},
		{"data frame for a window", cat(good), nil, 0, `malformed frame: frame type 'J' where a window frame (2W) was due`},
		{"window inside a window", cat(windowFrame(2), good, windowFrame(1)), []uint32{1}, 1, `malformed frame: frame type 'W' where a data frame (2J or 2C) was due`},
		{"not zlib", cat(windowFrame(1), compressedRaw([]byte("not zlib at all"))), nil, 0, "malformed frame: compressed frame: zlib: invalid header"},
		{"corrupt deflate", cat(windowFrame(1), compressedRaw([]byte{0x78, 0x5e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})), nil, 0, "malformed frame: compressed frame: flate: corrupt input before offset 1"},
		{"bad checksum", func() []byte {
			f := compressedFrame(jsonFrame(1, `{"message":"x"}`))
			f[len(f)-1] ^= 0xff
			return cat(windowFrame(1), f)
		}(), nil, 0, "malformed frame: compressed frame: zlib: invalid checksum"},
		{"compressed frame too short", func() []byte {
			f := compressedFrame(jsonFrame(1, `{"message":"x"}`), jsonFrame(2, `{"message":"y"}`))
			return cat(windowFrame(2), compressedRaw(f[6:len(f)-8]), []byte("2W"))
		}(), []uint32{1}, 1, "malformed frame: compressed frame cut short inside its zlib stream (unexpected EOF)"},
		{"more frames than the window", cat(windowFrame(1), compressedFrame(jsonFrame(1, `{"message":"x"}`), jsonFrame(2, `{"message":"y"}`))), nil, 0, "malformed frame: a compressed frame holds more data frames than its window announced"},
		{"compressed in compressed", cat(windowFrame(2), compressedFrame(good, compressedFrame(good))), []uint32{1}, 1, "malformed frame: a compressed frame inside a compressed frame"},
		{"frame cut inside a compressed frame", cat(windowFrame(2), compressedFrame(good, []byte("2J\x00\x00"))), []uint32{1}, 1, "malformed frame: compressed frame cut short inside a data frame header (unexpected EOF)"},
		{"after a compressed window", cat(windowFrame(1), zgood, []byte("GET / HTTP/1.1\r\n\r\n")), []uint32{1}, 1, `malformed frame: not a Lumberjack v2 frame (starts 0x47 0x45) where a window frame (2W) was due`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, sink := start(t, config(Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "alpha"}))
			c := dialRaw(t, r.Addrs()[0])
			c.send(tt.data)
			acks, closed := c.acks(5 * time.Second)
			if !closed {
				t.Error("connection not closed")
			}
			if !slices.Equal(acks, tt.acks) {
				t.Errorf("acks %v, want %v", acks, tt.acks)
			}
			if n := len(sink.Records("alpha")); n != tt.records {
				t.Errorf("%d records, want %d", n, tt.records)
			}
			dls := sink.DeadLetters("alpha")
			if len(dls) != 1 {
				t.Fatalf("dead letters: %+v", dls)
			}
			if dls[0].Reason != tt.reason {
				t.Errorf("reason %q\nwant   %q", dls[0].Reason, tt.reason)
			}
			if len(dls[0].Data) == 0 || len(dls[0].Data) > maxKept+16 {
				t.Errorf("dead letter keeps %d bytes: %q", len(dls[0].Data), dls[0].Data)
			}
			if n := sink.Counted(MetricMalformed, "alpha"); n != 1 {
				t.Errorf("%s = %d, want 1", MetricMalformed, n)
			}
		})
	}
}

// TestCutWindow: a connection that ends inside a window writes nothing of
// it (it was not acknowledged, so the shipper sends it again) and counts
// what it had read.
func TestCutWindow(t *testing.T) {
	r, sink := start(t, config(Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "alpha"}))
	c := dialRaw(t, r.Addrs()[0])
	c.send(cat(windowFrame(3), jsonFrame(1, `{"a":1}`), jsonFrame(2, `{"a":2}`), []byte("2J\x00\x00\x00")))
	c.Close()
	ingesttest.WaitFor(t, 5*time.Second, "2 unacknowledged", func() bool { return sink.Counted(MetricUnacknowledged, "alpha") == 2 })
	if n, d := sink.Total(), sink.DeadTotal(); n != 0 || d != 0 {
		t.Errorf("%d records and %d dead letters of a cut window", n, d)
	}
}

// TestStalledWindow: a window that stops arriving is cut after timeout.
func TestStalledWindow(t *testing.T) {
	cfg := config(Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "alpha"})
	cfg.Timeout = time.Second
	cfg.Keepalive = 0
	r, sink := start(t, cfg)
	c := dialRaw(t, r.Addrs()[0])
	c.send(cat(windowFrame(2), jsonFrame(1, `{"a":1}`)))
	start := time.Now()
	if acks, closed := c.acks(10 * time.Second); !closed || len(acks) != 0 {
		t.Fatalf("acks %v, closed %v", acks, closed)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("closed after %v, before the timeout", d)
	}
	ingesttest.WaitFor(t, 5*time.Second, "1 unacknowledged", func() bool { return sink.Counted(MetricUnacknowledged, "alpha") == 1 })
	// Between windows there is no timeout: an idle shipper stays.
	c2 := dialRaw(t, r.Addrs()[0])
	if _, closed := c2.acks(1500 * time.Millisecond); closed {
		t.Error("an idle connection was closed")
	}
}

// TestLargeWindow: a window over chunkBytes is written and acknowledged in
// parts (a partial ACK, then the last sequence), and go-lumber's client
// takes that for the whole window.
func TestLargeWindow(t *testing.T) {
	r, sink := start(t, config(Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "alpha"}))
	const n = 1200
	pad := strings.Repeat("p", 3900)
	var b []byte
	b = append(b, windowFrame(n)...)
	for i := range n {
		b = append(b, jsonFrame(uint32(i+1), fmt.Sprintf(`{"message":"big %d","pad":"%s"}`, i, pad))...)
	}
	c := dialRaw(t, r.Addrs()[0])
	c.send(b)
	acks, _ := c.acks(2 * time.Second)
	if len(acks) != 2 || acks[0] >= n || acks[0] < 1000 || acks[1] != n {
		t.Errorf("acks %v, want a partial one, then %d", acks, n)
	}
	if got := len(sink.Records("alpha")); got != n {
		t.Errorf("%d records, want %d", got, n)
	}
	evs := make([]any, n)
	for i := range evs {
		evs[i] = map[string]string{"message": fmt.Sprintf("client %d", i), "pad": pad}
	}
	cl, err := v2.SyncDial(r.Addrs()[0].String(), v2.Timeout(5*time.Second), v2.CompressionLevel(3))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if acked, err := cl.Send(evs); acked != n || err != nil {
		t.Errorf("go-lumber Send = %d, %v", acked, err)
	}
	if got := len(sink.Records("alpha")); got != 2*n {
		t.Errorf("%d records, want %d", got, 2*n)
	}
}

// TestBackpressure: while the sink pushes back, the window is not
// acknowledged (only keepalives, sequence 0, reach the shipper) and
// nothing more is read; once the write succeeds the ACK comes, and every
// event is stored once.
func TestBackpressure(t *testing.T) {
	cfg := config(Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "alpha"})
	cfg.Keepalive = 100 * time.Millisecond
	r, sink := start(t, cfg)

	sink.FailWith(fmt.Errorf("%w: stream full (test)", errBackpressure()))
	c := dialRaw(t, r.Addrs()[0])
	c.send(cat(windowFrame(2), jsonFrame(1, `{"n":1}`), jsonFrame(2, `{"n":2}`)))
	c.send(cat(windowFrame(1), jsonFrame(1, `{"n":3}`)))
	var keepalives int
	deadline := time.Now().Add(600 * time.Millisecond)
	for time.Now().Before(deadline) {
		seq, ok, err := c.ack(100 * time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if ok && seq != 0 {
			t.Fatalf("ACK %d while the sink refuses every write", seq)
		}
		if ok {
			keepalives++
		}
	}
	if keepalives < 2 {
		t.Errorf("%d keepalives in 600ms at a 100ms keepalive", keepalives)
	}
	if n := sink.Total(); n != 0 {
		t.Fatalf("%d records under back-pressure", n)
	}
	refused := sink.Writes()
	if refused < 3 {
		t.Errorf("%d write attempts: not retried", refused)
	}
	sink.FailWith(nil)
	var acks []uint32
	for len(acks) < 2 {
		seq, ok, err := c.ack(5 * time.Second)
		if err != nil || !ok {
			t.Fatalf("ACK after the sink recovered: %v (acks %v)", err, acks)
		}
		if seq != 0 {
			acks = append(acks, seq)
		}
	}
	if !slices.Equal(acks, []uint32{2, 1}) {
		t.Errorf("acks %v, want [2 1]", acks)
	}
	if diff := cmp.Diff([]string{`{"n":1}`, `{"n":2}`, `{"n":3}`}, sink.docs("alpha")); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if n := sink.Counted(MetricBackpressure, "alpha"); n != 1 {
		t.Errorf("%s = %d, want 1 (one window waited)", MetricBackpressure, n)
	}

	// go-lumber's client through a few refusals: every event once.
	sink.RefuseNext(5)
	before := sink.Writes()
	if err := sendSync(net.Dial, r.Addrs()[0].String(), 3, beatEvents("bp", 100)); err != nil {
		t.Fatal(err)
	}
	if w := sink.Writes() - before; w != 4+5 {
		t.Errorf("%d writes for 4 windows and 5 refusals", w)
	}
	if diff := cmp.Diff(wantMessages("bp", 100), messages(t, sink.docs("alpha")[3:])); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

// TestOtherSinkError: an error that is not back-pressure ends the
// connection unacknowledged: the shipper resends after reconnecting.
func TestOtherSinkError(t *testing.T) {
	r, sink := start(t, config(Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "alpha"}))
	sink.FailWith(errors.New("disk on fire"))
	c := dialRaw(t, r.Addrs()[0])
	c.send(cat(windowFrame(1), jsonFrame(1, `{"n":1}`)))
	if acks, closed := c.acks(5 * time.Second); !closed || len(acks) != 0 {
		t.Errorf("acks %v, closed %v", acks, closed)
	}
	if n := sink.Counted(MetricUnacknowledged, "alpha"); n != 1 {
		t.Errorf("%s = %d, want 1", MetricUnacknowledged, n)
	}
}

// TestShutdown: stopping the receiver ends idle connections at once and
// a window waiting on back-pressure unacknowledged, writing nothing.
func TestShutdown(t *testing.T) {
	sink := newMemSink()
	r, err := New(config(Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "alpha"}), ingest.Deps{Sink: sink, DeadLetters: sink, Tenants: testTenants, Metrics: sink})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	idle := dialRaw(t, r.Addrs()[0])
	busy := dialRaw(t, r.Addrs()[0])
	sink.FailWith(fmt.Errorf("%w: stream full (test)", errBackpressure()))
	busy.send(cat(windowFrame(1), jsonFrame(1, `{"n":1}`)))
	ingesttest.WaitFor(t, 5*time.Second, "a refused write", func() bool { return sink.Writes() > 0 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	for _, c := range []*rawConn{idle, busy} {
		if acks, closed := c.acks(time.Second); !closed || slices.ContainsFunc(acks, func(s uint32) bool { return s != 0 }) {
			t.Errorf("acks %v, closed %v", acks, closed)
		}
	}
	if n := sink.Total(); n != 0 {
		t.Errorf("%d records", n)
	}
}

func TestStartErrors(t *testing.T) {
	sink := newMemSink()
	d := ingest.Deps{Sink: sink, DeadLetters: sink, Tenants: testTenants, Metrics: sink}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r, err := New(config(Listener{Protocol: "tcp", Listen: ln.Addr().String(), Tenant: "alpha"}), d)
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

// TestMissingTenant: a shared listener naming a tenant not created yet
// starts; that tenant's shipper is refused (never acknowledged) while the
// other tenant's is served, and once the tenant exists its next
// connection is acknowledged.
func TestMissingTenant(t *testing.T) {
	dir := ingesttest.NewDirectory("alpha")
	sink := newMemSink()
	r, err := New(config(Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Sources: map[string]string{"127.0.0.1": "alpha", "127.0.0.2": "gwynedd"}}),
		ingest.Deps{Sink: sink, DeadLetters: sink, Tenants: dir, Metrics: sink})
	if err != nil {
		t.Fatal(err)
	}
	ingesttest.Serve(t, r, 1)
	addr := r.Addrs()[0].String()
	if err := sendSync(fromAddr("127.0.0.2"), addr, 0, beatEvents("early", 5)); err == nil {
		t.Error("a missing tenant's window was acknowledged")
	}
	if err := sendSync(fromAddr("127.0.0.1"), addr, 0, beatEvents("alpha", 5)); err != nil {
		t.Errorf("alpha beside a missing tenant: %v", err)
	}
	dir.Add("gwynedd")
	if err := sendSync(fromAddr("127.0.0.2"), addr, 0, beatEvents("gwynedd", 5)); err != nil {
		t.Errorf("gwynedd once created: %v", err)
	}
	if diff := cmp.Diff(wantMessages("gwynedd", 5), messages(t, sink.docs("gwynedd"))); diff != "" {
		t.Errorf("gwynedd (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantMessages("alpha", 5), messages(t, sink.docs("alpha"))); diff != "" {
		t.Errorf("alpha (-want +got):\n%s", diff)
	}
	if n := sink.Counted(MetricRefused, ""); n != 1 {
		t.Errorf("refused = %d, want 1", n)
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
	if _, err := New(config(), ingest.Deps{}); err == nil {
		t.Error("New without Deps")
	}
}

// TestNoListeners: with no listener Run waits for ctx and Addrs is empty.
func TestNoListeners(t *testing.T) {
	r, _ := start(t, DefaultConfig())
	if a := r.Addrs(); len(a) != 0 {
		t.Errorf("Addrs = %v", a)
	}
}

func TestValidate(t *testing.T) {
	ok := Listener{Protocol: "tcp", Listen: "127.0.0.1:5044", Tenant: "alpha"}
	tests := []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"default with a listener", func(c *Config) {}, ""},
		{"default without", func(c *Config) { c.Listeners = nil }, ""},
		{"port only means 127.0.0.1", func(c *Config) { c.Listeners[0].Listen = ":5044" }, ""},
		{"keepalive off", func(c *Config) { c.Keepalive = 0 }, ""},
		{"protocol", func(c *Config) { c.Listeners[0].Protocol = "udp" }, `listeners[0].protocol: "udp" is not one of tcp, tls`},
		{"listen", func(c *Config) { c.Listeners[0].Listen = "5044" }, `listeners[0].listen: "5044"`},
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
		{"tls client tenant", func(c *Config) {
			c.Listeners[0] = Listener{Protocol: "tls", Listen: ":5044", TLS: &TLSConfig{Cert: "c", Key: "k", ClientCA: "ca", Clients: map[string]string{"x": "Bad"}}}
		}, "listeners[0].tls.clients[x]: invalid tenant id"},
		{"tls no tenant", func(c *Config) {
			c.Listeners[0] = Listener{Protocol: "tls", Listen: ":5044", TLS: &TLSConfig{Cert: "c", Key: "k", ClientCA: "ca"}}
		}, "listeners[0].tenant: one of tenant, sources or tls.clients is required"},
		{"twice", func(c *Config) { c.Listeners = append(c.Listeners, ok) }, "listeners[1].listen: 127.0.0.1:5044 is configured twice"},
		{"max event", func(c *Config) { c.MaxEventBytes = 10 }, "max_event_bytes: "},
		{"timeout", func(c *Config) { c.Timeout = 0 }, "timeout: "},
		{"keepalive", func(c *Config) { c.Keepalive = time.Minute }, "keepalive: "},
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
	if diff := cmp.Diff(DefaultConfig(), Config{MaxEventBytes: c.MaxEventBytes, Timeout: c.Timeout, Keepalive: c.Keepalive}); diff != "" {
		t.Errorf("sample's limits differ from the defaults (-default +sample):\n%s", diff)
	}
}
