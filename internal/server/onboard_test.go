package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/ingest/syslog"
	"github.com/tarian-soc/tarian/internal/parse"
	"github.com/tarian-soc/tarian/internal/server"
	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// octet frames msg for syslog over TCP (RFC 6587 octet counting).
func octet(msg string) string { return fmt.Sprintf("%d %s", len(msg), msg) }

// waitCount polls a LogsQL count of token's tenant until it is want.
func waitCount(t *testing.T, s *servertest.Server, token, query string, want int) {
	t.Helper()
	q := "/api/v1/search?limit=10&q=" + url.QueryEscape(query+" | stats count() as n")
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := s.Do(t, "GET", q, token, nil)
		if strings.Contains(string(body), fmt.Sprintf(`"n":"%d"`, want)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("count of %s: %s, want %d", query, body, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// metric returns the line of /metrics that starts with name, or "".
func metric(t *testing.T, s *servertest.Server, name string) string {
	t.Helper()
	_, body := s.Do(t, "GET", "/metrics", servertest.AdminToken, nil)
	for line := range strings.Lines(string(body)) {
		if strings.HasPrefix(line, name+" ") {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// wantClosed fails unless the server closes c.
func wantClosed(t *testing.T, c net.Conn, what string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := c.Read(make([]byte, 1))
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s: read = %v, want the connection closed", what, err)
	}
}

// TestOnboardTenantWithoutRestart is issue 17's onboarding: a syslog
// listener configured for a member not created yet does not stop the
// server; its traffic is refused (and flagged) until the tenant is added
// through the API, then the next connection's records are accepted and
// searchable, with no restart. Another member's listener traffic, on one
// connection, is never interrupted.
func TestOnboardTenantWithoutRestart(t *testing.T) {
	cfg := servertest.Config(t.TempDir())
	cfg.Syslog.Listeners = []syslog.Listener{
		{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "gwynedd"},
		{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "cardiff"},
	}
	s := servertest.Start(t, cfg)
	s.AddTenant(t, "cardiff")
	addrs := s.SyslogAddrs()
	if len(addrs) != 2 {
		t.Fatalf("syslog listeners: %v", addrs)
	}
	cardiffTok := s.Token(t, "cardiff", "tenant-analyst")

	// cardiff's shipper: one connection for the whole test.
	cardiff, err := net.Dial("tcp", addrs[1].String())
	if err != nil {
		t.Fatal(err)
	}
	defer cardiff.Close()
	sendCardiff := func(tag string) {
		for i := range 20 {
			if _, err := io.WriteString(cardiff, octet(fmt.Sprintf("<38>1 2026-11-25T10:00:%02dZ fw01 sshd 1 - - cardiff-%s %d", i, tag, i))); err != nil {
				t.Fatalf("cardiff's connection (%s): %v", tag, err)
			}
		}
	}
	sendCardiff("before")

	// gwynedd does not exist: refused, flagged, and nothing stored.
	early, err := net.Dial("tcp", addrs[0].String())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(early, octet("<38>1 2026-11-25T10:00:00Z gw01 sshd 1 - - gwynedd-early"))
	wantClosed(t, early, "gwynedd before it exists")
	early.Close()
	if got := metric(t, s, server.MetricTenantMissing+`{tenant="gwynedd"}`); !strings.HasSuffix(got, " 1") {
		t.Errorf("missing-tenant flag while gwynedd does not exist: %q", got)
	}
	if got := metric(t, s, server.MetricTenantMissing+`{tenant="cardiff"}`); !strings.HasSuffix(got, " 0") {
		t.Errorf("missing-tenant flag of cardiff: %q", got)
	}
	if got := metric(t, s, syslog.MetricRefused+`{tenant=""}`); !strings.HasSuffix(got, " 1") {
		t.Errorf("refused senders: %q", got)
	}
	sendCardiff("during")

	// Onboard gwynedd through the API; the next connection is accepted.
	s.AddTenant(t, "gwynedd")
	gwyneddTok := s.Token(t, "gwynedd", "tenant-analyst")
	c, err := net.Dial("tcp", addrs[0].String())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := io.WriteString(c, octet(fmt.Sprintf("<38>1 2026-11-25T10:01:%02dZ gw01 sshd 1 - - gwynedd-ontime %d", i, i))); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	sendCardiff("after")

	waitCount(t, s, gwyneddTok, `"gwynedd-ontime"`, 10)
	waitCount(t, s, gwyneddTok, `"gwynedd-early"`, 0)
	waitCount(t, s, cardiffTok, `"cardiff-before" OR "cardiff-during" OR "cardiff-after"`, 60)
	waitCount(t, s, cardiffTok, `"gwynedd-ontime"`, 0)
	if got := metric(t, s, server.MetricTenantMissing+`{tenant="gwynedd"}`); !strings.HasSuffix(got, " 0") {
		t.Errorf("missing-tenant flag once gwynedd exists: %q", got)
	}
}

// TestReload: listeners, log sources and limits change on a running
// server; the connection to a listener that stays keeps working, and an
// invalid configuration changes nothing.
func TestReload(t *testing.T) {
	ctx := context.Background()
	cfg := servertest.Config(t.TempDir())
	// Listeners on port 0 (a port picked beforehand could be taken by
	// another test's connection before the server binds it); their
	// addresses are read back.
	a := syslog.Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "cardiff"}
	cfg.Syslog.Listeners = []syslog.Listener{a}
	s := servertest.Start(t, cfg)
	s.AddTenant(t, "cardiff")
	s.AddTenant(t, "swansea")
	cardiffTok, swanseaTok := s.Token(t, "cardiff", "tenant-analyst"), s.Token(t, "swansea", "tenant-analyst")
	aAddr := s.SyslogAddrs()[0].String()
	ca, err := net.Dial("tcp", aAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	send := func(c net.Conn, tag string) {
		t.Helper()
		if _, err := io.WriteString(c, octet("<38>1 2026-11-25T10:00:00Z fw01 sshd 1 - - "+tag)); err != nil {
			t.Fatalf("%s: %v", tag, err)
		}
	}
	send(ca, "reload-a1")
	waitCount(t, s, cardiffTok, `"reload-a1"`, 1)

	// Invalid: refused with the reason, nothing changes.
	bad := cfg
	bad.Syslog.Listeners = []syslog.Listener{a, {Protocol: "tcp", Listen: "127.0.0.1:0"}}
	if err := s.Reload(ctx, bad); err == nil || !strings.Contains(err.Error(), "syslog.listeners[1].tenant") {
		t.Errorf("invalid reload: %v", err)
	}
	if n := len(s.SyslogAddrs()); n != 1 {
		t.Fatalf("after a refused reload: %d listeners", n)
	}

	// Add a listener for swansea, a log source, a limit and the HEC
	// receiver; bus.max_age waits for a restart.
	next := cfg
	b := syslog.Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "swansea"}
	next.Syslog.Listeners = []syslog.Listener{a, b}
	next.Sources = []parse.Source{{Name: "swansea-fw", Tenant: "swansea", Receiver: "syslog", Type: parse.Auto}}
	next.Limits = ingest.LimitsConfig{Tenants: map[string]ingest.Limit{"cardiff": {BytesPerDay: 1}}}
	next.HEC.Listen = "127.0.0.1:0"
	next.Bus.MaxAge = cfg.Bus.MaxAge + time.Hour
	if err := s.Reload(ctx, next); err != nil {
		t.Fatal(err)
	}
	got := s.SyslogAddrs()
	if len(got) != 2 || got[0].String() != aAddr {
		t.Fatalf("syslog listeners after the reload: %v (a was on %s)", got, aAddr)
	}
	bAddr := got[1].String()
	if s.HECAddr() == nil {
		t.Error("HEC receiver not started by the reload")
	}
	cb, err := net.Dial("tcp", bAddr)
	if err != nil {
		t.Fatal(err)
	}
	send(cb, "reload-b1")
	cb.Close()
	waitCount(t, s, swanseaTok, `"reload-b1" tarian.source.name:"swansea-fw"`, 1)

	// cardiff's connection still works; its new limit (1 byte a day) lets
	// the day's first record through (larger than the whole quota, it
	// spends it) and holds the next back, and lifting the limit lets that
	// through, on the same connection.
	send(ca, "reload-a2")
	waitCount(t, s, cardiffTok, `"reload-a2"`, 1)
	send(ca, "reload-a3")
	time.Sleep(300 * time.Millisecond)
	waitCount(t, s, cardiffTok, `"reload-a3"`, 0)
	next.Limits = ingest.LimitsConfig{}
	if err := s.Reload(ctx, next); err != nil {
		t.Fatal(err)
	}
	waitCount(t, s, cardiffTok, `"reload-a3"`, 1)

	// Remove a: its connection ends, b stays.
	last := next
	last.Syslog.Listeners = []syslog.Listener{b}
	if err := s.Reload(ctx, last); err != nil {
		t.Fatal(err)
	}
	wantClosed(t, ca, "connection to a removed listener")
	if got := s.SyslogAddrs(); len(got) != 1 || got[0].String() != bAddr {
		t.Errorf("syslog listeners after removing a: %v", got)
	}

	// Every reload, refused or applied, is in the provider's audit chain.
	_, body := s.Do(t, "GET", "/api/v1/audit?tenant=*&limit=100", servertest.AdminToken, nil)
	trail := string(body)
	for _, want := range []string{`config.reload.failure`, `syslog.listeners[1].tenant`, `"action":"config.reload"`, `\"next_restart\":[\"bus\"]`} {
		if !strings.Contains(trail, want) {
			t.Errorf("the audit trail lacks %s:\n%s", want, trail)
		}
	}
	if n := strings.Count(trail, `"action":"config.reload"`); n != 3 {
		t.Errorf("%d config.reload records, want 3 (one per applied reload)", n)
	}
}

// TestReloadKeepsUnchanged: reloading the same configuration restarts
// nothing.
func TestReloadKeepsUnchanged(t *testing.T) {
	cfg := servertest.Config(t.TempDir())
	cfg.Syslog.Listeners = []syslog.Listener{{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "cardiff"}}
	cfg.HEC.Listen = "127.0.0.1:0"
	s := servertest.Start(t, cfg)
	before, hec := s.SyslogAddrs()[0].String(), s.HECAddr().String()
	if err := s.Reload(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if got := s.SyslogAddrs()[0].String(); got != before {
		t.Errorf("syslog listener moved from %s to %s", before, got)
	}
	if got := s.HECAddr().String(); got != hec {
		t.Errorf("HEC receiver moved from %s to %s", hec, got)
	}
}
