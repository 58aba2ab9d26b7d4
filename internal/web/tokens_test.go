package web

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/tenant"
)

func (w *acctWorld) addToken(t *testing.T, ten tenant.ID, role auth.Role, expires time.Time) (secret, id string) {
	t.Helper()
	secret, id, hash := auth.NewSecret()
	if err := w.db.CreateToken(context.Background(), auth.Token{ID: id, Tenant: ten, Role: role, Hash: hash, Expires: expires}); err != nil {
		t.Fatal(err)
	}
	return secret, id
}

func TestTokenExpiry(t *testing.T) {
	w := newAcctWorld(t, nil)
	get := func(secret string) int { return w.do(t, "GET", "/api/v1/tenants", nil, req{token: secret}).status }
	past, _ := w.addToken(t, "council-a", auth.RoleTenantViewer, time.Now().Add(-time.Second))
	future, _ := w.addToken(t, "council-a", auth.RoleTenantViewer, time.Now().Add(time.Hour))
	if got := get(past); got != 401 {
		t.Errorf("expired token = %d", got)
	}
	if got := get(future); got != 200 {
		t.Errorf("token before its expiry = %d", got)
	}
	pa := req{token: w.tokens["provider-admin"]}
	if a := w.do(t, "POST", "/api/v1/tokens", map[string]any{"tenant": "council-a", "role": "ingest", "expires": time.Now().Add(-time.Hour)}, pa); a.status != 400 {
		t.Errorf("creating an expired token = %d %s", a.status, a.body)
	}
	if a := w.do(t, "POST", "/api/v1/tokens", map[string]any{"tenant": "council-a", "role": "ingest", "expires": time.Now().Add(time.Hour)}, pa); a.status != 201 {
		t.Errorf("creating a token with an expiry = %d %s", a.status, a.body)
	}
}

func TestTokenRevoke(t *testing.T) {
	w := newAcctWorld(t, nil)
	get := func(secret string) int { return w.do(t, "GET", "/api/v1/tenants", nil, req{token: secret}).status }
	bSecret, bID := w.addToken(t, "council-b", auth.RoleTenantViewer, time.Time{})
	aSecret, aID := w.addToken(t, "council-a", auth.RoleTenantViewer, time.Time{})
	if get(aSecret) != 200 || get(bSecret) != 200 { // both cached now
		t.Fatal("tokens do not work")
	}
	adminA := req{token: w.tokens["a/tenant-admin"]}
	if a := w.do(t, "DELETE", "/api/v1/tokens/"+bID, nil, adminA); a.status != 404 {
		t.Errorf("tenant-admin of a revoking b's token = %d", a.status)
	}
	if a := w.do(t, "DELETE", "/api/v1/tokens/"+w.tokenID(t, "provider-admin"), nil, adminA); a.status != 404 {
		t.Errorf("tenant-admin revoking the provider's token = %d", a.status)
	}
	if a := w.do(t, "DELETE", "/api/v1/tokens/"+aID, nil, adminA); a.status != 204 {
		t.Fatalf("revoke = %d %s", a.status, a.body)
	}
	if got := get(aSecret); got != 401 {
		t.Errorf("revoked token = %d", got)
	}
	if got := get(bSecret); got != 200 {
		t.Errorf("another token after a revocation = %d", got)
	}
	if !w.audit.has(w.tokenID(t, "a/tenant-admin"), "token.revoke") {
		t.Error("no token.revoke audit record")
	}
}

// TestTokenCannotOutliveItsCreator: a tenant-admin token given for a day
// (a contractor's) cannot leave behind a token that works after that day.
func TestTokenCannotOutliveItsCreator(t *testing.T) {
	w := newAcctWorld(t, nil)
	end := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	secret, _ := w.addToken(t, "council-a", auth.RoleTenantAdmin, end)
	contractor := req{token: secret}
	if a := w.do(t, "POST", "/api/v1/tokens", map[string]any{"tenant": "council-a", "role": "ingest", "expires": end.Add(24 * time.Hour)}, contractor); a.status != 403 {
		t.Errorf("a token outliving its creator = %d %s; want 403", a.status, a.body)
	}
	a := w.do(t, "POST", "/api/v1/tokens", map[string]any{"tenant": "council-a", "role": "tenant-analyst"}, contractor)
	if a.status != 201 {
		t.Fatalf("a token without expiry = %d %s", a.status, a.body)
	}
	var got struct{ ID, Expires string }
	if err := json.Unmarshal(a.body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Expires != end.Format(time.RFC3339) {
		t.Errorf("token made by a token ending %s ends %q; want the same end", end.Format(time.RFC3339), got.Expires)
	}
	tok, err := w.db.TokenByID(context.Background(), got.ID)
	if err != nil || !tok.Expires.Equal(end) {
		t.Errorf("stored token expires %v (%v); want %v", tok.Expires, err, end)
	}
	if a := w.do(t, "POST", "/api/v1/tokens", map[string]any{"tenant": "council-a", "role": "ingest", "expires": end.Add(-time.Minute)}, contractor); a.status != 201 {
		t.Errorf("a token ending before its creator = %d %s", a.status, a.body)
	}
	// A token that never ends creates one that never ends.
	if a := w.do(t, "POST", "/api/v1/tokens", map[string]any{"tenant": "council-a", "role": "ingest"}, req{token: w.tokens["a/tenant-admin"]}); a.status != 201 || strings.Contains(string(a.body), "expires") {
		t.Errorf("token by a token without expiry = %d %s", a.status, a.body)
	}
}

// TestTokenTenantDefaultsToTheAdmins: a member's admin naming no tenant
// makes a token of its own member, as it makes users; the provider's
// admin must name one.
func TestTokenTenantDefaultsToTheAdmins(t *testing.T) {
	w := newAcctWorld(t, nil)
	a := w.do(t, "POST", "/api/v1/tokens", map[string]any{"role": "ingest", "name": "firewall"}, req{token: w.tokens["a/tenant-admin"]})
	var got struct{ Tenant, Role string }
	if err := json.Unmarshal(a.body, &got); a.status != 201 || err != nil || got.Tenant != "council-a" || got.Role != "ingest" {
		t.Errorf("a member admin's token without a tenant = %d %s; want council-a's ingest token", a.status, a.body)
	}
	if a := w.do(t, "POST", "/api/v1/tokens", map[string]any{"role": "ingest"}, req{token: w.tokens["provider-admin"]}); a.status != 400 {
		t.Errorf("the provider's ingest token without a tenant = %d %s; want 400", a.status, a.body)
	}
	// The audit record names the token and its end.
	end := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	if a := w.do(t, "POST", "/api/v1/tokens", map[string]any{"role": "tenant-viewer", "name": "auditor", "expires": end}, req{token: w.tokens["a/tenant-admin"]}); a.status != 201 {
		t.Fatalf("a viewer token = %d %s", a.status, a.body)
	}
	w.audit.mu.Lock()
	defer w.audit.mu.Unlock()
	found := false
	for _, r := range w.audit.recs {
		found = found || r.Action == "token.create" && strings.Contains(r.Detail, `name="auditor"`) && strings.Contains(r.Detail, "expires="+end.Format(time.RFC3339))
	}
	if !found {
		t.Errorf("no token.create record naming the token and its end: %+v", w.audit.recs)
	}
}
