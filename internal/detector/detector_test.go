package detector_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/logstore/vlogs"
	"github.com/tarian-soc/tarian/internal/server"
	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// Our own rules, written for these tests.
const shadowRule = `title: Shadow copies deleted with vssadmin
id: 5b7e3a55-8c1c-4f0e-9d7e-2f9b1a0c6d01
status: test
level: high
author: Tarian tests
tags:
  - attack.impact
  - attack.t1490
logsource:
  category: process_creation
  product: windows
detection:
  selection:
    Image|endswith: '\vssadmin.exe'
    CommandLine|contains|all:
      - 'delete'
      - 'shadows'
  condition: selection
`

const sprayRule = `title: Failed logon
id: 0a1b2c3d-0000-4000-8000-000000000001
name: failed_logon
status: test
level: low
author: Tarian tests
logsource:
  product: windows
  service: security
detection:
  selection:
    EventID: 4625
  condition: selection
---
title: Password spray from one address
id: 0a1b2c3d-0000-4000-8000-000000000002
status: test
level: high
author: Tarian tests
correlation:
  type: value_count
  rules:
    - failed_logon
  group-by:
    - IpAddress
  timespan: 10m
  condition:
    field: TargetUserName
    gte: 3
`

func sysmon(cmd, image string) string {
	b, _ := json.Marshal(map[string]any{"Event": map[string]any{
		"System":    map[string]any{"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Provider": map[string]any{"#attributes": map[string]any{"Name": "Microsoft-Windows-Sysmon"}}},
		"EventData": map[string]any{"Image": image, "CommandLine": cmd},
	}})
	return string(b)
}

type alertRow struct {
	Tenant, RuleID, Title, Author, Level, EventRef string
	Count                                          int
	Tags                                           []string
	Fields                                         map[string]string
}

func alerts(t *testing.T, s *servertest.Server, token, tenant string, want int) []alertRow {
	t.Helper()
	var out struct {
		Alerts []struct {
			Tenant   string            `json:"tenant"`
			RuleID   string            `json:"rule_id"`
			Title    string            `json:"title"`
			Author   string            `json:"author"`
			Level    string            `json:"level"`
			EventRef string            `json:"event_ref"`
			Count    int               `json:"count"`
			Tags     []string          `json:"tags"`
			Fields   map[string]string `json:"fields"`
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		path := "/api/v1/alerts"
		if tenant != "" {
			path += "?tenant=" + tenant
		}
		s.JSON(t, "GET", path, token, nil, &out)
		if len(out.Alerts) >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(30 * time.Millisecond)
	}
	var rows []alertRow
	for _, a := range out.Alerts {
		rows = append(rows, alertRow{a.Tenant, a.RuleID, a.Title, a.Author, a.Level, a.EventRef, a.Count, a.Tags, a.Fields})
	}
	return rows
}

// alertCount waits until tenant's alerts (token's own when empty) count
// want events.
func alertCount(t *testing.T, s *servertest.Server, token, tenant string, want int) []alertRow {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		rows := alerts(t, s, token, tenant, 0)
		n := 0
		for _, r := range rows {
			n += r.Count
		}
		if n >= want || time.Now().After(deadline) {
			return rows
		}
		time.Sleep(30 * time.Millisecond)
	}
}

func importRules(t *testing.T, s *servertest.Server, files map[string]string) map[string]any {
	t.Helper()
	var req struct {
		Files []map[string]any `json:"files"`
	}
	for name, data := range files {
		req.Files = append(req.Files, map[string]any{"name": name, "data": []byte(data)})
	}
	var res map[string]any
	s.JSON(t, "POST", "/api/v1/rules", servertest.AdminToken, req, &res)
	return res
}

func ingest(t *testing.T, s *servertest.Server, token string, lines ...string) {
	t.Helper()
	status, body := s.Do(t, "POST", "/api/v1/ingest", token, []byte(strings.Join(lines, "\n")))
	if status != 200 {
		t.Fatalf("ingest: %d %s", status, body)
	}
}

func TestAlertsPerTenant(t *testing.T) {
	dir := t.TempDir()
	s := servertest.Start(t, servertest.Config(dir))
	s.AddTenant(t, "council-a")
	s.AddTenant(t, "council-b")
	res := importRules(t, s, map[string]string{"shadow.yml": shadowRule, "broken.yml": "title: x\ndetection: [\n"})
	if res["imported"] != float64(1) || len(res["failed"].([]any)) != 1 {
		t.Fatalf("import = %v", res)
	}
	ingA, ingB := s.Token(t, "council-a", "ingest"), s.Token(t, "council-b", "ingest")
	anA, anB := s.Token(t, "council-a", "tenant-analyst"), s.Token(t, "council-b", "tenant-analyst")

	ingest(t, s, ingA, sysmon(`vssadmin.exe delete shadows /all /quiet`, `C:\Windows\System32\vssadmin.exe`),
		sysmon(`vssadmin.exe list shadows`, `C:\Windows\System32\vssadmin.exe`),
		sysmon(`notepad.exe delete shadows`, `C:\Windows\notepad.exe`))
	ingest(t, s, ingB, sysmon(`notepad.exe`, `C:\Windows\notepad.exe`))

	waitDetected(t, s)
	got := alerts(t, s, anA, "", 1)
	if len(got) != 1 {
		t.Fatalf("council-a alerts = %+v, want 1", got)
	}
	a := got[0]
	if a.Tenant != "council-a" || a.Title != "Shadow copies deleted with vssadmin" || a.Author != "Tarian tests" || a.Level != "high" ||
		fmt.Sprint(a.Tags) != "[attack.impact attack.t1490]" || a.EventRef == "" || !strings.Contains(a.Fields["CommandLine"], "delete shadows") {
		t.Errorf("alert = %+v", a)
	}
	if got := alerts(t, s, anB, "", 0); len(got) != 0 {
		t.Errorf("council-b sees %+v", got)
	}
	// B's analyst cannot read A's alerts.
	if status, _ := s.Do(t, "GET", "/api/v1/alerts?tenant=council-a", anB, nil); status != 403 {
		t.Errorf("cross-tenant alert read: %d", status)
	}

	// Switched off for B, the rule no longer fires there; A is unaffected.
	adminB := s.Token(t, "council-b", "tenant-admin")
	if status, body := s.Do(t, "POST", "/api/v1/rules/5b7e3a55-8c1c-4f0e-9d7e-2f9b1a0c6d01/disable", adminB, nil); status != 200 {
		t.Fatalf("disable: %d %s", status, body)
	}
	if status, _ := s.Do(t, "POST", "/api/v1/rules/5b7e3a55-8c1c-4f0e-9d7e-2f9b1a0c6d01/disable?tenant=council-a", adminB, nil); status != 403 {
		t.Errorf("B's admin disabled a rule for A: %d", status)
	}
	ingest(t, s, ingB, sysmon(`vssadmin delete shadows /all`, `C:\Windows\System32\vssadmin.exe`))
	ingest(t, s, ingA, sysmon(`vssadmin delete shadows /for=c:`, `C:\Windows\System32\vssadmin.exe`))
	waitDetected(t, s)
	// The second event on the same host and user joins the first alert.
	if got := alertCount(t, s, anA, "", 2); len(got) != 1 || got[0].Count != 2 {
		t.Errorf("council-a alerts after second event = %+v, want one alert of 2 events", got)
	}
	if got := alerts(t, s, anB, "", 0); len(got) != 0 {
		t.Errorf("disabled rule fired for council-b: %+v", got)
	}
}

func TestCorrelationAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := servertest.Config(dir)
	s := servertest.Start(t, cfg)
	s.AddTenant(t, "council-a")
	res := importRules(t, s, map[string]string{"spray.yml": sprayRule})
	if res["imported"] != float64(1) {
		t.Fatalf("import = %v", res)
	}
	ing := s.Token(t, "council-a", "ingest")
	now := time.Now().UTC()
	fail := func(user string, at time.Time) string {
		b, _ := json.Marshal(map[string]any{"Event": map[string]any{
			"System":    map[string]any{"EventID": 4625, "Channel": "Security", "TimeCreated": map[string]any{"#attributes": map[string]any{"SystemTime": at.Format(time.RFC3339Nano)}}},
			"EventData": map[string]any{"IpAddress": "203.0.113.9", "TargetUserName": user, "LogonType": 3},
		}})
		return string(b)
	}
	ingest(t, s, ing, fail("alice", now.Add(-3*time.Minute)), fail("bob", now.Add(-2*time.Minute)))
	waitDetected(t, s)
	// Base rules of a correlation do not alert on their own (generate: false).
	if got := alerts(t, s, servertest.AdminToken, "council-a", 0); len(got) != 0 {
		t.Fatalf("after two failures: %+v, want none", got)
	}
	s.Stop(t)

	// The window survives the restart: one more user completes it.
	s = servertest.Start(t, cfg)
	ingest(t, s, s.Token(t, "council-a", "ingest"), fail("carol", now.Add(-time.Minute)))
	got := alerts(t, s, servertest.AdminToken, "council-a", 1)
	if len(got) != 1 || got[0].Title != "Password spray from one address" || got[0].Fields["IpAddress"] != "203.0.113.9" {
		t.Fatalf("alerts after restart = %+v", got)
	}
	// Its evidence is the three failures, two of them from before the
	// restart, each found by its reference.
	var list struct {
		Alerts []struct {
			ID int64 `json:"id"`
		}
	}
	s.JSON(t, "GET", "/api/v1/alerts?tenant=council-a", servertest.AdminToken, nil, &list)
	var one struct {
		Evidence []string `json:"evidence"`
	}
	s.JSON(t, "GET", fmt.Sprintf("/api/v1/alerts/%d", list.Alerts[0].ID), servertest.AdminToken, nil, &one)
	var users []string
	for _, ref := range one.Evidence {
		seq, idx, _ := strings.Cut(ref, ":")
		q := url.QueryEscape(fmt.Sprintf("tarian.seq:=%s tarian.idx:=%s", seq, idx))
		var row map[string]string
		// The detector may run ahead of the store: wait for the event.
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(30 * time.Millisecond) {
			_, body := s.Do(t, "GET", "/api/v1/search?tenant=council-a&q="+q, servertest.AdminToken, nil)
			err := json.Unmarshal(bytes.TrimSpace(body), &row)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the event of evidence %s: %s (%v)", ref, body, err)
			}
		}
		users = append(users, row["TargetUserName"])
	}
	if !slices.Equal(users, []string{"alice", "bob", "carol"}) {
		t.Errorf("the correlation alert's evidence %v names the failures of %v, want alice's, bob's and carol's", one.Evidence, users)
	}
}

// waitDetected waits until the detector has taken every bus message.
func waitDetected(t *testing.T, s *servertest.Server) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		_, body := s.Do(t, "GET", "/metrics", servertest.AdminToken, nil)
		if strings.Contains(string(body), "tarian_detector_lag_messages 0\n") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("detector did not catch up")
}

const whoamiRule = `title: Whoami run by a non-admin
id: 3e1d2c4b-0000-4000-8000-0000000000a1
status: test
level: medium
author: Tarian tests
logsource:
  category: process_creation
  product: windows
detection:
  selection:
    Image|endswith: '\whoami.exe'
  admins:
    User|expand: '%admins%'
  condition: selection and not admins
`

const whoamiFilter = `title: Helpdesk host runs whoami all day
id: 3e1d2c4b-0000-4000-8000-0000000000f1
logsource:
  product: windows
filter:
  rules:
    - 3e1d2c4b-0000-4000-8000-0000000000a1
  helpdesk:
    Computer: HELPDESK01
  condition: not helpdesk
`

func whoami(user, computer string) string {
	b, _ := json.Marshal(map[string]any{"Event": map[string]any{
		"System":    map[string]any{"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": computer},
		"EventData": map[string]any{"Image": `C:\Windows\System32\whoami.exe`, "CommandLine": "whoami /all", "User": user},
	}})
	return string(b)
}

// Placeholders and filter documents are per tenant: what A sets changes
// nothing for B.
func TestTenantPlaceholdersAndFilters(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	s.AddTenant(t, "council-a")
	s.AddTenant(t, "council-b")
	importRules(t, s, map[string]string{"whoami.yml": whoamiRule})
	adminA, adminB := s.Token(t, "council-a", "tenant-admin"), s.Token(t, "council-b", "tenant-admin")

	// A's admin names A's administrators and files A's filter.
	s.JSON(t, "PUT", "/api/v1/placeholders", adminA, map[string]any{"placeholders": map[string][]string{"admins": {`CORP\alice`}}}, nil)
	var res map[string]any
	s.JSON(t, "POST", "/api/v1/rules", adminA, map[string]any{"files": []map[string]any{{"name": "helpdesk.yml", "data": []byte(whoamiFilter)}}}, &res)
	if res["imported"] != float64(1) {
		t.Fatalf("filter import = %v", res)
	}
	// A tenant may not import detection rules, nor touch another tenant.
	s.JSON(t, "POST", "/api/v1/rules", adminA, map[string]any{"files": []map[string]any{{"name": "r.yml", "data": []byte(whoamiRule)}}}, &res)
	if res["imported"] != float64(0) || len(res["failed"].([]any)) != 1 {
		t.Errorf("tenant importing a detection rule = %v", res)
	}
	if status, _ := s.Do(t, "PUT", "/api/v1/placeholders?tenant=council-b", adminA, []byte(`{"placeholders":{}}`)); status != 403 {
		t.Errorf("A's admin set B's placeholders: %d", status)
	}
	if status, _ := s.Do(t, "POST", "/api/v1/rules?tenant=council-b", adminA, []byte(`{"files":[]}`)); status != 403 {
		t.Errorf("A's admin imported B's filters: %d", status)
	}

	events := []string{whoami(`CORP\alice`, "WS1"), whoami(`CORP\bob`, "WS1"), whoami(`CORP\bob`, "HELPDESK01")}
	ingest(t, s, s.Token(t, "council-a", "ingest"), events...)
	ingest(t, s, s.Token(t, "council-b", "ingest"), events...)
	waitDetected(t, s)
	// A: alice is an admin, HELPDESK01 is filtered: only bob on WS1.
	a := alerts(t, s, adminA, "", 1)
	if len(a) != 1 || a[0].Fields["User"] != `CORP\bob` {
		t.Errorf("council-a alerts = %+v, want bob on WS1 only", a)
	}
	// B has no admins named (an unknown placeholder never matches) and no filter.
	if b := alerts(t, s, adminB, "", 3); len(b) != 3 {
		t.Errorf("council-b alerts = %d, want 3", len(b))
	}
	var ph struct{ Placeholders map[string][]string }
	s.JSON(t, "GET", "/api/v1/placeholders", adminB, nil, &ph)
	if len(ph.Placeholders) != 0 {
		t.Errorf("council-b sees placeholders %v", ph.Placeholders)
	}
}

// A user's mapping file teaches the engine a log source the built-in
// mapping lacks (here ECS-shaped sshd events), and rules for it then run.
func TestUserMappingFile(t *testing.T) {
	dir := t.TempDir()
	mappingPath := filepath.Join(dir, "mapping.yaml")
	mapping := "fields:\n  rename:\n    source.ip: SourceIP\nlogsources:\n  - {product: linux, service: sshd, when: [{event.module: sshd}]}\n"
	if err := os.WriteFile(mappingPath, []byte(mapping), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := servertest.Config(filepath.Join(dir, "data"))
	cfg.Detection.MappingFile = mappingPath
	s := servertest.Start(t, cfg)
	s.AddTenant(t, "council-a")
	res := importRules(t, s, map[string]string{"ssh.yml": `title: SSH login from the campaign address
id: 9d3c1a2b-0000-4000-8000-0000000000b1
status: test
level: high
author: Tarian tests
logsource:
  product: linux
  service: sshd
detection:
  selection:
    SourceIP: 203.0.113.77
    event.outcome: failure
  condition: selection
`})
	if res["not_evaluated"] != float64(0) {
		t.Fatalf("the mapped rule is not evaluated: %v", res)
	}
	ingest(t, s, s.Token(t, "council-a", "ingest"),
		`{"event":{"module":"sshd","outcome":"failure"},"source":{"ip":"203.0.113.77"},"user":{"name":"root"}}`,
		`{"event":{"module":"sshd","outcome":"success"},"source":{"ip":"203.0.113.77"}}`,
		`{"event":{"module":"nginx","outcome":"failure"},"source":{"ip":"203.0.113.77"}}`)
	waitDetected(t, s)
	if got := alerts(t, s, servertest.AdminToken, "council-a", 1); len(got) != 1 || got[0].Fields["SourceIP"] != "203.0.113.77" {
		t.Errorf("alerts = %+v, want the one failed sshd login", got)
	}
}

func TestBadMappingFileRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "mapping.yaml")
	if err := os.WriteFile(p, []byte("logsources:\n  - {product: x}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := servertest.Config(filepath.Join(dir, "data"))
	cfg.Detection.MappingFile = p
	if err := vlogs.SetProcessLimits(cfg.Events.MemoryBytes); err != nil {
		t.Fatal(err)
	}
	_, err := server.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "mapping.yaml") {
		t.Fatalf("server.New with a bad mapping: %v; want an error naming the file", err)
	}
}
