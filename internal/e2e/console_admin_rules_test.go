package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/auth"
)

// TestConsoleAdminRules drives the deletes of the administration page and
// what ends with a user (web/tests/rulesadmin.mjs): gwynedd's tenant-admin
// is offered Delete on its own filter only, cancels the confirmation with
// Escape, deletes the filter from the keyboard, and creates two API tokens
// that act for it (the list says so). The provider-admin is refused
// deleting a rule a correlation uses (the server's words, naming it),
// reads the confirmation in Welsh, deletes a shared rule (gone for every
// member), sees the tokens acting for gwyn, disables gwyn (told the two
// tokens were revoked), in Welsh, resets ceri (told of its one token), and
// deletes mabon, a leaver, after a confirmation saying its one token goes
// too (no Delete on one's own row). Afterwards the server holds what the
// browser did: the rule and the filter gone, the correlation's base rule
// kept, no token acting for gwyn, ceri or mabon, mabon no longer listed,
// its token refused (401) and its name free again, and the deletes and
// revocations audited.
func TestConsoleAdminRules(t *testing.T) {
	consoleBrowser(t)
	dir := t.TempDir()
	s := twoMembers(t, dir, sprayRules+"---\n"+queueRules)

	const (
		admin, adminPassword = "olwen", "a long provider admin password"
		gwAdmin, gwPassword  = "gwyn", "gwynedd admin password"
		other, otherPassword = "ceri", "another gwynedd admin password"
		leaver, leaverPass   = "mabon", "a gwynedd admin who leaves"
		filterID             = "5e2a0000-0000-4000-8000-0000000000f1"
		baseID               = "5e2a0000-0000-4000-8000-000000000001"
		corrID               = "5e2a0000-0000-4000-8000-000000000002"
		ruleID               = "7d0e9c1a-1111-4a2b-9c3d-000000000001"
	)
	for _, u := range []map[string]any{
		{"name": admin, "role": "provider-admin", "password": adminPassword},
		{"name": gwAdmin, "tenant": "gwynedd", "role": "tenant-admin", "password": gwPassword},
		{"name": other, "tenant": "gwynedd", "role": "tenant-admin", "password": otherPassword},
		{"name": leaver, "tenant": "gwynedd", "role": "tenant-admin", "password": leaverPass},
	} {
		body, _ := json.Marshal(u)
		if st, _, b := s.do("POST", "/api/v1/users", adminToken, body); st != 201 {
			t.Fatalf("POST /api/v1/users %v: %d %s", u["name"], st, b)
		}
	}
	// gwynedd's own filter document, imported by a token of its admin role.
	filter := filepath.Join(dir, "lab.yml")
	if err := os.WriteFile(filter, []byte("title: lab\nid: "+filterID+"\nlogsource: {product: windows}\nfilter:\n  rules: [failed_logon]\n  lab: {Computer|startswith: LAB-}\n  condition: not lab\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.mustCLI(s.createToken("gwynedd", "tenant-admin").Token, "rules", "import", filter)
	// A token made from ceri's session: it acts for ceri.
	sessionToken(t, s, other, otherPassword, "ceri bot")
	// And one made from mabon's: it works until mabon is deleted.
	mabonBot := sessionToken(t, s, leaver, leaverPass, "mabon bot")
	ingest := func() int {
		st, _, _ := s.do("POST", "/api/v1/ingest", mabonBot.Token, []byte(`{"message":"hello"}`+"\n"), "Content-Type", "application/x-ndjson")
		return st
	}
	if st := ingest(); st != 200 {
		t.Fatalf("mabon's token before the delete = HTTP %d", st)
	}

	runBrowser(t, s, "rulesadmin", "ADMIN_USER="+admin, "ADMIN_PASSWORD="+adminPassword, "GW_ADMIN="+gwAdmin, "GW_ADMIN_PASSWORD="+gwPassword,
		"OTHER_ADMIN="+other, "LEAVER="+leaver, "FILTER_ID="+filterID, "BASE_ID="+baseID, "CORR_ID="+corrID, "RULE_ID="+ruleID)

	// The rules: whoami run gone for every member, the filter gone from
	// gwynedd's, the correlation's base rule kept.
	for _, ten := range []string{"", "gwynedd", "powys"} {
		var got struct{ Rules []struct{ ID string } }
		st, _, b := s.do("GET", "/api/v1/rules?tenant="+ten, adminToken, nil)
		if err := json.Unmarshal(b, &got); st != 200 || err != nil {
			t.Fatalf("GET rules %q: %d %s", ten, st, b)
		}
		ids := map[string]bool{}
		for _, r := range got.Rules {
			ids[r.ID] = true
		}
		if ids[ruleID] || ids[filterID] || !ids[baseID] || !ids[corrID] {
			t.Errorf("rules of %q after the browser: %v; want %s and %s gone, %s and %s kept", ten, ids, ruleID, filterID, baseID, corrID)
		}
	}
	// No token acts for gwyn, ceri or mabon any more.
	var toks struct {
		Tokens []struct{ ID, Name, User string }
	}
	st, _, b := s.do("GET", "/api/v1/tokens?tenant=gwynedd", adminToken, nil)
	if err := json.Unmarshal(b, &toks); st != 200 || err != nil {
		t.Fatalf("GET tokens: %d %s", st, b)
	}
	for _, tok := range toks.Tokens {
		if tok.User == gwAdmin || tok.User == other || tok.User == leaver || tok.ID == mabonBot.ID {
			t.Errorf("a token acting for %s is left: %+v", tok.User, tok)
		}
	}
	// mabon is gone: not listed, its token refused, its name free again.
	var users struct{ Users []struct{ Name string } }
	st, _, b = s.do("GET", "/api/v1/users", adminToken, nil)
	if err := json.Unmarshal(b, &users); st != 200 || err != nil {
		t.Fatalf("GET users: %d %s", st, b)
	}
	var names []string
	for _, u := range users.Users {
		names = append(names, u.Name)
	}
	if slices.Contains(names, leaver) || !slices.Contains(names, gwAdmin) || !slices.Contains(names, other) {
		t.Errorf("users after the browser: %v; want %s gone, %s and %s kept", names, leaver, gwAdmin, other)
	}
	if st := ingest(); st != 401 {
		t.Errorf("mabon's token after the delete = HTTP %d; want 401", st)
	}
	body, _ := json.Marshal(map[string]any{"name": leaver, "tenant": "powys", "role": "tenant-viewer"})
	if st, _, b := s.do("POST", "/api/v1/users", adminToken, body); st != 201 {
		t.Errorf("POST /api/v1/users %s again after the delete: %d %s", leaver, st, b)
	}
	audit := s.mustCLI(adminToken, "audit", "list", "--json")
	if n := strings.Count(audit, `"action":"rule.delete"`); n != 2 {
		t.Errorf("%d rule.delete records, want 2 (the filter, the shared rule)", n)
	}
	if n := strings.Count(audit, `"action":"token.revoke"`); n != 4 {
		t.Errorf("%d token.revoke records, want 4 (gwyn's two, ceri's one, mabon's one)", n)
	}
	if n := strings.Count(audit, `"action":"user.delete"`); n != 1 || !strings.Contains(audit, mabonBot.ID) {
		t.Errorf("%d user.delete records, want 1 (mabon), and the revocation of %s", n, mabonBot.ID)
	}
}

// sessionToken logs user in and creates an ingest token from the session
// (one that acts for the user); it returns the token, secret included.
func sessionToken(t *testing.T, s *server, user, password, name string) createdToken {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	st, hdr, b := s.do("POST", "/api/v1/session", "", body)
	var login struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.Unmarshal(b, &login); st != 200 || err != nil {
		t.Fatalf("login of %s: %d %s", user, st, b)
	}
	var cookie string
	for _, c := range (&http.Response{Header: hdr}).Cookies() {
		if c.Name == auth.SessionCookie {
			cookie = c.Name + "=" + c.Value
		}
	}
	body, _ = json.Marshal(map[string]string{"role": "ingest", "name": name})
	st, _, b = s.do("POST", "/api/v1/tokens", "", body, "Cookie", cookie, "X-CSRF-Token", login.CSRF)
	var tok createdToken
	if err := json.Unmarshal(b, &tok); st != 201 || err != nil || tok.ID == "" || tok.Token == "" {
		t.Fatalf("POST /api/v1/tokens from %s's session: %d %s", user, st, b)
	}
	return tok
}
