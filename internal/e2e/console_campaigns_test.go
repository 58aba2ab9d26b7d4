package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConsoleCampaigns drives the console's campaigns in headless chromium
// (web/tests/campaigns.mjs). The phishing wave's domain at three members
// in the last minutes is one active campaign; another of its domains at
// the same members three hours ago is a quiet one, and a third two hours
// ago one the provider's "night-bot" token closes with a note before the
// browser starts. A provider analyst sees the open ones (active and quiet)
// by default and the bot's closing (by the token's name) under the closed
// filter; is told a note too long; closes the active one with a note from
// the keyboard, sees it closed by them with the note, gone from the open
// list and in the closed one; reopens it; and reads the new words in
// Welsh. Afterwards the API must hold what the browser did.
func TestConsoleCampaigns(t *testing.T) {
	consoleBrowser(t)
	dir := t.TempDir()
	s := startServer(t, filepath.Join(dir, "data"))
	members := []string{"gwynedd", "powys", "conwy"}
	for _, m := range members {
		s.addTenant(m)
	}
	rules := filepath.Join(dir, "wave.yml")
	if err := os.WriteFile(rules, []byte(waveRule), 0o600); err != nil {
		t.Fatal(err)
	}
	s.mustCLI(adminToken, "rules", "import", rules)
	prov := s.createToken("", "provider-analyst").Token

	// At each member: old.phish-wave.net three hours ago,
	// cdn.phish-wave.net two hours ago, login.phish-wave.net now.
	now := time.Now().UTC()
	dns := func(m, host, user, domain string, at time.Time) string {
		return sysmonEvent(22, strings.ToUpper(m[:3])+"-"+host, at, 1,
			map[string]any{"QueryName": domain, "Image": `C:\Program Files\Outlook\outlook.exe`, "User": `CORP\` + m + "-" + user})
	}
	for i, m := range members {
		step := time.Duration(i) * time.Minute
		s.ingestLines(s.createToken(m, "ingest").Token,
			dns(m, "WS7", "finance", "old.phish-wave.net", now.Add(-3*time.Hour+step)),
			dns(m, "WS8", "hr", "cdn.phish-wave.net", now.Add(-2*time.Hour+step)),
			dns(m, "WS1", "clerk", "login.phish-wave.net", now.Add(step-3*time.Minute)))
	}
	type campaign struct {
		ID        int64  `json:"id"`
		Value     string `json:"value"`
		Members   int    `json:"members"`
		Status    string `json:"status"`
		Active    bool   `json:"active"`
		ClosedBy  string `json:"closed_by"`
		CloseNote string `json:"close_note"`
	}
	list := func(status string) map[string]campaign {
		t.Helper()
		st, _, b := s.do("GET", "/api/v1/campaigns?status="+status, prov, nil)
		var out struct{ Campaigns []campaign }
		if err := json.Unmarshal(b, &out); st != 200 || err != nil {
			t.Fatalf("GET /api/v1/campaigns?status=%s: %d %s", status, st, b)
		}
		byValue := map[string]campaign{}
		for _, c := range out.Campaigns {
			byValue[c.Value] = c
		}
		return byValue
	}
	var cs map[string]campaign
	for deadline := time.Now().Add(indexTimeout); ; time.Sleep(100 * time.Millisecond) {
		cs = list("all")
		if cs["login.phish-wave.net"].Members == 3 && cs["old.phish-wave.net"].Members == 3 && cs["cdn.phish-wave.net"].Members == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no three campaigns of three members: %+v", cs)
		}
	}
	active, quiet, closed := cs["login.phish-wave.net"], cs["old.phish-wave.net"], cs["cdn.phish-wave.net"]
	if !active.Active || quiet.Active || closed.Active {
		t.Fatalf("want login.phish-wave.net active, the others quiet: %+v", cs)
	}

	// The bot closes cdn.phish-wave.net's.
	body, _ := json.Marshal(map[string]string{"role": "provider-analyst", "name": "night-bot"})
	st, _, b := s.do("POST", "/api/v1/tokens", adminToken, body)
	var bot struct{ Token string }
	if err := json.Unmarshal(b, &bot); st != 201 || err != nil || bot.Token == "" {
		t.Fatalf("POST /api/v1/tokens: %d %s", st, b)
	}
	body, _ = json.Marshal(map[string]string{"note": "old wave, blocked last month"})
	if st, _, b := s.do("POST", fmt.Sprintf("/api/v1/campaigns/%d/close", closed.ID), bot.Token, body); st != 200 {
		t.Fatalf("the bot closes campaign %d: %d %s", closed.ID, st, b)
	}

	const user, password = "ceri", "a long console password"
	body, _ = json.Marshal(map[string]string{"name": user, "role": "provider-analyst", "password": password})
	if st, _, b := s.do("POST", "/api/v1/users", adminToken, body); st != 201 {
		t.Fatalf("POST /api/v1/users: %d %s", st, b)
	}

	runBrowser(t, s, "campaigns", "CONSOLE_USER="+user, "CONSOLE_PASSWORD="+password,
		fmt.Sprintf("ACTIVE_CAMPAIGN=%d", active.ID), fmt.Sprintf("QUIET_CAMPAIGN=%d", quiet.ID), fmt.Sprintf("CLOSED_CAMPAIGN=%d", closed.ID))

	// The browser closed the active one with a note and opened it again;
	// the bot's closing stands.
	cs = list("all")
	if c := cs["login.phish-wave.net"]; c.Status != "open" || !c.Active || c.ClosedBy != "" || c.CloseNote != "" {
		t.Errorf("after the browser, login.phish-wave.net: %+v, want open and active, its closing forgotten", c)
	}
	if c := cs["cdn.phish-wave.net"]; c.Status != "closed" || c.CloseNote != "old wave, blocked last month" {
		t.Errorf("after the browser, cdn.phish-wave.net: %+v, want closed by the bot", c)
	}
	if c := cs["old.phish-wave.net"]; c.Status != "open" || c.Active {
		t.Errorf("after the browser, old.phish-wave.net: %+v, want open and quiet", c)
	}
	out := s.mustCLI(adminToken, "audit", "list", "--tenant", "*", "--json")
	for _, want := range []string{`"campaign.close"`, "user:" + user, "Sender blocked at every gateway", `"campaign.reopen"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the provider's audit chain has no %s:\n%s", want, out)
		}
	}
}
