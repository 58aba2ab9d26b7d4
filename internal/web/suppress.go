package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/tenant"
)

type suppressionJSON struct {
	ID     int64     `json:"id"`
	Tenant tenant.ID `json:"tenant"`
	RuleID string    `json:"rule_id"`
	// RuleTitle is the rule's title while it is loaded (lists only).
	RuleTitle string            `json:"rule_title,omitempty"`
	Where     []alert.Condition `json:"where"`
	Reason    string            `json:"reason"`
	Author    string            `json:"author"`
	Created   time.Time         `json:"created"`
	Expires   time.Time         `json:"expires,omitzero"`
	Active    bool              `json:"active"`
	Hits      int64             `json:"hits"`
}

func newSuppressionJSON(s alert.Suppression, now time.Time) suppressionJSON {
	where := s.Where
	if where == nil {
		where = []alert.Condition{}
	}
	return suppressionJSON{ID: s.ID, Tenant: s.Tenant, RuleID: s.RuleID, Where: where, Reason: s.Reason, Author: s.Author, Created: s.Created, Expires: s.Expires, Active: s.Active(now), Hits: s.Hits}
}

// writeTenant is the tenant a write names: a tenant role's own (naming
// another is refused), or the one a provider role names (required).
func writeTenant(requested string, p auth.Principal) (tenant.ID, error) {
	if p.Role.Provider() {
		if requested == "" || requested == auth.AllTenants {
			return "", badRequest("tenant: name the member (provider roles act on one tenant at a time)")
		}
		return tenant.Parse(requested)
	}
	if requested != "" && tenant.ID(requested) != p.Tenant {
		return "", fmt.Errorf("%w: tenant %s", tenant.ErrNotFound, requested)
	}
	return p.Tenant, nil
}

// canSuppress reports whether p may manage tenant t's suppressions and
// assets: provider roles, and the tenant's own admin.
func canSuppress(p auth.Principal, t tenant.ID) bool {
	return p.Role.Provider() || (p.Role == auth.RoleTenantAdmin && p.Tenant == t)
}

func (a *API) getSuppressions(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	ids, err := a.scope(r, p, "suppressions.read")
	if err != nil {
		return err
	}
	now := a.d.Alerts.Now()
	out := []suppressionJSON{}
	for _, t := range ids {
		ss, err := a.d.Alerts.Suppressions(r.Context(), t)
		if err != nil {
			return err
		}
		titles, err := a.ruleTitles(r.Context(), t, ss)
		if err != nil {
			return err
		}
		for _, s := range ss {
			j := newSuppressionJSON(s, now)
			j.RuleTitle = titles[s.RuleID]
			out = append(out, j)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"suppressions": out})
	return nil
}

// ruleTitles names the rules of tenant t's suppressions ss: a rule it
// runs (shared or its own) by its title; another (a source-health check,
// a scheduled search, an indicator) by the title of its latest alert at
// t, if any.
func (a *API) ruleTitles(ctx context.Context, t tenant.ID, ss []alert.Suppression) (map[string]string, error) {
	if len(ss) == 0 {
		return nil, nil
	}
	titles := map[string]string{}
	if a.d.Rules != nil {
		for _, ri := range a.d.Rules.Rules(t) {
			titles[ri.ID] = ri.Title
		}
	}
	for _, s := range ss {
		if _, ok := titles[s.RuleID]; ok {
			continue
		}
		as, err := a.d.Alerts.Alerts(ctx, t, alert.Filter{RuleID: s.RuleID, Limit: 1})
		if err != nil {
			return nil, err
		}
		titles[s.RuleID] = ""
		if len(as) > 0 {
			titles[s.RuleID] = as[0].Title
		}
	}
	return titles, nil
}

func (a *API) postSuppression(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req struct {
		Tenant  string            `json:"tenant"`
		RuleID  string            `json:"rule_id"`
		Where   []alert.Condition `json:"where"`
		Reason  string            `json:"reason"`
		Expires time.Time         `json:"expires"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxActionBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return badRequest("JSON body: " + err.Error())
	}
	t, err := writeTenant(req.Tenant, p)
	if err != nil {
		return err
	}
	if !canSuppress(p, t) {
		return fmt.Errorf("%w: suppressions are for provider roles and the tenant's admin", auth.ErrForbidden)
	}
	if _, err := a.d.Tenants.Tenant(r.Context(), t); err != nil {
		return err
	}
	s, err := a.d.Alerts.AddSuppression(r.Context(), alert.Suppression{Tenant: t, RuleID: req.RuleID, Where: req.Where, Reason: req.Reason, Author: p.TokenID, Expires: req.Expires})
	if err != nil {
		return err
	}
	out := newSuppressionJSON(s, a.d.Alerts.Now())
	if err := a.auditChange(r.Context(), p, "suppression.add", t, s.ID, nil, out); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (a *API) deleteSuppression(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return fmt.Errorf("%w: suppression %q", alert.ErrNotFound, r.PathValue("id"))
	}
	requested := r.URL.Query().Get("tenant")
	if p.Role.Provider() && requested == "" {
		if requested, err = a.suppressionTenant(r, id); err != nil {
			return err
		}
	}
	t, err := writeTenant(requested, p)
	if err != nil {
		return err
	}
	if !canSuppress(p, t) {
		return fmt.Errorf("%w: suppressions are for provider roles and the tenant's admin", auth.ErrForbidden)
	}
	s, err := a.d.Alerts.RemoveSuppression(r.Context(), t, id)
	if err != nil {
		return err
	}
	if err := a.auditChange(r.Context(), p, "suppression.remove", t, id, newSuppressionJSON(s, a.d.Alerts.Now()), nil); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	writeJSON(w, http.StatusOK, newSuppressionJSON(s, a.d.Alerts.Now()))
	return nil
}

// suppressionTenant finds the tenant of suppression id, for a provider
// role that did not name it.
func (a *API) suppressionTenant(r *http.Request, id int64) (string, error) {
	ts, err := a.d.Tenants.Tenants(r.Context())
	if err != nil {
		return "", err
	}
	for _, t := range ts {
		ss, err := a.d.Alerts.Suppressions(r.Context(), t.ID)
		if err != nil {
			return "", err
		}
		for _, s := range ss {
			if s.ID == id {
				return string(t.ID), nil
			}
		}
	}
	return "", fmt.Errorf("%w: suppression %d", alert.ErrNotFound, id)
}

func (a *API) getAssets(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	ids, err := a.scope(r, p, "assets.read")
	if err != nil {
		return err
	}
	out := []alert.Asset{}
	for _, t := range ids {
		as, err := a.d.Alerts.Assets(r.Context(), t)
		if err != nil {
			return err
		}
		out = append(out, as...)
	}
	writeJSON(w, http.StatusOK, map[string]any{"assets": out})
	return nil
}

// putAsset sets one host's or user's criticality: {"tenant","type","name","criticality"}.
func (a *API) putAsset(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req alert.Asset
	dec := json.NewDecoder(io.LimitReader(r.Body, maxActionBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return badRequest("JSON body: " + err.Error())
	}
	t, err := writeTenant(string(req.Tenant), p)
	if err != nil {
		return err
	}
	if !canSuppress(p, t) {
		return fmt.Errorf("%w: asset criticality is for provider roles and the tenant's admin", auth.ErrForbidden)
	}
	if _, err := a.d.Tenants.Tenant(r.Context(), t); err != nil {
		return err
	}
	req.Tenant = t
	// The audit record says what the criticality was (before: null when
	// it was normal), so a trail reader sees a downgrade as one.
	var before any
	as, err := a.d.Alerts.Assets(r.Context(), t)
	if err != nil {
		return err
	}
	for _, old := range as {
		if old.Key() == req.Key() {
			before = old
			break
		}
	}
	if err := a.d.Alerts.SetAsset(r.Context(), req); err != nil {
		return err
	}
	if err := a.auditChange(r.Context(), p, "asset.set", t, 0, before, req); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	writeJSON(w, http.StatusOK, req)
	return nil
}
