package pgtest

import (
	"context"
	"database/sql"
	"os"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// TestStart: each Start is a new, empty database of one server, and the
// test's own; it is dropped when the test ends.
func TestStart(t *testing.T) {
	ctx := context.Background()
	var names []string
	for i := range 2 {
		t.Run("db", func(t *testing.T) {
			db, err := sql.Open("pgx", Start(t))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var name string
			var tables int
			if err := db.QueryRowContext(ctx, `SELECT current_database(), (SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public')`).Scan(&name, &tables); err != nil {
				t.Fatal(err)
			}
			if tables != 0 {
				t.Errorf("database %d has %d tables", i, tables)
			}
			if _, err := db.ExecContext(ctx, `CREATE TABLE t (x int)`); err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
		})
	}
	if len(names) != 2 || names[0] == names[1] {
		t.Fatalf("databases %v", names)
	}
	s, err := get()
	if err != nil {
		t.Fatal(err)
	}
	var left int
	if err := s.admin.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_database WHERE datname = $1 OR datname = $2`, names[0], names[1]).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d test databases left (%v)", left, err)
	}
}
