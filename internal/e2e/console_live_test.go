package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestConsoleLive drives what the console names and follows live
// (web/tests/live.mjs): the queue and a case name members by their
// display names; an open alert's page follows the alert as a token named
// "night-bot" acknowledges and assigns it and as Tarian adds an event to
// it (its count), says who changed it (in English and Welsh), and keeps
// the note the analyst is typing, which the analyst then resolves with;
// its history lists its creation, the token's acknowledgement and
// assignment and the analyst's resolution, and then the analyst's
// comment on the resolved alert, as typed. The powys alert's page shows
// night-bot's resolution and then its comment through the API in its
// history, live, by the token's name (in English and Welsh), with their
// notes. A case opened, commented and escalated by that token, and commented by
// the member's own token "gw-soar", names both tokens to the provider's
// analyst, and to the member's analyst names its own token but the
// provider's only as "the provider's API token". Then the server must
// hold both alerts still resolved, gwynedd's with the analyst's note and
// gwen's, and their histories as the browser showed them, each ending
// with its comment.
func TestConsoleLive(t *testing.T) {
	consoleBrowser(t)
	dir := t.TempDir()
	s := twoMembers(t, dir, queueRules)
	at := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	ingest := s.createToken("gwynedd", "ingest").Token
	for _, e := range []struct{ tenant, host, user, image, token string }{
		{"gwynedd", "WS1", `GWYNEDD\bob`, `C:\Windows\System32\whoami.exe`, ingest},
		{"powys", "PC7", `POWYS\eve`, `C:\Windows\System32\net.exe`, s.createToken("powys", "ingest").Token},
	} {
		events := filepath.Join(dir, e.tenant+".jsonl")
		if err := os.WriteFile(events, []byte(sysmonProc(e.host, e.user, e.image, at, 1)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		s.mustCLI(e.token, "ingest", events)
	}
	s.waitDetected()
	as := s.alertList(adminToken, "--tenant", "gwynedd")
	if len(as) != 1 {
		t.Fatalf("gwynedd's alerts before the browser starts: %+v, want 1", as)
	}
	alertID := as[0].ID
	ps := s.alertList(adminToken, "--tenant", "powys")
	if len(ps) != 1 {
		t.Fatalf("powys' alerts before the browser starts: %+v, want 1", ps)
	}
	otherID := ps[0].ID

	// Two named tokens: the provider's bot and the member's own.
	token := func(tenant, role, name string) (secret, id string) {
		t.Helper()
		m := map[string]string{"role": role, "name": name}
		if tenant != "" {
			m["tenant"] = tenant
		}
		body, _ := json.Marshal(m)
		st, _, b := s.do("POST", "/api/v1/tokens", adminToken, body)
		var tok struct{ Token, ID string }
		if err := json.Unmarshal(b, &tok); st != 201 || err != nil || tok.Token == "" || tok.ID == "" {
			t.Fatalf("POST /api/v1/tokens (%s): %d %s", name, st, b)
		}
		return tok.Token, tok.ID
	}
	bot, botID := token("", "provider-analyst", "night-bot")
	soar, _ := token("gwynedd", "tenant-analyst", "gw-soar")

	// A case of gwynedd's by the bot, escalated, with a comment of each.
	post := func(tok, path string, v any) []byte {
		t.Helper()
		body, _ := json.Marshal(v)
		st, _, b := s.do("POST", path, tok, body)
		if st/100 != 2 {
			t.Fatalf("POST %s: %d %s", path, st, b)
		}
		return b
	}
	var c struct{ ID int64 }
	if err := json.Unmarshal(post(bot, "/api/v1/cases", map[string]any{"tenant": "gwynedd", "title": "Phishing wave at gwynedd", "severity": "medium"}), &c); err != nil || c.ID == 0 {
		t.Fatalf("the case: %+v %v", c, err)
	}
	casePath := fmt.Sprintf("/api/v1/cases/%d", c.ID)
	post(bot, casePath+"/comments", map[string]string{"text": "Mail gateway checked by the bot."})
	post(bot, casePath+"/escalate", map[string]string{})
	post(soar, casePath+"/comments", map[string]string{"text": "Our SOAR blocked the sender."})

	users := []struct{ name, tenant, role, password string }{
		{"ceri", "", "provider-analyst", "a long console password"},
		{"gwen", "gwynedd", "tenant-analyst", "gwynedd analyst password"},
	}
	for _, u := range users {
		m := map[string]string{"name": u.name, "role": u.role, "password": u.password}
		if u.tenant != "" {
			m["tenant"] = u.tenant
		}
		body, _ := json.Marshal(m)
		if st, _, b := s.do("POST", "/api/v1/users", adminToken, body); st != 201 {
			t.Fatalf("POST /api/v1/users (%s): %d %s", u.name, st, b)
		}
	}

	// The same host and user again a minute later: Tarian adds it to the
	// open alert (its count), while the browser watches.
	again := sysmonProc("WS1", `GWYNEDD\bob`, `C:\Windows\System32\whoami.exe`, at.Add(time.Minute), 2)
	// The comments: a shift's hand-over of two lines, with markup the
	// console must show as text, and the bot's.
	const comment = "Checked with the member: <b>waiting</b> for their reply.\nDay shift: chase them at 09:00."
	const botComment = "The member confirmed the script is theirs."
	runBrowser(t, s, "live",
		"CONSOLE_USER="+users[0].name, "CONSOLE_PASSWORD="+users[0].password,
		"MEMBER_USER="+users[1].name, "MEMBER_PASSWORD="+users[1].password,
		fmt.Sprintf("ALERT=%d", alertID), fmt.Sprintf("OTHER_ALERT=%d", otherID), fmt.Sprintf("CASE=%d", c.ID),
		"BOT_TOKEN="+bot, "INGEST_TOKEN="+ingest, "AGAIN_EVENT="+again,
		"COMMENT="+comment, "BOT_COMMENT="+botComment)

	// What the browser and the bot did is what the server holds.
	type step struct{ Actor, Verb, Resolution, Assignee, Note string }
	type alertJSON struct {
		Status, Assignee, Note string
		Count                  int
		History                []step
	}
	get := func(id int64) alertJSON {
		t.Helper()
		var a alertJSON
		st, _, b := s.do("GET", fmt.Sprintf("/api/v1/alerts/%d", id), adminToken, nil)
		if err := json.Unmarshal(b, &a); st != 200 || err != nil {
			t.Fatalf("GET alert %d: %d %s", id, st, b)
		}
		return a
	}
	got := get(alertID)
	if got.Status != "resolved" || got.Assignee != "gwen" || got.Note != "Seen before, and the rest typed after." || got.Count != 2 {
		t.Errorf("the alert after the browser: %+v; want resolved, gwen's, the analyst's whole note, 2 events", got)
	}
	want := []step{
		{Actor: botID, Verb: "ack"},
		{Actor: botID, Verb: "assign", Assignee: "gwen"},
		{Actor: "user:" + users[0].name, Verb: "resolve", Resolution: "true-positive", Assignee: "gwen", Note: "Seen before, and the rest typed after."},
		{Actor: "user:" + users[0].name, Verb: "comment", Resolution: "true-positive", Assignee: "gwen", Note: comment},
	}
	if diff := cmp.Diff(want, got.History); diff != "" {
		t.Errorf("the alert's history after the browser (-want +got):\n%s", diff)
	}
	other := get(otherID)
	want = []step{
		{Actor: botID, Verb: "resolve", Resolution: "false-positive", Note: "Known admin script."},
		{Actor: botID, Verb: "comment", Resolution: "false-positive", Note: botComment},
	}
	if diff := cmp.Diff(want, other.History); other.Status != "resolved" || diff != "" {
		t.Errorf("powys' alert after the bot resolved it and commented: %s (-want +got):\n%s", other.Status, diff)
	}
}
