package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNewSecret(t *testing.T) {
	s1, id1, h1 := NewSecret()
	s2, id2, _ := NewSecret()
	if s1 == s2 || id1 == id2 {
		t.Fatal("two secrets are equal")
	}
	// 32 random bytes, base64url without padding, after the prefix.
	if !strings.HasPrefix(s1, "trn_") || len(s1) != len("trn_")+43 {
		t.Errorf("secret %q has the wrong shape", s1)
	}
	if string(Hash(s1)) != string(h1) || string(Hash(s2)) == string(h1) {
		t.Error("hash does not identify its secret")
	}
}

func TestReadScope(t *testing.T) {
	provider := Principal{Role: RoleProviderAnalyst}
	analyst := Principal{Role: RoleTenantAnalyst, Tenant: "council-a"}
	tests := []struct {
		p         Principal
		requested string
		want      string
		all       bool
		err       error
	}{
		{provider, "", "", false, ErrForbidden},
		{provider, "*", "", true, nil},
		{provider, "council-b", "council-b", false, nil},
		{analyst, "", "council-a", false, nil},
		{analyst, "council-a", "council-a", false, nil},
		{analyst, "council-b", "", false, ErrForbidden},
		{analyst, "*", "", false, ErrForbidden},
		{Principal{Role: RoleIngest, Tenant: "council-a"}, "", "", false, ErrForbidden},
	}
	for _, tt := range tests {
		got, all, err := tt.p.ReadScope(tt.requested)
		if string(got) != tt.want || all != tt.all || !errors.Is(err, tt.err) {
			t.Errorf("%s reading %q = %q, %v, %v; want %q, %v, %v", tt.p.Role, tt.requested, got, all, err, tt.want, tt.all, tt.err)
		}
	}
}

func TestCanCreateToken(t *testing.T) {
	admin := Principal{Role: RoleTenantAdmin, Tenant: "council-a"}
	for _, tt := range []struct {
		tok  Token
		want bool
	}{
		{Token{Tenant: "council-a", Role: RoleIngest}, true},
		{Token{Tenant: "council-a", Role: RoleTenantViewer}, true},
		{Token{Tenant: "council-a", Role: RoleTenantAdmin}, false},
		{Token{Tenant: "council-b", Role: RoleIngest}, false},
		{Token{Role: RoleProviderAnalyst}, false},
	} {
		if got := admin.CanCreateToken(tt.tok); got != tt.want {
			t.Errorf("tenant admin creating %+v = %v", tt.tok, got)
		}
	}
	if !(Principal{Role: RoleProviderAdmin}).CanCreateToken(Token{Role: RoleProviderAdmin}) {
		t.Error("provider-admin cannot create a provider-admin token")
	}
	if (Principal{Role: RoleProviderAnalyst}).CanCreateToken(Token{Tenant: "council-a", Role: RoleIngest}) {
		t.Error("provider-analyst created a token")
	}
}

func TestTokenValidate(t *testing.T) {
	if err := (Token{Role: RoleIngest}).Validate(); err == nil {
		t.Error("ingest token without tenant accepted")
	}
	if err := (Token{Role: RoleProviderAdmin, Tenant: "council-a"}).Validate(); err == nil {
		t.Error("provider token with a tenant accepted")
	}
	if _, err := ParseRole("root"); err == nil || !strings.Contains(err.Error(), "tenant-viewer") {
		t.Errorf("unknown role error = %v", err)
	}
}

// TestTokenExpiry: a token that ends cannot mint one that outlives it.
func TestTokenExpiry(t *testing.T) {
	end := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	expiring := Principal{Role: RoleTenantAdmin, Tenant: "council-a", Expires: end}
	forever := Principal{Role: RoleTenantAdmin, Tenant: "council-a"}
	tests := []struct {
		p         Principal
		requested time.Time
		want      time.Time
		err       error
	}{
		{forever, time.Time{}, time.Time{}, nil},
		{forever, end.Add(time.Hour), end.Add(time.Hour), nil},
		{expiring, time.Time{}, end, nil},
		{expiring, end.Add(-time.Minute), end.Add(-time.Minute), nil},
		{expiring, end, end, nil},
		{expiring, end.Add(time.Second), time.Time{}, ErrOutlives},
	}
	for _, tc := range tests {
		got, err := tc.p.TokenExpiry(tc.requested)
		if !errors.Is(err, tc.err) || !got.Equal(tc.want) {
			t.Errorf("%+v.TokenExpiry(%v) = %v, %v; want %v, %v", tc.p, tc.requested, got, err, tc.want, tc.err)
		}
	}
}

// TestGrantLasting: a token that ends may not make a user, reset one or
// enable one (ErrOutlives, a kind of ErrForbidden, naming its end); a
// token that never ends and a session may.
func TestGrantLasting(t *testing.T) {
	end := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, p := range []Principal{
		{Role: RoleTenantAdmin, Tenant: "council-a"},
		{Role: RoleProviderAdmin},
		{Role: RoleTenantAdmin, Tenant: "council-a", User: "ann", TokenID: "user:ann"},
	} {
		if err := p.GrantLasting("create a user"); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
	for _, p := range []Principal{{Role: RoleTenantAdmin, Tenant: "council-a", Expires: end}, {Role: RoleProviderAdmin, Expires: end}} {
		err := p.GrantLasting("create a user")
		if !errors.Is(err, ErrOutlives) || !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "2026-03-01T10:00:00Z") || !strings.Contains(err.Error(), "create a user") {
			t.Errorf("%+v: %v; want ErrOutlives naming the end and the act", p, err)
		}
	}
}

// tokenStore answers one token.
type tokenStore struct{ tok Token }

func (s tokenStore) TokenByHash(_ context.Context, h []byte) (Token, error) {
	if string(h) != string(s.tok.Hash) {
		return Token{}, ErrNotFound
	}
	return s.tok, nil
}

// TestAuthenticateActsForItsUser: a token's principal carries the user it
// acts for (what it creates acts for that user too); a token whose user
// revoked it is refused.
func TestAuthenticateActsForItsUser(t *testing.T) {
	ctx := context.Background()
	st := tokenStore{Token{ID: "T1", Role: RoleTenantAdmin, Tenant: "council-a", Hash: Hash("s"), User: 7, UserEpoch: 2}}
	p, err := Authenticate(ctx, st, "s")
	if err != nil || p.UserID != 7 || p.UserEpoch != 2 {
		t.Fatalf("principal %+v, %v; want user 7 at epoch 2", p, err)
	}
	st.tok.UserRevoked = true
	if _, err := Authenticate(ctx, st, "s"); !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("token revoked with its user: %v; want ErrUnauthenticated", err)
	}
}

func TestUserNameKey(t *testing.T) {
	for _, name := range []string{"Alice.Jones@Council", "alice.jones@council", "ALICE.JONES@COUNCIL"} {
		if got := UserNameKey(name); got != "alice.jones@council" {
			t.Errorf("UserNameKey(%q) = %q", name, got)
		}
	}
}
