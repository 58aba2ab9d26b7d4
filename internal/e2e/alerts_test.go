package e2e

import (
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

// Two rules on process creation: whoami (high) and net user (medium).
const queueRules = `title: whoami run
id: 7d0e9c1a-1111-4a2b-9c3d-000000000001
author: Tarian tests
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image|endswith: '\whoami.exe'}
  condition: sel
level: high
tags: [attack.discovery, attack.t1033]
---
title: net user run
id: 7d0e9c1a-1111-4a2b-9c3d-000000000002
author: Tarian tests
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image|endswith: '\net.exe'}
  condition: sel
level: medium
`

// twoMembers starts a server on dir/data (with args for tarian serve) with
// the members gwynedd and powys and the rules in rules imported.
func twoMembers(t *testing.T, dir, rules string, args ...string) *server {
	t.Helper()
	s := startServerWith(t, filepath.Join(dir, "data"), args)
	s.addTenant("gwynedd")
	s.addTenant("powys")
	path := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(path, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	s.mustCLI(adminToken, "rules", "import", path)
	return s
}

// sysmonProc is one Sysmon process-creation event (EventID 1).
func sysmonProc(host, user, image string, at time.Time, n int) string {
	b, _ := json.Marshal(map[string]any{"Event": map[string]any{
		"System": map[string]any{"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": host, "EventRecordID": n,
			"Provider":    map[string]any{"#attributes": map[string]any{"Name": "Microsoft-Windows-Sysmon"}},
			"TimeCreated": map[string]any{"#attributes": map[string]any{"SystemTime": at.Format(time.RFC3339Nano)}}},
		"EventData": map[string]any{"Image": image, "CommandLine": image, "User": user, "ProcessId": n},
	}})
	return string(b)
}

type queueAlert struct {
	ID        int64     `json:"id"`
	Tenant    string    `json:"tenant"`
	Producer  string    `json:"producer"`
	RuleID    string    `json:"rule_id"`
	Author    string    `json:"author"`
	Level     string    `json:"level"`
	Risk      int       `json:"risk"`
	Status    string    `json:"status"`
	Assignee  string    `json:"assignee"`
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Incident  int64     `json:"incident"`
	Host      string    `json:"host"`
	Evidence  []string  `json:"evidence"`
	AlsoSeen  int       `json:"also_seen"`
	History   []struct {
		Time       time.Time `json:"time"`
		Actor      string    `json:"actor"`
		Verb       string    `json:"verb"`
		Status     string    `json:"status"`
		Resolution string    `json:"resolution"`
		Note       string    `json:"note"`
	} `json:"history"`
	SLA struct {
		AcknowledgeBreached bool `json:"acknowledge_breached"`
		ResolveBreached     bool `json:"resolve_breached"`
	} `json:"sla"`
}

func (s *server) alertList(token string, args ...string) []queueAlert {
	s.t.Helper()
	out := s.mustCLI(token, append([]string{"alerts", "list", "--json"}, args...)...)
	var as []queueAlert
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var a queueAlert
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			s.t.Fatalf("alerts list printed %q: %v", line, err)
		}
		as = append(as, a)
	}
	return as
}

// waitDetected waits until the detector has taken everything on the bus.
func (s *server) waitDetected() {
	s.t.Helper()
	deadline := time.Now().Add(indexTimeout)
	for s.metrics()["tarian_detector_lag_messages"] != 0 {
		if time.Now().After(deadline) {
			s.t.Fatal("detector lag did not reach 0")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAlertQueue drives the analyst's queue through the CLI: 1,000
// events of one rule on one host are one alert, a replay adds nothing,
// a second rule on the host joins its incident, every transition and its
// refusals, an SLA breach, a suppression, and another member's "not found".
func TestAlertQueue(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tarian.yaml")
	// whoami (high) must be acknowledged within a millisecond: breached at
	// once; net user (medium) keeps the default of hours.
	if err := os.WriteFile(cfg, []byte("alerts:\n  sla:\n    high: {acknowledge: 1ms, resolve: 1h}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := twoMembers(t, dir, queueRules, "--config", cfg)
	ingest := s.createToken("gwynedd", "ingest").Token
	analystTok := s.createToken("", "provider-analyst")
	memberTok := s.createToken("gwynedd", "tenant-analyst")
	analyst, member := analystTok.Token, memberTok.Token
	other := s.createToken("powys", "tenant-analyst").Token

	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	var lines []string
	for i := range 1000 {
		lines = append(lines, sysmonProc("WS1", `GWYNEDD\bob`, `C:\Windows\System32\whoami.exe`, start.Add(time.Duration(i)*time.Second), i+1))
	}
	events := filepath.Join(dir, "whoami.jsonl")
	if err := os.WriteFile(events, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.mustCLI(ingest, "ingest", events)
	s.waitDetected()

	as := s.alertList(analyst, "--tenant", "gwynedd")
	if len(as) != 1 {
		t.Fatalf("1,000 whoami events on WS1: %d alerts, want 1: %+v", len(as), as)
	}
	a := as[0]
	last := start.Add(999 * time.Second)
	if a.Count != 1000 || !a.FirstSeen.Equal(start) || !a.LastSeen.Equal(last) || a.Host != "WS1" || a.Producer != "sigma" ||
		a.Author != "Tarian tests" || a.Status != "new" || a.Incident == 0 || a.Risk == 0 {
		t.Fatalf("alert = %+v; want count 1000, first seen %s, last seen %s on WS1", a, start, last)
	}
	if !a.SLA.AcknowledgeBreached {
		t.Errorf("high alert not acknowledged within 1ms: SLA not flagged as breached: %+v", a.SLA)
	}

	// The same events again: nothing counts twice.
	s.mustCLI(ingest, "ingest", events)
	s.waitDetected()
	if as := s.alertList(analyst, "--tenant", "gwynedd"); len(as) != 1 || as[0].Count != 1000 {
		t.Fatalf("after a replay: %+v, want one alert of 1000", as)
	}

	// net user on the same host: its own alert, in the same incident.
	netUser := filepath.Join(dir, "net.jsonl")
	os.WriteFile(netUser, []byte(sysmonProc("WS1", `GWYNEDD\bob`, `C:\Windows\System32\net.exe`, last.Add(time.Minute), 5000)+"\n"), 0o600)
	s.mustCLI(ingest, "ingest", netUser)
	s.waitDetected()
	as = s.alertList(analyst, "--tenant", "gwynedd", "--rule", "7d0e9c1a-1111-4a2b-9c3d-000000000002")
	if len(as) != 1 || as[0].Incident != a.Incident || as[0].Level != "medium" || as[0].SLA.AcknowledgeBreached {
		t.Fatalf("net user alert = %+v; want one medium alert in incident %d, SLA not breached", as, a.Incident)
	}
	if as := s.alertList(analyst, "--tenant", "gwynedd", "--incident", fmt.Sprint(a.Incident)); len(as) != 2 {
		t.Errorf("incident %d holds %d alerts, want 2", a.Incident, len(as))
	}

	// The grouped queue: one line for the intrusion on WS1.
	var in struct {
		ID     int64   `json:"id"`
		Alerts int     `json:"alerts"`
		Events int     `json:"events"`
		Level  string  `json:"level"`
		IDs    []int64 `json:"alert_ids"`
	}
	out := strings.TrimSpace(s.mustCLI(analyst, "alerts", "incidents", "--tenant", "gwynedd", "--json"))
	if err := json.Unmarshal([]byte(out), &in); err != nil || strings.Count(out, "\n") != 0 {
		t.Fatalf("alerts incidents printed %q (%v), want one incident", out, err)
	}
	if in.ID != a.Incident || in.Alerts != 2 || in.Events != 1001 || in.Level != "high" || len(in.IDs) != 2 {
		t.Errorf("incident = %+v; want incident %d of 2 alerts and 1001 events, level high", in, a.Incident)
	}

	id := fmt.Sprint(a.ID)
	show := func(token string) queueAlert {
		var got queueAlert
		if err := json.Unmarshal([]byte(s.mustCLI(token, "alerts", "show", id, "--json")), &got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	got := show(member)
	if len(got.Evidence) != 100 {
		t.Errorf("evidence: %d references, want the first 100", len(got.Evidence))
	}
	// --events: the first ten of its events, whole, found by their
	// references.
	var withEvents struct {
		Events []map[string]string `json:"events"`
	}
	if err := json.Unmarshal([]byte(s.mustCLI(member, "alerts", "show", id, "--events", "--json")), &withEvents); err != nil || len(withEvents.Events) != 10 {
		t.Fatalf("alerts show --events --json: %d events, %v; want 10", len(withEvents.Events), err)
	}
	for _, ev := range withEvents.Events {
		ref := ev["tarian.seq"] + ":" + ev["tarian.idx"]
		if !slices.Contains(got.Evidence[:10], ref) || ev["process.executable"] != `C:\Windows\System32\whoami.exe` || ev["tenant"] != "gwynedd" {
			t.Errorf("an event of alerts show --events is not one of its first ten: %s %v", ref, ev)
		}
	}
	if out := s.mustCLI(member, "alerts", "show", id); !strings.Contains(out, "tarian alerts show "+id+" --events") {
		t.Errorf("alerts show does not say how to see its events:\n%s", out)
	}
	if out := s.mustCLI(member, "alerts", "show", id, "--events"); len(regexp.MustCompile(`\nevent \d+:[\d.]+\n`).FindAllString(out, -1)) != 10 || !strings.Contains(out, "10 of its 1000 events shown") {
		t.Errorf("alerts show --events:\n%s", out)
	}
	// Legal transitions, each refused when repeated out of turn.
	steps := []struct {
		args   []string
		status string
	}{
		{[]string{"ack", id}, "acknowledged"},
		{[]string{"assign", id, "--to", "rhys"}, "in-progress"},
		{[]string{"resolve", id, "--as", "false-positive", "--note", "admin script"}, "resolved"},
		{[]string{"reopen", id}, "in-progress"},
		{[]string{"escalate", id}, "escalated"},
	}
	for _, st := range steps {
		out := s.mustCLI(analyst, append([]string{"alerts"}, st.args...)...)
		if !strings.Contains(out, st.status) {
			t.Errorf("alerts %v printed %q, want %s", st.args, out, st.status)
		}
		if got := show(analyst); got.Status != st.status {
			t.Errorf("after %v: status %s, want %s", st.args, got.Status, st.status)
		}
	}
	if got := show(analyst); got.Assignee != "rhys" {
		t.Errorf("assignee = %q, want rhys", got.Assignee)
	}
	for _, bad := range [][]string{{"ack", id}, {"assign", id, "--to", "x"}, {"escalate", id}} {
		r := s.cli(analyst, append([]string{"alerts"}, bad...)...)
		if r.code == 0 || !strings.Contains(r.stderr, "escalated") {
			t.Errorf("alerts %v on an escalated alert: exit %d, stderr %q; want refused naming the status", bad, r.code, r.stderr)
		}
	}
	if r := s.cli(analyst, "alerts", "resolve", id, "--as", "maybe"); r.code != 2 {
		t.Errorf("resolve --as maybe: exit %d, want 2 (usage)", r.code)
	}
	// The member resolves its escalated alert.
	s.mustCLI(member, "alerts", "resolve", id, "--as", "true-positive")
	// Its history: who did what, when, oldest first.
	var hist []string
	for _, st := range show(member).History {
		if st.Time.IsZero() {
			t.Errorf("history step without a time: %+v", st)
		}
		hist = append(hist, st.Verb+" "+st.Status+" "+st.Resolution+" "+st.Note+" by "+st.Actor)
	}
	by, byMember := " by "+analystTok.ID, " by "+memberTok.ID
	wantHist := []string{"ack acknowledged  " + by, "assign in-progress  " + by, "resolve resolved false-positive admin script" + by,
		"reopen in-progress  " + by, "escalate escalated  " + by, "resolve resolved true-positive " + byMember}
	if !slices.Equal(hist, wantHist) {
		t.Errorf("history:\n%s\nwant:\n%s", strings.Join(hist, "\n"), strings.Join(wantHist, "\n"))
	}
	if out := s.mustCLI(member, "alerts", "show", id); !regexp.MustCompile(`history:\n(.*\n)*.*resolved as false-positive: admin script\s+by ` + analystTok.ID).MatchString(out) {
		t.Errorf("alerts show prints no history naming who resolved it:\n%s", out)
	}
	// A comment on the resolved alert: in its history, its state kept.
	if out := s.mustCLI(member, "alerts", "comment", id, "WS1", "reimaged", "on", "Monday"); !strings.Contains(out, "comment added (resolved)") {
		t.Errorf("alerts comment printed %q", out)
	}
	if got := show(analyst); got.Status != "resolved" || len(got.History) != 7 || got.History[6].Verb != "comment" ||
		got.History[6].Note != "WS1 reimaged on Monday" || got.History[6].Actor != memberTok.ID {
		t.Errorf("after the comment: status %s, history %+v", got.Status, got.History)
	}
	if r := s.cli(member, "alerts", "comment", id, " "); r.code != 1 || !strings.Contains(r.stderr, "a comment needs a note") {
		t.Errorf("an empty comment: exit %d %q", r.code, r.stderr)
	}
	if r := s.cli(other, "alerts", "comment", id, "not mine"); r.code == 0 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("powys commenting on gwynedd's alert: exit %d %q; want not found", r.code, r.stderr)
	}

	// Another member: not found, through every route.
	for _, args := range [][]string{{"show", id}, {"ack", id}, {"reopen", id}, {"resolve", id, "--as", "duplicate"}} {
		r := s.cli(other, append([]string{"alerts"}, args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, "not found") {
			t.Errorf("powys: alerts %v: exit %d, stderr %q; want not found", args, r.code, r.stderr)
		}
	}
	if as := s.alertList(other); len(as) != 0 {
		t.Errorf("powys lists %d alerts of gwynedd", len(as))
	}

	// A suppression stops net user on WS2, and counts what it stopped.
	out = s.mustCLI(analyst, "suppress", "add", "--tenant", "gwynedd", "--rule", "7d0e9c1a-1111-4a2b-9c3d-000000000002",
		"--where", "host=WS2", "--reason", "patching scripts", "--expires", "7d")
	if !strings.Contains(out, "suppression") {
		t.Errorf("suppress add printed %q", out)
	}
	os.WriteFile(netUser, []byte(sysmonProc("WS2", `GWYNEDD\eve`, `C:\Windows\System32\net.exe`, last.Add(2*time.Minute), 6000)+"\n"+
		sysmonProc("WS3", `GWYNEDD\eve`, `C:\Windows\System32\net.exe`, last.Add(2*time.Minute), 6001)+"\n"), 0o600)
	s.mustCLI(ingest, "ingest", netUser)
	s.waitDetected()
	hosts := map[string]bool{}
	for _, a := range s.alertList(analyst, "--tenant", "gwynedd", "--rule", "7d0e9c1a-1111-4a2b-9c3d-000000000002") {
		hosts[a.Host] = true
	}
	if hosts["WS2"] || !hosts["WS3"] {
		t.Errorf("net user alerts on %v; want WS3 but not the suppressed WS2", hosts)
	}
	var sup struct {
		ID   int64 `json:"id"`
		Hits int   `json:"hits"`
	}
	json.Unmarshal([]byte(s.mustCLI(member, "suppress", "list", "--json")), &sup)
	if sup.Hits != 1 {
		t.Errorf("suppression hits = %d, want 1", sup.Hits)
	}
	if r := s.cli(s.createToken("powys", "tenant-admin").Token, "suppress", "remove", fmt.Sprint(sup.ID)); r.code == 0 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("powys removing gwynedd's suppression: exit %d, %q", r.code, r.stderr)
	}
	s.mustCLI(analyst, "suppress", "remove", fmt.Sprint(sup.ID))
}
