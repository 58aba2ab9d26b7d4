package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConsoleTuning drives tuning a false positive in the web console
// (web/tests/tuning.mjs): a provider analyst suppresses the whoami rule
// for host WS1 from its alert; of two new events WS1's is stopped (a hit)
// and WS2's joins its alert; the suppressions page shows it, also to the
// member's viewer (who can neither remove it nor suppress); the analyst
// removes it. Then the server must hold no suppression, WS1's alert with
// its one event and WS2's with two, and both changes in the member's
// audit chain.
func TestConsoleTuning(t *testing.T) {
	consoleBrowser(t)
	dir := t.TempDir()
	s := twoMembers(t, dir, queueRules)
	at := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	first := sysmonProc("WS1", `GWYNEDD\it`, `C:\Windows\System32\whoami.exe`, at, 1) + "\n" +
		sysmonProc("WS2", `GWYNEDD\bob`, `C:\Windows\System32\whoami.exe`, at, 2) + "\n"
	events := filepath.Join(dir, "gwynedd.jsonl")
	if err := os.WriteFile(events, []byte(first), 0o600); err != nil {
		t.Fatal(err)
	}
	ingest := s.createToken("gwynedd", "ingest").Token
	s.mustCLI(ingest, "ingest", events)
	s.waitDetected()
	ids := map[string]int64{}
	for _, a := range s.alertList(adminToken, "--tenant", "gwynedd") {
		ids[a.Host] = a.ID
	}
	if len(ids) != 2 || ids["WS1"] == 0 || ids["WS2"] == 0 {
		t.Fatalf("alerts by host before the browser: %v, want WS1's and WS2's", ids)
	}

	const user, password = "ceri", "a long console password"
	const viewer, viewerPassword = "dafydd", "gwynedd viewer password"
	for _, u := range []map[string]string{
		{"name": user, "role": "provider-analyst", "password": password},
		{"name": viewer, "tenant": "gwynedd", "role": "tenant-viewer", "password": viewerPassword},
	} {
		body, _ := json.Marshal(u)
		if st, _, b := s.do("POST", "/api/v1/users", adminToken, body); st != 201 {
			t.Fatalf("POST /api/v1/users %s: %d %s", u["name"], st, b)
		}
	}
	now := time.Now().UTC().Truncate(time.Second)
	later := sysmonProc("WS1", `GWYNEDD\it`, `C:\Windows\System32\whoami.exe`, now, 3) + "\n" +
		sysmonProc("WS2", `GWYNEDD\bob`, `C:\Windows\System32\whoami.exe`, now, 4) + "\n"

	runBrowser(t, s, "tuning", "CONSOLE_USER="+user, "CONSOLE_PASSWORD="+password, "VIEWER_USER="+viewer, "VIEWER_PASSWORD="+viewerPassword,
		fmt.Sprintf("ALERT_WS1=%d", ids["WS1"]), fmt.Sprintf("ALERT_WS2=%d", ids["WS2"]), "INGEST_TOKEN="+ingest, "EVENTS="+later)

	if out := strings.TrimSpace(s.mustCLI(adminToken, "suppress", "list", "--tenant", "gwynedd", "--json")); out != "" {
		t.Errorf("suppressions after the browser removed it: %s", out)
	}
	counts := map[string]int{}
	for _, a := range s.alertList(adminToken, "--tenant", "gwynedd") {
		counts[a.Host] += a.Count
	}
	if counts["WS1"] != 1 || counts["WS2"] != 2 {
		t.Errorf("events per host's alerts %v: want WS1's new one stopped (1), WS2's joined (2)", counts)
	}
	var audit struct {
		Records []struct{ Action, Actor string }
	}
	st, _, b := s.do("GET", "/api/v1/audit?tenant=gwynedd&limit=100", adminToken, nil)
	if err := json.Unmarshal(b, &audit); st != 200 || err != nil {
		t.Fatalf("GET /api/v1/audit: %d %s", st, b)
	}
	var got []string
	for _, r := range audit.Records {
		if strings.HasPrefix(r.Action, "suppression.") {
			got = append(got, r.Action+" by "+r.Actor)
		}
	}
	if strings.Join(got, ", ") != "suppression.remove by user:ceri, suppression.add by user:ceri" {
		t.Errorf("gwynedd's audit chain: %v, want the analyst's add and remove", got)
	}
}
