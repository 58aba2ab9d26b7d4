package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
)

// CopyTo writes a consistent copy of the whole database to a new file at
// path (VACUUM INTO: one read transaction, so writes go on meanwhile) and
// returns its schema version (the last migration applied). A PostgreSQL
// store has no file to copy: it returns ErrEmbeddedOnly (back the database
// up with pg_dump).
func (d *DB) CopyTo(ctx context.Context, path string) (schema int, err error) {
	if d.db.x.postgres {
		return 0, fmt.Errorf("copy state store: %w: back it up with pg_dump", ErrEmbeddedOnly)
	}
	conn, err := d.db.db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("copy state store: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return 0, fmt.Errorf("copy state store to %s: %w", path, err)
	}
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&schema); err != nil {
		return 0, fmt.Errorf("copy state store: %w", err)
	}
	return schema, nil
}

// Schema is the schema version this build's migrations bring a database
// to: a backup recording a later one was written by a newer tarian, whose
// tables this build does not know.
func Schema() int { return len(migrations) - 1 }

// FileSchema returns the schema version (the last migration applied) of
// the SQLite database at path, opened read-only: 0 for a database no
// server has migrated.
func FileSchema(ctx context.Context, path string) (int, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=query_only(1)")
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	var exists int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&exists); err != nil {
		return 0, fmt.Errorf("read schema version of %s: %w", path, err)
	}
	if exists == 0 {
		return 0, nil
	}
	var v int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version of %s: %w", path, err)
	}
	return v, nil
}
