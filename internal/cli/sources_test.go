package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/health"
	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// TestWriteSources: a source's unparsed events show with their share of
// its events (the parse-error rate); a receiver's own row (its dead
// letters) has no type.
func TestWriteSources(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	var b strings.Builder
	err := writeSources(&b, []health.Source{
		{Key: health.Key{Tenant: "west-fire", Receiver: "http", Host: "fw01"}, Events: 200, Unparsed: 8, LastSeen: now.Add(-time.Minute), State: "ok"},
		{Key: health.Key{Tenant: "west-fire", Receiver: "http"}, DeadLetters: 3, State: "ok"},
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%q", b.String())
	}
	if f := strings.Fields(lines[1]); f[4] != "unknown" || !strings.Contains(lines[1], "8 (4.0%)") {
		t.Errorf("source row %q: want type unknown and 8 (4.0%%) unparsed", lines[1])
	}
	if f := strings.Fields(lines[2]); f[4] != "-" || f[len(f)-1] != "3" {
		t.Errorf("receiver row %q: want type - and 3 dead letters", lines[2])
	}
}

// TestScopedNeedsTenant: a provider's `sources list` or `scorecard`
// without --tenant is a usage error naming the flag (exit 2), not the
// API's 403; a member's token needs none.
func TestScopedNeedsTenant(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	s.AddTenant(t, "gwynedd")
	admin := cmdEnv{url: s.URL, token: servertest.AdminToken}
	for _, args := range [][]string{{"sources", "list"}, {"scorecard"}} {
		code, _, errs := admin.run(t, "", args...)
		if code != 2 || !strings.Contains(errs, "--tenant ID, or --tenant '*'") || strings.Contains(errs, "HTTP 403") {
			t.Errorf("%q as provider: exit %d, %q; want 2 naming --tenant", args, code, errs)
		}
		if code, _, errs := admin.run(t, "", append(args, "--tenant", "*")...); code != 0 {
			t.Errorf("%q --tenant '*': exit %d, %q", args, code, errs)
		}
	}
	member := cmdEnv{url: s.URL, token: s.Token(t, "gwynedd", "tenant-viewer")}
	if code, out, errs := member.run(t, "", "scorecard"); code != 0 || !strings.Contains(out, "(gwynedd)") {
		t.Errorf("scorecard as a member: exit %d, %q %q", code, out, errs)
	}
}
