package sqlstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// TestUsersTenantIsolation: a method given the wrong tenant never touches
// another tenant's user or token.
func TestUsersTenantIsolation(t *testing.T) { backends(t, testUsersTenantIsolation) }

func testUsersTenantIsolation(t *testing.T, open func(testing.TB) *DB) {
	ctx := context.Background()
	db := open(t)
	for _, id := range []tenant.ID{"council-a", "council-b"} {
		if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: id, Name: string(id)}); err != nil {
			t.Fatal(err)
		}
	}
	u, err := db.CreateUser(ctx, auth.User{Name: "alice", Tenant: "council-a", Role: auth.RoleTenantAnalyst, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, auth.User{Name: "alice", Tenant: "council-b", Role: auth.RoleTenantAnalyst, PasswordHash: "x"}); !errors.Is(err, auth.ErrUserExists) {
		t.Errorf("second alice: %v", err)
	}
	if _, err := db.CreateUser(ctx, auth.User{Name: "zed", Tenant: "council-z", Role: auth.RoleTenantAnalyst, PasswordHash: "x"}); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("user of a missing tenant: %v", err)
	}
	if _, err := db.User(ctx, "council-b", "alice"); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("alice read as council-b's: %v", err)
	}
	if _, err := db.User(ctx, "", "alice"); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("alice read as a provider user: %v", err)
	}
	for name, err := range map[string]error{
		"disable": db.SetUserDisabled(ctx, "council-b", "alice", true),
		"reset":   db.ResetUser(ctx, "council-b", "alice", "y"),
		"enrol":   db.SetTOTPPending(ctx, "council-b", "alice", []byte("s")),
	} {
		if !errors.Is(err, auth.ErrUserNotFound) {
			t.Errorf("%s through the wrong tenant: %v", name, err)
		}
	}
	if ok, err := db.UseTOTPStep(ctx, "council-b", u.ID, 5); ok || err != nil {
		t.Errorf("TOTP step through the wrong tenant: %v, %v", ok, err)
	}
	// Codes: hashed, single use, tenant-bound.
	if err := db.SetTOTPPending(ctx, "council-a", "alice", []byte("secret")); err != nil {
		t.Fatal(err)
	}
	if err := db.ConfirmTOTP(ctx, "council-a", "alice", 7, [][]byte{auth.Hash("c1"), auth.Hash("c2")}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.UseRecoveryCode(ctx, "council-b", u.ID, auth.Hash("c1")); ok {
		t.Error("recovery code used through the wrong tenant")
	}
	if ok, _ := db.UseRecoveryCode(ctx, "council-a", u.ID, auth.Hash("c1")); !ok {
		t.Error("recovery code refused")
	}
	if ok, _ := db.UseRecoveryCode(ctx, "council-a", u.ID, auth.Hash("c1")); ok {
		t.Error("recovery code used twice")
	}
	if ok, _ := db.UseTOTPStep(ctx, "council-a", u.ID, 7); ok {
		t.Error("the confirmed step accepted again")
	}
	if ok, _ := db.UseTOTPStep(ctx, "council-a", u.ID, 8); !ok {
		t.Error("a later step refused")
	}
	// Sessions end with a disable.
	now := time.Now()
	if err := db.CreateSession(ctx, auth.Session{Hash: auth.Hash("sid"), UserID: u.ID, CSRF: "c", Created: now, LastSeen: now}); err != nil {
		t.Fatal(err)
	}
	if _, su, err := db.SessionByHash(ctx, auth.Hash("sid")); err != nil || su.Name != "alice" || su.Tenant != "council-a" {
		t.Fatalf("session: %+v %v", su, err)
	}
	if err := db.SetUserDisabled(ctx, "council-a", "alice", true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SessionByHash(ctx, auth.Hash("sid")); !errors.Is(err, auth.ErrSessionGone) {
		t.Errorf("session after disable: %v", err)
	}
	// Tokens revoke only through their own tenant.
	tok := auth.Token{ID: "t1", Tenant: "council-a", Role: auth.RoleIngest, Hash: auth.Hash("t1"), Expires: now.Add(time.Hour)}
	if err := db.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if got, err := db.TokenByHash(ctx, auth.Hash("t1")); err != nil || got.Expires.Unix() != tok.Expires.Unix() {
		t.Errorf("token expiry round trip: %v %v", got.Expires, err)
	}
	if err := db.RevokeToken(ctx, "council-b", "t1"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("revoke through the wrong tenant: %v", err)
	}
	if err := db.RevokeToken(ctx, "council-a", "t1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TokenByHash(ctx, auth.Hash("t1")); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("revoked token: %v", err)
	}
}
