package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/taxii"
)

// registerTAXII mounts the TAXII 2.1 server under /taxii2/ (nil
// Deps.TAXII: every TAXII path answers 404). TAXII clients authenticate
// with a Tarian token as a bearer token or as the password of HTTP Basic
// (any user name); people with their session cookie. Errors are TAXII's
// error messages, not the API's.
func (a *API) registerTAXII() {
	// TAXII authenticates as the rest of the API does (and with a token as
	// the HTTP Basic password, as TAXII clients send it) and answers in
	// TAXII's own error bodies; its routes declare their roles all the same.
	for _, rt := range taxii.Routes() {
		who := readers
		if !strings.HasPrefix(rt.Pattern, http.MethodGet+" ") {
			who = responders
		}
		a.access[rt.Pattern] = who
		a.handle(rt.Pattern, a.taxiiAuthed(rt.Pattern, who, rt.Serve))
	}
	a.public("/taxii2/", func(w http.ResponseWriter, r *http.Request) {
		taxii.WriteError(w, http.StatusNotFound, "not_found", "no TAXII endpoint "+r.Method+" "+r.URL.Path+" (start at GET /taxii2/)")
	})
}

func (a *API) taxiiAuthed(pattern string, who roles, h func(s *taxii.Server, w http.ResponseWriter, r *http.Request, c taxii.Caller)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.d.TAXII == nil {
			taxii.WriteError(w, http.StatusNotFound, "not_found", "this server has no TAXII service")
			return
		}
		p, err := a.taxiiPrincipal(r)
		if err != nil {
			status, code := errorStatus(err)
			msg := err.Error()
			if status >= 500 {
				if !errors.Is(err, context.Canceled) {
					a.d.Log.Error("taxii authentication failed", "path", r.URL.Path, "err", err)
				}
				msg = "the server could not check the credentials; it is logged"
			}
			taxii.WriteError(w, status, code, msg)
			return
		}
		if !slices.Contains(who, p.Role) {
			taxii.WriteError(w, http.StatusForbidden, "forbidden", "role "+string(p.Role)+" may not call "+pattern)
			return
		}
		var c taxii.Caller
		switch p.Role {
		case auth.RoleProviderAdmin, auth.RoleProviderAnalyst:
			c = taxii.Caller{Provider: true, Write: true}
		case auth.RoleTenantAdmin, auth.RoleTenantAnalyst:
			c = taxii.Caller{Tenant: p.Tenant, Write: true}
		case auth.RoleTenantViewer:
			c = taxii.Caller{Tenant: p.Tenant}
		default:
			taxii.WriteError(w, http.StatusForbidden, "forbidden", "role "+string(p.Role)+" may not use TAXII")
			return
		}
		c.Name = p.TokenID
		if a.d.Audit != nil {
			c.Audit = func(ctx context.Context, action, scope, detail string) error {
				return a.audit(ctx, p, action, scope, detail)
			}
		}
		h(a.d.TAXII, w, r, c)
	}
}

// taxiiPrincipal authenticates a bearer token, a token as the password of
// HTTP Basic, or a session cookie.
func (a *API) taxiiPrincipal(r *http.Request) (auth.Principal, error) {
	if secret, ok := bearer(r); ok {
		return a.acct.cache.token(r.Context(), a.d.Tokens, secret)
	}
	if _, secret, ok := r.BasicAuth(); ok {
		if secret = strings.TrimSpace(secret); secret == "" {
			return auth.Principal{}, errors.Join(auth.ErrUnauthenticated, errors.New("HTTP Basic needs a Tarian token as the password"))
		}
		return a.acct.cache.token(r.Context(), a.d.Tokens, secret)
	}
	if c, err := r.Cookie(auth.SessionCookie); err == nil && a.d.Users != nil {
		return a.sessionFromCookie(r, c)
	}
	return auth.Principal{}, errors.Join(auth.ErrUnauthenticated, errors.New("send a Tarian token: Authorization: Bearer <token>, or HTTP Basic with the token as the password"))
}
