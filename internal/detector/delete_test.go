package detector_test

import (
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/server/servertest"
)

const labFilter = `title: Lab machines are noisy
id: 6f6f6f6f-0000-4000-8000-0000000000f2
logsource: {product: windows}
filter:
  rules: [5b7e3a55-8c1c-4f0e-9d7e-2f9b1a0c6d01]
  lab:
    Computer|startswith: LAB-
  condition: not lab
`

const notepadID = "6f6f6f6f-0000-4000-8000-0000000000a1"

const notepadRule = `title: Notepad run
id: 6f6f6f6f-0000-4000-8000-0000000000a1
status: test
level: low
logsource: {category: process_creation, product: windows}
detection:
  selection:
    Image|endswith: '\notepad.exe'
  condition: selection
`

// Provider-admin deletes a shared rule, every version of it; the alerts it
// raised stay readable; a rule a correlation uses is refused until the
// correlation goes, and a correlation is taken out of the file it shares
// with its base rule. A tenant's admin deletes its own filter documents
// only: another tenant's are not found, and shared rules are switched
// off, not deleted. Each delete is audited.
func TestRuleDelete(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	s.AddTenant(t, "council-a")
	s.AddTenant(t, "council-b")
	const shadow, base, corr, lab = "5b7e3a55-8c1c-4f0e-9d7e-2f9b1a0c6d01", "0a1b2c3d-0000-4000-8000-000000000001", "0a1b2c3d-0000-4000-8000-000000000002", "6f6f6f6f-0000-4000-8000-0000000000f2"
	importRules(t, s, map[string]string{"shadow.yml": shadowRule, "spray.yml": sprayRule})
	// A second version of the shadow rule, in a file of several rules,
	// replaces the first; deleting must take it out of that file, keep
	// the file's other rule, and not bring the first version back.
	importRules(t, s, map[string]string{"pack.yml": notepadRule + "---\n" + strings.Replace(shadowRule, "level: high", "level: critical", 1)})
	ingA := s.Token(t, "council-a", "ingest")
	ingest(t, s, ingA, sysmon(`vssadmin.exe delete shadows /all /quiet`, `C:\Windows\System32\vssadmin.exe`))
	if a := alerts(t, s, servertest.AdminToken, "council-a", 1); len(a) != 1 || a[0].RuleID != shadow {
		t.Fatalf("alerts = %+v", a)
	}
	adminA, adminB := s.Token(t, "council-a", "tenant-admin"), s.Token(t, "council-b", "tenant-admin")
	del := func(token, id, query string) (int, string) {
		t.Helper()
		status, body := s.Do(t, "DELETE", "/api/v1/rules/"+id+query, token, nil)
		return status, string(body)
	}

	// A tenant cannot delete a shared rule, for itself or anyone.
	if status, body := del(adminA, shadow, ""); status != 403 || !strings.Contains(body, "rules disable") {
		t.Errorf("tenant-admin deleting a shared rule: %d %s, want 403 pointing to disable", status, body)
	}
	if status, body := del(s.Token(t, "council-a", "tenant-analyst"), shadow, ""); status != 403 {
		t.Errorf("tenant-analyst deleting: %d %s", status, body)
	}

	status, body := del(servertest.AdminToken, shadow, "")
	if status != 200 || !strings.Contains(body, `"files":["pack.yml","shadow.yml"]`) && !strings.Contains(body, `"files":["shadow.yml","pack.yml"]`) {
		t.Fatalf("delete: %d %s", status, body)
	}
	rows := listRules(t, s, servertest.AdminToken, "")
	if len(byID(rows, shadow)) != 0 || len(byID(rows, notepadID)) != 1 {
		t.Errorf("after the delete: %+v, want the shadow rule gone and the notepad rule kept", rows)
	}
	if status, body := del(servertest.AdminToken, shadow, ""); status != 404 {
		t.Errorf("deleting again: %d %s, want 404", status, body)
	}
	ingest(t, s, ingA, sysmon(`vssadmin.exe delete shadows /for=d:`, `C:\Windows\System32\vssadmin.exe`))
	waitDetected(t, s)
	// The alert raised before is kept, and names the rule as it was.
	if a := alertCount(t, s, servertest.AdminToken, "council-a", 1); len(a) != 1 || a[0].RuleID != shadow || a[0].Title != "Shadow copies deleted with vssadmin" || a[0].Count != 1 {
		t.Errorf("alerts after the delete = %+v, want the one from before, unchanged", a)
	}

	// The base rule is used by the correlation in its file.
	if status, body := del(servertest.AdminToken, base, ""); status != 409 || !strings.Contains(body, corr) {
		t.Errorf("deleting a correlation's base rule: %d %s, want 409 naming the correlation", status, body)
	}
	if status, body := del(servertest.AdminToken, corr, ""); status != 200 || !strings.Contains(body, `"kind":"correlation"`) {
		t.Fatalf("deleting the correlation: %d %s", status, body)
	}
	rows = listRules(t, s, servertest.AdminToken, "")
	if len(byID(rows, corr)) != 0 || len(byID(rows, base)) != 1 {
		t.Errorf("after deleting the correlation: %+v, want its base rule alone", rows)
	}
	// With no correlation over it, the base rule raises its own alerts.
	ingest(t, s, ingA, failed("192.0.2.7", "u1", "05:00:00"))
	if a := alerts(t, s, servertest.AdminToken, "council-a", 2); len(a) != 2 {
		t.Errorf("alerts = %+v, want the failed logon's too", a)
	}

	// Filters: A's own; B's admin does not find it.
	var res map[string]any
	s.JSON(t, "POST", "/api/v1/rules", adminA, map[string]any{"files": []map[string]any{{"name": "lab.yml", "data": []byte(labFilter)}}}, &res)
	if status, body := del(adminB, lab, ""); status != 404 {
		t.Errorf("council-b's admin deleting council-a's filter: %d %s, want 404", status, body)
	}
	if status, body := del(servertest.AdminToken, lab, "?tenant=council-b"); status != 404 {
		t.Errorf("provider deleting the filter from council-b: %d %s, want 404", status, body)
	}
	if status, body := del(adminB, lab, "?tenant=council-a"); status != 403 {
		t.Errorf("council-b's admin naming council-a: %d %s, want 403", status, body)
	}
	if own := byID(listRules(t, s, adminA, ""), lab); len(own) != 1 {
		t.Fatalf("council-a's filter = %+v", own)
	}
	if status, body := del(adminA, lab, ""); status != 200 || !strings.Contains(body, `"tenant":"council-a"`) {
		t.Errorf("council-a's admin deleting its filter: %d %s", status, body)
	}
	if own := byID(listRules(t, s, adminA, ""), lab); len(own) != 0 {
		t.Errorf("deleted filter still listed: %+v", own)
	}

	var audit struct {
		Records []struct{ Action, Scope, Detail string }
	}
	s.JSON(t, "GET", "/api/v1/audit?limit=50", servertest.AdminToken, nil, &audit)
	got := map[string]string{}
	for _, r := range audit.Records {
		if r.Action == "rule.delete" {
			got[strings.Fields(r.Detail)[0]] = r.Scope
		}
	}
	if got[shadow] != "*" || got[corr] != "*" || got[lab] != "council-a" || len(got) != 3 {
		t.Errorf("rule.delete audit records: %v", got)
	}
}
