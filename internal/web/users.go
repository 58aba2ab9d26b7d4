package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// userJSON is a user as the API shows it: never its hash or secrets.
type userJSON struct {
	Name        string    `json:"name"`
	Tenant      string    `json:"tenant,omitempty"`
	Role        string    `json:"role"`
	Email       string    `json:"email,omitempty"`
	Disabled    bool      `json:"disabled"`
	RequireMFA  bool      `json:"require_mfa"`
	MFAEnrolled bool      `json:"mfa_enrolled"`
	Created     time.Time `json:"created"`
	// Password is a generated one-time password, in the answer that
	// created it only.
	Password string `json:"password,omitempty"`
	// TokensRevoked are the IDs of the tokens that acted for the user and
	// were revoked with its access (in the answer to disable and reset).
	TokensRevoked []string `json:"tokens_revoked,omitempty"`
}

func toUserJSON(u auth.User) userJSON {
	return userJSON{Name: u.Name, Tenant: string(u.Tenant), Role: string(u.Role), Email: u.Email, Disabled: u.Disabled,
		RequireMFA: u.RequireMFA, MFAEnrolled: u.TOTPSecret != nil, Created: u.Created}
}

// minPasswordLen is the shortest password an admin may set.
const minPasswordLen = 12

func (a *API) registerUsers() {
	a.route("GET /api/v1/users", admins, a.getUsers)
	a.route("POST /api/v1/users", admins, a.postUser)
	a.route("POST /api/v1/users/{name}/{verb}", admins, a.postUserAction)
	a.route("DELETE /api/v1/users/{name}", admins, a.deleteUser)
	a.route("DELETE /api/v1/tokens/{id}", anyRole, a.deleteToken)
}

// deleteToken revokes a token: provider-admin any, a tenant-admin the
// tokens of its tenant it could have created. Another's token answers 404,
// as one that does not exist.
func (a *API) deleteToken(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	tok, err := a.d.Users.TokenByID(r.Context(), r.PathValue("id"))
	if errors.Is(err, auth.ErrNotFound) || err == nil && !p.CanCreateToken(tok) {
		return &apiError{http.StatusNotFound, "token_not_found", "no such token"}
	}
	if err != nil {
		return err
	}
	if err := a.d.Users.RevokeToken(r.Context(), tok.Tenant, tok.ID); err != nil {
		return err
	}
	a.acct.cache.dropTokens()
	scope := string(tok.Tenant)
	if scope == "" {
		scope = auth.AllTenants
	}
	if err := a.audit(r.Context(), p, "token.revoke", scope, fmt.Sprintf("id=%s role=%s", tok.ID, tok.Role)); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

var errNoUser = &apiError{http.StatusNotFound, "user_not_found", "no such user"}

func (a *API) getUsers(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	requested := r.URL.Query().Get("tenant")
	var t tenant.ID
	all := false
	switch p.Role {
	case auth.RoleProviderAdmin:
		switch requested {
		case "", auth.AllTenants:
			all = true
		default:
			id, err := tenant.Parse(requested)
			if err != nil {
				return err
			}
			t = id
		}
	case auth.RoleTenantAdmin:
		if requested != "" && requested != string(p.Tenant) {
			return fmt.Errorf("%w: a tenant-admin manages the users of tenant %s only", auth.ErrForbidden, p.Tenant)
		}
		t = p.Tenant
	default:
		return fmt.Errorf("%w: managing users is for provider-admin and tenant-admin", auth.ErrForbidden)
	}
	us, err := a.d.Users.Users(r.Context(), t, all)
	if err != nil {
		return err
	}
	if err := a.auditProviderRead(r, p, "users.read", t); err != nil {
		return err
	}
	out := make([]userJSON, 0, len(us))
	for _, u := range us {
		out = append(out, toUserJSON(u))
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
	return nil
}

type userRequest struct {
	Name       string `json:"name"`
	Tenant     string `json:"tenant"`
	Role       string `json:"role"`
	Email      string `json:"email"`
	Password   string `json:"password"`
	RequireMFA bool   `json:"require_mfa"`
}

func (a *API) postUser(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req userRequest
	// A misspelt field is refused, not ignored: {"requireMFA":true} would
	// otherwise make a user who logs in without a second factor.
	dec := json.NewDecoder(io.LimitReader(r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return badRequest("body: " + err.Error())
	}
	role, err := auth.ParseRole(req.Role)
	if err != nil {
		return badRequest(err.Error())
	}
	u := auth.User{Name: req.Name, Role: role, Email: req.Email, RequireMFA: req.RequireMFA}
	if req.Tenant != "" {
		if u.Tenant, err = tenant.Parse(req.Tenant); err != nil {
			return err
		}
	} else if p.Role == auth.RoleTenantAdmin && !role.Provider() {
		u.Tenant = p.Tenant
	}
	if err := u.Validate(); err != nil {
		return badRequest(err.Error())
	}
	if !p.CanManageUser(u) {
		if u.Tenant == "" {
			return fmt.Errorf("%w: role %s may not create a %s user (a provider role)", auth.ErrForbidden, p.Role, u.Role)
		}
		return fmt.Errorf("%w: role %s may not create a %s user of %s", auth.ErrForbidden, p.Role, u.Role, u.Tenant)
	}
	// A user has no end: a credential that ends may not make one.
	if err := p.GrantLasting("create a user"); err != nil {
		return outlives(err)
	}
	pw, generated := req.Password, false
	if pw == "" {
		pw, generated = auth.NewPassword(), true
	} else if len(pw) < minPasswordLen {
		return badRequest(fmt.Sprintf("password: at least %d characters", minPasswordLen))
	}
	u.PasswordHash = a.hashPassword(pw)
	u, err = a.d.Users.CreateUser(r.Context(), u)
	if errors.Is(err, auth.ErrUserExists) {
		return &apiError{http.StatusConflict, "user_exists", "a user called " + req.Name + " exists"}
	}
	if err != nil {
		return err
	}
	if err := a.auditUser(r, p, "user.create", u); err != nil {
		return err
	}
	out := toUserJSON(u)
	if generated {
		out.Password = pw
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// hashPassword hashes under the same bound as logins.
func (a *API) hashPassword(pw string) string {
	a.acct.hash <- struct{}{}
	defer func() { <-a.acct.hash }()
	return auth.HashPassword(pw, auth.DefaultPasswordParams())
}

func (a *API) auditUser(r *http.Request, p auth.Principal, action string, u auth.User, revoked ...auth.Token) error {
	d := map[string]any{"user": u.Name, "role": string(u.Role), "tenant": string(u.Tenant)}
	if action == "user.create" {
		// Whether the new user must use MFA is part of what was decided.
		d["require_mfa"] = u.RequireMFA
	}
	if len(revoked) > 0 {
		d["tokens_revoked"] = tokenIDs(revoked)
	}
	detail, _ := json.Marshal(d)
	if err := a.audit(r.Context(), p, action, string(u.Tenant), string(detail)); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// postUserAction disables, enables or resets a user. A user the caller may
// not manage answers 404, as one that does not exist. Disabling and
// resetting revoke the user's sessions and the tokens that act for it;
// resetting and enabling give access with no end, which a credential that
// ends may not (403 expiring_credential).
func (a *API) postUserAction(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	u, err := a.d.Users.UserByName(r.Context(), r.PathValue("name"))
	if errors.Is(err, auth.ErrUserNotFound) || err == nil && !p.CanManageUser(u) {
		return errNoUser
	}
	if err != nil {
		return err
	}
	ctx := r.Context()
	switch verb := r.PathValue("verb"); verb {
	case "disable", "enable":
		if verb == "enable" {
			if err := p.GrantLasting("enable a user"); err != nil {
				return outlives(err)
			}
		}
		revoked, err := a.d.Users.SetUserDisabled(ctx, u.Tenant, u.Name, verb == "disable")
		if err != nil {
			return err
		}
		u.Disabled = verb == "disable"
		if err := a.revokeUserTokens(r, p, u, "user "+verb+"d", revoked); err != nil {
			return err
		}
		if err := a.auditUser(r, p, "user."+verb, u, revoked...); err != nil {
			return err
		}
		out := toUserJSON(u)
		out.TokensRevoked = tokenIDs(revoked)
		writeJSON(w, http.StatusOK, out)
	case "reset":
		// The new password is the caller's to hand on: access with no end.
		if err := p.GrantLasting("reset a user's password"); err != nil {
			return outlives(err)
		}
		pw := auth.NewPassword()
		revoked, err := a.d.Users.ResetUser(ctx, u.Tenant, u.Name, a.hashPassword(pw))
		if err != nil {
			return err
		}
		u.TOTPSecret = nil
		if err := a.revokeUserTokens(r, p, u, "user reset", revoked); err != nil {
			return err
		}
		if err := a.auditUser(r, p, "user.reset", u, revoked...); err != nil {
			return err
		}
		out := toUserJSON(u)
		out.Password = pw
		out.TokensRevoked = tokenIDs(revoked)
		writeJSON(w, http.StatusOK, out)
	default:
		return &apiError{http.StatusNotFound, "not_found", "no user action " + verb + "; want disable, enable or reset"}
	}
	return nil
}

// deleteUser removes a user (a leaver): its sessions end, the tokens that
// act for it are revoked, its name is free again. A user the caller may
// not manage answers 404, as one that does not exist; a person deleting
// their own user is refused (409 user_is_caller).
func (a *API) deleteUser(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	u, err := a.d.Users.UserByName(r.Context(), r.PathValue("name"))
	if errors.Is(err, auth.ErrUserNotFound) || err == nil && !p.CanManageUser(u) {
		return errNoUser
	}
	if err != nil {
		return err
	}
	if p.UserID == u.ID {
		return &apiError{http.StatusConflict, "user_is_caller", "a user cannot delete itself; another admin can"}
	}
	revoked, err := a.d.Users.DeleteUser(r.Context(), u.Tenant, u.Name)
	if errors.Is(err, auth.ErrUserNotFound) {
		return errNoUser
	}
	if err != nil {
		return err
	}
	if err := a.revokeUserTokens(r, p, u, "user deleted", revoked); err != nil {
		return err
	}
	if err := a.auditUser(r, p, "user.delete", u, revoked...); err != nil {
		return err
	}
	out := toUserJSON(u)
	out.TokensRevoked = tokenIDs(revoked)
	writeJSON(w, http.StatusOK, out)
	return nil
}

func tokenIDs(toks []auth.Token) []string {
	var ids []string
	for _, t := range toks {
		ids = append(ids, t.ID)
	}
	return ids
}
