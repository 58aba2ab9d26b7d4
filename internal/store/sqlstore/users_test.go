package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/store/storetest"
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
	_, disableErr := db.SetUserDisabled(ctx, "council-b", "alice", true)
	_, resetErr := db.ResetUser(ctx, "council-b", "alice", "y")
	for name, err := range map[string]error{
		"disable": disableErr,
		"reset":   resetErr,
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
	if _, err := db.SetUserDisabled(ctx, "council-a", "alice", true); err != nil {
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

// TestAccountsConformance runs the account conformance tests on each
// engine.
func TestAccountsConformance(t *testing.T) {
	backends(t, func(t *testing.T, open func(testing.TB) *DB) {
		storetest.TestAccounts(t, func(t *testing.T) storetest.AccountStore { return open(t) })
	})
}

// TestTokenRefusedWhenItsUserMovesOn: a token whose user was disabled,
// reset or removed behind the store's back (another node's write that
// raced the token's creation, a row edited by hand) is looked up as
// revoked, not as live.
func TestTokenRefusedWhenItsUserMovesOn(t *testing.T) {
	persistent(t, testTokenRefusedWhenItsUserMovesOn)
}

func testTokenRefusedWhenItsUserMovesOn(t *testing.T, pl place) {
	ctx := context.Background()
	db := pl.reopen(t)
	if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: "council-a", Name: "A"}); err != nil {
		t.Fatal(err)
	}
	u, err := db.CreateUser(ctx, auth.User{Name: "ann", Tenant: "council-a", Role: auth.RoleTenantAdmin, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	live := func(secret string) bool {
		t.Helper()
		tok, err := db.TokenByHash(ctx, auth.Hash(secret))
		if err != nil {
			t.Fatal(err)
		}
		return !tok.UserRevoked
	}
	secret, id, hash := auth.NewSecret()
	if err := db.CreateToken(ctx, auth.Token{ID: id, Tenant: "council-a", Role: auth.RoleIngest, Hash: hash, User: u.ID}); err != nil {
		t.Fatal(err)
	}
	if !live(secret) {
		t.Fatal("a new token of an enabled user is revoked")
	}
	pl.raw(t, `UPDATE users SET epoch = epoch + 1`)
	if live(secret) {
		t.Error("a token of an earlier epoch is live")
	}
	pl.raw(t, `UPDATE users SET epoch = epoch - 1, disabled = 1`)
	if live(secret) {
		t.Error("a token of a disabled user is live")
	}
	// Removing the user removes its tokens (the foreign key cascades);
	// where the key is not enforced (a raw SQLite connection without the
	// pragma, as here), the token is revoked all the same.
	pl.raw(t, `DELETE FROM users`)
	if tok, err := db.TokenByHash(ctx, auth.Hash(secret)); !errors.Is(err, auth.ErrNotFound) && (err != nil || !tok.UserRevoked) {
		t.Errorf("token of a removed user: revoked %v, %v; want gone or revoked", tok.UserRevoked, err)
	}
}

// TestUserNamesAnyCaseMigration: a database from before names were unique
// in any case may hold "Alice" and "alice"; the migration keeps both
// working by their exact spelling, gives any other spelling to the oldest,
// and refuses new names that differ only in case.
func TestUserNamesAnyCaseMigration(t *testing.T) { fresh(t, testUserNamesAnyCaseMigration) }

func testUserNamesAnyCaseMigration(t *testing.T, pl place) {
	ctx := context.Background()
	raw, err := sql.Open(pl.driver, pl.dsn)
	if err != nil {
		t.Fatal(err)
	}
	x := newDialect(pl.postgres)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, x.rewrite(q).text, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(x.rewrite(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)`).text)
	before := slices.Index(migrations, accountsMigration)
	if before < 1 {
		t.Fatal("no accountsMigration in migrations")
	}
	for v := 1; v < before; v++ {
		exec(x.migration(v))
		exec(`INSERT INTO schema_migrations (version, applied) VALUES (?, 0)`, v)
	}
	exec(`INSERT INTO tenants (id, name, created) VALUES ('council-a', 'A', 0), ('council-b', 'B', 0)`)
	user := `INSERT INTO users (id, name, tenant, role, email, password, created) VALUES (?, ?, ?, 'tenant-analyst', '', 'x', 0)`
	exec(user, 1, "Alice", "council-a")
	exec(user, 2, "alice", "council-b")
	exec(user, 3, "ALICE", "council-b")
	exec(user, 4, "Bob", "council-a")
	exec(`INSERT INTO tokens (id, tenant, role, name, hash, created) VALUES ('t1', 'council-a', 'ingest', 'old', ?, 0)`, auth.Hash("t1"))
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	db := pl.reopen(t)
	for name, want := range map[string]int64{"Alice": 1, "alice": 2, "ALICE": 3, "aLICE": 1, "Bob": 4, "BOB": 4, "bob": 4} {
		if u, err := db.UserByName(ctx, name); err != nil || u.ID != want {
			t.Errorf("UserByName(%q) = %d, %v; want %d", name, u.ID, err, want)
		}
	}
	for _, name := range []string{"aliCE", "bOB"} {
		if _, err := db.CreateUser(ctx, auth.User{Name: name, Tenant: "council-a", Role: auth.RoleTenantViewer, PasswordHash: "x"}); !errors.Is(err, auth.ErrUserExists) {
			t.Errorf("create %q after the migration: %v; want ErrUserExists", name, err)
		}
	}
	if _, err := db.CreateSSOUser(ctx, auth.User{Name: "BOB", Tenant: "council-a", Role: auth.RoleTenantViewer, PasswordHash: "x"}, "idp", "sub"); !errors.Is(err, auth.ErrUserExists) {
		t.Errorf("single sign-on user BOB beside Bob: %v; want ErrUserExists", err)
	}
	// A token from before acts for no user and still works.
	if tok, err := db.TokenByHash(ctx, auth.Hash("t1")); err != nil || tok.User != 0 || tok.UserRevoked {
		t.Errorf("old token = %+v, %v", tok, err)
	}
}
