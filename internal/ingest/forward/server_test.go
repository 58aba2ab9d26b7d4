package forward_test

import (
	"bytes"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fluent/fluent-logger-golang/fluent"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/tarian-soc/tarian/internal/ingest/forward"
	"github.com/tarian-soc/tarian/internal/ingest/listener"
	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// Through a whole server: records from fluent-logger-golang, acknowledged
// (so durable on the bus), are searchable in the listener's tenant, with
// their tag and time, and only there.
func TestForwardThroughServer(t *testing.T) {
	dir := t.TempDir()
	// The tenants must exist before the listeners that name them start.
	first := servertest.Start(t, servertest.Config(dir))
	first.AddTenant(t, "cardiff")
	first.AddTenant(t, "swansea")
	first.Stop(t)

	cfg := servertest.Config(dir)
	cfg.Forward.Listeners = []forward.Listener{
		{Config: listener.Config{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "cardiff"}},
		{Config: listener.Config{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "swansea"}},
	}
	s := servertest.Start(t, cfg)
	addrs := s.ForwardAddrs()
	if len(addrs) != 2 {
		t.Fatalf("forward listeners: %v", addrs)
	}
	_, p, _ := net.SplitHostPort(addrs[0].String())
	port, _ := strconv.Atoi(p)
	f, err := fluent.New(fluent.Config{FluentHost: "127.0.0.1", FluentPort: port, RequestAck: true, SubSecondPrecision: true, Timeout: 5 * time.Second, ReadTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 11, 25, 10, 0, 0, 250_000_000, time.UTC)
	for i := range 50 {
		rec := map[string]any{"message": "Failed password for root from 203.0.113." + strconv.Itoa(i) + " port 22 ssh2", "host": "fw01", "n": i}
		if err := f.PostWithTime("council.auth", ts.Add(time.Duration(i)*time.Second), rec); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()

	cardiff, swansea := s.Token(t, "cardiff", "tenant-analyst"), s.Token(t, "swansea", "tenant-analyst")
	q := "/api/v1/search?limit=1000&from=2026-11-25T00:00:00Z&to=2026-11-26T00:00:00Z&q=" + url.QueryEscape(`"Failed password" | stats count() as n`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body := s.Do(t, "GET", q, cardiff, nil)
		if strings.Contains(string(body), `"n":"50"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cardiff count: %s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, body := s.Do(t, "GET", "/api/v1/search?limit=1&from=2026-11-25T00:00:00Z&to=2026-11-26T00:00:00Z&q="+url.QueryEscape(`n:7`), cardiff, nil)
	for _, want := range []string{`"fluent.tag":"council.auth"`, `"host":"fw01"`, `"@timestamp":"2026-11-25T10:00:07.25Z"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("stored event lacks %s: %s", want, body)
		}
	}
	if _, body := s.Do(t, "GET", q, swansea, nil); !strings.Contains(string(body), `"n":"0"`) {
		t.Errorf("swansea sees cardiff's records: %s", body)
	}
}

// A chunk sent again (its acknowledgement lost: a sender's retry after a
// crash or a dropped connection) is stored once on the real bus; records
// sent without a chunk id cannot be told from new ones and are stored
// again.
func TestForwardChunkResentStoredOnce(t *testing.T) {
	dir := t.TempDir()
	first := servertest.Start(t, servertest.Config(dir))
	first.AddTenant(t, "newport")
	first.Stop(t)
	cfg := servertest.Config(dir)
	cfg.Forward.Listeners = []forward.Listener{{Config: listener.Config{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "newport"}}}
	s := servertest.Start(t, cfg)
	addr := s.ForwardAddrs()[0].String()
	entries := func(kind string, n int) []any {
		var es []any
		for i := range n {
			es = append(es, []any{1764064800 + i, map[string]any{"message": kind + " line " + strconv.Itoa(i)}})
		}
		return es
	}
	chunked := packMsg(t, "app", entries("chunked", 300), map[string]any{"chunk": "Y2h1bmstMQ==", "size": 300})
	plain := packMsg(t, "app", entries("plain", 3))
	for range 2 { // the first sending, then the resend on a new connection
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(append(append([]byte{}, plain...), chunked...)); err != nil {
			t.Fatal(err)
		}
		if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		var ack map[string]string
		if err := msgpack.NewDecoder(c).Decode(&ack); err != nil || ack["ack"] != "Y2h1bmstMQ==" {
			t.Fatalf("ack %v, %v", ack, err)
		}
		c.Close()
	}
	analyst := s.Token(t, "newport", "tenant-analyst")
	want := map[string]string{"chunked": `"n":"300"`, "plain": `"n":"6"`}
	for word, n := range want {
		q := "/api/v1/search?limit=10&from=2025-11-25T00:00:00Z&to=2025-11-26T00:00:00Z&q=" + url.QueryEscape(word+` | stats count() as n`)
		deadline := time.Now().Add(20 * time.Second)
		for {
			_, body := s.Do(t, "GET", q, analyst, nil)
			if strings.Contains(string(body), n) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s records: %s, want %s", word, body, n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// packMsg encodes one Forward mode message: tag, entries and options.
func packMsg(t *testing.T, tag string, entries []any, option ...map[string]any) []byte {
	t.Helper()
	msg := []any{tag, entries}
	for _, o := range option {
		msg = append(msg, o)
	}
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(true)
	if err := enc.Encode(msg); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
