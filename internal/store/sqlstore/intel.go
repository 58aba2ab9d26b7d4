package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/intel/stix"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// intelMigration holds indicators (one row per STIX id, its latest
// version, the whole indicator as JSON), their sightings and the
// retro-hunts run for them.
const intelMigration = `
CREATE TABLE indicators (
	row      INTEGER PRIMARY KEY AUTOINCREMENT,
	id       TEXT NOT NULL UNIQUE,
	owner    TEXT REFERENCES tenants(id),
	type     TEXT NOT NULL,
	modified INTEGER NOT NULL,
	revoked  INTEGER NOT NULL,
	data     TEXT NOT NULL
);
CREATE INDEX indicators_owner ON indicators(owner, row);
CREATE TABLE sightings (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	indicator  TEXT NOT NULL,
	tenant     TEXT NOT NULL DEFAULT '',
	source     TEXT NOT NULL DEFAULT '',
	alert_id   INTEGER NOT NULL DEFAULT 0,
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	count      INTEGER NOT NULL,
	UNIQUE (indicator, tenant, source)
);
CREATE TABLE retro_hunts (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	indicator TEXT NOT NULL,
	tenant    TEXT NOT NULL REFERENCES tenants(id),
	status    TEXT NOT NULL,
	since     INTEGER NOT NULL,
	created   INTEGER NOT NULL,
	finished  INTEGER NOT NULL DEFAULT 0,
	scanned   INTEGER NOT NULL DEFAULT 0,
	hits      INTEGER NOT NULL DEFAULT 0,
	error     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX retro_hunts_indicator ON retro_hunts(indicator, id);`

// indicatorType is the type column: the first observable's, "pattern" for
// a pattern-only indicator.
func indicatorType(i intel.Indicator) string {
	if len(i.Observables) == 0 {
		return "pattern"
	}
	return string(i.Observables[0].Type)
}

// PutIndicators stores each indicator unless its owner holds a version as
// new or newer, says how many were new, newer versions, or already held,
// and returns those it stored. An indicator is never taken from another
// owner: when its ID is another owner's (two members import one feed, or
// a member names another's indicator), it is stored under its owner's own
// ID for it (ownIndicatorID), and is[k].ID is changed to that.
func (d *DB) PutIndicators(ctx context.Context, is []intel.Indicator, hunt bool) (intel.Summary, []intel.Indicator, error) {
	var s intel.Summary
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return s, nil, err
	}
	defer tx.Rollback()
	get, err := tx.PrepareContext(ctx, `SELECT COALESCE(owner, ''), modified FROM indicators WHERE id = ?`)
	if err != nil {
		return s, nil, err
	}
	defer get.Close()
	// The update applies only to the owner's own row: a row another
	// owner wrote since it was read is left alone (no rows affected).
	put, err := tx.PrepareContext(ctx, `INSERT INTO indicators (id, owner, type, modified, revoked, data) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET type = excluded.type, modified = excluded.modified, revoked = excluded.revoked, data = excluded.data
WHERE COALESCE(indicators.owner, '') = COALESCE(excluded.owner, '')`)
	if err != nil {
		return s, nil, err
	}
	defer put.Close()
	queue, err := tx.PrepareContext(ctx, `INSERT INTO retro_hunt_queue (indicator) VALUES (?)
ON CONFLICT (indicator) DO UPDATE SET version = retro_hunt_queue.version + 1`)
	if err != nil {
		return s, nil, err
	}
	defer queue.Close()
	// held reads who holds id and its version.
	held := func(id string) (owner string, modified int64, ok bool, err error) {
		err = get.QueryRowContext(ctx, id).Scan(&owner, &modified)
		if errors.Is(err, sql.ErrNoRows) {
			return "", 0, false, nil
		}
		return owner, modified, err == nil, err
	}
	var stored []intel.Indicator
	for k := range is {
		i := &is[k]
		// Where the owner keeps it: its own ID for it once the original
		// was another's, else the original unless another holds it.
		id, own := i.ID, ownIndicatorID(i.Owner, i.ID)
		owner, have, ok, err := held(own)
		if err != nil {
			return s, nil, err
		}
		if ok {
			id = own
		} else if owner, have, ok, err = held(i.ID); err != nil {
			return s, nil, err
		} else if ok && owner != string(i.Owner) {
			id, ok = own, false
		}
		switch {
		case ok && owner != string(i.Owner):
			// Only an ID made to look like another's own ID gets here.
			s.Skipped = append(s.Skipped, intel.Skip{Ref: i.ID, Reason: "its ID is in use; give it another"})
			continue
		case !ok:
			s.Imported++
		case have >= i.Modified.UnixNano():
			s.Unchanged++
			i.ID = id
			continue
		default:
			s.Updated++
		}
		i.ID = id
		data, err := json.Marshal(i)
		if err != nil {
			return s, nil, err
		}
		res, err := put.ExecContext(ctx, i.ID, nullTenant(i.Owner), indicatorType(*i), i.Modified.UnixNano(), i.Revoked, string(data))
		if err != nil {
			return s, nil, fmt.Errorf("indicator %s: %w", i.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return s, nil, err
		} else if n == 0 {
			// Another owner's import took the ID since it was read.
			s.Skipped = append(s.Skipped, intel.Skip{Ref: i.ID, Reason: "its ID was taken meanwhile; import it again"})
			if ok {
				s.Updated--
			} else {
				s.Imported--
			}
			continue
		}
		if hunt && !i.Revoked {
			if _, err := queue.ExecContext(ctx, i.ID); err != nil {
				return s, nil, fmt.Errorf("indicator %s: queue its retro-hunt: %w", i.ID, err)
			}
		}
		stored = append(stored, *i)
	}
	return s, stored, tx.Commit()
}

// ownIndicatorID is the ID under which owner keeps an indicator whose ID
// another owner holds: derived from both, so the owner's next version of
// it finds it again.
func ownIndicatorID(owner tenant.ID, id string) string {
	return stix.DeterministicID("indicator", "own|"+string(owner)+"|"+id)
}

// retroHuntQueueMigration holds the indicators waiting for a retro-hunt,
// written in the transaction that stores them, so a crash or a stop
// loses none; the hunter removes an entry once it is hunted.
const retroHuntQueueMigration = `
CREATE TABLE retro_hunt_queue (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	indicator TEXT NOT NULL
);`

// retroHuntQueueOnceMigration keeps one queue entry per indicator: a feed
// that publishes the same indicators again and again (a TAXII collection
// polled hourly) must not queue a hunt per version faster than they are
// hunted. An indicator changed while queued bumps its entry's version, so
// a hunt of the older version does not take the newer one off the queue.
const retroHuntQueueOnceMigration = `
DELETE FROM retro_hunt_queue WHERE seq NOT IN (SELECT MAX(seq) FROM retro_hunt_queue GROUP BY indicator);
ALTER TABLE retro_hunt_queue ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX retro_hunt_queue_indicator ON retro_hunt_queue(indicator);`

// QueuedRetroHunts returns up to limit queued retro-hunts, oldest first.
func (d *DB) QueuedRetroHunts(ctx context.Context, limit int) ([]intel.QueuedHunt, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT seq, indicator, version FROM retro_hunt_queue ORDER BY seq LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []intel.QueuedHunt
	for rows.Next() {
		var q intel.QueuedHunt
		if err := rows.Scan(&q.Seq, &q.IndicatorID, &q.Version); err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

// QueuedRetroHuntCount is how many retro-hunts are queued.
func (d *DB) QueuedRetroHuntCount(ctx context.Context) (int64, error) {
	var n int64
	err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM retro_hunt_queue`).Scan(&n)
	return n, err
}

// DequeueRetroHunts removes the queued retro-hunts qs (hunted), each
// only if its indicator did not change since it was read (its version).
func (d *DB) DequeueRetroHunts(ctx context.Context, qs []intel.QueuedHunt) error {
	if len(qs) == 0 {
		return nil
	}
	var list jsonList
	for _, q := range qs {
		list.tuple().int(q.Seq).int(q.Version)
	}
	_, err := d.db.ExecContext(ctx, `DELETE FROM retro_hunt_queue WHERE (seq, version) IN
		(SELECT CAST(value->>0 AS BIGINT), CAST(value->>1 AS BIGINT) FROM `+d.db.x.jsonRows("?")+`)`, list.String())
	return err
}

// InterruptRetroHunts marks every retro-hunt still running as failed with
// reason, finished at at, and returns how many there were: the hunter
// calls it when it starts, when no hunt can be running (one node hunts at
// a time), so a hunt a crash or a stop cut short does not stay "running".
func (d *DB) InterruptRetroHunts(ctx context.Context, at time.Time, reason string) (int64, error) {
	res, err := d.db.ExecContext(ctx, `UPDATE retro_hunts SET status = ?, finished = ?, error = ? WHERE status = ?`,
		string(intel.HuntFailed), at.UnixNano(), reason, string(intel.HuntRunning))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func scanIndicator(s scanner) (int64, intel.Indicator, error) {
	var (
		row  int64
		data string
		i    intel.Indicator
	)
	if err := s.Scan(&row, &data); err != nil {
		return 0, i, err
	}
	if err := json.Unmarshal([]byte(data), &i); err != nil {
		return 0, i, fmt.Errorf("indicator row %d: %w", row, err)
	}
	return row, i, nil
}

// Indicator returns indicator id.
func (d *DB) Indicator(ctx context.Context, id string) (intel.Indicator, error) {
	_, i, err := scanIndicator(d.db.QueryRowContext(ctx, `SELECT row, data FROM indicators WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return i, intel.ErrNotFound
	}
	return i, err
}

// Indicators lists the indicators f selects that its viewer may see, in
// the order they were first stored; the second result is the row to pass
// as f.After for the next page (0 at the end).
func (d *DB) Indicators(ctx context.Context, f intel.Filter) ([]intel.Indicator, int64, error) {
	q := `SELECT row, data FROM indicators WHERE row > ?`
	args := []any{f.After}
	switch {
	case f.Provider && f.Owner == "*":
		q += ` AND owner IS NULL`
	case f.Provider && f.Owner != "":
		q += ` AND owner = ?`
		args = append(args, f.Owner)
	case !f.Provider:
		q += ` AND (owner IS NULL OR owner = ?)`
		args = append(args, string(f.Viewer))
	}
	if f.Type != "" {
		q += ` AND type = ?`
		args = append(args, string(f.Type))
	}
	if f.Value != "" {
		q += ` AND EXISTS (SELECT 1 FROM ` + d.db.x.jsonRows(d.db.x.jsonField("data", "observables")) + ` WHERE value->>'value' = ?)`
		args = append(args, f.Value)
	}
	if !f.Revoked {
		q += ` AND revoked = 0`
	}
	q += ` ORDER BY row`
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []intel.Indicator
	var last int64
	for rows.Next() {
		row, i, err := scanIndicator(rows)
		if err != nil {
			return nil, 0, err
		}
		if !f.Visible(i) {
			continue
		}
		if f.Limit > 0 && len(out) == f.Limit {
			return out, last, rows.Err()
		}
		out = append(out, i)
		last = row
	}
	return out, 0, rows.Err()
}

// EachIndicator calls fn with every indicator not revoked (the matcher's
// load).
func (d *DB) EachIndicator(ctx context.Context, fn func(intel.Indicator) error) error {
	rows, err := d.db.QueryContext(ctx, `SELECT row, data FROM indicators WHERE revoked = 0 ORDER BY row`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		_, i, err := scanIndicator(rows)
		if err != nil {
			return err
		}
		if err := fn(i); err != nil {
			return err
		}
	}
	return rows.Err()
}

// AddSightings records sightings: a second one of the same indicator by
// the same tenant and source adds its count and widens the times.
func (d *DB) AddSightings(ctx context.Context, ss []intel.Sighting) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `INSERT INTO sightings (indicator, tenant, source, alert_id, first_seen, last_seen, count) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (indicator, tenant, source) DO UPDATE SET count = sightings.count + excluded.count,
	first_seen = `+d.db.x.least+`(sightings.first_seen, excluded.first_seen), last_seen = `+d.db.x.greatest+`(sightings.last_seen, excluded.last_seen),
	alert_id = CASE WHEN excluded.alert_id > 0 THEN excluded.alert_id ELSE sightings.alert_id END`)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, s := range ss {
		if _, err := st.ExecContext(ctx, s.IndicatorID, string(s.Tenant), s.Source, s.AlertID, s.FirstSeen.UnixNano(), s.LastSeen.UnixNano(), s.Count); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Sightings lists indicator id's sightings; viewer "" with provider set
// reads every tenant's, otherwise only the viewer's own and the feeds'.
func (d *DB) Sightings(ctx context.Context, id string, viewer tenant.ID, provider bool) ([]intel.Sighting, error) {
	q := `SELECT id, indicator, tenant, source, alert_id, first_seen, last_seen, count FROM sightings WHERE indicator = ?`
	args := []any{id}
	if !provider {
		q += ` AND (tenant = ? OR tenant = '')`
		args = append(args, string(viewer))
	}
	rows, err := d.db.QueryContext(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []intel.Sighting
	for rows.Next() {
		var (
			s           intel.Sighting
			t           string
			first, last int64
		)
		if err := rows.Scan(&s.ID, &s.IndicatorID, &t, &s.Source, &s.AlertID, &first, &last, &s.Count); err != nil {
			return nil, err
		}
		s.Tenant, s.FirstSeen, s.LastSeen = tenant.ID(t), time.Unix(0, first).UTC(), time.Unix(0, last).UTC()
		out = append(out, s)
	}
	return out, rows.Err()
}

// CreateRetroHunt records a retro-hunt for indicator id over tenant t's
// events since since, and returns it.
func (d *DB) CreateRetroHunt(ctx context.Context, h intel.RetroHunt) (intel.RetroHunt, error) {
	err := d.db.execScan(ctx, `INSERT INTO retro_hunts (indicator, tenant, status, since, created) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		[]any{h.IndicatorID, string(h.Tenant), string(h.Status), h.Since.UnixNano(), h.Created.UnixNano()}, &h.ID)
	return h, err
}

// UpdateRetroHunt saves h's progress and outcome.
func (d *DB) UpdateRetroHunt(ctx context.Context, h intel.RetroHunt) error {
	var fin int64
	if !h.Finished.IsZero() {
		fin = h.Finished.UnixNano()
	}
	_, err := d.db.ExecContext(ctx, `UPDATE retro_hunts SET status = ?, finished = ?, scanned = ?, hits = ?, error = ? WHERE id = ?`,
		string(h.Status), fin, h.Scanned, h.Hits, h.Error, h.ID)
	return err
}

// RetroHunts lists the retro-hunts of indicator id ("" all), newest first,
// of tenant t ("" every tenant).
func (d *DB) RetroHunts(ctx context.Context, id string, t tenant.ID, limit int) ([]intel.RetroHunt, error) {
	q := `SELECT id, indicator, tenant, status, since, created, finished, scanned, hits, error FROM retro_hunts WHERE 1 = 1`
	var args []any
	if id != "" {
		q += ` AND indicator = ?`
		args = append(args, id)
	}
	if t != "" {
		q += ` AND tenant = ?`
		args = append(args, string(t))
	}
	q += ` ORDER BY id DESC`
	if limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, limit)
	}
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []intel.RetroHunt
	for rows.Next() {
		var (
			h                       intel.RetroHunt
			t, status               string
			since, created, finDone int64
		)
		if err := rows.Scan(&h.ID, &h.IndicatorID, &t, &status, &since, &created, &finDone, &h.Scanned, &h.Hits, &h.Error); err != nil {
			return nil, err
		}
		h.Tenant, h.Status = tenant.ID(t), intel.HuntStatus(status)
		h.Since, h.Created = time.Unix(0, since).UTC(), time.Unix(0, created).UTC()
		if finDone > 0 {
			h.Finished = time.Unix(0, finDone).UTC()
		}
		out = append(out, h)
	}
	return out, rows.Err()
}
