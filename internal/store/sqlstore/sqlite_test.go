package sqlstore

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tarian-soc/tarian/internal/store/storetest"
	"github.com/tarian-soc/tarian/internal/tenant"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		db, err := Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

func TestReopenKeepsDataAndSchema(t *testing.T) { fresh(t, testReopenKeepsDataAndSchema) }

func testReopenKeepsDataAndSchema(t *testing.T, p place) {
	ctx := context.Background()
	db := p.reopen(t)
	if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: "council-a", Name: "Council A"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = p.reopen(t) // migrations must not run twice
	ts, err := db.Tenants(ctx)
	if err != nil || len(ts) != 1 {
		t.Fatalf("after reopen: %+v, %v", ts, err)
	}
}
