package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConsoleHunt drives the hunt page (web/tests/hunt.mjs): a provider
// analyst hunts over two members' events, sees the hits over time drawn,
// narrows with a facet (the query, the URL and the history follow; back
// and forward work), changes the time range and member, expands an event
// and its raw record, pivots to the indicators (a known one with its TLP
// and confidence; an unknown address, which it adds), gets the server's
// message for a bad query and a clear empty result, and sees the page in
// Welsh. It saves searches for the team (a name taken refused), runs one
// and deletes another. The one it keeps it schedules as it saves it: its
// first run finds the login 3 h old and raises an alert, which the queue
// shows under "Raised by: Scheduled search" and whose detail leads back
// to the hunt; it then changes the schedule and stops it. A member viewer
// then sees its own member's events only, even with another member named
// in the URL, and cannot add indicators or save searches.
// Afterwards the server holds the indicator the browser added, the saved
// search no longer scheduled (its last run kept), the one alert its run
// raised, and the provider's audited searches include the facet's query.
func TestConsoleHunt(t *testing.T) {
	consoleBrowser(t)
	dir := t.TempDir()
	s := startServer(t, filepath.Join(dir, "data"))
	s.addTenant("gwynedd")
	s.addTenant("powys")

	now := time.Now().UTC().Truncate(time.Second)
	ago := func(d time.Duration) string { return now.Add(-d).Format(time.RFC3339) }
	line := func(m map[string]any) string {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for tenant, events := range map[string][]string{
		"gwynedd": {
			sysmonProc("WS1", `GWYNEDD\bob`, `C:\Windows\System32\whoami.exe`, now.Add(-10*time.Minute), 1),
			line(map[string]any{"@timestamp": ago(30 * time.Minute), "host.name": "WS1", "user.name": "bob", "message": "dns query for evil.example.net", "dns.question.name": "evil.example.net",
				// Attacker-controlled text a spreadsheet would run: the CSV export guards it.
				"url.original": `=HYPERLINK("http://evil.example.net/x","open")`}),
			line(map[string]any{"@timestamp": ago(3 * time.Hour), "host.name": "WS2", "user.name": "ann", "message": "login from 203.0.113.7", "source.ip": "203.0.113.7"}),
		},
		"powys": {
			sysmonProc("PC7", `POWYS\eve`, `C:\Windows\System32\net.exe`, now.Add(-10*time.Minute), 1),
			line(map[string]any{"@timestamp": ago(5 * time.Hour), "host.name": "PC7", "user.name": "eve", "message": "vpn login from 198.51.100.9", "source.ip": "198.51.100.9"}),
		},
	} {
		sum := s.ingestHTTP(s.createToken(tenant, "ingest").Token, []byte(strings.Join(events, "\n")+"\n"))
		if sum.Accepted != len(events) {
			t.Fatalf("ingest %s: %+v", tenant, sum)
		}
	}
	s.waitIndexed()
	s.waitCount(adminToken, "*", "*", map[string]int{"gwynedd": 3, "powys": 2})

	// The raw archive writes within seconds: wait for the record the
	// browser opens.
	rows := s.searchRows(adminToken, "gwynedd", "dns.question.name:=evil.example.net", 1)
	if len(rows) != 1 {
		t.Fatalf("the evil.example.net event: %v", rows)
	}
	ref := url.Values{"tenant": {"gwynedd"}, "ref": {rows[0]["tarian.seq"] + ":" + rows[0]["tarian.idx"]}}
	for deadline := time.Now().Add(indexTimeout); ; time.Sleep(100 * time.Millisecond) {
		st, _, b := s.do("GET", "/api/v1/raw?"+ref.Encode(), adminToken, nil)
		if st == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("raw record %s: %d %s", ref.Encode(), st, b)
		}
	}

	body, _ := json.Marshal(map[string]any{"type": "domain", "value": "evil.example.net", "tlp": "amber", "confidence": 80, "name": "Evil test domain"})
	st, _, b := s.do("POST", "/api/v1/intel/indicators", adminToken, body)
	var known struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &known); st != 201 || err != nil || known.ID == "" {
		t.Fatalf("POST /api/v1/intel/indicators: %d %s", st, b)
	}

	const user, password = "ceri", "a long hunting password"
	const member, memberPassword = "dafydd", "gwynedd viewer password"
	for _, u := range []map[string]string{
		{"name": user, "role": "provider-analyst", "password": password},
		{"name": member, "tenant": "gwynedd", "role": "tenant-viewer", "password": memberPassword},
	} {
		body, _ := json.Marshal(u)
		if st, _, b := s.do("POST", "/api/v1/users", adminToken, body); st != 201 {
			t.Fatalf("POST /api/v1/users %s: %d %s", u["name"], st, b)
		}
	}

	runBrowser(t, s, "hunt", "HUNT_USER="+user, "HUNT_PASSWORD="+password,
		"MEMBER_USER="+member, "MEMBER_PASSWORD="+memberPassword, "INDICATOR_ID="+known.ID)

	// The indicator the browser added: the provider's, as chosen.
	st, _, b = s.do("GET", "/api/v1/intel/indicators?type=ipv4", adminToken, nil)
	var list struct {
		Indicators []struct {
			ID          string `json:"id"`
			Name        string `json:"name"`
			TLP         string `json:"tlp"`
			Confidence  int    `json:"confidence"`
			Owner       string `json:"owner"`
			Observables []struct {
				Type  string `json:"type"`
				Value string `json:"value"`
			} `json:"observables"`
		} `json:"indicators"`
	}
	if err := json.Unmarshal(b, &list); st != 200 || err != nil {
		t.Fatalf("GET /api/v1/intel/indicators: %d %s", st, b)
	}
	if len(list.Indicators) != 1 {
		t.Fatalf("after the browser: ipv4 indicators %s, want the one it added", b)
	}
	got := list.Indicators[0]
	if got.Name != "Seen while hunting" || got.TLP != "green" || got.Confidence != 70 || got.Owner != "" ||
		len(got.Observables) != 1 || got.Observables[0].Value != "203.0.113.7" {
		t.Errorf("the indicator the browser added: %+v", got)
	}

	// The saved search the browser left: the provider's, by the analyst,
	// its schedule stopped and its runs' record kept.
	st, _, b = s.do("GET", "/api/v1/searches", adminToken, nil)
	var saved struct {
		Searches []struct {
			ID                          int64
			Tenant, Name, Query, Author string
			Schedule                    json.RawMessage
			LastRun                     *struct{ Found, Members int } `json:"last_run"`
		}
	}
	if err := json.Unmarshal(b, &saved); st != 200 || err != nil || len(saved.Searches) != 1 {
		t.Fatalf("GET /api/v1/searches: %d %s, want the one search the browser kept", st, b)
	}
	sv := saved.Searches[0]
	if sv.Tenant != "*" || sv.Name != "Logins from 203.0.113.7" || sv.Query != `"203.0.113.7"` || sv.Author != "user:"+user {
		t.Errorf("the saved search: %+v", sv)
	}
	if sv.Schedule != nil || sv.LastRun == nil {
		t.Errorf("the saved search after the browser stopped its schedule: %s, want no schedule and a last run", b)
	}

	// Its first run's alert: gwynedd's, the login's, at the level the
	// browser chose; none for powys, whose events do not match.
	st, _, b = s.do("GET", "/api/v1/alerts?tenant=*&producer=search", adminToken, nil)
	var raised struct {
		Alerts []struct {
			Tenant   string `json:"tenant"`
			Producer string `json:"producer"`
			RuleID   string `json:"rule_id"`
			Title    string `json:"title"`
			Level    string `json:"level"`
			Count    int    `json:"count"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal(b, &raised); st != 200 || err != nil || len(raised.Alerts) != 1 {
		t.Fatalf("GET /api/v1/alerts?producer=search: %d %s, want the one alert the scheduled search raised", st, b)
	}
	want := fmt.Sprintf("search:%d", sv.ID)
	if a := raised.Alerts[0]; a.Tenant != "gwynedd" || a.Producer != "search" || a.RuleID != want || a.Title != sv.Name || a.Level != "high" || a.Count != 1 {
		t.Errorf("the scheduled search's alert: %+v, want gwynedd's, rule %s, high, one event", a, want)
	}

	// The provider analyst's searches are audited, the facet's among them.
	st, _, b = s.do("GET", "/api/v1/audit?scope=*&limit=1000", adminToken, nil)
	var audit struct {
		Records []struct {
			Actor  string `json:"actor"`
			Action string `json:"action"`
			Detail string `json:"detail"`
		} `json:"records"`
	}
	if err := json.Unmarshal(b, &audit); st != 200 || err != nil {
		t.Fatalf("GET /api/v1/audit: %d %s", st, b)
	}
	searched := map[string]bool{}
	for _, r := range audit.Records {
		if r.Action != "search" || !strings.Contains(r.Actor, user) {
			continue
		}
		if q, err := url.ParseQuery(r.Detail); err == nil {
			searched[q.Get("q")] = true
		}
	}
	for _, q := range []string{"*", `host.name:="WS2"`, `"203.0.113.7"`, "* | stats by (_time:30m) count() hits"} {
		if !searched[q] {
			t.Errorf("no audited search by %s for %q; audited: %v", user, q, searched)
		}
	}
}
