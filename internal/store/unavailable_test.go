package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/tarian-soc/tarian/internal/store"
)

// A PostgreSQL that does not answer is "unavailable"; one that refuses a
// statement is not.
func TestUnavailable(t *testing.T) {
	db, err := sql.Open("pgx", "postgres://tarian@127.0.0.1:1/tarian?connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.ExecContext(context.Background(), "SELECT 1")
	if err == nil || !store.Unavailable(fmt.Errorf("list tenants: %w", err)) {
		t.Errorf("connection refused: Unavailable(%v) = false", err)
	}
	for _, c := range []struct {
		code string
		want bool
	}{{"57P01", true}, {"08006", true}, {"23505", false}, {"42P01", false}} {
		if got := store.Unavailable(fmt.Errorf("x: %w", &pgconn.PgError{Code: c.code})); got != c.want {
			t.Errorf("SQLSTATE %s: Unavailable = %v, want %v", c.code, got, c.want)
		}
	}
	if store.Unavailable(nil) || store.Unavailable(sql.ErrNoRows) {
		t.Error("nil or no rows: unavailable")
	}
}
