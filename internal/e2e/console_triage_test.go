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

// TestConsoleTriage drives a night shift's triage in the web console
// (web/tests/triage.mjs) over four new alerts of one member: `a` in the
// queue of new alerts acknowledges the current row and the next row takes
// its place (current and focused), so `a` again acknowledges that one; a
// lost connection shows a banner and fails the filter changed meanwhile,
// and when it is back the queue shows that filter's answer unasked; an
// alert resolved with a note shows the note and offers Reopen only, which
// puts it back in progress. Then the server must hold two acknowledged
// alerts, one in progress (reopened, unresolved) and one still new.
func TestConsoleTriage(t *testing.T) {
	consoleBrowser(t)
	dir := t.TempDir()
	s := twoMembers(t, dir, queueRules)
	at := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	var lines []string
	for i := 1; i <= 4; i++ {
		lines = append(lines, sysmonProc(fmt.Sprintf("WS%d", i), fmt.Sprintf(`GWYNEDD\user%d`, i), `C:\Windows\System32\whoami.exe`, at, i))
	}
	events := filepath.Join(dir, "gwynedd.jsonl")
	if err := os.WriteFile(events, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.mustCLI(s.createToken("gwynedd", "ingest").Token, "ingest", events)
	s.waitDetected()
	if n := len(s.alertList(adminToken, "--tenant", "gwynedd")); n != 4 {
		t.Fatalf("%d alerts before the browser starts, want 4", n)
	}

	const user, password = "ceri", "a long console password"
	body, _ := json.Marshal(map[string]string{"name": user, "role": "provider-analyst", "password": password})
	if st, _, b := s.do("POST", "/api/v1/users", adminToken, body); st != 201 {
		t.Fatalf("POST /api/v1/users: %d %s", st, b)
	}

	runBrowser(t, s, "triage", "CONSOLE_USER="+user, "CONSOLE_PASSWORD="+password)

	// What the browser did is what the server holds.
	got := map[string]int{}
	for _, a := range s.alertList(adminToken, "--tenant", "gwynedd") {
		got[a.Status]++
	}
	if got["acknowledged"] != 2 || got["in-progress"] != 1 || got["new"] != 1 || len(got) != 3 {
		t.Errorf("after the browser, alerts by status %v, want 2 acknowledged, 1 in progress, 1 new", got)
	}
}
