package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/poll"
	"github.com/tarian-soc/tarian/internal/tenant"
)

var _ poll.Store = (*DB)(nil)

// pollMigration adds the cloud sources (secrets sealed by poll.Box) and
// their per-stream checkpoints.
const pollMigration = `
CREATE TABLE cloud_sources (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant           TEXT NOT NULL REFERENCES tenants(id),
	name             TEXT NOT NULL,
	directory_tenant TEXT NOT NULL,
	client_id        TEXT NOT NULL,
	sealed_secret    BLOB NOT NULL,
	streams          TEXT NOT NULL,
	created          INTEGER NOT NULL
);
CREATE INDEX cloud_sources_tenant ON cloud_sources(tenant, id);
CREATE TABLE poll_checkpoints (
	tenant     TEXT NOT NULL REFERENCES tenants(id),
	source     INTEGER NOT NULL REFERENCES cloud_sources(id) ON DELETE CASCADE,
	stream     TEXT NOT NULL,
	checkpoint TEXT NOT NULL,
	PRIMARY KEY (tenant, source, stream)
);`

// pollHealthMigration keeps each stream's health (poll.Health as JSON) next
// to its checkpoint, so it survives a restart. It is applied with migration
// 20 (quotaMigration, quota.go).
const pollHealthMigration = `
CREATE TABLE poll_health (
	tenant TEXT NOT NULL REFERENCES tenants(id),
	source INTEGER NOT NULL REFERENCES cloud_sources(id) ON DELETE CASCADE,
	stream TEXT NOT NULL,
	health TEXT NOT NULL,
	PRIMARY KEY (tenant, source, stream)
);`

// AddCloudSource stores s and returns it with its ID.
func (d *DB) AddCloudSource(ctx context.Context, s poll.StoredSource) (poll.StoredSource, error) {
	if s.Created.IsZero() {
		s.Created = time.Now().UTC()
	}
	err := d.db.execScan(ctx, `INSERT INTO cloud_sources (tenant, name, directory_tenant, client_id, sealed_secret, streams, created) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		[]any{string(s.Tenant), s.Name, s.DirectoryTenant, s.ClientID, s.SealedSecret, strings.Join(s.Streams, ","), s.Created.UnixNano()}, &s.ID)
	if isForeignKey(err) {
		return poll.StoredSource{}, fmt.Errorf("%w: %s", tenant.ErrNotFound, s.Tenant)
	}
	if err != nil {
		return poll.StoredSource{}, fmt.Errorf("insert cloud source: %w", err)
	}
	return s, nil
}

// CloudSources lists tenant t's cloud sources.
func (d *DB) CloudSources(ctx context.Context, t tenant.ID) ([]poll.StoredSource, error) {
	return d.cloudSources(ctx, `WHERE tenant = ?`, string(t))
}

// AllCloudSources lists every tenant's cloud sources, for the poller.
func (d *DB) AllCloudSources(ctx context.Context) ([]poll.StoredSource, error) {
	return d.cloudSources(ctx, ``)
}

func (d *DB) cloudSources(ctx context.Context, where string, args ...any) ([]poll.StoredSource, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT id, tenant, name, directory_tenant, client_id, sealed_secret, streams, created FROM cloud_sources `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []poll.StoredSource
	for rows.Next() {
		var s poll.StoredSource
		var ten, streams string
		var created int64
		if err := rows.Scan(&s.ID, &ten, &s.Name, &s.DirectoryTenant, &s.ClientID, &s.SealedSecret, &streams, &created); err != nil {
			return nil, err
		}
		s.Tenant = tenant.ID(ten)
		if streams != "" {
			s.Streams = strings.Split(streams, ",")
		}
		s.Created = time.Unix(0, created).UTC()
		out = append(out, s)
	}
	return out, rows.Err()
}

// DeleteCloudSource removes tenant t's source id, its checkpoints and its
// health.
func (d *DB) DeleteCloudSource(ctx context.Context, t tenant.ID, id int64) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, table := range []string{"poll_checkpoints", "poll_health"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE tenant = ? AND source = ?`, string(t), id); err != nil {
			return err
		}
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM cloud_sources WHERE tenant = ? AND id = ?`, string(t), id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: %d", poll.ErrNotFound, id)
	}
	return tx.Commit()
}

// PollCheckpoint returns a stream's checkpoint (zero if none yet).
func (d *DB) PollCheckpoint(ctx context.Context, t tenant.ID, source int64, stream string) (poll.Checkpoint, error) {
	var data string
	err := d.db.QueryRowContext(ctx, `SELECT checkpoint FROM poll_checkpoints WHERE tenant = ? AND source = ? AND stream = ?`, string(t), source, stream).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return poll.Checkpoint{}, nil
	}
	if err != nil {
		return poll.Checkpoint{}, err
	}
	var c poll.Checkpoint
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		return poll.Checkpoint{}, fmt.Errorf("poll checkpoint %d/%s: %w", source, stream, err)
	}
	return c, nil
}

// SetPollCheckpoint records a stream's checkpoint.
func (d *DB) SetPollCheckpoint(ctx context.Context, t tenant.ID, source int64, stream string, c poll.Checkpoint) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	_, err = d.db.ExecContext(ctx, `INSERT INTO poll_checkpoints (tenant, source, stream, checkpoint) VALUES (?, ?, ?, ?)
		ON CONFLICT(tenant, source, stream) DO UPDATE SET checkpoint = excluded.checkpoint`, string(t), source, stream, string(data))
	if isForeignKey(err) {
		return fmt.Errorf("%w: %d", poll.ErrNotFound, source)
	}
	return err
}

// PollHealth returns the stored health of tenant t's source's streams, by
// stream name.
func (d *DB) PollHealth(ctx context.Context, t tenant.ID, source int64) ([]poll.Health, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT stream, health FROM poll_health WHERE tenant = ? AND source = ? ORDER BY stream`, string(t), source)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []poll.Health
	for rows.Next() {
		var stream, data string
		if err := rows.Scan(&stream, &data); err != nil {
			return nil, err
		}
		var h poll.Health
		if err := json.Unmarshal([]byte(data), &h); err != nil {
			return nil, fmt.Errorf("poll health %d/%s: %w", source, stream, err)
		}
		h.Stream = stream
		out = append(out, h)
	}
	return out, rows.Err()
}

// SetPollHealth records the health of a stream (h.Stream) of tenant t's
// source; ErrNotFound if t has no such source.
func (d *DB) SetPollHealth(ctx context.Context, t tenant.ID, source int64, h poll.Health) error {
	data, err := json.Marshal(h)
	if err != nil {
		return err
	}
	res, err := d.db.ExecContext(ctx, `INSERT INTO poll_health (tenant, source, stream, health)
		SELECT tenant, id, ?, ? FROM cloud_sources WHERE tenant = ? AND id = ?
		ON CONFLICT(tenant, source, stream) DO UPDATE SET health = excluded.health`, h.Stream, string(data), string(t), source)
	if err != nil {
		return fmt.Errorf("save poll health %d/%s: %w", source, h.Stream, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: %d", poll.ErrNotFound, source)
	}
	return nil
}
