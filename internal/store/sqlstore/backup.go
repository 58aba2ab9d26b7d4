package sqlstore

import (
	"context"
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
