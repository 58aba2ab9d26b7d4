package web

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/defend"
	"github.com/tarian-soc/tarian/internal/incident"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// registerCases adds the case routes. Every per-case route finds the case
// through incident.Service.Locate and the service's access rules: another
// tenant's case, and a case a member's user may not see yet, are 404
// not_found with the words of a case that does not exist.
func (a *API) registerCases() {
	a.route("GET /api/v1/cases", readers, a.getCases)
	a.route("POST /api/v1/cases", providers, a.postCase)
	a.route("GET /api/v1/cases/templates", providers, a.getCaseTemplates)
	a.route("GET /api/v1/cases/{id}", readers, a.getCase)
	a.route("PATCH /api/v1/cases/{id}", providers, a.patchCase)
	a.route("GET /api/v1/cases/{id}/export", readers, a.getCaseExport)
	a.route("POST /api/v1/cases/{id}/comments", responders, a.postCaseComment)
	a.route("POST /api/v1/cases/{id}/tasks", providers, a.postCaseTask)
	a.route("PATCH /api/v1/cases/{id}/tasks/{task}", providers, a.patchCaseTask)
	a.route("POST /api/v1/cases/{id}/observables", providers, a.postCaseObservables)
	a.route("POST /api/v1/cases/{id}/alerts", providers, a.postCaseAlerts)
	a.route("POST /api/v1/cases/{id}/events", providers, a.postCaseEvent)
	a.route("POST /api/v1/cases/{id}/evidence", providers, a.postCaseEvidence)
	a.route("GET /api/v1/cases/{id}/evidence/{sha256}", readers, a.getCaseEvidence)
	for _, verb := range []string{incident.VerbAssign, incident.VerbEscalate, incident.VerbClose, incident.VerbReopen} {
		a.route("POST /api/v1/cases/{id}/"+verb, providers, a.postCaseAction(verb))
	}
	// The member's staff acknowledge a case escalated to them.
	a.route("POST /api/v1/cases/{id}/"+incident.VerbAcknowledge, memberResponders, a.postCaseAction(incident.VerbAcknowledge))
}

// maxCaseBody caps a case request's JSON body (evidence files have their
// own limit, cases.max_evidence_bytes).
const maxCaseBody = 1 << 20

// caseHeaderJSON is a case as a list shows it: without its parts.
type caseHeaderJSON struct {
	incident.Case
	// These shadow the case's parts, which a list does not show.
	Alerts      *struct{} `json:"alerts,omitempty"`
	Observables *struct{} `json:"observables,omitempty"`
	Tasks       *struct{} `json:"tasks,omitempty"`
	Evidence    *struct{} `json:"evidence,omitempty"`
	Timeline    *struct{} `json:"timeline,omitempty"`
}

func (a *API) casesEnabled() error {
	if a.d.Cases == nil {
		return &apiError{http.StatusNotFound, "not_found", "cases are not enabled on this server"}
	}
	return nil
}

// getCases lists cases newest first: for provider roles every case of
// the scope (tenant=ID or *), for a member's users their tenant's
// escalated cases. A page holds at most limit; next_cursor, set when more
// match, is the cursor of the next.
func (a *API) getCases(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if err := a.casesEnabled(); err != nil {
		return err
	}
	q := r.URL.Query()
	f := incident.Filter{Status: incident.Status(q.Get("status")), Limit: 100}
	if f.Status != "" && !incident.ValidStatus(f.Status) {
		return badRequest(fmt.Sprintf("status %q: want one of %s", f.Status, incident.Statuses))
	}
	if s := q.Get("escalated"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return badRequest("escalated: want true or false")
		}
		f.Escalated = b
	}
	if s := q.Get("alert"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return badRequest("alert: want an alert ID")
		}
		f.Alert = n
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return badRequest("limit: want 1..1000")
		}
		f.Limit = n
	}
	if s := q.Get("cursor"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return badRequest("cursor: not one this API returned as next_cursor")
		}
		f.Before = n
	}
	ids, err := a.scope(r, p, "cases.read")
	if err != nil {
		return err
	}
	limit := f.Limit
	f.Limit++ // one more tells whether there is a next page
	out := []caseHeaderJSON{}
	for _, t := range ids {
		cs, err := a.d.Cases.Cases(r.Context(), p, t, f)
		if err != nil {
			return err
		}
		for _, c := range cs {
			out = append(out, caseHeaderJSON{Case: c.Header()})
		}
	}
	// Case IDs are unique across tenants, so one order pages them all.
	slices.SortFunc(out, func(x, y caseHeaderJSON) int { return -cmpInt64(x.ID, y.ID) })
	resp := map[string]any{}
	if len(out) > limit {
		out = out[:limit]
		resp["next_cursor"] = strconv.FormatInt(out[limit-1].ID, 10)
	}
	resp["cases"] = out
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func cmpInt64(x, y int64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// caseRef is the case a request's {id} names, in the tenant where p may
// look for it.
type caseRef struct {
	t  tenant.ID
	id int64
}

// caseOf locates the request's case for p. A provider role's read of it
// (read set) is audited.
func (a *API) caseOf(r *http.Request, p auth.Principal, read bool) (caseRef, error) {
	if err := a.casesEnabled(); err != nil {
		return caseRef{}, err
	}
	s := r.PathValue("id")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return caseRef{}, fmt.Errorf("%w: case %q", incident.ErrNotFound, s)
	}
	t, err := a.d.Cases.Locate(r.Context(), p, id)
	if err != nil {
		return caseRef{}, err
	}
	if read && p.Role.Provider() {
		if err := a.audit(r.Context(), p, "cases.read", string(t), "case="+strconv.FormatInt(id, 10)); err != nil {
			return caseRef{}, fmt.Errorf("audit: %w", err)
		}
	}
	return caseRef{t, id}, nil
}

// caseSummary is the part of a case the audit trail records before and
// after a change: its header, how many parts it has, and (after) the
// timeline entries the change added.
func caseSummary(c incident.Case, added []incident.Entry) map[string]any {
	done := 0
	for _, tk := range c.Tasks {
		if tk.Done {
			done++
		}
	}
	m := map[string]any{
		"title": c.Title, "severity": c.Severity, "tlp": c.TLP, "status": c.Status, "assignee": c.Assignee,
		"classification": c.Classification, "summary": c.Summary, "closed": c.Closed, "escalated": c.Escalated,
		"acknowledged_by_member": c.AcknowledgedByMember, "acknowledged_by": c.AcknowledgedBy,
		"alerts": len(c.Alerts), "observables": len(c.Observables), "tasks": len(c.Tasks), "tasks_done": done,
		"evidence": len(c.Evidence), "timeline": len(c.Timeline),
	}
	if added != nil {
		m["added"] = added
	}
	return m
}

// auditCase records a change of a case with its state before and after.
func (a *API) auditCase(r *http.Request, p auth.Principal, verb string, before, after incident.Case) error {
	old := map[int64]bool{}
	for _, e := range before.Timeline {
		old[e.ID] = true
	}
	added := []incident.Entry{}
	for _, e := range after.Timeline {
		if !old[e.ID] {
			added = append(added, e)
		}
	}
	if err := a.auditChange(r.Context(), p, "case."+verb, after.Tenant, after.ID, caseSummary(before, nil), caseSummary(after, added)); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

func (a *API) postCase(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if err := a.casesEnabled(); err != nil {
		return err
	}
	if !incident.CanCreate(p) {
		return fmt.Errorf("%w: cases are opened by the provider's analysts", auth.ErrForbidden)
	}
	var req struct {
		Tenant      string  `json:"tenant"`
		Title       string  `json:"title"`
		Description string  `json:"description"`
		Severity    string  `json:"severity"`
		TLP         string  `json:"tlp"`
		Assignee    string  `json:"assignee"`
		FromAlerts  []int64 `json:"from_alerts"`
		Template    string  `json:"template"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.Tenant == "" || req.Tenant == auth.AllTenants {
		return badRequest("tenant: name the member the case is about")
	}
	t, err := tenant.Parse(req.Tenant)
	if err != nil {
		return err
	}
	if _, err := a.d.Tenants.Tenant(r.Context(), t); err != nil {
		return err
	}
	c, err := a.d.Cases.Create(r.Context(), p, t, incident.Draft{
		Title: req.Title, Description: req.Description, Severity: req.Severity, TLP: req.TLP, Assignee: req.Assignee, Alerts: req.FromAlerts,
		Template: req.Template,
	})
	if err != nil {
		return err
	}
	if err := a.auditChange(r.Context(), p, "case.create", t, c.ID, nil, caseSummary(c, c.Timeline)); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

// getCaseTemplates lists the kinds of case a case may be opened with,
// each with its tasks (cases.templates).
func (a *API) getCaseTemplates(w http.ResponseWriter, _ *http.Request, _ auth.Principal) error {
	if err := a.casesEnabled(); err != nil {
		return err
	}
	ts := a.d.Cases.Templates()
	if ts == nil {
		ts = []incident.Template{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"templates": ts})
	return nil
}

func (a *API) getCase(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	ref, err := a.caseOf(r, p, true)
	if err != nil {
		return err
	}
	c, err := a.d.Cases.Case(r.Context(), p, ref.t, ref.id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// caseChange runs one change of the request's case for p, audits it and
// answers with the case after it.
func (a *API) caseChange(w http.ResponseWriter, r *http.Request, p auth.Principal, verb string, change func(ref caseRef) (before, after incident.Case, err error)) error {
	return a.caseAnswer(w, r, p, verb, func(ref caseRef) (incident.Case, incident.Case, any, error) {
		before, after, err := change(ref)
		return before, after, after, err
	})
}

// caseAnswer is caseChange whose change also gives the answer.
func (a *API) caseAnswer(w http.ResponseWriter, r *http.Request, p auth.Principal, verb string, change func(ref caseRef) (before, after incident.Case, answer any, err error)) error {
	ref, err := a.caseOf(r, p, false)
	if err != nil {
		return err
	}
	before, after, answer, err := change(ref)
	if err != nil {
		return err
	}
	if err := a.auditCase(r, p, verb, before, after); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, answer)
	return nil
}

// closedCase is the answer to a case's close: the case, and what its
// true positive shared with every member.
type closedCase struct {
	incident.Case
	Shared *defend.Shared `json:"shared,omitempty"`
}

func (a *API) patchCase(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req struct {
		Title       *string `json:"title"`
		Description *string `json:"description"`
		Severity    *string `json:"severity"`
		TLP         *string `json:"tlp"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	return a.caseChange(w, r, p, incident.VerbUpdate, func(ref caseRef) (incident.Case, incident.Case, error) {
		return a.d.Cases.Update(r.Context(), p, ref.t, ref.id, incident.Patch{Title: req.Title, Description: req.Description, Severity: req.Severity, TLP: req.TLP})
	})
}

func (a *API) postCaseComment(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req struct {
		Text string `json:"text"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	return a.caseChange(w, r, p, incident.VerbComment, func(ref caseRef) (incident.Case, incident.Case, error) {
		return a.d.Cases.Comment(r.Context(), p, ref.t, ref.id, req.Text)
	})
}

func (a *API) postCaseTask(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req struct {
		Title string `json:"title"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	return a.caseChange(w, r, p, incident.VerbTask, func(ref caseRef) (incident.Case, incident.Case, error) {
		return a.d.Cases.AddTask(r.Context(), p, ref.t, ref.id, req.Title)
	})
}

func (a *API) patchCaseTask(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req struct {
		Done *bool `json:"done"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.Done == nil {
		return badRequest(`done is required: {"done":true} or {"done":false}`)
	}
	task, err := strconv.ParseInt(r.PathValue("task"), 10, 64)
	if err != nil || task < 1 {
		return badRequest("task: want the task's number")
	}
	return a.caseChange(w, r, p, incident.VerbTask, func(ref caseRef) (incident.Case, incident.Case, error) {
		return a.d.Cases.SetTask(r.Context(), p, ref.t, ref.id, task, *req.Done)
	})
}

func (a *API) postCaseObservables(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	// One observable ({"type","value"}) or several ({"observables":[...]}).
	var req struct {
		Type        string                `json:"type"`
		Value       string                `json:"value"`
		Observables []incident.Observable `json:"observables"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	obs := req.Observables
	if req.Type != "" || req.Value != "" {
		obs = append(obs, incident.Observable{Type: req.Type, Value: req.Value})
	}
	return a.caseChange(w, r, p, incident.VerbObservable, func(ref caseRef) (incident.Case, incident.Case, error) {
		return a.d.Cases.AddObservables(r.Context(), p, ref.t, ref.id, obs)
	})
}

func (a *API) postCaseAlerts(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req struct {
		IDs []int64 `json:"ids"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	return a.caseChange(w, r, p, incident.VerbAlerts, func(ref caseRef) (incident.Case, incident.Case, error) {
		return a.d.Cases.LinkAlerts(r.Context(), p, ref.t, ref.id, req.IDs)
	})
}

func (a *API) postCaseEvent(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req struct {
		Time     string `json:"time"`
		Text     string `json:"text"`
		EventRef string `json:"event_ref"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	at, err := parseTime(req.Time, time.Now())
	if err != nil {
		return badRequest("time: " + err.Error())
	}
	return a.caseChange(w, r, p, incident.VerbEvent, func(ref caseRef) (incident.Case, incident.Case, error) {
		return a.d.Cases.AddEvent(r.Context(), p, ref.t, ref.id, at, req.Text, req.EventRef)
	})
}

// postCaseAction applies POST /api/v1/cases/{id}/{verb}: assign {"to"},
// escalate, acknowledge, close {"classification","summary"}, reopen.
func (a *API) postCaseAction(verb string) handler {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var req struct {
			To             string           `json:"to"`
			Classification alert.Resolution `json:"classification"`
			Summary        string           `json:"summary"`
			// NoShare keeps a provider's true positive from being shared.
			NoShare bool `json:"no_share"`
		}
		if r.ContentLength != 0 {
			dec := json.NewDecoder(io.LimitReader(r.Body, maxCaseBody))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&req); err != nil && !errors.Is(err, io.EOF) {
				return badRequest("JSON body: " + err.Error())
			}
		}
		act := incident.Action{Verb: verb, Assignee: req.To, Classification: req.Classification, Summary: req.Summary}
		return a.caseAnswer(w, r, p, verb, func(ref caseRef) (incident.Case, incident.Case, any, error) {
			before, after, err := a.d.Cases.Act(r.Context(), p, ref.t, ref.id, act)
			if err != nil || verb != incident.VerbClose {
				return before, after, after, err
			}
			var sh *defend.Shared
			if !req.NoShare {
				if sh, err = a.shareCase(r.Context(), p, after); err != nil {
					return before, after, nil, err
				}
			}
			err = a.resolveCaseAlerts(r.Context(), p, after)
			return before, after, closedCase{Case: after, Shared: sh}, err
		})
	}
}

// resolveCaseAlerts resolves the alerts of a closed case that are still
// unresolved, with the case's classification and a note naming it: the
// case's work was theirs, so the queue, the service levels and the
// member's report agree with the case. Each change is audited as the
// closer's (alert.resolve). An alert resolved meanwhile is left as it is.
func (a *API) resolveCaseAlerts(ctx context.Context, p auth.Principal, c incident.Case) error {
	note := fmt.Sprintf("closed with case %d", c.ID)
	if c.Summary != "" {
		note += ": " + c.Summary
	}
	for _, id := range c.Alerts {
		al, err := a.d.Alerts.Alert(ctx, c.Tenant, id)
		if err != nil {
			return err
		}
		if al.Status == alert.StatusResolved {
			continue
		}
		before, after, err := a.d.Alerts.Act(ctx, c.Tenant, id, p.TokenID, alert.Action{Verb: alert.VerbResolve, Resolution: c.Classification, Note: note})
		if errors.Is(err, alert.ErrTransition) {
			continue
		}
		if err != nil {
			return fmt.Errorf("case %d closed; resolving its alert %d: %w", c.ID, id, err)
		}
		if err := a.auditChange(ctx, p, "alert.resolve", c.Tenant, id, triage(before), triage(after)); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}
	return nil
}

// shareCase shares the external observables of a case's alerts when the
// provider closes it as a true positive (defend.go).
func (a *API) shareCase(ctx context.Context, p auth.Principal, c incident.Case) (*defend.Shared, error) {
	if !a.sharing() || !p.Role.Provider() || c.Classification != alert.TruePositive {
		return nil, nil
	}
	out := &defend.Shared{}
	entities := map[alert.Entity]bool{}
	for _, id := range c.Alerts {
		al, err := a.d.Alerts.Alert(ctx, c.Tenant, id)
		if err != nil {
			return nil, err
		}
		sh, err := a.confirm(ctx, p, al)
		if err != nil {
			return nil, err
		}
		// An entity of several alerts is one indicator, or one kept back.
		for _, i := range sh.Indicators {
			if !slices.ContainsFunc(out.Indicators, func(o intel.Indicator) bool { return o.ID == i.ID }) {
				out.Indicators = append(out.Indicators, i)
			}
		}
		for _, e := range al.Entities {
			entities[alert.Entity{Type: e.Type, Value: strings.ToLower(e.Value)}] = true
		}
	}
	out.Withheld = max(0, len(entities)-len(out.Indicators))
	return out, nil
}

// postCaseEvidence keeps an evidence file: the first file part of a
// multipart/form-data body (its file name names it), or the whole body
// with ?name=. It answers 201 with the evidence.
func (a *API) postCaseEvidence(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	ref, err := a.caseOf(r, p, false)
	if err != nil {
		return err
	}
	name := r.URL.Query().Get("name")
	var body io.Reader = r.Body
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			return badRequest("multipart body: " + err.Error())
		}
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return badRequest("multipart body: no file part (send the file as a form field with a file name)")
			}
			if err != nil {
				return badRequest("multipart body: " + err.Error())
			}
			if part.FileName() != "" {
				if name == "" {
					name = part.FileName()
				}
				body = part
				break
			}
			part.Close()
		}
	}
	ev, before, after, err := a.d.Cases.AddEvidence(r.Context(), p, ref.t, ref.id, name, body)
	if err != nil {
		return err
	}
	if after.ID != 0 && len(after.Timeline) != len(before.Timeline) {
		if err := a.auditCase(r, p, incident.VerbEvidence, before, after); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusCreated, ev)
	return nil
}

func (a *API) getCaseEvidence(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	ref, err := a.caseOf(r, p, true)
	if err != nil {
		return err
	}
	ev, f, err := a.d.Cases.EvidenceFile(r.Context(), p, ref.t, ref.id, r.PathValue("sha256"))
	if err != nil {
		return err
	}
	defer f.Close()
	h := w.Header()
	// Served as bytes to save, never rendered: evidence is hostile.
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": ev.Name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if sum, err := hex.DecodeString(ev.SHA256); err == nil {
		h.Set("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum)+":")
	}
	http.ServeContent(w, r, "", ev.Added, f)
	return nil
}

// getCaseExport is the case whole, as JSON (the default) or as a
// standalone HTML page (format=html).
func (a *API) getCaseExport(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "html" {
		return badRequest(fmt.Sprintf("format %q: want json or html", format))
	}
	ref, err := a.caseOf(r, p, true)
	if err != nil {
		return err
	}
	c, err := a.d.Cases.Case(r.Context(), p, ref.t, ref.id)
	if err != nil {
		return err
	}
	linked, err := a.linkedAlerts(r.Context(), c)
	if err != nil {
		return err
	}
	name := "case-" + strconv.FormatInt(c.ID, 10)
	if format != "html" {
		w.Header().Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": name + ".json"}))
		writeJSON(w, http.StatusOK, struct {
			incident.Case
			LinkedAlerts []AlertJSON `json:"linked_alerts"`
		}{c, linked})
		return nil
	}
	page, err := caseHTML(c, linked, time.Now().UTC())
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": name + ".html"}))
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(page)
	return err
}

// linkedAlerts are case c's alerts as the one-alert view shows them (with
// their history), for its export: the whole record in one document.
func (a *API) linkedAlerts(ctx context.Context, c incident.Case) ([]AlertJSON, error) {
	out := []AlertJSON{}
	for _, id := range c.Alerts {
		al, err := a.d.Alerts.Alert(ctx, c.Tenant, id)
		if errors.Is(err, alert.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("case %d's alert %d: %w", c.ID, id, err)
		}
		out = append(out, NewAlertJSON(al, a.d.Alerts.Config(), a.d.Alerts.Now(), true))
	}
	return out, nil
}

// caseTimeText shows a time in the export ("—" for none).
func caseTimeText(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(time.RFC3339)
}

// tlpClass is the CSS class of a TLP label.
func tlpClass(l incident.TLP) string {
	return "tlp-" + strings.ToLower(strings.ReplaceAll(string(l), "+", "-"))
}
