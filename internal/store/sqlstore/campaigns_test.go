package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/tenant"
)

func TestOtherTenants(t *testing.T) { backends(t, testOtherTenants) }

// testOtherTenants: a page of alerts in one call, each counting the other
// tenants that saw one of its keys, never its own tenant and never another
// tenant's alert asked for under the wrong tenant.
func testOtherTenants(t *testing.T, open func(testing.TB) *DB) {
	ctx := context.Background()
	db := open(t)
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	createTenants(t, db, at, "a", "b", "c")
	sight := func(tn string, alertID int64, keys ...string) {
		t.Helper()
		if err := db.RecordObservables(ctx, tenant.ID(tn), alertID, at, keys); err != nil {
			t.Fatal(err)
		}
	}
	sight("a", 1, "domain:evil.example", "ip:203.0.113.9")
	sight("a", 2, "ip:198.51.100.7")
	sight("a", 3, "domain:quiet.example")
	sight("b", 10, "domain:evil.example")
	sight("c", 20, "ip:203.0.113.9", "ip:198.51.100.7")
	sight("c", 21, "domain:evil.example")
	// a's own second alert on the same key is not another member.
	sight("a", 4, "ip:198.51.100.7")

	ids := []int64{1, 2, 3, 4, 10, 20, 404}
	got, err := db.OtherTenants(ctx, "a", ids)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[int64]int{1: 2, 2: 1, 4: 1}, got); d != "" {
		t.Errorf("a's page (-want +got; 3 shares nothing, 10 and 20 are not a's, 404 is no alert):\n%s", d)
	}
	// More ids than one query takes.
	many := make([]int64, 0, 2*maxIDsPerQuery+3)
	for i := range int64(2*maxIDsPerQuery + 3) {
		many = append(many, 1000+i)
	}
	many = append(many, 1)
	if got, err := db.OtherTenants(ctx, "a", many); err != nil || cmp.Diff(map[int64]int{1: 2}, got) != "" {
		t.Errorf("%d ids: %v, %v; want alert 1 seen by 2", len(many), got, err)
	}
}
