package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/detector"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Rules manages the detection rule set.
type Rules interface {
	Import(ctx context.Context, files []detector.ImportFile) (detector.ImportResult, error)
	Rules(t tenant.ID) []detector.RuleInfo
	SetEnabled(ctx context.Context, t tenant.ID, ruleID string, enabled bool) error
}

// maxRulesBody caps a rules import request.
const maxRulesBody = 256 << 20

type alertJSON struct {
	ID        int64             `json:"id"`
	Tenant    tenant.ID         `json:"tenant"`
	RuleID    string            `json:"rule_id"`
	Title     string            `json:"title"`
	Author    string            `json:"author"`
	Level     string            `json:"level"`
	Tags      []string          `json:"tags"`
	EventRef  string            `json:"event_ref"`
	EventTime time.Time         `json:"event_time"`
	Created   time.Time         `json:"created"`
	Fields    map[string]string `json:"fields"`
	Status    string            `json:"status"`
}

func (a *API) getAlerts(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	q := r.URL.Query()
	f := alert.Filter{Status: q.Get("status"), Level: q.Get("severity"), Limit: 1000}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100000 {
			return badRequest("limit: want 1..100000")
		}
		f.Limit = n
	}
	ids, err := a.scope(r, p, "alerts.read")
	if err != nil {
		return err
	}
	out := []alertJSON{}
	for _, t := range ids {
		as, err := a.d.Alerts.Alerts(r.Context(), t, f)
		if err != nil {
			return err
		}
		for _, al := range as {
			fields := map[string]string{}
			for _, fl := range al.Fields {
				fields[fl.Name] = fl.Value
			}
			tags := al.Tags
			if tags == nil {
				tags = []string{}
			}
			out = append(out, alertJSON{al.ID, al.Tenant, al.RuleID, al.Title, al.Author, al.Level, tags, al.EventRef, al.EventTime, al.Created, fields, al.Status})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	if len(out) > f.Limit {
		out = out[:f.Limit]
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": out})
	return nil
}

func (a *API) postRules(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if p.Role != auth.RoleProviderAdmin {
		return fmt.Errorf("%w: only provider-admin may import rules", auth.ErrForbidden)
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
	res, err := a.d.Rules.Import(r.Context(), req.Files)
	if err != nil {
		return err
	}
	if err := a.audit(r.Context(), p, "rules.import", auth.AllTenants, fmt.Sprintf("files=%d imported=%d failed=%d", res.Files, res.Imported, len(res.Failed))); err != nil {
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
	if p.Role == auth.RoleIngest {
		return fmt.Errorf("%w: ingest tokens may not read rules", auth.ErrForbidden)
	}
	t, err := ruleTenant(r, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"tenant": t, "rules": a.d.Rules.Rules(t)})
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
