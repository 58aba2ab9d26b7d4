package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestIntelPatternRetroHunt: STIX indicators that are patterns only (no
// value the index holds) are retro-hunted over stored events when
// imported, as they are matched live; one no search can express says so
// at import and in `intel hunts`.
func TestIntelPatternRetroHunt(t *testing.T) {
	s := startServer(t, t.TempDir())
	s.addTenant("gwynedd")
	ingest := s.createToken("gwynedd", "ingest").Token
	analyst := s.createToken("", "provider-analyst").Token

	dayAgo := time.Now().UTC().Add(-24 * time.Hour)
	conn := func(port, n int) string {
		return sysmonEvent(3, "G-WS1", dayAgo.Add(time.Duration(n)*time.Minute), n, map[string]any{"DestinationIp": "198.51.100.7", "DestinationPort": port, "Image": `C:\x\beacon.exe`, "User": `CORP\eve`})
	}
	s.ingestLines(ingest, conn(4444, 1), conn(443, 2))
	s.waitDetected()
	s.waitIndexed()

	const huntable, unhuntable = "indicator--5e2a0000-0000-4000-8000-000000000101", "indicator--5e2a0000-0000-4000-8000-000000000102"
	ind := func(id, pattern string) map[string]any {
		return map[string]any{"type": "indicator", "spec_version": "2.1", "id": id, "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
			"name": "beacon " + id[len(id)-3:], "pattern": pattern, "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00.000Z"}
	}
	bundle, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--5e2a0000-0000-4000-8000-000000000100", "objects": []any{
		ind(huntable, "[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 4444]"),
		ind(unhuntable, "[process:command_line MATCHES '^beacon']"),
	}})
	f := filepath.Join(t.TempDir(), "bundle.json")
	if err := os.WriteFile(f, bundle, 0o600); err != nil {
		t.Fatal(err)
	}
	out := s.mustCLI(analyst, "intel", "import", "--tlp", "green", f)
	if !strings.Contains(out, unhuntable) || !strings.Contains(out, "not retro-hunted") || strings.Contains(out, huntable+": not retro-hunted") {
		t.Errorf("import printed %q, want a note on the pattern no search can express", out)
	}

	as := s.waitAlerts(analyst, "gwynedd", "pattern retro-hunt", func(as []queueAlert) bool { return len(as) >= 1 })
	if len(as) != 1 || as[0].Producer != "retrohunt" || as[0].RuleID != "intel:"+huntable {
		t.Errorf("alerts = %+v, want one retro-hunt alert of %s (the port 443 connection is not one)", as, huntable)
	}
	deadline := time.Now().Add(indexTimeout)
	for {
		hunts := s.mustCLI(analyst, "intel", "hunts", "--indicator", unhuntable, "--json")
		if strings.Contains(hunts, `"status":"skipped"`) && strings.Contains(hunts, "matched on new events only") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hunts of the pattern no search expresses: %s", hunts)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if hunts := s.mustCLI(analyst, "intel", "hunts", "--indicator", huntable, "--json"); !strings.Contains(hunts, `"status":"done"`) || !strings.Contains(hunts, `"hits":1`) {
		t.Errorf("hunts of %s: %s", huntable, hunts)
	}
}
