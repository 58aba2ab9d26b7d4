package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// TokenLister is what the Users store also offers when it can list API
// tokens (the SQLite store does); without it GET /api/v1/tokens answers
// 404.
type TokenLister interface {
	// Tokens lists tenant t's tokens ("": the provider's), or every token
	// when all is set, without their hashes.
	Tokens(ctx context.Context, t tenant.ID, all bool) ([]auth.Token, error)
}

// tokenJSON is a token as the list shows it: never its secret or hash.
type tokenJSON struct {
	ID      string     `json:"id"`
	Tenant  string     `json:"tenant,omitempty"`
	Role    string     `json:"role"`
	Name    string     `json:"name"`
	Created time.Time  `json:"created"`
	Expires *time.Time `json:"expires,omitempty"`
}

// getTokens lists the API tokens the caller could revoke: for a
// provider-admin every token (tenant= names one tenant, * the provider's
// own), for a tenant-admin the ingest, analyst and viewer tokens of its
// tenant.
func (a *API) getTokens(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	lister, ok := a.d.Users.(TokenLister)
	if a.d.Users == nil || !ok {
		return &apiError{http.StatusNotFound, "not_found", "this server cannot list tokens"}
	}
	requested := r.URL.Query().Get("tenant")
	var t tenant.ID
	all := false
	switch p.Role {
	case auth.RoleProviderAdmin:
		switch requested {
		case "":
			all = true
		case auth.AllTenants:
		default:
			id, err := tenant.Parse(requested)
			if err != nil {
				return err
			}
			t = id
		}
	case auth.RoleTenantAdmin:
		if requested != "" && requested != string(p.Tenant) {
			return fmt.Errorf("%w: a tenant-admin lists the tokens of tenant %s only", auth.ErrForbidden, p.Tenant)
		}
		t = p.Tenant
	default:
		return fmt.Errorf("%w: listing tokens is for provider-admin and tenant-admin", auth.ErrForbidden)
	}
	toks, err := lister.Tokens(r.Context(), t, all)
	if err != nil {
		return err
	}
	if err := a.auditProviderRead(r, p, "tokens.read", t); err != nil {
		return err
	}
	out := make([]tokenJSON, 0, len(toks))
	for _, tok := range toks {
		if !p.CanCreateToken(tok) {
			continue
		}
		j := tokenJSON{ID: tok.ID, Tenant: string(tok.Tenant), Role: string(tok.Role), Name: tok.Name, Created: tok.Created}
		if !tok.Expires.IsZero() {
			e := tok.Expires
			j.Expires = &e
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
	return nil
}
