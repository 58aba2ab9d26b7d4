package sqlstore

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestStatementCache: SQLite's statements are prepared once, inside a
// transaction only after it ends, and a statement that does not prepare
// runs unprepared with its own error.
func TestStatementCache(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e := db.db
	cached := func(q string) bool {
		e.stmts.mu.Lock()
		defer e.stmts.mu.Unlock()
		return e.stmts.m[q] != nil
	}

	const read = `SELECT count(*) FROM tenants WHERE id = ?`
	var n int
	if err := e.QueryRowContext(ctx, read, "council-a").Scan(&n); err != nil || n != 0 {
		t.Fatalf("count = %d, %v", n, err)
	}
	if !cached(read) {
		t.Errorf("%q not cached after its first use", read)
	}

	const write = `INSERT INTO tenants (id, name, created) VALUES (?, ?, 0)`
	tx, err := e.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, write, "council-a", "Council A"); err != nil {
		t.Fatal(err)
	}
	if cached(write) {
		t.Errorf("%q prepared inside the transaction", write)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if !cached(write) {
		t.Errorf("%q not cached once its transaction ended", write)
	}
	// The cached statements run, in and out of transactions.
	tx, err = e.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, write, "council-b", "Council B"); err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRowContext(ctx, read, "council-b").Scan(&n); err != nil || n != 1 {
		t.Fatalf("in the transaction: count = %d, %v", n, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := e.QueryRowContext(ctx, read, "council-b").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after it: count = %d, %v", n, err)
	}

	const list = `SELECT count(*) FROM tenants WHERE id IN (?,?,?)`
	if err := e.QueryRowContext(ctx, list, "council-a", "council-b", "x").Scan(&n); err != nil || n != 2 {
		t.Fatalf("list: count = %d, %v", n, err)
	}
	if cached(list) {
		t.Errorf("a statement with a built list of placeholders is kept")
	}

	const bad = `SELECT x FROM no_such_table`
	for range 2 {
		_, err := e.ExecContext(ctx, bad)
		if err == nil || !strings.Contains(err.Error(), "no_such_table") {
			t.Errorf("bad statement: %v, want its own error", err)
		}
	}
	if cached(bad) {
		t.Errorf("a statement that does not prepare is cached")
	}
}
