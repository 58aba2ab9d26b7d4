package e2e

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// overviewRules are five rules of four severities, three naming ATT&CK
// techniques; no member sends the PowerShell logs the last one reads, so
// the scorecards suggest sending them.
const overviewRules = queueRules + `---
title: certutil download
id: 7d0e9c1a-1111-4a2b-9c3d-000000000003
author: Tarian tests
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image|endswith: '\certutil.exe'}
  condition: sel
level: critical
tags: [attack.command-and-control, attack.t1105]
---
title: hostname run
id: 7d0e9c1a-1111-4a2b-9c3d-000000000004
author: Tarian tests
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image|endswith: '\hostname.exe'}
  condition: sel
level: low
---
title: encoded PowerShell script block
id: 7d0e9c1a-1111-4a2b-9c3d-000000000005
author: Tarian tests
logsource: {product: windows, category: ps_script}
detection:
  sel: {ScriptBlockText|contains: 'FromBase64String'}
  condition: sel
level: medium
tags: [attack.execution, attack.t1059.001]
`

// overviewStats is the part of GET /api/v1/metrics/soc the test reads.
type overviewStats struct {
	Tenant     string           `json:"tenant"`
	Alerts     int              `json:"alerts"`
	BySeverity map[string]int   `json:"by_severity"`
	Techniques map[string]int   `json:"techniques"`
	Series     []map[string]any `json:"series"`
	Tenants    []overviewStats  `json:"tenants"`
}

// overviewSource is the part of a GET /api/v1/sources row the test reads.
type overviewSource struct {
	Tenant   string `json:"tenant"`
	Host     string `json:"host"`
	Name     string `json:"name"`
	Declared bool   `json:"declared"`
	Events   int64  `json:"events"`
	State    string `json:"state"`
}

// TestConsoleOverview drives the overview page (web/tests/overview.mjs):
// alerts of four severities at two members, a provider analyst sees the
// daily chart drawn (its canvas has bars), severity totals equal to the
// API's, the service levels, top rules and techniques, the log sources'
// health with a declared source gone silent and another waiting, the
// onboarding scorecards, and a monthly report link that opens the chosen
// member's report; the member picker narrows every part to one member;
// Welsh; a member viewer sees its own member only (no picker, its numbers,
// its sources, its scorecard) and is refused another's measures.
func TestConsoleOverview(t *testing.T) {
	consoleBrowser(t)
	dir := t.TempDir()
	// powys declares OLD1 with a short silence, so it goes silent while
	// the test runs, and a firewall it never sends (waiting).
	cfg := filepath.Join(dir, "tarian.yaml")
	conf := "sources:\n" +
		"  - {name: powys-legacy, tenant: powys, host: OLD1, type: auto, silence: 10s}\n" +
		"  - {name: powys-firewall, tenant: powys, receiver: syslog, type: fortigate}\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	s := twoMembers(t, dir, overviewRules, "--config", cfg)
	at := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	const (
		whoami   = `C:\Windows\System32\whoami.exe`
		net      = `C:\Windows\System32\net.exe`
		certutil = `C:\Windows\System32\certutil.exe`
		hostname = `C:\Windows\System32\hostname.exe`
		notepad  = `C:\Windows\System32\notepad.exe`
	)
	// gwynedd: 2 high (two hosts), 1 critical, 1 low; powys: 1 high, 1
	// medium, and its declared OLD1, whose silence raises a high alert.
	events := map[string][]string{
		"gwynedd": {
			sysmonProc("WS1", `GWYNEDD\bob`, whoami, at, 1),
			sysmonProc("WS2", `GWYNEDD\bob`, whoami, at, 2),
			sysmonProc("WS1", `GWYNEDD\bob`, certutil, at, 3),
			sysmonProc("WS3", `GWYNEDD\ann`, hostname, at, 4),
		},
		"powys": {
			sysmonProc("PC7", `POWYS\eve`, net, at, 1),
			sysmonProc("PC7", `POWYS\eve`, whoami, at, 2),
			sysmonProc("OLD1", `POWYS\eve`, notepad, at.Add(-3*time.Hour), 3),
		},
	}
	for tenant, lines := range events {
		f := filepath.Join(dir, tenant+".jsonl")
		if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		s.mustCLI(s.createToken(tenant, "ingest").Token, "ingest", f)
	}
	s.waitDetected()
	s.waitIndexed()
	// gwynedd's own scheduled search covers one technique more there (it
	// finds nothing, so raises nothing).
	s.mustCLI(adminToken, "searches", "save", "--tenant", "gwynedd", "--every", "1h", "--tags", "attack.impact,attack.t1490",
		"Backups deleted", `process.name:=vssadmin.exe "delete shadows"`)

	// The page's sources are source health's: OLD1 goes silent 10 s after
	// it was heard and the monitor raises its silence alert; the firewall
	// waits; gwynedd's three hosts are fine.
	var health map[string]overviewSource
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
		health = s.overviewSources(adminToken)
		if health["powys/OLD1"].State == "silent" && len(s.alertList(adminToken, "--tenant", "powys")) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("OLD1 did not go silent with its alert: %+v", health)
		}
	}
	if old := health["powys/OLD1"]; old.Name != "powys-legacy" || !old.Declared || old.Events != 1 {
		t.Errorf("OLD1's health: %+v", old)
	}
	if fw := health["powys/powys-firewall"]; fw.State != "waiting" {
		t.Errorf("the declared firewall: %+v, want waiting", fw)
	}
	for _, h := range []string{"WS1", "WS2", "WS3"} {
		if st := health["gwynedd/"+h].State; st != "ok" {
			t.Errorf("gwynedd's %s is %q, want ok", h, st)
		}
	}
	if len(health) != 6 {
		t.Errorf("%d sources, want 6: %+v", len(health), health)
	}

	levels := map[string]map[string]int{}
	for _, a := range s.alertList(adminToken, "--tenant", "*") {
		if levels[a.Tenant] == nil {
			levels[a.Tenant] = map[string]int{}
		}
		levels[a.Tenant][a.Level]++
	}
	wantLevels := map[string]map[string]int{"gwynedd": {"high": 2, "critical": 1, "low": 1}, "powys": {"high": 2, "medium": 1}}
	if fmt.Sprint(levels) != fmt.Sprint(wantLevels) {
		t.Fatalf("alerts by member and level before the browser: %v, want %v", levels, wantLevels)
	}

	// The metrics answer what the page needs: the series and techniques
	// (the silence alert's T1562 among them).
	from := time.Now().UTC().Truncate(24 * time.Hour).Add(-29 * 24 * time.Hour)
	st := s.overviewMetrics(adminToken, url.Values{"tenant": {"*"}, "from": {from.Format(time.RFC3339)}, "step": {"1d"}})
	if len(st.Series) != 30 || st.Alerts != 7 || st.Techniques["T1033"] != 3 || st.Techniques["T1105"] != 1 || st.Techniques["T1562"] != 1 {
		t.Fatalf("metrics/soc: %d intervals, %d alerts, techniques %v", len(st.Series), st.Alerts, st.Techniques)
	}
	var inSeries float64
	for _, b := range st.Series {
		inSeries += b["alerts"].(float64)
	}
	if inSeries != 7 {
		t.Errorf("series: %v alerts in all, want 7: %v", inSeries, st.Series)
	}

	const user, password = "ceri", "a long console password"
	const member, memberPassword = "dafydd", "gwynedd viewer password"
	for _, u := range []map[string]any{
		{"name": user, "role": "provider-analyst", "password": password},
		{"name": member, "tenant": "gwynedd", "role": "tenant-viewer", "password": memberPassword},
	} {
		body, _ := json.Marshal(u)
		if st, _, b := s.do("POST", "/api/v1/users", adminToken, body); st != 201 {
			t.Fatalf("POST /api/v1/users: %d %s", st, b)
		}
	}
	expect, _ := json.Marshal(levels)
	runBrowser(t, s, "overview", "CONSOLE_USER="+user, "CONSOLE_PASSWORD="+password,
		"MEMBER_USER="+member, "MEMBER_PASSWORD="+memberPassword, "EXPECT_LEVELS="+string(expect))

	// The page only reads: the alerts are as they were, and the measures
	// the browser compared with agree with the alerts list.
	for _, ts := range st.Tenants {
		if fmt.Sprint(ts.BySeverity) != fmt.Sprint(levels[ts.Tenant]) {
			t.Errorf("metrics of %s by severity %v, alerts list %v", ts.Tenant, ts.BySeverity, levels[ts.Tenant])
		}
	}
	if n := len(s.alertList(adminToken, "--tenant", "*")); n != 7 {
		t.Errorf("%d alerts after the browser, want 7", n)
	}
	// The report the analyst opened from the page is in powys's trail.
	st2, _, b := s.do("GET", "/api/v1/audit?tenant=powys&limit=1000", adminToken, nil)
	var trail struct {
		Records []struct{ Actor, Action, Detail string } `json:"records"`
	}
	if err := json.Unmarshal(b, &trail); st2 != 200 || err != nil {
		t.Fatalf("GET /api/v1/audit: %d %s", st2, b)
	}
	month := time.Now().UTC().Format("2006-01")
	read := false
	for _, r := range trail.Records {
		read = read || r.Action == "report.read" && strings.Contains(r.Actor, user) &&
			strings.Contains(r.Detail, "month="+month) && strings.Contains(r.Detail, "lang=cy") && strings.Contains(r.Detail, "format=html")
	}
	if !read {
		t.Errorf("no report.read of powys's %s report in Welsh by %s in its trail: %+v", month, user, trail.Records)
	}
}

// overviewSources reads GET /api/v1/sources?tenant=*: each source by
// tenant/host, or tenant/name when it has no host.
func (s *server) overviewSources(token string) map[string]overviewSource {
	s.t.Helper()
	status, _, b := s.do("GET", "/api/v1/sources?tenant=*", token, nil)
	var list struct {
		Sources []overviewSource `json:"sources"`
	}
	if err := json.Unmarshal(b, &list); status != 200 || err != nil {
		s.t.Fatalf("sources: %d %s", status, b)
	}
	out := map[string]overviewSource{}
	for _, src := range list.Sources {
		out[src.Tenant+"/"+cmp.Or(src.Host, src.Name)] = src
	}
	return out
}

// overviewMetrics reads GET /api/v1/metrics/soc with q.
func (s *server) overviewMetrics(token string, q url.Values) overviewStats {
	s.t.Helper()
	status, _, b := s.do("GET", "/api/v1/metrics/soc?"+q.Encode(), token, nil)
	var st overviewStats
	if err := json.Unmarshal(b, &st); status != 200 || err != nil {
		s.t.Fatalf("metrics/soc?%s: %d %s", q.Encode(), status, b)
	}
	return st
}
