package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/advisory"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/tenant"
)

func advisoryDB(t *testing.T, open func(testing.TB) *DB, members ...tenant.ID) *DB {
	t.Helper()
	db := open(t)
	for _, m := range members {
		if _, err := db.CreateTenant(context.Background(), tenant.Tenant{ID: m, Name: string(m), Created: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func adv(tlp intel.TLP, audience ...tenant.ID) advisory.Advisory {
	return advisory.Advisory{TitleEN: "Phishing", TitleCY: "Gwe-rwydo", SummaryEN: "s", SummaryCY: "c", TLP: tlp,
		Audience: audience, Indicators: []string{}, Author: "tok", Published: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func advising(a advisory.Advisory, ids ...string) advisory.Advisory {
	a.Indicators = ids
	return a
}

// TestAdvisoriesCrossTenant: a member reads, lists and acknowledges only
// the advisories addressed to it; another member's are not found, an
// AMBER+STRICT or RED one never reaches "all members", and a member never
// reads another's acknowledgement.
func TestAdvisoriesCrossTenant(t *testing.T) { backends(t, testAdvisoriesCrossTenant) }

func testAdvisoriesCrossTenant(t *testing.T, open func(testing.TB) *DB) {
	ctx := context.Background()
	db := advisoryDB(t, open, "gwynedd", "conwy", "powys")
	var ids []int64
	for _, a := range []advisory.Advisory{
		adv(intel.TLPAmber),                           // 0: all members
		adv(intel.TLPAmber, "gwynedd"),                // 1: gwynedd only
		adv(intel.TLPRed, "conwy", "powys"),           // 2: named, red
		adv(intel.TLPAmberStrict),                     // 3: restricted to "all": nobody (Validate refuses it; the store must not leak it)
		adv(intel.TLPClear, "conwy"),                  // 4: conwy only
		adv(intel.TLPAmberStrict, "gwynedd", "conwy"), // 5
	} {
		got, err := db.CreateAdvisory(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got.ID)
	}
	visible := map[tenant.ID][]int{"gwynedd": {5, 1, 0}, "conwy": {5, 4, 2, 0}, "powys": {2, 0}}
	for m, want := range visible {
		as, err := db.Advisories(ctx, m, false)
		if err != nil {
			t.Fatal(err)
		}
		var got, wantIDs []int64
		for _, a := range as {
			got = append(got, a.ID)
		}
		for _, i := range want {
			wantIDs = append(wantIDs, ids[i])
		}
		if fmt.Sprint(got) != fmt.Sprint(wantIDs) {
			t.Errorf("Advisories(%s) = %v, want %v", m, got, wantIDs)
		}
		for i, id := range ids {
			addressed := false
			for _, w := range want {
				addressed = addressed || w == i
			}
			_, err := db.Advisory(ctx, id, m, false)
			if addressed != (err == nil) || (!addressed && !errors.Is(err, advisory.ErrNotFound)) {
				t.Errorf("Advisory(%d) as %s: %v, addressed %v", i, m, err, addressed)
			}
			_, err = db.AckAdvisory(ctx, id, m, "user:"+string(m), time.Now())
			if addressed != (err == nil) || (!addressed && !errors.Is(err, advisory.ErrNotFound)) {
				t.Errorf("AckAdvisory(%d) as %s: %v, addressed %v", i, m, err, addressed)
			}
		}
	}
	// The empty viewer is no member: it reads nothing without provider.
	if as, err := db.Advisories(ctx, "", false); err != nil || len(as) != 0 {
		t.Errorf("Advisories(\"\", member) = %v, %v", as, err)
	}
	all, err := db.Advisories(ctx, "", true)
	if err != nil || len(all) != len(ids) {
		t.Fatalf("provider Advisories = %d, %v", len(all), err)
	}
	// Advisory 5 was acknowledged by gwynedd and conwy; each sees only its own.
	for _, m := range []tenant.ID{"gwynedd", "conwy"} {
		acks, err := db.AdvisoryAcks(ctx, ids[5], m, false)
		if err != nil || len(acks) != 1 || acks[0].Tenant != m || acks[0].By != "user:"+string(m) {
			t.Errorf("AdvisoryAcks as %s = %+v, %v", m, acks, err)
		}
	}
	if acks, err := db.AdvisoryAcks(ctx, ids[5], "powys", false); err != nil || len(acks) != 0 {
		t.Errorf("AdvisoryAcks as powys = %+v, %v", acks, err)
	}
	if acks, err := db.AdvisoryAcks(ctx, ids[5], "", true); err != nil || len(acks) != 2 {
		t.Errorf("provider AdvisoryAcks = %+v, %v", acks, err)
	}
}

func TestAdvisoryAckIdempotent(t *testing.T) { backends(t, testAdvisoryAckIdempotent) }

func testAdvisoryAckIdempotent(t *testing.T, open func(testing.TB) *DB) {
	ctx := context.Background()
	db := advisoryDB(t, open, "gwynedd")
	a, err := db.CreateAdvisory(ctx, adv(intel.TLPGreen))
	if err != nil {
		t.Fatal(err)
	}
	first := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	k1, err := db.AckAdvisory(ctx, a.ID, "gwynedd", "user:carys", first)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := db.AckAdvisory(ctx, a.ID, "gwynedd", "user:dafydd", first.Add(time.Hour))
	if err != nil || k2 != k1 || k1.By != "user:carys" || !k1.At.Equal(first) {
		t.Errorf("second ack = %+v, %v; first %+v", k2, err, k1)
	}
	if _, err := db.AckAdvisory(ctx, a.ID+1, "gwynedd", "x", first); !errors.Is(err, advisory.ErrNotFound) {
		t.Errorf("ack of a missing advisory: %v", err)
	}
}

// TestAdvisoryService: publishing checks the audience and the advised
// indicators; the provider sees who has acknowledged and where each
// indicator was seen since publication; a member sees only its own.
func TestAdvisoryService(t *testing.T) { backends(t, testAdvisoryService) }

func testAdvisoryService(t *testing.T, open func(testing.TB) *DB) {
	ctx := context.Background()
	db := advisoryDB(t, open, "gwynedd", "conwy", "powys")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	members := func(ctx context.Context) ([]tenant.ID, error) {
		ts, err := db.Tenants(ctx)
		var out []tenant.ID
		for _, t := range ts {
			out = append(out, t.ID)
		}
		return out, err
	}
	svc := advisory.NewService(advisory.Deps{Store: db, Intel: db, Members: members, Now: func() time.Time { return now }})
	ind := func(id string, tlp intel.TLP, owner tenant.ID, audience ...tenant.ID) string {
		i := intel.Indicator{ID: id, Observables: []intel.Observable{{Type: intel.TypeDomain, Value: id + ".example"}}, TLP: tlp,
			Owner: owner, Audience: audience, Created: now, Modified: now, ValidFrom: now}
		if _, _, err := db.PutIndicators(ctx, []intel.Indicator{i}, false); err != nil {
			t.Fatal(err)
		}
		return id
	}
	shared := ind("indicator--shared", intel.TLPAmber, "")
	strict := ind("indicator--strict", intel.TLPAmberStrict, "", "gwynedd", "conwy")
	own := ind("indicator--own", intel.TLPAmber, "powys")

	for _, c := range []struct {
		name string
		a    advisory.Advisory
	}{
		{"unknown member", adv(intel.TLPAmber, "nowhere")},
		{"unknown indicator", advising(adv(intel.TLPAmber), "indicator--none")},
		{"member's own indicator to all", advising(adv(intel.TLPAmber), own)},
		{"strict indicator to an unnamed member", advising(adv(intel.TLPRed, "powys"), strict)},
		{"marking looser than the indicator", advising(adv(intel.TLPGreen, "gwynedd"), strict)},
		{"red to all", adv(intel.TLPRed)},
		{"no welsh", func() advisory.Advisory { a := adv(intel.TLPAmber); a.TitleCY = ""; return a }()},
	} {
		if _, err := svc.Publish(ctx, c.a, "tok"); !errors.Is(err, advisory.ErrInvalid) {
			t.Errorf("%s: Publish = %v, want ErrInvalid", c.name, err)
		}
	}

	a := adv(intel.TLPAmberStrict, "gwynedd", "conwy")
	a.Indicators = []string{shared, strict}
	a, err := svc.Publish(ctx, a, "prov-tok")
	if err != nil {
		t.Fatal(err)
	}
	if a.Author != "prov-tok" || !a.Published.Equal(now) {
		t.Errorf("published %+v", a)
	}
	// Sightings: shared at gwynedd after publication and at powys (not
	// addressed) after; conwy only before; a feed's sighting (no tenant).
	err = db.AddSightings(ctx, []intel.Sighting{
		{IndicatorID: shared, Tenant: "gwynedd", Source: "s", FirstSeen: now.Add(time.Minute), LastSeen: now.Add(2 * time.Minute), Count: 1},
		{IndicatorID: shared, Tenant: "powys", Source: "s", FirstSeen: now.Add(time.Minute), LastSeen: now.Add(time.Minute), Count: 1},
		{IndicatorID: shared, Tenant: "conwy", Source: "s", FirstSeen: now.Add(-time.Hour), LastSeen: now.Add(-time.Minute), Count: 1},
		{IndicatorID: shared, Tenant: "", Source: "feed", FirstSeen: now.Add(time.Minute), LastSeen: now.Add(time.Minute), Count: 1},
		{IndicatorID: strict, Tenant: "conwy", Source: "s", FirstSeen: now.Add(time.Hour), LastSeen: now.Add(time.Hour), Count: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Acknowledge(ctx, a.ID, "powys", "user:x"); !errors.Is(err, advisory.ErrNotFound) {
		t.Errorf("powys acknowledges: %v", err)
	}
	if _, err := svc.Acknowledge(ctx, a.ID, "gwynedd", "user:carys"); err != nil {
		t.Fatal(err)
	}
	d, err := svc.Show(ctx, a.ID, "", true)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(d.Pending); got != "[conwy]" {
		t.Errorf("pending = %s", got)
	}
	if got := fmt.Sprint(d.Members); len(d.Members) != 2 || got != fmt.Sprintf("[{conwy false  %v} {gwynedd true user:carys %v}]", time.Time{}, now) {
		t.Errorf("members = %+v", d.Members)
	}
	seen := func(d advisory.Detail) string {
		var s string
		for _, x := range d.Seen {
			s += x.Indicator + ":"
			for _, m := range x.Members {
				s += fmt.Sprintf(" %s(%v)", m.Tenant, m.Addressed)
			}
			s += ";"
		}
		return s
	}
	if got, want := seen(d), "indicator--shared: gwynedd(true) powys(false);indicator--strict: conwy(true);"; got != want {
		t.Errorf("provider seen = %q, want %q", got, want)
	}
	list, err := svc.List(ctx, "", true)
	if err != nil || len(list) != 1 || *list[0].Recipients != 2 || *list[0].Acks != 1 {
		t.Errorf("provider list = %+v, %v", list, err)
	}
	// Members: their own acknowledgement and sightings only.
	for m, want := range map[tenant.ID]string{"gwynedd": "indicator--shared: gwynedd(true);indicator--strict:;", "conwy": "indicator--shared:;indicator--strict: conwy(true);"} {
		d, err := svc.Show(ctx, a.ID, m, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := seen(d); got != want {
			t.Errorf("%s seen = %q, want %q", m, got, want)
		}
		if fmt.Sprint(d.Advisory.Audience) != "["+string(m)+"]" {
			t.Errorf("%s reads the audience %v, want itself alone", m, d.Advisory.Audience)
		}
		if d.Members != nil || d.Pending != nil || (d.Acknowledged != nil) != (m == "gwynedd") {
			t.Errorf("%s sees members %v, pending %v, ack %+v", m, d.Members, d.Pending, d.Acknowledged)
		}
		l, err := svc.List(ctx, m, false)
		if err != nil || len(l) != 1 || l[0].Recipients != nil || (l[0].Acknowledged != nil) != (m == "gwynedd") {
			t.Errorf("%s list = %+v, %v", m, l, err)
		}
	}
	if _, err := svc.Show(ctx, a.ID, "powys", false); !errors.Is(err, advisory.ErrNotFound) {
		t.Errorf("powys shows: %v", err)
	}
	if l, err := svc.List(ctx, "powys", false); err != nil || len(l) != 0 {
		t.Errorf("powys list = %+v, %v", l, err)
	}
}
