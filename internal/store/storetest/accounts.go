package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// AccountStore is what a backend offers for local accounts and the
// tokens that act for them.
type AccountStore interface {
	CreateTenant(ctx context.Context, t tenant.Tenant) (tenant.Tenant, error)
	CreateUser(ctx context.Context, u auth.User) (auth.User, error)
	UserByName(ctx context.Context, name string) (auth.User, error)
	User(ctx context.Context, t tenant.ID, name string) (auth.User, error)
	SetUserDisabled(ctx context.Context, t tenant.ID, name string, disabled bool) ([]auth.Token, error)
	ResetUser(ctx context.Context, t tenant.ID, name, passwordHash string) ([]auth.Token, error)
	DeleteUser(ctx context.Context, t tenant.ID, name string) ([]auth.Token, error)
	CreateToken(ctx context.Context, tok auth.Token) error
	TokenByHash(ctx context.Context, hash []byte) (auth.Token, error)
	TokenByID(ctx context.Context, id string) (auth.Token, error)
	Tokens(ctx context.Context, t tenant.ID, all bool) ([]auth.Token, error)
}

// TestAccounts runs the account tests; open returns a new, empty store.
func TestAccounts(t *testing.T, open func(t *testing.T) AccountStore) {
	t.Run("NamesAnyCase", func(t *testing.T) { testNamesAnyCase(t, open(t)) })
	t.Run("TokensDieWithTheirUser", func(t *testing.T) { testTokensDieWithTheirUser(t, open(t)) })
	t.Run("DeleteUser", func(t *testing.T) { testDeleteUser(t, open(t)) })
}

func accountTenants(t *testing.T, s AccountStore) {
	t.Helper()
	for _, id := range []tenant.ID{"council-a", "council-b"} {
		if _, err := s.CreateTenant(context.Background(), tenant.Tenant{ID: id, Name: string(id)}); err != nil {
			t.Fatal(err)
		}
	}
}

// testNamesAnyCase: a name is taken whatever its letter case, in every
// tenant, and found in any case, keeping the spelling it was made with.
func testNamesAnyCase(t *testing.T, s AccountStore) {
	ctx := context.Background()
	accountTenants(t, s)
	alice, err := s.CreateUser(ctx, auth.User{Name: "Alice.Jones", Tenant: "council-a", Role: auth.RoleTenantAnalyst, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []auth.User{
		{Name: "alice.jones", Tenant: "council-a", Role: auth.RoleTenantAnalyst},
		{Name: "ALICE.JONES", Tenant: "council-b", Role: auth.RoleTenantViewer},
		{Name: "aLiCe.JoNeS", Role: auth.RoleProviderAnalyst},
	} {
		u.PasswordHash = "x"
		if _, err := s.CreateUser(ctx, u); !errors.Is(err, auth.ErrUserExists) {
			t.Errorf("create %q of %q beside %q: %v; want ErrUserExists", u.Name, u.Tenant, alice.Name, err)
		}
	}
	for _, name := range []string{"Alice.Jones", "alice.jones", "ALICE.JONES"} {
		u, err := s.UserByName(ctx, name)
		if err != nil || u.ID != alice.ID || u.Name != "Alice.Jones" {
			t.Errorf("UserByName(%q) = %d %q, %v; want %d %q", name, u.ID, u.Name, err, alice.ID, "Alice.Jones")
		}
	}
	if _, err := s.UserByName(ctx, "alice.jone"); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("UserByName of another name: %v", err)
	}
	// Another name still goes.
	if _, err := s.CreateUser(ctx, auth.User{Name: "Bob", Tenant: "council-b", Role: auth.RoleTenantViewer, PasswordHash: "x"}); err != nil {
		t.Errorf("create Bob: %v", err)
	}
}

// testTokensDieWithTheirUser: disabling or resetting a user revokes the
// tokens that act for it (and only those, and only through its own
// tenant); a token asked for on the strength of revoked credentials is
// refused.
func testTokensDieWithTheirUser(t *testing.T, s AccountStore) {
	ctx := context.Background()
	accountTenants(t, s)
	ann, err := s.CreateUser(ctx, auth.User{Name: "ann", Tenant: "council-a", Role: auth.RoleTenantAdmin, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	ben, err := s.CreateUser(ctx, auth.User{Name: "ben", Tenant: "council-b", Role: auth.RoleTenantAdmin, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1_700_000_000, 0).UTC()
	mk := func(name string, ten tenant.ID, u auth.User) (string, auth.Token) {
		t.Helper()
		secret, id, hash := auth.NewSecret()
		tok := auth.Token{ID: id, Tenant: ten, Role: auth.RoleIngest, Name: name, Hash: hash, Created: at, User: u.ID, UserEpoch: u.Epoch}
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatalf("create token %s: %v", name, err)
		}
		at = at.Add(time.Second)
		return secret, tok
	}
	annFW, annFWTok := mk("ann's firewall", "council-a", ann)
	annProxy, annProxyTok := mk("ann's proxy (made by ann's token)", "council-a", ann)
	machine, _ := mk("no user's", "council-a", auth.User{})
	benFW, _ := mk("ben's firewall", "council-b", ben)

	got, err := s.TokenByHash(ctx, auth.Hash(annFW))
	if err != nil || got.User != ann.ID || got.UserEpoch != 0 || got.UserRevoked {
		t.Fatalf("ann's token = user %d epoch %d revoked %v, %v; want user %d, epoch 0, live", got.User, got.UserEpoch, got.UserRevoked, err, ann.ID)
	}
	listed, err := s.Tokens(ctx, "council-a", false)
	if err != nil || len(listed) != 3 || listed[0].UserName != "ann" || listed[2].UserName != "" {
		t.Errorf("council-a's tokens = %+v, %v; want 3, ann's named", listed, err)
	}
	if tok, err := s.TokenByID(ctx, annFWTok.ID); err != nil || tok.User != ann.ID || tok.UserName != "ann" {
		t.Errorf("TokenByID = %+v, %v", tok, err)
	}

	// Through another tenant: no such user, nothing revoked.
	if revoked, err := s.SetUserDisabled(ctx, "council-b", "ann", true); !errors.Is(err, auth.ErrUserNotFound) || len(revoked) != 0 {
		t.Errorf("disable ann through council-b = %v, %v; want ErrUserNotFound", revoked, err)
	}
	if revoked, err := s.ResetUser(ctx, "council-b", "ann", "y"); !errors.Is(err, auth.ErrUserNotFound) || len(revoked) != 0 {
		t.Errorf("reset ann through council-b = %v, %v; want ErrUserNotFound", revoked, err)
	}
	if _, err := s.TokenByHash(ctx, auth.Hash(annFW)); err != nil {
		t.Errorf("ann's token after a refused disable: %v", err)
	}

	revoked, err := s.SetUserDisabled(ctx, "council-a", "ann", true)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(toks []auth.Token) []string {
		var out []string
		for _, tok := range toks {
			out = append(out, tok.ID)
		}
		return out
	}
	if diff := cmp.Diff([]string{annFWTok.ID, annProxyTok.ID}, ids(revoked)); diff != "" {
		t.Errorf("tokens revoked by disabling ann (-want +got):\n%s", diff)
	}
	for _, secret := range []string{annFW, annProxy} {
		if _, err := s.TokenByHash(ctx, auth.Hash(secret)); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("ann's token after the disable: %v; want ErrNotFound", err)
		}
	}
	for name, secret := range map[string]string{"no user's": machine, "ben's": benFW} {
		if tok, err := s.TokenByHash(ctx, auth.Hash(secret)); err != nil || tok.UserRevoked {
			t.Errorf("%s token after ann's disable: revoked %v, %v; want live", name, tok.UserRevoked, err)
		}
	}
	// A token asked for on a disabled user's credentials is refused.
	_, id, hash := auth.NewSecret()
	if err := s.CreateToken(ctx, auth.Token{ID: id, Tenant: "council-a", Role: auth.RoleIngest, Hash: hash, User: ann.ID}); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("token for a disabled user: %v; want ErrUnauthenticated", err)
	}
	// Enabling brings none back, and the user's epoch has moved on: a
	// token asked for with the old one (a session read before the
	// disable) is refused.
	if revoked, err := s.SetUserDisabled(ctx, "council-a", "ann", false); err != nil || len(revoked) != 0 {
		t.Fatalf("enable = %v, %v", revoked, err)
	}
	if _, err := s.TokenByHash(ctx, auth.Hash(annFW)); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("ann's token after enabling her again: %v; want ErrNotFound", err)
	}
	ann2, err := s.User(ctx, "council-a", "ann")
	if err != nil || ann2.Epoch <= ann.Epoch {
		t.Fatalf("ann's epoch after a disable: %d (was %d), %v; want it moved on", ann2.Epoch, ann.Epoch, err)
	}
	_, id, hash = auth.NewSecret()
	if err := s.CreateToken(ctx, auth.Token{ID: id, Tenant: "council-a", Role: auth.RoleIngest, Hash: hash, User: ann.ID, UserEpoch: ann.Epoch}); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("token at a revoked epoch: %v; want ErrUnauthenticated", err)
	}

	// A reset revokes them too.
	fresh, freshTok := mk("after", "council-a", ann2)
	revoked, err = s.ResetUser(ctx, "council-a", "ann", "new hash")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{freshTok.ID}, ids(revoked)); diff != "" {
		t.Errorf("tokens revoked by resetting ann (-want +got):\n%s", diff)
	}
	if _, err := s.TokenByHash(ctx, auth.Hash(fresh)); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("ann's token after the reset: %v; want ErrNotFound", err)
	}
	ann3, err := s.User(ctx, "council-a", "ann")
	if err != nil || ann3.Epoch <= ann2.Epoch {
		t.Errorf("ann's epoch after a reset: %d (was %d), %v; want it moved on", ann3.Epoch, ann2.Epoch, err)
	}
	if _, err := s.TokenByHash(ctx, auth.Hash(benFW)); err != nil {
		t.Errorf("ben's token after ann's reset: %v", err)
	}
}

// testDeleteUser: deleting a user (only through its own tenant) revokes
// the tokens that act for it, and frees its name, in any letter case.
func testDeleteUser(t *testing.T, s AccountStore) {
	ctx := context.Background()
	accountTenants(t, s)
	cy, err := s.CreateUser(ctx, auth.User{Name: "Cy", Tenant: "council-a", Role: auth.RoleTenantAnalyst, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	secret, id, hash := auth.NewSecret()
	if err := s.CreateToken(ctx, auth.Token{ID: id, Tenant: "council-a", Role: auth.RoleIngest, Hash: hash, User: cy.ID, UserEpoch: cy.Epoch}); err != nil {
		t.Fatal(err)
	}
	other, _, otherHash := auth.NewSecret()
	if err := s.CreateToken(ctx, auth.Token{ID: "machine", Tenant: "council-a", Role: auth.RoleIngest, Hash: otherHash}); err != nil {
		t.Fatal(err)
	}
	if revoked, err := s.DeleteUser(ctx, "council-b", "Cy"); !errors.Is(err, auth.ErrUserNotFound) || len(revoked) != 0 {
		t.Errorf("delete Cy through council-b = %v, %v; want ErrUserNotFound", revoked, err)
	}
	revoked, err := s.DeleteUser(ctx, "council-a", "Cy")
	if err != nil || len(revoked) != 1 || revoked[0].ID != id {
		t.Fatalf("delete Cy = %+v, %v; want its token revoked", revoked, err)
	}
	if _, err := s.TokenByHash(ctx, auth.Hash(secret)); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("Cy's token after the delete: %v; want ErrNotFound", err)
	}
	if _, err := s.TokenByHash(ctx, auth.Hash(other)); err != nil {
		t.Errorf("a token of no user after Cy's delete: %v", err)
	}
	if _, err := s.UserByName(ctx, "cy"); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("Cy after the delete: %v; want ErrUserNotFound", err)
	}
	if _, err := s.DeleteUser(ctx, "council-a", "Cy"); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("delete Cy twice: %v; want ErrUserNotFound", err)
	}
	if _, err := s.CreateUser(ctx, auth.User{Name: "cy", Tenant: "council-b", Role: auth.RoleTenantViewer, PasswordHash: "x"}); err != nil {
		t.Errorf("the name again, elsewhere: %v", err)
	}
}
