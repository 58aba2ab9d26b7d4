package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// User is a person's local account. It belongs to the provider (Tenant
// empty, a provider role) or to one member body, and holds one role; ingest
// is for machines and is not a user role.
type User struct {
	ID     int64
	Name   string
	Tenant tenant.ID
	Role   Role
	Email  string
	// PasswordHash is a PHC-encoded argon2id hash.
	PasswordHash string
	Disabled     bool
	// RequireMFA forces TOTP on this user whatever the policy says.
	RequireMFA bool
	// TOTPSecret is set once MFA is enrolled; TOTPLastStep is the last
	// step whose code was accepted (a code is never accepted twice).
	TOTPSecret   []byte
	TOTPLastStep int64
	Created      time.Time
	// Epoch counts the revocations of the user's credentials (each
	// disable and reset): a token made for it at an earlier epoch no
	// longer works (Token.UserEpoch).
	Epoch int64
}

// Errors of accounts.
var (
	ErrUserNotFound = errors.New("user not found")
	ErrUserExists   = errors.New("user exists")
	ErrSessionGone  = errors.New("session not found or expired")
)

// Validate checks the name, role and tenant fit together.
func (u User) Validate() error {
	if err := ValidUserName(u.Name); err != nil {
		return err
	}
	if u.Role == RoleIngest {
		return fmt.Errorf("role %s is for tokens, not users", u.Role)
	}
	return Token{Role: u.Role, Tenant: u.Tenant}.Validate()
}

// UserNameKey is the form of a user name that is unique and that logins
// match: names differ by more than letter case ("Alice" and "alice" are
// one name). Names are ASCII (ValidUserName), so this is ASCII lower case,
// as SQL's lower() on both engines.
func UserNameKey(name string) string { return strings.ToLower(name) }

// ValidUserName checks a user name: 1–64 characters of letters, digits and
// . _ @ -, starting with a letter or digit.
func ValidUserName(s string) error {
	if len(s) == 0 || len(s) > 64 {
		return errors.New("user name: 1 to 64 characters")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || i > 0 && (c == '.' || c == '_' || c == '@' || c == '-')
		if !ok {
			return fmt.Errorf("user name %q: letters, digits and . _ @ - only, starting with a letter or digit", s)
		}
	}
	return nil
}

// CanManageUser reports whether p may create, list, disable or reset u:
// provider admins anyone; tenant admins the users of their own tenant,
// never a provider role.
func (p Principal) CanManageUser(u User) bool {
	switch p.Role {
	case RoleProviderAdmin:
		return true
	case RoleTenantAdmin:
		return u.Tenant == p.Tenant && !u.Role.Provider()
	}
	return false
}

// Session is a logged-in user's server-side session. The cookie carries
// the ID; only its hash is stored.
type Session struct {
	Hash     []byte
	UserID   int64
	CSRF     string
	Created  time.Time
	LastSeen time.Time
	// MFAPending marks a session whose user must enrol TOTP before it may
	// do anything else.
	MFAPending bool
}

// SessionCookie is the name of the session cookie.
const SessionCookie = "tarian_session"

// NewSessionID returns a new random 256-bit session ID (unpadded
// base64url, 43 characters) and its stored hash.
func NewSessionID() (id string, hash []byte) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	id = base64.RawURLEncoding.EncodeToString(b[:])
	return id, Hash(id)
}

// NewCSRFToken returns a random token for a session's writes.
func NewCSRFToken() string {
	id, _ := NewSessionID()
	return id
}

// ParseSessionID checks a cookie value has the shape of a session ID.
func ParseSessionID(s string) (string, bool) {
	if len(s) != 43 {
		return "", false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != 32 {
		return "", false
	}
	return s, true
}

// EqualCSRF compares a CSRF header with the session's token in constant
// time.
func EqualCSRF(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
