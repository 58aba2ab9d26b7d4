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

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/defend"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Alerts is the alert queue as the API uses it (alert.Pipeline).
type Alerts interface {
	Alerts(ctx context.Context, t tenant.ID, f alert.Filter) ([]alert.Alert, error)
	Alert(ctx context.Context, t tenant.ID, id int64) (alert.Alert, error)
	AlertTenant(ctx context.Context, id int64) (tenant.ID, error)
	AlertTimes(ctx context.Context, t tenant.ID, from, to time.Time, fn func(alert.Alert) error) error
	Act(ctx context.Context, t tenant.ID, id int64, actor string, act alert.Action) (before, after alert.Alert, err error)
	Suppressions(ctx context.Context, t tenant.ID) ([]alert.Suppression, error)
	AddSuppression(ctx context.Context, s alert.Suppression) (alert.Suppression, error)
	RemoveSuppression(ctx context.Context, t tenant.ID, id int64) (alert.Suppression, error)
	Assets(ctx context.Context, t tenant.ID) ([]alert.Asset, error)
	SetAsset(ctx context.Context, a alert.Asset) error
	Config() alert.Config
	Now() time.Time
}

// AlertJSON is an alert as the API (and the stream) shows it.
type AlertJSON struct {
	ID           int64             `json:"id"`
	Tenant       tenant.ID         `json:"tenant"`
	Producer     alert.Producer    `json:"producer"`
	RuleID       string            `json:"rule_id"`
	Title        string            `json:"title"`
	Author       string            `json:"author"`
	References   []string          `json:"references"`
	Level        string            `json:"level"`
	Risk         int               `json:"risk"`
	Status       alert.Status      `json:"status"`
	Resolution   alert.Resolution  `json:"resolution,omitempty"`
	Assignee     string            `json:"assignee"`
	Note         string            `json:"note,omitempty"`
	Count        int64             `json:"count"`
	EventTime    time.Time         `json:"event_time"`
	FirstSeen    time.Time         `json:"first_seen"`
	LastSeen     time.Time         `json:"last_seen"`
	Received     time.Time         `json:"received,omitzero"`
	Created      time.Time         `json:"created"`
	Updated      time.Time         `json:"updated"`
	Acknowledged time.Time         `json:"acknowledged,omitzero"`
	Resolved     time.Time         `json:"resolved,omitzero"`
	Escalated    time.Time         `json:"escalated,omitzero"`
	Incident     int64             `json:"incident"`
	Entities     []alert.Entity    `json:"entities"`
	Host         string            `json:"host"`
	User         string            `json:"user"`
	Tags         []string          `json:"tags"`
	Fields       map[string]string `json:"fields"`
	SLA          alert.SLAState    `json:"sla"`
	// EventRef is the first event's reference ("SEQ:INDEX").
	EventRef string `json:"event_ref"`
	// Evidence (the first alert.MaxEvidence event references) is shown by
	// the one-alert view only.
	Evidence []string `json:"evidence,omitempty"`
	// History is every analyst's change, oldest first (the one-alert view
	// only).
	History []alert.Step `json:"history,omitzero"`
	// AlsoSeen is how many other members saw one of the alert's external
	// observables; omitted below the k-anonymity threshold.
	AlsoSeen int `json:"also_seen,omitempty"`
}

// NewAlertJSON shows al with its service-level standing at now; evidence
// is the one-alert view's (evidence and history).
func NewAlertJSON(al alert.Alert, cfg alert.Config, now time.Time, evidence bool) AlertJSON {
	fields := map[string]string{}
	for _, f := range al.Fields {
		fields[f.Name] = f.Value
	}
	j := AlertJSON{
		ID: al.ID, Tenant: al.Tenant, Producer: al.Producer, RuleID: al.RuleID, Title: al.Title, Author: al.Author,
		References: nonNil(al.References), Level: al.Level, Risk: al.Risk, Status: al.Status, Resolution: al.Resolution,
		Assignee: al.Assignee, Note: al.Note, Count: al.Count, EventTime: al.EventTime, FirstSeen: al.FirstSeen,
		LastSeen: al.LastSeen, Received: al.Received, Created: al.Created, Updated: al.Updated,
		Acknowledged: al.Acknowledged, Resolved: al.Resolved, Escalated: al.Escalated, Incident: al.Incident,
		Entities: al.Entities, Host: al.Host(), User: al.User(), Tags: nonNil(al.Tags), Fields: fields,
		SLA: cfg.SLAOf(al, now),
	}
	if j.Entities == nil {
		j.Entities = []alert.Entity{}
	}
	if len(al.Evidence) > 0 {
		j.EventRef = al.Evidence[0]
	}
	if evidence {
		j.Evidence, j.History = nonNil(al.Evidence), al.History
		if j.History == nil {
			j.History = []alert.Step{}
		}
	}
	return j
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// getAlerts lists alerts newest first (by id), or with sort=risk riskiest
// first (then newest), a page of at most limit; next_cursor, set when more
// alerts match, is the cursor of the next page.
func (a *API) getAlerts(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	q := r.URL.Query()
	f := alert.Filter{Status: alert.Status(q.Get("status")), Level: q.Get("severity"), RuleID: q.Get("rule"), Assignee: q.Get("assignee"),
		Producer: alert.Producer(q.Get("producer")), Limit: 1000}
	if f.Producer != "" && !alert.ValidProducer(f.Producer) {
		return badRequest(fmt.Sprintf("producer %q: want one of %s", f.Producer, alert.Producers))
	}
	if f.Level != "" && !alert.ValidLevel(f.Level) {
		return badRequest(fmt.Sprintf("severity %q: want one of %s", f.Level, alert.Levels))
	}
	if f.Status != "" && !alert.ValidStatus(f.Status) {
		return badRequest(fmt.Sprintf("status %q: want one of %s", f.Status, alert.Statuses))
	}
	if s := q.Get("incident"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return badRequest("incident: want an incident number")
		}
		f.Incident = n
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100000 {
			return badRequest("limit: want 1..100000")
		}
		f.Limit = n
	}
	now := a.d.Alerts.Now()
	var err error
	if f.CreatedFrom, err = parseTime(q.Get("from"), now); err != nil {
		return badRequest("from: " + err.Error())
	}
	if f.CreatedTo, err = parseTime(q.Get("to"), now); err != nil {
		return badRequest("to: " + err.Error())
	}
	if !f.CreatedFrom.IsZero() && !f.CreatedTo.IsZero() && !f.CreatedFrom.Before(f.CreatedTo) {
		return badRequest("from must be before to")
	}
	switch q.Get("sort") {
	case "", "newest":
	case "risk":
		f.ByRisk = true
	case "sla":
		f.BySLA, f.SLA = true, a.d.Alerts.Config().SLAFor
	default:
		return badRequest(fmt.Sprintf("sort %q: want newest, risk or sla", q.Get("sort")))
	}
	if s := q.Get("cursor"); s != "" {
		if err := parseCursor(s, &f); err != nil {
			return badRequest("cursor: not one this API returned as next_cursor for this sort")
		}
	}
	ids, err := a.scope(r, p, "alerts.read")
	if err != nil {
		return err
	}
	limit := f.Limit
	// One more tells whether there is a next page.
	as, err := newestAcross(r.Context(), a.d.Alerts, ids, f, limit+1)
	if err != nil {
		return err
	}
	cfg := a.d.Alerts.Config()
	out := make([]AlertJSON, 0, len(as))
	for _, al := range as {
		out = append(out, NewAlertJSON(al, cfg, now, false))
	}
	resp := map[string]any{}
	if len(out) > limit {
		out = out[:limit]
		resp["next_cursor"] = cursorOf(f, as[limit-1])
	}
	if err := a.alsoSeen(r.Context(), p, out); err != nil {
		return err
	}
	resp["alerts"] = out
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// cursorOf is the cursor of the page after a: its ID, by risk "RISK.ID",
// by deadline "DUE.ID" (DUE: alert.Filter.Due).
func cursorOf(f alert.Filter, a alert.Alert) string {
	switch {
	case f.BySLA:
		return strconv.FormatInt(f.Due(a), 10) + "." + strconv.FormatInt(a.ID, 10)
	case f.ByRisk:
		return strconv.Itoa(a.Risk) + "." + strconv.FormatInt(a.ID, 10)
	}
	return strconv.FormatInt(a.ID, 10)
}

// parseCursor sets f's cursor from s, a cursorOf of f's order.
func parseCursor(s string, f *alert.Filter) error {
	id := s
	switch {
	case f.BySLA:
		due, rest, ok := strings.Cut(s, ".")
		n, err := strconv.ParseInt(due, 10, 64)
		if !ok || err != nil || n < 0 {
			return errors.New("bad cursor")
		}
		f.BeforeDue, id = n, rest
	case f.ByRisk:
		risk, rest, ok := strings.Cut(s, ".")
		n, err := strconv.Atoi(risk)
		if !ok || err != nil || n < 0 || n > 100 {
			return errors.New("bad cursor")
		}
		f.BeforeRisk, id = n, rest
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n < 1 {
		return errors.New("bad cursor")
	}
	f.Before = n
	return nil
}

// alertOf finds the alert of the request's {id} that p may see: a tenant
// role's own tenant's, a provider role's in any tenant (audited). Any
// other is not found.
func (a *API) alertOf(r *http.Request, p auth.Principal, action string) (alert.Alert, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return alert.Alert{}, fmt.Errorf("%w: alert %q", alert.ErrNotFound, r.PathValue("id"))
	}
	var t tenant.ID
	switch {
	case p.Role.Provider():
		if t, err = a.d.Alerts.AlertTenant(r.Context(), id); err != nil {
			return alert.Alert{}, err
		}
		if err := a.audit(r.Context(), p, action, string(t), "alert="+strconv.FormatInt(id, 10)); err != nil {
			return alert.Alert{}, fmt.Errorf("audit: %w", err)
		}
	case p.Role == auth.RoleIngest:
		return alert.Alert{}, fmt.Errorf("%w: role %s may not read alerts", auth.ErrForbidden, p.Role)
	default:
		t = p.Tenant
	}
	return a.d.Alerts.Alert(r.Context(), t, id)
}

func (a *API) getAlert(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	al, err := a.alertOf(r, p, "alerts.read")
	if err != nil {
		return err
	}
	out := []AlertJSON{NewAlertJSON(al, a.d.Alerts.Config(), a.d.Alerts.Now(), true)}
	if err := a.alsoSeen(r.Context(), p, out); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out[0])
	return nil
}

// canTriage reports whether p may change tenant t's alerts: provider
// roles anywhere, a tenant's admins and analysts in their own.
func canTriage(p auth.Principal, t tenant.ID) bool {
	switch p.Role {
	case auth.RoleProviderAdmin, auth.RoleProviderAnalyst:
		return true
	case auth.RoleTenantAdmin, auth.RoleTenantAnalyst:
		return p.Tenant == t
	}
	return false
}

// maxActionBody caps an alert action's JSON body.
const maxActionBody = 64 << 10

// postAlertAction applies POST /api/v1/alerts/{id}/{verb}: ack, assign
// {"to"}, resolve {"as","note"}, escalate, reopen, comment {"note"}.
func (a *API) postAlertAction(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	verb := r.PathValue("verb")
	var body struct {
		To   string           `json:"to"`
		As   alert.Resolution `json:"as"`
		Note string           `json:"note"`
		// NoShare keeps a provider's true positive from being shared.
		NoShare bool `json:"no_share"`
	}
	if r.ContentLength != 0 {
		dec := json.NewDecoder(io.LimitReader(r.Body, maxActionBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil && err != io.EOF {
			return badRequest("JSON body: " + err.Error())
		}
	}
	al, err := a.alertOf(r, p, "alerts.read")
	if err != nil {
		return err
	}
	if !canTriage(p, al.Tenant) {
		return fmt.Errorf("%w: role %s may not change alerts", auth.ErrForbidden, p.Role)
	}
	act := alert.Action{Verb: verb, Assignee: strings.TrimSpace(body.To), Resolution: body.As, Note: body.Note}
	before, after, err := a.d.Alerts.Act(r.Context(), al.Tenant, al.ID, p.TokenID, act)
	if err != nil {
		return err
	}
	changed := triage(after)
	if verb == alert.VerbComment {
		changed["comment"] = act.Note
	}
	if err := a.auditChange(r.Context(), p, "alert."+verb, al.Tenant, al.ID, triage(before), changed); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	shared, err := a.share(r.Context(), p, before, after, body.NoShare)
	if err != nil {
		return err
	}
	withdrawn, err := a.withdraw(r.Context(), p, before, after)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		AlertJSON
		Shared *defend.Shared `json:"shared,omitempty"`
		// Withdrawn are the indicators a reopened confirmation had shared,
		// now revoked.
		Withdrawn []string `json:"withdrawn,omitempty"`
	}{NewAlertJSON(after, a.d.Alerts.Config(), a.d.Alerts.Now(), true), shared, withdrawn})
	return nil
}

// triage is the part of an alert an action changes, for the audit trail.
func triage(al alert.Alert) map[string]any {
	return map[string]any{"status": al.Status, "resolution": al.Resolution, "assignee": al.Assignee, "note": al.Note}
}
