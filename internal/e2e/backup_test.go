package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBackupRestore takes a backup of a server that keeps ingesting, two
// members' events, alerts, a case with a comment and evidence, and an
// indicator, restores it into a fresh data directory and starts a server
// there: the same events (per tenant, and one found by its reference),
// alerts, case, indicator and tokens, an intact audit trail, and new
// events searchable and detected with references after the old ones.
func TestBackupRestore(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	s := twoMembers(t, dir, queueRules)
	ingestG := s.createToken("gwynedd", "ingest").Token
	ingestP := s.createToken("powys", "ingest").Token
	analyst := s.createToken("", "provider-analyst").Token
	member := s.createToken("gwynedd", "tenant-analyst").Token

	// Alerts on both members.
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	var g, p []string
	for i := range 300 {
		g = append(g, sysmonProc("G-WS1", `GWYNEDD\bob`, `C:\Windows\System32\whoami.exe`, start.Add(time.Duration(i)*time.Second), i+1))
		p = append(p, sysmonProc("P-WS1", `POWYS\eve`, `C:\Windows\System32\net.exe`, start.Add(time.Duration(i)*time.Second), i+1))
	}
	s.ingestLines(ingestG, g...)
	s.ingestLines(ingestP, p...)
	s.waitDetected()
	alertsBefore := s.alertList(analyst, "--tenant", "*")
	if len(alertsBefore) != 2 {
		t.Fatalf("alerts before the backup: %+v", alertsBefore)
	}
	gAlert := alertsBefore[0]
	if gAlert.Tenant != "gwynedd" {
		gAlert = alertsBefore[1]
	}
	// A case with a comment and evidence, and an indicator.
	out := s.mustCLI(analyst, "cases", "create", "--tenant", "gwynedd", "--title", "Discovery on G-WS1", "--from-alert", fmt.Sprint(gAlert.ID), "--json")
	var c struct{ ID int64 }
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.ID == 0 {
		t.Fatalf("cases create printed %q: %v", out, err)
	}
	caseID := fmt.Sprint(c.ID)
	s.mustCLI(analyst, "cases", "comment", caseID, "checked with the member: not expected")
	evidence := filepath.Join(dir, "triage.txt")
	if err := os.WriteFile(evidence, []byte("whoami /all output\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ev := strings.Fields(s.mustCLI(analyst, "cases", "evidence", "add", caseID, evidence))
	sha := ev[len(ev)-1]
	s.mustCLI(analyst, "intel", "add", "domain", "backup-evil.example", "--audience", "all", "--confidence", "80", "--name", "backup test")

	// One event, by its reference (an alert's evidence).
	var shown queueAlert
	if err := json.Unmarshal([]byte(s.mustCLI(analyst, "alerts", "show", fmt.Sprint(gAlert.ID), "--json")), &shown); err != nil || len(shown.Evidence) == 0 {
		t.Fatalf("alerts show: %+v, %v", shown, err)
	}
	ref := shown.Evidence[0]
	refQuery := refFilter(t, ref)
	refRows := s.searchRows(analyst, "*", refQuery, 0)
	if len(refRows) != 1 {
		t.Fatalf("event %s before the backup: %d rows", ref, len(refRows))
	}
	rawPath := "/api/v1/raw?tenant=gwynedd&ref=" + ref
	var rawWant []byte
	for deadline := time.Now().Add(indexTimeout); ; time.Sleep(100 * time.Millisecond) { // archived within a second or so
		status, _, b := s.do("GET", rawPath, analyst, nil)
		if status == http.StatusOK {
			rawWant = b
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("raw record of %s: HTTP %d %s", ref, status, b)
		}
	}

	// Ingest goes on, on both members, while the backup runs: events no
	// rule matches, so the alerts stay as they are.
	var stop atomic.Bool
	var wg sync.WaitGroup
	var sent [2]atomic.Int64
	errc := make(chan error, 2)
	for i, tok := range []string{ingestG, ingestP} {
		wg.Go(func() {
			hc := &http.Client{Timeout: time.Minute}
			for n := 0; !stop.Load(); n++ {
				var b bytes.Buffer
				for j := range 50 {
					b.WriteString(sysmonProc(fmt.Sprintf("BG-%d", i), `X\y`, `C:\Windows\notepad.exe`, time.Now().UTC(), n*50+j))
					b.WriteByte('\n')
				}
				req, _ := http.NewRequest("POST", s.url+"/api/v1/ingest", &b)
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", "application/x-ndjson")
				resp, err := hc.Do(req)
				if err != nil {
					errc <- err
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errc <- fmt.Errorf("background ingest: HTTP %d", resp.StatusCode)
					return
				}
				sent[i].Add(50)
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	time.Sleep(500 * time.Millisecond) // ingest under way
	file := filepath.Join(dir, "tarian.tar.zst")
	began := time.Now()
	out = s.mustCLI(adminToken, "backup", file)
	took := time.Since(began)
	time.Sleep(500 * time.Millisecond) // and after
	stop.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`bus position (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("backup printed no bus position:\n%s", out)
	}
	busSeq, _ := strconv.ParseUint(m[1], 10, 64)
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file + ".partial"); !os.IsNotExist(err) {
		t.Errorf("%s.partial left behind: %v", file, err)
	}
	t.Logf("backup: %d bytes in %v, bus position %d, %d+%d background events sent\n%s", fi.Size(), took.Round(time.Millisecond), busSeq, sent[0].Load(), sent[1].Load(), out)
	for line := range strings.Lines(s.log()) {
		if strings.Contains(line, `"msg":"backup `) {
			t.Logf("server: %s", strings.TrimSpace(line))
		}
	}
	if sent[0].Load() == 0 || sent[1].Load() == 0 {
		t.Fatal("no background ingest")
	}

	// What the archive must hold: everything through its bus position.
	s.waitIndexed()
	s.waitDetected()
	wantCounts := s.counts(analyst, "*", fmt.Sprintf("tarian.seq:<=%d", busSeq))
	all := s.counts(analyst, "*", "*")
	if wantCounts["gwynedd"] < 300 || wantCounts["powys"] < 300 || all["gwynedd"] <= wantCounts["gwynedd"] && all["powys"] <= wantCounts["powys"] {
		t.Fatalf("counts through %d: %v; all: %v (the backup should fall in the middle of the ingest)", busSeq, wantCounts, all)
	}
	if ev := regexp.MustCompile(`(\d+) events`).FindStringSubmatch(out); ev == nil || ev[1] != fmt.Sprint(wantCounts["gwynedd"]+wantCounts["powys"]) {
		t.Errorf("the backup says it holds %v events, want %d (through its bus position)", ev, wantCounts["gwynedd"]+wantCounts["powys"])
	}
	alertsWant := s.mustCLI(analyst, "alerts", "list", "--tenant", "*", "--json")
	caseWant := s.mustCLI(analyst, "cases", "show", caseID, "--json")
	intelWant := s.mustCLI(analyst, "intel", "list", "--json")

	// A FILE that cannot be written fails before the server is asked: the
	// trail keeps one backup.create.
	if r := s.cli(adminToken, "backup", filepath.Join(dir, "no-such-dir", "b.tar.zst")); r.code == 0 || !strings.Contains(r.stderr, "cannot write") {
		t.Errorf("backup to a path that cannot be written: exit %d, %s", r.code, r.stderr)
	}
	if out := s.mustCLI(adminToken, "audit", "list", "--tenant", "*", "--json"); strings.Count(out, `"backup.create"`) != 1 || !strings.Contains(out, fmt.Sprintf(`\"bus_seq\":%d`, busSeq)) {
		t.Errorf("no backup.create with the bus position in the provider's audit trail:\n%s", out)
	}
	// A live data directory is refused.
	if r := s.cli("", "restore", "--data", data, "--force", file); r.code != 1 || !strings.Contains(r.stderr, "in use") {
		t.Errorf("restore into the running server's directory: exit %d, %q", r.code, r.stderr)
	}
	s.stop()

	// Restore into a fresh directory and start a server on it.
	data2 := filepath.Join(dir, "restored")
	r := s.cli("", "restore", "--data", data2, file)
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("bus position %d", busSeq)) {
		t.Fatalf("restore: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	s2 := startServer(t, data2)
	if got := s2.counts(analyst, "*", "*"); !equalCounts(got, wantCounts) {
		t.Errorf("restored counts %v, want %v", got, wantCounts)
	}
	if rows := s2.searchRows(analyst, "*", refQuery, 0); len(rows) != 1 || rows[0]["_msg"] != refRows[0]["_msg"] || rows[0]["tenant"] != refRows[0]["tenant"] {
		t.Errorf("event %s after restore: %v, want %v", ref, rows, refRows)
	}
	if status, _, b := s2.do("GET", rawPath, analyst, nil); status != http.StatusOK || !bytes.Equal(b, rawWant) {
		t.Errorf("raw record of %s after restore: HTTP %d %s, want %s", ref, status, b, rawWant)
	}
	if got := s2.mustCLI(analyst, "alerts", "list", "--tenant", "*", "--json"); got != alertsWant {
		t.Errorf("restored alerts:\n%s\nwant:\n%s", got, alertsWant)
	}
	if got := s2.mustCLI(analyst, "cases", "show", caseID, "--json"); got != caseWant {
		t.Errorf("restored case:\n%s\nwant:\n%s", got, caseWant)
	}
	if !strings.Contains(caseWant, "not expected") {
		t.Errorf("case has no comment: %s", caseWant)
	}
	got := filepath.Join(dir, "evidence.out")
	s2.mustCLI(analyst, "cases", "evidence", "get", caseID, sha, "--out", got)
	if b, err := os.ReadFile(got); err != nil || string(b) != "whoami /all output\n" {
		t.Errorf("restored evidence: %q, %v", b, err)
	}
	if got := s2.mustCLI(analyst, "intel", "list", "--json"); got != intelWant || !strings.Contains(got, "backup-evil.example") {
		t.Errorf("restored indicators:\n%s\nwant:\n%s", got, intelWant)
	}
	// The member's token still works, and sees its own alert only.
	if as := s2.alertList(member); len(as) != 1 || as[0].Tenant != "gwynedd" {
		t.Errorf("member's alerts after restore: %+v", as)
	}
	if out := s2.mustCLI(adminToken, "audit", "verify"); !strings.Contains(out, "chain gwynedd: intact") || !strings.Contains(out, "chain *: intact") {
		t.Errorf("audit verify after restore:\n%s", out)
	}

	// New events: searchable, detected, numbered after the backup's.
	s2.ingestLines(ingestP, sysmonProc("P-WS2", `POWYS\new`, `C:\Windows\System32\whoami.exe`, time.Now().UTC(), 1))
	s2.waitIndexed()
	s2.waitDetected()
	rows := s2.searchRows(analyst, "powys", "P-WS2", 0)
	if len(rows) != 1 {
		t.Fatalf("new event after restore: %d rows", len(rows))
	}
	seq, _ := strconv.ParseUint(rows[0]["tarian.seq"], 10, 64)
	if seq <= busSeq {
		t.Errorf("new event's tarian.seq %d, want past the backup's %d", seq, busSeq)
	}
	if n := s2.counts(analyst, "*", fmt.Sprintf("tarian.seq:%d", seq)); n["powys"] != 1 || n["gwynedd"] != 0 {
		t.Errorf("events at the new sequence %d: %v, want the new one alone", seq, n)
	}
	as := s2.alertList(analyst, "--tenant", "powys")
	found := false
	for _, a := range as {
		if a.Host == "P-WS2" {
			found = true
			var shown queueAlert
			if err := json.Unmarshal([]byte(s2.mustCLI(analyst, "alerts", "show", fmt.Sprint(a.ID), "--json")), &shown); err != nil ||
				len(shown.Evidence) != 1 || !strings.HasPrefix(shown.Evidence[0], fmt.Sprint(seq)+":") {
				t.Errorf("new alert's evidence %v (%v), want sequence %d", shown.Evidence, err, seq)
			}
		}
	}
	if !found {
		t.Errorf("no alert for the event ingested after restore: %+v", as)
	}
}

// refFilter is the search filter of an event reference "SEQ:IDX".
func refFilter(t *testing.T, ref string) string {
	t.Helper()
	seq, idx, ok := strings.Cut(ref, ":")
	if !ok {
		t.Fatalf("event reference %q", ref)
	}
	return fmt.Sprintf("tarian.seq:%s tarian.idx:%q", seq, idx)
}
