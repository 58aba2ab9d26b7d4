package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// TestQuotaUse: a day's use per tenant round-trips across a reopen, a save
// keeps the tenants it does not name, and a save of a later day drops the
// earlier days.
func TestQuotaUse(t *testing.T) { persistent(t, testQuotaUse) }

func testQuotaUse(t *testing.T, p place) {
	ctx := context.Background()
	db := p.reopen(t)
	day1 := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	day2 := day1.Add(24 * time.Hour)
	use := func(day time.Time) map[tenant.ID]int64 {
		t.Helper()
		u, err := db.QuotaUse(ctx, day)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	if u := use(day1); len(u) != 0 {
		t.Fatalf("use of a new database: %v", u)
	}
	if err := db.SaveQuotaUse(ctx, day1, map[tenant.ID]int64{"council-a": 100, "council-b": 200}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveQuotaUse(ctx, day1, map[tenant.ID]int64{"council-a": 150}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = p.reopen(t)
	if diff := cmp.Diff(map[tenant.ID]int64{"council-a": 150, "council-b": 200}, use(day1)); diff != "" {
		t.Errorf("use of day 1 (-want +got):\n%s", diff)
	}
	// A time within the day names the day (UTC).
	if u := use(day1.Add(13 * time.Hour).In(time.FixedZone("x", -14*3600))); u["council-a"] != 150 {
		t.Errorf("use by a time within day 1: %v", u)
	}
	if err := db.SaveQuotaUse(ctx, day2, map[tenant.ID]int64{"council-a": 5}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[tenant.ID]int64{"council-a": 5}, use(day2)); diff != "" {
		t.Errorf("use of day 2 (-want +got):\n%s", diff)
	}
	if u := use(day1); len(u) != 0 {
		t.Errorf("day 1 kept after day 2 was saved: %v", u)
	}
}
