package web

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/audit"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// memAudit keeps audit records in memory for assertions; the rest of the
// trail's interface is not used by these tests.
type memAudit struct {
	AuditTrail

	mu   sync.Mutex
	recs []audit.Record
}

func (m *memAudit) Append(_ context.Context, r audit.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, r)
	return nil
}

func (m *memAudit) has(actor, action string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.recs {
		if r.Actor == actor && r.Action == action {
			return true
		}
	}
	return false
}

// acctWorld is an API over a real SQLite store, with tenants a and b, a
// provider-admin token, a tenant-admin token of a, and a clock the test
// moves.
type acctWorld struct {
	api    *API
	db     *sqlstore.DB
	audit  *memAudit
	mu     sync.Mutex
	now    time.Time
	tokens map[string]string
}

func (w *acctWorld) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *acctWorld) advance(d time.Duration) {
	w.mu.Lock()
	w.now = w.now.Add(d)
	w.mu.Unlock()
}

func newAcctWorld(t testing.TB, edit func(*AccountsConfig)) *acctWorld {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, t.TempDir()+"/state.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w := &acctWorld{db: db, audit: &memAudit{}, now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), tokens: map[string]string{}}
	for _, id := range []tenant.ID{"council-a", "council-b"} {
		if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: id, Name: string(id)}); err != nil {
			t.Fatal(err)
		}
	}
	for key, tok := range map[string]auth.Token{"provider-admin": {Role: auth.RoleProviderAdmin}, "a/tenant-admin": {Role: auth.RoleTenantAdmin, Tenant: "council-a"}} {
		secret, id, hash := auth.NewSecret()
		tok.ID, tok.Hash, tok.Name = id, hash, key
		if err := db.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		w.tokens[key] = secret
	}
	cfg := DefaultConfig()
	if edit != nil {
		edit(&cfg.Accounts)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	w.api = New(cfg, Deps{Tenants: db, Tokens: db, Users: db, Audit: w.audit, Now: w.clock,
		Log: slog.New(slog.DiscardHandler), Ready: func() error { return nil }})
	return w
}

// addUser creates a user directly in the store.
func (w *acctWorld) addUser(t testing.TB, name string, ten tenant.ID, role auth.Role, password string, requireMFA bool) {
	t.Helper()
	u := auth.User{Name: name, Tenant: ten, Role: role, PasswordHash: auth.HashPassword(password, auth.DefaultPasswordParams()), RequireMFA: requireMFA}
	if _, err := w.db.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
}

// req is one request's credentials: a token, or a session cookie with its
// CSRF header, and the client address.
type req struct {
	token, cookie, csrf, ip string
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) code() string {
	var e struct{ Error string }
	json.Unmarshal(a.body, &e)
	return e.Error
}

func (w *acctWorld) do(t testing.TB, method, path string, body any, c req) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	r := httptest.NewRequest(method, path, rd)
	r.RemoteAddr = "192.0.2.1:40000"
	if c.ip != "" {
		r.RemoteAddr = net.JoinHostPort(c.ip, "40000")
	}
	if c.token != "" {
		r.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.cookie != "" {
		r.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: c.cookie})
	}
	if c.csrf != "" {
		r.Header.Set("X-CSRF-Token", c.csrf)
	}
	rec := httptest.NewRecorder()
	w.api.ServeHTTP(rec, r)
	return answer{rec.Code, rec.Header(), rec.Body.Bytes()}
}

// login posts the credentials and returns the answer, the session cookie
// and the CSRF token (empty on failure).
func (w *acctWorld) login(t testing.TB, user, password, code, ip string) (answer, req) {
	t.Helper()
	ans := w.do(t, "POST", "/api/v1/session", loginRequest{user, password, code}, req{ip: ip})
	if ans.status != http.StatusOK {
		return ans, req{}
	}
	var s sessionJSON
	if err := json.Unmarshal(ans.body, &s); err != nil {
		t.Fatal(err)
	}
	for _, c := range (&http.Response{Header: ans.header}).Cookies() {
		if c.Name == auth.SessionCookie {
			return ans, req{cookie: c.Value, csrf: s.CSRFToken, ip: ip}
		}
	}
	t.Fatal("login answered 200 without a session cookie")
	return ans, req{}
}

func (w *acctWorld) mustLogin(t testing.TB, user, password, code string) req {
	t.Helper()
	ans, s := w.login(t, user, password, code, "")
	if ans.status != http.StatusOK {
		t.Fatalf("login %s = %d %s", user, ans.status, ans.body)
	}
	return s
}

const pw = "correct horse battery staple"

func TestLoginSessionAndCSRF(t *testing.T) {
	w := newAcctWorld(t, nil)
	w.addUser(t, "alice", "council-a", auth.RoleTenantAnalyst, pw, false)
	ans, s := w.login(t, "alice", pw, "", "")
	if ans.status != 200 {
		t.Fatalf("login = %d %s", ans.status, ans.body)
	}
	sc := ans.header.Get("Set-Cookie")
	for _, want := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(sc, want) {
			t.Errorf("cookie %q lacks %s", sc, want)
		}
	}
	if strings.Contains(sc, "Secure") {
		t.Errorf("cookie over plain HTTP is Secure: %q", sc)
	}
	// A read with the cookie alone; the session's own answer.
	if a := w.do(t, "GET", "/api/v1/session", nil, req{cookie: s.cookie}); a.status != 200 || !strings.Contains(string(a.body), s.csrf) {
		t.Fatalf("GET session = %d %s", a.status, a.body)
	}
	if a := w.do(t, "GET", "/api/v1/tenants", nil, req{cookie: s.cookie}); a.status != 200 {
		t.Fatalf("GET tenants with a session = %d %s", a.status, a.body)
	}
	// Writes need the CSRF header: none, a wrong one, the right one.
	for _, bad := range []string{"", "wrong", strings.Repeat("A", 43)} {
		if a := w.do(t, "DELETE", "/api/v1/session", nil, req{cookie: s.cookie, csrf: bad}); a.status != 403 || a.code() != "csrf" {
			t.Errorf("write with CSRF %q = %d %s; want 403 csrf", bad, a.status, a.body)
		}
	}
	// A bearer token's write needs none.
	if a := w.do(t, "POST", "/api/v1/tenants", map[string]string{"id": "council-c", "name": "C"}, req{token: w.tokens["provider-admin"]}); a.status/100 != 2 {
		t.Errorf("token write without CSRF = %d %s", a.status, a.body)
	}
	if a := w.do(t, "DELETE", "/api/v1/session", nil, s); a.status != 204 {
		t.Fatalf("logout = %d %s", a.status, a.body)
	}
	// Logout revoked it server-side: the old cookie is refused.
	if a := w.do(t, "GET", "/api/v1/tenants", nil, s); a.status != 401 {
		t.Errorf("after logout = %d", a.status)
	}
	for _, action := range []string{"login", "logout"} {
		if !w.audit.has("user:alice", action) {
			t.Errorf("no audit record %s by user:alice", action)
		}
	}
}

func TestLoginSecureCookieUnderTLS(t *testing.T) {
	w := newAcctWorld(t, nil)
	w.addUser(t, "alice", "council-a", auth.RoleTenantAnalyst, pw, false)
	b, _ := json.Marshal(loginRequest{"alice", pw, ""})
	r := httptest.NewRequest("POST", "https://tarian.example/api/v1/session", bytes.NewReader(b))
	rec := httptest.NewRecorder()
	w.api.ServeHTTP(rec, r)
	if rec.Code != 200 || !strings.Contains(rec.Header().Get("Set-Cookie"), "Secure") {
		t.Fatalf("login over TLS = %d, cookie %q", rec.Code, rec.Header().Get("Set-Cookie"))
	}
}

// TestLoginNoEnumeration: an unknown user, a wrong password and a disabled
// user get the same status and body.
func TestLoginNoEnumeration(t *testing.T) {
	w := newAcctWorld(t, nil)
	w.addUser(t, "alice", "council-a", auth.RoleTenantAnalyst, pw, false)
	w.addUser(t, "bob", "council-a", auth.RoleTenantAnalyst, pw, false)
	if _, err := w.db.SetUserDisabled(context.Background(), "council-a", "bob", true); err != nil {
		t.Fatal(err)
	}
	var first answer
	for i, c := range [][2]string{{"nobody", pw}, {"alice", "wrong password!"}, {"bob", pw}} {
		a, _ := w.login(t, c[0], c[1], "", fmt.Sprintf("192.0.2.%d", 10+i))
		if a.status != 401 {
			t.Fatalf("login %s = %d", c[0], a.status)
		}
		if i == 0 {
			first = a
		} else if !bytes.Equal(a.body, first.body) {
			t.Errorf("login %s answered %s; unknown user answered %s", c[0], a.body, first.body)
		}
	}
}

func TestLockout(t *testing.T) {
	w := newAcctWorld(t, nil)
	w.addUser(t, "alice", "council-a", auth.RoleTenantAnalyst, pw, false)
	w.addUser(t, "carol", "council-a", auth.RoleTenantAnalyst, pw, false)
	for i := range 5 {
		// From different addresses: the user name's own counter locks.
		if a, _ := w.login(t, "alice", "wrong password!", "", fmt.Sprintf("198.51.100.%d", i)); a.status != 401 {
			t.Fatalf("failure %d = %d", i, a.status)
		}
	}
	a, _ := w.login(t, "alice", pw, "", "198.51.100.99")
	if a.status != 429 || a.code() != "locked" {
		t.Fatalf("right password while locked = %d %s; want 429", a.status, a.body)
	}
	// Another user logs in meanwhile.
	w.mustLogin(t, "carol", pw, "")
	if !w.audit.has("user:alice", "login.lockout") {
		t.Error("no login.lockout audit record")
	}
	w.advance(15*time.Minute - time.Second)
	if a, _ := w.login(t, "alice", pw, "", ""); a.status != 429 {
		t.Fatalf("before the lockout ends = %d", a.status)
	}
	w.advance(2 * time.Second)
	w.mustLogin(t, "alice", pw, "")
}

func TestLockoutPerAddress(t *testing.T) {
	w := newAcctWorld(t, func(c *AccountsConfig) { c.LockoutIPFailures = 6 })
	w.addUser(t, "alice", "council-a", auth.RoleTenantAnalyst, pw, false)
	// Password spraying: one address, many names, one try each.
	for i := range 6 {
		if a, _ := w.login(t, fmt.Sprintf("user%d", i), pw, "", "203.0.113.7"); a.status != 401 {
			t.Fatalf("spray %d = %d", i, a.status)
		}
	}
	if a, _ := w.login(t, "alice", pw, "", "203.0.113.7"); a.status != 429 {
		t.Fatalf("from the spraying address = %d; want 429", a.status)
	}
	// The user is not locked: from elsewhere she logs in.
	if a, _ := w.login(t, "alice", pw, "", "192.0.2.44"); a.status != 200 {
		t.Fatalf("from another address = %d %s", a.status, a.body)
	}
}

var b32enc = base32.StdEncoding.WithPadding(base32.NoPadding)

// totpSecret reads the secret from an otpauth:// URI.
func totpSecret(t *testing.T, uri string) []byte {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "otpauth" {
		t.Fatalf("bad otpauth URI %q", uri)
	}
	s, err := b32enc.DecodeString(u.Query().Get("secret"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMFA(t *testing.T) {
	w := newAcctWorld(t, nil)
	w.addUser(t, "alice", "council-a", auth.RoleTenantAnalyst, pw, true)
	// Required but not enrolled: the session may only enrol.
	ans, s := w.login(t, "alice", pw, "", "")
	if ans.status != 200 || !strings.Contains(string(ans.body), `"mfa_enrol_required":true`) {
		t.Fatalf("first login = %d %s", ans.status, ans.body)
	}
	if a := w.do(t, "GET", "/api/v1/tenants", nil, s); a.status != 403 || a.code() != "mfa_enrolment_required" {
		t.Fatalf("API before enrolment = %d %s", a.status, a.body)
	}
	a := w.do(t, "POST", "/api/v1/session/mfa", nil, s)
	if a.status != 200 {
		t.Fatalf("enrol = %d %s", a.status, a.body)
	}
	var enrol struct {
		URI string `json:"otpauth_uri"`
	}
	json.Unmarshal(a.body, &enrol)
	secret := totpSecret(t, enrol.URI)
	step := auth.TOTPStep(w.clock())
	if a := w.do(t, "POST", "/api/v1/session/mfa/confirm", map[string]string{"totp": "000000"}, s); a.status != 400 && auth.TOTPCode(secret, step, 6) != "000000" {
		t.Fatalf("confirm with a wrong code = %d", a.status)
	}
	a = w.do(t, "POST", "/api/v1/session/mfa/confirm", map[string]string{"totp": auth.TOTPCode(secret, step, 6)}, s)
	if a.status != 200 {
		t.Fatalf("confirm = %d %s", a.status, a.body)
	}
	var rc struct {
		Codes []string `json:"recovery_codes"`
	}
	json.Unmarshal(a.body, &rc)
	if len(rc.Codes) != 10 {
		t.Fatalf("got %d recovery codes", len(rc.Codes))
	}
	if a := w.do(t, "GET", "/api/v1/tenants", nil, s); a.status != 200 {
		t.Fatalf("API after enrolment = %d %s", a.status, a.body)
	}

	w.advance(30 * time.Second)
	ip := 0
	try := func(code string) int {
		ip++ // a fresh address and few tries per name: never locked here
		a, _ := w.login(t, "alice", pw, code, fmt.Sprintf("192.0.2.%d", 100+ip))
		return a.status
	}
	if got := try(""); got != 401 {
		t.Errorf("no code = %d; want 401", got)
	}
	wrong := auth.TOTPCode(secret, auth.TOTPStep(w.clock())+5, 6)
	if got := try(wrong); got != 401 {
		t.Errorf("wrong code = %d; want 401", got)
	}
	// The enrolment's code was used: it is refused at login.
	if got := try(auth.TOTPCode(secret, step, 6)); got != 401 {
		t.Errorf("the enrolment's code again = %d; want 401", got)
	}
	code := auth.TOTPCode(secret, auth.TOTPStep(w.clock()), 6)
	if got := try(code); got != 200 {
		t.Fatalf("right code = %d", got)
	}
	if got := try(code); got != 401 {
		t.Errorf("replayed code = %d; want 401", got)
	}
	w.advance(30 * time.Second)
	if got := try(auth.TOTPCode(secret, auth.TOTPStep(w.clock()), 6)); got != 200 {
		t.Errorf("next step's code = %d", got)
	}
	if got := try(rc.Codes[3]); got != 200 {
		t.Errorf("recovery code = %d", got)
	}
	if got := try(rc.Codes[3]); got != 401 {
		t.Errorf("recovery code used twice = %d; want 401", got)
	}
	if got := try(strings.ToUpper(rc.Codes[4])); got != 200 {
		t.Errorf("another recovery code, typed in capitals = %d", got)
	}
	// Enrolled users need their code even when nothing requires MFA.
	w.advance(5 * time.Minute)
	if got := try(""); got != 401 {
		t.Errorf("enrolled user without a code = %d", got)
	}
}

// TestMFAEnrolNeedsARecentLogin: a session may start an enrolment nobody
// asked of it only soon after its login, so one taken later cannot enrol
// its own authenticator and lock the user out.
func TestMFAEnrolNeedsARecentLogin(t *testing.T) {
	w := newAcctWorld(t, nil)
	w.addUser(t, "bob", "council-a", auth.RoleTenantAnalyst, pw, false)
	_, s := w.login(t, "bob", pw, "", "")
	w.advance(mfaEnrolWithin + time.Minute)
	if a := w.do(t, "POST", "/api/v1/session/mfa", nil, s); a.status != 403 || a.code() != "login_required" {
		t.Fatalf("enrol from a session %s old = %d %s; want 403 login_required", mfaEnrolWithin+time.Minute, a.status, a.body)
	}
	if a := w.do(t, "GET", "/api/v1/tenants", nil, s); a.status != 200 {
		t.Fatalf("the session's other requests = %d %s", a.status, a.body)
	}
	_, s = w.login(t, "bob", pw, "", "192.0.2.7")
	w.advance(mfaEnrolWithin - time.Minute)
	if a := w.do(t, "POST", "/api/v1/session/mfa", nil, s); a.status != 200 {
		t.Fatalf("enrol soon after a login = %d %s", a.status, a.body)
	}
}

func TestMFAPolicy(t *testing.T) {
	ac := &accounts{cfg: AccountsConfig{MFARoles: []string{"provider-admin"}, MFATenants: []string{"council-b"}}}
	for _, tt := range []struct {
		u    auth.User
		want bool
	}{
		{auth.User{Role: auth.RoleProviderAdmin}, true},
		{auth.User{Role: auth.RoleProviderAnalyst}, false},
		{auth.User{Role: auth.RoleTenantViewer, Tenant: "council-b"}, true},
		{auth.User{Role: auth.RoleTenantViewer, Tenant: "council-a"}, false},
		{auth.User{Role: auth.RoleTenantViewer, Tenant: "council-a", RequireMFA: true}, true},
	} {
		if got := ac.mfaRequired(tt.u); got != tt.want {
			t.Errorf("mfaRequired(%+v) = %v", tt.u, got)
		}
	}
	// Policy by role, end to end: the login gives an enrol-only session.
	w := newAcctWorld(t, func(c *AccountsConfig) { c.MFARoles = []string{"tenant-admin"} })
	w.addUser(t, "ann", "council-a", auth.RoleTenantAdmin, pw, false)
	s := w.mustLogin(t, "ann", pw, "")
	if a := w.do(t, "GET", "/api/v1/users", nil, s); a.status != 403 {
		t.Errorf("tenant-admin under the MFA policy, not enrolled = %d", a.status)
	}
}

func TestSessionExpiry(t *testing.T) {
	w := newAcctWorld(t, nil)
	w.addUser(t, "alice", "council-a", auth.RoleTenantAnalyst, pw, false)
	get := func(s req) int { return w.do(t, "GET", "/api/v1/tenants", nil, s).status }

	s := w.mustLogin(t, "alice", pw, "")
	w.advance(31 * time.Minute)
	if got := get(s); got != 401 {
		t.Errorf("after 31 idle minutes = %d; want 401", got)
	}

	// Used every 20 minutes it lives until its absolute end, 12 h.
	s = w.mustLogin(t, "alice", pw, "")
	for elapsed := 20 * time.Minute; elapsed < 12*time.Hour; elapsed += 20 * time.Minute {
		w.advance(20 * time.Minute)
		if got := get(s); got != 200 {
			t.Fatalf("in use after %v = %d", elapsed, got)
		}
	}
	w.advance(20 * time.Minute)
	if got := get(s); got != 401 {
		t.Errorf("past 12 h = %d; want 401", got)
	}
}

func TestSessionRevokedByDisableAndReset(t *testing.T) {
	w := newAcctWorld(t, nil)
	w.addUser(t, "alice", "council-a", auth.RoleTenantAnalyst, pw, false)
	admin := req{token: w.tokens["a/tenant-admin"]}
	get := func(s req) int { return w.do(t, "GET", "/api/v1/tenants", nil, s).status }

	s := w.mustLogin(t, "alice", pw, "")
	if a := w.do(t, "POST", "/api/v1/users/alice/disable", nil, admin); a.status != 200 {
		t.Fatalf("disable = %d %s", a.status, a.body)
	}
	if got := get(s); got != 401 {
		t.Errorf("session after disable = %d", got)
	}
	if a, _ := w.login(t, "alice", pw, "", ""); a.status != 401 {
		t.Errorf("disabled login = %d", a.status)
	}
	w.do(t, "POST", "/api/v1/users/alice/enable", nil, admin)
	s = w.mustLogin(t, "alice", pw, "")
	a := w.do(t, "POST", "/api/v1/users/alice/reset", nil, admin)
	if a.status != 200 {
		t.Fatalf("reset = %d %s", a.status, a.body)
	}
	var u userJSON
	json.Unmarshal(a.body, &u)
	if got := get(s); got != 401 {
		t.Errorf("session after reset = %d", got)
	}
	if a, _ := w.login(t, "alice", pw, "", ""); a.status != 401 {
		t.Errorf("old password after reset = %d", a.status)
	}
	w.mustLogin(t, "alice", u.Password, "")
	for _, action := range []string{"user.disable", "user.enable", "user.reset"} {
		if !w.audit.has(w.tokenID(t, "a/tenant-admin"), action) {
			t.Errorf("no audit record %s", action)
		}
	}
}

func (w *acctWorld) tokenID(t *testing.T, key string) string {
	tok, err := w.db.TokenByHash(context.Background(), auth.Hash(w.tokens[key]))
	if err != nil {
		t.Fatal(err)
	}
	return tok.ID
}

func TestUserManagementScope(t *testing.T) {
	w := newAcctWorld(t, nil)
	w.addUser(t, "bert", "council-b", auth.RoleTenantAnalyst, pw, false)
	w.addUser(t, "ann", "council-a", auth.RoleTenantAdmin, pw, false)
	tokenAdmin := req{token: w.tokens["a/tenant-admin"]}
	sessionAdmin := w.mustLogin(t, "ann", pw, "")
	for name, adminA := range map[string]req{"token": tokenAdmin, "session": sessionAdmin} {
		t.Run(name, func(t *testing.T) {
			add := func(body map[string]any) answer { return w.do(t, "POST", "/api/v1/users", body, adminA) }
			user := "al-" + name
			if a := add(map[string]any{"name": user, "role": "tenant-analyst"}); a.status != 201 || !strings.Contains(string(a.body), `"tenant":"council-a"`) {
				t.Fatalf("add own-tenant user = %d %s", a.status, a.body)
			}
			if a := add(map[string]any{"name": "x1-" + name, "tenant": "council-b", "role": "tenant-analyst"}); a.status != 403 {
				t.Errorf("add a user of b = %d", a.status)
			}
			for _, role := range []string{"provider-admin", "provider-analyst"} {
				if a := add(map[string]any{"name": "x2-" + name, "role": role}); a.status != 403 {
					t.Errorf("add a %s user = %d %s", role, a.status, a.body)
				}
			}
			if a := add(map[string]any{"name": "x3-" + name, "role": "ingest"}); a.status != 400 {
				t.Errorf("add an ingest user = %d", a.status)
			}
			for _, verb := range []string{"disable", "reset"} {
				a := w.do(t, "POST", "/api/v1/users/bert/"+verb, nil, adminA)
				b := w.do(t, "POST", "/api/v1/users/nobody/"+verb, nil, adminA)
				if a.status != 404 || !bytes.Equal(a.body, b.body) {
					t.Errorf("%s b's user = %d %s; a user that does not exist: %s", verb, a.status, a.body, b.body)
				}
			}
			if a := w.do(t, "GET", "/api/v1/users?tenant=council-b", nil, adminA); a.status != 403 {
				t.Errorf("list b's users = %d", a.status)
			}
			a := w.do(t, "GET", "/api/v1/users", nil, adminA)
			if a.status != 200 || strings.Contains(string(a.body), "bert") || !strings.Contains(string(a.body), user) {
				t.Errorf("list = %d %s", a.status, a.body)
			}
		})
	}
	// The provider-admin manages anyone, and creates provider users.
	pa := req{token: w.tokens["provider-admin"]}
	a := w.do(t, "POST", "/api/v1/users", map[string]any{"name": "pat", "role": "provider-analyst", "email": "pat@soc.example"}, pa)
	if a.status != 201 {
		t.Fatalf("provider-admin adds a provider user = %d %s", a.status, a.body)
	}
	var u userJSON
	json.Unmarshal(a.body, &u)
	if len(u.Password) < 20 {
		t.Fatalf("generated password %q", u.Password)
	}
	w.mustLogin(t, "pat", u.Password, "")
	if a := w.do(t, "POST", "/api/v1/users/bert/disable", nil, pa); a.status != 200 {
		t.Errorf("provider-admin disables b's user = %d", a.status)
	}
	if a := w.do(t, "GET", "/api/v1/users", nil, pa); a.status != 200 || !strings.Contains(string(a.body), "bert") || strings.Contains(string(a.body), "argon2") {
		t.Errorf("provider list = %d %s", a.status, a.body)
	}
	// Analysts manage nobody.
	ps := w.mustLogin(t, "pat", u.Password, "")
	if a := w.do(t, "GET", "/api/v1/users", nil, ps); a.status != 403 {
		t.Errorf("provider-analyst lists users = %d", a.status)
	}
}

// TestSprayKeepsAPIAnswering: while a flood of logins holds every password
// slot, token requests are answered promptly, and the flood is bounded.
func TestSprayKeepsAPIAnswering(t *testing.T) {
	w := newAcctWorld(t, func(c *AccountsConfig) { c.MaxConcurrentLogins = 1; c.LockoutIPFailures = 1000 })
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := range 8 {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				w.login(t, fmt.Sprintf("spray%d-%d", i, n), "Password1!", "", "203.0.113.9")
			}
		})
	}
	var worst time.Duration
	for range 20 {
		start := time.Now()
		if a := w.do(t, "GET", "/api/v1/tenants", nil, req{token: w.tokens["provider-admin"]}); a.status != 200 {
			t.Errorf("token request under spraying = %d", a.status)
		}
		worst = max(worst, time.Since(start))
	}
	close(stop)
	wg.Wait()
	if worst > time.Second {
		t.Errorf("slowest token request under spraying took %v", worst)
	}
	t.Logf("slowest token request under spraying: %v", worst)
}

// FuzzSessionCookie: any cookie value is refused with 401 (or 403 for a
// write), never accepted, never a panic.
func FuzzSessionCookie(f *testing.F) {
	w := newAcctWorld(f, nil)
	w.addUser(f, "alice", "council-a", auth.RoleTenantAnalyst, pw, false)
	s := w.mustLogin(f, "alice", pw, "")
	f.Add(s.cookie[:42] + "A")
	f.Add("")
	f.Add(strings.Repeat("A", 43))
	f.Add("%00")
	f.Fuzz(func(t *testing.T, v string) {
		if v == s.cookie {
			return
		}
		r := httptest.NewRequest("GET", "/api/v1/tenants", nil)
		r.Header.Set("Cookie", auth.SessionCookie+"="+v)
		rec := httptest.NewRecorder()
		w.api.ServeHTTP(rec, r)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("cookie %q = %d", v, rec.Code)
		}
	})
}

// TestLoginRefusesCrossSiteForms: another site's page cannot post a login
// (a form's text/plain body can carry JSON) and so sign the victim's
// browser in to the attacker's account.
func TestLoginRefusesCrossSiteForms(t *testing.T) {
	w := newAcctWorld(t, nil)
	w.addUser(t, "mallory", "council-a", auth.RoleTenantAnalyst, pw, false)
	body, _ := json.Marshal(loginRequest{"mallory", pw, ""})
	post := func(contentType, fetchSite string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/api/v1/session", bytes.NewReader(body))
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		if fetchSite != "" {
			r.Header.Set("Sec-Fetch-Site", fetchSite)
		}
		rec := httptest.NewRecorder()
		w.api.ServeHTTP(rec, r)
		return rec
	}
	for _, c := range [][2]string{
		{"text/plain", ""},
		{"text/plain;charset=UTF-8", ""},
		{"application/x-www-form-urlencoded", ""},
		{"multipart/form-data; boundary=x", ""},
		{"application/json", "cross-site"},
		{"application/json; charset", ""},
	} {
		rec := post(c[0], c[1])
		if rec.Code != 400 || rec.Header().Get("Set-Cookie") != "" {
			t.Errorf("login with Content-Type %q, Sec-Fetch-Site %q = %d, cookie %q; want 400 and none", c[0], c[1], rec.Code, rec.Header().Get("Set-Cookie"))
		}
	}
	for _, c := range [][2]string{{"application/json", ""}, {"application/json; charset=utf-8", "same-origin"}, {"", ""}} {
		if rec := post(c[0], c[1]); rec.Code != 200 {
			t.Errorf("login with Content-Type %q, Sec-Fetch-Site %q = %d %s", c[0], c[1], rec.Code, rec.Body)
		}
	}
}

// TestLockoutPerIPv6Network: an IPv6 host holds a /64; addresses of one
// /64 count as one address.
func TestLockoutPerIPv6Network(t *testing.T) {
	w := newAcctWorld(t, func(c *AccountsConfig) { c.LockoutIPFailures = 6 })
	w.addUser(t, "alice", "council-a", auth.RoleTenantAnalyst, pw, false)
	for i := range 6 {
		ip := fmt.Sprintf("2001:db8:7:1::%x", i+1)
		if a, _ := w.login(t, fmt.Sprintf("user%d", i), pw, "", ip); a.status != 401 {
			t.Fatalf("spray %d from %s = %d", i, ip, a.status)
		}
	}
	if a, _ := w.login(t, "alice", pw, "", "2001:db8:7:1:ffff::99"); a.status != 429 {
		t.Fatalf("from another address of the spraying /64 = %d; want 429", a.status)
	}
	if a, _ := w.login(t, "alice", pw, "", "2001:db8:7:2::1"); a.status != 200 {
		t.Fatalf("from another /64 = %d %s", a.status, a.body)
	}
	for ip, want := range map[string]string{
		"192.0.2.7":              "192.0.2.7",
		"::ffff:192.0.2.7":       "192.0.2.7",
		"2001:db8:7:1:a:b:c:d":   "2001:db8:7:1::/64",
		"fe80::1%eth0":           "fe80::/64",
		"not an address at all":  "not an address at all",
		"2001:db8:7:1::ffff:1:2": "2001:db8:7:1::/64",
	} {
		if got := lockoutAddr(ip); got != want {
			t.Errorf("lockoutAddr(%q) = %q; want %q", ip, got, want)
		}
	}
}

// TestLoginAuditKeepsNoTypedSecrets: a name no account can have (often a
// password typed in the wrong field) is not written to the audit trail,
// and refusals while locked are audited once per lockout, not once per
// request (they cost no password check).
func TestLoginAuditKeepsNoTypedSecrets(t *testing.T) {
	w := newAcctWorld(t, nil)
	w.addUser(t, "alice", "council-a", auth.RoleTenantAnalyst, pw, false)
	typed := "Tr0ub4dor&3 horse"
	for i := range 5 {
		if a, _ := w.login(t, typed, pw, "", fmt.Sprintf("198.51.100.%d", i)); a.status != 401 {
			t.Fatalf("login %d = %d", i, a.status)
		}
	}
	for range 50 {
		if a, _ := w.login(t, "alice", "wrong password!", "", "203.0.113.9"); a.status == 200 {
			t.Fatal("a wrong password logged in")
		}
	}
	if a, _ := w.login(t, "alice", pw, "", "192.0.2.77"); a.status != 429 {
		t.Fatalf("alice after her lockout = %d; want 429", a.status)
	}
	w.audit.mu.Lock()
	defer w.audit.mu.Unlock()
	locked := map[string]int{}
	for _, r := range w.audit.recs {
		if strings.Contains(r.Actor+r.Detail, "Tr0ub4dor") {
			t.Errorf("audit record %s %s keeps the name typed: %s", r.Actor, r.Action, r.Detail)
		}
		if r.Action == "login.locked" {
			locked[r.Actor]++
		}
	}
	// alice: locked after 5 failures, then refused 46 times from one
	// address and once from another: one record.
	if locked["user:alice"] != 1 {
		t.Errorf("login.locked records of alice: %d; want 1", locked["user:alice"])
	}
	if !w.audit.hasLocked("user:"+invalidUserName, "login.failure") {
		t.Error("the failures of an invalid name are not audited")
	}
}

func (m *memAudit) hasLocked(actor, action string) bool {
	for _, r := range m.recs {
		if r.Actor == actor && r.Action == action {
			return true
		}
	}
	return false
}

// TestSSORefusalsAuditedWithinBounds: a refused sign-on costs the caller
// nothing (the callback needs no login state to be refused), so one
// address cannot write audit records as fast as it sends: past
// lockout_ip_failures refusals, one record says the rest are not audited.
// Whatever text comes with a callback that lacks the login's state is not
// audited either.
func TestSSORefusalsAuditedWithinBounds(t *testing.T) {
	w := newAcctWorld(t, nil)
	cfg := DefaultConfig()
	cfg.OIDC = []OIDCProvider{{Name: "staff", Issuer: "http://127.0.0.1:9/", ClientID: "tarian", ClientSecret: "s",
		RedirectURL: "https://tarian.example/auth/oidc/staff/callback", Provider: true, RoleMap: map[string]string{"admins": "provider-admin"}}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	w.api = New(cfg, Deps{Tenants: w.db, Tokens: w.db, Users: w.db, Audit: w.audit, Now: w.clock,
		Log: slog.New(slog.DiscardHandler), Ready: func() error { return nil }})
	refusals := func() int {
		w.audit.mu.Lock()
		defer w.audit.mu.Unlock()
		n := 0
		for _, r := range w.audit.recs {
			if r.Action == "login.oidc.failure" {
				n++
			}
		}
		return n
	}
	for range 60 {
		if a := w.do(t, "GET", "/auth/oidc/staff/callback?code=x&state=y", nil, req{ip: "198.51.100.5"}); a.status != 403 {
			t.Fatalf("callback without login state = %d %s", a.status, a.body)
		}
	}
	limit := cfg.Accounts.LockoutIPFailures
	if got := refusals(); got != limit+1 {
		t.Errorf("60 refusals from one address wrote %d audit records; want %d and one saying the rest are not", got, limit+1)
	}
	// Another address is audited; later, the address again.
	w.do(t, "GET", "/auth/oidc/staff/callback", nil, req{ip: "192.0.2.200"})
	if got := refusals(); got != limit+2 {
		t.Errorf("a refusal from another address: %d records; want %d", got, limit+2)
	}
	w.advance(cfg.Accounts.LockoutDuration + time.Second)
	w.do(t, "GET", "/auth/oidc/staff/callback", nil, req{ip: "198.51.100.5"})
	if got := refusals(); got != limit+3 {
		t.Errorf("a refusal after the window: %d records; want %d", got, limit+3)
	}

	// With a login state but not its state, the error text is not kept.
	flow, err := w.api.sealFlow(oidcFlow{Provider: "staff", State: "the-state", Nonce: "n", Verifier: "v", Next: "/", Expires: w.clock().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/auth/oidc/staff/callback?state=forged&error=access_denied&error_description=ATTACKER-TEXT", nil)
	r.AddCookie(&http.Cookie{Name: oidcFlowCookie, Value: flow})
	rec := httptest.NewRecorder()
	w.api.ServeHTTP(rec, r)
	if rec.Code != 403 {
		t.Fatalf("callback with a forged state = %d %s", rec.Code, rec.Body)
	}
	w.audit.mu.Lock()
	defer w.audit.mu.Unlock()
	last := w.audit.recs[len(w.audit.recs)-1]
	if strings.Contains(last.Detail, "ATTACKER-TEXT") || !strings.Contains(last.Detail, "state mismatch") {
		t.Errorf("refusal of a forged state audited as %s", last.Detail)
	}
}
