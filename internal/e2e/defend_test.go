package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

const waveRule = `title: DNS query to the phishing wave's domain
id: 5f1e9c1a-2222-4a2b-9c3d-000000000001
author: Tarian tests
logsource: {product: windows, category: dns_query}
detection:
  sel: {QueryName|endswith: '.phish-wave.net'}
  condition: sel
level: high
tags: [attack.initial_access, attack.t1566.002]
`

// TestDefendAsOne: five members. The same phishing domain at three of them
// within ten minutes is one campaign, which a fourth joins; below the
// k-anonymity threshold a member is told nothing, at it only a count; the
// provider's true positive at one member shares the domain, which then
// alerts at a member whose rules missed it (real time) and one that saw
// it yesterday (retro-hunt), and the member names never reach another
// member.
func TestDefendAsOne(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, filepath.Join(dir, "data"))
	members := []string{"gwynedd", "powys", "conwy", "ceredigion", "wrexham"}
	ingest, analyst := map[string]string{}, map[string]string{}
	for _, m := range members {
		s.addTenant(m)
		ingest[m] = s.createToken(m, "ingest").Token
		analyst[m] = s.createToken(m, "tenant-analyst").Token
	}
	prov := s.createToken("", "provider-analyst").Token
	rules := filepath.Join(dir, "wave.yml")
	if err := os.WriteFile(rules, []byte(waveRule), 0o600); err != nil {
		t.Fatal(err)
	}
	s.mustCLI(adminToken, "rules", "import", rules)
	// gwynedd's live stream, read all along: it must carry gwynedd's own
	// alerts and nothing of the others.
	streamCtx, stopStream := context.WithCancel(context.Background())
	defer stopStream()
	req, _ := http.NewRequestWithContext(streamCtx, "GET", s.url+"/api/v1/stream", nil)
	req.Header.Set("Authorization", "Bearer "+analyst["gwynedd"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("gwynedd's stream: %v %v", resp, err)
	}
	var streamMu sync.Mutex
	var streamed strings.Builder
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			streamMu.Lock()
			streamed.WriteString(sc.Text() + "\n")
			streamMu.Unlock()
		}
	}()
	now := time.Now().UTC()
	dns := func(m string, at time.Time, n int) string {
		return sysmonEvent(22, strings.ToUpper(m[:3])+"-WS1", at, n, map[string]any{"QueryName": "login.phish-wave.net", "Image": `C:\Program Files\Outlook\outlook.exe`, "User": `CORP\` + m + "-clerk"})
	}

	// Yesterday, wrexham resolved the name through a proxy its rules do
	// not cover: only a retro-hunt will find it.
	s.ingestLines(ingest["wrexham"], sysmonEvent(3, "WRE-WS9", now.Add(-24*time.Hour), 1,
		map[string]any{"DestinationHostname": "login.phish-wave.net", "DestinationIp": "203.0.113.77", "User": `CORP\wrexham-clerk`}))
	s.waitDetected()

	// gwynedd and powys: one other member is below k = 2, nothing said.
	s.ingestLines(ingest["gwynedd"], dns("gwynedd", now.Add(-9*time.Minute), 1))
	s.ingestLines(ingest["powys"], dns("powys", now.Add(-5*time.Minute), 1))
	s.waitDetected()
	as := s.alertList(analyst["gwynedd"])
	if len(as) != 1 {
		t.Fatalf("gwynedd's alerts: %+v", as)
	}
	gAlert := as[0].ID
	if out := s.mustCLI(analyst["gwynedd"], "alerts", "show", itoa(gAlert), "--json"); strings.Contains(out, "also_seen") {
		t.Errorf("with one other member, gwynedd is told: %s", out)
	}
	if out := s.mustCLI(prov, "campaigns", "list", "--json"); strings.TrimSpace(out) != "" {
		t.Errorf("a campaign at two members: %s", out)
	}

	// conwy: three members within ten minutes, one campaign.
	s.ingestLines(ingest["conwy"], dns("conwy", now.Add(-time.Minute), 1))
	s.waitDetected()
	var camp struct {
		ID      int64 `json:"id"`
		Members int   `json:"members"`
		Value   string
		Alerts  []struct {
			Tenant string `json:"tenant"`
			Alert  int64  `json:"alert"`
		} `json:"alerts"`
	}
	out := strings.TrimSpace(s.mustCLI(prov, "campaigns", "list", "--json"))
	if strings.Count(out, "\n") != 0 || json.Unmarshal([]byte(out), &camp) != nil || camp.Members != 3 || camp.Value != "login.phish-wave.net" {
		t.Fatalf("campaigns after three members: %s", out)
	}
	out = s.mustCLI(prov, "campaigns", "show", itoa(camp.ID), "--json")
	if err := json.Unmarshal([]byte(out), &camp); err != nil || len(camp.Alerts) != 3 {
		t.Fatalf("campaign: %s", out)
	}
	var shown struct {
		AlsoSeen int `json:"also_seen"`
	}
	out = s.mustCLI(analyst["gwynedd"], "alerts", "show", itoa(gAlert), "--json")
	if err := json.Unmarshal([]byte(out), &shown); err != nil || shown.AlsoSeen != 2 {
		t.Errorf("gwynedd's alert: also_seen %d, want 2: %s", shown.AlsoSeen, out)
	}
	if out := s.mustCLI(analyst["gwynedd"], "alerts", "show", itoa(gAlert)); !regexp.MustCompile(`also seen:\s+at 2 other members`).MatchString(out) {
		t.Errorf("gwynedd's alerts show does not say it was also seen:\n%s", out)
	}
	// The provider's queue, three members' alerts on one page: each says
	// the two others (one look-up per member, not per alert).
	if as := s.alertList(prov, "--tenant", "*"); len(as) != 3 {
		t.Errorf("provider's queue: %d alerts, want 3", len(as))
	} else {
		for _, a := range as {
			if a.AlsoSeen != 2 {
				t.Errorf("provider's queue: %s's alert %d also seen %d, want 2", a.Tenant, a.ID, a.AlsoSeen)
			}
		}
	}

	// ceredigion is hit later: it joins the same campaign.
	s.ingestLines(ingest["ceredigion"], dns("ceredigion", now, 1))
	s.waitDetected()
	out = s.mustCLI(prov, "campaigns", "show", itoa(camp.ID), "--json")
	if err := json.Unmarshal([]byte(out), &camp); err != nil || camp.Members != 4 || len(camp.Alerts) != 4 {
		t.Errorf("campaign after a fourth member: %s", out)
	}
	if out := strings.TrimSpace(s.mustCLI(prov, "campaigns", "list", "--json")); strings.Count(out, "\n") != 0 {
		t.Errorf("a second campaign: %s", out)
	}

	// The provider closes it, saying why (audited); a member cannot. Then
	// opens it again for what follows.
	if r := s.cli(analyst["conwy"], "campaigns", "close", itoa(camp.ID)); r.code == 0 {
		t.Errorf("a member closes a campaign: %+v", r)
	}
	if out := s.mustCLI(prov, "campaigns", "close", itoa(camp.ID), "--note", "sender blocked at every gateway"); !strings.Contains(out, "closed") {
		t.Errorf("campaigns close: %s", out)
	}
	if out := strings.TrimSpace(s.mustCLI(prov, "campaigns", "list", "--status", "open", "--json")); out != "" {
		t.Errorf("open campaigns after closing: %s", out)
	}
	if out := s.mustCLI(prov, "campaigns", "show", itoa(camp.ID)); !regexp.MustCompile(`\(closed\)[\s\S]*closed \S+ by \S+: sender blocked at every gateway`).MatchString(out) {
		t.Errorf("campaigns show of the closed campaign:\n%s", out)
	}
	if out := s.mustCLI(adminToken, "audit", "list", "--tenant", "*", "--json"); !strings.Contains(out, `"campaign.close"`) || !strings.Contains(out, "sender blocked at every gateway") {
		t.Errorf("the provider's audit chain has no campaign.close with its note:\n%s", out)
	}
	s.mustCLI(prov, "campaigns", "reopen", itoa(camp.ID))
	if out := strings.TrimSpace(s.mustCLI(prov, "campaigns", "list", "--status", "open", "--json")); !strings.Contains(out, `"status":"open"`) || strings.Count(out, "\n") != 0 {
		t.Errorf("open campaigns after reopening: %s", out)
	}

	// The provider confirms gwynedd's alert: the domain is shared, gwynedd's
	// host and user are not.
	out = s.mustCLI(prov, "alerts", "resolve", itoa(gAlert), "--as", "true-positive")
	sharedID := ""
	if i := strings.Index(out, "(indicator--"); i >= 0 {
		sharedID = strings.TrimSuffix(strings.Fields(out[i+1:])[0], ")")
	}
	if r := s.cli(analyst["conwy"], "intel", "show", sharedID, "--json"); r.code != 0 || !strings.Contains(r.stdout, "login.phish-wave.net") {
		t.Errorf("another member cannot read the shared indicator %q: %+v", sharedID, r)
	}
	if !strings.Contains(out, "shared with every member: domain login.phish-wave.net") || strings.Contains(out, "GWY-WS1") || strings.Contains(out, "gwynedd-clerk") {
		t.Fatalf("resolve as true positive: %s", out)
	}
	// wrexham's day-old connection is found by the retro-hunt.
	s.waitAlerts(prov, "wrexham", "retro-hunt of the shared domain", func(as []queueAlert) bool {
		return len(as) == 1 && as[0].Producer == "retrohunt" && as[0].Host == "WRE-WS9"
	})
	// The members whose wave alerts shared it hold those events in them
	// already: their hunts find them (hits) and raise nothing again.
	type hunt struct {
		Tenant     string `json:"tenant"`
		Status     string `json:"status"`
		Hits       int    `json:"hits"`
		Observable string `json:"observable"`
	}
	var hunts []hunt
	for deadline := time.Now().Add(indexTimeout); ; time.Sleep(100 * time.Millisecond) {
		hunts = hunts[:0]
		done := 0
		for _, l := range strings.Split(strings.TrimSpace(s.mustCLI(prov, "intel", "hunts", "--indicator", sharedID, "--json")), "\n") {
			var h hunt
			if json.Unmarshal([]byte(l), &h) == nil {
				hunts = append(hunts, h)
				if h.Status == "done" {
					done++
				}
			}
		}
		if done == len(members) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the shared domain's hunts: %+v", hunts)
		}
	}
	for _, h := range hunts { // each member resolved the name once
		if h.Hits != 1 || h.Observable != "domain login.phish-wave.net" {
			t.Errorf("hunt at %s: %d hits of %q, want 1 of domain login.phish-wave.net", h.Tenant, h.Hits, h.Observable)
		}
	}
	if out := s.mustCLI(prov, "intel", "hunts", "--indicator", sharedID); !strings.Contains(out, "domain login.phish-wave.net") {
		t.Errorf("intel hunts does not say what the hunt looked for:\n%s", out)
	}
	for _, m := range []string{"gwynedd", "powys", "conwy", "ceredigion"} {
		for _, a := range s.alertList(prov, "--tenant", m) {
			if a.Producer == "retrohunt" {
				t.Errorf("%s: the retro-hunt raised an event its wave alert holds again: %+v", m, a)
			}
		}
	}
	// But they did see it: five members' sightings, so an anonymised
	// sighting (a count, no names) is in the collection every member reads.
	var sightings struct {
		Sightings []struct {
			Tenant string `json:"tenant"`
			Count  int    `json:"count"`
		} `json:"sightings"`
	}
	if out := s.mustCLI(prov, "intel", "show", sharedID, "--json"); json.Unmarshal([]byte(out), &sightings) != nil || len(sightings.Sightings) != len(members) {
		t.Errorf("the shared indicator's sightings: want one per member: %s", out)
	}
	if _, _, objs := s.do("GET", "/taxii2/tarian/collections/Shared/objects/", adminToken, nil, "Accept", "application/taxii+json;version=2.1"); !strings.Contains(string(objs), `"type":"sighting"`) {
		t.Errorf("the shared collection after five members' sightings: no anonymised sighting: %s", objs)
	}
	// A member whose rules do not see it: its connection alerts on the
	// shared indicator as soon as it is processed.
	start := time.Now()
	s.ingestLines(ingest["wrexham"], sysmonEvent(3, "WRE-WS2", time.Now().UTC(), 2,
		map[string]any{"DestinationHostname": "login.phish-wave.net", "DestinationIp": "203.0.113.77", "User": `CORP\wrexham-clerk`}))
	s.waitAlerts(prov, "wrexham", "real-time match of the shared domain", func(as []queueAlert) bool {
		for _, a := range as {
			if a.Producer == "intel" && a.Host == "WRE-WS2" {
				return true
			}
		}
		return false
	})
	t.Logf("confirmation to protection: wrexham's event alerted %v after its ingest was acknowledged (the CLI's ingest call included)", time.Since(start).Round(time.Millisecond))

	// powys and conwy connect to it too (real time).
	for i, m := range []string{"powys", "conwy"} {
		host := strings.ToUpper(m[:3]) + "-WS5"
		s.ingestLines(ingest[m], sysmonEvent(3, host, time.Now().UTC(), 3+i,
			map[string]any{"DestinationHostname": "login.phish-wave.net", "DestinationIp": "203.0.113.77", "User": `CORP\` + m + "-clerk"}))
		s.waitAlerts(prov, m, m+"'s match of the shared domain", func(as []queueAlert) bool {
			for _, a := range as {
				if a.Producer == "intel" && a.Host == host {
					return true
				}
			}
			return false
		})
	}

	// A case closed as a true positive shares its alerts' observables too.
	s.ingestLines(ingest["ceredigion"], sysmonEvent(22, "CER-WS7", time.Now().UTC(), 2, map[string]any{"QueryName": "dl.phish-wave.net", "User": `CORP\ceredigion-clerk`}))
	s.waitDetected()
	var second int64
	for _, a := range s.alertList(prov, "--tenant", "ceredigion") {
		if a.Host == "CER-WS7" {
			second = a.ID
		}
	}
	if second == 0 {
		t.Fatal("no alert for ceredigion's second host")
	}
	if l := s.mustCLI(prov, "intel", "list", "--json"); strings.Contains(l, "dl.phish-wave.net") {
		t.Fatalf("shared before the case closed: %s", l)
	}
	caseOut := s.mustCLI(prov, "cases", "create", "--tenant", "ceredigion", "--title", "Phishing wave", "--from-alert", itoa(second), "--json")
	var kase struct{ ID int64 }
	if err := json.Unmarshal([]byte(caseOut), &kase); err != nil || kase.ID == 0 {
		t.Fatalf("cases create: %s", caseOut)
	}
	// The close says what it shared and what the policy kept back (the
	// host and the user), as an alert's resolve does.
	closed := s.mustCLI(prov, "cases", "close", itoa(kase.ID), "--as", "true-positive", "--summary", "confirmed wave")
	if !strings.Contains(closed, "shared with every member: domain dl.phish-wave.net (indicator--") ||
		!strings.Contains(closed, "kept back by the sharing policy: 2 internal entities") || strings.Contains(closed, "CER-WS7") {
		t.Errorf("cases close as a true positive printed:\n%s", closed)
	}
	if l := s.mustCLI(prov, "intel", "list", "--json"); !strings.Contains(l, `"value":"dl.phish-wave.net"`) || !strings.Contains(l, "tarian:confirmed") {
		t.Errorf("closing the case as a true positive did not share its alert's domain: %s", l)
	}

	// Nothing a member reads names another member or its hosts and users.
	var powysTAXII string
	for _, m := range members {
		reads := [][]string{{"alerts", "list", "--json"}, {"intel", "list", "--json"}, {"intel", "export"}, {"search", "--json", "phish-wave"},
			{"cases", "list", "--json"}, {"intel", "show", sharedID, "--json"}, {"advisories", "list", "--json"}}
		for _, args := range reads {
			r := s.cli(analyst[m], args...)
			body := r.stdout + r.stderr
			for _, other := range members {
				if other == m {
					continue
				}
				if strings.Contains(body, other) || strings.Contains(body, strings.ToUpper(other[:3])+"-WS") {
					t.Errorf("%s's %v names %s:\n%s", m, args, other, body)
				}
			}
		}
		if r := s.cli(analyst[m], "campaigns", "list"); r.code == 0 {
			t.Errorf("member %s lists campaigns: %s", m, r.stdout)
		}
		if st, _, body := s.do("GET", "/metrics", analyst[m], nil); st != http.StatusForbidden {
			t.Errorf("member %s reads /metrics: %d %s", m, st, body)
		}
		// The member's admin: its audit chain, and every TAXII collection
		// it may read.
		admin := s.createToken(m, "tenant-admin").Token
		bodies := []string{s.mustCLI(admin, "audit", "list", "--json")}
		taxii := "application/taxii+json;version=2.1"
		_, _, cols := s.do("GET", "/taxii2/tarian/collections/", admin, nil, "Accept", taxii)
		var list struct {
			Collections []struct {
				ID      string `json:"id"`
				CanRead bool   `json:"can_read"`
			} `json:"collections"`
		}
		if err := json.Unmarshal(cols, &list); err != nil || len(list.Collections) == 0 {
			t.Fatalf("%s's TAXII collections: %s", m, cols)
		}
		bodies = append(bodies, string(cols))
		for _, c := range list.Collections {
			if c.CanRead {
				_, _, objs := s.do("GET", "/taxii2/tarian/collections/"+c.ID+"/objects/", admin, nil, "Accept", taxii)
				bodies = append(bodies, string(objs))
			}
		}
		if m == "powys" {
			powysTAXII = strings.Join(bodies[1:], "\n")
		}
		for _, body := range bodies {
			for _, other := range members {
				if other != m && (strings.Contains(body, other) || strings.Contains(body, strings.ToUpper(other[:3])+"-WS")) {
					t.Errorf("%s's audit or TAXII names %s:\n%s", m, other, body)
				}
			}
		}
	}
	streamMu.Lock()
	got := streamed.String()
	streamMu.Unlock()
	if !strings.Contains(got, "GWY-WS1") {
		t.Errorf("gwynedd's stream lacks its own alert:\n%s", got)
	}
	for _, other := range members[1:] {
		if strings.Contains(got, other) || strings.Contains(got, strings.ToUpper(other[:3])+"-WS") {
			t.Errorf("gwynedd's stream names %s:\n%s", other, got)
		}
	}
	// The shared indicators are in a collection every member reads.
	if !strings.Contains(powysTAXII, "login.phish-wave.net") {
		t.Errorf("powys' TAXII collections lack the shared indicator: %s", powysTAXII)
	}
	if !strings.Contains(powysTAXII, `"type":"sighting"`) || strings.Contains(powysTAXII, "where_sighted_refs") {
		t.Errorf("powys' TAXII collections: want an anonymised sighting of the shared indicator: %s", powysTAXII)
	}

	// The provider takes its confirmation back: the domain it shared is
	// revoked for every member.
	out = s.mustCLI(prov, "alerts", "reopen", itoa(gAlert))
	if !strings.Contains(out, "withdrawn from every member (revoked): "+sharedID) {
		t.Errorf("reopening the confirmed alert printed:\n%s", out)
	}
	if r := s.cli(analyst["conwy"], "intel", "show", sharedID, "--json"); !strings.Contains(r.stdout, `"revoked":true`) {
		t.Errorf("the withdrawn indicator as conwy sees it: %+v", r)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
