package sqlstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// TestSSOUsers: an identity is linked to one user, a name is never shared
// with another account, and a role change is tenant-scoped and ends the
// user's sessions.
func TestSSOUsers(t *testing.T) { backends(t, testSSOUsers) }

func testSSOUsers(t *testing.T, open func(testing.TB) *DB) {
	ctx := context.Background()
	db := open(t)
	for _, id := range []tenant.ID{"council-a", "council-b"} {
		if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: id, Name: string(id)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.SSOUser(ctx, "entra-a", "sub-1"); !errors.Is(err, auth.ErrUserNotFound) {
		t.Fatalf("no identity yet: %v", err)
	}
	u, err := db.CreateSSOUser(ctx, auth.User{Name: "alice@a.example", Tenant: "council-a", Role: auth.RoleTenantViewer, PasswordHash: "x"}, "entra-a", "sub-1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.SSOUser(ctx, "entra-a", "sub-1")
	if err != nil || got.ID != u.ID || got.Tenant != "council-a" || got.Role != auth.RoleTenantViewer {
		t.Fatalf("SSOUser: %+v %v", got, err)
	}
	// The same subject at another identity provider is another identity.
	if _, err := db.SSOUser(ctx, "entra-b", "sub-1"); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("sub-1 of entra-b: %v", err)
	}
	if _, err := db.CreateUser(ctx, auth.User{Name: "local", Tenant: "council-b", Role: auth.RoleTenantAdmin, PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"local", "alice@a.example"} {
		if _, err := db.CreateSSOUser(ctx, auth.User{Name: name, Tenant: "council-b", Role: auth.RoleTenantViewer, PasswordHash: "x"}, "entra-b", "sub-9"); !errors.Is(err, auth.ErrUserExists) {
			t.Errorf("identity taking the name %s: %v", name, err)
		}
	}
	if _, err := db.SSOUser(ctx, "entra-b", "sub-9"); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("a refused identity is linked: %v", err)
	}
	if _, err := db.CreateSSOUser(ctx, auth.User{Name: "bob", Tenant: "council-a", Role: auth.RoleTenantViewer, PasswordHash: "x"}, "entra-a", "sub-1"); !errors.Is(err, auth.ErrUserExists) {
		t.Errorf("a second user for one identity: %v", err)
	}
	if _, err := db.UserByName(ctx, "bob"); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("the refused second user was kept: %v", err)
	}

	now := time.Now()
	if err := db.CreateSession(ctx, auth.Session{Hash: []byte("h1"), UserID: u.ID, CSRF: "c", Created: now, LastSeen: now}); err != nil {
		t.Fatal(err)
	}
	// A token made by the user (acting for it) and one of another user.
	mine, other := auth.Token{ID: "tok-mine", Tenant: "council-a", Role: auth.RoleTenantAnalyst, Hash: []byte("hm"), User: u.ID},
		auth.Token{ID: "tok-other", Tenant: "council-a", Role: auth.RoleTenantAnalyst, Hash: []byte("ho")}
	for _, tok := range []auth.Token{mine, other} {
		if err := db.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.SetUserRole(ctx, "council-b", u.Name, auth.RoleTenantAdmin); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("role set through another tenant: %v", err)
	}
	if _, err := db.SetUserRole(ctx, "council-a", u.Name, auth.RoleProviderAdmin); err == nil {
		t.Error("a provider role for a tenant's user was accepted")
	}
	revoked, err := db.SetUserRole(ctx, "council-a", u.Name, auth.RoleTenantAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if len(revoked) != 1 || revoked[0].ID != "tok-mine" {
		t.Errorf("tokens revoked by the role change: %+v, want the user's own", revoked)
	}
	if _, err := db.TokenByHash(ctx, []byte("hm")); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("the user's token after its role changed: %v, want gone", err)
	}
	if _, err := db.TokenByHash(ctx, []byte("ho")); err != nil {
		t.Errorf("another user's token after the role change: %v, want kept", err)
	}
	if got, _ := db.SSOUser(ctx, "entra-a", "sub-1"); got.Role != auth.RoleTenantAdmin {
		t.Errorf("role after SetUserRole: %s", got.Role)
	}
	if _, _, err := db.SessionByHash(ctx, []byte("h1")); !errors.Is(err, auth.ErrSessionGone) {
		t.Errorf("session after a role change: %v", err)
	}
}
