package web

import (
	"strings"
	"testing"
)

// TestUserCreateRefusesUnknownFields: a member admin who misspells
// require_mfa must not get, silently, a user who logs in with a password
// alone; the refusal names the field.
func TestUserCreateRefusesUnknownFields(t *testing.T) {
	w := newAcctWorld(t, nil)
	adminA := req{token: w.tokens["a/tenant-admin"]}
	a := w.do(t, "POST", "/api/v1/users", map[string]any{"name": "mallory", "role": "tenant-viewer", "requireMFA": true}, adminA)
	if a.status != 400 || !strings.Contains(string(a.body), "requireMFA") {
		t.Errorf("misspelt require_mfa = %d %s, want 400 naming it", a.status, a.body)
	}
	if a := w.do(t, "GET", "/api/v1/users", nil, adminA); strings.Contains(string(a.body), "mallory") {
		t.Errorf("the user was created: %s", a.body)
	}
	a = w.do(t, "POST", "/api/v1/users", map[string]any{"name": "mallory", "role": "tenant-viewer", "require_mfa": true}, adminA)
	if a.status != 201 || !strings.Contains(string(a.body), `"require_mfa":true`) {
		t.Fatalf("require_mfa = %d %s", a.status, a.body)
	}
	// The audit record says the user must use MFA.
	found := false
	w.audit.mu.Lock()
	for _, r := range w.audit.recs {
		if r.Action == "user.create" && strings.Contains(r.Detail, `"user":"mallory"`) && strings.Contains(r.Detail, `"require_mfa":true`) {
			found = true
		}
	}
	w.audit.mu.Unlock()
	if !found {
		t.Error("user.create record does not say require_mfa")
	}
	// A tenant-admin asking for a provider user is told so, without an
	// empty tenant in quotes.
	a = w.do(t, "POST", "/api/v1/users", map[string]any{"name": "boss", "role": "provider-admin"}, adminA)
	if a.status != 403 || strings.Contains(string(a.body), `\"\"`) || !strings.Contains(string(a.body), "provider role") {
		t.Errorf("provider user by a tenant-admin = %d %s", a.status, a.body)
	}
}
