package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// overviewRules are four rules of four severities, two naming ATT&CK
// techniques.
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

// TestConsoleOverview drives the overview page (web/tests/overview.mjs):
// alerts of four severities at two members, a provider analyst sees the
// daily chart drawn (its canvas has bars), severity totals equal to the
// API's, the service levels, top rules and techniques and the log sources
// of the last 24 hours with a quiet one; the member picker narrows every
// part to one member; Welsh; a member viewer sees its own member only (no
// picker, its numbers, its sources) and is refused another's measures.
func TestConsoleOverview(t *testing.T) {
	consoleBrowser(t)
	dir := t.TempDir()
	s := twoMembers(t, dir, overviewRules)
	at := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	const (
		whoami   = `C:\Windows\System32\whoami.exe`
		net      = `C:\Windows\System32\net.exe`
		certutil = `C:\Windows\System32\certutil.exe`
		hostname = `C:\Windows\System32\hostname.exe`
		notepad  = `C:\Windows\System32\notepad.exe`
	)
	// gwynedd: 2 high (two hosts), 1 critical, 1 low; powys: 1 high, 1
	// medium, and a host last heard from 3 hours ago (quiet).
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
	levels := map[string]map[string]int{}
	for _, a := range s.alertList(adminToken, "--tenant", "*") {
		if levels[a.Tenant] == nil {
			levels[a.Tenant] = map[string]int{}
		}
		levels[a.Tenant][a.Level]++
	}
	wantLevels := map[string]map[string]int{"gwynedd": {"high": 2, "critical": 1, "low": 1}, "powys": {"high": 1, "medium": 1}}
	if fmt.Sprint(levels) != fmt.Sprint(wantLevels) {
		t.Fatalf("alerts by member and level before the browser: %v, want %v", levels, wantLevels)
	}

	// The page's two reads answer what it needs: the metrics' series and
	// techniques, and the sources search (one row per member, dataset and
	// host, with its last time).
	from := time.Now().UTC().Truncate(24 * time.Hour).Add(-29 * 24 * time.Hour)
	st := s.overviewMetrics(adminToken, url.Values{"tenant": {"*"}, "from": {from.Format(time.RFC3339)}, "step": {"1d"}})
	if len(st.Series) != 30 || st.Alerts != 6 || st.Techniques["T1033"] != 3 || st.Techniques["T1105"] != 1 {
		t.Fatalf("metrics/soc: %d intervals, %d alerts, techniques %v", len(st.Series), st.Alerts, st.Techniques)
	}
	var inSeries float64
	for _, b := range st.Series {
		inSeries += b["alerts"].(float64)
	}
	if inSeries != 6 {
		t.Errorf("series: %v alerts in all, want 6: %v", inSeries, st.Series)
	}
	sources := map[string]string{}
	q := "* | stats by (event.dataset, host.name) count() as events, max(_time) as last_seen"
	for _, r := range s.searchRows(adminToken, "*", q, 0) {
		sources[r["tenant"]+"/"+r["host.name"]] = r["event.dataset"] + " " + r["events"] + " " + r["last_seen"]
	}
	if len(sources) != 5 || !strings.HasPrefix(sources["powys/OLD1"], "windows.sysmon_operational 1 ") || !strings.HasPrefix(sources["gwynedd/WS1"], "windows.sysmon_operational 2 ") {
		t.Fatalf("sources search: %v", sources)
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
	if n := len(s.alertList(adminToken, "--tenant", "*")); n != 6 {
		t.Errorf("%d alerts after the browser, want 6", n)
	}
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
