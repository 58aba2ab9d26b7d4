package web

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/auth"
)

// TestTokenList: GET /api/v1/tokens lists what the caller could revoke,
// by the tenant asked, with no secret or hash; a revoked token leaves it.
func TestTokenList(t *testing.T) {
	w := newAcctWorld(t, nil)
	_, ingestA := w.addToken(t, "council-a", auth.RoleIngest, time.Time{})
	_, viewerA := w.addToken(t, "council-a", auth.RoleTenantViewer, time.Now().Add(time.Hour))
	w.addToken(t, "council-b", auth.RoleIngest, time.Time{})
	pa, ta := req{token: w.tokens["provider-admin"]}, req{token: w.tokens["a/tenant-admin"]}
	list := func(path string, c req) []tokenJSON {
		t.Helper()
		a := w.do(t, "GET", path, nil, c)
		if a.status != 200 {
			t.Fatalf("GET %s = %d %s", path, a.status, a.body)
		}
		if strings.Contains(string(a.body), "hash") || strings.Contains(string(a.body), "trn_") {
			t.Errorf("GET %s shows a secret: %s", path, a.body)
		}
		var out struct{ Tokens []tokenJSON }
		if err := json.Unmarshal(a.body, &out); err != nil {
			t.Fatal(err)
		}
		return out.Tokens
	}
	ids := func(ts []tokenJSON) []string {
		var out []string
		for _, tok := range ts {
			out = append(out, tok.ID)
		}
		slices.Sort(out)
		return out
	}
	sorted := func(s ...string) []string { slices.Sort(s); return s }

	all := list("/api/v1/tokens", pa)
	if len(all) != 5 { // the two of newAcctWorld and the three above
		t.Errorf("provider-admin lists %d tokens, want 5: %+v", len(all), all)
	}
	if got, want := ids(list("/api/v1/tokens?tenant=council-a", pa)), sorted(ingestA, viewerA, w.tokenID(t, "a/tenant-admin")); !slices.Equal(got, want) {
		t.Errorf("council-a's tokens = %v, want %v", got, want)
	}
	if got := list("/api/v1/tokens?tenant=*", pa); len(got) != 1 || got[0].Role != string(auth.RoleProviderAdmin) || got[0].Tenant != "" {
		t.Errorf("the provider's tokens = %+v", got)
	}
	// A tenant-admin: its tenant's tokens it could create, not its own
	// admin token, never another tenant's.
	mine := list("/api/v1/tokens", ta)
	if got, want := ids(mine), sorted(ingestA, viewerA); !slices.Equal(got, want) {
		t.Errorf("tenant-admin lists %v, want %v", got, want)
	}
	for _, tok := range mine {
		if tok.ID == viewerA && tok.Expires == nil {
			t.Errorf("the viewer token's expiry is missing: %+v", tok)
		}
	}
	if a := w.do(t, "GET", "/api/v1/tokens?tenant=council-b", nil, ta); a.status != 403 {
		t.Errorf("tenant-admin asking council-b's tokens = %d", a.status)
	}
	if a := w.do(t, "DELETE", "/api/v1/tokens/"+ingestA, nil, ta); a.status != 204 {
		t.Fatalf("revoke = %d %s", a.status, a.body)
	}
	if got, want := ids(list("/api/v1/tokens", ta)), []string{viewerA}; !slices.Equal(got, want) {
		t.Errorf("after the revoke: %v, want %v", got, want)
	}
}
