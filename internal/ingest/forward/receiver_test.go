package forward

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/ingest/ingesttest"
	"github.com/tarian-soc/tarian/internal/ingest/listener"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// memSink is the shared in-memory pipeline boundary, with this package's
// view of its records.
type memSink struct{ *ingesttest.Sink }

func newMemSink() *memSink { return &memSink{ingesttest.NewSink()} }

// data returns tenant t's records as strings.
func (s *memSink) data(t tenant.ID) []string {
	var out []string
	for _, r := range s.Records(t) {
		out = append(out, string(r.Data))
	}
	return out
}

var testTenants = ingesttest.TenantList{"alpha", "bravo", "charlie"}

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

// tcpConfig has one plain listener per tenant given.
func tcpConfig(tenants ...string) Config {
	cfg := DefaultConfig()
	for _, tn := range tenants {
		cfg.Listeners = append(cfg.Listeners, Listener{Config: listener.Config{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: tn}})
	}
	return cfg
}

// pack encodes v with a real MessagePack encoder.
func pack(t testing.TB, v ...any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(true)
	for _, x := range v {
		if err := enc.Encode(x); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// readAck reads one {"ack": id} from c, or fails after d.
func readAck(t testing.TB, c net.Conn, d time.Duration) (string, error) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(d)); err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	err := msgpack.NewDecoder(c).Decode(&m)
	return m["ack"], err
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"default", func(*Config) {}, ""},
		{"udp", func(c *Config) {
			c.Listeners = []Listener{{Config: listener.Config{Protocol: "udp", Listen: ":24224", Tenant: "alpha"}}}
		}, "listeners[0].protocol"},
		{"no tenant", func(c *Config) {
			c.Listeners = []Listener{{Config: listener.Config{Protocol: "tcp", Listen: ":24224"}}}
		}, "listeners[0].tenant: one of"},
		{"two modes", func(c *Config) {
			c.Listeners = []Listener{{Config: listener.Config{Protocol: "tcp", Listen: ":24224", Tenant: "alpha", Sources: map[string]string{"10.0.0.1": "bravo"}}}}
		}, "set only one"},
		{"bad source", func(c *Config) {
			c.Listeners = []Listener{{Config: listener.Config{Protocol: "tcp", Listen: ":24224", Sources: map[string]string{"nope": "bravo"}}}}
		}, "listeners[0].sources"},
		{"tls without certs", func(c *Config) {
			c.Listeners = []Listener{{Config: listener.Config{Protocol: "tls", Listen: ":24224", Tenant: "alpha"}}}
		}, "listeners[0].tls"},
		{"hostname without key", func(c *Config) {
			c.Listeners = []Listener{{Config: listener.Config{Protocol: "tcp", Listen: ":24224", Tenant: "alpha"}, Hostname: "x"}}
		}, "listeners[0].hostname"},
		{"twice", func(c *Config) {
			c.Listeners = []Listener{
				{Config: listener.Config{Protocol: "tcp", Listen: ":24224", Tenant: "alpha"}},
				{Config: listener.Config{Protocol: "tcp", Listen: "127.0.0.1:24224", Tenant: "bravo"}},
			}
		}, "configured twice"},
		{"max message", func(c *Config) { c.MaxMessageBytes = 10 }, "max_message_bytes"},
		{"max record", func(c *Config) { c.MaxRecordBytes = 10 }, "max_record_bytes"},
		{"max inflated", func(c *Config) { c.MaxDecompressedBytes = 10 }, "max_decompressed_bytes"},
		{"batch", func(c *Config) { c.BatchRecords = 0 }, "batch_records"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mod(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// TestMissingTenant: a listener naming a tenant not created yet starts
// and closes its senders' connections unacknowledged; once the tenant
// exists the next connection's chunk is written and acknowledged.
func TestMissingTenant(t *testing.T) {
	dir := ingesttest.NewDirectory("alpha")
	sink := newMemSink()
	r, err := New(tcpConfig("gwynedd"), ingest.Deps{Sink: sink, DeadLetters: sink, Tenants: dir, Metrics: sink})
	if err != nil {
		t.Fatal(err)
	}
	ingesttest.Serve(t, r, 1)
	send := func() (string, error) {
		c, err := net.Dial("tcp", r.Addrs()[0].String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write(pack(t, []any{"app", 1714558953, map[string]any{"n": 1}, map[string]any{"chunk": "c1"}})); err != nil {
			return "", err
		}
		return readAck(t, c, 5*time.Second)
	}
	if ack, err := send(); err == nil {
		t.Errorf("a missing tenant's chunk was acknowledged (%q)", ack)
	}
	if n := sink.Total(); n != 0 {
		t.Errorf("%d records written for a missing tenant", n)
	}
	dir.Add("gwynedd")
	if ack, err := send(); err != nil || ack != "c1" {
		t.Errorf("once created: ack %q, %v", ack, err)
	}
	if got := sink.data("gwynedd"); len(got) != 1 {
		t.Errorf("gwynedd: %q", got)
	}
	if n := sink.Counted(MetricRefused, ""); n != 1 {
		t.Errorf("refused = %d, want 1", n)
	}
}

// Each listener's senders land in its tenant only.
func TestPerListenerTenant(t *testing.T) {
	r, sink := start(t, tcpConfig("alpha", "bravo"))
	for i, a := range r.Addrs() {
		c, err := net.Dial("tcp", a.String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(pack(t, []any{"app", 1714558953, map[string]any{"n": i}})); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	ingesttest.WaitFor(t, 5*time.Second, "two records", func() bool { return sink.Total() == 2 })
	want := map[tenant.ID]string{
		"alpha": `{"n":0,"@timestamp":"2024-05-01T10:22:33Z","fluent.tag":"app"}`,
		"bravo": `{"n":1,"@timestamp":"2024-05-01T10:22:33Z","fluent.tag":"app"}`,
	}
	for tn, w := range want {
		if got := sink.data(tn); len(got) != 1 || got[0] != w {
			t.Errorf("%s: got %q, want [%s]", tn, got, w)
		}
	}
}

// A shared listener gives each allow-listed source address its tenant and
// refuses any other, storing nothing for it.
func TestSourceAddresses(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Listeners = []Listener{{Config: listener.Config{Protocol: "tcp", Listen: "127.0.0.1:0", Sources: map[string]string{
		"127.0.0.2":    "alpha",
		"127.0.0.0/30": "bravo", // 127.0.0.1-3, less specific than .2
	}}}}
	r, sink := start(t, cfg)
	addr := r.Addrs()[0].String()
	send := func(from string, n int) error {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write(pack(t, []any{"src", 1714558953, map[string]any{"from": from, "n": n}, map[string]any{"chunk": from}})); err != nil {
			return err
		}
		_, err = readAck(t, c, 5*time.Second)
		return err
	}
	if err := send("127.0.0.2", 1); err != nil {
		t.Fatalf("allow-listed 127.0.0.2: %v", err)
	}
	if err := send("127.0.0.3", 2); err != nil {
		t.Fatalf("allow-listed 127.0.0.3: %v", err)
	}
	if err := send("127.0.0.5", 3); err == nil {
		t.Fatal("127.0.0.5 is not allow-listed but got an ack")
	}
	ingesttest.WaitFor(t, 5*time.Second, "refusal counted", func() bool { return sink.Counted(MetricRefused, "") == 1 })
	if got := sink.data("alpha"); len(got) != 1 || !strings.Contains(got[0], `"from":"127.0.0.2"`) {
		t.Errorf("alpha: %q", got)
	}
	if got := sink.data("bravo"); len(got) != 1 || !strings.Contains(got[0], `"from":"127.0.0.3"`) {
		t.Errorf("bravo: %q", got)
	}
	if sink.Total() != 2 || sink.DeadTotal() != 0 {
		t.Errorf("stored %d records, %d dead letters; want 2, 0", sink.Total(), sink.DeadTotal())
	}
}

// An acknowledgement is sent only once the records are durable: while
// the sink refuses, none comes; the records land once when it accepts.
func TestAckOnlyAfterDurableWrite(t *testing.T) {
	r, sink := start(t, tcpConfig("alpha"))
	sink.FailWith(errors.New("bus down (test)"))
	c, err := net.Dial("tcp", r.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := pack(t, []any{"app", []any{[]any{1714558953, map[string]any{"a": 1}}, []any{1714558954, map[string]any{"a": 2}}}, map[string]any{"chunk": "c1", "size": 2}})
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	if _, err := readAck(t, c, 500*time.Millisecond); err == nil {
		t.Fatal("acknowledged while the sink refuses every write")
	}
	ingesttest.WaitFor(t, 5*time.Second, "retries", func() bool { return sink.Writes() >= 3 })
	if sink.Total() != 0 {
		t.Fatalf("%d records stored by a failing sink", sink.Total())
	}
	sink.FailWith(nil)
	id, err := readAck(t, c, 5*time.Second)
	if err != nil || id != "c1" {
		t.Fatalf("ack %q, %v; want c1", id, err)
	}
	if got := sink.data("alpha"); len(got) != 2 {
		t.Fatalf("records after the sink recovered: %q", got)
	}
	if n := sink.Counted(MetricEvents, "alpha"); n != 2 {
		t.Errorf("%s = %d, want 2", MetricEvents, n)
	}
}

// Under bus back-pressure the connection stops reading and retries; every
// record lands exactly once, and every chunk is acknowledged in order.
func TestBackpressure(t *testing.T) {
	r, sink := start(t, tcpConfig("alpha"))
	sink.RefuseNext(5)
	c, err := net.Dial("tcp", r.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var want []string
	for i := range 20 {
		chunk := fmt.Sprintf("chunk-%02d", i)
		if _, err := c.Write(pack(t, []any{"bp", 1714558953, map[string]any{"i": i}, map[string]any{"chunk": chunk}})); err != nil {
			t.Fatal(err)
		}
		id, err := readAck(t, c, 10*time.Second)
		if err != nil || id != chunk {
			t.Fatalf("ack %d: %q, %v", i, id, err)
		}
		want = append(want, fmt.Sprintf(`{"i":%d,"@timestamp":"2024-05-01T10:22:33Z","fluent.tag":"bp"}`, i))
	}
	if got := sink.data("alpha"); !slices.Equal(got, want) {
		t.Fatalf("records:\n%q\nwant\n%q", got, want)
	}
	if sink.Writes() < 25 {
		t.Errorf("%d writes: the 5 refusals were not retried", sink.Writes())
	}
}

// Input that is not the Forward protocol closes the connection, counted,
// with what was read dead-lettered; records before it are kept.
func TestMalformedClosesConnection(t *testing.T) {
	for _, tc := range []struct {
		name   string
		input  []byte
		reason string
	}{
		{"never-used byte", []byte{0xc1, 0x01, 0x02}, "0xc1"},
		{"not an array", []byte("GET / HTTP/1.1\r\n\r\n"), "not an array"},
		{"bad gzip", nil, "gzip"},
		{"too large", []byte{0xc6, 0x7f, 0xff, 0xff, 0xff}, "over the"},
		{"truncated", []byte{0x93, 0xa3, 'a', 'p', 'p'}, "closed inside a message"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, sink := start(t, tcpConfig("alpha"))
			input := tc.input
			if input == nil {
				input = pack(t, []any{"z", []byte("not gzip at all"), map[string]any{"compressed": "gzip", "chunk": "x"}})
			}
			c, err := net.Dial("tcp", r.Addrs()[0].String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			good := pack(t, []any{"ok", 1714558953, map[string]any{"before": true}})
			if _, err := c.Write(append(good, input...)); err != nil {
				t.Fatal(err)
			}
			if tc.name == "truncated" {
				c.(*net.TCPConn).CloseWrite()
			}
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			got, err := io.ReadAll(c)
			if err != nil {
				t.Fatalf("connection not closed by the receiver: %v", err)
			}
			if len(got) > 0 {
				// Only the bad message asks for one: it must not have it.
				t.Errorf("the malformed message was acknowledged: % x", got)
			}
			ingesttest.WaitFor(t, 5*time.Second, "dead letter", func() bool { return sink.DeadTotal() == 1 })
			if n := sink.Counted(MetricMalformed, "alpha"); n != 1 {
				t.Errorf("%s = %d, want 1", MetricMalformed, n)
			}
			dl := sink.DeadLetters("alpha")[0]
			if !strings.Contains(dl.Reason, tc.reason) || dl.Source != Source {
				t.Errorf("dead letter reason %q (source %q), want it to say %q", dl.Reason, dl.Source, tc.reason)
			}
			if got := sink.data("alpha"); len(got) != 1 || !strings.Contains(got[0], `"before":true`) {
				t.Errorf("record before the bad input: %q", got)
			}
		})
	}
}

// Records that cannot become JSON are dead-lettered with the reason; the
// rest of the message lands and the chunk is acknowledged.
func TestRecordDeadLetters(t *testing.T) {
	r, sink := start(t, tcpConfig("alpha"))
	c, err := net.Dial("tcp", r.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := pack(t, []any{"mixed", []any{
		[]any{1714558953, map[string]any{"ok": 1}},
		[]any{1714558953, "not a map"},
		[]any{1714558953, map[string]any{"nan": nanValue()}},
		[]any{"yesterday", map[string]any{"x": 1}},
		[]any{1714558953, map[string]any{"ok": 2}},
	}, map[string]any{"chunk": "m1"}})
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	if id, err := readAck(t, c, 5*time.Second); err != nil || id != "m1" {
		t.Fatalf("ack %q, %v", id, err)
	}
	if got := sink.data("alpha"); len(got) != 2 {
		t.Fatalf("records: %q", got)
	}
	var reasons []string
	for _, d := range sink.DeadLetters("alpha") {
		reasons = append(reasons, d.Reason)
	}
	want := []string{"entry 1: record is a string, not a map", `entry 2: value of "nan": float NaN cannot be JSON`, "entry 3: time: a string is not a time"}
	if !slices.Equal(reasons, want) {
		t.Errorf("reasons:\n%q\nwant\n%q", reasons, want)
	}
	if n := sink.Counted(MetricRejected, "alpha"); n != 3 {
		t.Errorf("%s = %d, want 3", MetricRejected, n)
	}
}

func tenantOf(s string) tenant.ID { return tenant.ID(s) }

// lastChunk reads a message's chunk option with vmihailenco/msgpack (a
// general decoder, to check ours against): "" without one.
func lastChunk(msg []byte) (string, error) {
	dec := msgpack.NewDecoder(bytes.NewReader(msg))
	n, err := dec.DecodeArrayLen()
	if err != nil {
		return "", err
	}
	for range n - 1 {
		if err := dec.Skip(); err != nil {
			return "", err
		}
	}
	if n < 3 {
		return "", nil
	}
	opt, err := dec.DecodeInterface()
	if err != nil {
		return "", err
	}
	m, _ := opt.(map[string]any)
	c, _ := m["chunk"].(string)
	return c, nil
}
