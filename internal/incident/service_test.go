package incident_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/incident"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// alerts are the alerts cases are opened from, by tenant and ID.
type alerts map[tenant.ID]map[int64]alert.Alert

func (as alerts) Alert(_ context.Context, t tenant.ID, id int64) (alert.Alert, error) {
	a, ok := as[t][id]
	if !ok {
		return alert.Alert{}, fmt.Errorf("%w: alert %d", alert.ErrNotFound, id)
	}
	return a, nil
}

var (
	t0       = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	provider = auth.Principal{TokenID: "tok-soc", Role: auth.RoleProviderAnalyst}
	analystA = auth.Principal{TokenID: "tok-a-analyst", Role: auth.RoleTenantAnalyst, Tenant: "council-a"}
	adminA   = auth.Principal{TokenID: "tok-a-admin", Role: auth.RoleTenantAdmin, Tenant: "council-a"}
	viewerA  = auth.Principal{TokenID: "tok-a-viewer", Role: auth.RoleTenantViewer, Tenant: "council-a"}
	analystB = auth.Principal{TokenID: "tok-b-analyst", Role: auth.RoleTenantAnalyst, Tenant: "council-b"}
	ingestA  = auth.Principal{TokenID: "tok-a-ingest", Role: auth.RoleIngest, Tenant: "council-a"}
)

type fixture struct {
	svc *incident.Service
	dir string
	mu  sync.Mutex
	cs  []incident.Change
	now time.Time
}

func newFixture(t *testing.T, cfg incident.Config) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, id := range []tenant.ID{"council-a", "council-b"} {
		if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: id, Name: string(id)}); err != nil {
			t.Fatal(err)
		}
	}
	as := alerts{
		"council-a": {
			1: {ID: 1, Tenant: "council-a", RuleID: "r-logon", Title: "Password spray", Level: "high", Count: 40, FirstSeen: t0.Add(-2 * time.Hour),
				Entities: []alert.Entity{{Type: alert.EntityHost, Value: "dc-01"}, {Type: alert.EntitySourceIP, Value: "203.0.113.9"}}},
			2: {ID: 2, Tenant: "council-a", RuleID: "r-mimikatz", Title: "Mimikatz", Level: "critical", Count: 1, FirstSeen: t0.Add(-time.Hour),
				Entities: []alert.Entity{{Type: alert.EntityHost, Value: "dc-01"}, {Type: alert.EntityUser, Value: "svc-backup"}}},
		},
		"council-b": {3: {ID: 3, Tenant: "council-b", Title: "B's alert", FirstSeen: t0}},
	}
	f := &fixture{dir: filepath.Join(t.TempDir(), "evidence"), now: t0}
	f.svc, err = incident.NewService(cfg, incident.Deps{
		Store: db, Alerts: as, Dir: f.dir,
		Now: func() time.Time {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.now = f.now.Add(time.Minute)
			return f.now
		},
		OnChange: func(_ context.Context, cs []incident.Change) {
			f.mu.Lock()
			f.cs = append(f.cs, cs...)
			f.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) changes() []incident.Change {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]incident.Change(nil), f.cs...)
}

func (f *fixture) create(t *testing.T, d incident.Draft) incident.Case {
	t.Helper()
	c, err := f.svc.Create(context.Background(), provider, "council-a", d)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// must returns the case after a change that must succeed.
func must(t *testing.T) func(before, after incident.Case, err error) incident.Case {
	return func(_, after incident.Case, err error) incident.Case {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return after
	}
}

func TestCreateFromAlerts(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, incident.DefaultConfig())
	c := f.create(t, incident.Draft{Title: " Intrusion at the depot ", Alerts: []int64{2, 1, 2}})
	if c.Title != "Intrusion at the depot" || c.Severity != "medium" || c.TLP != incident.TLPAmber || c.Status != incident.StatusOpen || c.Author != "tok-soc" {
		t.Errorf("header %+v", c.Header())
	}
	if fmt.Sprint(c.Alerts) != "[2 1]" {
		t.Errorf("alerts %v, want [2 1]", c.Alerts)
	}
	// The timeline is by time: the spray (2 h before), mimikatz (1 h), then the opening.
	var kinds []string
	for _, e := range c.Timeline {
		kinds = append(kinds, string(e.Kind)+":"+e.Text)
	}
	if got := strings.Join(kinds, ", "); got != "alert:Password spray, alert:Mimikatz, state:opened" {
		t.Errorf("timeline %s", got)
	}
	if e := c.Timeline[0]; e.Data["alert"] != "1" || e.Data["rule_id"] != "r-logon" || e.Data["count"] != "40" || !e.Time.Equal(t0.Add(-2*time.Hour)) {
		t.Errorf("alert entry %+v", e)
	}
	// Entities become observables once, credited to the first alert naming them.
	var obs []string
	for _, o := range c.Observables {
		obs = append(obs, o.Type+"="+o.Value+" ("+o.Source+")")
	}
	if got := strings.Join(obs, ", "); got != "host=dc-01 (alert 2), user=svc-backup (alert 2), source.ip=203.0.113.9 (alert 1)" {
		t.Errorf("observables %s", got)
	}
	if cs := f.changes(); len(cs) != 1 || cs[0].What != "created" || cs[0].Actor != "tok-soc" || cs[0].Case.ID != c.ID || len(cs[0].Case.Timeline) != 3 {
		t.Errorf("changes %+v", cs)
	}

	// Another tenant's alert is not found, as is a missing one.
	for _, id := range []int64{3, 99} {
		if _, err := f.svc.Create(ctx, provider, "council-a", incident.Draft{Title: "x", Alerts: []int64{1, id}}); !errors.Is(err, alert.ErrNotFound) || err.Error() != fmt.Sprintf("not found: alert %d", id) {
			t.Errorf("from alert %d: %v", id, err)
		}
	}
	for _, tt := range []struct {
		p   auth.Principal
		d   incident.Draft
		err error
	}{
		{analystA, incident.Draft{Title: "x"}, auth.ErrForbidden},
		{adminA, incident.Draft{Title: "x"}, auth.ErrForbidden},
		{ingestA, incident.Draft{Title: "x"}, auth.ErrForbidden},
		{provider, incident.Draft{Title: " "}, incident.ErrInvalid},
		{provider, incident.Draft{Title: "x", Severity: "severe"}, incident.ErrInvalid},
		{provider, incident.Draft{Title: "x", TLP: "white"}, incident.ErrInvalid},
	} {
		if _, err := f.svc.Create(ctx, tt.p, "council-a", tt.d); !errors.Is(err, tt.err) {
			t.Errorf("%s creating %+v: %v, want %v", tt.p.Role, tt.d, err, tt.err)
		}
	}
	if _, err := f.svc.Create(ctx, provider, "nobody", incident.Draft{Title: "x"}); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("case of a missing tenant: %v", err)
	}
	assigned := f.create(t, incident.Draft{Title: "Assigned", Severity: "critical", TLP: "tlp:red", Assignee: "alice", Description: "d"})
	if assigned.Status != incident.StatusInProgress || assigned.Assignee != "alice" || assigned.TLP != incident.TLPRed || assigned.Severity != "critical" {
		t.Errorf("assigned case %+v", assigned.Header())
	}
}

// TestEscalation walks a case from the provider to the member: before
// escalation the member's users cannot tell it from a missing case;
// after, they read, comment and acknowledge it; another member never sees
// it.
func TestEscalation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, incident.DefaultConfig())
	c := f.create(t, incident.Draft{Title: "Phishing"})
	missing := c.ID + 1000

	notFound := func(p auth.Principal, id int64) {
		t.Helper()
		ten, err := f.svc.Locate(ctx, p, id)
		if err != nil {
			t.Fatalf("%s locating %d: %v", p.Role, id, err)
		}
		_, err = f.svc.Case(ctx, p, ten, id)
		if !errors.Is(err, incident.ErrNotFound) || err.Error() != fmt.Sprintf("not found: case %d", id) {
			t.Errorf("%s of %s reading case %d: %v", p.Role, p.Tenant, id, err)
		}
		_, _, err = f.svc.Comment(ctx, p, ten, id, "hello?")
		if !errors.Is(err, incident.ErrNotFound) || err.Error() != fmt.Sprintf("not found: case %d", id) {
			t.Errorf("%s of %s commenting on case %d: %v", p.Role, p.Tenant, id, err)
		}
		_, _, err = f.svc.Act(ctx, p, ten, id, incident.Action{Verb: incident.VerbAcknowledge})
		if !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("%s of %s acknowledging case %d: %v", p.Role, p.Tenant, id, err)
		}
		if _, _, err := f.svc.EvidenceFile(ctx, p, ten, id, strings.Repeat("0", 64)); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("%s of %s reading evidence of case %d: %v", p.Role, p.Tenant, id, err)
		}
		// Naming the case's tenant outright changes nothing.
		if _, err := f.svc.Case(ctx, p, "council-a", id); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("%s of %s reading case %d in council-a: %v", p.Role, p.Tenant, id, err)
		}
	}
	listed := func(p auth.Principal) int {
		t.Helper()
		cs, err := f.svc.Cases(ctx, p, p.Tenant, incident.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(cs)
	}
	for _, p := range []auth.Principal{analystA, adminA, viewerA, analystB} {
		notFound(p, c.ID)
		notFound(p, missing)
		if n := listed(p); n != 0 {
			t.Errorf("%s of %s lists %d cases before escalation", p.Role, p.Tenant, n)
		}
	}
	if _, err := f.svc.Locate(ctx, ingestA, c.ID); !errors.Is(err, auth.ErrForbidden) {
		t.Errorf("ingest token locates: %v", err)
	}
	if _, err := f.svc.Locate(ctx, provider, missing); !errors.Is(err, incident.ErrNotFound) || err.Error() != fmt.Sprintf("not found: case %d", missing) {
		t.Errorf("provider locating a missing case: %v", err)
	}
	// The member's users may not escalate, nor the provider acknowledge.
	if _, _, err := f.svc.Act(ctx, provider, "council-a", c.ID, incident.Action{Verb: incident.VerbAcknowledge}); !errors.Is(err, auth.ErrForbidden) {
		t.Errorf("provider acknowledging: %v", err)
	}

	esc := must(t)(f.svc.Act(ctx, provider, "council-a", c.ID, incident.Action{Verb: incident.VerbEscalate}))
	if esc.Escalated.IsZero() || esc.Status != incident.StatusOpen {
		t.Fatalf("escalated case %+v", esc.Header())
	}
	if _, _, err := f.svc.Act(ctx, provider, "council-a", c.ID, incident.Action{Verb: incident.VerbEscalate}); !errors.Is(err, incident.ErrTransition) {
		t.Errorf("escalating twice: %v", err)
	}
	for _, p := range []auth.Principal{analystA, adminA, viewerA} {
		if got, err := f.svc.Case(ctx, p, "council-a", c.ID); err != nil || got.ID != c.ID {
			t.Errorf("%s reading the escalated case: %v", p.Role, err)
		}
		if n := listed(p); n != 1 {
			t.Errorf("%s lists %d cases", p.Role, n)
		}
	}
	notFound(analystB, c.ID)
	if n := listed(analystB); n != 0 {
		t.Errorf("another member lists %d cases", n)
	}
	if _, err := f.svc.Cases(ctx, analystB, "council-a", incident.Filter{}); !errors.Is(err, auth.ErrForbidden) {
		t.Errorf("another member listing council-a: %v", err)
	}

	after := must(t)(f.svc.Comment(ctx, analystA, "council-a", c.ID, "We have reset the account."))
	last := after.Timeline[len(after.Timeline)-1]
	if last.Kind != incident.KindComment || last.Author != "tok-a-analyst" || last.Role != "tenant-analyst" || last.Text != "We have reset the account." {
		t.Errorf("member's comment %+v", last)
	}
	if len(after.Comments()) != 1 {
		t.Errorf("comments %+v", after.Comments())
	}
	if _, _, err := f.svc.Comment(ctx, viewerA, "council-a", c.ID, "x"); !errors.Is(err, auth.ErrForbidden) {
		t.Errorf("viewer commenting: %v", err)
	}
	for _, verb := range []string{incident.VerbClose, incident.VerbReopen, incident.VerbAssign, incident.VerbEscalate} {
		if _, _, err := f.svc.Act(ctx, adminA, "council-a", c.ID, incident.Action{Verb: verb, Assignee: "x", Classification: alert.TruePositive, Summary: "x"}); !errors.Is(err, auth.ErrForbidden) {
			t.Errorf("member %s: %v", verb, err)
		}
	}
	if _, _, err := f.svc.AddTask(ctx, adminA, "council-a", c.ID, "x"); !errors.Is(err, auth.ErrForbidden) {
		t.Errorf("member adding a task: %v", err)
	}
	if _, _, err := f.svc.Act(ctx, viewerA, "council-a", c.ID, incident.Action{Verb: incident.VerbAcknowledge}); !errors.Is(err, auth.ErrForbidden) {
		t.Errorf("viewer acknowledging: %v", err)
	}
	acked := must(t)(f.svc.Act(ctx, adminA, "council-a", c.ID, incident.Action{Verb: incident.VerbAcknowledge}))
	if acked.AcknowledgedByMember.IsZero() || acked.AcknowledgedBy != "tok-a-admin" {
		t.Errorf("acknowledged %+v", acked.Header())
	}
	if _, _, err := f.svc.Act(ctx, analystA, "council-a", c.ID, incident.Action{Verb: incident.VerbAcknowledge}); !errors.Is(err, incident.ErrTransition) {
		t.Errorf("acknowledging twice: %v", err)
	}

	// Closing, commenting on a closed case, refusals, reopening.
	closed := must(t)(f.svc.Act(ctx, provider, "council-a", c.ID, incident.Action{Verb: incident.VerbClose, Classification: alert.TruePositive, Summary: "Credential phishing; account reset."}))
	if closed.Status != incident.StatusClosed || closed.Classification != alert.TruePositive || closed.Closed.IsZero() {
		t.Errorf("closed %+v", closed.Header())
	}
	_, _, err := f.svc.Act(ctx, provider, "council-a", c.ID, incident.Action{Verb: incident.VerbClose, Classification: alert.TruePositive, Summary: "again"})
	if !errors.Is(err, incident.ErrTransition) || !strings.Contains(err.Error(), "already closed") {
		t.Errorf("closing twice: %v", err)
	}
	must(t)(f.svc.Comment(ctx, analystA, "council-a", c.ID, "Thanks."))
	if _, _, err := f.svc.AddTask(ctx, provider, "council-a", c.ID, "late"); !errors.Is(err, incident.ErrTransition) {
		t.Errorf("task on a closed case: %v", err)
	}
	reopened := must(t)(f.svc.Act(ctx, provider, "council-a", c.ID, incident.Action{Verb: incident.VerbReopen}))
	if reopened.Status != incident.StatusOpen || reopened.Classification != "" || !reopened.Closed.IsZero() {
		t.Errorf("reopened %+v", reopened.Header())
	}
	var verbs []string
	for _, e := range reopened.Timeline {
		if e.Kind == incident.KindState {
			verbs = append(verbs, e.Data["verb"])
		}
	}
	if got := strings.Join(verbs, " "); got != "create escalate acknowledge close reopen" {
		t.Errorf("state entries %s", got)
	}
	// Every change was published, with only its own entries.
	var whats []string
	for _, ch := range f.changes() {
		whats = append(whats, ch.What)
		if ch.What != "created" && len(ch.Case.Timeline) != 1 {
			t.Errorf("change %s carries %d entries", ch.What, len(ch.Case.Timeline))
		}
	}
	if got := strings.Join(whats, " "); got != "created escalate comment acknowledge close comment reopen" {
		t.Errorf("changes %s", got)
	}
}

func TestWork(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, incident.DefaultConfig())
	c := f.create(t, incident.Draft{Title: "Work"})
	id := c.ID
	c = must(t)(f.svc.AddTask(ctx, provider, "council-a", id, "Isolate dc-01"))
	if len(c.Tasks) != 1 || c.Tasks[0].Done || c.Tasks[0].Title != "Isolate dc-01" {
		t.Fatalf("tasks %+v", c.Tasks)
	}
	task := c.Tasks[0].ID
	c = must(t)(f.svc.SetTask(ctx, provider, "council-a", id, task, true))
	if !c.Tasks[0].Done {
		t.Errorf("task not done: %+v", c.Tasks[0])
	}
	if _, _, err := f.svc.SetTask(ctx, provider, "council-a", id, task, true); !errors.Is(err, incident.ErrTransition) {
		t.Errorf("done twice: %v", err)
	}
	if _, _, err := f.svc.SetTask(ctx, provider, "council-a", id, task+100, true); !errors.Is(err, incident.ErrNotFound) || !strings.Contains(err.Error(), "task") {
		t.Errorf("unknown task: %v", err)
	}
	c = must(t)(f.svc.SetTask(ctx, provider, "council-a", id, task, false))
	if c.Tasks[0].Done {
		t.Error("task still done")
	}

	c = must(t)(f.svc.AddObservables(ctx, provider, "council-a", id, []incident.Observable{{Type: "Domain", Value: "evil.example"}, {Type: "domain", Value: "evil.example"}}))
	if len(c.Observables) != 1 || c.Observables[0].Source != "manual" {
		t.Errorf("observables %+v", c.Observables)
	}
	if _, _, err := f.svc.AddObservables(ctx, provider, "council-a", id, []incident.Observable{{Type: "bad type", Value: "x"}}); !errors.Is(err, incident.ErrInvalid) {
		t.Errorf("bad observable: %v", err)
	}
	c = must(t)(f.svc.LinkAlerts(ctx, provider, "council-a", id, []int64{1}))
	if fmt.Sprint(c.Alerts) != "[1]" || len(c.Observables) != 3 {
		t.Errorf("after linking: alerts %v, observables %+v", c.Alerts, c.Observables)
	}
	if _, _, err := f.svc.LinkAlerts(ctx, provider, "council-a", id, []int64{3}); !errors.Is(err, alert.ErrNotFound) {
		t.Errorf("linking another tenant's alert: %v", err)
	}
	// An event dated before everything goes first on the timeline.
	c = must(t)(f.svc.AddEvent(ctx, provider, "council-a", id, t0.Add(-24*time.Hour), "First phishing mail delivered", "17:2"))
	if e := c.Timeline[0]; e.Kind != incident.KindEvent || e.Data["event_ref"] != "17:2" {
		t.Errorf("first entry %+v", e)
	}
	title, sev := "Work, renamed", "high"
	c = must(t)(f.svc.Update(ctx, provider, "council-a", id, incident.Patch{Title: &title, Severity: &sev}))
	if c.Title != title || c.Severity != "high" {
		t.Errorf("updated %+v", c.Header())
	}
	c = must(t)(f.svc.Act(ctx, provider, "council-a", id, incident.Action{Verb: incident.VerbAssign, Assignee: "bob"}))
	if c.Status != incident.StatusInProgress || c.Assignee != "bob" {
		t.Errorf("assigned %+v", c.Header())
	}
	// Another tenant's view of the case ID is nothing: every method.
	notFound := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, incident.ErrNotFound) || err.Error() != fmt.Sprintf("not found: case %d", id) {
			t.Errorf("%s in council-b: %v", what, err)
		}
	}
	_, _, err := f.svc.AddTask(ctx, provider, "council-b", id, "x")
	notFound("AddTask", err)
	_, _, err = f.svc.SetTask(ctx, provider, "council-b", id, task, true)
	notFound("SetTask", err)
	_, _, err = f.svc.AddObservables(ctx, provider, "council-b", id, []incident.Observable{{Type: "ip", Value: "x"}})
	notFound("AddObservables", err)
	_, _, err = f.svc.LinkAlerts(ctx, provider, "council-b", id, []int64{3})
	notFound("LinkAlerts", err)
	_, _, err = f.svc.AddEvent(ctx, provider, "council-b", id, time.Time{}, "x", "")
	notFound("AddEvent", err)
	_, _, err = f.svc.Update(ctx, provider, "council-b", id, incident.Patch{Title: &title})
	notFound("Update", err)
	_, _, err = f.svc.Comment(ctx, provider, "council-b", id, "x")
	notFound("Comment", err)
	_, _, err = f.svc.Act(ctx, provider, "council-b", id, incident.Action{Verb: incident.VerbEscalate})
	notFound("Act", err)
	_, _, _, err = f.svc.AddEvidence(ctx, provider, "council-b", id, "x", strings.NewReader("x"))
	notFound("AddEvidence", err)
	_, err = f.svc.Case(ctx, provider, "council-b", id)
	notFound("Case", err)
}

func TestEvidence(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, incident.Config{MaxEvidenceBytes: 1024})
	c := f.create(t, incident.Draft{Title: "Evidence"})
	body := []byte("From: attacker@evil.example\r\nSubject: invoice\r\n\r\n<script>alert(1)</script>")
	sum := sha256.Sum256(body)
	want := hex.EncodeToString(sum[:])
	ev, _, after, err := f.svc.AddEvidence(ctx, provider, "council-a", c.ID, "../../etc/mail.eml", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ev.SHA256 != want || ev.Size != int64(len(body)) || ev.Name != "mail.eml" || ev.Author != "tok-soc" || len(after.Evidence) != 1 {
		t.Errorf("evidence %+v, case has %d", ev, len(after.Evidence))
	}
	path := filepath.Join(f.dir, "council-a", fmt.Sprint(c.ID), want)
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, body) {
		t.Errorf("file at %s: %q, %v", path, got, err)
	}
	if last := after.Timeline[len(after.Timeline)-1]; last.Kind != incident.KindEvidence || last.Data["sha256"] != want {
		t.Errorf("entry %+v", last)
	}
	// The same content again is the same evidence: nothing changes.
	ev2, _, again, err := f.svc.AddEvidence(ctx, provider, "council-a", c.ID, "copy.eml", bytes.NewReader(body))
	if err != nil || ev2.Name != "mail.eml" || len(again.Evidence) != 1 || len(again.Timeline) != len(after.Timeline) {
		t.Errorf("again: %+v, %d evidence, %v", ev2, len(again.Evidence), err)
	}
	// Over the limit, or empty: refused, nothing left behind.
	if _, _, _, err := f.svc.AddEvidence(ctx, provider, "council-a", c.ID, "big.bin", bytes.NewReader(make([]byte, 1025))); !errors.Is(err, incident.ErrTooLarge) || !strings.Contains(err.Error(), "1024 bytes") {
		t.Errorf("1025 bytes: %v", err)
	}
	if _, _, _, err := f.svc.AddEvidence(ctx, provider, "council-a", c.ID, "empty", strings.NewReader("")); !errors.Is(err, incident.ErrInvalid) {
		t.Errorf("empty: %v", err)
	}
	if _, _, _, err := f.svc.AddEvidence(ctx, provider, "council-a", c.ID, "exact.bin", bytes.NewReader(make([]byte, 1024))); err != nil {
		t.Errorf("exactly the limit: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 2 {
		t.Errorf("case dir holds %d files, want 2 (no leftovers)", len(entries))
	}

	// Reading it back: the provider, then the member once escalated.
	read := func(p auth.Principal, sum string) error {
		_, f, err := f.svc.EvidenceFile(ctx, p, "council-a", c.ID, sum)
		if err != nil {
			return err
		}
		defer f.Close()
		got, _ := io.ReadAll(f)
		if !bytes.Equal(got, body) {
			t.Errorf("read %q", got)
		}
		return nil
	}
	if err := read(provider, want); err != nil {
		t.Error(err)
	}
	if err := read(analystA, want); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("member before escalation: %v", err)
	}
	must(t)(f.svc.Act(ctx, provider, "council-a", c.ID, incident.Action{Verb: incident.VerbEscalate}))
	if err := read(viewerA, want); err != nil {
		t.Errorf("member viewer after escalation: %v", err)
	}
	for _, bad := range []string{strings.Repeat("0", 64), "../" + want[3:], strings.ToUpper(want), want[:10]} {
		if err := read(provider, bad); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("evidence %q: %v", bad, err)
		}
	}
	// A member's user may not add evidence; a refused upload writes nothing.
	if _, _, _, err := f.svc.AddEvidence(ctx, analystA, "council-a", c.ID, "m.txt", strings.NewReader("member's file")); !errors.Is(err, auth.ErrForbidden) {
		t.Errorf("member adding evidence: %v", err)
	}
	if _, _, _, err := f.svc.AddEvidence(ctx, analystB, "council-b", c.ID, "m.txt", strings.NewReader("other's file")); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("other member adding evidence: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 2 {
		t.Errorf("case dir holds %d files after refused uploads", len(entries))
	}
	if _, err := os.Stat(filepath.Join(f.dir, "council-b")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused upload made council-b's dir: %v", err)
	}
	must(t)(f.svc.Act(ctx, provider, "council-a", c.ID, incident.Action{Verb: incident.VerbClose, Classification: alert.TruePositive, Summary: "done"}))
	if _, _, _, err := f.svc.AddEvidence(ctx, provider, "council-a", c.ID, "late.txt", strings.NewReader("late")); !errors.Is(err, incident.ErrTransition) {
		t.Errorf("evidence on a closed case: %v", err)
	}
}
