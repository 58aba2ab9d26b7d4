package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// ingestKeysMigration (27) keeps the answers of ingest requests named by
// an Idempotency-Key, per tenant, so a shipper's retry gets the first
// answer instead of writing its batch again (web: postIngest). hash is
// the request body's SHA-256: the key again with another body is refused.
const ingestKeysMigration = `
CREATE TABLE ingest_keys (
	tenant  TEXT NOT NULL,
	key     TEXT NOT NULL,
	hash    TEXT NOT NULL,
	answer  TEXT NOT NULL,
	created INTEGER NOT NULL,
	PRIMARY KEY (tenant, key)
);
CREATE INDEX ingest_keys_created ON ingest_keys(tenant, created);`

// IngestKey returns the body hash and answer kept for tenant t's key
// since since; found is false when there is none.
func (d *DB) IngestKey(ctx context.Context, t tenant.ID, key string, since time.Time) (hash, answer string, found bool, err error) {
	err = d.db.QueryRowContext(ctx, `SELECT hash, answer FROM ingest_keys WHERE tenant = ? AND key = ? AND created >= ?`,
		string(t), key, nanos(since)).Scan(&hash, &answer)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, fmt.Errorf("ingest key: %w", err)
	}
	return hash, answer, true, nil
}

// PutIngestKey keeps the answer to tenant t's request named key (the
// first one's, when two raced), and forgets the tenant's keys older than
// before.
func (d *DB) PutIngestKey(ctx context.Context, t tenant.ID, key, hash, answer string, now, before time.Time) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ingest key: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM ingest_keys WHERE tenant = ? AND created < ?`, string(t), nanos(before)); err != nil {
		return fmt.Errorf("ingest key: forget old keys: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ingest_keys (tenant, key, hash, answer, created) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(tenant, key) DO NOTHING`, string(t), key, hash, answer, nanos(now)); err != nil {
		return fmt.Errorf("ingest key: %w", err)
	}
	return tx.Commit()
}
