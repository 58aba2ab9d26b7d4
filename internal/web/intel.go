package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Intel is the intel service as the API uses it (indicators.Service).
type Intel interface {
	Add(ctx context.Context, i intel.Indicator) (intel.Indicator, error)
	Get(ctx context.Context, id string, viewer tenant.ID, provider bool) (intel.Indicator, error)
	List(ctx context.Context, f intel.Filter) ([]intel.Indicator, int64, error)
	Revoke(ctx context.Context, id string, owner tenant.ID, provider bool) (intel.Indicator, error)
	Sightings(ctx context.Context, id string, viewer tenant.ID, provider bool) ([]intel.Sighting, error)
	RetroHunts(ctx context.Context, id string, t tenant.ID, limit int) ([]intel.RetroHunt, error)
	QueuedHunts(ctx context.Context) (int64, error)
	ImportFile(ctx context.Context, name string, data []byte, opts intel.ImportOptions) (intel.Summary, error)
	Export(ctx context.Context, viewer tenant.ID, provider bool) ([]byte, error)
}

// maxIntelImport bounds one imported file.
const maxIntelImport = 256 << 20

func (a *API) registerIntel() {
	a.route("GET /api/v1/intel/indicators", readers, a.getIndicators)
	a.route("POST /api/v1/intel/indicators", responders, a.postIndicator)
	a.route("GET /api/v1/intel/indicators/{id}", readers, a.getIndicator)
	a.route("POST /api/v1/intel/indicators/{id}/revoke", responders, a.postRevokeIndicator)
	a.route("POST /api/v1/intel/import", responders, a.postIntelImport)
	a.route("GET /api/v1/intel/export", readers, a.getIntelExport)
	a.route("GET /api/v1/intel/hunts", readers, a.getRetroHunts)
}

func (a *API) intelEnabled() error {
	if a.d.Intel == nil {
		return &apiError{http.StatusNotFound, "not_found", "this server has no threat intelligence"}
	}
	return nil
}

// intelReader resolves who reads: provider staff read every indicator
// (naming a tenant reads what applies to it, audited); members what
// applies to them; ingest tokens nothing.
func (a *API) intelReader(r *http.Request, p auth.Principal, action string) (viewer tenant.ID, provider bool, err error) {
	if err := a.intelEnabled(); err != nil {
		return "", false, err
	}
	requested := r.URL.Query().Get("tenant")
	switch {
	case p.Role == auth.RoleIngest:
		return "", false, fmt.Errorf("%w: ingest tokens may not read intelligence", auth.ErrForbidden)
	case p.Role.Provider() && (requested == "" || requested == auth.AllTenants):
		return "", true, nil
	case p.Role.Provider():
		t, err := tenant.Parse(requested)
		if err != nil {
			return "", false, err
		}
		if _, err := a.d.Tenants.Tenant(r.Context(), t); err != nil {
			return "", false, err
		}
		return t, false, a.auditProviderRead(r, p, action, t)
	}
	if requested != "" && tenant.ID(requested) != p.Tenant {
		return "", false, fmt.Errorf("%w: this principal reads tenant %s's intelligence only", auth.ErrForbidden, p.Tenant)
	}
	return p.Tenant, false, nil
}

// intelWriter resolves the owner of what p writes: provider staff write
// the provider's (or, naming a tenant, that member's); a member's admin
// and analysts their own; viewers and ingest tokens nothing.
func (a *API) intelWriter(ctx context.Context, p auth.Principal, requested string) (tenant.ID, error) {
	if err := a.intelEnabled(); err != nil {
		return "", err
	}
	switch p.Role {
	case auth.RoleProviderAdmin, auth.RoleProviderAnalyst:
		if requested == "" {
			return "", nil
		}
		t, err := tenant.Parse(requested)
		if err != nil {
			return "", err
		}
		_, err = a.d.Tenants.Tenant(ctx, t)
		return t, err
	case auth.RoleTenantAdmin, auth.RoleTenantAnalyst:
		if requested != "" && tenant.ID(requested) != p.Tenant {
			return "", fmt.Errorf("%w: tenant %s", tenant.ErrNotFound, requested)
		}
		return p.Tenant, nil
	}
	return "", fmt.Errorf("%w: role %s may not change intelligence", auth.ErrForbidden, p.Role)
}

// audience reads "all" or "a,b,c"; only provider staff choose one.
func (a *API) audience(ctx context.Context, p auth.Principal, s string) ([]tenant.ID, error) {
	if s == "" || s == "all" {
		return nil, nil
	}
	if !p.Role.Provider() {
		return nil, badRequest("audience: a member's indicators are its own; only the provider shares with chosen members")
	}
	var out []tenant.ID
	for part := range strings.SplitSeq(s, ",") {
		t, err := tenant.Parse(strings.TrimSpace(part))
		if err != nil {
			return nil, badRequest("audience: " + err.Error())
		}
		if _, err := a.d.Tenants.Tenant(ctx, t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func (a *API) getIndicators(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	viewer, provider, err := a.intelReader(r, p, "intel.read")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := intel.Filter{Viewer: viewer, Provider: provider, Limit: 100, Revoked: q.Get("revoked") == "true"}
	if s := q.Get("type"); s != "" {
		if f.Type, err = intel.ParseType(s); err != nil {
			return badRequest(err.Error())
		}
	}
	if s := q.Get("value"); s != "" {
		if f.Type == "" {
			return badRequest("value: name the observable's type too (type=)")
		}
		if f.Value, err = intel.Normalize(f.Type, s); err != nil {
			return badRequest("value: " + err.Error())
		}
	}
	if s := q.Get("limit"); s != "" {
		if f.Limit, err = strconv.Atoi(s); err != nil || f.Limit < 1 || f.Limit > 10_000 {
			return badRequest("limit: want 1..10000")
		}
	}
	if s := q.Get("after"); s != "" {
		if f.After, err = strconv.ParseInt(s, 10, 64); err != nil || f.After < 0 {
			return badRequest("after: want the next value of the previous page")
		}
	}
	is, next, err := a.d.Intel.List(r.Context(), f)
	if err != nil {
		return err
	}
	if is == nil {
		is = []intel.Indicator{}
	}
	out := map[string]any{"indicators": is}
	if next > 0 {
		out["next"] = strconv.FormatInt(next, 10)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type indicatorRequest struct {
	Tenant      string     `json:"tenant"`
	Type        string     `json:"type"`
	Value       string     `json:"value"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	TLP         string     `json:"tlp"`
	Confidence  *int       `json:"confidence"`
	ValidUntil  *time.Time `json:"valid_until"`
	Tags        []string   `json:"tags"`
	Attack      []string   `json:"attack"`
	Audience    string     `json:"audience"`
}

func (a *API) postIndicator(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req indicatorRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, maxActionBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return badRequest("JSON body: " + err.Error())
	}
	owner, err := a.intelWriter(r.Context(), p, req.Tenant)
	if err != nil {
		return err
	}
	typ, err := intel.ParseType(req.Type)
	if err != nil {
		return badRequest(err.Error())
	}
	v, err := intel.Normalize(typ, req.Value)
	if err != nil {
		return badRequest(err.Error())
	}
	i := intel.Indicator{Name: req.Name, Description: req.Description, Observables: []intel.Observable{{Type: typ, Value: v}},
		Owner: owner, Tags: req.Tags, Attack: req.Attack, Confidence: 50, Source: "manual:" + p.TokenID}
	if req.Confidence != nil {
		i.Confidence = *req.Confidence
	}
	if req.TLP != "" {
		if i.TLP, err = intel.ParseTLP(req.TLP); err != nil {
			return badRequest(err.Error())
		}
	}
	if req.ValidUntil != nil {
		i.ValidUntil = req.ValidUntil.UTC()
	}
	if owner == "" {
		if i.Audience, err = a.audience(r.Context(), p, req.Audience); err != nil {
			return err
		}
	}
	i, err = a.d.Intel.Add(r.Context(), i)
	if err != nil {
		return badRequest(err.Error())
	}
	if err := a.auditIntel(r.Context(), p, "intel.add", owner, i.ID, nil, i); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, i)
	return nil
}

func (a *API) auditIntel(ctx context.Context, p auth.Principal, action string, t tenant.ID, id string, before, after any) error {
	detail, err := json.Marshal(map[string]any{"id": id, "before": before, "after": after})
	if err != nil {
		return err
	}
	if err := a.audit(ctx, p, action, string(t), string(detail)); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

func (a *API) getIndicator(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	viewer, provider, err := a.intelReader(r, p, "intel.read")
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	i, err := a.d.Intel.Get(r.Context(), id, viewer, provider)
	if err != nil {
		return err
	}
	ss, err := a.d.Intel.Sightings(r.Context(), id, viewer, provider)
	if err != nil {
		return err
	}
	if ss == nil {
		ss = []intel.Sighting{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"indicator": i, "sightings": ss})
	return nil
}

func (a *API) postRevokeIndicator(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	owner, err := a.intelWriter(r.Context(), p, "")
	if err != nil {
		return err
	}
	i, err := a.d.Intel.Revoke(r.Context(), r.PathValue("id"), owner, p.Role.Provider())
	if err != nil {
		return err
	}
	if err := a.auditIntel(r.Context(), p, "intel.revoke", i.Owner, i.ID, nil, map[string]bool{"revoked": true}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, i)
	return nil
}

// postIntelImport imports one file (body) named by ?name= (a STIX
// bundle, a MISP event or manifest, a CSV list), with the defaults
// ?tlp=, ?audience= and ?tenant= (owner).
func (a *API) postIntelImport(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	q := r.URL.Query()
	owner, err := a.intelWriter(r.Context(), p, q.Get("tenant"))
	if err != nil {
		return err
	}
	opts := intel.ImportOptions{Owner: owner, Source: q.Get("source"), Now: time.Now().UTC(), TLP: intel.TLPAmber}
	if s := q.Get("tlp"); s != "" {
		if opts.TLP, err = intel.ParseTLP(s); err != nil {
			return badRequest(err.Error())
		}
	}
	if owner == "" {
		if opts.Audience, err = a.audience(r.Context(), p, q.Get("audience")); err != nil {
			return err
		}
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxIntelImport+1))
	if err != nil {
		return badRequest("body: " + err.Error())
	}
	if len(data) > maxIntelImport {
		return &apiError{http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("an import file may be %d MiB at most", maxIntelImport>>20)}
	}
	name := q.Get("name")
	if opts.Source == "" {
		opts.Source = name
	}
	sum, err := a.d.Intel.ImportFile(r.Context(), name, data, opts)
	if err != nil {
		var bad interface{ BadInput() bool }
		if errors.As(err, &bad) && bad.BadInput() {
			return badRequest(err.Error())
		}
		return err
	}
	if sum.Skipped == nil {
		sum.Skipped = []intel.Skip{}
	}
	detail := map[string]any{"file": name, "imported": sum.Imported, "updated": sum.Updated, "skipped": len(sum.Skipped)}
	if err := a.auditIntel(r.Context(), p, "intel.import", owner, name, nil, detail); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sum)
	return nil
}

func (a *API) getIntelExport(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	viewer, provider, err := a.intelReader(r, p, "intel.export")
	if err != nil {
		return err
	}
	b, err := a.d.Intel.Export(r.Context(), viewer, provider)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/stix+json;version=2.1")
	_, err = w.Write(b)
	return err
}

// huntJSON is a retro-hunt with what its indicator looks for, for people
// to read ("domain evil.example", "pattern").
type huntJSON struct {
	intel.RetroHunt
	Observable string `json:"observable,omitempty"`
}

// observableText is an indicator's first observable ("domain evil.example",
// "+N more" for the rest), or its name for a pattern alone.
func observableText(ind intel.Indicator) string {
	if len(ind.Observables) == 0 {
		if ind.Name != "" {
			return "pattern: " + ind.Name
		}
		return "pattern"
	}
	o := ind.Observables[0]
	s := string(o.Type) + " " + o.Value
	if n := len(ind.Observables) - 1; n > 0 {
		s += fmt.Sprintf(" (+%d more)", n)
	}
	return s
}

func (a *API) getRetroHunts(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	viewer, provider, err := a.intelReader(r, p, "intel.read")
	if err != nil {
		return err
	}
	id := r.URL.Query().Get("indicator")
	if id != "" {
		if _, err := a.d.Intel.Get(r.Context(), id, viewer, provider); err != nil {
			return err
		}
	}
	t := viewer
	if provider {
		t = ""
	}
	hs, err := a.d.Intel.RetroHunts(r.Context(), id, t, 100)
	if err != nil {
		return err
	}
	js := make([]huntJSON, len(hs))
	seen := map[string]string{}
	for i, h := range hs {
		obs, ok := seen[h.IndicatorID]
		if !ok {
			// A hunt runs only where its indicator applies, so its
			// viewer may read it; one it no longer may is left unnamed.
			if ind, err := a.d.Intel.Get(r.Context(), h.IndicatorID, viewer, provider); err == nil {
				obs = observableText(ind)
			}
			seen[h.IndicatorID] = obs
		}
		js[i] = huntJSON{RetroHunt: h, Observable: obs}
	}
	out := map[string]any{"hunts": js}
	if provider {
		// The queue holds every member's indicators: its length is the
		// provider's to see.
		n, err := a.d.Intel.QueuedHunts(r.Context())
		if err != nil {
			return err
		}
		out["queued"] = n
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
