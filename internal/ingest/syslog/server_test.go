package syslog_test

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/ingest/syslog"
	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// Through a whole server: syslog over TCP lands, parsed, in the listener's
// tenant and is searchable there only.
func TestSyslogThroughServer(t *testing.T) {
	dir := t.TempDir()
	// The tenant must exist before the listener that names it starts.
	first := servertest.Start(t, servertest.Config(dir))
	first.AddTenant(t, "cardiff")
	first.AddTenant(t, "swansea")
	first.Stop(t)

	cfg := servertest.Config(dir)
	cfg.Syslog.Listeners = []syslog.Listener{{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "cardiff"}}
	s := servertest.Start(t, cfg)
	addr := waitListener(t, s)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		msg := fmt.Sprintf("<38>1 2026-11-25T10:00:%02dZ fw01 sshd 4321 - - Failed password for root from 203.0.113.%d port 22 ssh2", i, i)
		fmt.Fprintf(conn, "%d %s", len(msg), msg)
	}
	conn.Close()

	cardiff, swansea := s.Token(t, "cardiff", "tenant-analyst"), s.Token(t, "swansea", "tenant-analyst")
	q := "/api/v1/search?limit=1000&q=" + url.QueryEscape(`"Failed password" | stats count() as n`)
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
	_, body := s.Do(t, "GET", "/api/v1/search?limit=1&q="+url.QueryEscape("process.name:sshd"), cardiff, nil)
	for _, want := range []string{`"host.hostname":"fw01"`, `"process.pid":"4321"`, `"log.syslog.severity.name"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("parsed syslog event lacks %s: %s", want, body)
		}
	}
	if _, body := s.Do(t, "GET", q, swansea, nil); !strings.Contains(string(body), `"n":"0"`) {
		t.Errorf("swansea sees cardiff's syslog: %s", body)
	}
}

// waitListener returns the address the syslog listener bound.
func waitListener(t *testing.T, s *servertest.Server) string {
	t.Helper()
	addrs := s.SyslogAddrs()
	if len(addrs) != 1 {
		t.Fatalf("syslog listeners: %v", addrs)
	}
	return addrs[0].String()
}
