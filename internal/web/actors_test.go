package web

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// TestActors: GET /api/v1/actors names the tokens an author field holds;
// a member learns its own tokens' names only, never another member's
// (left out, as an unknown one) nor the provider's (marked, unnamed).
func TestActors(t *testing.T) {
	w := newAcctWorld(t, nil)
	named := func(ten tenant.ID, name string) string {
		t.Helper()
		_, id, hash := auth.NewSecret()
		role := auth.RoleTenantAnalyst
		if ten == "" {
			role = auth.RoleProviderAnalyst
		}
		if err := w.db.CreateToken(context.Background(), auth.Token{ID: id, Tenant: ten, Role: role, Name: name, Hash: hash}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	mine := named("council-a", "a-soar")
	theirs := named("council-b", "council-b secret project")
	soc := named("", "soc automation for council-b")
	viewerA, _ := w.addToken(t, "council-a", auth.RoleTenantViewer, time.Time{})
	ingestA, _ := w.addToken(t, "council-a", auth.RoleIngest, time.Time{})
	path := "/api/v1/actors?id=" + mine + "&id=" + theirs + "&id=" + soc + "&id=user:ana&id=nosuch&id=" + mine

	get := func(secret string) []actorJSON {
		t.Helper()
		a := w.do(t, "GET", path, nil, req{token: secret})
		if a.status != 200 {
			t.Fatalf("GET %s = %d %s", path, a.status, a.body)
		}
		var got struct{ Actors []actorJSON }
		if err := json.Unmarshal(a.body, &got); err != nil {
			t.Fatal(err)
		}
		return got.Actors
	}
	want := []actorJSON{
		{ID: mine, Kind: "token", Name: "a-soar", Tenant: "council-a"},
		{ID: soc, Kind: "token", Provider: true},
	}
	if diff := cmp.Diff(want, get(viewerA)); diff != "" {
		t.Errorf("a member viewer's actors (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, get(w.tokens["a/tenant-admin"])); diff != "" {
		t.Errorf("a member admin's actors (-want +got):\n%s", diff)
	}
	want = []actorJSON{
		{ID: mine, Kind: "token", Name: "a-soar", Tenant: "council-a"},
		{ID: theirs, Kind: "token", Name: "council-b secret project", Tenant: "council-b"},
		{ID: soc, Kind: "token", Name: "soc automation for council-b", Provider: true},
	}
	if diff := cmp.Diff(want, get(w.tokens["provider-admin"])); diff != "" {
		t.Errorf("the provider's actors (-want +got):\n%s", diff)
	}
	if a := w.do(t, "GET", path, nil, req{token: ingestA}); a.status != 403 {
		t.Errorf("an ingest token's GET /api/v1/actors = %d %s; want 403", a.status, a.body)
	}
	many := "/api/v1/actors?"
	for range maxActors + 1 {
		many += "id=x&"
	}
	if a := w.do(t, "GET", many, nil, req{token: viewerA}); a.status != 400 {
		t.Errorf("%d ids = %d; want 400", maxActors+1, a.status)
	}
}
