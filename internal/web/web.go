// Package web is Tarian's HTTP API. It authenticates every request, turns
// the principal into an explicit tenant scope, and maps domain errors to
// the stable error catalogue; the domain packages never see HTTP.
package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/audit"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/feed"
	"github.com/tarian-soc/tarian/internal/incident"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/taxii"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Config tunes the API.
type Config struct {
	// DefaultLimit is the number of search results when none is asked.
	DefaultLimit int `yaml:"default_limit"`
	// MaxLimit caps the limit a search may ask.
	MaxLimit int `yaml:"max_limit"`
	// MaxConcurrentIngest bounds ingest requests in progress; more wait
	// briefly, then get 429.
	MaxConcurrentIngest int `yaml:"max_concurrent_ingest"`
	// TLSCert and TLSKey, both set, serve the API and console over HTTPS;
	// the files are re-read when they change.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// MetricsListen, when set, is a loopback address serving /metrics and
	// /debug/pprof/ without a token (on the API listener they need one).
	MetricsListen string `yaml:"metrics_listen"`
	// Accounts tunes local accounts and sessions (session.go).
	Accounts AccountsConfig `yaml:"accounts"`
	// OIDC are the identity providers for single sign-on (oidc.go).
	OIDC []OIDCProvider `yaml:"oidc"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{DefaultLimit: 1000, MaxLimit: 1_000_000, MaxConcurrentIngest: 16, Accounts: DefaultAccountsConfig()}
}

// Validate reports the first bad setting.
func (c Config) Validate() error {
	switch {
	case c.DefaultLimit < 1:
		return errors.New("default_limit: must be at least 1")
	case c.MaxLimit < c.DefaultLimit:
		return errors.New("max_limit: must be at least default_limit")
	case c.MaxConcurrentIngest < 1:
		return errors.New("max_concurrent_ingest: must be at least 1")
	}
	if err := c.Accounts.Validate(); err != nil {
		return err
	}
	if err := validateOIDC(c.OIDC); err != nil {
		return err
	}
	return c.validateTransport()
}

// Tenants is the tenant store as the API uses it.
type Tenants interface {
	CreateTenant(ctx context.Context, t tenant.Tenant) (tenant.Tenant, error)
	Tenant(ctx context.Context, id tenant.ID) (tenant.Tenant, error)
	Tenants(ctx context.Context) ([]tenant.Tenant, error)
}

// Tokens is the token store as the API uses it.
type Tokens interface {
	auth.Store
	CreateToken(ctx context.Context, tok auth.Token) error
}

// Searcher runs tenant-scoped queries.
type Searcher interface {
	Search(ctx context.Context, q logstore.Query, fn func(logstore.Row) error) error
}

// Ingester accepts NDJSON bodies.
type Ingester interface {
	AcceptNDJSON(ctx context.Context, t tenant.ID, source string, body []byte) (ingest.Summary, error)
}

// DeadLetterReader lists a tenant's dead letters.
type DeadLetterReader interface {
	DeadLetters(ctx context.Context, t tenant.ID, before int64, limit int) ([]ingest.DeadLetter, error)
}

// Deps are the API's collaborators.
type Deps struct {
	Tenants     Tenants
	Tokens      Tokens
	Ingest      Ingester
	IngestLimit ingest.Config
	Search      Searcher
	// Raw reads archived raw records (nil: GET /api/v1/raw answers 404).
	Raw         RawRecords
	DeadLetters DeadLetterReader
	Audit       AuditTrail
	Alerts      Alerts
	Rules       Rules
	// CloudSources manages polled cloud sources (nil: the endpoints answer 404).
	CloudSources CloudSources
	// Feed is the live stream's hub (nil: GET /api/v1/stream answers 404).
	Feed *feed.Hub
	// Cases is case management (nil: the case endpoints answer 404).
	Cases *incident.Service
	// Intel is threat intelligence (nil: the intel endpoints answer 404).
	Intel Intel
	// Notify manages notification channels (nil: the endpoints answer 404).
	Notify Notifications
	// TAXII is the TAXII 2.1 server mounted under /taxii2/ (taxii.go; nil:
	// the TAXII paths answer 404).
	TAXII *taxii.Server
	// Metrics writes the Prometheus text exposition.
	Metrics http.Handler
	// Ready reports nil when every component is up.
	Ready func() error
	// Users holds local accounts and sessions (nil: no session endpoints).
	Users Users
	// SSO links single sign-on identities to users (nil: no SSO login).
	SSO SSOUsers
	// Secrets seals the TOTP secrets users enrol before they are stored
	// (nil: stored as they are; the server always sets it).
	Secrets Sealer
	// Now is the clock of sessions and lockouts (nil: time.Now).
	Now func() time.Time
	Log *slog.Logger
}

// API is the HTTP handler.
type API struct {
	cfg    Config
	d      Deps
	mux    *http.ServeMux
	ingest chan struct{}
	acct   *accounts
	oidc   *oidcProviders
	routes []string // patterns in registration order (Routes)
}

// handle registers h for pattern and records the pattern, so Routes lists
// every route (internal/web/routes_test.go pins each one's access).
func (a *API) handle(pattern string, h http.HandlerFunc) {
	a.routes = append(a.routes, pattern)
	a.mux.HandleFunc(pattern, h)
}

// Routes returns every registered route pattern ("METHOD /path").
func (a *API) Routes() []string { return append([]string(nil), a.routes...) }

// New returns the API handler.
func New(cfg Config, d Deps) *API {
	a := &API{cfg: cfg, d: d, mux: http.NewServeMux(), ingest: make(chan struct{}, cfg.MaxConcurrentIngest)}
	a.handle("GET /healthz", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	a.handle("GET /readyz", a.readyz)
	a.handle("GET /metrics", a.authed(a.getMetrics))
	a.handle("POST /api/v1/ingest", a.authed(a.postIngest))
	a.handle("GET /api/v1/search", a.authed(a.getSearch))
	a.handle("GET /api/v1/raw", a.authed(a.getRaw))
	a.handle("GET /api/v1/tenants", a.authed(a.getTenants))
	a.handle("POST /api/v1/tenants", a.authed(a.postTenant))
	a.handle("POST /api/v1/tokens", a.authed(a.postToken))
	a.handle("GET /api/v1/deadletters", a.authed(a.getDeadLetters))
	a.registerAudit() // audit.go
	a.handle("GET /api/v1/alerts", a.authed(a.getAlerts))
	a.handle("GET /api/v1/stream", a.authed(a.getStream))
	a.handle("GET /api/v1/metrics/soc", a.authed(a.getSOCMetrics))
	a.handle("GET /api/v1/alerts/{id}", a.authed(a.getAlert))
	a.handle("GET /api/v1/incidents", a.authed(a.getIncidents))
	a.handle("POST /api/v1/alerts/{id}/{verb}", a.authed(a.postAlertAction))
	a.handle("GET /api/v1/suppressions", a.authed(a.getSuppressions))
	a.handle("POST /api/v1/suppressions", a.authed(a.postSuppression))
	a.handle("DELETE /api/v1/suppressions/{id}", a.authed(a.deleteSuppression))
	a.handle("GET /api/v1/assets", a.authed(a.getAssets))
	a.handle("PUT /api/v1/assets", a.authed(a.putAsset))
	a.handle("GET /api/v1/rules", a.authed(a.getRules))
	a.handle("POST /api/v1/rules", a.authed(a.postRules))
	a.handle("POST /api/v1/rules/{id}/disable", a.authed(a.postRuleSwitch(false)))
	a.handle("POST /api/v1/rules/{id}/enable", a.authed(a.postRuleSwitch(true)))
	a.handle("GET /api/v1/placeholders", a.authed(a.getPlaceholders))
	a.handle("PUT /api/v1/placeholders", a.authed(a.putPlaceholders))
	a.registerCloudSources()
	a.registerCases()
	a.registerIntel() // intel.go
	a.registerNotifications()
	a.registerAccounts()
	a.registerTAXII()
	a.registerOIDC() // oidc.go
	// Go's profiler, for provider-admins diagnosing a live server.
	a.handle("GET /debug/pprof/{name...}", a.authed(a.getPprof))
	a.handle("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{http.StatusNotFound, "not_found", "no API endpoint " + r.Method + " " + r.URL.Path})
	})
	return a
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w.Header(), r.TLS != nil)
	a.mux.ServeHTTP(w, r)
}

func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	if err := a.d.Ready(); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "not_ready", "message": err.Error()})
		return
	}
	writeJSON(w, 200, map[string]string{"status": "ready"})
}

type handler func(w http.ResponseWriter, r *http.Request, p auth.Principal) error

// authed authenticates the bearer token, or else the session cookie
// (session.go: expiry, CSRF on writes), and runs h with the principal.
func (a *API) authed(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var p auth.Principal
		var err error
		if secret, ok := bearer(r); ok {
			p, err = a.acct.cache.token(r.Context(), a.d.Tokens, secret)
		} else if c, cerr := r.Cookie(auth.SessionCookie); cerr == nil && a.d.Users != nil {
			p, err = a.sessionFromCookie(r, c)
		} else {
			err = errors.Join(auth.ErrUnauthenticated, errors.New("send Authorization: Bearer <token>, or log in (POST /api/v1/session)"))
		}
		if err != nil {
			writeError(w, err)
			return
		}
		if err := h(w, r, p); err != nil {
			if !errors.Is(err, context.Canceled) {
				a.d.Log.Debug("api request failed", "path", r.URL.Path, "err", err)
			}
			writeError(w, err)
		}
	}
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, secret, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	secret = strings.TrimSpace(secret)
	return secret, secret != ""
}

func (a *API) audit(ctx context.Context, p auth.Principal, action, scope, detail string) error {
	return a.d.Audit.Append(ctx, audit.Record{Time: time.Now().UTC(), Actor: p.TokenID, Role: string(p.Role), Action: action, Scope: scope, Detail: detail})
}

// auditChange records a change with its state before and after, as JSON
// in the record's detail ({"id":..,"before":..,"after":..}).
func (a *API) auditChange(ctx context.Context, p auth.Principal, action string, t tenant.ID, id int64, before, after any) error {
	detail, err := json.Marshal(map[string]any{"id": id, "before": before, "after": after})
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return a.audit(ctx, p, action, string(t), string(detail))
}

func (a *API) getPprof(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if p.Role != auth.RoleProviderAdmin {
		return fmt.Errorf("%w: profiling is for provider-admin", auth.ErrForbidden)
	}
	switch name := r.PathValue("name"); name {
	case "", "index":
		pprof.Index(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "trace":
		pprof.Trace(w, r)
	case "cmdline":
		pprof.Cmdline(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	default:
		pprof.Handler(name).ServeHTTP(w, r)
	}
	return nil
}
