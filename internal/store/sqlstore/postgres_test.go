package sqlstore

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/tarian-soc/tarian/internal/store/pgtest"
	"github.com/tarian-soc/tarian/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// migrated returns the URL of a new database of the test's PostgreSQL
// server (skipping the test without one), migrated: a copy of one
// migrated once per process.
func migrated(t testing.TB) string {
	t.Helper()
	return pgtest.StartFrom(t, "sqlstore", func(url string) error {
		db, err := OpenPostgres(context.Background(), url)
		if err != nil {
			return err
		}
		return db.Close()
	})
}

// openPostgres opens a store in a new database.
func openPostgres(t testing.TB) *DB {
	t.Helper()
	db, err := OpenPostgres(context.Background(), migrated(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openSQLite opens a store in a new SQLite file.
func openSQLite(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// backends runs test against each engine, each test opening new, empty
// stores with open.
func backends(t *testing.T, test func(t *testing.T, open func(testing.TB) *DB)) {
	t.Run("sqlite", func(t *testing.T) { test(t, openSQLite) })
	t.Run("postgres", func(t *testing.T) { test(t, openPostgres) })
}

func TestConformancePostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return openPostgres(t) })
}

// place is where one store is, on one engine.
type place struct {
	postgres bool
	// driver and dsn open the database with database/sql.
	driver, dsn string
	// reopen opens the store, the same on every call; each handle is
	// closed when the test ends.
	reopen func(testing.TB) *DB
	// openReadOnly opens it without writing to it: OpenReadOnly,
	// OpenPostgresReadOnly.
	openReadOnly func() (*DB, error)
	// raw runs statements on the database behind the store's back.
	raw func(t testing.TB, stmts ...string)
}

// persistent runs test against each engine with a new place.
func persistent(t *testing.T, test func(t *testing.T, p place)) {
	t.Run("sqlite", func(t *testing.T) { test(t, sqlitePlace(t)) })
	t.Run("postgres", func(t *testing.T) { test(t, postgresPlace(t)) })
}

// fresh is persistent with empty databases, not migrated ones.
func fresh(t *testing.T, test func(t *testing.T, p place)) {
	t.Run("sqlite", func(t *testing.T) { test(t, sqlitePlace(t)) })
	t.Run("postgres", func(t *testing.T) { test(t, postgresAt(pgtest.Start(t))) })
}

// places runs test against each engine, each test making new places with
// newPlace.
func places(t *testing.T, test func(t *testing.T, newPlace func(testing.TB) place)) {
	t.Run("sqlite", func(t *testing.T) { test(t, sqlitePlace) })
	t.Run("postgres", func(t *testing.T) { test(t, postgresPlace) })
}

// readOnly is openReadOnly, the store closed when the test ends.
func (p place) readOnly(t testing.TB) *DB {
	t.Helper()
	db, err := p.openReadOnly()
	return opened(t, db, err)
}

func opened(t testing.TB, db *DB, err error) *DB {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func sqlitePlace(t testing.TB) place {
	path := filepath.Join(t.TempDir(), "state.db")
	return place{
		driver: "sqlite", dsn: "file:" + path + "?_pragma=foreign_keys(1)",
		reopen: func(t testing.TB) *DB {
			db, err := Open(context.Background(), path)
			return opened(t, db, err)
		},
		openReadOnly: func() (*DB, error) { return OpenReadOnly(context.Background(), path) },
		raw:          func(t testing.TB, stmts ...string) { rawSQL(t, "sqlite", "file:"+path, stmts...) },
	}
}

// postgresPlace is a new database, already migrated (migrated).
func postgresPlace(t testing.TB) place { return postgresAt(migrated(t)) }

func postgresAt(url string) place {
	p := place{
		postgres: true, driver: "pgx", dsn: url,
		reopen: func(t testing.TB) *DB {
			db, err := OpenPostgres(context.Background(), url)
			return opened(t, db, err)
		},
		raw: func(t testing.TB, stmts ...string) { rawSQL(t, "pgx", url, stmts...) },
	}
	p.openReadOnly = func() (*DB, error) { return OpenPostgresReadOnly(context.Background(), url) }
	return p
}

// rawSQL runs statements on a database as someone with write access to it
// would, behind the store's back.
func rawSQL(t testing.TB, driver, dsn string, stmts ...string) {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}
