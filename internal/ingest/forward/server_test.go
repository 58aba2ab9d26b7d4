package forward_test

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fluent/fluent-logger-golang/fluent"

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
