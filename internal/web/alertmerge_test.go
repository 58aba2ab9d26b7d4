package web

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// fakeTenants holds each tenant's alert IDs, newest first, and counts the
// alerts read; Alerts pages them as the store does (Before, Limit).
type fakeTenants struct {
	ids  map[tenant.ID][]int64
	read int
}

func (f *fakeTenants) Alerts(_ context.Context, t tenant.ID, flt alert.Filter) ([]alert.Alert, error) {
	var out []alert.Alert
	for _, id := range f.ids[t] {
		if flt.Before > 0 && id >= flt.Before {
			continue
		}
		if len(out) == flt.Limit {
			break
		}
		out = append(out, alert.Alert{ID: id, Tenant: t})
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
	}
	for _, n := range []int{1, 2, 3, 7, 16, 50, 250, 399, 400, 1000} {
		var got []int64
		cursor := int64(0)
		for pages := 0; ; pages++ {
			as, err := newestAcross(context.Background(), f, ts, alert.Filter{Before: cursor}, n)
			if err != nil {
				t.Fatal(err)
			}
			if len(as) > n {
				t.Fatalf("n=%d: a page of %d", n, len(as))
			}
			for _, a := range as {
				got = append(got, a.ID)
			}
			if len(as) < n {
				break
			}
			cursor = as[len(as)-1].ID
			if pages > 1000 {
				t.Fatal("does not end")
			}
		}
		if !slices.Equal(got, all) {
			t.Errorf("n=%d: paged %d alerts, want all %d newest first (first differences: %v)", n, len(got), len(all), fmt.Sprint(got[:min(10, len(got))]))
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
