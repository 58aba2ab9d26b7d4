package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/detector"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Rules manages the detection rule set.
type Rules interface {
	Import(ctx context.Context, t tenant.ID, files []detector.ImportFile) (detector.ImportResult, error)
	SetPlaceholders(ctx context.Context, t tenant.ID, p map[string][]string) error
	Placeholders(t tenant.ID) map[string][]string
	Rules(t tenant.ID) []detector.RuleInfo
	SetEnabled(ctx context.Context, t tenant.ID, ruleID string, enabled bool) error
	// Delete removes a shared rule (t empty) or one of t's own filter
	// documents.
	Delete(ctx context.Context, t tenant.ID, ruleID string) (detector.Deleted, error)
	// Coverage is the ATT&CK coverage of t's enabled rules given the log
	// sources its events have come from.
	Coverage(t tenant.ID) detector.Coverage
}

// maxRulesBody caps a rules import request.
const maxRulesBody = 256 << 20

func (a *API) postRules(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	t, err := ruleTenant(r, p)
	if err != nil {
		return err
	}
	switch {
	case t == "" && p.Role != auth.RoleProviderAdmin:
		return fmt.Errorf("%w: only provider-admin may import shared rules", auth.ErrForbidden)
	case t != "" && !p.CanAdminister(t):
		return fmt.Errorf("%w: a tenant's filters are for provider-admin or the tenant's admin", auth.ErrForbidden)
	}
	if t != "" {
		if _, err := a.d.Tenants.Tenant(r.Context(), t); err != nil {
			return err
		}
	}
	var req struct {
		Files []detector.ImportFile `json:"files"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxRulesBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return badRequest("JSON body: " + err.Error())
	}
	if len(req.Files) == 0 {
		return badRequest("no files: send {\"files\":[{\"name\":...,\"data\":<base64>}]}")
	}
	res, err := a.d.Rules.Import(r.Context(), t, req.Files)
	if err != nil {
		return err
	}
	scope := string(t)
	if scope == "" {
		scope = auth.AllTenants
	}
	if err := a.audit(r.Context(), p, "rules.import", scope, fmt.Sprintf("files=%d imported=%d failed=%d", res.Files, res.Imported, len(res.Failed))); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// ruleTenant is the tenant a rule request is about: a tenant role's own,
// or the one a provider names.
func ruleTenant(r *http.Request, p auth.Principal) (tenant.ID, error) {
	requested := r.URL.Query().Get("tenant")
	if p.Role.Provider() {
		if requested == "" {
			return "", nil
		}
		return tenant.Parse(requested)
	}
	if requested != "" && requested != string(p.Tenant) {
		return "", fmt.Errorf("%w: this token may act on tenant %s only", auth.ErrForbidden, p.Tenant)
	}
	return p.Tenant, nil
}

func (a *API) getRules(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	t, err := ruleTenant(r, p)
	if err != nil {
		return err
	}
	if err := a.auditProviderRead(r, p, "rules.read", t); err != nil {
		return err
	}
	rules := a.d.Rules.Rules(t)
	writeJSON(w, http.StatusOK, map[string]any{"tenant": t, "rules": rules, "logsources": detector.Summarize(rules)})
	return nil
}

func (a *API) postRuleSwitch(enabled bool) handler {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		t, err := ruleTenant(r, p)
		if err != nil {
			return err
		}
		if t == "" {
			return badRequest("tenant is required: rules are switched per tenant")
		}
		if !p.CanAdminister(t) {
			return fmt.Errorf("%w: switching rules is for provider-admin or the tenant's admin", auth.ErrForbidden)
		}
		if _, err := a.d.Tenants.Tenant(r.Context(), t); err != nil {
			return err
		}
		id := r.PathValue("id")
		if err := a.d.Rules.SetEnabled(r.Context(), t, id, enabled); err != nil {
			return err
		}
		action := "rule.disable"
		if enabled {
			action = "rule.enable"
		}
		if err := a.audit(r.Context(), p, action, string(t), id); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"tenant": t, "rule_id": id, "enabled": enabled})
		return nil
	}
}

// deleteRule deletes a rule: provider-admin deletes a shared rule (no
// tenant) or a tenant's filter document; a tenant's admin deletes its
// tenant's own filter documents only, and switches shared rules off
// instead. Another tenant's filter is not found.
func (a *API) deleteRule(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	t, err := ruleTenant(r, p)
	if err != nil {
		return err
	}
	switch {
	case t == "" && p.Role != auth.RoleProviderAdmin:
		return fmt.Errorf("%w: only provider-admin may delete shared rules", auth.ErrForbidden)
	case t != "" && !p.CanAdminister(t):
		return fmt.Errorf("%w: a tenant's filters are deleted by provider-admin or the tenant's admin", auth.ErrForbidden)
	}
	if t != "" {
		if _, err := a.d.Tenants.Tenant(r.Context(), t); err != nil {
			return err
		}
	}
	id := r.PathValue("id")
	d, err := a.d.Rules.Delete(r.Context(), t, id)
	switch {
	case errors.Is(err, detector.ErrSharedRule):
		return fmt.Errorf("%w: %w", auth.ErrForbidden, err)
	case errors.Is(err, detector.ErrRuleInUse):
		return &apiError{http.StatusConflict, "rule_in_use", err.Error()}
	case err != nil:
		return err
	}
	scope := string(t)
	if scope == "" {
		scope = auth.AllTenants
	}
	if err := a.audit(r.Context(), p, "rule.delete", scope, fmt.Sprintf("%s %s %q files=%s", id, d.Kind, d.Title, strings.Join(d.Files, ","))); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// auditProviderRead records a provider role's read of one named tenant's
// settings (rules, placeholders, cloud sources), as scope does for data.
func (a *API) auditProviderRead(r *http.Request, p auth.Principal, action string, t tenant.ID) error {
	if !p.Role.Provider() || t == "" {
		return nil
	}
	if err := a.audit(r.Context(), p, action, string(t), r.URL.RawQuery); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// placeholderTenant is the tenant of a placeholder request; it must be
// named by provider roles.
func placeholderTenant(r *http.Request, p auth.Principal) (tenant.ID, error) {
	t, err := ruleTenant(r, p)
	if err == nil && t == "" {
		err = badRequest("tenant is required: placeholders are per tenant")
	}
	return t, err
}

func (a *API) getPlaceholders(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	t, err := placeholderTenant(r, p)
	if err != nil {
		return err
	}
	if _, err := a.d.Tenants.Tenant(r.Context(), t); err != nil {
		return err
	}
	if err := a.auditProviderRead(r, p, "placeholders.read", t); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"tenant": t, "placeholders": a.d.Rules.Placeholders(t)})
	return nil
}

func (a *API) putPlaceholders(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	t, err := placeholderTenant(r, p)
	if err != nil {
		return err
	}
	if !p.CanAdminister(t) {
		return fmt.Errorf("%w: placeholders are set by provider-admin or the tenant's admin", auth.ErrForbidden)
	}
	if _, err := a.d.Tenants.Tenant(r.Context(), t); err != nil {
		return err
	}
	var req struct {
		Placeholders map[string][]string `json:"placeholders"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if err := a.d.Rules.SetPlaceholders(r.Context(), t, req.Placeholders); err != nil {
		return err
	}
	names := make([]string, 0, len(req.Placeholders))
	for n := range req.Placeholders {
		names = append(names, n)
	}
	sort.Strings(names)
	if err := a.audit(r.Context(), p, "placeholders.set", string(t), fmt.Sprint(names)); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"tenant": t, "placeholders": a.d.Rules.Placeholders(t)})
	return nil
}
