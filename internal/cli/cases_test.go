package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/server/servertest"
)

const casesRule = `title: rundll32 run
id: 3f0c9a1e-0000-4000-8000-00000000c11a
author: Tarian tests
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image|endswith: '\rundll32.exe'}
  condition: sel
level: high
`

func rundllEvent(host string, n int) string {
	b, _ := json.Marshal(map[string]any{"Event": map[string]any{
		"System": map[string]any{"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": host, "EventRecordID": n,
			"Provider":    map[string]any{"#attributes": map[string]any{"Name": "Microsoft-Windows-Sysmon"}},
			"TimeCreated": map[string]any{"#attributes": map[string]any{"SystemTime": time.Now().UTC().Format(time.RFC3339Nano)}}},
		"EventData": map[string]any{"Image": `C:\Windows\System32\rundll32.exe`, "CommandLine": "rundll32 evil.dll,Start", "User": `GWYNEDD\carys`, "ProcessId": n},
	}})
	return string(b)
}

// TestCasesCommands drives the cases commands against a real server: a
// case opened from an alert, escalated to its member, whose analyst reads,
// comments and acknowledges it, while another member's users get "not
// found" from every command.
func TestCasesCommands(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	for _, id := range []string{"gwynedd", "conwy"} {
		s.AddTenant(t, id)
	}
	prov := cmdEnv{url: s.URL, token: s.Token(t, "", "provider-analyst")}
	analyst := cmdEnv{url: s.URL, token: s.Token(t, "gwynedd", "tenant-analyst")}
	viewer := cmdEnv{url: s.URL, token: s.Token(t, "gwynedd", "tenant-viewer")}
	other := cmdEnv{url: s.URL, token: s.Token(t, "conwy", "tenant-admin")}
	s.JSON(t, "POST", "/api/v1/rules", servertest.AdminToken, map[string]any{"files": []map[string]any{{"name": "r.yml", "data": []byte(casesRule)}}}, nil)
	ingest := func(ten string, n int) {
		if status, body := s.Do(t, "POST", "/api/v1/ingest", s.Token(t, ten, "ingest"), []byte(rundllEvent("pc-"+ten, n))); status != 200 {
			t.Fatalf("ingest: %d %s", status, body)
		}
	}
	ingest("gwynedd", 1)
	ingest("conwy", 2)
	alertOf := func(ten string) int64 {
		deadline := time.Now().Add(30 * time.Second)
		for {
			var out struct{ Alerts []struct{ ID int64 } }
			s.JSON(t, "GET", "/api/v1/alerts?tenant="+ten, servertest.AdminToken, nil, &out)
			if len(out.Alerts) > 0 {
				return out.Alerts[0].ID
			}
			if time.Now().After(deadline) {
				t.Fatalf("no alert in %s", ten)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	alertG, alertC := alertOf("gwynedd"), alertOf("conwy")

	ok := func(e cmdEnv, args ...string) string {
		t.Helper()
		code, out, errs := e.run(t, "", args...)
		if code != 0 {
			t.Fatalf("%s: exit %d, %q", strings.Join(args, " "), code, errs)
		}
		return out
	}
	fails := func(e cmdEnv, code int, want string, args ...string) {
		t.Helper()
		got, _, errs := e.run(t, "", args...)
		if got != code || !strings.Contains(errs, want) {
			t.Errorf("%s: exit %d, %q; want exit %d with %q", strings.Join(args, " "), got, errs, code, want)
		}
	}

	out := ok(prov, "cases", "create", "--tenant", "gwynedd", "--title", "Rundll32 <payload>", "--from-alert", fmt.Sprint(alertG), "--severity", "high", "--json")
	var c struct {
		ID          int64
		Tenant      string
		Alerts      []int64
		Observables []struct{ Type, Value string }
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.ID == 0 || c.Tenant != "gwynedd" || len(c.Alerts) != 1 || len(c.Observables) == 0 || strings.Count(out, "\n") != 1 {
		t.Fatalf("cases create --json: %q (%v)", out, err)
	}
	id := fmt.Sprint(c.ID)
	fails(prov, 1, "not found: alert", "cases", "create", "--tenant", "gwynedd", "--title", "x", "--from-alert", fmt.Sprint(alertC))
	fails(prov, 2, "--title", "cases", "create", "--tenant", "gwynedd")
	fails(prov, 2, "--severity", "cases", "create", "--tenant", "gwynedd", "--title", "x", "--severity", "huge")
	fails(analyst, 1, "forbidden", "cases", "create", "--title", "x")
	if out := ok(prov, "cases", "create", "--tenant", "gwynedd", "--title", "Second"); !strings.Contains(out, "opened for gwynedd: Second (open, TLP:AMBER)") {
		t.Errorf("cases create: %q", out)
	}

	// The provider works it.
	if out := ok(prov, "cases", "comment", id, "Looks", "like", "a", "loader."); out != "case "+id+": comment added\n" {
		t.Errorf("comment: %q", out)
	}
	if out := ok(prov, "cases", "task", "add", id, "Isolate", "pc-gwynedd"); !strings.Contains(out, "task 1 added: Isolate pc-gwynedd") {
		t.Errorf("task add: %q", out)
	}
	ok(prov, "cases", "task", "done", id, "1")
	fails(prov, 1, "transition_not_allowed", "cases", "task", "done", id, "1")
	ok(prov, "cases", "observable", "add", id, "domain", "evil.example")
	ok(prov, "cases", "event", id, "Loader", "fetched", "--time", "-1h", "--ref", "7:0")
	ok(prov, "cases", "update", id, "--tlp", "green")
	if out := ok(prov, "cases", "assign", id, "--to", "alice"); out != "case "+id+": in-progress, assigned to alice\n" {
		t.Errorf("assign: %q", out)
	}
	fails(prov, 1, "not found: alert", "cases", "link", id, fmt.Sprint(alertC))
	dir := t.TempDir()
	file := filepath.Join(dir, "dropper.bin")
	payload := []byte("MZ\x90\x00 not really a PE")
	os.WriteFile(file, payload, 0o600)
	out = ok(prov, "cases", "evidence", "add", id, file)
	f := strings.Fields(out)
	sha := f[len(f)-1]
	if !strings.Contains(out, "evidence dropper.bin (20 bytes) sha256 ") || len(sha) != 64 {
		t.Fatalf("evidence add: %q", out)
	}
	show := ok(prov, "cases", "show", id)
	for _, want := range []string{"title:", "Rundll32 <payload>", "status:", "in-progress", "tlp:", "GREEN", "[x]  1", "evil.example", "dropper.bin", sha, "Looks like a loader.", "Loader fetched"} {
		if !strings.Contains(show, want) {
			t.Errorf("cases show lacks %q:\n%s", want, show)
		}
	}

	// Before escalation the member sees nothing; another member never.
	hidden := func(e cmdEnv) {
		t.Helper()
		for _, args := range [][]string{
			{"cases", "show", id}, {"cases", "comment", id, "hello?"}, {"cases", "acknowledge", id}, {"cases", "export", id},
			{"cases", "export", id, "--html"}, {"cases", "evidence", "get", id, sha},
		} {
			fails(e, 1, "not found: case "+id, args...)
		}
		// The provider's verbs are refused for the member's role, whatever
		// the case: that says nothing about it.
		for _, args := range [][]string{
			{"cases", "escalate", id}, {"cases", "close", id, "--as", "duplicate", "--summary", "x"}, {"cases", "task", "add", id, "x"},
		} {
			fails(e, 1, "may not call", args...)
		}
		if out := ok(e, "cases", "list"); strings.Contains(out, "Rundll32") {
			t.Errorf("cases list shows the case:\n%s", out)
		}
	}
	hidden(analyst)
	hidden(other)

	if out := ok(prov, "cases", "escalate", id); out != "case "+id+": escalated to gwynedd\n" {
		t.Errorf("escalate: %q", out)
	}
	hidden(other)
	if out := ok(analyst, "cases", "list"); !strings.Contains(out, "Rundll32 <payload>") || !strings.Contains(out, "ESCALATED") || strings.Contains(out, "Second") {
		t.Errorf("member's cases list:\n%s", out)
	}
	ok(analyst, "cases", "show", id)
	code, _, errs := analyst.run(t, "Thanks, pc-gwynedd is off the network.\n", "cases", "comment", id, "-")
	if code != 0 {
		t.Fatalf("comment from stdin: %d %q", code, errs)
	}
	fails(viewer, 1, "forbidden", "cases", "comment", id, "x")
	fails(analyst, 1, "forbidden", "cases", "close", id, "--as", "true-positive", "--summary", "x")
	if out := ok(analyst, "cases", "acknowledge", id); out != "case "+id+": acknowledged\n" {
		t.Errorf("acknowledge: %q", out)
	}
	fails(analyst, 1, "already acknowledged", "cases", "acknowledge", id)
	got := ok(viewer, "cases", "evidence", "get", id, sha)
	if !bytes.Equal([]byte(got), payload) {
		t.Errorf("evidence get: %q", got)
	}
	outFile := filepath.Join(dir, "copy.bin")
	ok(viewer, "cases", "evidence", "get", id, sha, "--out", outFile)
	if b, _ := os.ReadFile(outFile); !bytes.Equal(b, payload) {
		t.Errorf("evidence get --out: %q", b)
	}
	page := ok(viewer, "cases", "export", id, "--html")
	if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.Contains(page, "Rundll32 &lt;payload&gt;") || !strings.Contains(page, "pc-gwynedd is off the network") {
		t.Errorf("export --html:\n%s", page)
	}
	var exp struct {
		ID       int64
		Timeline []struct{ Kind, Role, Text string }
	}
	if err := json.Unmarshal([]byte(ok(analyst, "cases", "export", id)), &exp); err != nil || exp.ID != c.ID || len(exp.Timeline) < 8 {
		t.Errorf("export: %+v %v", exp, err)
	}

	// Closing: the classification and summary are required; a refused
	// transition exits 1 with the API's error.
	fails(prov, 2, "--summary", "cases", "close", id, "--as", "true-positive")
	fails(prov, 2, "--as", "cases", "close", id, "--as", "maybe", "--summary", "x")
	// The case's alerts hold a host and a user: nothing external to share.
	if out := ok(prov, "cases", "close", id, "--as", "true-positive", "--summary", "Loader removed; host reimaged."); out != "case "+id+": closed as true-positive\n"+
		"  kept back by the sharing policy: 2 internal entities (hosts, users, internal names and addresses)\n" {
		t.Errorf("close: %q", out)
	}
	fails(prov, 1, "transition_not_allowed (HTTP 409): transition not allowed: case "+id+" is already closed", "cases", "close", id, "--as", "true-positive", "--summary", "again")
	ok(analyst, "cases", "comment", id, "Confirmed.")
	if out := ok(prov, "cases", "reopen", id); out != "case "+id+": in-progress\n" {
		t.Errorf("reopen: %q", out)
	}
	fails(prov, 1, "not found: case 99999", "cases", "show", "99999")
	fails(prov, 2, "not a case ID", "cases", "show", "abc")

	// Lists: every tenant for the provider, one JSON object per line.
	out = ok(prov, "cases", "list", "--tenant", "*", "--json")
	if n := strings.Count(out, "\n"); n != 2 || strings.Contains(out, `"timeline"`) {
		t.Errorf("cases list --json: %q", out)
	}
	out = ok(prov, "cases", "list", "--tenant", "*", "--limit", "1")
	if !strings.Contains(out, "Second") || strings.Contains(out, "Rundll32") {
		t.Errorf("cases list --limit 1:\n%s", out)
	}
	fails(other, 1, "forbidden", "cases", "list", "--tenant", "gwynedd")
}

// TestCaseTemplatesCLI: cases templates lists each template with its
// numbered tasks; cases create --template starts the case with them.
func TestCaseTemplatesCLI(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	s.AddTenant(t, "gwynedd")
	prov := cmdEnv{url: s.URL, token: s.Token(t, "", "provider-analyst")}
	code, out, errs := prov.run(t, "", "cases", "templates")
	if code != 0 || !strings.HasPrefix(out, "Phishing (7 tasks)\n  1. Find every recipient of the message") || !strings.Contains(out, "\nRansomware (8 tasks)\n") {
		t.Fatalf("cases templates: exit %d, %q, %q", code, out, errs)
	}
	code, out, errs = prov.run(t, "", "cases", "create", "--tenant", "gwynedd", "--title", "Spear phishing", "--template", "phishing")
	if code != 0 || !strings.Contains(out, "7 tasks)") {
		t.Fatalf("cases create --template: exit %d, %q, %q", code, out, errs)
	}
	code, out, _ = prov.run(t, "", "cases", "show", "1", "--json")
	if code != 0 || !strings.Contains(out, `"title":"Block the sender, its domain, and the message's links and attachment hashes at the mail gateway and web proxy"`) {
		t.Errorf("the case's tasks: %s", out)
	}
	if code, _, errs := prov.run(t, "", "cases", "create", "--tenant", "gwynedd", "--title", "x", "--template", "Smishing"); code != 1 || !strings.Contains(errs, `no such case template "Smishing"`) {
		t.Errorf("an unknown template: exit %d, %q", code, errs)
	}
}
