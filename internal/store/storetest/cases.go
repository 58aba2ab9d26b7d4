package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/incident"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// CaseStore is what the case suite needs: the case store and tenants.
type CaseStore interface {
	CreateTenant(ctx context.Context, t tenant.Tenant) (tenant.Tenant, error)
	incident.Store
}

// TestCases is the case store's suite (incident.Store): every operation,
// tenant isolation on every method, the escalated filter a member's list
// uses, the order of the timeline, and atomic updates. open returns a
// new, empty store.
func TestCases(t *testing.T, open func(t *testing.T) CaseStore) {
	s := open(t)
	caseTenant(t, s, "council-a")
	caseTenant(t, s, "council-b")
	t.Run("CreateAndRead", func(t *testing.T) { testCaseCreate(t, s) })
	t.Run("List", func(t *testing.T) { testCaseList(t, s) })
	t.Run("Update", func(t *testing.T) { testCaseUpdate(t, s) })
	t.Run("Timeline", func(t *testing.T) { testCaseTimeline(t, s) })
	t.Run("Isolation", func(t *testing.T) { testCaseIsolation(t, s) })
	t.Run("Concurrent", func(t *testing.T) { testCaseConcurrent(t, s) })
}

var caseAt = time.Unix(1700000000, 0).UTC()

// newCase returns a case of tenant t with one part of each kind.
func newCase(t tenant.ID, title string) incident.Case {
	return incident.Case{
		Tenant: t, Title: title, Description: "Phishing wave", Severity: "high", TLP: incident.TLPAmber,
		Status: incident.StatusOpen, Author: "tok-provider", Created: caseAt, Updated: caseAt,
		Alerts:      []int64{42, 7},
		Observables: []incident.Observable{{Type: alert.EntityHost, Value: "ws-07", Source: "alert 42", Added: caseAt}, {Type: "ip", Value: "203.0.113.9", Source: "manual", Added: caseAt}},
		Tasks:       []incident.Task{{Title: "Reset password", Author: "tok-provider", Created: caseAt, Updated: caseAt}},
		Evidence:    []incident.Evidence{{SHA256: sha(1), Name: "mail.eml", Size: 1234, Author: "tok-provider", Added: caseAt}},
		Timeline: []incident.Entry{
			{Time: caseAt, Kind: incident.KindState, Author: "tok-provider", Role: "provider-analyst", Text: "opened", Data: map[string]string{"verb": "create"}},
			{Time: caseAt.Add(-time.Hour), Kind: incident.KindAlert, Text: "Suspicious logon", Data: map[string]string{"alert": "42"}},
		},
	}
}

func caseTenant(t *testing.T, s CaseStore, id tenant.ID) {
	t.Helper()
	if _, err := s.CreateTenant(context.Background(), tenant.Tenant{ID: id, Name: "Council " + string(id)}); err != nil {
		t.Fatal(err)
	}
}

func sha(n int) string { return fmt.Sprintf("%064x", n) }

func mustCase(t *testing.T, s CaseStore, c incident.Case) incident.Case {
	t.Helper()
	got, err := s.CreateCase(context.Background(), c.Tenant, c)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// caseIgnoringIDs clears the IDs the store assigns, for comparison.
func caseIgnoringIDs(c incident.Case) incident.Case {
	c.ID = 0
	c.Tasks = append([]incident.Task(nil), c.Tasks...)
	for i := range c.Tasks {
		c.Tasks[i].ID = 0
	}
	c.Timeline = append([]incident.Entry(nil), c.Timeline...)
	for i := range c.Timeline {
		c.Timeline[i].ID = 0
	}
	return c
}

func testCaseCreate(t *testing.T, s CaseStore) {
	ctx := context.Background()
	in := newCase("council-a", "Create")
	got := mustCase(t, s, in)
	if got.ID == 0 || len(got.Tasks) != 1 || got.Tasks[0].ID == 0 || got.Timeline[0].ID == 0 {
		t.Fatalf("IDs not assigned: %+v", got)
	}
	want := in
	// The timeline comes back in time order: the alert (an hour earlier) first.
	want.Timeline = []incident.Entry{in.Timeline[1], in.Timeline[0]}
	if diff := cmp.Diff(caseIgnoringIDs(want), caseIgnoringIDs(got)); diff != "" {
		t.Errorf("created case (-want +got):\n%s", diff)
	}
	read, err := s.Case(ctx, "council-a", got.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, read); diff != "" {
		t.Errorf("read case (-created +read):\n%s", diff)
	}
	// A case with no parts reads with empty parts, and its optional
	// times stay zero.
	bare := mustCase(t, s, incident.Case{Tenant: "council-a", Title: "Bare", Severity: "low", TLP: incident.TLPRed, Status: incident.StatusOpen, Created: caseAt, Updated: caseAt})
	if len(bare.Alerts)+len(bare.Observables)+len(bare.Tasks)+len(bare.Evidence)+len(bare.Timeline) != 0 || !bare.Closed.IsZero() || !bare.Escalated.IsZero() || !bare.AcknowledgedByMember.IsZero() {
		t.Errorf("bare case = %+v", bare)
	}
	// IDs are unique across tenants.
	other := mustCase(t, s, newCase("council-b", "Create B"))
	if other.ID == got.ID || other.ID == bare.ID {
		t.Errorf("case IDs repeat across tenants: %d, %d, %d", got.ID, bare.ID, other.ID)
	}
	if _, err := s.CreateCase(ctx, "nobody", newCase("nobody", "x")); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("case of a missing tenant: err = %v, want tenant.ErrNotFound", err)
	}
	if ten, err := s.CaseTenant(ctx, other.ID); err != nil || ten != "council-b" {
		t.Errorf("CaseTenant = %q, %v", ten, err)
	}
	if _, err := s.CaseTenant(ctx, 1<<40); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("CaseTenant of a missing case: err = %v", err)
	}
	if _, err := s.Case(ctx, "council-a", 1<<40); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("missing case: err = %v", err)
	}
}

func testCaseList(t *testing.T, s CaseStore) {
	ctx := context.Background()
	caseTenant(t, s, "list-a")
	caseTenant(t, s, "list-b")
	var ids []int64
	for i := range 5 {
		c := newCase("list-a", fmt.Sprintf("List %d", i))
		if i%2 == 1 {
			c.Escalated = caseAt.Add(time.Duration(i) * time.Minute)
		}
		if i == 4 {
			c.Status = incident.StatusClosed
			c.Closed, c.Classification, c.Summary = caseAt, alert.FalsePositive, "benign"
		}
		ids = append(ids, mustCase(t, s, c).ID)
	}
	mustCase(t, s, newCase("list-b", "List B"))
	all, err := s.Cases(ctx, "list-a", incident.Filter{})
	if err != nil || len(all) != 5 {
		t.Fatalf("Cases = %d, %v", len(all), err)
	}
	for i, c := range all {
		if c.ID != ids[4-i] || c.Tenant != "list-a" {
			t.Errorf("case %d of the list is %d (%s), want %d: newest first", i, c.ID, c.Tenant, ids[4-i])
		}
		if c.Timeline != nil || c.Tasks != nil || c.Observables != nil || c.Alerts != nil || c.Evidence != nil {
			t.Errorf("a listed case has its parts: %+v", c)
		}
	}
	if all[0].Classification != alert.FalsePositive || all[0].Summary != "benign" || !all[0].Closed.Equal(caseAt) {
		t.Errorf("closed case header = %+v", all[0])
	}
	if esc, _ := s.Cases(ctx, "list-a", incident.Filter{Escalated: true}); len(esc) != 2 || esc[0].ID != ids[3] || esc[1].ID != ids[1] || esc[0].Escalated.IsZero() {
		t.Errorf("escalated = %+v", esc)
	}
	if closed, _ := s.Cases(ctx, "list-a", incident.Filter{Status: incident.StatusClosed}); len(closed) != 1 || closed[0].ID != ids[4] {
		t.Errorf("status=closed = %+v", closed)
	}
	page, err := s.Cases(ctx, "list-a", incident.Filter{Limit: 2})
	if err != nil || len(page) != 2 || page[1].ID != ids[3] {
		t.Fatalf("first page = %+v, %v", page, err)
	}
	if rest, _ := s.Cases(ctx, "list-a", incident.Filter{Before: page[1].ID}); len(rest) != 3 || rest[0].ID != ids[2] {
		t.Errorf("second page = %+v", rest)
	}
	// Every list-a case links alerts 42 and 7 (newCase); one more links 9.
	c := newCase("list-a", "Linked")
	c.Alerts = []int64{9}
	linked := mustCase(t, s, c)
	if by, _ := s.Cases(ctx, "list-a", incident.Filter{Alert: 9}); len(by) != 1 || by[0].ID != linked.ID {
		t.Errorf("alert=9 = %+v, want case %d only", by, linked.ID)
	}
	if by, _ := s.Cases(ctx, "list-a", incident.Filter{Alert: 42}); len(by) != 5 {
		t.Errorf("alert=42 = %d cases, want 5", len(by))
	}
	if by, _ := s.Cases(ctx, "list-b", incident.Filter{Alert: 9}); len(by) != 0 {
		t.Errorf("alert=9 in list-b = %+v, want none", by)
	}
	if b, _ := s.Cases(ctx, "list-b", incident.Filter{}); len(b) != 1 || b[0].Tenant != "list-b" {
		t.Errorf("list-b sees %+v", b)
	}
	if none, err := s.Cases(ctx, "nobody", incident.Filter{}); err != nil || len(none) != 0 {
		t.Errorf("a tenant with no cases: %+v, %v", none, err)
	}
}

func testCaseUpdate(t *testing.T, s CaseStore) {
	ctx := context.Background()
	c := mustCase(t, s, newCase("council-a", "Update"))
	later := caseAt.Add(time.Hour)
	before, after, err := s.UpdateCase(ctx, "council-a", c.ID, func(x *incident.Case) (incident.Additions, error) {
		if diff := cmp.Diff(c, *x); diff != "" {
			t.Errorf("fn sees (-created +seen):\n%s", diff)
		}
		x.Title, x.Description, x.Severity, x.TLP = "Updated", "More", "critical", incident.TLPRed
		x.Status, x.Assignee, x.Updated = incident.StatusClosed, "alice", later
		x.Closed, x.Classification, x.Summary = later, alert.TruePositive, "contained"
		x.Escalated, x.AcknowledgedByMember, x.AcknowledgedBy = later, later, "tok-member"
		// Identity fields are not the fn's to change.
		x.ID, x.Tenant, x.Created, x.Author = 999999, "council-b", later, "mallory"
		task := x.Tasks[0]
		task.Done, task.Updated = true, later
		return incident.Additions{
			Entries:     []incident.Entry{{Time: later, Kind: incident.KindComment, Author: "tok-1", Role: "provider-analyst", Text: "hello"}},
			Alerts:      []int64{7, 99},                                                                                                                                             // 7 is linked already
			Observables: []incident.Observable{{Type: alert.EntityHost, Value: "ws-07", Source: "manual"}, {Type: "domain", Value: "evil.example", Source: "manual", Added: later}}, // ws-07 is there
			Tasks:       []incident.Task{task, {Title: "Block sender", Author: "tok-1", Created: later, Updated: later}},
			Evidence:    []incident.Evidence{{SHA256: sha(1), Name: "again.eml", Size: 1}, {SHA256: sha(2), Name: "log.txt", Size: 9, Author: "tok-1", Added: later}},
		}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, before); diff != "" {
		t.Errorf("before (-created +before):\n%s", diff)
	}
	read, err := s.Case(ctx, "council-a", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(after, read); diff != "" {
		t.Errorf("after differs from what is read (-after +read):\n%s", diff)
	}
	want := c
	want.Title, want.Description, want.Severity, want.TLP = "Updated", "More", "critical", incident.TLPRed
	want.Status, want.Assignee, want.Updated = incident.StatusClosed, "alice", later
	want.Closed, want.Classification, want.Summary = later, alert.TruePositive, "contained"
	want.Escalated, want.AcknowledgedByMember, want.AcknowledgedBy = later, later, "tok-member"
	want.Alerts = []int64{42, 7, 99}
	want.Observables = append(want.Observables, incident.Observable{Type: "domain", Value: "evil.example", Source: "manual", Added: later})
	want.Tasks = []incident.Task{c.Tasks[0], {Title: "Block sender", Author: "tok-1", Created: later, Updated: later}}
	want.Tasks[0].Done, want.Tasks[0].Updated = true, later
	want.Evidence = append(want.Evidence, incident.Evidence{SHA256: sha(2), Name: "log.txt", Size: 9, Author: "tok-1", Added: later})
	want.Timeline = append(want.Timeline, incident.Entry{Time: later, Kind: incident.KindComment, Author: "tok-1", Role: "provider-analyst", Text: "hello"})
	if diff := cmp.Diff(caseIgnoringIDs(want), caseIgnoringIDs(after)); diff != "" {
		t.Errorf("after (-want +got):\n%s", diff)
	}
	if after.Tasks[0].ID != c.Tasks[0].ID {
		t.Errorf("updated task got a new ID")
	}

	// A failing fn changes nothing, and its error comes back as it is.
	errNo := errors.New("refused")
	_, _, err = s.UpdateCase(ctx, "council-a", c.ID, func(x *incident.Case) (incident.Additions, error) {
		x.Title = "Never"
		return incident.Additions{Entries: []incident.Entry{{Time: later, Kind: incident.KindComment, Text: "never"}}}, errNo
	})
	if err != errNo {
		t.Errorf("fn's error came back as %v", err)
	}
	// So does one whose additions fail (a task the case does not have).
	_, _, err = s.UpdateCase(ctx, "council-a", c.ID, func(x *incident.Case) (incident.Additions, error) {
		x.Title = "Never"
		return incident.Additions{
			Entries: []incident.Entry{{Time: later, Kind: incident.KindComment, Text: "never"}},
			Tasks:   []incident.Task{{ID: 1 << 40, Title: "ghost", Done: true}},
		}, nil
	})
	if !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("updating a task the case lacks: err = %v, want ErrNotFound", err)
	}
	// Nor may a case change another case's task.
	other := mustCase(t, s, newCase("council-a", "Other"))
	_, _, err = s.UpdateCase(ctx, "council-a", c.ID, func(x *incident.Case) (incident.Additions, error) {
		return incident.Additions{Tasks: []incident.Task{{ID: other.Tasks[0].ID, Title: "hijack", Done: true}}}, nil
	})
	if !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("updating another case's task: err = %v, want ErrNotFound", err)
	}
	if o, _ := s.Case(ctx, "council-a", other.ID); o.Tasks[0].Done || o.Tasks[0].Title != "Reset password" {
		t.Errorf("another case's task changed: %+v", o.Tasks[0])
	}
	if again, _ := s.Case(ctx, "council-a", c.ID); !cmp.Equal(again, read) {
		t.Errorf("a failed update changed the case:\n%s", cmp.Diff(read, again))
	}
	if _, _, err := s.UpdateCase(ctx, "council-a", 1<<40, func(*incident.Case) (incident.Additions, error) { return incident.Additions{}, nil }); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("updating a missing case: err = %v", err)
	}
}

func testCaseTimeline(t *testing.T, s CaseStore) {
	ctx := context.Background()
	c := mustCase(t, s, incident.Case{Tenant: "council-a", Title: "Timeline", Severity: "medium", TLP: incident.TLPAmber, Status: incident.StatusOpen, Created: caseAt, Updated: caseAt})
	// Entries come back by time, then in the order added: an event put
	// on the timeline later but dated earlier sorts before; equal times
	// keep their order.
	batches := [][]incident.Entry{
		{{Time: caseAt.Add(2 * time.Minute), Kind: incident.KindComment, Text: "b"}, {Time: caseAt.Add(2 * time.Minute), Kind: incident.KindComment, Text: "c"}},
		{{Time: caseAt.Add(-time.Hour), Kind: incident.KindEvent, Text: "a", Data: map[string]string{"event_ref": "12:3"}}},
		{{Time: caseAt.Add(2 * time.Minute), Kind: incident.KindState, Text: "d"}, {Time: caseAt.Add(3 * time.Minute), Kind: incident.KindTask, Text: "e"}},
	}
	for _, b := range batches {
		if _, _, err := s.UpdateCase(ctx, "council-a", c.ID, func(*incident.Case) (incident.Additions, error) { return incident.Additions{Entries: b}, nil }); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Case(ctx, "council-a", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	order := ""
	for _, e := range got.Timeline {
		order += e.Text
	}
	if order != "abcde" {
		t.Errorf("timeline order %q, want abcde", order)
	}
	if got.Timeline[0].Data["event_ref"] != "12:3" || got.Timeline[0].Kind != incident.KindEvent || !got.Timeline[0].Time.Equal(caseAt.Add(-time.Hour)) {
		t.Errorf("first entry = %+v", got.Timeline[0])
	}
	// A thousand entries keep their order too.
	var many []incident.Entry
	for i := range 1000 {
		many = append(many, incident.Entry{Time: caseAt.Add(time.Duration(1000-i) * time.Second), Kind: incident.KindComment, Text: fmt.Sprint(1000 - i)})
	}
	if _, _, err := s.UpdateCase(ctx, "council-a", c.ID, func(*incident.Case) (incident.Additions, error) { return incident.Additions{Entries: many}, nil }); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Case(ctx, "council-a", c.ID)
	if len(got.Timeline) != 1005 {
		t.Fatalf("%d entries, want 1005", len(got.Timeline))
	}
	for i := 1; i < len(got.Timeline); i++ {
		a, b := got.Timeline[i-1], got.Timeline[i]
		if b.Time.Before(a.Time) || b.Time.Equal(a.Time) && b.ID < a.ID {
			t.Fatalf("entries %d and %d out of order: %+v, %+v", i-1, i, a, b)
		}
	}
}

// testCaseIsolation checks every method against another tenant's case.
func testCaseIsolation(t *testing.T, s CaseStore) {
	ctx := context.Background()
	a := mustCase(t, s, newCase("council-a", "Isolation A"))
	b := mustCase(t, s, newCase("council-b", "Isolation B"))
	if _, err := s.Case(ctx, "council-b", a.ID); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("council-b reads council-a's case: err = %v", err)
	}
	called := false
	_, _, err := s.UpdateCase(ctx, "council-b", a.ID, func(x *incident.Case) (incident.Additions, error) {
		called = true
		x.Title = "hijacked"
		return incident.Additions{Entries: []incident.Entry{{Time: caseAt, Kind: incident.KindComment, Text: "x"}}}, nil
	})
	if !errors.Is(err, incident.ErrNotFound) || called {
		t.Errorf("council-b updates council-a's case: err = %v, fn called %v", err, called)
	}
	if got, _ := s.Case(ctx, "council-a", a.ID); got.Title != "Isolation A" || len(got.Timeline) != len(a.Timeline) {
		t.Errorf("council-a's case changed: %+v", got)
	}
	for _, c := range mustList(t, s, "council-b") {
		if c.Tenant != "council-b" || c.ID == a.ID {
			t.Errorf("council-b's list holds %d of %s", c.ID, c.Tenant)
		}
	}
	found := false
	for _, c := range mustList(t, s, "council-a") {
		found = found || c.ID == a.ID
		if c.Tenant != "council-a" || c.ID == b.ID {
			t.Errorf("council-a's list holds %d of %s", c.ID, c.Tenant)
		}
	}
	if !found {
		t.Errorf("council-a's list lacks its case %d", a.ID)
	}
	if esc, _ := s.Cases(ctx, "council-b", incident.Filter{Escalated: true}); len(esc) != 0 {
		t.Errorf("council-b's escalated list = %+v", esc)
	}
}

func mustList(t *testing.T, s CaseStore, ten tenant.ID) []incident.Case {
	t.Helper()
	cs, err := s.Cases(context.Background(), ten, incident.Filter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// testCaseConcurrent checks UpdateCase is atomic: concurrent changes all
// land, each seeing the one before.
func testCaseConcurrent(t *testing.T, s CaseStore) {
	ctx := context.Background()
	c := mustCase(t, s, incident.Case{Tenant: "council-a", Title: "Concurrent", Severity: "medium", TLP: incident.TLPAmber, Status: incident.StatusOpen, Created: caseAt, Updated: caseAt})
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := s.UpdateCase(ctx, "council-a", c.ID, func(x *incident.Case) (incident.Additions, error) {
				// A counter in the header: lost updates would show.
				x.Summary = fmt.Sprint(len(x.Timeline) + 1)
				return incident.Additions{Entries: []incident.Entry{{Time: caseAt, Kind: incident.KindComment, Text: fmt.Sprint(i)}}}, nil
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, _ := s.Case(ctx, "council-a", c.ID)
	if len(got.Timeline) != n || got.Summary != fmt.Sprint(n) {
		t.Errorf("%d entries, summary %q: want %d of each", len(got.Timeline), got.Summary, n)
	}
}
