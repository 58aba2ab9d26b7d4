package sqlstore

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/store"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// CopyTo writes a database that opens with the same data and schema.
func TestCopyTo(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: "council-a", Name: "Council A"}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCheckpoint(ctx, "indexer", store.Checkpoint{Done: 42, Pending: 42}); err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(dir, "copy.db")
	schema, err := db.CopyTo(ctx, copyPath)
	if err != nil {
		t.Fatal(err)
	}
	if schema != len(migrations)-1 { // migrations[0] is unused
		t.Errorf("schema %d, want %d", schema, len(migrations)-1)
	}
	if _, err := db.CopyTo(ctx, copyPath); err == nil {
		t.Error("CopyTo over an existing file: no error")
	}
	c, err := Open(ctx, copyPath)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ts, err := c.Tenants(ctx); err != nil || len(ts) != 1 || ts[0].ID != "council-a" {
		t.Errorf("tenants of the copy: %+v, %v", ts, err)
	}
	if cp, err := c.Checkpoint(ctx, "indexer"); err != nil || cp.Done != 42 {
		t.Errorf("checkpoint of the copy: %+v, %v", cp, err)
	}
}

// A PostgreSQL store has no file to copy: pg_dump backs it up.
func TestCopyToPostgres(t *testing.T) {
	db := openPostgres(t)
	_, err := db.CopyTo(context.Background(), filepath.Join(t.TempDir(), "copy.db"))
	if !errors.Is(err, ErrEmbeddedOnly) || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("CopyTo = %v, want ErrEmbeddedOnly naming pg_dump", err)
	}
}
