// Package taxii is Tarian's TAXII 2.1 server and client. The server serves
// the stored STIX objects (every version) under /taxii2/, one API root, one
// collection per sharing audience: a shared collection the provider writes
// for all members, and one per member that the member writes and the
// provider writes into to share with that member alone. A caller never
// receives an object above its TLP clearance or outside its audience: the
// store filters every query by intel.ObjectVisibleTo. The client polls
// remote collections incrementally; the Poller runs configured feeds.
package taxii

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/intel/stix"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Config tunes the server.
type Config struct {
	Title       string `yaml:"title"`
	Description string `yaml:"description"`
	Contact     string `yaml:"contact"`
	// Root is the API root's name: /taxii2/<root>/.
	Root string `yaml:"root"`
	// BaseURL ("https://soc.example") is where clients reach the server,
	// for the URLs discovery lists; empty, the request's scheme and Host.
	BaseURL string `yaml:"base_url"`
	// MaxContentLength caps a POST body, in bytes.
	MaxContentLength int64 `yaml:"max_content_length"`
	// DefaultLimit is a page's size when the client asks none; MaxLimit
	// caps what it may ask.
	DefaultLimit int `yaml:"default_limit"`
	MaxLimit     int `yaml:"max_limit"`
	// TLP marks posted objects that carry no marking.
	TLP intel.TLP `yaml:"tlp"`
	// Feeds are the remote collections the Poller polls.
	Feeds []FeedConfig `yaml:"feeds"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Title: "Tarian TAXII", Description: "Threat intelligence of the shared SOC", Root: "tarian",
		MaxContentLength: 10 << 20, DefaultLimit: 100, MaxLimit: 1000, TLP: intel.TLPAmber}
}

// Validate reports the first bad setting.
func (c Config) Validate() error {
	switch {
	case c.Root == "" || strings.ContainsAny(c.Root, "/?#%"):
		return fmt.Errorf("root %q: want one path segment", c.Root)
	case c.MaxContentLength < 1024:
		return errors.New("max_content_length: must be at least 1024")
	case c.DefaultLimit < 1:
		return errors.New("default_limit: must be at least 1")
	case c.MaxLimit < c.DefaultLimit:
		return errors.New("max_limit: must be at least default_limit")
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("base_url %q: want an absolute URL", c.BaseURL)
		}
	}
	if _, err := intel.ParseTLP(string(c.TLP)); err != nil {
		return err
	}
	return validateFeeds(c.Feeds)
}

// Store keeps STIX object versions and status resources.
type Store interface {
	Objects(ctx context.Context, q intel.ObjectQuery) (objs []intel.Object, more bool, err error)
	// DeleteObjects deletes what q selects that the viewer may change.
	DeleteObjects(ctx context.Context, q intel.ObjectQuery) (deleted int, err error)
	SaveTAXIIStatus(ctx context.Context, st Status) error
	// TAXIIStatus returns ErrNotFound for an unknown id.
	TAXIIStatus(ctx context.Context, id string) (Status, error)
}

// Importer takes in what a POST or a feed brought: the objects (through
// the object store), the indicators and sightings among them. The intel
// service (indicators.Service) implements it.
type Importer interface {
	Import(ctx context.Context, b intel.Batch) (intel.Summary, error)
}

// ParseFunc reads STIX objects into a batch (stix.ParseObjects).
type ParseFunc func(objs []json.RawMessage, opts intel.ImportOptions) intel.Batch

// Tenants lists the members, each of which has a collection.
type Tenants interface {
	Tenant(ctx context.Context, id tenant.ID) (tenant.Tenant, error)
	Tenants(ctx context.Context) ([]tenant.Tenant, error)
}

// Deps are the server's collaborators.
type Deps struct {
	Store    Store
	Importer Importer
	// Parse reads posted objects (nil: stix.ParseObjects).
	Parse   ParseFunc
	Tenants Tenants
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	Log *slog.Logger
}

// Caller is an authenticated TAXII client, as the API resolved it.
type Caller struct {
	// Tenant is the member calling; "" with Provider for provider staff.
	Tenant   tenant.ID
	Provider bool
	// Write is whether the caller's role may add and delete intel.
	Write bool
	// Name says who it is, for logs and the import's source.
	Name string
	// Audit records an action in the audit trail (nil: not recorded):
	// the provider's reads of a member's collection, and every addition
	// and deletion. scope is the collection's member ("" the shared one).
	Audit func(ctx context.Context, action, scope, detail string) error
}

// audit records an action on collection ci; on failure it answers 500.
func (s *Server) audit(w http.ResponseWriter, r *http.Request, c Caller, action string, ci collectionInfo, detail any) bool {
	if c.Audit == nil {
		return true
	}
	b, err := json.Marshal(detail)
	if err == nil {
		err = c.Audit(r.Context(), action, string(ci.member), string(b))
	}
	if err != nil {
		s.fail(w, r, fmt.Errorf("audit %s: %w", action, err))
		return false
	}
	return true
}

func (c Caller) query() intel.ObjectQuery {
	return intel.ObjectQuery{Viewer: c.Tenant, Provider: c.Provider}
}

// Server answers TAXII 2.1 requests.
type Server struct {
	cfg Config
	d   Deps
}

// New returns a server.
func New(cfg Config, d Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("taxii: %w", err)
	}
	if d.Store == nil || d.Importer == nil || d.Tenants == nil {
		return nil, errors.New("taxii: Store, Importer and Tenants are required")
	}
	if d.Parse == nil {
		d.Parse = stix.ParseObjects
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, d: d}, nil
}

// Route is one TAXII endpoint: its ServeMux pattern and its handler.
type Route struct {
	Pattern string
	Serve   func(s *Server, w http.ResponseWriter, r *http.Request, c Caller)
}

// Routes lists the endpoints, for the API to mount behind its
// authentication. Every handler refuses an Accept header that does not
// admit TAXII 2.1 (406).
func Routes() []Route {
	rs := []Route{
		{"GET /taxii2/{$}", (*Server).discovery},
		{"GET /taxii2/{root}/{$}", (*Server).apiRoot},
		{"GET /taxii2/{root}/collections/{$}", (*Server).collections},
		{"GET /taxii2/{root}/collections/{id}/{$}", (*Server).collection},
		{"GET /taxii2/{root}/collections/{id}/objects/{$}", (*Server).getObjects},
		{"POST /taxii2/{root}/collections/{id}/objects/{$}", (*Server).postObjects},
		{"GET /taxii2/{root}/collections/{id}/objects/{object}/{$}", (*Server).getObject},
		{"DELETE /taxii2/{root}/collections/{id}/objects/{object}/{$}", (*Server).deleteObject},
		{"GET /taxii2/{root}/collections/{id}/objects/{object}/versions/{$}", (*Server).versions},
		{"GET /taxii2/{root}/collections/{id}/manifest/{$}", (*Server).manifest},
		{"GET /taxii2/{root}/status/{status}/{$}", (*Server).status},
	}
	for i, r := range rs {
		h := r.Serve
		rs[i].Serve = func(s *Server, w http.ResponseWriter, r *http.Request, c Caller) {
			if !acceptable(r) {
				WriteError(w, http.StatusNotAcceptable, "not_acceptable", "this server speaks "+MediaType+"; send it in Accept")
				return
			}
			h(s, w, r, c)
		}
	}
	return rs
}

// fail answers with err's status: 404 for ErrNotFound, else 500 (logged).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, ErrNotFound) {
		WriteError(w, http.StatusNotFound, "not_found", err.Error())
		return
	}
	if !errors.Is(err, context.Canceled) {
		s.d.Log.Error("taxii request failed", "path", r.URL.Path, "err", err)
	}
	WriteError(w, http.StatusInternalServerError, "internal", "the server could not answer; it is logged")
}

// rootURL is the API root's absolute URL: under BaseURL, else under the
// request's scheme and host (clients such as taxii2-client use discovery's
// URLs as they are, so they cannot be relative).
func (s *Server) rootURL(r *http.Request) string {
	base := strings.TrimSuffix(s.cfg.BaseURL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + "/taxii2/" + s.cfg.Root + "/"
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request, c Caller) {
	root := s.rootURL(r)
	writeJSON(w, http.StatusOK, map[string]any{"title": s.cfg.Title, "description": s.cfg.Description, "contact": s.cfg.Contact,
		"default": root, "api_roots": []string{root}})
}

// checkRoot answers 404 unless the request names the API root.
func (s *Server) checkRoot(w http.ResponseWriter, r *http.Request) bool {
	if r.PathValue("root") != s.cfg.Root {
		WriteError(w, http.StatusNotFound, "not_found", "no API root "+r.PathValue("root")+" (see GET /taxii2/)")
		return false
	}
	return true
}

func (s *Server) apiRoot(w http.ResponseWriter, r *http.Request, c Caller) {
	if !s.checkRoot(w, r) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"title": s.cfg.Title, "description": s.cfg.Description,
		"versions": []string{MediaType}, "max_content_length": s.cfg.MaxContentLength})
}

// collectionInfo is a collection resource.
type collectionInfo struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Alias       string   `json:"alias,omitempty"`
	CanRead     bool     `json:"can_read"`
	CanWrite    bool     `json:"can_write"`
	MediaTypes  []string `json:"media_types"`
	// member is the collection's member ("" the shared collection).
	member tenant.ID
}

// sharedAlias is the shared collection's alias (not a valid tenant ID,
// which are lower case).
const sharedAlias = "Shared"

// CollectionID is the id of the collection of member m ("" the shared
// one): a name-based (version 5) UUID, stable across servers.
func CollectionID(m tenant.ID) string {
	name := "tarian:taxii:shared"
	if m != "" {
		name = "tarian:taxii:member:" + string(m)
	}
	ns := [16]byte{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8} // RFC 4122 URL namespace
	h := sha1.Sum(append(ns[:], name...))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func (s *Server) info(c Caller, m tenant.ID, name string) collectionInfo {
	ci := collectionInfo{ID: CollectionID(m), CanRead: true, MediaTypes: []string{STIXMediaType}, member: m}
	if m == "" {
		ci.Title, ci.Alias = "Shared with all members", sharedAlias
		ci.Description = "Intelligence the provider shares with every member body (TLP:AMBER+STRICT and TLP:RED objects reach only the provider)."
		ci.CanWrite = c.Write && c.Provider
		return ci
	}
	if name == "" {
		name = string(m)
	}
	ci.Title, ci.Alias = name, string(m)
	ci.Description = "Intelligence of member " + name + ", and what the provider shares with it alone."
	ci.CanWrite = c.Write && (c.Provider || c.Tenant == m)
	return ci
}

// visibleCollections lists the caller's collections.
func (s *Server) visibleCollections(ctx context.Context, c Caller) ([]collectionInfo, error) {
	cs := []collectionInfo{s.info(c, "", "")}
	if !c.Provider {
		t, err := s.d.Tenants.Tenant(ctx, c.Tenant)
		if err != nil {
			return nil, err
		}
		return append(cs, s.info(c, t.ID, t.Name)), nil
	}
	ts, err := s.d.Tenants.Tenants(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		cs = append(cs, s.info(c, t.ID, t.Name))
	}
	return cs, nil
}

// lookup finds the request's collection, by id or alias, among the
// caller's; else it answers 404 (another member's collection does not
// exist for the caller).
func (s *Server) lookup(w http.ResponseWriter, r *http.Request, c Caller) (collectionInfo, bool) {
	if !s.checkRoot(w, r) {
		return collectionInfo{}, false
	}
	id := r.PathValue("id")
	var m tenant.ID
	switch {
	case id == sharedAlias || id == CollectionID(""):
	case c.Provider:
		ts, err := s.d.Tenants.Tenants(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return collectionInfo{}, false
		}
		i := slices.IndexFunc(ts, func(t tenant.Tenant) bool { return string(t.ID) == id || CollectionID(t.ID) == id })
		if i < 0 {
			WriteError(w, http.StatusNotFound, "not_found", "no collection "+id)
			return collectionInfo{}, false
		}
		return s.info(c, ts[i].ID, ts[i].Name), true
	case id == string(c.Tenant) || id == CollectionID(c.Tenant):
		m = c.Tenant
	default:
		WriteError(w, http.StatusNotFound, "not_found", "no collection "+id)
		return collectionInfo{}, false
	}
	if m == "" {
		return s.info(c, "", ""), true
	}
	t, err := s.d.Tenants.Tenant(r.Context(), m)
	if err != nil {
		s.fail(w, r, err)
		return collectionInfo{}, false
	}
	return s.info(c, m, t.Name), true
}

func (s *Server) collections(w http.ResponseWriter, r *http.Request, c Caller) {
	if !s.checkRoot(w, r) {
		return
	}
	cs, err := s.visibleCollections(r.Context(), c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"collections": cs})
}

func (s *Server) collection(w http.ResponseWriter, r *http.Request, c Caller) {
	if ci, ok := s.lookup(w, r, c); ok {
		writeJSON(w, http.StatusOK, ci)
	}
}

// scope is the caller's query narrowed to collection ci.
func (c Caller) scope(ci collectionInfo) intel.ObjectQuery {
	q := c.query()
	if ci.member == "" {
		q.Shared = true
	} else {
		q.Member = ci.member
	}
	return q
}

// filters reads the query parameters into q; names are the filters the
// endpoint supports. It answers 400 and returns false on a bad one.
func (s *Server) filters(w http.ResponseWriter, r *http.Request, q *intel.ObjectQuery, names ...string) bool {
	v := r.URL.Query()
	bad := func(msg string) bool {
		WriteError(w, http.StatusBadRequest, "bad_request", msg)
		return false
	}
	list := func(k string) []string {
		var out []string
		for _, s := range v[k] {
			for p := range strings.SplitSeq(s, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
		}
		return out
	}
	for _, n := range names {
		switch n {
		case "added_after":
			if a := v.Get(n); a != "" {
				t, err := intel.ParseTimestamp(a)
				if err != nil {
					return bad("added_after " + strconv.Quote(a) + ": want a timestamp such as 2016-01-01T01:01:01.000Z")
				}
				q.AddedAfter = t
			}
		case "limit":
			q.Limit = s.cfg.DefaultLimit
			if l := v.Get(n); l != "" {
				n, err := strconv.Atoi(l)
				if err != nil || n < 1 {
					return bad("limit " + strconv.Quote(l) + ": want a positive integer")
				}
				q.Limit = min(n, s.cfg.MaxLimit)
			}
		case "next":
			if x := v.Get(n); x != "" {
				if _, err := strconv.ParseUint(x, 10, 63); err != nil {
					return bad("next " + strconv.Quote(x) + ": not a value this server gave")
				}
				q.Next = x
			}
		case "match[id]":
			q.IDs = list(n)
		case "match[type]":
			q.Types = list(n)
		case "match[version]":
			q.Versions = list(n)
		case "match[spec_version]":
			q.SpecVersions = list(n)
		}
	}
	if err := q.Validate(); err != nil {
		return bad(err.Error())
	}
	return true
}

// page runs q and sets the date-added headers.
func (s *Server) page(w http.ResponseWriter, r *http.Request, q intel.ObjectQuery) ([]intel.Object, bool, bool) {
	objs, more, err := s.d.Store.Objects(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return nil, false, false
	}
	if len(objs) > 0 {
		w.Header().Set("X-TAXII-Date-Added-First", intel.FormatTimestamp(objs[0].Added))
		w.Header().Set("X-TAXII-Date-Added-Last", intel.FormatTimestamp(objs[len(objs)-1].Added))
	}
	return objs, more, true
}

// envelope is TAXII's envelope of objects.
type envelope struct {
	More    bool              `json:"more"`
	Next    string            `json:"next,omitempty"`
	Objects []json.RawMessage `json:"objects,omitempty"`
}

func nextOf(objs []intel.Object, more bool) string {
	if !more || len(objs) == 0 {
		return ""
	}
	return intel.ObjectCursor(objs[len(objs)-1])
}

func (s *Server) readable(w http.ResponseWriter, r *http.Request, c Caller) (collectionInfo, bool) {
	ci, ok := s.lookup(w, r, c)
	if ok && !ci.CanRead {
		WriteError(w, http.StatusForbidden, "forbidden", "this collection is not readable by you")
		return ci, false
	}
	// The provider's reads of a member's intel are audited, as its
	// other reads of member data are.
	if ok && r.Method == http.MethodGet && c.Provider && ci.member != "" {
		ok = s.audit(w, r, c, "taxii.read", ci, map[string]string{"collection": ci.ID, "path": r.URL.Path, "query": r.URL.RawQuery})
	}
	return ci, ok
}

func (s *Server) getObjects(w http.ResponseWriter, r *http.Request, c Caller) {
	ci, ok := s.readable(w, r, c)
	if !ok {
		return
	}
	q := c.scope(ci)
	if !s.filters(w, r, &q, "added_after", "limit", "next", "match[id]", "match[type]", "match[version]", "match[spec_version]") {
		return
	}
	objs, more, ok := s.page(w, r, q)
	if !ok {
		return
	}
	env := envelope{More: more, Next: nextOf(objs, more)}
	for _, o := range objs {
		env.Objects = append(env.Objects, o.JSON)
	}
	writeJSON(w, http.StatusOK, env)
}

// exists reports whether the caller may read any version of object id in
// the collection; else it answers 404.
func (s *Server) exists(w http.ResponseWriter, r *http.Request, c Caller, ci collectionInfo, id string) bool {
	q := c.scope(ci)
	q.IDs, q.Versions, q.Limit = []string{id}, []string{intel.VersionAll}, 1
	q.SpecVersions = []string{"2.0", "2.1"}
	objs, _, err := s.d.Store.Objects(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return false
	}
	if len(objs) == 0 {
		WriteError(w, http.StatusNotFound, "not_found", "no object "+id+" in collection "+ci.ID)
		return false
	}
	return true
}

func (s *Server) getObject(w http.ResponseWriter, r *http.Request, c Caller) {
	ci, ok := s.readable(w, r, c)
	if !ok {
		return
	}
	id := r.PathValue("object")
	q := c.scope(ci)
	q.IDs = []string{id}
	if !s.filters(w, r, &q, "added_after", "limit", "next", "match[version]", "match[spec_version]") {
		return
	}
	objs, more, ok := s.page(w, r, q)
	if !ok {
		return
	}
	if len(objs) == 0 && q.Next == "" && !s.exists(w, r, c, ci, id) {
		return
	}
	env := envelope{More: more, Next: nextOf(objs, more)}
	for _, o := range objs {
		env.Objects = append(env.Objects, o.JSON)
	}
	writeJSON(w, http.StatusOK, env)
}

func (s *Server) versions(w http.ResponseWriter, r *http.Request, c Caller) {
	ci, ok := s.readable(w, r, c)
	if !ok {
		return
	}
	id := r.PathValue("object")
	q := c.scope(ci)
	q.IDs, q.Versions = []string{id}, []string{intel.VersionAll}
	if !s.filters(w, r, &q, "added_after", "limit", "next", "match[spec_version]") {
		return
	}
	objs, more, ok := s.page(w, r, q)
	if !ok {
		return
	}
	if len(objs) == 0 && q.Next == "" && !s.exists(w, r, c, ci, id) {
		return
	}
	out := struct {
		More     bool     `json:"more"`
		Next     string   `json:"next,omitempty"`
		Versions []string `json:"versions,omitempty"`
	}{More: more, Next: nextOf(objs, more)}
	for _, o := range objs {
		out.Versions = append(out.Versions, intel.FormatTimestamp(o.Modified))
	}
	writeJSON(w, http.StatusOK, out)
}

// manifestEntry is one line of a manifest.
type manifestEntry struct {
	ID        string `json:"id"`
	DateAdded string `json:"date_added"`
	Version   string `json:"version"`
	MediaType string `json:"media_type"`
}

func (s *Server) manifest(w http.ResponseWriter, r *http.Request, c Caller) {
	ci, ok := s.readable(w, r, c)
	if !ok {
		return
	}
	q := c.scope(ci)
	if !s.filters(w, r, &q, "added_after", "limit", "next", "match[id]", "match[type]", "match[version]", "match[spec_version]") {
		return
	}
	objs, more, ok := s.page(w, r, q)
	if !ok {
		return
	}
	out := struct {
		More    bool            `json:"more"`
		Next    string          `json:"next,omitempty"`
		Objects []manifestEntry `json:"objects,omitempty"`
	}{More: more, Next: nextOf(objs, more)}
	for _, o := range objs {
		spec := o.SpecVersion
		if spec == "" {
			spec = "2.1"
		}
		out.Objects = append(out.Objects, manifestEntry{ID: o.ID, DateAdded: intel.FormatTimestamp(o.Added),
			Version: intel.FormatTimestamp(o.Modified), MediaType: "application/stix+json;version=" + spec})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteObject(w http.ResponseWriter, r *http.Request, c Caller) {
	ci, ok := s.readable(w, r, c)
	if !ok {
		return
	}
	id := r.PathValue("object")
	if !s.exists(w, r, c, ci, id) {
		return
	}
	if !ci.CanWrite {
		WriteError(w, http.StatusForbidden, "forbidden", "this collection is not writable by you")
		return
	}
	q := c.scope(ci)
	q.IDs = []string{id}
	if !s.filters(w, r, &q, "match[version]", "match[spec_version]") {
		return
	}
	if len(q.Versions) == 0 {
		q.Versions = []string{intel.VersionAll}
	}
	if len(q.SpecVersions) == 0 {
		q.SpecVersions = []string{"2.0", "2.1"}
	}
	n, err := s.d.Store.DeleteObjects(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if n == 0 {
		WriteError(w, http.StatusForbidden, "forbidden", "no version of "+id+" that you may delete matches: a member deletes only the objects it added")
		return
	}
	if !s.audit(w, r, c, "taxii.delete", ci, map[string]any{"collection": ci.ID, "object": id, "query": r.URL.RawQuery, "versions": n}) {
		return
	}
	s.d.Log.Info("taxii objects deleted", "tenant", string(c.Tenant), "collection", ci.ID, "object", id, "versions", n, "by", c.Name)
	w.Header().Set("Content-Type", MediaType)
	w.WriteHeader(http.StatusOK)
}

// head is what the status needs of a posted object.
type head struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Modified string `json:"modified"`
	Created  string `json:"created"`
}

func (s *Server) postObjects(w http.ResponseWriter, r *http.Request, c Caller) {
	ci, ok := s.lookup(w, r, c)
	if !ok {
		return
	}
	if !ci.CanWrite {
		WriteError(w, http.StatusForbidden, "forbidden", "this collection is not writable by you")
		return
	}
	if ct := r.Header.Get("Content-Type"); !mediaOK(ct, false) {
		WriteError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send the envelope as "+MediaType+", not "+strconv.Quote(ct))
		return
	}
	if r.ContentLength > s.cfg.MaxContentLength {
		WriteError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body may be at most %d bytes (max_content_length)", s.cfg.MaxContentLength))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxContentLength))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		WriteError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body may be at most %d bytes (max_content_length)", s.cfg.MaxContentLength))
		return
	}
	if err != nil {
		WriteError(w, http.StatusBadRequest, "bad_request", "read body: "+err.Error())
		return
	}
	var env struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		WriteError(w, http.StatusBadRequest, "bad_request", "the body is not a TAXII envelope: "+err.Error())
		return
	}
	if len(env.Objects) == 0 {
		WriteError(w, http.StatusUnprocessableEntity, "no_objects", `the envelope has no "objects"`)
		return
	}
	now := s.d.Now().UTC()
	opts := intel.ImportOptions{Owner: c.Tenant, TLP: s.cfg.TLP, Source: "taxii:" + c.Name, Now: now}
	if c.Provider && ci.member != "" {
		opts.Audience = []tenant.ID{ci.member}
	}
	st := Status{ID: newUUID(), Status: "complete", RequestTimestamp: intel.FormatTimestamp(now), TotalCount: len(env.Objects), Owner: c.Tenant}
	heads := make([]head, len(env.Objects))
	var good []json.RawMessage
	for i, raw := range env.Objects {
		if err := json.Unmarshal(raw, &heads[i]); err != nil || heads[i].ID == "" || heads[i].Type == "" {
			ref := heads[i].ID
			if ref == "" {
				ref = fmt.Sprintf("objects[%d]", i)
			}
			st.Failures = append(st.Failures, StatusDetail{ID: ref, Message: "not a STIX object: id and type are required"})
			continue
		}
		good = append(good, raw)
	}
	b := s.d.Parse(good, opts)
	// The caller's collection decides ownership and audience, whatever
	// the parser read.
	for i := range b.Objects {
		b.Objects[i].Owner, b.Objects[i].Audience = opts.Owner, opts.Audience
	}
	for i := range b.Indicators {
		b.Indicators[i].Owner, b.Indicators[i].Audience = opts.Owner, opts.Audience
	}
	if len(b.Objects) > 0 || len(b.Indicators) > 0 {
		if _, err := s.d.Importer.Import(r.Context(), b); err != nil {
			s.fail(w, r, fmt.Errorf("import %d objects: %w", len(b.Objects), err))
			return
		}
	}
	kept := map[string]intel.Object{}
	for _, o := range b.Objects {
		kept[o.ID+"\x00"+intel.FormatTimestamp(o.Modified)] = o
	}
	reasons := map[string]string{}
	for _, sk := range b.Skipped {
		if _, ok := reasons[sk.Ref]; !ok {
			reasons[sk.Ref] = sk.Reason
		}
	}
	for _, h := range heads {
		if h.ID == "" || h.Type == "" {
			continue
		}
		version := h.Modified
		if version == "" {
			version = h.Created
		}
		if t, err := intel.ParseTimestamp(version); err == nil {
			version = intel.FormatTimestamp(t)
		}
		if o, ok := kept[h.ID+"\x00"+version]; ok {
			st.Successes = append(st.Successes, StatusDetail{ID: h.ID, Version: intel.FormatTimestamp(o.Modified)})
			continue
		}
		msg := reasons[h.ID]
		if msg == "" {
			msg = "not a STIX object Tarian could read"
		}
		st.Failures = append(st.Failures, StatusDetail{ID: h.ID, Version: version, Message: msg})
	}
	st.SuccessCount, st.FailureCount = len(st.Successes), len(st.Failures)
	if err := s.d.Store.SaveTAXIIStatus(r.Context(), st); err != nil {
		s.fail(w, r, err)
		return
	}
	if !s.audit(w, r, c, "taxii.add", ci, map[string]any{"collection": ci.ID, "status": st.ID, "objects": st.TotalCount, "succeeded": st.SuccessCount, "failed": st.FailureCount}) {
		return
	}
	s.d.Log.Info("taxii objects added", "tenant", string(c.Tenant), "collection", ci.ID, "objects", st.TotalCount,
		"succeeded", st.SuccessCount, "failed", st.FailureCount, "by", c.Name)
	writeJSON(w, http.StatusAccepted, st)
}

func (s *Server) status(w http.ResponseWriter, r *http.Request, c Caller) {
	if !s.checkRoot(w, r) {
		return
	}
	id := r.PathValue("status")
	st, err := s.d.Store.TAXIIStatus(r.Context(), id)
	if err == nil && !c.Provider && st.Owner != c.Tenant {
		err = fmt.Errorf("%w: status %s", ErrNotFound, id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
