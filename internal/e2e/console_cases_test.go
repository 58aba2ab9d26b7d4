package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestConsoleCases drives the cases area of the web console
// (web/tests/cases.mjs): a provider analyst opens a case from an alert's
// detail page with a template's tasks, comments (seen live on a second page), adds a task and
// marks it done, adds an observable, uploads evidence and escalates; the
// list and the view pass axe-core and read in Welsh; the member's analyst
// reads the case, comments and acknowledges; another member's analyst
// gets "not found". Then the API must hold all of it.
func TestConsoleCases(t *testing.T) {
	consoleBrowser(t)
	dir := t.TempDir()
	s := twoMembers(t, dir, queueRules)
	events := filepath.Join(dir, "gwynedd.jsonl")
	// whoami, then net user on the same host: two alerts, one incident.
	at := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	lines := sysmonProc("WS1", `GWYNEDD\bob`, `C:\Windows\System32\whoami.exe`, at, 1) + "\n" +
		sysmonProc("WS1", `GWYNEDD\bob`, `C:\Windows\System32\net.exe`, at.Add(time.Minute), 2) + "\n"
	if err := os.WriteFile(events, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	s.mustCLI(s.createToken("gwynedd", "ingest").Token, "ingest", events)
	s.waitDetected()
	as := s.alertList(adminToken, "--tenant", "gwynedd")
	if len(as) != 2 || as[0].Incident != as[1].Incident {
		t.Fatalf("alerts before the browser starts: %+v, want 2 in one incident", as)
	}
	// The rules' ids end in 1 (whoami) and 2 (net user).
	slices.SortFunc(as, func(a, b queueAlert) int { return strings.Compare(a.RuleID, b.RuleID) })
	whoami, netUser := as[0], as[1]

	users := []struct{ name, tenant, role, password string }{
		{"ceri", "", "provider-analyst", "a long console password"},
		{"gwen", "gwynedd", "tenant-analyst", "gwynedd analyst password"},
		{"owain", "powys", "tenant-analyst", "powys analyst password"},
	}
	for _, u := range users {
		m := map[string]string{"name": u.name, "role": u.role, "password": u.password}
		if u.tenant != "" {
			m["tenant"] = u.tenant
		}
		body, _ := json.Marshal(m)
		if st, _, b := s.do("POST", "/api/v1/users", adminToken, body); st != 201 {
			t.Fatalf("POST /api/v1/users (%s): %d %s", u.name, st, b)
		}
	}

	runBrowser(t, s, "cases",
		"CONSOLE_USER="+users[0].name, "CONSOLE_PASSWORD="+users[0].password,
		"MEMBER_USER="+users[1].name, "MEMBER_PASSWORD="+users[1].password,
		"OTHER_USER="+users[2].name, "OTHER_PASSWORD="+users[2].password,
		fmt.Sprintf("ALERT=%d", whoami.ID), "ALERT_TITLE=whoami run")

	// What the browser did is what the server holds.
	st, _, b := s.do("GET", "/api/v1/cases?tenant=gwynedd", adminToken, nil)
	var list struct {
		Cases []struct{ ID int64 } `json:"cases"`
	}
	if err := json.Unmarshal(b, &list); st != 200 || err != nil || len(list.Cases) != 1 {
		t.Fatalf("GET /api/v1/cases?tenant=gwynedd: %d %s", st, b)
	}
	st, _, b = s.do("GET", fmt.Sprintf("/api/v1/cases/%d", list.Cases[0].ID), adminToken, nil)
	var c struct {
		Tenant, Title, Severity, Status string
		Escalated                       time.Time `json:"escalated"`
		AcknowledgedByMember            time.Time `json:"acknowledged_by_member"`
		AcknowledgedBy                  string    `json:"acknowledged_by"`
		Alerts                          []int64
		Observables                     []struct{ Type, Value, Source string }
		Tasks                           []struct {
			Title string
			Done  bool
		}
		Evidence []struct {
			SHA256 string `json:"sha256"`
			Name   string
			Size   int64
		}
		Timeline []struct{ Kind, Author, Role, Text string }
	}
	if err := json.Unmarshal(b, &c); st != 200 || err != nil {
		t.Fatalf("GET the case: %d %s", st, b)
	}
	if c.Tenant != "gwynedd" || c.Title != "whoami run" || c.Severity != "high" || c.Status != "open" || !slices.Equal(c.Alerts, []int64{whoami.ID, netUser.ID}) {
		t.Errorf("case %+v: want gwynedd's open high case \"whoami run\" of alerts %d and %d (its incident's)", c, whoami.ID, netUser.ID)
	}
	if c.Escalated.IsZero() || c.AcknowledgedByMember.IsZero() || c.AcknowledgedBy != "user:gwen" {
		t.Errorf("case escalated %v, acknowledged %v by %q: want escalated and acknowledged by user:gwen", c.Escalated, c.AcknowledgedByMember, c.AcknowledgedBy)
	}
	// The Account compromise template's six, open, then the one added by
	// hand, done.
	if n := len(c.Tasks); n != 7 || c.Tasks[0].Title != "Reset the account's password and end its sessions and tokens" || c.Tasks[0].Done ||
		c.Tasks[6].Title != "Ask the member for the logon script" || !c.Tasks[6].Done {
		t.Errorf("tasks %+v: want the template's six open, then the one added by hand, done", c.Tasks)
	}
	manual := false
	for _, o := range c.Observables {
		manual = manual || o.Type == "ip" && o.Value == "203.0.113.7" && o.Source == "manual"
	}
	if !manual {
		t.Errorf("observables %+v: want ip 203.0.113.7 added by hand", c.Observables)
	}
	sum := sha256.Sum256([]byte("logon.cmd\r\nwhoami /all\r\n"))
	if len(c.Evidence) != 1 || c.Evidence[0].SHA256 != hex.EncodeToString(sum[:]) || c.Evidence[0].Name != "logon.txt" || c.Evidence[0].Size != 24 {
		t.Errorf("evidence %+v: want logon.txt, 24 bytes, sha256 %x", c.Evidence, sum)
	}
	want := map[string]string{
		"Checked WS1: whoami came from a logon script.":          "user:ceri provider-analyst",
		"Our admin ran that script; we have reset the password.": "user:gwen tenant-analyst",
	}
	for _, e := range c.Timeline {
		if e.Kind == "comment" && want[e.Text] == e.Author+" "+e.Role {
			delete(want, e.Text)
		}
	}
	if len(want) != 0 {
		t.Errorf("comments missing from the timeline: %v\n%+v", want, c.Timeline)
	}

	// Another member still cannot see it.
	other := s.createToken("powys", "tenant-analyst").Token
	if st, _, b := s.do("GET", fmt.Sprintf("/api/v1/cases/%d", list.Cases[0].ID), other, nil); st != 404 || !regexp.MustCompile(`not found: case \d+`).Match(b) {
		t.Errorf("another member's GET of the case: %d %s, want 404 not found", st, b)
	}
}
