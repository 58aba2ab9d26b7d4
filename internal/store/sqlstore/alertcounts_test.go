package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// TestOpenAlertCounts: open alerts per tenant, level and status; a tenant
// without any shows once; the query reads only open alerts.
func TestOpenAlertCounts(t *testing.T) { backends(t, testOpenAlertCounts) }

func testOpenAlertCounts(t *testing.T, open func(testing.TB) *DB) {
	ctx := context.Background()
	db := open(t)
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	createTenants(t, db, now, "a", "b", "c")
	raise := func(ten tenant.ID, level string, n int) []alert.Change {
		var ps []alert.Pending
		for i := range n {
			ps = append(ps, alert.Pending{Key: fmt.Sprint(i), Window: time.Hour, Detection: alert.Detection{
				RuleID: "r-" + level, Level: level, EventHash: fmt.Sprint(ten, level, i), EventTime: now, Received: now}})
		}
		cs, err := db.Raise(ctx, ten, ps, now)
		if err != nil || len(cs) != n {
			t.Fatalf("raise: %v, %d changes", err, len(cs))
		}
		return cs
	}
	highs := raise("a", "high", 3)
	raise("a", "low", 1)
	raise("b", "critical", 2)
	for verb, c := range map[string]alert.Change{alert.VerbAck: highs[0], alert.VerbResolve: highs[1]} {
		if _, _, err := db.Update(ctx, "a", c.Alert.ID, func(a *alert.Alert) error {
			return alert.Apply(a, alert.Action{Verb: verb, Resolution: alert.FalsePositive}, now)
		}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.OpenAlertCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []alert.Tally{
		{Tenant: "a", Level: "high", Status: alert.StatusAcknowledged, Alerts: 1},
		{Tenant: "a", Level: "high", Status: alert.StatusNew, Alerts: 1},
		{Tenant: "a", Level: "low", Status: alert.StatusNew, Alerts: 1},
		{Tenant: "b", Level: "critical", Status: alert.StatusNew, Alerts: 2},
		{Tenant: "c"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("OpenAlertCounts (-want +got):\n%s", d)
	}
	if db.Postgres() {
		return // the plan below is SQLite's
	}
	var plan []string
	rows, err := db.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+openAlertCounts)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if p := strings.Join(plan, "; "); !strings.Contains(p, "alerts_open") {
		t.Errorf("the count reads every alert: %s", p)
	}
}

// createTenants creates tenants ids, each named as its id.
func createTenants(t testing.TB, db *DB, at time.Time, ids ...tenant.ID) {
	t.Helper()
	for _, id := range ids {
		if _, err := db.CreateTenant(context.Background(), tenant.Tenant{ID: id, Name: string(id), Created: at}); err != nil {
			t.Fatal(err)
		}
	}
}
