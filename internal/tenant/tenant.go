// Package tenant defines the identity of a member body (a tenant) and the
// rules its identifier follows. Every store, bus and log store method takes a
// tenant.ID explicitly, so a forgotten scope is a compile error, not a leak.
package tenant

import (
	"errors"
	"fmt"
	"time"
)

// ID identifies a tenant: 2-32 characters of lower-case letters, digits and
// '-', starting with a letter or digit.
type ID string

// ErrInvalidID is returned by Parse for an identifier that breaks the rules.
var ErrInvalidID = errors.New("invalid tenant id")

// Parse checks s and returns it as an ID.
func Parse(s string) (ID, error) {
	if len(s) < 2 || len(s) > 32 {
		return "", fmt.Errorf("%w %q: must be 2-32 characters", ErrInvalidID, s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && i > 0:
		default:
			return "", fmt.Errorf("%w %q: only lower-case letters, digits and '-' (not first) are allowed", ErrInvalidID, s)
		}
	}
	return ID(s), nil
}

// Tenant is a member body as the state store keeps it.
type Tenant struct {
	ID   ID
	Name string
	// Number is the tenant's small integer key, assigned once and never
	// reused; event stores that key tenants by number (VictoriaLogs'
	// AccountID) use it.
	Number  uint32
	Created time.Time
}

// Errors of tenant stores.
var (
	ErrNotFound = errors.New("tenant not found")
	ErrExists   = errors.New("tenant already exists")
)
