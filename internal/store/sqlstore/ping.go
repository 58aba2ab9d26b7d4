package sqlstore

import (
	"context"
	"fmt"
)

// Ping checks that the database answers a query (the server's readiness,
// GET /readyz): on PostgreSQL one round trip on a pooled connection, a new
// one if the pooled ones are gone; on SQLite a read of the database file.
// ctx bounds it.
func (d *DB) Ping(ctx context.Context) error {
	var v int
	if err := d.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return fmt.Errorf("ping state store: %w", err)
	}
	return nil
}
