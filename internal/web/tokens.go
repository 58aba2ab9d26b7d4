package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
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
	// User is the user the token acts for (it was made from the user's
	// session, or by a token acting for it): the token is revoked when
	// the user is disabled or reset.
	User string `json:"user,omitempty"`
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
		j := tokenJSON{ID: tok.ID, Tenant: string(tok.Tenant), Role: string(tok.Role), Name: tok.Name, Created: tok.Created, User: tok.UserName}
		if !tok.Expires.IsZero() {
			e := tok.Expires
			j.Expires = &e
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
	return nil
}

// postToken creates a token. It acts for the caller's user (the session's,
// or the one the calling token acts for): it is revoked with that user's
// access (disable, reset). A token that ends creates none that outlives
// it (auth.Principal.TokenExpiry).
func (a *API) postToken(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req struct {
		Tenant string `json:"tenant"`
		Role   string `json:"role"`
		Name   string `json:"name"`
		// Expires ends the token (RFC 3339; omitted: never).
		Expires time.Time `json:"expires"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	role, err := auth.ParseRole(req.Role)
	if err != nil {
		return badRequest(err.Error())
	}
	var tid tenant.ID
	switch {
	case req.Tenant != "":
		if tid, err = tenant.Parse(req.Tenant); err != nil {
			return err
		}
	case p.Role == auth.RoleTenantAdmin && !role.Provider():
		tid = p.Tenant // a member's admin makes its own member's tokens, as its users
	}
	secret, id, hash := auth.NewSecret()
	tok := auth.Token{ID: id, Tenant: tid, Role: role, Name: req.Name, Hash: hash, Created: time.Now().UTC(), Expires: req.Expires.UTC(),
		User: p.UserID, UserEpoch: p.UserEpoch}
	if !req.Expires.IsZero() && !req.Expires.After(tok.Created) {
		return badRequest("expires: must be in the future")
	}
	if err := tok.Validate(); err != nil {
		return badRequest(err.Error())
	}
	if !p.CanCreateToken(tok) {
		return fmt.Errorf("%w: role %s may not create a token of role %s for this scope", auth.ErrForbidden, p.Role, role)
	}
	// An expiring token's rights end when it does: it cannot leave
	// behind a token that outlives it.
	if tok.Expires, err = p.TokenExpiry(tok.Expires); err != nil {
		return outlives(err)
	}
	if tid != "" {
		if _, err := a.d.Tenants.Tenant(r.Context(), tid); err != nil {
			return err
		}
	}
	if err := a.d.Tokens.CreateToken(r.Context(), tok); err != nil {
		return err
	}
	scope := string(tid)
	if scope == "" {
		scope = auth.AllTenants
	}
	detail := fmt.Sprintf("id=%s role=%s name=%q", id, role, req.Name)
	if !tok.Expires.IsZero() {
		detail += " expires=" + tok.Expires.Format(time.RFC3339)
	}
	if err := a.audit(r.Context(), p, "token.create", scope, detail); err != nil {
		return err
	}
	out := map[string]string{"id": id, "token": secret, "tenant": string(tid), "role": string(role), "name": req.Name}
	if !tok.Expires.IsZero() {
		out["expires"] = tok.Expires.Format(time.RFC3339)
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// outlives answers an auth.ErrOutlives (an expiring credential asking for
// what would outlive it) with its own code, 403 expiring_credential;
// other errors pass as they are.
func outlives(err error) error {
	if !errors.Is(err, auth.ErrOutlives) {
		return err
	}
	return &apiError{http.StatusForbidden, "expiring_credential", strings.TrimPrefix(err.Error(), auth.ErrOutlives.Error()+": ")}
}

// revokeUserTokens finishes the revocation of the tokens that acted for
// user u (SetUserDisabled, ResetUser revoked them in the store): the
// cache forgets them at once, and each revocation is audited in its
// token's tenant's chain, naming why.
func (a *API) revokeUserTokens(r *http.Request, p auth.Principal, u auth.User, why string, toks []auth.Token) error {
	a.acct.cache.dropUser(u.ID)
	for _, tok := range toks {
		scope := string(tok.Tenant)
		if scope == "" {
			scope = auth.AllTenants
		}
		detail := fmt.Sprintf("id=%s role=%s reason=%q user=%s", tok.ID, tok.Role, why, u.Name)
		if err := a.audit(r.Context(), p, "token.revoke", scope, detail); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}
	return nil
}
