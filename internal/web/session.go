package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// AccountsConfig tunes local accounts: sessions, lockout and MFA policy.
type AccountsConfig struct {
	// SessionIdle ends a session unused this long.
	SessionIdle time.Duration `yaml:"session_idle"`
	// SessionMax ends a session this long after login, used or not.
	SessionMax time.Duration `yaml:"session_max"`
	// LockoutFailures failed logins for one user name lock it for
	// LockoutDuration; LockoutIPFailures failures from one address (any
	// user names) lock that address.
	LockoutFailures   int           `yaml:"lockout_failures"`
	LockoutIPFailures int           `yaml:"lockout_ip_failures"`
	LockoutDuration   time.Duration `yaml:"lockout_duration"`
	// MaxConcurrentLogins bounds password checks in progress (each costs
	// about 50 ms of one core and 19 MiB); more wait up to 2 s, then get
	// 429. 0: half the cores, at least 1.
	MaxConcurrentLogins int `yaml:"max_concurrent_logins"`
	// MFARoles and MFATenants are the roles and tenants whose users must
	// use TOTP (a user's own require_mfa adds to them).
	MFARoles   []string `yaml:"mfa_roles"`
	MFATenants []string `yaml:"mfa_tenants"`
}

// DefaultAccountsConfig returns the defaults.
func DefaultAccountsConfig() AccountsConfig {
	return AccountsConfig{
		SessionIdle: 30 * time.Minute, SessionMax: 12 * time.Hour,
		LockoutFailures: 5, LockoutIPFailures: 20, LockoutDuration: 15 * time.Minute,
		MFARoles: []string{}, MFATenants: []string{},
	}
}

// Validate reports the first bad setting.
func (c AccountsConfig) Validate() error {
	switch {
	case c.SessionIdle < time.Minute:
		return errors.New("accounts.session_idle: at least 1m")
	case c.SessionMax < c.SessionIdle:
		return errors.New("accounts.session_max: at least session_idle")
	case c.LockoutFailures < 1 || c.LockoutIPFailures < 1:
		return errors.New("accounts.lockout_failures, lockout_ip_failures: at least 1")
	case c.LockoutDuration < time.Second:
		return errors.New("accounts.lockout_duration: at least 1s")
	case c.MaxConcurrentLogins < 0:
		return errors.New("accounts.max_concurrent_logins: 0 (automatic) or more")
	}
	for _, r := range c.MFARoles {
		if _, err := auth.ParseRole(r); err != nil {
			return fmt.Errorf("accounts.mfa_roles: %w", err)
		}
	}
	for _, t := range c.MFATenants {
		if _, err := tenant.Parse(t); err != nil {
			return fmt.Errorf("accounts.mfa_tenants: %w", err)
		}
	}
	return nil
}

// Users is the account and session store as the API uses it. Every method
// on one account names its tenant ("" for the provider's users).
type Users interface {
	CreateUser(ctx context.Context, u auth.User) (auth.User, error)
	UserByName(ctx context.Context, name string) (auth.User, error)
	User(ctx context.Context, t tenant.ID, name string) (auth.User, error)
	Users(ctx context.Context, t tenant.ID, all bool) ([]auth.User, error)
	// SetUserDisabled and ResetUser also revoke the user's sessions and
	// the tokens that act for it (disabling; resetting), and return those
	// tokens.
	SetUserDisabled(ctx context.Context, t tenant.ID, name string, disabled bool) ([]auth.Token, error)
	ResetUser(ctx context.Context, t tenant.ID, name, passwordHash string) ([]auth.Token, error)
	// DeleteUser removes a user, its sessions and the tokens that act for
	// it, which it returns.
	DeleteUser(ctx context.Context, t tenant.ID, name string) ([]auth.Token, error)
	SetTOTPPending(ctx context.Context, t tenant.ID, name string, secret []byte) error
	TOTPPending(ctx context.Context, t tenant.ID, name string) ([]byte, error)
	ConfirmTOTP(ctx context.Context, t tenant.ID, name string, step int64, codeHashes [][]byte) error
	UseTOTPStep(ctx context.Context, t tenant.ID, id, step int64) (bool, error)
	UseRecoveryCode(ctx context.Context, t tenant.ID, id int64, hash []byte) (bool, error)
	CreateSession(ctx context.Context, s auth.Session) error
	SessionByHash(ctx context.Context, hash []byte) (auth.Session, auth.User, error)
	TouchSession(ctx context.Context, hash []byte, now time.Time) error
	SessionMFADone(ctx context.Context, hash []byte) error
	DeleteSession(ctx context.Context, hash []byte) error
	DeleteExpiredSessions(ctx context.Context, idle, absolute time.Time) error
	// Token revocation (the tokens live beside the accounts).
	TokenByID(ctx context.Context, id string) (auth.Token, error)
	RevokeToken(ctx context.Context, t tenant.ID, id string) error
}

// touchEvery is how stale a session's last-seen time may get before a
// request writes it: idle expiry is exact to within this, and most
// requests cost no write.
const touchEvery = time.Minute

// accounts is the API's login state: the lockout counters, the bound on
// concurrent password checks, and a dummy hash so an unknown user costs
// what a known one does.
type accounts struct {
	cfg   AccountsConfig
	now   func() time.Time
	hash  chan struct{}
	dummy string

	cache *authCache

	mu    sync.Mutex
	fails map[string]*failures // "u:NAME" or "ip:ADDR"
}

type failures struct {
	n      int
	until  time.Time // locked until
	latest time.Time
	// noted: a login refused during this lockout was audited. Later ones
	// are not: a refused login costs no password check, so auditing each
	// would let anyone write audit records as fast as they can send.
	noted bool
}

func newAccounts(cfg AccountsConfig, now func() time.Time, tokens *auth.TokenCache) *accounts {
	if now == nil {
		now = time.Now
	}
	n := cfg.MaxConcurrentLogins
	if n == 0 {
		n = max(1, runtime.GOMAXPROCS(0)/2)
	}
	return &accounts{cfg: cfg, now: now, hash: make(chan struct{}, n), fails: map[string]*failures{}, cache: newAuthCache(tokens),
		dummy: auth.HashPassword("dummy password for unknown users", auth.DefaultPasswordParams())}
}

// locked reports whether key is locked out now, and whether this is the
// first refusal of its lockout (the one to audit).
func (ac *accounts) locked(key string) (locked, first bool) {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	f := ac.fails[key]
	if f == nil || !ac.now().Before(f.until) {
		return false, false
	}
	first = !f.noted
	f.noted = true
	return true, first
}

// fail counts a failure against key and reports whether it is now locked.
func (ac *accounts) fail(key string, limit int) bool {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	now := ac.now()
	f := ac.fails[key]
	if f == nil || now.Sub(f.latest) > ac.cfg.LockoutDuration {
		// Failures older than a lockout period are forgotten.
		f = &failures{}
		ac.fails[key] = f
		if len(ac.fails) > 100_000 {
			ac.prune(now)
		}
	}
	f.n++
	f.latest = now
	if f.n >= limit {
		f.until = now.Add(ac.cfg.LockoutDuration)
		f.n = 0
		f.noted = false
		return true
	}
	return false
}

// succeed forgets key's failures.
func (ac *accounts) succeed(key string) {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	if f := ac.fails[key]; f != nil && !ac.now().Before(f.until) {
		delete(ac.fails, key)
	}
}

func (ac *accounts) prune(now time.Time) {
	for k, f := range ac.fails {
		if now.Sub(f.latest) > ac.cfg.LockoutDuration && !now.Before(f.until) {
			delete(ac.fails, k)
		}
	}
}

// mfaRequired reports whether u must use TOTP.
func (ac *accounts) mfaRequired(u auth.User) bool {
	if u.RequireMFA {
		return true
	}
	for _, r := range ac.cfg.MFARoles {
		if auth.Role(r) == u.Role {
			return true
		}
	}
	for _, t := range ac.cfg.MFATenants {
		if tenant.ID(t) == u.Tenant && u.Tenant != "" {
			return true
		}
	}
	return false
}

// errLogin is the one answer to every failed login: it does not say
// whether the user exists, the password was wrong or the code was.
var errLogin = &apiError{http.StatusUnauthorized, "unauthenticated", "wrong user name, password or code"}

var errLocked = &apiError{http.StatusTooManyRequests, "locked", "too many failed logins; try again later"}

func (a *API) registerAccounts() {
	a.acct = newAccounts(a.cfg.Accounts, a.d.Now, a.d.TokenCache)
	if a.d.Users == nil {
		return
	}
	a.public("POST /api/v1/session", a.postSession)
	a.route("GET /api/v1/session", anyRole, a.getSession)
	a.route("DELETE /api/v1/session", anyRole, a.deleteSession)
	a.route("POST /api/v1/session/mfa", anyRole, a.postMFAEnrol)
	a.route("POST /api/v1/session/mfa/confirm", anyRole, a.postMFAConfirm)
	a.registerUsers()
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	TOTP     string `json:"totp"`
}

// sessionJSON is the answer of login and GET /api/v1/session.
type sessionJSON struct {
	User        string    `json:"user"`
	Tenant      string    `json:"tenant,omitempty"`
	Role        string    `json:"role"`
	CSRFToken   string    `json:"csrf_token"`
	Expires     time.Time `json:"expires"`
	MFAEnrolled bool      `json:"mfa_enrolled"`
	// MFAEnrolRequired: the session may only enrol TOTP (POST
	// /api/v1/session/mfa) until it has.
	MFAEnrolRequired bool `json:"mfa_enrol_required,omitempty"`
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// lockoutAddr is the key an address's failed logins count against: the
// IPv4 address, or the /64 an IPv6 address is in. One IPv6 host is
// usually given a whole /64 (2^64 addresses), so counting per address
// would let it spray passwords from a fresh address each time.
func lockoutAddr(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a.WithZone(""), 64).Masked().String()
}

// loginUserKey is the key a user name's failed logins count against: the
// name in any letter case (logins match names so), else "Alice", "ALICE"
// and "alice" would each get their own tries at one account. Every name
// that no account can have shares one key: such a name is often a
// password typed in the wrong field, and one key each would let a
// sprayer fill memory with them.
func loginUserKey(name string) string {
	if auth.ValidUserName(name) != nil {
		return "u:" + invalidUserName
	}
	return "u:" + auth.UserNameKey(name)
}

// invalidUserName stands for a login name no account can have, in the
// audit trail and the lockout counters: the name typed is not kept (it is
// often a password typed in the wrong field).
const invalidUserName = "(invalid name)"

// crossSiteLogin reports whether a login request could come from another
// site's page: a body an HTML form can send without a preflight
// (text/plain, form-urlencoded, multipart), or a request the browser says
// is cross-site. Its answer's cookie would sign the victim's browser in
// to the attacker's account (login CSRF). The console and the CLI send
// application/json.
func crossSiteLogin(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return true
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return true
	}
	switch mt {
	case "text/plain", "application/x-www-form-urlencoded", "multipart/form-data":
		return true
	}
	return false
}

func (a *API) auditLogin(ctx context.Context, u auth.User, name, action, detail string) {
	p := auth.Principal{TokenID: "user:" + name, Role: u.Role, Tenant: u.Tenant, User: name}
	if err := a.audit(ctx, p, action, string(u.Tenant), detail); err != nil {
		a.d.Log.Error("audit login", "err", err)
	}
}

// postSession logs a user in. Every failure answers the same 401 after the
// same password work; a locked user name or address answers 429.
func (a *API) postSession(w http.ResponseWriter, r *http.Request) {
	if err := a.login(w, r); err != nil {
		a.fail(w, r, err)
	}
}

func (a *API) login(w http.ResponseWriter, r *http.Request) error {
	if crossSiteLogin(r) {
		return badRequest("a login is JSON (Content-Type: application/json) from this server's own pages")
	}
	var req loginRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 8<<10)).Decode(&req); err != nil {
		return badRequest("body: want {\"username\",\"password\",\"totp\"}")
	}
	ctx := r.Context()
	ac := a.acct
	ip := clientIP(r)
	userKey, ipKey := loginUserKey(req.Username), "ip:"+lockoutAddr(ip)
	// The name as audited: never one no account can have.
	name := req.Username
	if auth.ValidUserName(name) != nil {
		name = invalidUserName
	}
	detail := func(reason string) string {
		b, _ := json.Marshal(map[string]string{"ip": ip, "reason": reason})
		return string(b)
	}
	userLocked, userFirst := ac.locked(userKey)
	ipLocked, ipFirst := ac.locked(ipKey)
	if userLocked || ipLocked {
		// Audited once per lockout of the name or the address.
		if userFirst || ipFirst {
			a.auditLogin(ctx, auth.User{}, name, "login.locked", detail("locked"))
		}
		return errLocked
	}
	// Bound the argon2 work: a flood of logins queues here, then gets 429,
	// instead of taking every core from the rest of the API.
	select {
	case ac.hash <- struct{}{}:
	case <-time.After(2 * time.Second):
		return &apiError{http.StatusTooManyRequests, "too_many_requests", "too many logins in progress; retry"}
	case <-ctx.Done():
		return ctx.Err()
	}
	u, uerr := a.d.Users.UserByName(ctx, req.Username)
	hash := ac.dummy
	if uerr == nil {
		hash = u.PasswordHash
	}
	ok, herr := auth.VerifyPassword(req.Password, hash)
	<-ac.hash
	if uerr != nil && !errors.Is(uerr, auth.ErrUserNotFound) {
		return uerr
	}
	reason := ""
	switch {
	case herr != nil:
		return herr
	case uerr != nil:
		reason = "unknown user"
	case !ok:
		reason = "wrong password"
	case u.Disabled:
		reason = "disabled"
	}
	now := ac.now()
	mfaPending := false
	if reason == "" && (u.TOTPSecret != nil || ac.mfaRequired(u)) {
		switch {
		case u.TOTPSecret == nil:
			// MFA is required but not enrolled: a session that may
			// only enrol.
			mfaPending = true
		case req.TOTP == "":
			reason = "no code"
		default:
			var err error
			reason, err = a.checkSecondFactor(ctx, u, req.TOTP, now)
			if err != nil {
				return err
			}
		}
	}
	if reason != "" {
		lockedNow := ac.fail(userKey, ac.cfg.LockoutFailures)
		lockedNow = ac.fail(ipKey, ac.cfg.LockoutIPFailures) || lockedNow
		a.auditLogin(ctx, u, name, "login.failure", detail(reason))
		if lockedNow {
			a.auditLogin(ctx, u, name, "login.lockout", detail(reason))
		}
		return errLogin
	}
	ac.succeed(userKey)
	ac.succeed(ipKey)
	s, err := a.startSession(ctx, w, r, u, mfaPending)
	if err != nil {
		return err
	}
	a.auditLogin(ctx, u, u.Name, "login", detail(""))
	writeJSON(w, http.StatusOK, a.sessionAnswer(u, s))
	return nil
}

// startSession creates a session for u and sets its cookie: the one way a
// session starts, for a password login and a single sign-on alike.
func (a *API) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, u auth.User, mfaPending bool) (auth.Session, error) {
	ac := a.acct
	now := ac.now()
	_ = a.d.Users.DeleteExpiredSessions(ctx, now.Add(-ac.cfg.SessionIdle), now.Add(-ac.cfg.SessionMax))
	id, h := auth.NewSessionID()
	s := auth.Session{Hash: h, UserID: u.ID, CSRF: auth.NewCSRFToken(), Created: now, LastSeen: now, MFAPending: mfaPending}
	if err := a.d.Users.CreateSession(ctx, s); err != nil {
		return s, err
	}
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteLaxMode, Expires: now.Add(ac.cfg.SessionMax)})
	return s, nil
}

// checkSecondFactor checks a TOTP code, or else a recovery code, and
// returns the failure reason ("" when accepted).
func (a *API) checkSecondFactor(ctx context.Context, u auth.User, code string, now time.Time) (string, error) {
	if _, err := auth.ParseTOTPCode(code); err == nil {
		secret, err := a.openTOTP(u, u.TOTPSecret)
		if err != nil {
			return "", err
		}
		step, ok := auth.VerifyTOTP(secret, code, now, u.TOTPLastStep)
		if !ok {
			return "wrong or replayed code", nil
		}
		ok, err = a.d.Users.UseTOTPStep(ctx, u.Tenant, u.ID, step)
		if err != nil || !ok {
			return "replayed code", err
		}
		return "", nil
	}
	ok, err := a.d.Users.UseRecoveryCode(ctx, u.Tenant, u.ID, auth.Hash(auth.NormaliseRecoveryCode(code)))
	if err != nil || !ok {
		return "wrong recovery code", err
	}
	a.auditLogin(ctx, u, u.Name, "login.recovery_code", "")
	return "", nil
}

// Sealer seals secrets at rest (poll.Box: AES-256-GCM), bound to what
// they belong to.
type Sealer interface {
	Seal(secret, ad []byte) ([]byte, error)
	Open(sealed, ad []byte) ([]byte, error)
}

// totpBinding binds a sealed TOTP secret to its user (tenant and name):
// it opens for no other row.
func totpBinding(u auth.User) []byte { return []byte("totp/" + string(u.Tenant) + "/" + u.Name) }

// sealTOTP seals a user's TOTP secret for storage.
func (a *API) sealTOTP(u auth.User, secret []byte) ([]byte, error) {
	if a.d.Secrets == nil {
		return secret, nil
	}
	return a.d.Secrets.Seal(secret, totpBinding(u))
}

// openTOTP opens a stored TOTP secret (nil stays nil: not enrolled).
func (a *API) openTOTP(u auth.User, stored []byte) ([]byte, error) {
	if a.d.Secrets == nil || stored == nil {
		return stored, nil
	}
	secret, err := a.d.Secrets.Open(stored, totpBinding(u))
	if err != nil {
		return nil, fmt.Errorf("TOTP secret of %s: %w", u.Name, err)
	}
	return secret, nil
}

func (a *API) sessionAnswer(u auth.User, s auth.Session) sessionJSON {
	exp := s.Created.Add(a.acct.cfg.SessionMax)
	if idle := s.LastSeen.Add(a.acct.cfg.SessionIdle); idle.Before(exp) {
		exp = idle
	}
	return sessionJSON{User: u.Name, Tenant: string(u.Tenant), Role: string(u.Role), CSRFToken: s.CSRF, Expires: exp.UTC(),
		MFAEnrolled: u.TOTPSecret != nil, MFAEnrolRequired: s.MFAPending}
}

// sessionFromCookie resolves the session cookie to its principal. It
// refuses an expired session (and deletes it), a disabled user, a write
// without the session's CSRF token, and anything but MFA enrolment while
// enrolment is pending.
func (a *API) sessionFromCookie(r *http.Request, c *http.Cookie) (auth.Principal, error) {
	id, ok := auth.ParseSessionID(c.Value)
	if !ok {
		return auth.Principal{}, fmt.Errorf("%w: bad session cookie", auth.ErrUnauthenticated)
	}
	ctx := r.Context()
	h := auth.Hash(id)
	now := a.acct.now()
	s, u, err := a.acct.cache.session(ctx, a.d.Users, h, now)
	if errors.Is(err, auth.ErrSessionGone) {
		return auth.Principal{}, fmt.Errorf("%w: session expired or ended; log in again", auth.ErrUnauthenticated)
	}
	if err != nil {
		return auth.Principal{}, err
	}
	if u.Disabled || now.Sub(s.LastSeen) >= a.acct.cfg.SessionIdle || !now.Before(s.Created.Add(a.acct.cfg.SessionMax)) {
		a.acct.cache.dropSession(h)
		_ = a.d.Users.DeleteSession(ctx, h)
		return auth.Principal{}, fmt.Errorf("%w: session expired or ended; log in again", auth.ErrUnauthenticated)
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		if !auth.EqualCSRF(r.Header.Get("X-CSRF-Token"), s.CSRF) {
			return auth.Principal{}, &apiError{http.StatusForbidden, "csrf", "a write with a session cookie needs the header X-CSRF-Token (from the login answer or GET /api/v1/session)"}
		}
	}
	if s.MFAPending && !mfaEnrolPath(r) {
		return auth.Principal{}, &apiError{http.StatusForbidden, "mfa_enrolment_required", "enrol TOTP first: POST /api/v1/session/mfa, then /api/v1/session/mfa/confirm"}
	}
	if now.Sub(s.LastSeen) >= touchEvery {
		if err := a.d.Users.TouchSession(ctx, h, now); err != nil {
			return auth.Principal{}, err
		}
		a.acct.cache.touched(h, now)
	}
	return auth.Principal{TokenID: "user:" + u.Name, Role: u.Role, Tenant: u.Tenant, User: u.Name, UserID: u.ID, UserEpoch: u.Epoch}, nil
}

func mfaEnrolPath(r *http.Request) bool {
	switch r.URL.Path {
	case "/api/v1/session", "/api/v1/session/mfa", "/api/v1/session/mfa/confirm":
		return true
	}
	return false
}

// sessionOf returns the request's session and user (for the session
// endpoints, which a token cannot use).
func (a *API) sessionOf(r *http.Request, p auth.Principal) (auth.Session, auth.User, error) {
	c, err := r.Cookie(auth.SessionCookie)
	if p.User == "" || err != nil {
		return auth.Session{}, auth.User{}, badRequest("this endpoint is for a session (log in with POST /api/v1/session), not a token")
	}
	id, _ := auth.ParseSessionID(c.Value)
	s, _, err := a.d.Users.SessionByHash(r.Context(), auth.Hash(id))
	if err != nil {
		return s, auth.User{}, err
	}
	u, err := a.d.Users.User(r.Context(), p.Tenant, p.User)
	return s, u, err
}

func (a *API) getSession(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	s, u, err := a.sessionOf(r, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.sessionAnswer(u, s))
	return nil
}

func (a *API) deleteSession(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	s, u, err := a.sessionOf(r, p)
	if err != nil {
		return err
	}
	a.acct.cache.dropSession(s.Hash)
	if err := a.d.Users.DeleteSession(r.Context(), s.Hash); err != nil {
		return err
	}
	a.auditLogin(r.Context(), u, u.Name, "logout", "")
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// postMFAEnrol starts TOTP enrolment for the session's user: the secret is
// shown once, as an otpauth:// URI. A user already enrolled enrols again
// only after an admin reset.
func (a *API) postMFAEnrol(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	s, u, err := a.sessionOf(r, p)
	if err != nil {
		return err
	}
	if u.TOTPSecret != nil {
		return &apiError{http.StatusConflict, "mfa_enrolled", "TOTP is already enrolled; an admin reset (tarian user reset) allows enrolling again"}
	}
	// Whoever enrols holds the second factor from then on: only the one
	// who just typed the password may, not a session taken hours later
	// (it would lock its user out).
	if !s.MFAPending && a.acct.now().Sub(s.Created) > mfaEnrolWithin {
		return &apiError{http.StatusForbidden, "login_required", fmt.Sprintf("enrolling TOTP needs a login in the last %d minutes: log out, log in again and enrol", int(mfaEnrolWithin.Minutes()))}
	}
	secret := auth.NewTOTPSecret()
	sealed, err := a.sealTOTP(u, secret)
	if err != nil {
		return err
	}
	if err := a.d.Users.SetTOTPPending(r.Context(), u.Tenant, u.Name, sealed); err != nil {
		return err
	}
	a.auditLogin(r.Context(), u, u.Name, "user.mfa_enrol_start", "")
	writeJSON(w, http.StatusOK, map[string]string{"otpauth_uri": auth.TOTPURI(secret, "Tarian", u.Name)})
	return nil
}

// mfaEnrolWithin is how soon after its login a session may start a TOTP
// enrolment it was not asked for.
const mfaEnrolWithin = 15 * time.Minute

// postMFAConfirm completes enrolment with a code from the app and returns
// the ten recovery codes, once.
func (a *API) postMFAConfirm(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	s, u, err := a.sessionOf(r, p)
	if err != nil {
		return err
	}
	var req struct {
		TOTP string `json:"totp"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4<<10)).Decode(&req); err != nil {
		return badRequest(`body: want {"totp":"123456"}`)
	}
	sealed, err := a.d.Users.TOTPPending(r.Context(), u.Tenant, u.Name)
	if err != nil {
		return err
	}
	secret, err := a.openTOTP(u, sealed)
	if err != nil {
		return err
	}
	if secret == nil {
		return &apiError{http.StatusConflict, "no_enrolment", "start enrolment first: POST /api/v1/session/mfa"}
	}
	step, ok := auth.VerifyTOTP(secret, req.TOTP, a.acct.now(), 0)
	if !ok {
		return &apiError{http.StatusBadRequest, "bad_code", "wrong code; check the app's clock and try the next code"}
	}
	codes := auth.NewRecoveryCodes(10)
	hashes := make([][]byte, len(codes))
	for i, c := range codes {
		hashes[i] = auth.Hash(auth.NormaliseRecoveryCode(c))
	}
	if err := a.d.Users.ConfirmTOTP(r.Context(), u.Tenant, u.Name, step, hashes); err != nil {
		return err
	}
	if s.MFAPending {
		if err := a.d.Users.SessionMFADone(r.Context(), s.Hash); err != nil {
			return err
		}
		a.acct.cache.dropSession(s.Hash)
	}
	a.auditLogin(r.Context(), u, u.Name, "user.mfa_enrol", "")
	writeJSON(w, http.StatusOK, map[string]any{"recovery_codes": codes})
	return nil
}
