// Package auth holds roles, API tokens and the rules of who may do what.
//
// Tokens are 256 random bits, shown once and stored as their SHA-256 hash: a
// fast hash is right for secrets with that much entropy (as for GitHub's
// tokens); slow password hashing is for low-entropy secrets.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// Role is what a token or user may do.
type Role string

// The roles, from DESIGN.md.
const (
	RoleProviderAdmin   Role = "provider-admin"
	RoleProviderAnalyst Role = "provider-analyst"
	RoleTenantAdmin     Role = "tenant-admin"
	RoleTenantAnalyst   Role = "tenant-analyst"
	RoleTenantViewer    Role = "tenant-viewer"
	RoleIngest          Role = "ingest"
)

var roles = []Role{RoleProviderAdmin, RoleProviderAnalyst, RoleTenantAdmin, RoleTenantAnalyst, RoleTenantViewer, RoleIngest}

// ParseRole checks s names a role.
func ParseRole(s string) (Role, error) {
	for _, r := range roles {
		if string(r) == s {
			return r, nil
		}
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return "", fmt.Errorf("unknown role %q: want one of %s", s, strings.Join(names, ", "))
}

// Provider reports whether the role belongs to the provider (no tenant).
func (r Role) Provider() bool { return r == RoleProviderAdmin || r == RoleProviderAnalyst }

// Errors of authentication and authorisation.
var (
	ErrUnauthenticated = errors.New("unauthenticated")
	ErrForbidden       = errors.New("forbidden")
	ErrNotFound        = errors.New("token not found")
	// ErrUnavailable is a credential that could not be checked: the
	// state store did not answer (a 503: try again).
	ErrUnavailable = errors.New("cannot check credentials now: the state store is unavailable")
)

// Token is a stored API token. Its secret is never stored, only Hash.
type Token struct {
	ID string
	// Tenant is empty for provider roles.
	Tenant  tenant.ID
	Role    Role
	Name    string
	Hash    []byte
	Created time.Time
	// Expires ends the token (zero: never).
	Expires time.Time
	// User is the ID of the user the token acts for (0: none, as for the
	// bootstrap token): the user whose session created it, or the user of
	// the token that created it. The token works only while that user is
	// enabled and its credentials are those of UserEpoch (User.Epoch when
	// the token was made): disabling or resetting the user revokes it.
	User      int64
	UserEpoch int64
	// UserName is the name of User, filled by listings (TokenByID, Tokens).
	UserName string
	// UserRevoked is set by a look-up (TokenByHash) when the token's user
	// no longer vouches for it: deleted, disabled, or reset since the
	// token was made.
	UserRevoked bool
}

// Validate checks the role and tenant fit together.
func (t Token) Validate() error {
	if _, err := ParseRole(string(t.Role)); err != nil {
		return err
	}
	if t.Role.Provider() && t.Tenant != "" {
		return fmt.Errorf("role %s is provider-wide and takes no tenant", t.Role)
	}
	if !t.Role.Provider() && t.Tenant == "" {
		return fmt.Errorf("role %s needs a tenant", t.Role)
	}
	return nil
}

const secretPrefix = "trn_"

// NewSecret returns a new random token secret and the ID and hash to store.
func NewSecret() (secret, id string, hash []byte) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	secret = secretPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	hash = Hash(secret)
	return secret, base64.RawURLEncoding.EncodeToString(hash[:9]), hash
}

// Hash returns the stored form of a secret.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Store is what auth needs from the state store.
type Store interface {
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
}

// Principal is an authenticated caller: a token, or a user's session.
type Principal struct {
	// TokenID is the token's ID, or "user:NAME" for a session, so audit
	// records and authorship name the person.
	TokenID string
	Role    Role
	Tenant  tenant.ID
	// User is the user's name for a session ("" for a token).
	User string
	// Expires is when the token ends (zero: never, and for sessions).
	Expires time.Time
	// UserID and UserEpoch are the user a session is of, or a token acts
	// for (Token.User, Token.UserEpoch; 0: none): a token this principal
	// creates acts for the same user, and dies with that user's access.
	UserID    int64
	UserEpoch int64
}

// Authenticate resolves a bearer secret to its principal.
func Authenticate(ctx context.Context, s Store, secret string) (Principal, error) {
	if secret == "" {
		return Principal{}, fmt.Errorf("%w: no token", ErrUnauthenticated)
	}
	tok, err := s.TokenByHash(ctx, Hash(secret))
	if errors.Is(err, ErrNotFound) {
		return Principal{}, fmt.Errorf("%w: unknown token", ErrUnauthenticated)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("%w: look up token: %w", ErrUnavailable, err)
	}
	if !tok.Expires.IsZero() && !time.Now().Before(tok.Expires) {
		return Principal{}, fmt.Errorf("%w: token expired", ErrUnauthenticated)
	}
	if tok.UserRevoked {
		return Principal{}, fmt.Errorf("%w: token revoked: the user it was made by was disabled, reset or removed", ErrUnauthenticated)
	}
	return Principal{TokenID: tok.ID, Role: tok.Role, Tenant: tok.Tenant, Expires: tok.Expires, UserID: tok.User, UserEpoch: tok.UserEpoch}, nil
}

// AllTenants is the scope word a provider role uses for every tenant.
const AllTenants = "*"

// ReadScope returns the tenants p may read when asking for requested ("" =
// its own, "*" = all, else one tenant ID). all is true for the "*" scope;
// then the caller lists the tenants itself. Tenant roles may only name their
// own tenant; ingest tokens read nothing.
func (p Principal) ReadScope(requested string) (t tenant.ID, all bool, err error) {
	switch p.Role {
	case RoleProviderAdmin, RoleProviderAnalyst:
		switch requested {
		case "":
			return "", false, fmt.Errorf("%w: a provider token must name a tenant (or %q)", ErrForbidden, AllTenants)
		case AllTenants:
			return "", true, nil
		}
		id, err := tenant.Parse(requested)
		if err != nil {
			return "", false, err
		}
		return id, false, nil
	case RoleTenantAdmin, RoleTenantAnalyst, RoleTenantViewer:
		if requested != "" && requested != string(p.Tenant) {
			return "", false, fmt.Errorf("%w: this token may read tenant %s only", ErrForbidden, p.Tenant)
		}
		return p.Tenant, false, nil
	}
	return "", false, fmt.Errorf("%w: role %s may not read", ErrForbidden, p.Role)
}

// CanCreateToken reports whether p may create tok: provider admins any,
// tenant admins non-admin tokens of their own tenant.
func (p Principal) CanCreateToken(tok Token) bool {
	switch p.Role {
	case RoleProviderAdmin:
		return true
	case RoleTenantAdmin:
		return tok.Tenant == p.Tenant && (tok.Role == RoleIngest || tok.Role == RoleTenantAnalyst || tok.Role == RoleTenantViewer)
	}
	return false
}

// ErrOutlives is a credential that ends (a token with an expiry) asking
// for what would outlive it. It is a kind of ErrForbidden.
var ErrOutlives = fmt.Errorf("%w: an expiring credential may not grant what outlives it", ErrForbidden)

// TokenExpiry returns the expiry of a token p creates when requested is
// asked (zero: none asked). A token that ends gives no rights past its
// end: what it creates ends with it at the latest (nothing asked: it ends
// then too), and asking for later is ErrOutlives. A token that never
// ends, and a session, give requested as it is.
func (p Principal) TokenExpiry(requested time.Time) (time.Time, error) {
	switch {
	case p.Expires.IsZero():
		return requested, nil
	case requested.IsZero():
		return p.Expires, nil
	case requested.After(p.Expires):
		return time.Time{}, fmt.Errorf("%w: this token ends at %s and may not create a token that outlives it; ask for an expiry no later, or none (it then ends with this one)",
			ErrOutlives, p.Expires.UTC().Format(time.RFC3339))
	}
	return requested, nil
}

// GrantLasting checks p may do what (creating a user, resetting or
// enabling one) that gives access with no end. A token that ends may
// not: users and passwords do not end, so it would leave access behind
// (ErrOutlives). A token that never ends, and a session, may.
func (p Principal) GrantLasting(what string) error {
	if p.Expires.IsZero() {
		return nil
	}
	return fmt.Errorf("%w: this token ends at %s and may not %s: a user's access has no end; do it from a session (tarian login) or with a token that does not expire",
		ErrOutlives, p.Expires.UTC().Format(time.RFC3339), what)
}

// CanIngest reports whether p may write events, and for which tenant.
func (p Principal) CanIngest() bool { return p.Role == RoleIngest }

// CanAdminister reports whether p may see admin data (dead letters) of t.
func (p Principal) CanAdminister(t tenant.ID) bool {
	return p.Role == RoleProviderAdmin || (p.Role == RoleTenantAdmin && p.Tenant == t)
}
