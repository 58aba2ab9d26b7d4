package lumberjack_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	v2 "github.com/elastic/go-lumber/client/v2"

	"github.com/tarian-soc/tarian/internal/ingest/lumberjack"
	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// Through a whole server: Winlogbeat-like events sent with go-lumber's
// client (compression 3, as Beats send) are acknowledged, searchable,
// parsed, in the listener's tenant only; a non-object is a dead letter of
// that tenant.
func TestLumberjackThroughServer(t *testing.T) {
	dir := t.TempDir()
	// The tenants must exist before the listener that names them starts.
	first := servertest.Start(t, servertest.Config(dir))
	first.AddTenant(t, "cardiff")
	first.AddTenant(t, "swansea")
	first.Stop(t)

	cfg := servertest.Config(dir)
	cfg.Lumberjack.Listeners = []lumberjack.Listener{{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "cardiff"}}
	s := servertest.Start(t, cfg)
	addrs := s.LumberjackAddrs()
	if len(addrs) != 1 {
		t.Fatalf("lumberjack listeners: %v", addrs)
	}
	c, err := v2.SyncDial(addrs[0].String(), v2.Timeout(10*time.Second), v2.CompressionLevel(3))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var evs []any
	for i := range 40 {
		evs = append(evs, map[string]any{
			"@timestamp": fmt.Sprintf("2026-11-25T10:00:%02dZ", i),
			"@metadata":  map[string]any{"beat": "winlogbeat", "version": "8.17.0"},
			"message":    fmt.Sprintf("lumber-marker logon failure %d", i),
			"host":       map[string]any{"name": "dc01"},
			"winlog":     map[string]any{"channel": "Security", "event_id": "4625"},
		})
	}
	evs = append(evs, []int{1, 2, 3})
	if n, err := c.Send(evs); err != nil || n != len(evs) {
		t.Fatalf("Send: acked %d of %d, %v", n, len(evs), err)
	}

	cardiff, swansea := s.Token(t, "cardiff", "tenant-analyst"), s.Token(t, "swansea", "tenant-analyst")
	q := "/api/v1/search?limit=1000&q=" + url.QueryEscape(`"lumber-marker" | stats count() as n`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body := s.Do(t, "GET", q, cardiff, nil)
		if strings.Contains(string(body), `"n":"40"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cardiff count: %s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, body := s.Do(t, "GET", "/api/v1/search?limit=1&q="+url.QueryEscape("lumber-marker"), cardiff, nil)
	for _, want := range []string{`"host.name":"dc01"`, `"EventID":"4625"`, `"tenant":"cardiff"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("search result lacks %s: %s", want, body)
		}
	}
	if _, body := s.Do(t, "GET", q, swansea, nil); !strings.Contains(string(body), `"n":"0"`) {
		t.Errorf("swansea sees cardiff's events: %s", body)
	}
	var dl struct {
		DeadLetters []struct{ Reason, Data string } `json:"dead_letters"`
	}
	s.JSON(t, "GET", "/api/v1/deadletters?tenant=cardiff", servertest.AdminToken, nil, &dl)
	if len(dl.DeadLetters) != 1 || dl.DeadLetters[0].Data != "[1,2,3]" || dl.DeadLetters[0].Reason != "not a JSON object: array" {
		t.Errorf("cardiff dead letters = %+v", dl.DeadLetters)
	}
	s.JSON(t, "GET", "/api/v1/deadletters?tenant=swansea", servertest.AdminToken, nil, &dl)
	if len(dl.DeadLetters) != 0 {
		t.Errorf("swansea dead letters = %+v", dl.DeadLetters)
	}
}
