package defend_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/audit"
	"github.com/tarian-soc/tarian/internal/defend"
	"github.com/tarian-soc/tarian/internal/defend/defendtest"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// trail records the audit records appended.
type trail struct{ records []audit.Record }

func (a *trail) Append(_ context.Context, r audit.Record) error {
	a.records = append(a.records, r)
	return nil
}

func newService(t *testing.T, cfg defend.Config, now time.Time) (*defend.Service, *defendtest.Intel) {
	t.Helper()
	s, k, _ := newAudited(t, cfg, func() time.Time { return now })
	return s, k
}

// newAudited is newService with its audit trail, at the times now gives.
func newAudited(t *testing.T, cfg defend.Config, now func() time.Time) (*defend.Service, *defendtest.Intel, *trail) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, id := range []tenant.ID{"a", "b", "c", "d"} {
		if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: id, Name: string(id)}); err != nil {
			t.Fatal(err)
		}
	}
	k, tr := &defendtest.Intel{}, &trail{}
	s, err := defend.New(cfg, defend.Deps{Store: db, Intel: k, Audit: tr, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return s, k, tr
}

func phish(id int64, rule string, at time.Time) alert.Alert {
	return alert.Alert{ID: id, RuleID: rule, Title: "phish", LastSeen: at, Entities: []alert.Entity{
		{Type: alert.EntityEmailSender, Value: "billing@pay-now.biz"}, {Type: alert.EntityHost, Value: "MX1"}, {Type: alert.EntityUser, Value: "alice"},
	}}
}

// TestCampaignsAndAlsoSeen: the window, the threshold, joining, and the
// k-anonymous count.
func TestCampaignsAndAlsoSeen(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s, _ := newService(t, defend.DefaultConfig(), now)
	observe := func(tn tenant.ID, a alert.Alert) {
		t.Helper()
		if err := s.Observe(ctx, tn, []alert.Change{{What: alert.ChangeCreated, Alert: a}}); err != nil {
			t.Fatal(err)
		}
	}
	// Two hours ago at a: outside the window of what follows.
	observe("a", phish(1, "r", now.Add(-2*time.Hour)))
	observe("b", phish(2, "r", now.Add(-10*time.Minute)))
	if n, _ := s.AlsoSeen(ctx, "b", []int64{2}); n[2] != 0 {
		t.Errorf("one other member: also seen %d, want nothing said", n)
	}
	observe("c", phish(3, "r", now.Add(-5*time.Minute)))
	if cs, _ := s.Campaigns(ctx, "", 10); len(cs) != 0 {
		t.Errorf("a's alert is outside the window, yet: %+v", cs)
	}
	if n, _ := s.AlsoSeen(ctx, "b", []int64{2}); n[2] != 2 {
		t.Errorf("b's alert: also seen %d, want 2 (a and c, whenever)", n)
	}
	// A page at once: an id b has no alert of (99) and c's alert (3) asked
	// for as b's say nothing.
	if n, err := s.AlsoSeen(ctx, "b", []int64{99, 2, 3}); err != nil || len(n) != 1 || n[2] != 2 {
		t.Errorf("b's page: also seen %v, %v; want only alert 2, seen by 2", n, err)
	}
	observe("d", phish(4, "r", now))
	cs, err := s.Campaigns(ctx, "", 10)
	if err != nil || len(cs) != 1 || cs[0].Members != 3 || cs[0].Value != "billing@pay-now.biz" {
		t.Fatalf("campaigns = %+v, %v", cs, err)
	}
	// a is hit again within the window: it joins.
	observe("a", phish(5, "r", now.Add(time.Minute)))
	c, err := s.Campaign(ctx, cs[0].ID)
	if err != nil || c.Members != 4 || len(c.Links) != 4 {
		t.Errorf("campaign after a joins: %+v, %v", c, err)
	}
}

// TestCampaignClosed: an analyst closes a campaign; it takes no more
// alerts, and its alerts do not raise it again, but new alerts at enough
// members do; opened again, it forgets its closing.
func TestCampaignClosed(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	clock := now
	s, _, _ := newAudited(t, defend.DefaultConfig(), func() time.Time { return clock })
	observe := func(tn tenant.ID, a alert.Alert) {
		t.Helper()
		if err := s.Observe(ctx, tn, []alert.Change{{What: alert.ChangeCreated, Alert: a}}); err != nil {
			t.Fatal(err)
		}
	}
	list := func(status string) []defend.Campaign {
		t.Helper()
		cs, err := s.Campaigns(ctx, status, 10)
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	observe("a", phish(1, "r", now.Add(-3*time.Minute)))
	observe("b", phish(2, "r", now.Add(-2*time.Minute)))
	observe("c", phish(3, "r", now.Add(-time.Minute)))
	cs := list("")
	if len(cs) != 1 || cs[0].Status != defend.StatusOpen || !cs[0].Active {
		t.Fatalf("campaigns = %+v, want one open and active", cs)
	}
	id := cs[0].ID

	c, changed, err := s.SetStatus(ctx, id, defend.StatusClosed, "user:rhys", "phishing wave blocked at the gateway")
	if err != nil || !changed || c.Status != defend.StatusClosed || c.Active || c.ClosedBy != "user:rhys" ||
		c.CloseNote != "phishing wave blocked at the gateway" || c.ClosedAt == nil || !c.ClosedAt.Equal(now) {
		t.Fatalf("closed: %+v, changed %v, %v", c, changed, err)
	}
	if c, changed, err := s.SetStatus(ctx, id, defend.StatusClosed, "user:other", "again"); err != nil || changed || c.ClosedBy != "user:rhys" {
		t.Errorf("closed again: %+v, changed %v, %v; want the first closing kept", c, changed, err)
	}
	if got := list(defend.StatusOpen); len(got) != 0 {
		t.Errorf("open campaigns after closing: %+v", got)
	}
	if got := list(defend.StatusClosed); len(got) != 1 || got[0].ID != id {
		t.Errorf("closed campaigns: %+v", got)
	}

	// A fourth member within the window: the closed campaign does not take
	// it, and the closed campaign's alerts do not raise a new one.
	observe("d", phish(4, "r", now))
	if got := list(""); len(got) != 1 {
		t.Fatalf("after a fourth member: %+v, want the closed campaign alone", got)
	}
	if c, _ := s.Campaign(ctx, id); len(c.Links) != 3 {
		t.Errorf("the closed campaign took an alert: %+v", c.Links)
	}
	// New alerts at two more members: with d's, three members again.
	clock = now.Add(5 * time.Minute)
	observe("a", phish(5, "r", now.Add(time.Minute)))
	observe("b", phish(6, "r", now.Add(2*time.Minute)))
	got := list(defend.StatusOpen)
	if len(got) != 1 || got[0].ID == id || got[0].Members != 3 {
		t.Fatalf("open campaigns after new alerts at three members: %+v", got)
	}

	c, changed, err = s.SetStatus(ctx, id, defend.StatusOpen, "user:rhys", "")
	if err != nil || !changed || c.Status != defend.StatusOpen || c.ClosedAt != nil || c.ClosedBy != "" || c.CloseNote != "" {
		t.Errorf("opened again: %+v, changed %v, %v", c, changed, err)
	}
	if _, _, err := s.SetStatus(ctx, 999, defend.StatusClosed, "user:rhys", ""); !errors.Is(err, defend.ErrNotFound) {
		t.Errorf("closing a campaign that does not exist: %v", err)
	}
	// Its window past, an open campaign is quiet: it takes no more alerts.
	clock = now.Add(2 * time.Hour)
	if c, _ := s.Campaign(ctx, id); c.Active {
		t.Errorf("two hours after its last alert, the campaign is still active: %+v", c)
	}
}

// TestAutoShare: a rule the provider trusts shares its alerts' external
// observables at once; another rule's do not.
func TestAutoShare(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	cfg := defend.DefaultConfig()
	cfg.AutoShare = []string{"trusted-rule"}
	s, k := newService(t, cfg, now)
	if err := s.Observe(ctx, "a", []alert.Change{{What: alert.ChangeCreated, Alert: phish(1, "other-rule", now)}}); err != nil {
		t.Fatal(err)
	}
	if len(k.Batches) != 0 {
		t.Fatalf("an untrusted rule's alert was shared: %+v", k.Batches)
	}
	if err := s.Observe(ctx, "a", []alert.Change{{What: alert.ChangeCreated, Alert: phish(2, "trusted-rule", now)}}); err != nil {
		t.Fatal(err)
	}
	if len(k.Batches) != 1 || len(k.Batches[0].Indicators) != 1 {
		t.Fatalf("shared %+v, want the sender alone", k.Batches)
	}
	i := k.Batches[0].Indicators[0]
	if i.Observables[0] != (intel.Observable{Type: intel.TypeEmail, Value: "billing@pay-now.biz"}) || i.TLP != intel.TLPAmber || i.Owner != "" || i.Audience != nil ||
		!i.ValidUntil.Equal(i.ValidFrom.Add(cfg.Expires)) {
		t.Errorf("shared indicator = %+v", i)
	}
	// Growing the same alert shares nothing more.
	if err := s.Observe(ctx, "a", []alert.Change{{What: alert.ChangeUpdated, Alert: phish(2, "trusted-rule", now)}}); err != nil {
		t.Fatal(err)
	}
	if len(k.Batches) != 1 {
		t.Errorf("an update shared again: %d batches", len(k.Batches))
	}
}

// TestAutoShareAudited: the automatic policy's share is in the member's
// audit chain as an analyst's is, with a JSON detail; it does not share
// again what the provider revoked, which an analyst's confirmation does.
func TestAutoShareAudited(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	cfg := defend.DefaultConfig()
	cfg.AutoShare = []string{"trusted-rule"}
	s, k, tr := newAudited(t, cfg, func() time.Time { return now })
	if err := s.Observe(ctx, "a", []alert.Change{{What: alert.ChangeCreated, Alert: phish(2, "trusted-rule", now)}}); err != nil {
		t.Fatal(err)
	}
	if len(tr.records) != 1 {
		t.Fatalf("audit records %+v, want one intel.share", tr.records)
	}
	r := tr.records[0]
	var d struct {
		Alert      int64    `json:"alert"`
		Indicators []string `json:"indicators"`
		Withheld   int      `json:"withheld"`
	}
	if r.Action != "intel.share" || r.Scope != "a" || r.Actor != defend.AutoShareActor || json.Unmarshal([]byte(r.Detail), &d) != nil ||
		d.Alert != 2 || len(d.Indicators) != 1 || d.Indicators[0] != k.Batches[0].Indicators[0].ID || d.Withheld != 2 {
		t.Errorf("audit record %+v", r)
	}
	// The provider revokes the shared sender; the rule's next alert does
	// not share it again, an analyst's confirmation does.
	id := k.Batches[0].Indicators[0].ID
	revoked := k.Held[id]
	revoked.Revoked, revoked.Modified = true, revoked.Modified.Add(time.Second)
	k.Held[id] = revoked
	now = now.Add(time.Hour)
	if err := s.Observe(ctx, "b", []alert.Change{{What: alert.ChangeCreated, Alert: phish(3, "trusted-rule", now)}}); err != nil {
		t.Fatal(err)
	}
	if len(k.Batches) != 1 || !k.Held[id].Revoked {
		t.Errorf("the automatic policy shared a revoked indicator again: %+v", k.Batches[1:])
	}
	if _, err := s.Confirm(ctx, "b", phish(3, "trusted-rule", now)); err != nil {
		t.Fatal(err)
	}
	if k.Held[id].Revoked {
		t.Errorf("an analyst's confirmation left the indicator revoked")
	}
}

// TestShareAgainKeepsCreated: a value confirmed again is a new version of
// its indicator, with the created time of the first (STIX versioning),
// and newer than the one held even within the same millisecond.
func TestShareAgainKeepsCreated(t *testing.T) {
	ctx := context.Background()
	first := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	now := first
	s, k, _ := newAudited(t, defend.DefaultConfig(), func() time.Time { return now })
	for _, at := range []time.Time{first, first.Add(24 * time.Hour), first.Add(24 * time.Hour)} {
		now = at
		if _, err := s.Confirm(ctx, "a", phish(1, "r", at)); err != nil {
			t.Fatal(err)
		}
	}
	if len(k.Batches) != 3 {
		t.Fatalf("%d shares, want 3", len(k.Batches))
	}
	a, b, c := k.Batches[0].Indicators[0], k.Batches[1].Indicators[0], k.Batches[2].Indicators[0]
	if !b.Created.Equal(a.Created) || !c.Created.Equal(a.Created) {
		t.Errorf("created %v, then %v and %v: want the first's", a.Created, b.Created, c.Created)
	}
	if !b.Modified.After(a.Modified) || !c.Modified.After(b.Modified) {
		t.Errorf("modified %v, %v, %v: each version must be newer", a.Modified, b.Modified, c.Modified)
	}
	if !b.ValidUntil.Equal(now.Add(defend.DefaultConfig().Expires)) {
		t.Errorf("valid until %v: want a new term from the second confirmation", b.ValidUntil)
	}
}

// TestConfirmSharesNoMemberWords: what a confirmation shares names the
// rule that fired (the provider's), never the member's own data: an
// intelligence match's title holds the value matched and the member's name
// for its indicator, and neither reaches the indicator every member sees.
func TestConfirmSharesNoMemberWords(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s, k := newService(t, defend.DefaultConfig(), now)
	sigma := phish(1, "phish-rule", now)
	sigma.Producer, sigma.Title = alert.ProducerSigma, "Invoice phishing sender"
	ti := phish(2, "intel:indicator--1", now)
	ti.Producer, ti.Title = alert.ProducerIntel, "Threat intelligence: email hr@rvcouncil.example (Riverside HR mailbox phished, case RV-42)"
	for _, a := range []alert.Alert{sigma, ti} {
		if _, err := s.Confirm(ctx, "a", a); err != nil {
			t.Fatal(err)
		}
	}
	if len(k.Batches) != 2 {
		t.Fatalf("shared %d batches, want 2", len(k.Batches))
	}
	if got := k.Batches[0].Indicators[0].Name; got != "Confirmed at a member: Invoice phishing sender" {
		t.Errorf("the rule's alert shared as %q, want the rule's title", got)
	}
	for _, i := range k.Batches[1].Indicators {
		for _, private := range []string{"rvcouncil", "Riverside", "RV-42"} {
			if strings.Contains(i.Name, private) || strings.Contains(i.Description, private) {
				t.Errorf("the intelligence match shared %q: name %q, description %q", private, i.Name, i.Description)
			}
		}
	}
}

// counting counts the observations recorded.
type counting struct {
	defend.Store
	records int
}

func (c *counting) RecordObservables(ctx context.Context, t tenant.ID, id int64, seen time.Time, keys []string) error {
	c.records++
	return c.Store.RecordObservables(ctx, t, id, seen, keys)
}

// TestGrowingAlertRecordedOncePerMinute: an alert that grows with every
// batch is recorded again only when its observables change or its last
// seen time has moved a minute on; campaigns still form from it.
func TestGrowingAlertRecordedOncePerMinute(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, id := range []tenant.ID{"a", "b", "c"} {
		if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: id, Name: string(id)}); err != nil {
			t.Fatal(err)
		}
	}
	st := &counting{Store: db}
	s, err := defend.New(defend.DefaultConfig(), defend.Deps{Store: st, Intel: &defendtest.Intel{}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	change := func(tn tenant.ID, what string, a alert.Alert) {
		t.Helper()
		if err := s.Observe(ctx, tn, []alert.Change{{What: what, Alert: a}}); err != nil {
			t.Fatal(err)
		}
	}
	start := now.Add(-time.Hour)
	change("a", alert.ChangeCreated, phish(1, "r", start))
	for i := 1; i <= 59; i++ { // grows every second for a minute
		change("a", alert.ChangeUpdated, phish(1, "r", start.Add(time.Duration(i)*time.Second)))
	}
	if st.records != 1 {
		t.Fatalf("an alert growing for 59 s with the same observables: recorded %d times, want 1", st.records)
	}
	change("a", alert.ChangeUpdated, phish(1, "r", start.Add(time.Minute)))
	if st.records != 2 {
		t.Fatalf("a minute on: recorded %d times, want 2", st.records)
	}
	grown := phish(1, "r", start.Add(time.Minute+time.Second))
	grown.Entities = append(grown.Entities, alert.Entity{Type: alert.EntityEmailSender, Value: "other@pay-now.biz"})
	change("a", alert.ChangeUpdated, grown)
	if st.records != 3 {
		t.Fatalf("a new observable: recorded %d times, want 3", st.records)
	}
	// Another alert, and a new alert, are never held back.
	change("b", alert.ChangeUpdated, phish(10, "r", start.Add(time.Minute+time.Second)))
	change("a", alert.ChangeCreated, phish(2, "r", start.Add(time.Minute+time.Second)))
	if st.records != 5 {
		t.Fatalf("other alerts: recorded %d times, want 5", st.records)
	}
	// The campaign forms at the third member from what was recorded.
	change("c", alert.ChangeCreated, phish(3, "r", start.Add(2*time.Minute)))
	cs, err := s.Campaigns(ctx, "", 10)
	if err != nil || len(cs) != 1 || cs[0].Members != 3 {
		t.Fatalf("campaigns = %+v, %v; want one at 3 members", cs, err)
	}
}
