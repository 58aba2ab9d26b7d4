package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// sprayRules are a base rule and a correlation over it, in one file.
const sprayRules = `title: failed logon
id: 5e2a0000-0000-4000-8000-000000000001
name: failed_logon
logsource: {product: windows, service: security}
detection:
  sel: {EventID: 4625}
  condition: sel
level: low
---
title: password spray
id: 5e2a0000-0000-4000-8000-000000000002
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [IpAddress]
  timespan: 10m
  condition: {gte: 3}
level: high
`

// failedLogons are n failed logons from ip, a minute apart from at.
func failedLogons(ip string, at time.Time, n int) string {
	var b strings.Builder
	for i := range n {
		line, _ := json.Marshal(map[string]any{"EventID": 4625, "Channel": "Security", "Computer": "DC1", "IpAddress": ip,
			"TargetUserName": "u" + string(rune('a'+i)), "TimeCreated": at.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)})
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestRulesSwitchDeleteCLI drives the rule commands: a correlation switched
// off for one member raises nothing there and is back once on; a rule
// without an id is refused with its file and line; a member's admin
// deletes its own filter document, not another member's nor a shared
// rule; provider-admin deletes a shared rule, and its alerts stay.
func TestRulesSwitchDeleteCLI(t *testing.T) {
	dir := t.TempDir()
	s := twoMembers(t, dir, sprayRules)
	const corr = "5e2a0000-0000-4000-8000-000000000002"
	adminG, adminP := s.createToken("gwynedd", "tenant-admin").Token, s.createToken("powys", "tenant-admin").Token
	ingG, ingP := s.createToken("gwynedd", "ingest").Token, s.createToken("powys", "ingest").Token
	write := func(name, data string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	if out := s.mustCLI(adminG, "rules", "disable", corr); !strings.Contains(out, "disabled for gwynedd") {
		t.Errorf("rules disable printed %q", out)
	}
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	s.mustCLI(ingG, "ingest", write("g1.jsonl", failedLogons("192.0.2.10", at, 3)))
	s.mustCLI(ingP, "ingest", write("p1.jsonl", failedLogons("192.0.2.10", at, 3)))
	s.waitDetected()
	if as := s.alertList(adminToken, "--tenant", "gwynedd"); len(as) != 0 {
		t.Errorf("gwynedd, correlation off: %+v", as)
	}
	as := s.alertList(adminToken, "--tenant", "powys")
	if len(as) != 1 || as[0].RuleID != corr {
		t.Fatalf("powys: %+v, want the correlation's alert", as)
	}
	// Its one match stands for the three failed logons, all its evidence.
	if out := s.mustCLI(adminToken, "alerts", "show", fmt.Sprint(as[0].ID)); !regexp.MustCompile(`count: +1 \(a correlation of 3 events\)\n`).MatchString(out) {
		t.Errorf("alerts show of the correlation's alert:\n%s", out)
	}
	s.mustCLI(adminG, "rules", "enable", corr)
	s.mustCLI(ingG, "ingest", write("g2.jsonl", failedLogons("192.0.2.11", at.Add(20*time.Minute), 3)))
	s.waitDetected()
	if as := s.alertList(adminToken, "--tenant", "gwynedd"); len(as) != 1 || as[0].RuleID != corr {
		t.Errorf("gwynedd, correlation on again: %+v", as)
	}

	// A rule without an id: refused, with where and why.
	r := s.cli(adminToken, "rules", "import", write("noid.yml", "title: no id\nlogsource: {product: windows}\ndetection:\n  s: {EventID: 1}\n  condition: s\n"))
	if r.code == 0 || !strings.Contains(r.stderr, "noid.yml:1: \"no id\" has no id") {
		t.Errorf("import of a rule without id: exit %d, stderr %s", r.code, r.stderr)
	}

	// Filters: gwynedd's own.
	filter := write("lab.yml", "title: lab\nid: 5e2a0000-0000-4000-8000-0000000000f1\nlogsource: {product: windows}\nfilter:\n  rules: [failed_logon]\n  lab: {Computer|startswith: LAB-}\n  condition: not lab\n")
	s.mustCLI(adminG, "rules", "import", filter)
	if r := s.cli(adminP, "rules", "delete", "5e2a0000-0000-4000-8000-0000000000f1"); r.code == 0 || !strings.Contains(r.stderr, "not found") && !strings.Contains(r.stderr, "unknown rule") {
		t.Errorf("powys deleting gwynedd's filter: exit %d, stderr %s", r.code, r.stderr)
	}
	if r := s.cli(adminG, "rules", "delete", corr); r.code == 0 || !strings.Contains(r.stderr, "rules disable") {
		t.Errorf("a member deleting a shared rule: exit %d, stderr %s", r.code, r.stderr)
	}
	if out := s.mustCLI(adminG, "rules", "delete", "5e2a0000-0000-4000-8000-0000000000f1"); !strings.Contains(out, "deleted from the filters of gwynedd") {
		t.Errorf("rules delete printed %q", out)
	}

	// Provider-admin deletes the correlation; its alerts stay.
	var del struct {
		RuleID string   `json:"rule_id"`
		Kind   string   `json:"kind"`
		Files  []string `json:"files"`
	}
	if err := json.Unmarshal([]byte(s.mustCLI(adminToken, "rules", "delete", corr, "--json")), &del); err != nil || del.RuleID != corr || del.Kind != "correlation" || len(del.Files) != 1 {
		t.Errorf("rules delete --json: %+v %v", del, err)
	}
	if out := s.mustCLI(adminToken, "rules", "list", "--json"); strings.Contains(out, corr) || !strings.Contains(out, "5e2a0000-0000-4000-8000-000000000001") {
		t.Errorf("rules list after the delete:\n%s", out)
	}
	if as := s.alertList(adminToken, "--tenant", "powys"); len(as) != 1 || as[0].RuleID != corr {
		t.Errorf("powys's alert after the delete: %+v", as)
	}
	if out := s.mustCLI(adminToken, "audit", "list", "--json"); strings.Count(out, `"rule.delete"`) != 2 {
		t.Errorf("audit has %d rule.delete records", strings.Count(out, `"rule.delete"`))
	}
}
