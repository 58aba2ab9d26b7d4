package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// OIDCProvider is an OpenID Connect identity provider people may sign in
// with (api.oidc, a list). It is bound either to the provider's staff
// (Provider: provider roles only, no tenant) or to member tenants (Tenants:
// tenant roles of those tenants only); no claim can take a user outside
// that binding.
type OIDCProvider struct {
	// Name is the provider's name in URLs (/auth/oidc/NAME/login) and in
	// the audit trail: lowercase letters, digits and '-'.
	Name string `yaml:"name"`
	// DisplayName labels the console's button (default: Name).
	DisplayName string `yaml:"display_name"`
	// Issuer is the issuer URL; its discovery document is read at the
	// first login. https, or http on a loopback address.
	Issuer   string `yaml:"issuer"`
	ClientID string `yaml:"client_id"`
	// ClientSecret, or ClientSecretFile (re-read at every login, so a
	// rotated secret needs no restart): exactly one.
	ClientSecret     string `yaml:"client_secret"`
	ClientSecretFile string `yaml:"client_secret_file"`
	// RedirectURL is this server's callback as registered at the identity
	// provider: an absolute URL ending in /auth/oidc/NAME/callback.
	RedirectURL string `yaml:"redirect_url"`
	// Scopes asked for (default openid, profile, email; openid is always
	// asked).
	Scopes []string `yaml:"scopes"`
	// Provider: the identity provider signs in the provider's staff.
	Provider bool `yaml:"provider"`
	// Tenants are the member tenants it may sign users into.
	Tenants []string `yaml:"tenants"`
	// TenantClaim names the ID token claim that says the user's tenant
	// (e.g. Entra ID's "tid"), mapped through TenantMap when that is set
	// (claim value → tenant ID), taken as the tenant ID otherwise. The
	// result must be one of Tenants. Without it, Tenants holds one tenant
	// and every user is in it.
	TenantClaim string            `yaml:"tenant_claim"`
	TenantMap   map[string]string `yaml:"tenant_map"`
	// RoleClaim names the claim holding the user's groups or app roles (a
	// string or a list; default "groups"); RoleMap maps its values to
	// roles, and the most privileged role mapped wins.
	RoleClaim string            `yaml:"role_claim"`
	RoleMap   map[string]string `yaml:"role_map"`
	// DefaultRole is the role of a user none of whose values is mapped
	// (optional, never an admin role). Without it such a user is refused.
	DefaultRole string `yaml:"default_role"`
	// UsernameClaim names the claim that becomes the user name (default
	// preferred_username, then email), lowercased.
	UsernameClaim string `yaml:"username_claim"`
}

var oidcName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// validateOIDC checks every identity provider, naming the field at fault.
func validateOIDC(ps []OIDCProvider) error {
	seen := map[string]bool{}
	for i, p := range ps {
		if err := p.validate(); err != nil {
			return fmt.Errorf("oidc[%d] (%s).%w", i, p.Name, err)
		}
		if seen[p.Name] {
			return fmt.Errorf("oidc[%d].name: %q is used twice", i, p.Name)
		}
		seen[p.Name] = true
	}
	return nil
}

func (p OIDCProvider) validate() error {
	if !oidcName.MatchString(p.Name) {
		return fmt.Errorf("name: %q: 1 to 32 lowercase letters, digits and '-'", p.Name)
	}
	if err := checkURL(p.Issuer, true); err != nil {
		return fmt.Errorf("issuer: %w", err)
	}
	if p.ClientID == "" {
		return errors.New("client_id: must be set")
	}
	if (p.ClientSecret == "") == (p.ClientSecretFile == "") {
		return errors.New("client_secret, client_secret_file: set exactly one")
	}
	if p.ClientSecretFile != "" {
		if _, err := os.Stat(p.ClientSecretFile); err != nil {
			return fmt.Errorf("client_secret_file: %w", err)
		}
	}
	if err := checkURL(p.RedirectURL, false); err != nil {
		return fmt.Errorf("redirect_url: %w", err)
	}
	if u, _ := url.Parse(p.RedirectURL); !strings.HasSuffix(u.Path, "/auth/oidc/"+p.Name+"/callback") {
		return fmt.Errorf("redirect_url: %q must end in /auth/oidc/%s/callback", p.RedirectURL, p.Name)
	}
	switch {
	case p.Provider && len(p.Tenants) > 0:
		return errors.New("tenants: an identity provider with provider: true signs in provider staff only and takes no tenants")
	case p.Provider && p.TenantClaim != "":
		return errors.New("tenant_claim: an identity provider with provider: true takes no tenant")
	case !p.Provider && len(p.Tenants) == 0:
		return errors.New("tenants: name the member tenants it may sign users into, or set provider: true")
	case !p.Provider && p.TenantClaim == "" && len(p.Tenants) != 1:
		return errors.New("tenant_claim: needed when tenants names more than one tenant")
	case p.TenantClaim == "" && len(p.TenantMap) > 0:
		return errors.New("tenant_map: needs tenant_claim")
	}
	for _, t := range p.Tenants {
		if _, err := tenant.Parse(t); err != nil {
			return fmt.Errorf("tenants: %w", err)
		}
	}
	for k, t := range p.TenantMap {
		if !slices.Contains(p.Tenants, t) {
			return fmt.Errorf("tenant_map: %q maps to %q, which is not in tenants", k, t)
		}
	}
	if len(p.RoleMap) == 0 && p.DefaultRole == "" {
		return errors.New("role_map: map at least one group or role to a role (or set default_role)")
	}
	for k, r := range p.RoleMap {
		if err := p.allowedRole(r); err != nil {
			return fmt.Errorf("role_map: %q: %w", k, err)
		}
	}
	if p.DefaultRole != "" {
		if err := p.allowedRole(p.DefaultRole); err != nil {
			return fmt.Errorf("default_role: %w", err)
		}
		if r := auth.Role(p.DefaultRole); r == auth.RoleProviderAdmin || r == auth.RoleTenantAdmin {
			return fmt.Errorf("default_role: %s: an admin role comes from role_map only", r)
		}
	}
	return nil
}

// checkURL checks an absolute http(s) URL; an issuer must use https
// unless it is on a loopback address.
func checkURL(s string, issuer bool) error {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return errors.New("must be set")
	case err != nil:
		return err
	case u.Scheme != "https" && u.Scheme != "http" || u.Host == "":
		return fmt.Errorf("%q: want an absolute http(s) URL", s)
	case issuer && u.Scheme == "http" && !loopback(u.Hostname()):
		return fmt.Errorf("%q: an issuer must use https (http only on a loopback address)", s)
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// allowedRole reports whether a user of this identity provider may hold
// role s: provider roles for the provider's identity provider, tenant
// roles for a member's. This is the invariant that keeps a member's
// identity provider from ever minting a provider role; it is checked on
// the configuration and again at every login.
func (p OIDCProvider) allowedRole(s string) error {
	r, err := auth.ParseRole(s)
	switch {
	case err != nil:
		return err
	case r == auth.RoleIngest:
		return fmt.Errorf("role %s is for tokens, not users", r)
	case p.Provider && !r.Provider():
		return fmt.Errorf("role %s is a tenant role; this identity provider (provider: true) signs in provider staff only", r)
	case !p.Provider && r.Provider():
		return fmt.Errorf("role %s is a provider role; a member's identity provider gives tenant roles only", r)
	}
	return nil
}

// SSOUsers links the users an identity provider signed in to the subject
// it gave them. An identity signs in as its own user only, never as a
// local account or another provider's user of the same name.
type SSOUsers interface {
	// SSOUser returns the user linked to provider's subject
	// (auth.ErrUserNotFound: none).
	SSOUser(ctx context.Context, provider, subject string) (auth.User, error)
	// CreateSSOUser stores u linked to provider's subject
	// (auth.ErrUserExists: the name is taken).
	CreateSSOUser(ctx context.Context, u auth.User, provider, subject string) (auth.User, error)
	// SetUserRole changes a user's role, ends its sessions and revokes the
	// tokens that act for it, which it returns.
	SetUserRole(ctx context.Context, t tenant.ID, name string, role auth.Role) ([]auth.Token, error)
}

// oidcFlowCookie holds a login in progress: its state, nonce and PKCE
// verifier, sealed, for 10 minutes, sent only to /auth/oidc/.
const (
	oidcFlowCookie = "tarian_oidc"
	oidcFlowTTL    = 10 * time.Minute
)

// oidcClient is one configured identity provider with its discovery
// document, read at the first login and kept once read.
type oidcClient struct {
	cfg OIDCProvider

	mu       sync.Mutex
	provider *oidc.Provider
}

// oidcProviders are the configured identity providers, by name.
type oidcProviders struct {
	byName map[string]*oidcClient
	order  []*oidcClient
	// client makes the requests to identity providers.
	client *http.Client
}

func (a *API) registerOIDC() {
	a.oidc = &oidcProviders{byName: map[string]*oidcClient{}, client: &http.Client{Timeout: 15 * time.Second}}
	for _, p := range a.cfg.OIDC {
		c := &oidcClient{cfg: p}
		a.oidc.byName[p.Name] = c
		a.oidc.order = append(a.oidc.order, c)
	}
	if a.d.Users == nil {
		return
	}
	a.public("GET /api/v1/auth/providers", a.getAuthProviders)
	a.public("GET /auth/oidc/{provider}/login", a.getOIDCLogin)
	a.public("GET /auth/oidc/{provider}/callback", a.getOIDCCallback)
}

// discover returns the provider's discovery document, reading it the first
// time. A failure is not kept: the next login tries again.
func (c *oidcClient) discover(ctx context.Context, hc *http.Client) (*oidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, nil
	}
	// go-oidc keeps this context for fetching keys later: it must carry
	// the client but not the request's cancellation.
	p, err := oidc.NewProvider(oidc.ClientContext(context.WithoutCancel(ctx), hc), c.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", c.cfg.Issuer, err)
	}
	c.provider = p
	return p, nil
}

func (c *oidcClient) oauth2(p *oidc.Provider) (*oauth2.Config, error) {
	secret := c.cfg.ClientSecret
	if c.cfg.ClientSecretFile != "" {
		b, err := os.ReadFile(c.cfg.ClientSecretFile)
		if err != nil {
			return nil, fmt.Errorf("oidc %s: client_secret_file: %w", c.cfg.Name, err)
		}
		secret = strings.TrimSpace(string(b))
	}
	scopes := c.cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "profile", "email"}
	} else if !slices.Contains(scopes, oidc.ScopeOpenID) {
		scopes = append([]string{oidc.ScopeOpenID}, scopes...)
	}
	return &oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: secret, Endpoint: p.Endpoint(), RedirectURL: c.cfg.RedirectURL, Scopes: scopes}, nil
}

type authProviderJSON struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	LoginURL    string `json:"login_url"`
}

// getAuthProviders lists the identity providers, for the console's
// sign-in buttons. It needs no credentials and names no tenant.
func (a *API) getAuthProviders(w http.ResponseWriter, r *http.Request) {
	out := make([]authProviderJSON, 0, len(a.oidc.order))
	for _, c := range a.oidc.order {
		name := c.cfg.DisplayName
		if name == "" {
			name = c.cfg.Name
		}
		out = append(out, authProviderJSON{Name: c.cfg.Name, DisplayName: name, LoginURL: "/auth/oidc/" + c.cfg.Name + "/login"})
	}
	writeJSON(w, http.StatusOK, map[string]any{"providers": out})
}

var (
	errNoIdP          = &apiError{http.StatusNotFound, "sso_provider_not_found", "no such identity provider"}
	errIdPUnavailable = &apiError{http.StatusBadGateway, "sso_unavailable", "the identity provider cannot be reached; try again later"}
	// errSSORefused is the one answer to a refused sign-on; the reason is
	// in the audit trail only.
	errSSORefused = &apiError{http.StatusForbidden, "sso_refused", "single sign-on refused; your administrator can see why in the audit trail"}
)

// oidcFlow is a login in progress, kept in the browser (sealed).
type oidcFlow struct {
	Provider string    `json:"p"`
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Next     string    `json:"next,omitempty"`
	Expires  time.Time `json:"exp"`
}

// flowBinding binds a sealed login state to its purpose.
var flowBinding = []byte("oidc-flow")

func (a *API) sealFlow(f oidcFlow) (string, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return "", err
	}
	if a.d.Secrets != nil {
		if b, err = a.d.Secrets.Seal(b, flowBinding); err != nil {
			return "", fmt.Errorf("seal login state: %w", err)
		}
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (a *API) openFlow(s string) (oidcFlow, error) {
	var f oidcFlow
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return f, err
	}
	if a.d.Secrets != nil {
		if b, err = a.d.Secrets.Open(b, flowBinding); err != nil {
			return f, err
		}
	}
	return f, json.Unmarshal(b, &f)
}

func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// safeNext returns next if it is a path on this server, else "/": the
// callback never redirects off-site.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if next == "" || err != nil || u.Scheme != "" || u.Host != "" || u.User != nil ||
		!strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	return next
}

// getOIDCLogin starts the authorization code flow with PKCE (S256), state
// and nonce, and sends the browser to the identity provider.
func (a *API) getOIDCLogin(w http.ResponseWriter, r *http.Request) {
	c := a.oidc.byName[r.PathValue("provider")]
	if c == nil {
		writeError(w, errNoIdP)
		return
	}
	p, err := c.discover(r.Context(), a.oidc.client)
	if err != nil {
		a.d.Log.Warn("identity provider unavailable", "provider", c.cfg.Name, "err", err)
		writeError(w, errIdPUnavailable)
		return
	}
	oc, err := c.oauth2(p)
	if err != nil {
		writeError(w, err)
		return
	}
	f := oidcFlow{Provider: c.cfg.Name, State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(),
		Next: safeNext(r.URL.Query().Get("next")), Expires: a.acct.now().Add(oidcFlowTTL)}
	v, err := a.sealFlow(f)
	if err != nil {
		writeError(w, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: oidcFlowCookie, Value: v, Path: "/auth/oidc/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteLaxMode, MaxAge: int(oidcFlowTTL / time.Second)})
	http.Redirect(w, r, oc.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), http.StatusFound)
}

// ssoIdentity is who an ID token says the user is, mapped to Tarian.
type ssoIdentity struct {
	Subject string
	Name    string
	Email   string
	Tenant  tenant.ID
	Role    auth.Role
}

// ssoRefusal is a refused sign-on with its reason (audited, not shown).
type ssoRefusal struct {
	name   string    // the user name, when known
	tenant tenant.ID // the audit scope: an allowed tenant or "" (provider)
	reason string
}

func (e *ssoRefusal) Error() string { return "single sign-on refused: " + e.reason }

// getOIDCCallback completes the flow: it checks the state against the
// browser's login state, exchanges the code with the PKCE verifier,
// verifies the ID token (signature, issuer, audience, expiry, nonce), maps
// its claims to a tenant and a role, and starts a session as a password
// login does. Every outcome is audited.
func (a *API) getOIDCCallback(w http.ResponseWriter, r *http.Request) {
	c := a.oidc.byName[r.PathValue("provider")]
	if c == nil {
		writeError(w, errNoIdP)
		return
	}
	// The login state is used once, whatever happens.
	http.SetCookie(w, &http.Cookie{Name: oidcFlowCookie, Value: "", Path: "/auth/oidc/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	ctx := r.Context()
	detail := func(name string, t tenant.ID, role auth.Role, reason string) string {
		m := map[string]string{"ip": clientIP(r), "provider": c.cfg.Name}
		for k, v := range map[string]string{"user": name, "tenant": string(t), "role": string(role), "reason": reason} {
			if v != "" {
				m[k] = v
			}
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	// A refusal costs the caller nothing (no login state or code is
	// needed to be refused), so refusals from one address are audited
	// one by one only up to lockout_ip_failures per lockout_duration;
	// then one record says the rest are not. Sign-ons are not refused
	// for it: a flood from one address does not lock its neighbours out.
	auditRefusal := func(u auth.User, name, d string) {
		key := "sso:" + lockoutAddr(clientIP(r))
		if locked, first := a.acct.locked(key); locked {
			if first {
				a.auditLogin(ctx, u, name, "login.oidc.failure", detail("", "", "", fmt.Sprintf(
					"more than %d refused sign-ons from this address: the next are not audited one by one for %s", a.acct.cfg.LockoutIPFailures, a.acct.cfg.LockoutDuration)))
			}
			return
		}
		a.acct.fail(key, a.acct.cfg.LockoutIPFailures)
		a.auditLogin(ctx, u, name, "login.oidc.failure", d)
	}
	u, next, err := a.oidcLogin(ctx, c, r)
	var refused *ssoRefusal
	switch {
	case errors.As(err, &refused):
		name := refused.name
		if name == "" {
			name = "oidc:" + c.cfg.Name
		}
		auditRefusal(auth.User{Tenant: refused.tenant}, name, detail(refused.name, refused.tenant, "", refused.reason))
		writeError(w, errSSORefused)
		return
	case errors.Is(err, errIdPUnavailable):
		auditRefusal(auth.User{Tenant: c.scope("")}, "oidc:"+c.cfg.Name, detail("", "", "", "identity provider unavailable"))
		writeError(w, err)
		return
	case err != nil:
		a.d.Log.Error("single sign-on", "provider", c.cfg.Name, "err", err)
		writeError(w, err)
		return
	}
	// The identity provider did the authentication, its MFA included: the
	// session is a full one.
	if _, err := a.startSession(ctx, w, r, u, false); err != nil {
		a.d.Log.Error("single sign-on: session", "provider", c.cfg.Name, "err", err)
		writeError(w, err)
		return
	}
	a.auditLogin(ctx, u, u.Name, "login.oidc", detail(u.Name, u.Tenant, u.Role, ""))
	http.Redirect(w, r, next, http.StatusFound)
}

// scope is the audit scope of a refusal: the tenant when it is one the
// identity provider may sign users into, else the provider's chain.
func (c *oidcClient) scope(t tenant.ID) tenant.ID {
	if t != "" && slices.Contains(c.cfg.Tenants, string(t)) {
		return t
	}
	if !c.cfg.Provider && len(c.cfg.Tenants) == 1 {
		return tenant.ID(c.cfg.Tenants[0])
	}
	return ""
}

// oidcLogin runs the callback's checks and returns the user to sign in and
// where to send the browser; a refusal is an *ssoRefusal.
func (a *API) oidcLogin(ctx context.Context, c *oidcClient, r *http.Request) (auth.User, string, error) {
	refuse := func(reason string) (auth.User, string, error) {
		return auth.User{}, "", &ssoRefusal{tenant: c.scope(""), reason: reason}
	}
	q := r.URL.Query()
	ck, err := r.Cookie(oidcFlowCookie)
	if err != nil {
		return refuse("no login state in the browser (cookie " + oidcFlowCookie + "): start at /auth/oidc/" + c.cfg.Name + "/login")
	}
	f, err := a.openFlow(ck.Value)
	switch {
	case err != nil:
		return refuse("unreadable login state")
	case f.Provider != c.cfg.Name:
		return refuse("login state of identity provider " + f.Provider)
	case !a.acct.now().Before(f.Expires):
		return refuse("login state expired")
	case q.Get("state") == "" || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1:
		return refuse("state mismatch")
	case q.Get("error") != "":
		// Only with the login's own state: the identity provider's
		// words, not anyone's, go to the audit trail.
		return refuse(truncate("identity provider answered "+q.Get("error")+": "+q.Get("error_description"), 300))
	case q.Get("code") == "":
		return refuse("no code")
	}
	p, err := c.discover(ctx, a.oidc.client)
	if err != nil {
		a.d.Log.Warn("identity provider unavailable", "provider", c.cfg.Name, "err", err)
		return auth.User{}, "", errIdPUnavailable
	}
	oc, err := c.oauth2(p)
	if err != nil {
		return auth.User{}, "", err
	}
	hctx := oidc.ClientContext(ctx, a.oidc.client)
	tok, err := oc.Exchange(hctx, q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return refuse(truncate("code exchange: "+err.Error(), 300))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return refuse("no id_token in the token answer")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: c.cfg.ClientID, Now: a.acct.now}).Verify(hctx, raw)
	if err != nil {
		return refuse(truncate("id token: "+err.Error(), 300))
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return refuse("nonce mismatch")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return refuse("unreadable claims")
	}
	id, refusal := c.cfg.identity(idt.Subject, claims)
	if refusal != nil {
		refusal.tenant = c.scope(refusal.tenant)
		return auth.User{}, "", refusal
	}
	u, err := a.ssoUser(ctx, c, id)
	if err != nil {
		return auth.User{}, "", err
	}
	return u, f.Next, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// identity maps an ID token's claims to the user's name, tenant and role,
// within what this identity provider may give.
func (p OIDCProvider) identity(subject string, claims map[string]any) (ssoIdentity, *ssoRefusal) {
	id := ssoIdentity{Subject: subject}
	if subject == "" {
		return id, &ssoRefusal{reason: "no subject (sub)"}
	}
	names := []string{"preferred_username", "email"}
	if p.UsernameClaim != "" {
		names = []string{p.UsernameClaim}
	}
	for _, n := range names {
		if s, _ := claims[n].(string); s != "" {
			id.Name = strings.ToLower(s)
			break
		}
	}
	if id.Name == "" {
		return id, &ssoRefusal{reason: fmt.Sprintf("no user name (claim %s)", strings.Join(names, " or "))}
	}
	if err := auth.ValidUserName(id.Name); err != nil {
		return id, &ssoRefusal{reason: err.Error()}
	}
	id.Email, _ = claims["email"].(string)
	refuse := func(t tenant.ID, format string, args ...any) (ssoIdentity, *ssoRefusal) {
		return id, &ssoRefusal{name: id.Name, tenant: t, reason: fmt.Sprintf(format, args...)}
	}

	// The tenant: none for provider staff; else from the claim (mapped),
	// or the one tenant; always one of the allowed tenants.
	switch {
	case p.Provider:
	case p.TenantClaim != "":
		v, _ := claims[p.TenantClaim].(string)
		if v == "" {
			return refuse("", "no tenant claim %s", p.TenantClaim)
		}
		t := v
		if p.TenantMap != nil {
			var ok bool
			if t, ok = p.TenantMap[v]; !ok {
				return refuse("", "tenant claim %s=%q is not in tenant_map", p.TenantClaim, truncate(v, 100))
			}
		}
		id.Tenant = tenant.ID(t)
	default:
		id.Tenant = tenant.ID(p.Tenants[0])
	}
	if !p.Provider && !slices.Contains(p.Tenants, string(id.Tenant)) {
		return refuse("", "tenant %q is not one this identity provider may sign users into", truncate(string(id.Tenant), 100))
	}

	// The role: the most privileged one mapped from the claim's values.
	claim := p.RoleClaim
	if claim == "" {
		claim = "groups"
	}
	if names, ok := claims["_claim_names"].(map[string]any); ok && names[claim] != nil {
		return refuse(id.Tenant, "claim %s overflowed (too many groups for the token); map app roles (role_claim: roles) instead", claim)
	}
	values := stringsClaim(claims[claim])
	var role auth.Role
	for _, v := range values {
		if r, ok := p.RoleMap[v]; ok && roleRank(auth.Role(r)) > roleRank(role) {
			role = auth.Role(r)
		}
	}
	if role == "" && p.DefaultRole != "" {
		role = auth.Role(p.DefaultRole)
	}
	if role == "" {
		if len(values) > 10 {
			values = append(values[:10:10], "…")
		}
		return refuse(id.Tenant, "no role: no value of claim %s is in role_map (%s)", claim, truncate(strings.Join(values, ", "), 300))
	}
	// Checked again here, whatever the configuration said.
	if err := p.allowedRole(string(role)); err != nil {
		return refuse(id.Tenant, "%v", err)
	}
	if err := (auth.User{Name: id.Name, Tenant: id.Tenant, Role: role}).Validate(); err != nil {
		return refuse(id.Tenant, "%v", err)
	}
	id.Role = role
	return id, nil
}

// stringsClaim reads a claim that is a string or a list of strings.
func stringsClaim(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// roleRank orders roles by privilege, within the provider's and within a
// tenant's.
func roleRank(r auth.Role) int {
	switch r {
	case auth.RoleProviderAdmin, auth.RoleTenantAdmin:
		return 3
	case auth.RoleProviderAnalyst, auth.RoleTenantAnalyst:
		return 2
	case auth.RoleTenantViewer:
		return 1
	}
	return 0
}

// ssoUser returns the user an identity signs in as: its linked user, or a
// new one (no usable password) at its first login. The linked user's role
// follows the identity provider's; its tenant never changes.
func (a *API) ssoUser(ctx context.Context, c *oidcClient, id ssoIdentity) (auth.User, error) {
	refuse := func(t tenant.ID, reason string) (auth.User, error) {
		return auth.User{}, &ssoRefusal{name: id.Name, tenant: c.scope(t), reason: reason}
	}
	if a.d.SSO == nil {
		return refuse(id.Tenant, "this server keeps no single sign-on users")
	}
	u, err := a.d.SSO.SSOUser(ctx, c.cfg.Name, id.Subject)
	if errors.Is(err, auth.ErrUserNotFound) {
		nu := auth.User{Name: id.Name, Tenant: id.Tenant, Role: id.Role, Email: id.Email,
			PasswordHash: auth.UnusablePasswordHash(auth.DefaultPasswordParams()), Created: a.acct.now().UTC()}
		u, err = a.d.SSO.CreateSSOUser(ctx, nu, c.cfg.Name, id.Subject)
		switch {
		case errors.Is(err, auth.ErrUserExists):
			return refuse(id.Tenant, "user name "+id.Name+" belongs to another account (local, or another identity's)")
		case errors.Is(err, tenant.ErrNotFound):
			return refuse("", "tenant "+string(id.Tenant)+" does not exist")
		case err != nil:
			return auth.User{}, err
		}
		b, _ := json.Marshal(map[string]string{"user": u.Name, "role": string(u.Role), "tenant": string(u.Tenant), "provider": c.cfg.Name, "subject": id.Subject})
		a.auditLogin(ctx, u, u.Name, "user.create.oidc", string(b))
		return u, nil
	}
	if err != nil {
		return auth.User{}, err
	}
	switch {
	case u.Tenant != id.Tenant:
		return refuse(u.Tenant, fmt.Sprintf("the identity's tenant is now %q, its user's is %q", id.Tenant, u.Tenant))
	case u.Disabled:
		return refuse(u.Tenant, "disabled")
	case u.Role != id.Role:
		revoked, err := a.d.SSO.SetUserRole(ctx, u.Tenant, u.Name, id.Role)
		if err != nil {
			return auth.User{}, err
		}
		a.acct.cache.dropUser(u.ID)
		d := map[string]any{"user": u.Name, "tenant": string(u.Tenant), "provider": c.cfg.Name, "before": string(u.Role), "after": string(id.Role)}
		if len(revoked) > 0 {
			d["tokens_revoked"] = tokenIDs(revoked)
		}
		b, _ := json.Marshal(d)
		u.Role = id.Role
		a.auditLogin(ctx, u, u.Name, "user.role.oidc", string(b))
	}
	return u, nil
}
