package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/intel/indicators"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// IntelStore is what the intel tests need.
type IntelStore interface {
	CreateTenant(ctx context.Context, t tenant.Tenant) (tenant.Tenant, error)
	indicators.Store
}

func indicator(id string, owner tenant.ID, tlp intel.TLP, audience []tenant.ID, v string, modified time.Time) intel.Indicator {
	return intel.Indicator{ID: id, Owner: owner, TLP: tlp, Audience: audience, Confidence: 50, ValidFrom: modified, Created: modified, Modified: modified,
		Observables: []intel.Observable{{Type: intel.TypeDomain, Value: v}}}
}

func indicatorIDs(is []intel.Indicator) []string {
	var out []string
	for _, i := range is {
		out = append(out, i.ID)
	}
	slices.Sort(out)
	return out
}

// TestIntel checks indicators (versions, visibility, paging), sightings
// and retro-hunts.
func TestIntel(t *testing.T, open func(t *testing.T) IntelStore) {
	ctx := context.Background()
	s := open(t)
	for _, id := range []tenant.ID{"a", "b", "c"} {
		if _, err := s.CreateTenant(ctx, tenant.Tenant{ID: id, Name: string(id)}); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	is := []intel.Indicator{
		indicator("indicator--1", "", intel.TLPAmber, nil, "shared.example", t0),
		indicator("indicator--2", "", intel.TLPRed, nil, "red-all.example", t0),
		indicator("indicator--3", "", intel.TLPRed, []tenant.ID{"b"}, "red-b.example", t0),
		indicator("indicator--4", "a", intel.TLPClear, nil, "a-own.example", t0),
		indicator("indicator--5", "b", intel.TLPGreen, nil, "b-own.example", t0),
	}
	sum, _, err := s.PutIndicators(ctx, is, true)
	if err != nil || sum.Imported != 5 || sum.Updated != 0 {
		t.Fatalf("PutIndicators: %+v, %v", sum, err)
	}
	// A newer version updates; the same or an older one changes nothing.
	newer := indicator("indicator--1", "", intel.TLPAmber, nil, "shared2.example", t0.Add(time.Hour))
	older := indicator("indicator--4", "a", intel.TLPClear, nil, "a-old.example", t0.Add(-time.Hour))
	sum, _, err = s.PutIndicators(ctx, []intel.Indicator{newer, older, is[2]}, true)
	if err != nil || sum.Updated != 1 || sum.Unchanged != 2 || sum.Imported != 0 {
		t.Fatalf("second PutIndicators: %+v, %v", sum, err)
	}
	if got, err := s.Indicator(ctx, "indicator--1"); err != nil || got.Observables[0].Value != "shared2.example" {
		t.Errorf("indicator--1 = %+v, %v; want the newer version", got, err)
	}
	if got, _ := s.Indicator(ctx, "indicator--4"); got.Observables[0].Value != "a-own.example" {
		t.Errorf("an older version replaced indicator--4: %+v", got)
	}
	if _, err := s.Indicator(ctx, "indicator--nope"); !errors.Is(err, intel.ErrNotFound) {
		t.Errorf("missing indicator: %v, want intel.ErrNotFound", err)
	}

	list := func(f intel.Filter) []string {
		t.Helper()
		got, _, err := s.Indicators(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return indicatorIDs(got)
	}
	for _, c := range []struct {
		f    intel.Filter
		want []string
	}{
		{intel.Filter{Viewer: "a"}, []string{"indicator--1", "indicator--4"}},
		{intel.Filter{Viewer: "b"}, []string{"indicator--1", "indicator--3", "indicator--5"}},
		{intel.Filter{Viewer: "c"}, []string{"indicator--1"}},
		{intel.Filter{Provider: true}, []string{"indicator--1", "indicator--2", "indicator--3", "indicator--4", "indicator--5"}},
		{intel.Filter{Provider: true, Owner: "*"}, []string{"indicator--1", "indicator--2", "indicator--3"}},
		{intel.Filter{Provider: true, Owner: "b"}, []string{"indicator--5"}},
		{intel.Filter{Viewer: "b", Type: intel.TypeIPv4}, nil},
		{intel.Filter{Provider: true, Value: "red-b.example"}, []string{"indicator--3"}},
		{intel.Filter{Viewer: "a", Value: "red-b.example"}, nil},
		{intel.Filter{Viewer: "a", Type: intel.TypeDomain, Value: "a-own.example"}, []string{"indicator--4"}},
		{intel.Filter{Viewer: "a", Value: "nowhere.example"}, nil},
	} {
		if got := list(c.f); !slices.Equal(got, c.want) {
			t.Errorf("Indicators(%+v) = %v, want %v", c.f, got, c.want)
		}
	}
	// Paging.
	var paged []intel.Indicator
	f := intel.Filter{Provider: true, Limit: 2}
	for {
		page, next, err := s.Indicators(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 2 {
			t.Fatalf("page of %d, limit 2", len(page))
		}
		paged = append(paged, page...)
		if next == 0 {
			break
		}
		f.After = next
	}
	if len(paged) != 5 {
		t.Errorf("paging gave %v", indicatorIDs(paged))
	}

	// Revoked ones leave the default list and the matcher's load.
	rev := is[4]
	rev.Revoked, rev.Modified = true, t0.Add(2*time.Hour)
	if _, _, err := s.PutIndicators(ctx, []intel.Indicator{rev}, true); err != nil {
		t.Fatal(err)
	}
	if got := list(intel.Filter{Viewer: "b"}); slices.Contains(got, "indicator--5") {
		t.Errorf("a revoked indicator is listed: %v", got)
	}
	if got := list(intel.Filter{Viewer: "b", Revoked: true}); !slices.Contains(got, "indicator--5") {
		t.Errorf("revoked=true does not list it: %v", got)
	}
	var loaded []intel.Indicator
	if err := s.EachIndicator(ctx, func(i intel.Indicator) error { loaded = append(loaded, i); return nil }); err != nil {
		t.Fatal(err)
	}
	if got := indicatorIDs(loaded); len(got) != 4 || slices.Contains(got, "indicator--5") {
		t.Errorf("EachIndicator = %v", got)
	}

	// Sightings add up per indicator, tenant and source.
	sg := func(tn tenant.ID, src string, at time.Time, n int) intel.Sighting {
		return intel.Sighting{IndicatorID: "indicator--1", Tenant: tn, Source: src, FirstSeen: at, LastSeen: at, Count: n}
	}
	if err := s.AddSightings(ctx, []intel.Sighting{sg("a", "", t0, 1), sg("a", "", t0.Add(time.Hour), 2), sg("b", "", t0, 1), sg("", "misp:circl", t0, 5)}); err != nil {
		t.Fatal(err)
	}
	ss, err := s.Sightings(ctx, "indicator--1", "a", false)
	if err != nil || len(ss) != 2 {
		t.Fatalf("a's sightings = %+v, %v; want its own and the feed's", ss, err)
	}
	for _, x := range ss {
		if x.Tenant == "b" {
			t.Errorf("a sees b's sighting: %+v", x)
		}
		if x.Tenant == "a" && (x.Count != 3 || !x.FirstSeen.Equal(t0) || !x.LastSeen.Equal(t0.Add(time.Hour))) {
			t.Errorf("a's sighting = %+v, want count 3 over the hour", x)
		}
	}
	if all, _ := s.Sightings(ctx, "indicator--1", "", true); len(all) != 3 {
		t.Errorf("provider sees %d sightings, want 3", len(all))
	}

	// Retro-hunts.
	h, err := s.CreateRetroHunt(ctx, intel.RetroHunt{IndicatorID: "indicator--1", Tenant: "a", Status: intel.HuntRunning, Since: t0, Created: t0})
	if err != nil || h.ID == 0 {
		t.Fatalf("CreateRetroHunt: %+v, %v", h, err)
	}
	if _, err := s.CreateRetroHunt(ctx, intel.RetroHunt{IndicatorID: "indicator--1", Tenant: "b", Status: intel.HuntRunning, Since: t0, Created: t0}); err != nil {
		t.Fatal(err)
	}
	h.Status, h.Scanned, h.Hits, h.Finished = intel.HuntDone, 10, 2, t0.Add(time.Minute)
	if err := s.UpdateRetroHunt(ctx, h); err != nil {
		t.Fatal(err)
	}
	hs, err := s.RetroHunts(ctx, "indicator--1", "a", 10)
	if err != nil || len(hs) != 1 || hs[0].Status != intel.HuntDone || hs[0].Hits != 2 || hs[0].Scanned != 10 || !hs[0].Finished.Equal(t0.Add(time.Minute)) {
		t.Errorf("a's hunts = %+v, %v", hs, err)
	}
	if all, _ := s.RetroHunts(ctx, "", "", 10); len(all) != 2 || all[0].Tenant != "b" {
		t.Errorf("every hunt, newest first = %+v", all)
	}
	// A hunt a stop cut short is marked so, not left running.
	if n, err := s.InterruptRetroHunts(ctx, t0.Add(2*time.Minute), "interrupted"); err != nil || n != 1 {
		t.Errorf("InterruptRetroHunts = %d, %v; want the one running", n, err)
	}
	if bs, _ := s.RetroHunts(ctx, "indicator--1", "b", 1); len(bs) != 1 || bs[0].Status != intel.HuntFailed || bs[0].Error != "interrupted" || !bs[0].Finished.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("b's interrupted hunt = %+v", bs)
	}
	if as, _ := s.RetroHunts(ctx, "indicator--1", "a", 1); len(as) != 1 || as[0].Status != intel.HuntDone {
		t.Errorf("a's finished hunt changed: %+v", as)
	}

	// The retro-hunt queue: every new or changed indicator put with hunt,
	// once, in the order first queued (a change while queued bumps its
	// version); not an unchanged one, a revoked one, or one put without.
	q, err := s.QueuedRetroHunts(ctx, 100)
	var queued []string
	for _, e := range q {
		queued = append(queued, fmt.Sprintf("%s@%d", e.IndicatorID, e.Version))
	}
	if want := []string{"indicator--1@1", "indicator--2@0", "indicator--3@0", "indicator--4@0", "indicator--5@0"}; err != nil || !slices.Equal(queued, want) {
		t.Fatalf("queued hunts = %v, %v; want %v", queued, err, want)
	}
	if _, _, err := s.PutIndicators(ctx, []intel.Indicator{indicator("indicator--6", "", intel.TLPAmber, nil, "quiet.example", t0)}, false); err != nil {
		t.Fatal(err)
	}
	// indicator--2 changes while its hunt runs: dequeueing the version
	// hunted leaves it queued.
	if _, _, err := s.PutIndicators(ctx, []intel.Indicator{indicator("indicator--2", "", intel.TLPRed, nil, "red-all2.example", t0.Add(3*time.Hour))}, true); err != nil {
		t.Fatal(err)
	}
	if err := s.DequeueRetroHunts(ctx, []intel.QueuedHunt{q[0], q[1], q[2]}); err != nil {
		t.Fatal(err)
	}
	q, err = s.QueuedRetroHunts(ctx, 100)
	queued = nil
	for _, e := range q {
		queued = append(queued, fmt.Sprintf("%s@%d", e.IndicatorID, e.Version))
	}
	if want := []string{"indicator--2@1", "indicator--4@0", "indicator--5@0"}; err != nil || !slices.Equal(queued, want) {
		t.Errorf("after dequeueing the first three = %v, %v; want %v (indicator--2 changed since, indicator--6 put without a hunt)", queued, err, want)
	}
}

// TestIndicatorOwnership: no owner's put takes another's indicator, by
// naming its ID (a member crafting a STIX bundle, or two members importing
// one public feed): the provider's and each member's copy stay apart, each
// owner's later versions find its own copy, and sightings in the batch
// follow the ID the store chose.
func TestIndicatorOwnership(t *testing.T, open func(t *testing.T) IntelStore) {
	ctx := context.Background()
	s := open(t)
	for _, id := range []tenant.ID{"a", "b"} {
		if _, err := s.CreateTenant(ctx, tenant.Tenant{ID: id, Name: string(id)}); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	const x = "indicator--7d1c0c9e-3e0a-4b7e-9f57-0a1b2c3d4e5f"
	if _, _, err := s.PutIndicators(ctx, []intel.Indicator{indicator(x, "", intel.TLPGreen, nil, "feed.example", t0)}, true); err != nil {
		t.Fatal(err)
	}
	// Member a names the provider's ID with a later, revoked version.
	hijack := indicator(x, "a", intel.TLPGreen, nil, "feed.example", t0.Add(time.Hour))
	hijack.Revoked = true
	is := []intel.Indicator{hijack}
	sum, stored, err := s.PutIndicators(ctx, is, true)
	if err != nil || sum.Imported != 1 || sum.Updated != 0 || len(stored) != 1 {
		t.Fatalf("a's put of the provider's ID: %+v, %d stored, %v; want imported as a's own", sum, len(stored), err)
	}
	aID := is[0].ID
	if aID == x || stored[0].ID != aID {
		t.Fatalf("a's copy kept as %q (returned %q); want an ID of its own", aID, stored[0].ID)
	}
	if got, err := s.Indicator(ctx, x); err != nil || got.Owner != "" || got.Revoked {
		t.Fatalf("the provider's indicator after a's put: %+v, %v; want the provider's, not revoked", got, err)
	}
	if got, err := s.Indicator(ctx, aID); err != nil || got.Owner != "a" || !got.Revoked {
		t.Fatalf("a's copy: %+v, %v", got, err)
	}
	// a's next version updates a's copy; the same version changes nothing.
	next := indicator(x, "a", intel.TLPGreen, nil, "feed2.example", t0.Add(2*time.Hour))
	is = []intel.Indicator{next, next}
	if sum, _, err := s.PutIndicators(ctx, is, true); err != nil || sum.Updated != 1 || sum.Unchanged != 1 || is[0].ID != aID || is[1].ID != aID {
		t.Fatalf("a's next version: %+v, %v, IDs %s %s; want a's copy (%s) updated", sum, err, is[0].ID, is[1].ID, aID)
	}
	// Member b imports the same feed: a third copy, b's.
	is = []intel.Indicator{indicator(x, "b", intel.TLPGreen, nil, "feed.example", t0)}
	if _, _, err := s.PutIndicators(ctx, is, true); err != nil || is[0].ID == x || is[0].ID == aID {
		t.Fatalf("b's copy: ID %q, %v; want its own", is[0].ID, err)
	}
	if got, err := s.Indicator(ctx, aID); err != nil || got.Owner != "a" || got.Observables[0].Value != "feed2.example" {
		t.Fatalf("a's copy after b's put: %+v, %v", got, err)
	}
	// The provider's own next version still updates the provider's.
	if sum, _, err := s.PutIndicators(ctx, []intel.Indicator{indicator(x, "", intel.TLPGreen, nil, "feed3.example", t0.Add(time.Hour))}, true); err != nil || sum.Updated != 1 {
		t.Fatalf("the provider's next version: %+v, %v", sum, err)
	}
	// A member's ID the provider names is likewise left alone.
	const y = "indicator--0b7a5a52-5d43-4b8e-8a3c-2f6e1d0c9b8a"
	if _, _, err := s.PutIndicators(ctx, []intel.Indicator{indicator(y, "b", intel.TLPRed, nil, "b-private.example", t0)}, true); err != nil {
		t.Fatal(err)
	}
	is = []intel.Indicator{indicator(y, "", intel.TLPClear, nil, "other.example", t0.Add(time.Hour))}
	if _, _, err := s.PutIndicators(ctx, is, true); err != nil || is[0].ID == y {
		t.Fatalf("the provider naming b's ID: %q, %v", is[0].ID, err)
	}
	if got, err := s.Indicator(ctx, y); err != nil || got.Owner != "b" || got.Observables[0].Value != "b-private.example" {
		t.Fatalf("b's indicator after the provider's put: %+v, %v", got, err)
	}
}
