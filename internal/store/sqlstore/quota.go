package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/tenant"
)

var _ ingest.QuotaStore = (*DB)(nil)

// quotaMigration (20) adds each tenant's ingest quota use per UTC day, so
// a restart does not hand a tenant a fresh quota, and the cloud pollers'
// health per stream (pollHealthMigration, poll.go): both keep state that
// was in memory only, and landed together.
//
// quota_use has no foreign key to tenants: the limiter saves every tenant
// it counted in one transaction, and a tenant removed meanwhile must not
// make the others' save fail. Offboarding finds its rows by the tenant
// column all the same.
const quotaMigration = `
CREATE TABLE quota_use (
	tenant TEXT NOT NULL,
	day    TEXT NOT NULL,
	bytes  INTEGER NOT NULL,
	PRIMARY KEY (tenant, day)
);` + pollHealthMigration

// quotaDay is how a UTC day is stored: "2006-01-02", which sorts by time.
func quotaDay(day time.Time) string { return day.UTC().Format(time.DateOnly) }

// QuotaUse returns the bytes each tenant used on day (UTC).
func (d *DB) QuotaUse(ctx context.Context, day time.Time) (map[tenant.ID]int64, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT tenant, bytes FROM quota_use WHERE day = ?`, quotaDay(day))
	if err != nil {
		return nil, fmt.Errorf("quota use: %w", err)
	}
	defer rows.Close()
	out := map[tenant.ID]int64{}
	for rows.Next() {
		var t string
		var n int64
		if err := rows.Scan(&t, &n); err != nil {
			return nil, fmt.Errorf("quota use: %w", err)
		}
		out[tenant.ID(t)] = n
	}
	return out, rows.Err()
}

// SaveQuotaUse records the bytes the tenants in use used on day (UTC);
// other tenants' use of day is kept, and earlier days are dropped.
func (d *DB) SaveQuotaUse(ctx context.Context, day time.Time, use map[tenant.ID]int64) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ds := quotaDay(day)
	for t, n := range use {
		if _, err := tx.ExecContext(ctx, `INSERT INTO quota_use (tenant, day, bytes) VALUES (?, ?, ?)
			ON CONFLICT(tenant, day) DO UPDATE SET bytes = excluded.bytes`, string(t), ds, n); err != nil {
			return fmt.Errorf("save quota use of %s: %w", t, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM quota_use WHERE day < ?`, ds); err != nil {
		return fmt.Errorf("drop old quota use: %w", err)
	}
	return tx.Commit()
}
