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

// TestConsoleIntel drives the console's threat-intelligence pages in
// headless chromium (web/tests/intel.mjs). Three members resolve the
// phishing domain of a provider indicator within minutes: each sighting
// is an intel alert, and together they are one campaign. A provider
// analyst then adds an indicator through the form, imports a CSV file,
// filters the list, opens the indicator with its three sightings, revokes
// an imported one, opens the campaign and its members' alerts, and
// publishes an advisory in English and Welsh; a member viewer sees that
// advisory (not the one addressed to another member), acknowledges it, has
// no campaigns, and is shown "not found" at a campaign, at another
// member's advisory and at an indicator shared with another member only.
// Afterwards the API must hold what the browser did.
func TestConsoleIntel(t *testing.T) {
	consoleBrowser(t)
	dir := t.TempDir()
	s := startServer(t, filepath.Join(dir, "data"))
	members := []string{"gwynedd", "powys", "conwy"}
	for _, m := range members {
		s.addTenant(m)
	}
	prov := s.createToken("", "provider-analyst").Token

	post := func(path string, body any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		st, _, out := s.do("POST", path, prov, b)
		if st != 201 {
			t.Fatalf("POST %s: %d %s", path, st, out)
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	wave := post("/api/v1/intel/indicators", map[string]any{"type": "domain", "value": "login.phish-wave.net", "confidence": 90, "tlp": "amber", "name": "Phishing wave"})["id"].(string)
	hidden := post("/api/v1/intel/indicators", map[string]any{"type": "domain", "value": "powys-only.example", "audience": "powys", "tlp": "amber"})["id"].(string)

	// The three members resolve the domain within ten minutes.
	time.Sleep(time.Second)
	now := time.Now().UTC()
	for i, m := range members {
		ev := sysmonEvent(22, strings.ToUpper(m[:3])+"-WS1", now.Add(time.Duration(i-3)*time.Minute), 1,
			map[string]any{"QueryName": "login.phish-wave.net", "Image": `C:\Program Files\Outlook\outlook.exe`, "User": `CORP\` + m + "-clerk"})
		s.ingestLines(s.createToken(m, "ingest").Token, ev)
	}
	s.waitAlerts(prov, "*", "an intel alert at each member", func(as []queueAlert) bool {
		seen := map[string]bool{}
		for _, a := range as {
			if a.RuleID == "intel:"+wave {
				seen[a.Tenant] = true
			}
		}
		return len(seen) == 3
	})
	var campaign int64
	deadline := time.Now().Add(indexTimeout)
	for campaign == 0 {
		_, _, b := s.do("GET", "/api/v1/campaigns", prov, nil)
		var list struct {
			Campaigns []struct {
				ID      int64 `json:"id"`
				Members int   `json:"members"`
			} `json:"campaigns"`
		}
		if err := json.Unmarshal(b, &list); err == nil && len(list.Campaigns) == 1 && list.Campaigns[0].Members == 3 {
			campaign = list.Campaigns[0].ID
		} else if time.Now().After(deadline) {
			t.Fatalf("no campaign of three members: %s", b)
		} else {
			time.Sleep(100 * time.Millisecond)
		}
	}

	// An advisory addressed to powys alone.
	powysAdv := int64(post("/api/v1/advisories", map[string]any{"title_en": "Powys only", "title_cy": "Powys yn unig",
		"summary_en": "For powys.", "summary_cy": "Ar gyfer powys.", "audience": []string{"powys"}})["id"].(float64))

	const user, password = "ceri", "a long console password"
	const member, memberPassword = "dafydd", "gwynedd viewer password"
	for _, u := range []map[string]string{
		{"name": user, "role": "provider-analyst", "password": password},
		{"name": member, "tenant": "gwynedd", "role": "tenant-viewer", "password": memberPassword},
	} {
		b, _ := json.Marshal(u)
		if st, _, out := s.do("POST", "/api/v1/users", adminToken, b); st != 201 {
			t.Fatalf("POST /api/v1/users %s: %d %s", u["name"], st, out)
		}
	}

	runBrowser(t, s, "intel", "CONSOLE_USER="+user, "CONSOLE_PASSWORD="+password, "MEMBER_USER="+member, "MEMBER_PASSWORD="+memberPassword,
		"WAVE_ID="+wave, "HIDDEN_ID="+hidden, fmt.Sprintf("CAMPAIGN_ID=%d", campaign), fmt.Sprintf("POWYS_ADVISORY=%d", powysAdv))

	// What the browser did is what the server holds.
	var list struct {
		Indicators []struct {
			ID          string `json:"id"`
			TLP         string `json:"tlp"`
			Confidence  int    `json:"confidence"`
			Revoked     bool   `json:"revoked"`
			ValidUntil  string `json:"valid_until"`
			Observables []struct {
				Value string `json:"value"`
			} `json:"observables"`
		} `json:"indicators"`
	}
	st, _, b := s.do("GET", "/api/v1/intel/indicators?limit=1000&revoked=true", prov, nil)
	if err := json.Unmarshal(b, &list); st != 200 || err != nil {
		t.Fatalf("indicators: %d %s", st, b)
	}
	byValue := map[string]int{}
	for i, ind := range list.Indicators {
		for _, o := range ind.Observables {
			byValue[o.Value] = i
		}
	}
	if i, ok := byValue["bad-actor.example"]; !ok {
		t.Errorf("the indicator added in the browser is not held: %s", b)
	} else if ind := list.Indicators[i]; ind.TLP != "green" || ind.Confidence != 70 || ind.Revoked || ind.ValidUntil == "" {
		t.Errorf("the indicator added in the browser: %+v", ind)
	}
	if i, ok := byValue["198.51.100.23"]; !ok || !list.Indicators[i].Revoked {
		t.Errorf("the imported 198.51.100.23 is not revoked: %s", b)
	}
	if _, ok := byValue["203.0.113.159"]; !ok {
		t.Errorf("the 60 addresses imported for paging are not held: %s", b)
	}
	if i, ok := byValue["import-one.example"]; !ok || list.Indicators[i].Revoked {
		t.Errorf("the imported import-one.example is not held, or revoked: %s", b)
	}

	var advs struct {
		Advisories []struct {
			ID         int64    `json:"id"`
			TitleEN    string   `json:"title_en"`
			TitleCY    string   `json:"title_cy"`
			Indicators []string `json:"indicators"`
			Acks       int      `json:"acks"`
			Recipients int      `json:"recipients"`
		} `json:"advisories"`
	}
	st, _, b = s.do("GET", "/api/v1/advisories", prov, nil)
	if err := json.Unmarshal(b, &advs); st != 200 || err != nil {
		t.Fatalf("advisories: %d %s", st, b)
	}
	var published int64
	for _, a := range advs.Advisories {
		if a.TitleEN == "Phishing wave against councils" {
			published = a.ID
			if a.TitleCY != "Ton gwe-rwydo yn erbyn cynghorau" || len(a.Indicators) != 1 || a.Indicators[0] != wave || a.Acks != 1 || a.Recipients != 3 {
				t.Errorf("the advisory published in the browser: %+v", a)
			}
		}
	}
	if published == 0 {
		t.Fatalf("the advisory published in the browser is not held: %s", b)
	}
	var detail struct {
		Members []struct {
			Tenant       string `json:"tenant"`
			Acknowledged bool   `json:"acknowledged"`
			By           string `json:"by"`
		} `json:"members"`
	}
	st, _, b = s.do("GET", fmt.Sprintf("/api/v1/advisories/%d", published), prov, nil)
	if err := json.Unmarshal(b, &detail); st != 200 || err != nil {
		t.Fatalf("advisory %d: %d %s", published, st, b)
	}
	for _, m := range detail.Members {
		if want := m.Tenant == "gwynedd"; m.Acknowledged != want || want && !strings.Contains(m.By, member) {
			t.Errorf("advisory %d: %s acknowledged %v by %q, want only gwynedd by %s: %s", published, m.Tenant, m.Acknowledged, m.By, member, b)
		}
	}
	// The powys advisory was not acknowledged by anyone.
	st, _, b = s.do("GET", fmt.Sprintf("/api/v1/advisories/%d?tenant=%s", powysAdv, url.QueryEscape("powys")), prov, nil)
	if st != 200 || strings.Contains(string(b), `"acknowledged"`) {
		t.Errorf("the powys advisory: %d %s", st, b)
	}
}
