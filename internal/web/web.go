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
	"slices"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/audit"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/feed"
	"github.com/tarian-soc/tarian/internal/incident"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/savedsearch"
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

// IngestKeys keeps the answers of ingest requests named by an
// Idempotency-Key, per tenant.
type IngestKeys interface {
	// IngestKey returns the body hash and answer kept for t's key since
	// since (found false: none).
	IngestKey(ctx context.Context, t tenant.ID, key string, since time.Time) (hash, answer string, found bool, err error)
	// PutIngestKey keeps an answer (the first one's, when two raced) and
	// forgets t's keys older than before.
	PutIngestKey(ctx context.Context, t tenant.ID, key, hash, answer string, now, before time.Time) error
}

// DeadLetterReader lists a tenant's dead letters.
type DeadLetterReader interface {
	DeadLetters(ctx context.Context, t tenant.ID, before int64, limit int) ([]ingest.DeadLetter, error)
}

// Deps are the API's collaborators.
type Deps struct {
	Tenants Tenants
	Tokens  Tokens
	// TokenCache caches token look-ups; the API drops it on every
	// revocation, so others that share it (the protocol receivers) see a
	// revocation at once. Nil: the API's own.
	TokenCache  *auth.TokenCache
	Ingest      Ingester
	IngestLimit ingest.Config
	// IngestKeys makes ingest requests with an Idempotency-Key answer a
	// retry with the first answer (nil: the header is ignored).
	IngestKeys IngestKeys
	Search     Searcher
	// Raw reads archived raw records (nil: GET /api/v1/raw answers 404).
	Raw         RawRecords
	DeadLetters DeadLetterReader
	Audit       AuditTrail
	Alerts      Alerts
	Rules       Rules
	// CloudSources manages polled cloud sources (nil: the endpoints answer 404).
	CloudSources CloudSources
	// Sources is log-source health (nil: GET /api/v1/sources answers 404).
	Sources SourceHealth
	// Feed is the live stream's hub (nil: GET /api/v1/stream answers 404).
	Feed *feed.Hub
	// Cases is case management (nil: the case endpoints answer 404).
	Cases *incident.Service
	// Intel is threat intelligence (nil: the intel endpoints answer 404).
	Intel Intel
	// Defend is defend-as-one: sharing confirmed observables, campaigns,
	// "also seen" (nil: no sharing, campaign endpoints answer 404).
	Defend Defend
	// Advisories are the provider's advisories to members (nil: the
	// advisory endpoints answer 404).
	Advisories Advisories
	// Reports builds members' monthly reports (reports.go; nil: GET
	// /api/v1/reports answers 404).
	Reports Reports
	// Notify manages notification channels (nil: the endpoints answer 404).
	Notify Notifications
	// SavedSearches keeps the searches analysts save (savedsearches.go;
	// nil: the endpoints answer 404).
	SavedSearches savedsearch.Store
	// TAXII is the TAXII 2.1 server mounted under /taxii2/ (taxii.go; nil:
	// the TAXII paths answer 404).
	TAXII *taxii.Server
	// Metrics writes the Prometheus text exposition.
	Metrics http.Handler
	// Ready reports nil when every component is up.
	Ready func() error
	// Engines checks the state store, event store and bus for GET /readyz
	// once Ready reports nil (nil: not checked). It must answer within about
	// two seconds however the engines fare, and cheaply: probes may come
	// several times a second.
	Engines func(ctx context.Context) []EngineStatus
	// Backup makes backups (backup.go; nil: POST /api/v1/backup answers 404).
	Backup Backuper
	// Offboard removes tenants and applies retention (offboard.go; nil:
	// those endpoints answer 404).
	Offboard Offboarder
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
	// access is each route's declared roles (route, public).
	access map[string]roles
}

// roles are the roles that may call a route. A route declares them when
// it is registered (route), and the one middleware (authed) refuses every
// other role before the handler runs: default deny. What a handler still
// checks is about the object or tenant it acts on (a tenant-admin of this
// tenant, an escalated case), never the role alone.
type roles []auth.Role

// The role sets routes declare.
var (
	anyRole          = roles{auth.RoleIngest, auth.RoleTenantViewer, auth.RoleTenantAnalyst, auth.RoleTenantAdmin, auth.RoleProviderAnalyst, auth.RoleProviderAdmin}
	ingesters        = roles{auth.RoleIngest}
	readers          = roles{auth.RoleTenantViewer, auth.RoleTenantAnalyst, auth.RoleTenantAdmin, auth.RoleProviderAnalyst, auth.RoleProviderAdmin}
	responders       = roles{auth.RoleTenantAnalyst, auth.RoleTenantAdmin, auth.RoleProviderAnalyst, auth.RoleProviderAdmin}
	memberResponders = roles{auth.RoleTenantAnalyst, auth.RoleTenantAdmin}
	tuners           = roles{auth.RoleTenantAdmin, auth.RoleProviderAnalyst, auth.RoleProviderAdmin}
	admins           = roles{auth.RoleTenantAdmin, auth.RoleProviderAdmin}
	providers        = roles{auth.RoleProviderAnalyst, auth.RoleProviderAdmin}
	providerAdmin    = roles{auth.RoleProviderAdmin}
)

// route registers an authenticated route: who may call it, then h with
// the principal.
func (a *API) route(pattern string, who roles, h handler) {
	if len(who) == 0 {
		panic("web: route " + pattern + " declares no roles")
	}
	a.access[pattern] = who
	a.handle(pattern, a.authed(pattern, who, h))
}

// public registers a route anyone may call (health, login, the single
// sign-on redirects, the catch-all 404s).
func (a *API) public(pattern string, h http.HandlerFunc) {
	a.access[pattern] = nil
	a.handle(pattern, h)
}

// handle registers h for pattern and records the pattern, so Routes lists
// every route; only route, public and registerTAXII call it.
func (a *API) handle(pattern string, h http.HandlerFunc) {
	a.routes = append(a.routes, pattern)
	a.mux.HandleFunc(pattern, h)
}

// Access returns the roles each authenticated route declares (nil for a
// public one).
func (a *API) Access() map[string][]auth.Role {
	out := make(map[string][]auth.Role, len(a.access))
	for k, v := range a.access {
		out[k] = v
	}
	return out
}

// Routes returns every registered route pattern ("METHOD /path").
func (a *API) Routes() []string { return append([]string(nil), a.routes...) }

// New returns the API handler.
func New(cfg Config, d Deps) *API {
	a := &API{cfg: cfg, d: d, mux: http.NewServeMux(), ingest: make(chan struct{}, cfg.MaxConcurrentIngest), access: map[string]roles{}}
	a.public("GET /healthz", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	a.public("GET /readyz", a.readyz)
	a.route("GET /metrics", providers, a.getMetrics)
	a.route("POST /api/v1/ingest", ingesters, a.postIngest)
	a.route("GET /api/v1/search", readers, a.getSearch)
	a.route("GET /api/v1/raw", readers, a.getRaw)
	a.route("GET /api/v1/tenants", anyRole, a.getTenants)
	a.route("POST /api/v1/tenants", providerAdmin, a.postTenant)
	a.route("POST /api/v1/tokens", admins, a.postToken)
	a.route("GET /api/v1/tokens", admins, a.getTokens) // tokens.go
	a.route("GET /api/v1/deadletters", admins, a.getDeadLetters)
	a.registerAudit() // audit.go
	a.route("GET /api/v1/alerts", readers, a.getAlerts)
	a.route("GET /api/v1/stream", readers, a.getStream)
	a.route("GET /api/v1/metrics/soc", readers, a.getSOCMetrics)
	a.route("GET /api/v1/alerts/{id}", readers, a.getAlert)
	a.route("GET /api/v1/incidents", readers, a.getIncidents)
	a.route("POST /api/v1/alerts/{id}/{verb}", responders, a.postAlertAction)
	a.route("GET /api/v1/suppressions", readers, a.getSuppressions)
	a.route("POST /api/v1/suppressions", tuners, a.postSuppression)
	a.route("DELETE /api/v1/suppressions/{id}", tuners, a.deleteSuppression)
	a.route("GET /api/v1/assets", readers, a.getAssets)
	a.route("PUT /api/v1/assets", tuners, a.putAsset)
	a.route("GET /api/v1/rules", readers, a.getRules)
	a.route("POST /api/v1/rules", admins, a.postRules)
	a.route("POST /api/v1/rules/{id}/disable", admins, a.postRuleSwitch(false))
	a.route("POST /api/v1/rules/{id}/enable", admins, a.postRuleSwitch(true))
	a.route("DELETE /api/v1/rules/{id}", admins, a.deleteRule)
	a.route("GET /api/v1/placeholders", readers, a.getPlaceholders)
	a.route("PUT /api/v1/placeholders", admins, a.putPlaceholders)
	a.registerCloudSources()
	a.registerSources() // sources.go
	a.registerCases()
	a.registerIntel()  // intel.go
	a.registerDefend() // defend.go
	a.registerAdvisories()
	a.registerReports() // reports.go
	a.registerNotifications()
	a.registerSavedSearches() // savedsearches.go
	a.registerAccounts()
	a.registerTAXII()
	a.registerOIDC() // oidc.go
	// The web console (console.go) at every path no route above claims.
	a.registerConsole()
	// Go's profiler, for provider-admins diagnosing a live server.
	a.route("GET /debug/pprof/{name...}", providerAdmin, a.getPprof)
	a.route("POST /api/v1/backup", providerAdmin, a.postBackup) // backup.go
	// Offboarding and retention (offboard.go).
	a.route("DELETE /api/v1/tenants/{id}", providerAdmin, a.deleteTenant)
	a.route("POST /api/v1/retention", providerAdmin, a.postRetention)
	a.public("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{http.StatusNotFound, "not_found", "no API endpoint " + r.Method + " " + r.URL.Path})
	})
	return a
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w.Header(), r.TLS != nil)
	a.mux.ServeHTTP(w, r)
}

// EngineStatus is one engine's part of the answer to GET /readyz.
type EngineStatus struct {
	// Engine is "state", "events" or "bus".
	Engine string `json:"-"`
	// Kind is "embedded" or "external".
	Kind string `json:"kind"`
	// Status is "up" or "down".
	Status string `json:"status"`
	// Error says why it is down.
	Error string `json:"error,omitempty"`
	// Checked is when it was checked (answers are reused for a second or
	// so).
	Checked time.Time `json:"checked"`
}

// Engine statuses.
const (
	EngineUp   = "up"
	EngineDown = "down"
)

// readyz answers 200 while the server is serving and every engine answers,
// 503 not_ready while it starts or stops or while its state store or bus is
// down, with each engine's status (operations.md, "Health and metrics").
// An event store down is 200 degraded: the node still takes, acknowledges
// and detects events (the bus keeps them for the indexer), and a load
// balancer that took out every node sharing that store would refuse the
// ingest they can hold.
func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	if err := a.d.Ready(); err != nil {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "not_ready", "message": err.Error()})
		return
	}
	if a.d.Engines == nil {
		writeJSON(w, 200, map[string]string{"status": "ready"})
		return
	}
	engines := map[string]EngineStatus{}
	var down, degraded []string
	for _, e := range a.d.Engines(r.Context()) {
		engines[e.Engine] = e
		switch {
		case e.Status == EngineUp:
		case e.Engine == "events":
			degraded = append(degraded, e.Engine+" ("+e.Kind+"): "+e.Error)
		default:
			down = append(down, e.Engine+" ("+e.Kind+"): "+e.Error)
		}
	}
	switch {
	case len(down) > 0:
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "not_ready",
			"message": "engine down: " + strings.Join(slices.Concat(down, degraded), "; "), "engines": engines})
	case len(degraded) > 0:
		writeJSON(w, 200, map[string]any{"status": "degraded", "engines": engines,
			"message": "engine down: " + strings.Join(degraded, "; ") + "; ingest and detection go on, search and indexing wait for it"})
	default:
		writeJSON(w, 200, map[string]any{"status": "ready", "engines": engines})
	}
}

type handler func(w http.ResponseWriter, r *http.Request, p auth.Principal) error

// authed authenticates the bearer token, or else the session cookie
// (session.go: expiry, CSRF on writes), refuses a principal whose role the
// route does not declare, and runs h with the principal.
func (a *API) authed(pattern string, who roles, h handler) http.HandlerFunc {
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
			if errors.Is(err, auth.ErrUnavailable) {
				a.d.Log.Warn("cannot check a request's credentials", "path", r.URL.Path, "err", err)
			}
			writeError(w, err)
			return
		}
		if !slices.Contains(who, p.Role) {
			writeError(w, fmt.Errorf("%w: role %s may not call %s", auth.ErrForbidden, p.Role, pattern))
			return
		}
		if err := h(w, r, p); err != nil {
			a.fail(w, r, err)
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

// now is Deps.Now's time, or the clock's.
func (a *API) now() time.Time {
	if a.d.Now != nil {
		return a.d.Now()
	}
	return time.Now()
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
