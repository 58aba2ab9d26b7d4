package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestConsoleAdmin drives the administration page (web/tests/admin.mjs):
// a provider-admin adds a member through the form, creates a user of it,
// is shown the server's refusal of the same name again, disables,
// enables and resets the user (a one-time password shown), creates an API token (its secret shown once, never in
// the list) and revokes it, sends a test notification to the provider's
// webhook, filters gwynedd's rules and disables one for gwynedd only, and
// sees the audit trail verified with all of that in it; every tab passes
// axe-core and is Welsh after the switch. Then gwynedd's tenant-admin has
// no members tab ("not found" at its URL), sees its own users, rules,
// audit chain and channels only. Afterwards the server holds what the
// browser left: the member, the user (enabled, MFA required), no token,
// the rule off for gwynedd and on for powys, the webhook's test.
func TestConsoleAdmin(t *testing.T) {
	consoleBrowser(t)
	dir := t.TempDir()
	s := twoMembers(t, dir, queueRules)

	const (
		admin, adminPassword = "olwen", "a long provider admin password"
		gwAdmin, gwPassword  = "gwyn", "gwynedd admin password"
		gwUser, powysUser    = "dafydd", "pryderi"
		newMember, newUser   = "conwy", "gwen"
		ruleID               = "7d0e9c1a-1111-4a2b-9c3d-000000000001"
		channel              = "soc hook"
	)
	for _, u := range []map[string]any{
		{"name": admin, "role": "provider-admin", "password": adminPassword},
		{"name": gwAdmin, "tenant": "gwynedd", "role": "tenant-admin", "password": gwPassword},
		{"name": gwUser, "tenant": "gwynedd", "role": "tenant-viewer"},
		{"name": powysUser, "tenant": "powys", "role": "tenant-analyst"},
	} {
		body, _ := json.Marshal(u)
		if st, _, b := s.do("POST", "/api/v1/users", adminToken, body); st != 201 {
			t.Fatalf("POST /api/v1/users %v: %d %s", u["name"], st, b)
		}
	}

	// The provider's own webhook (provider channels may reach loopback).
	var mu sync.Mutex
	var hooks []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hooks = append(hooks, string(b))
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	body, _ := json.Marshal(map[string]any{"name": channel, "kind": "webhook", "url": hook.URL, "secret": "e2e-hook-secret-0123456789"})
	if st, _, b := s.do("POST", "/api/v1/notifications/channels?tenant=*", adminToken, body); st != 201 {
		t.Fatalf("POST channel: %d %s", st, b)
	}

	runBrowser(t, s, "admin", "ADMIN_USER="+admin, "ADMIN_PASSWORD="+adminPassword, "GW_ADMIN="+gwAdmin, "GW_ADMIN_PASSWORD="+gwPassword,
		"GW_USER="+gwUser, "POWYS_USER="+powysUser, "RULE_ID="+ruleID, "RULE_TITLE=whoami run", "OTHER_RULE_TITLE=net user run",
		"CHANNEL="+channel, "NEW_MEMBER="+newMember, "NEW_USER="+newUser)

	// The member, through the CLI.
	if out := s.mustCLI(adminToken, "tenant", "list", "--json"); !strings.Contains(out, `"id":"conwy","name":"Cyngor Conwy"`) {
		t.Errorf("tenant list after the browser:\n%s", out)
	}
	// The user: the new member's analyst, enabled again, MFA required.
	var users struct {
		Users []struct {
			Name, Tenant, Role, Email string
			Disabled                  bool
			RequireMFA                bool `json:"require_mfa"`
		}
	}
	st, _, b := s.do("GET", "/api/v1/users?tenant="+newMember, adminToken, nil)
	if err := json.Unmarshal(b, &users); st != 200 || err != nil {
		t.Fatalf("GET users: %d %s", st, b)
	}
	if len(users.Users) != 1 {
		t.Fatalf("conwy's users: %+v", users.Users)
	}
	if u := users.Users[0]; u.Name != newUser || u.Tenant != newMember || u.Role != "tenant-analyst" || u.Disabled || !u.RequireMFA || u.Email != "gwen@conwy.example" {
		t.Errorf("the user the browser made: %+v", u)
	}
	// The token was revoked: none of conwy's is left; the audit trail saw both.
	st, _, b = s.do("GET", "/api/v1/tokens?tenant="+newMember, adminToken, nil)
	if st != 200 || !strings.Contains(string(b), `"tokens":[]`) {
		t.Errorf("conwy's tokens after the revoke: %d %s", st, b)
	}
	audit := s.mustCLI(adminToken, "audit", "list", "--json", "--tenant", newMember)
	for _, a := range []string{"tenant.create", "user.create", "user.disable", "user.enable", "user.reset", "token.create", "token.revoke"} {
		if !strings.Contains(audit, `"action":"`+a+`"`) {
			t.Errorf("conwy's audit chain has no %s:\n%s", a, audit)
		}
	}
	// The rule: off for gwynedd, still on for powys.
	for ten, want := range map[string]bool{"gwynedd": false, "powys": true} {
		var got struct {
			Rules []struct {
				ID      string
				Enabled bool
			}
		}
		st, _, b := s.do("GET", "/api/v1/rules?tenant="+ten, adminToken, nil)
		if err := json.Unmarshal(b, &got); st != 200 || err != nil {
			t.Fatalf("GET rules %s: %d %s", ten, st, b)
		}
		found := false
		for _, r := range got.Rules {
			if r.ID == ruleID {
				found = true
				if r.Enabled != want {
					t.Errorf("rule %s for %s: enabled %v, want %v", ruleID, ten, r.Enabled, want)
				}
			}
		}
		if !found {
			t.Errorf("rule %s not listed for %s", ruleID, ten)
		}
	}
	// The test notification reached the webhook.
	mu.Lock()
	defer mu.Unlock()
	if len(hooks) != 1 || !strings.Contains(hooks[0], "Tarian test notification") {
		t.Errorf("the webhook got %d bodies: %q", len(hooks), hooks)
	}
}
