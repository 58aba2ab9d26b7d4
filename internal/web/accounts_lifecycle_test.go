package web

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// createToken asks for a token with c's credentials and returns its
// secret and ID (failing the test unless 201).
func (w *acctWorld) createToken(t *testing.T, c req, body map[string]any) (secret, id string) {
	t.Helper()
	a := w.do(t, "POST", "/api/v1/tokens", body, c)
	if a.status != 201 {
		t.Fatalf("create token %v = %d %s", body, a.status, a.body)
	}
	var out struct{ ID, Token string }
	if err := json.Unmarshal(a.body, &out); err != nil {
		t.Fatal(err)
	}
	return out.Token, out.ID
}

// auditDetails returns the details of the records of action.
func (m *memAudit) details(action string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, r := range m.recs {
		if r.Action == action {
			out = append(out, r.Detail)
		}
	}
	return out
}

// TestAccountsTokensDieWithTheirUser: the tokens a user made from a
// session, and the tokens those tokens made, stop working the moment the
// user is disabled or reset; the revocation is in the answer and the
// audit trail; other tokens are untouched; re-enabling brings none back;
// and another member's admin can do none of it.
func TestAccountsTokensDieWithTheirUser(t *testing.T) {
	w := newAcctWorld(t, nil)
	w.addUser(t, "ann", "council-a", auth.RoleTenantAdmin, pw, false)
	w.addUser(t, "pat", "", auth.RoleProviderAdmin, pw, false)
	w.addUser(t, "bert", "council-b", auth.RoleTenantAdmin, pw, false)
	get := func(secret string) int { return w.do(t, "GET", "/api/v1/tenants", nil, req{token: secret}).status }
	pa := req{token: w.tokens["provider-admin"]}
	adminA := req{token: w.tokens["a/tenant-admin"]}

	// ann (council-a's admin) makes a token from her session; pat (the
	// provider's) makes council-a an admin token, which makes an ingest
	// token: both act for pat.
	annTok, annTokID := w.createToken(t, w.mustLogin(t, "ann", pw, ""), map[string]any{"role": "tenant-analyst", "name": "ann's script"})
	patTok, patTokID := w.createToken(t, w.mustLogin(t, "pat", pw, ""), map[string]any{"tenant": "council-a", "role": "tenant-admin"})
	chained, chainedID := w.createToken(t, req{token: patTok}, map[string]any{"role": "ingest"})
	// A token of the same tenant no user made, and one another member's
	// admin made from a session.
	machine, _ := w.createToken(t, pa, map[string]any{"tenant": "council-a", "role": "ingest", "name": "firewall"})
	bert := w.mustLogin(t, "bert", pw, "")
	bertTok, _ := w.createToken(t, bert, map[string]any{"role": "tenant-viewer"})
	for name, secret := range map[string]string{"ann's": annTok, "pat's": patTok, "pat's token's": chained, "machine": machine, "bert's": bertTok} {
		if got := get(secret); got != 200 { // and cached now
			t.Fatalf("%s token = %d", name, got)
		}
	}
	// The list names the user a token acts for.
	a := w.do(t, "GET", "/api/v1/tokens?tenant=council-a", nil, pa)
	var listed struct{ Tokens []tokenJSON }
	json.Unmarshal(a.body, &listed)
	users := map[string]string{}
	for _, tok := range listed.Tokens {
		users[tok.ID] = tok.User
	}
	if users[annTokID] != "ann" || users[patTokID] != "pat" || users[chainedID] != "pat" {
		t.Errorf("token list users = %v; want ann for %s, pat for %s and %s", users, annTokID, patTokID, chainedID)
	}

	// Another member's admin: ann is not there, as one that does not
	// exist, whatever the spelling; nothing is revoked.
	for _, verb := range []string{"disable", "reset"} {
		a, b := w.do(t, "POST", "/api/v1/users/ann/"+verb, nil, bert), w.do(t, "POST", "/api/v1/users/nobody/"+verb, nil, bert)
		if a.status != 404 || a.code() != "user_not_found" || string(a.body) != string(b.body) {
			t.Errorf("council-b's admin %s ann = %d %s; a user that does not exist: %s", verb, a.status, a.body, b.body)
		}
		if a := w.do(t, "POST", "/api/v1/users/ANN/"+verb, nil, bert); a.status != 404 {
			t.Errorf("council-b's admin %s ANN = %d", verb, a.status)
		}
	}
	if get(annTok) != 200 {
		t.Fatal("ann's token stopped after another member's admin was refused")
	}

	disable := func(name string, c req, want ...string) {
		t.Helper()
		a := w.do(t, "POST", "/api/v1/users/"+name+"/disable", nil, c)
		if a.status != 200 {
			t.Fatalf("disable %s = %d %s", name, a.status, a.body)
		}
		var u userJSON
		json.Unmarshal(a.body, &u)
		if got := slices.Sorted(slices.Values(u.TokensRevoked)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
			t.Errorf("disable %s: tokens_revoked = %v; want %v", name, got, want)
		}
	}
	disable("ann", adminA, annTokID)
	// At once, though it was cached.
	if a := w.do(t, "GET", "/api/v1/tenants", nil, req{token: annTok}); a.status != 401 || a.code() != "unauthenticated" {
		t.Errorf("ann's token after the disable = %d %s; want 401", a.status, a.body)
	}
	disable("pat", pa, patTokID, chainedID)
	for name, secret := range map[string]string{"pat's": patTok, "pat's token's": chained} {
		if got := get(secret); got != 401 {
			t.Errorf("%s token after pat's disable = %d; want 401", name, got)
		}
	}
	for name, secret := range map[string]string{"machine": machine, "bert's": bertTok} {
		if got := get(secret); got != 200 {
			t.Errorf("%s token after the disables = %d", name, got)
		}
	}
	revokes := w.audit.details("token.revoke")
	for id, user := range map[string]string{annTokID: "ann", patTokID: "pat", chainedID: "pat"} {
		if !slices.ContainsFunc(revokes, func(d string) bool {
			return strings.Contains(d, "id="+id) && strings.Contains(d, `reason="user disabled"`) && strings.Contains(d, "user="+user)
		}) {
			t.Errorf("no token.revoke record for %s naming %s's disable: %q", id, user, revokes)
		}
	}
	if d := w.audit.details("user.disable"); len(d) != 2 || !strings.Contains(d[0], annTokID) {
		t.Errorf("user.disable records %q; want them naming the tokens revoked", d)
	}

	// Enabled again: the old tokens stay revoked; a new one works until a
	// reset.
	if a := w.do(t, "POST", "/api/v1/users/ann/enable", nil, adminA); a.status != 200 {
		t.Fatalf("enable = %d %s", a.status, a.body)
	}
	if got := get(annTok); got != 401 {
		t.Errorf("ann's old token after enabling her = %d", got)
	}
	again, _ := w.createToken(t, w.mustLogin(t, "ann", pw, ""), map[string]any{"role": "tenant-viewer"})
	if got := get(again); got != 200 {
		t.Fatalf("ann's new token = %d", got)
	}
	a = w.do(t, "POST", "/api/v1/users/ann/reset", nil, adminA)
	if a.status != 200 || !strings.Contains(string(a.body), "tokens_revoked") {
		t.Fatalf("reset = %d %s", a.status, a.body)
	}
	if got := get(again); got != 401 {
		t.Errorf("ann's token after a reset = %d", got)
	}
	if got := get(bertTok); got != 200 {
		t.Errorf("bert's token after ann's reset = %d", got)
	}
}

// TestAccountsStaleSessionMintsNoLastingToken: another node (its own
// caches, the same database) still trusts a session for a few seconds
// after the user is disabled or reset elsewhere; a token it creates then
// is refused, so nothing outlives the revocation.
func TestAccountsStaleSessionMintsNoLastingToken(t *testing.T) {
	for _, verb := range []string{"disable", "reset"} {
		t.Run(verb, func(t *testing.T) {
			w := newAcctWorld(t, nil)
			w.addUser(t, "ann", "council-a", auth.RoleTenantAdmin, pw, false)
			cfg := DefaultConfig()
			other := New(cfg, Deps{Tenants: w.db, Tokens: w.db, Users: w.db, Audit: w.audit, Now: w.clock,
				Log: slog.New(slog.DiscardHandler), Ready: func() error { return nil }})
			s := w.mustLogin(t, "ann", pw, "")
			onOther := func(method, path string, body any) answer {
				saved := w.api
				w.api = other
				defer func() { w.api = saved }()
				return w.do(t, method, path, body, s)
			}
			if a := onOther("GET", "/api/v1/tenants", nil); a.status != 200 { // cached on the other node
				t.Fatalf("session on the other node = %d", a.status)
			}
			if a := w.do(t, "POST", "/api/v1/users/ann/"+verb, nil, req{token: w.tokens["a/tenant-admin"]}); a.status != 200 {
				t.Fatalf("%s = %d %s", verb, a.status, a.body)
			}
			a := onOther("POST", "/api/v1/tokens", map[string]any{"role": "ingest"})
			if a.status != 401 {
				t.Errorf("token made by a stale session after a %s = %d %s; want 401", verb, a.status, a.body)
			}
		})
	}
}

// TestAccountsExpiringCredentialGrantsNothingLasting: a token that ends
// may not make a user, reset one's password or enable one (each gives
// access with no end): 403 expiring_credential saying what to do. It may
// still list and disable users, and make tokens that end with it. A token
// that never ends, and a session, may do all of it. Another member's
// user is 404 first, as one that does not exist.
func TestAccountsExpiringCredentialGrantsNothingLasting(t *testing.T) {
	w := newAcctWorld(t, nil)
	w.addUser(t, "carol", "council-a", auth.RoleTenantAnalyst, pw, false)
	w.addUser(t, "bert", "council-b", auth.RoleTenantAnalyst, pw, false)
	end := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Second)
	tempA, _ := w.addToken(t, "council-a", auth.RoleTenantAdmin, end)
	tempP, _ := w.addToken(t, "", auth.RoleProviderAdmin, end)
	for name, c := range map[string]req{"tenant-admin": {token: tempA}, "provider-admin": {token: tempP}} {
		t.Run(name, func(t *testing.T) {
			refused := func(what string, a answer) {
				t.Helper()
				var e struct{ Error, Message string }
				json.Unmarshal(a.body, &e)
				advice := "tarian login"
				if strings.Contains(what, "token") {
					advice = "ask for an expiry no later"
				}
				if a.status != 403 || e.Error != "expiring_credential" || !strings.Contains(e.Message, end.Format(time.RFC3339)) || !strings.Contains(e.Message, advice) {
					t.Errorf("%s with a token ending %s = %d %s; want 403 expiring_credential saying when and what to do", what, end.Format(time.RFC3339), a.status, a.body)
				}
			}
			for _, role := range []string{"tenant-admin", "tenant-viewer"} {
				refused("create a "+role, w.do(t, "POST", "/api/v1/users", map[string]any{"name": "x-" + name + "-" + role, "tenant": "council-a", "role": role}, c))
			}
			refused("reset carol", w.do(t, "POST", "/api/v1/users/carol/reset", nil, c))
			refused("enable carol", w.do(t, "POST", "/api/v1/users/carol/enable", nil, c))
			refused("a token outliving it", w.do(t, "POST", "/api/v1/tokens", map[string]any{"tenant": "council-a", "role": "ingest", "expires": end.Add(time.Hour)}, c))
			if a := w.do(t, "GET", "/api/v1/users?tenant=council-a", nil, c); a.status != 200 || strings.Contains(string(a.body), "x-") {
				t.Errorf("list = %d %s", a.status, a.body)
			}
			if a := w.do(t, "POST", "/api/v1/users/carol/disable", nil, c); a.status != 200 {
				t.Errorf("disable carol = %d %s", a.status, a.body)
			}
			if _, err := w.db.SetUserDisabled(t.Context(), "council-a", "carol", false); err != nil {
				t.Fatal(err)
			}
			if a := w.do(t, "POST", "/api/v1/tokens", map[string]any{"tenant": "council-a", "role": "ingest"}, c); a.status != 201 || !strings.Contains(string(a.body), end.Format(time.RFC3339)) {
				t.Errorf("a token ending with it = %d %s", a.status, a.body)
			}
		})
	}
	// Another member's user: 404, as one that does not exist, before any
	// word about the expiry.
	for _, verb := range []string{"reset", "enable", "disable"} {
		a, b := w.do(t, "POST", "/api/v1/users/bert/"+verb, nil, req{token: tempA}), w.do(t, "POST", "/api/v1/users/nobody/"+verb, nil, req{token: tempA})
		if a.status != 404 || string(a.body) != string(b.body) {
			t.Errorf("expiring council-a admin %s council-b's user = %d %s; a user that does not exist: %s", verb, a.status, a.body, b.body)
		}
	}
	// Credentials that do not end may.
	w.addUser(t, "ann", "council-a", auth.RoleTenantAdmin, pw, false)
	for name, c := range map[string]req{"token": {token: w.tokens["a/tenant-admin"]}, "session": w.mustLogin(t, "ann", pw, "")} {
		if a := w.do(t, "POST", "/api/v1/users", map[string]any{"name": "dave-" + name, "role": "tenant-admin"}, c); a.status != 201 {
			t.Errorf("%s creates a tenant-admin = %d %s", name, a.status, a.body)
		}
		if a := w.do(t, "POST", "/api/v1/users/carol/reset", nil, c); a.status != 200 {
			t.Errorf("%s resets carol = %d %s", name, a.status, a.body)
		}
	}
}

// TestAccountsNamesAnyCase: "Alice" and "alice" are one name: the second
// is 409, a login matches any case (the answer and the audit trail keep
// the spelling the user was made with), the lockout counts every spelling
// against the one name, and the admin endpoints find the user in any case
// — but never another member's.
func TestAccountsNamesAnyCase(t *testing.T) {
	w := newAcctWorld(t, nil)
	adminA := req{token: w.tokens["a/tenant-admin"]}
	pa := req{token: w.tokens["provider-admin"]}
	a := w.do(t, "POST", "/api/v1/users", map[string]any{"name": "Alice", "role": "tenant-analyst", "password": pw}, adminA)
	if a.status != 201 {
		t.Fatalf("create Alice = %d %s", a.status, a.body)
	}
	for _, c := range []struct {
		who  req
		body map[string]any
	}{
		{adminA, map[string]any{"name": "alice", "role": "tenant-viewer"}},
		{pa, map[string]any{"name": "ALICE", "tenant": "council-b", "role": "tenant-viewer"}},
		{pa, map[string]any{"name": "aLiCe", "role": "provider-analyst"}},
	} {
		if a := w.do(t, "POST", "/api/v1/users", c.body, c.who); a.status != 409 || a.code() != "user_exists" {
			t.Errorf("create %v beside Alice = %d %s; want 409 user_exists", c.body["name"], a.status, a.body)
		}
	}
	for _, name := range []string{"Alice", "alice", "ALICE"} {
		ans, _ := w.login(t, name, pw, "", "")
		var s sessionJSON
		json.Unmarshal(ans.body, &s)
		if ans.status != 200 || s.User != "Alice" {
			t.Errorf("login as %q = %d %s; want Alice's session", name, ans.status, ans.body)
		}
	}
	if !w.audit.has("user:Alice", "login") || w.audit.has("user:ALICE", "login") {
		t.Error("login audited under another spelling than the user's")
	}
	// Five failures under five spellings lock the one name.
	for i, name := range []string{"alice", "ALICE", "Alice", "aLICE", "alicE"} {
		if a, _ := w.login(t, name, "wrong password!", "", fmt.Sprintf("198.51.100.%d", i)); a.status != 401 {
			t.Fatalf("failure %d = %d", i, a.status)
		}
	}
	if a, _ := w.login(t, "Alice", pw, "", "198.51.100.99"); a.status != 429 {
		t.Errorf("right password after five failures in five spellings = %d; want 429 locked", a.status)
	}
	// The admin endpoints find her in any case; another member's admin
	// does not, as a user that does not exist.
	w.addUser(t, "bert", "council-b", auth.RoleTenantAdmin, pw, false)
	bert := w.mustLogin(t, "BERT", pw, "")
	for _, name := range []string{"alice", "ALICE"} {
		a, b := w.do(t, "POST", "/api/v1/users/"+name+"/disable", nil, bert), w.do(t, "POST", "/api/v1/users/nobody/disable", nil, bert)
		if a.status != 404 || string(a.body) != string(b.body) {
			t.Errorf("council-b's admin disables %s = %d %s; a user that does not exist: %s", name, a.status, a.body, b.body)
		}
	}
	a = w.do(t, "POST", "/api/v1/users/ALICE/disable", nil, adminA)
	if a.status != 200 || !strings.Contains(string(a.body), `"name":"Alice"`) || !strings.Contains(string(a.body), `"disabled":true`) {
		t.Errorf("disable ALICE = %d %s; want Alice disabled", a.status, a.body)
	}
	if u, err := w.db.User(t.Context(), tenant.ID("council-a"), "Alice"); err != nil || !u.Disabled {
		t.Errorf("Alice after disabling ALICE: %+v, %v", u, err)
	}
}

// TestAccountsDeleteUser: deleting a leaver ends its session and revokes
// the tokens that act for it at once, is audited naming them, frees the
// name; another member's admin gets 404 as for no such user, and a user
// cannot delete itself.
func TestAccountsDeleteUser(t *testing.T) {
	w := newAcctWorld(t, nil)
	w.addUser(t, "dai", "council-a", auth.RoleTenantAnalyst, pw, false)
	w.addUser(t, "ann", "council-a", auth.RoleTenantAdmin, pw, false)
	w.addUser(t, "bert", "council-b", auth.RoleTenantAdmin, pw, false)
	w.addUser(t, "cai", "council-a", auth.RoleTenantAnalyst, pw, false)
	dai := w.mustLogin(t, "dai", pw, "")
	// A token that acts for ann (an analyst may not make one).
	annTok, annTokID := w.createToken(t, w.mustLogin(t, "ann", pw, ""), map[string]any{"role": "tenant-viewer"})
	if a := w.do(t, "GET", "/api/v1/session", nil, dai); a.status != 200 {
		t.Fatalf("dai's session = %d", a.status)
	}
	if a := w.do(t, "DELETE", "/api/v1/users/dai", nil, w.mustLogin(t, "bert", pw, "")); a.status != 404 || a.code() != "user_not_found" {
		t.Errorf("council-b's admin deleting dai = %d %s; want 404 user_not_found", a.status, a.body)
	}
	if a := w.do(t, "DELETE", "/api/v1/users/dai", nil, w.mustLogin(t, "cai", pw, "")); a.status != 403 {
		t.Errorf("an analyst deleting dai = %d %s; want 403", a.status, a.body)
	}
	ann := w.mustLogin(t, "ann", pw, "")
	if a := w.do(t, "DELETE", "/api/v1/users/ann", nil, ann); a.status != 409 || a.code() != "user_is_caller" {
		t.Errorf("ann deleting herself = %d %s; want 409 user_is_caller", a.status, a.body)
	}
	a := w.do(t, "DELETE", "/api/v1/users/DAI", nil, req{token: w.tokens["a/tenant-admin"]})
	if a.status != 200 {
		t.Fatalf("delete dai = %d %s", a.status, a.body)
	}
	if a := w.do(t, "GET", "/api/v1/session", nil, dai); a.status != 401 {
		t.Errorf("dai's session after the delete = %d; want 401", a.status)
	}
	if a := w.do(t, "DELETE", "/api/v1/users/dai", nil, req{token: w.tokens["a/tenant-admin"]}); a.status != 404 {
		t.Errorf("delete dai twice = %d; want 404", a.status)
	}
	if d := w.audit.details("user.delete"); len(d) != 1 || !strings.Contains(d[0], `"user":"dai"`) {
		t.Errorf("user.delete records %q", d)
	}
	// ann's token acts for ann: deleting ann (by the provider) revokes it.
	a = w.do(t, "DELETE", "/api/v1/users/ann", nil, req{token: w.tokens["provider-admin"]})
	var u userJSON
	json.Unmarshal(a.body, &u)
	if a.status != 200 || !slices.Equal(u.TokensRevoked, []string{annTokID}) {
		t.Fatalf("delete ann = %d %s; want her token %s revoked", a.status, a.body, annTokID)
	}
	if got := w.do(t, "GET", "/api/v1/tenants", nil, req{token: annTok}).status; got != 401 {
		t.Errorf("ann's token after her delete = %d; want 401", got)
	}
	// The name is free again.
	w.addUser(t, "dai", "council-b", auth.RoleTenantViewer, pw, false)
}
