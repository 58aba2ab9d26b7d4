package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/server/servertest"
	"github.com/tarian-soc/tarian/internal/web"
)

// The directory IDs ("tid") of the members' Entra ID tenants.
const (
	guidA = "11111111-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	guidB = "22222222-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
)

// ssoWorld is a Tarian server with three identity providers configured on
// two real OpenID providers: entra-a and direct (member tenant-a's, on
// the member's provider) and staff (the provider's own staff, on another).
type ssoWorld struct {
	s      *servertest.Server
	base   string // the address browsers use (a proxy in front of s)
	member *testIdP
	staff  *testIdP
}

func startSSO(t *testing.T) *ssoWorld {
	t.Helper()
	// The redirect URLs must be known before the server starts: browsers
	// reach it through a front server whose address is known first.
	front := httptest.NewUnstartedServer(nil)
	w := &ssoWorld{base: "http://" + front.Listener.Addr().String(), member: newTestIdP(t), staff: newTestIdP(t)}
	cb := func(name string) string { return w.base + "/auth/oidc/" + name + "/callback" }
	w.member.addClient("tarian-a", "secret-a", cb("entra-a"))
	w.member.addClient("tarian-direct", "secret-d", cb("direct"))
	w.staff.addClient("tarian-staff", "secret-s", cb("staff"))
	secretFile := filepath.Join(t.TempDir(), "staff.secret")
	if err := os.WriteFile(secretFile, []byte("secret-s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := servertest.Config(t.TempDir())
	cfg.API.OIDC = []web.OIDCProvider{
		{Name: "entra-a", DisplayName: "Tenant A (Entra ID)", Issuer: w.member.issuer, ClientID: "tarian-a", ClientSecret: "secret-a",
			RedirectURL: cb("entra-a"), Tenants: []string{"tenant-a"}, TenantClaim: "tid", TenantMap: map[string]string{guidA: "tenant-a"},
			RoleMap: map[string]string{"soc-viewers": "tenant-viewer", "soc-analysts": "tenant-analyst", "soc-admins": "tenant-admin"}},
		{Name: "direct", Issuer: w.member.issuer, ClientID: "tarian-direct", ClientSecret: "secret-d", RedirectURL: cb("direct"),
			Tenants: []string{"tenant-a"}, TenantClaim: "tenant", RoleMap: map[string]string{"everyone": "tenant-viewer"}},
		{Name: "staff", DisplayName: "SOC staff", Issuer: w.staff.issuer, ClientID: "tarian-staff", ClientSecretFile: secretFile,
			RedirectURL: cb("staff"), Provider: true, RoleClaim: "roles",
			RoleMap: map[string]string{"Tarian.Admin": "provider-admin", "Tarian.Analyst": "provider-analyst"}},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	w.s = servertest.Start(t, cfg)
	target, err := url.Parse(w.s.URL)
	if err != nil {
		t.Fatal(err)
	}
	front.Config.Handler = httputil.NewSingleHostReverseProxy(target)
	front.Start()
	t.Cleanup(front.Close)
	w.s.AddTenant(t, "tenant-a")
	w.s.AddTenant(t, "tenant-b")
	return w
}

// browser is a person's browser: a client with a cookie jar.
type browser struct {
	*http.Client
	w *ssoWorld
}

// newBrowser returns a browser that follows redirects through the
// identity provider and back to /auth/oidc/, and stops before any other
// page of Tarian (the redirect after sign-in is the answer looked at).
// stop, when set, also stops before a request it returns true for.
func (w *ssoWorld) newBrowser(t *testing.T, stop func(*url.URL) bool) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	front, _ := url.Parse(w.base)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if stop != nil && stop(req.URL) || req.URL.Host == front.Host && !strings.HasPrefix(req.URL.Path, "/auth/oidc/") || len(via) > 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return &browser{Client: c, w: w}
}

type page struct {
	status   int
	location string
	body     string
}

func (b *browser) get(t *testing.T, u string) page {
	t.Helper()
	if strings.HasPrefix(u, "/") {
		u = b.w.base + u
	}
	resp, err := b.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(body)}
}

// signIn runs a whole sign-in with provider in a new browser.
func (w *ssoWorld) signIn(t *testing.T, provider, next string) (*browser, page) {
	t.Helper()
	b := w.newBrowser(t, nil)
	path := "/auth/oidc/" + provider + "/login"
	if next != "" {
		path += "?next=" + url.QueryEscape(next)
	}
	return b, b.get(t, path)
}

type sessionAnswer struct {
	User, Tenant, Role string
	CSRF               string `json:"csrf_token"`
}

// session returns the browser's session (status 200) or the status.
func (b *browser) session(t *testing.T) (sessionAnswer, int) {
	t.Helper()
	p := b.get(t, "/api/v1/session")
	var s sessionAnswer
	if p.status == http.StatusOK {
		if err := json.Unmarshal([]byte(p.body), &s); err != nil {
			t.Fatal(err)
		}
	}
	return s, p.status
}

// auditHas reports whether the audit trail holds a record of action whose
// detail contains every one of the strings.
func (w *ssoWorld) auditHas(t *testing.T, action string, detail ...string) bool {
	t.Helper()
	var out struct {
		Records []struct{ Action, Actor, Scope, Detail string }
	}
	w.s.JSON(t, "GET", "/api/v1/audit?limit=10000", servertest.AdminToken, nil, &out)
next:
	for _, r := range out.Records {
		if r.Action != action {
			continue
		}
		for _, d := range detail {
			if !strings.Contains(r.Detail, d) {
				continue next
			}
		}
		return true
	}
	return false
}

func TestOIDC(t *testing.T) {
	w := startSSO(t)

	t.Run("providers", func(t *testing.T) {
		var out struct {
			Providers []struct {
				Name        string
				DisplayName string `json:"display_name"`
				LoginURL    string `json:"login_url"`
			}
		}
		status, body := w.s.Do(t, "GET", "/api/v1/auth/providers", "", nil)
		if status != 200 {
			t.Fatalf("GET /api/v1/auth/providers: %d %s", status, body)
		}
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(out.Providers)
		want := "[{entra-a Tenant A (Entra ID) /auth/oidc/entra-a/login} {direct direct /auth/oidc/direct/login} {staff SOC staff /auth/oidc/staff/login}]"
		if got != want {
			t.Errorf("providers: got %s, want %s", got, want)
		}
		if strings.Contains(string(body), "tenant-a") {
			t.Errorf("providers answer: %s names a tenant", body)
		}
		if p := w.newBrowser(t, nil).get(t, "/auth/oidc/nobody/login"); p.status != 404 {
			t.Errorf("unknown provider: %d %s", p.status, p.body)
		}
	})

	t.Run("member", func(t *testing.T) {
		w.member.as(idpUser{sub: "sub-alice", username: "Alice@Gwynedd.example", email: "alice@gwynedd.example",
			claims: map[string]any{"tid": guidA, "groups": []string{"all-staff", "soc-analysts"}}})
		b, p := w.signIn(t, "entra-a", "/cases/7")
		if p.status != http.StatusFound || p.location != "/cases/7" {
			t.Fatalf("sign-in: %d %q %s, want 302 to /cases/7", p.status, p.location, p.body)
		}
		s, status := b.session(t)
		if status != 200 || s.User != "alice@gwynedd.example" || s.Tenant != "tenant-a" || s.Role != "tenant-analyst" {
			t.Fatalf("session: %d %+v, want alice@gwynedd.example, tenant-a, tenant-analyst", status, s)
		}
		// The session is a password login's: its tenant's data, none of
		// another's, CSRF on writes, revocable.
		if p := b.get(t, "/api/v1/alerts"); p.status != 200 {
			t.Errorf("own alerts: %d %s", p.status, p.body)
		}
		if p := b.get(t, "/api/v1/alerts?tenant=tenant-b"); p.status != 403 {
			t.Errorf("another tenant's alerts: %d %s, want 403", p.status, p.body)
		}
		req, _ := http.NewRequest("DELETE", w.base+"/api/v1/session", nil)
		if resp, err := b.Do(req); err != nil || resp.StatusCode != 403 {
			t.Errorf("logout without CSRF header: %v %v, want 403", resp.StatusCode, err)
		}
		req.Header.Set("X-CSRF-Token", s.CSRF)
		if resp, err := b.Do(req); err != nil || resp.StatusCode != 204 {
			t.Errorf("logout: %v %v, want 204", resp.StatusCode, err)
		}
		if _, status := b.session(t); status != 401 {
			t.Errorf("session after logout: %d, want 401", status)
		}
		// A user record, with no password that works.
		var users struct {
			Users []struct{ Name, Tenant, Role string }
		}
		w.s.JSON(t, "GET", "/api/v1/users?tenant=tenant-a", servertest.AdminToken, nil, &users)
		if fmt.Sprint(users.Users) != "[{alice@gwynedd.example tenant-a tenant-analyst}]" {
			t.Errorf("users of tenant-a: %v", users.Users)
		}
		if st, body := w.s.Do(t, "POST", "/api/v1/session", "", []byte(`{"username":"alice@gwynedd.example","password":"anything at all"}`)); st != 401 {
			t.Errorf("password login as an SSO user: %d %s, want 401", st, body)
		}
		if !w.auditHas(t, "user.create.oidc", `"provider":"entra-a"`, `"subject":"sub-alice"`) ||
			!w.auditHas(t, "login.oidc", `"provider":"entra-a"`, `"user":"alice@gwynedd.example"`, `"role":"tenant-analyst"`) {
			t.Error("no audit record of the user's creation and login")
		}

		// The role follows the groups: the most privileged mapped one.
		w.member.as(idpUser{sub: "sub-alice", username: "alice@gwynedd.example",
			claims: map[string]any{"tid": guidA, "groups": []string{"soc-viewers", "soc-admins"}}})
		b, p = w.signIn(t, "entra-a", "https://evil.example/")
		if p.status != http.StatusFound || p.location != "/" {
			t.Fatalf("sign-in with an off-site next: %d %q, want 302 to /", p.status, p.location)
		}
		if s, _ := b.session(t); s.Role != "tenant-admin" || s.Tenant != "tenant-a" {
			t.Errorf("session after the groups changed: %+v, want tenant-admin of tenant-a", s)
		}
		if !w.auditHas(t, "user.role.oidc", `"before":"tenant-analyst"`, `"after":"tenant-admin"`) {
			t.Error("no audit record of the role change")
		}

		// As admin, alice makes an API token; the directory then demotes
		// her: the token, made under the old role, is revoked.
		admin, _ := b.session(t)
		post, _ := http.NewRequest("POST", w.base+"/api/v1/tokens", strings.NewReader(`{"role":"tenant-analyst","name":"alice's script"}`))
		post.Header.Set("X-CSRF-Token", admin.CSRF)
		resp, err := b.Do(post)
		if err != nil {
			t.Fatal(err)
		}
		var tok struct{ ID, Token string }
		json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || tok.Token == "" {
			t.Fatalf("alice's token: %d %+v", resp.StatusCode, tok)
		}
		if st, body := w.s.Do(t, "GET", "/api/v1/alerts", tok.Token, nil); st != 200 {
			t.Fatalf("alice's token before the demotion: %d %s", st, body)
		}
		w.member.as(idpUser{sub: "sub-alice", username: "alice@gwynedd.example",
			claims: map[string]any{"tid": guidA, "groups": []string{"soc-viewers"}}})
		if b, p := w.signIn(t, "entra-a", ""); p.status != http.StatusFound {
			t.Fatalf("sign-in after the demotion: %d %s", p.status, p.body)
		} else if s, _ := b.session(t); s.Role != "tenant-viewer" {
			t.Errorf("session after the demotion: %+v, want tenant-viewer", s)
		}
		if st, body := w.s.Do(t, "GET", "/api/v1/alerts", tok.Token, nil); st != http.StatusUnauthorized {
			t.Errorf("alice's admin token after the directory demoted her: %d %s, want 401", st, body)
		}
		if !w.auditHas(t, "user.role.oidc", `"after":"tenant-viewer"`, `"tokens_revoked":["`+tok.ID+`"]`) {
			t.Error("no audit record of the demotion naming the revoked token")
		}
	})

	t.Run("staff", func(t *testing.T) {
		w.staff.as(idpUser{sub: "sub-bob", username: "bob@soc.example", claims: map[string]any{"roles": []string{"Tarian.Analyst"}}})
		b, p := w.signIn(t, "staff", "")
		if p.status != http.StatusFound || p.location != "/" {
			t.Fatalf("sign-in: %d %q %s", p.status, p.location, p.body)
		}
		if s, status := b.session(t); status != 200 || s.User != "bob@soc.example" || s.Tenant != "" || s.Role != "provider-analyst" {
			t.Fatalf("session: %d %+v, want bob@soc.example, provider-analyst", status, s)
		}
		if p := b.get(t, "/api/v1/alerts?tenant=tenant-b"); p.status != 200 {
			t.Errorf("a provider analyst reads a member's alerts: %d %s", p.status, p.body)
		}
	})

	// Every refusal answers 403 sso_refused, starts no session and is
	// audited with its reason.
	refusals := []struct {
		name     string
		provider string
		idp      *testIdP
		user     idpUser
		misuse   func(*testIdP)
		reason   string
	}{
		{"member B's directory through member A's provider", "entra-a", w.member,
			idpUser{sub: "sub-eve", username: "eve@b.example", claims: map[string]any{"tid": guidB, "groups": []string{"soc-admins"}}}, nil, "not in tenant_map"},
		{"member A's provider naming member B", "direct", w.member,
			idpUser{sub: "sub-eve2", username: "eve2@b.example", claims: map[string]any{"tenant": "tenant-b", "groups": []string{"everyone"}}}, nil,
			`tenant \"tenant-b\" is not one this identity provider may sign users into`},
		{"no tenant claim", "entra-a", w.member,
			idpUser{sub: "sub-f", username: "f@a.example", claims: map[string]any{"groups": []string{"soc-admins"}}}, nil, "no tenant claim tid"},
		{"unmapped groups", "entra-a", w.member,
			idpUser{sub: "sub-g", username: "g@a.example", claims: map[string]any{"tid": guidA, "groups": []string{"all-staff"}}}, nil, "no role"},
		{"no groups", "entra-a", w.member,
			idpUser{sub: "sub-h", username: "h@a.example", claims: map[string]any{"tid": guidA}}, nil, "no role"},
		{"provider roles claimed through a member's provider", "entra-a", w.member,
			idpUser{sub: "sub-i", username: "i@a.example", claims: map[string]any{"tid": guidA,
				"groups": []string{"provider-admin", "Tarian.Admin"}, "roles": []string{"Tarian.Admin", "provider-admin"}}}, nil, "no role"},
		{"a local account's name", "entra-a", w.member,
			idpUser{sub: "sub-j", username: "local-admin", claims: map[string]any{"tid": guidA, "groups": []string{"soc-viewers"}}}, nil,
			"belongs to another account"},
		{"another identity's user", "direct", w.member,
			idpUser{sub: "sub-alice", username: "alice@gwynedd.example", claims: map[string]any{"tenant": "tenant-a", "groups": []string{"everyone"}}}, nil,
			"belongs to another account"},
		{"expired ID token", "staff", w.staff,
			idpUser{sub: "sub-k", username: "k@soc.example", claims: map[string]any{"roles": []string{"Tarian.Admin"}}},
			func(idp *testIdP) { idp.lifetime = -time.Hour }, "expired"},
		{"ID token signed with another key", "staff", w.staff,
			idpUser{sub: "sub-k", username: "k@soc.example", claims: map[string]any{"roles": []string{"Tarian.Admin"}}},
			func(idp *testIdP) { idp.badSignature = true }, "id token"},
		{"nonce of another login", "staff", w.staff,
			idpUser{sub: "sub-k", username: "k@soc.example", claims: map[string]any{"roles": []string{"Tarian.Admin"}}},
			func(idp *testIdP) { idp.badNonce = true }, "nonce mismatch"},
	}
	w.s.JSON(t, "POST", "/api/v1/users", servertest.AdminToken, map[string]any{"name": "local-admin", "tenant": "tenant-a", "role": "tenant-admin", "password": "a local password 1"}, nil)
	for _, c := range refusals {
		t.Run("refused/"+c.name, func(t *testing.T) {
			c.idp.as(c.user)
			if c.misuse != nil {
				c.idp.set(c.misuse)
			}
			defer c.idp.as(idpUser{})
			b, p := w.signIn(t, c.provider, "")
			if p.status != 403 || !strings.Contains(p.body, "sso_refused") {
				t.Fatalf("sign-in: %d %q %s, want 403 sso_refused", p.status, p.location, p.body)
			}
			if _, status := b.session(t); status != 401 {
				t.Errorf("session after a refused sign-in: %d, want 401", status)
			}
			if !w.auditHas(t, "login.oidc.failure", `"provider":"`+c.provider+`"`, c.reason) {
				t.Errorf("no login.oidc.failure record with %q", c.reason)
			}
		})
	}

	t.Run("refused/disabled user", func(t *testing.T) {
		w.member.as(idpUser{sub: "sub-dave", username: "dave@gwynedd.example", claims: map[string]any{"tid": guidA, "groups": []string{"soc-viewers"}}})
		b, p := w.signIn(t, "entra-a", "")
		if p.status != http.StatusFound {
			t.Fatalf("first sign-in: %d %s", p.status, p.body)
		}
		w.s.JSON(t, "POST", "/api/v1/users/dave@gwynedd.example/disable", servertest.AdminToken, nil, nil)
		if _, status := b.session(t); status != 401 {
			t.Errorf("session of a disabled user: %d, want 401", status)
		}
		if _, p := w.signIn(t, "entra-a", ""); p.status != 403 {
			t.Errorf("sign-in of a disabled user: %d %s, want 403", p.status, p.body)
		}
		if !w.auditHas(t, "login.oidc.failure", `"reason":"disabled"`, `"user":"dave@gwynedd.example"`) {
			t.Error("no audit record of the refusal")
		}
	})

	// The callback, reached with the wrong state, without the browser's
	// login state, or with a code already used, is refused.
	t.Run("refused/state and code", func(t *testing.T) {
		w.staff.as(idpUser{sub: "sub-carl", username: "carl@soc.example", claims: map[string]any{"roles": []string{"Tarian.Admin"}}})
		isCallback := func(u *url.URL) bool { return strings.HasSuffix(u.Path, "/auth/oidc/staff/callback") }
		b := w.newBrowser(t, isCallback)
		p := b.get(t, "/auth/oidc/staff/login")
		if p.status != http.StatusFound || !strings.Contains(p.location, "/auth/oidc/staff/callback?") {
			t.Fatalf("to the callback: %d %q", p.status, p.location)
		}
		cbURL, _ := url.Parse(p.location)
		q := cbURL.Query()
		if q.Get("code") == "" || q.Get("state") == "" {
			t.Fatalf("callback %s: no code or state", p.location)
		}
		forged := *cbURL
		fq := cbURL.Query()
		fq.Set("state", "forged-state")
		forged.RawQuery = fq.Encode()
		if p := b.get(t, forged.String()); p.status != 403 {
			t.Errorf("wrong state: %d %s, want 403", p.status, p.body)
		}
		if !w.auditHas(t, "login.oidc.failure", `"provider":"staff"`, "state mismatch") {
			t.Error("no audit record of the state mismatch")
		}
		// The login state is used once: the right state now finds none.
		if p := b.get(t, cbURL.String()); p.status != 403 {
			t.Errorf("callback after a refusal: %d %s, want 403", p.status, p.body)
		}
		// Another browser has none to begin with (login CSRF).
		if p := w.newBrowser(t, nil).get(t, cbURL.String()); p.status != 403 {
			t.Errorf("callback in another browser: %d %s, want 403", p.status, p.body)
		}
		if !w.auditHas(t, "login.oidc.failure", `"provider":"staff"`, "no login state") {
			t.Error("no audit record of the missing login state")
		}

		// A code is exchanged once: replayed within a fresh login's state,
		// the identity provider refuses it.
		b2 := w.newBrowser(t, isCallback)
		b2.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		start := b2.get(t, "/auth/oidc/staff/login")
		au, _ := url.Parse(start.location)
		state := au.Query().Get("state")
		if au.Query().Get("code_challenge_method") != "S256" || au.Query().Get("code_challenge") == "" || au.Query().Get("nonce") == "" || state == "" {
			t.Fatalf("authorization request %s: want PKCE S256, nonce and state", start.location)
		}
		// Complete the first flow again by hand to capture a used code.
		b3 := w.newBrowser(t, isCallback)
		p3 := b3.get(t, "/auth/oidc/staff/login")
		used, _ := url.Parse(p3.location)
		if p := b3.get(t, used.String()); p.status != http.StatusFound {
			t.Fatalf("first use of the code: %d %s", p.status, p.body)
		}
		rq := used.Query()
		rq.Set("state", state)
		used.RawQuery = rq.Encode()
		if p := b2.get(t, used.String()); p.status != 403 {
			t.Errorf("replayed code: %d %s, want 403", p.status, p.body)
		}
		if !w.auditHas(t, "login.oidc.failure", `"provider":"staff"`, "code exchange") {
			t.Error("no audit record of the replayed code")
		}
		if _, status := b2.session(t); status != 401 {
			t.Errorf("session from a replayed code: %d, want 401", status)
		}
	})
}

func TestOIDCConfig(t *testing.T) {
	good := func() web.OIDCProvider {
		return web.OIDCProvider{Name: "entra-a", Issuer: "https://login.microsoftonline.com/" + guidA + "/v2.0", ClientID: "c",
			ClientSecret: "s", RedirectURL: "https://tarian.example/auth/oidc/entra-a/callback", Tenants: []string{"tenant-a"},
			RoleMap: map[string]string{"g": "tenant-analyst"}}
	}
	cases := []struct {
		name string
		edit func(p *web.OIDCProvider)
		want string // "" valid
	}{
		{"valid", func(p *web.OIDCProvider) {}, ""},
		{"provider staff", func(p *web.OIDCProvider) {
			p.Tenants, p.Provider, p.RoleMap = nil, true, map[string]string{"g": "provider-admin"}
		}, ""},
		{"bad name", func(p *web.OIDCProvider) { p.Name = "Entra A" }, "name:"},
		{"http issuer", func(p *web.OIDCProvider) { p.Issuer = "http://idp.example" }, "issuer:"},
		{"loopback http issuer", func(p *web.OIDCProvider) { p.Issuer = "http://127.0.0.1:5556" }, ""},
		{"no client id", func(p *web.OIDCProvider) { p.ClientID = "" }, "client_id:"},
		{"two secrets", func(p *web.OIDCProvider) { p.ClientSecretFile = "/etc/secret" }, "client_secret, client_secret_file"},
		{"missing secret file", func(p *web.OIDCProvider) { p.ClientSecret, p.ClientSecretFile = "", "/nonexistent/secret" }, "client_secret_file:"},
		{"redirect of another provider", func(p *web.OIDCProvider) { p.RedirectURL = "https://tarian.example/auth/oidc/other/callback" }, "redirect_url:"},
		{"provider and tenants", func(p *web.OIDCProvider) { p.Provider = true }, "tenants:"},
		{"no binding", func(p *web.OIDCProvider) { p.Tenants = nil }, "tenants:"},
		{"two tenants without a claim", func(p *web.OIDCProvider) { p.Tenants = []string{"tenant-a", "tenant-b"} }, "tenant_claim:"},
		{"map outside tenants", func(p *web.OIDCProvider) {
			p.TenantClaim, p.TenantMap = "tid", map[string]string{guidB: "tenant-b"}
		}, "tenant_map:"},
		{"provider role from a member's provider", func(p *web.OIDCProvider) { p.RoleMap["admins"] = "provider-admin" }, "role_map:"},
		{"tenant role from the provider's", func(p *web.OIDCProvider) { p.Tenants, p.Provider = nil, true }, "role_map:"},
		{"ingest role", func(p *web.OIDCProvider) { p.RoleMap["x"] = "ingest" }, "role_map:"},
		{"no roles", func(p *web.OIDCProvider) { p.RoleMap = nil }, "role_map:"},
		{"admin default", func(p *web.OIDCProvider) { p.DefaultRole = "tenant-admin" }, "default_role:"},
		{"viewer default", func(p *web.OIDCProvider) { p.DefaultRole = "tenant-viewer" }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := web.DefaultConfig()
			p := good()
			c.edit(&p)
			cfg.OIDC = []web.OIDCProvider{p}
			err := cfg.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Errorf("want valid, got %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("got %v, want an error naming %q", err, c.want)
			}
		})
	}
	cfg := web.DefaultConfig()
	cfg.OIDC = []web.OIDCProvider{good(), good()}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "used twice") {
		t.Errorf("two providers of one name: %v", err)
	}
}
