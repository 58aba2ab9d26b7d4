package web

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// fakeTenants holds each tenant's alert IDs, newest first, and counts the
// alerts read; Alerts pages them as the store does (the filter's order,
// Before and BeforeRisk, Limit). An alert's risk is riskOf its ID.
type fakeTenants struct {
	ids  map[tenant.ID][]int64
	read int
}

func riskOf(id int64) int { return int(id * 37 % 101) }

var t0 = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// alertOf is alert id of tenant t: its risk riskOf(id), created a minute
// after the one before, of every level and status in turn.
func alertOf(t tenant.ID, id int64) alert.Alert {
	levels := []string{"informational", "low", "medium", "high", "critical"}
	statuses := []alert.Status{alert.StatusNew, alert.StatusAcknowledged, alert.StatusResolved}
	return alert.Alert{ID: id, Tenant: t, Risk: riskOf(id), Created: t0.Add(time.Duration(id) * time.Minute), Level: levels[id%5], Status: statuses[id%3]}
}

// slaOf gives the tenants different service levels: "busy" answers in
// minutes, the others in hours.
func slaOf(t tenant.ID, level string) alert.SLA {
	unit := time.Hour
	if t == "busy" {
		unit = time.Minute
	}
	switch level {
	case "critical", "high":
		return alert.SLA{Acknowledge: 15 * unit, Resolve: 240 * unit}
	case "medium":
		return alert.SLA{Acknowledge: 60 * unit}
	}
	return alert.SLA{}
}

func (f *fakeTenants) Alerts(_ context.Context, t tenant.ID, flt alert.Filter) ([]alert.Alert, error) {
	var all []alert.Alert
	for _, id := range f.ids[t] {
		all = append(all, alertOf(t, id))
	}
	slices.SortStableFunc(all, func(a, b alert.Alert) int {
		if flt.After(a, b) {
			return 1
		}
		return -1
	})
	past := func(a alert.Alert) bool { // after the cursor
		if flt.BySLA {
			d := flt.Due(a)
			return d > flt.BeforeDue || d == flt.BeforeDue && a.ID < flt.Before
		}
		return flt.After(a, alert.Alert{ID: flt.Before, Risk: flt.BeforeRisk})
	}
	var out []alert.Alert
	for _, a := range all {
		if flt.Before > 0 && !past(a) {
			continue
		}
		if len(out) == flt.Limit {
			break
		}
		out = append(out, a)
	}
	f.read += len(out)
	return out, nil
}

// TestNewestAcross pages uneven tenants (one busy, one nearly empty, one
// in bursts, one empty) with every page size from 1 to past the total and
// checks each page against the plain merge: the newest first, no alert
// twice or missed, the cursor where the previous page stopped.
func TestNewestAcross(t *testing.T) {
	f := &fakeTenants{ids: map[tenant.ID][]int64{}}
	ts := []tenant.ID{"busy", "quiet", "bursts", "empty"}
	var all []int64
	tenantOf := map[int64]tenant.ID{}
	for id := int64(1); id <= 400; id++ {
		var t tenant.ID
		switch {
		case id%97 == 0:
			t = "quiet"
		case (id/40)%2 == 1:
			t = "bursts"
		default:
			t = "busy"
		}
		f.ids[t] = append([]int64{id}, f.ids[t]...)
		all = append([]int64{id}, all...)
		tenantOf[id] = t
	}
	// By risk: the riskiest first, then the newest.
	byRisk := slices.Clone(all)
	slices.SortStableFunc(byRisk, func(a, b int64) int {
		if riskOf(a) != riskOf(b) {
			return riskOf(b) - riskOf(a)
		}
		return int(b - a)
	})
	// By deadline, each tenant's own: the soonest first, then the newest.
	bySLA := slices.Clone(all)
	slaFilter := alert.Filter{BySLA: true, SLA: slaOf}
	slices.SortStableFunc(bySLA, func(a, b int64) int {
		da, db := slaFilter.Due(alertOf(tenantOf[a], a)), slaFilter.Due(alertOf(tenantOf[b], b))
		switch {
		case da < db:
			return -1
		case da > db:
			return 1
		}
		return int(b - a)
	})
	for _, order := range []struct {
		name string
		f    alert.Filter
		want []int64
	}{{"newest", alert.Filter{}, all}, {"risk", alert.Filter{ByRisk: true}, byRisk}, {"sla", slaFilter, bySLA}} {
		for _, n := range []int{1, 2, 3, 7, 16, 50, 250, 399, 400, 1000} {
			var got []int64
			flt := order.f
			for pages := 0; ; pages++ {
				as, err := newestAcross(context.Background(), f, ts, flt, n)
				if err != nil {
					t.Fatal(err)
				}
				if len(as) > n {
					t.Fatalf("%s, n=%d: a page of %d", order.name, n, len(as))
				}
				for _, a := range as {
					got = append(got, a.ID)
				}
				if len(as) < n {
					break
				}
				flt = flt.From(as[len(as)-1])
				if pages > 1000 {
					t.Fatal("does not end")
				}
			}
			if !slices.Equal(got, order.want) {
				t.Errorf("%s, n=%d: paged %d alerts, want all %d in order (first: %v)", order.name, n, len(got), len(order.want), fmt.Sprint(got[:min(10, len(got))]))
			}
		}
	}

	// The first page of 250 over 25 even tenants reads about 250, not
	// 25 × 250.
	f = &fakeTenants{ids: map[tenant.ID][]int64{}}
	ts = nil
	for i := range 25 {
		ts = append(ts, tenant.ID(fmt.Sprintf("m%02d", i)))
	}
	for id := int64(100000); id >= 1; id-- {
		f.ids[ts[id%25]] = append(f.ids[ts[id%25]], id)
	}
	as, err := newestAcross(context.Background(), f, ts, alert.Filter{}, 251)
	if err != nil || len(as) != 251 || as[0].ID != 100000 || as[250].ID != 100000-250 {
		t.Fatalf("25 tenants: %d alerts, %v", len(as), err)
	}
	if f.read > 2*251 {
		t.Errorf("25 tenants: read %d alerts for a page of 251", f.read)
	}
}
