package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tarian-soc/tarian/internal/savedsearch"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// savedSearchesMigration (29) keeps the searches analysts save
// (savedsearch.Search): tenant is the space, a member's ID or "*" for
// the provider's (no foreign key, as notify_channels), so offboarding
// removes a member's with its other rows; name_key makes names unique in
// a space whatever their case.
const savedSearchesMigration = `
CREATE TABLE saved_searches (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant      TEXT NOT NULL,
	name        TEXT NOT NULL,
	name_key    TEXT NOT NULL,
	query       TEXT NOT NULL,
	description TEXT NOT NULL,
	author      TEXT NOT NULL,
	editor      TEXT NOT NULL,
	created     INTEGER NOT NULL,
	updated     INTEGER NOT NULL,
	UNIQUE (tenant, name_key)
);`

// savedSearchSchedulesMigration (30) adds a search's schedule and its
// last run's record (savedsearch.Schedule, savedsearch.Run), as JSON;
// empty: not scheduled, never run.
const savedSearchSchedulesMigration = `
ALTER TABLE saved_searches ADD COLUMN schedule TEXT NOT NULL DEFAULT '';
ALTER TABLE saved_searches ADD COLUMN last_run TEXT NOT NULL DEFAULT '';`

const savedSearchCols = `id, tenant, name, query, description, author, editor, created, updated, schedule, last_run`

func scanSavedSearch(s scanner) (savedsearch.Search, error) {
	var out savedsearch.Search
	var space, schedule, lastRun string
	var created, updated int64
	if err := s.Scan(&out.ID, &space, &out.Name, &out.Query, &out.Description, &out.Author, &out.Editor, &created, &updated, &schedule, &lastRun); err != nil {
		return out, err
	}
	out.Space, out.Created, out.Updated = tenant.ID(space), fromNanos(created), fromNanos(updated)
	if schedule != "" {
		out.Schedule = new(savedsearch.Schedule)
		if err := json.Unmarshal([]byte(schedule), out.Schedule); err != nil {
			return out, fmt.Errorf("saved search %d's schedule: %w", out.ID, err)
		}
	}
	if lastRun != "" {
		out.LastRun = new(savedsearch.Run)
		if err := json.Unmarshal([]byte(lastRun), out.LastRun); err != nil {
			return out, fmt.Errorf("saved search %d's last run: %w", out.ID, err)
		}
	}
	return out, nil
}

// scheduleJSON is a schedule as stored: its defaults filled, "" for none.
func scheduleJSON(s *savedsearch.Schedule) (string, error) {
	if s == nil {
		return "", nil
	}
	b, err := json.Marshal(s.Defaults())
	return string(b), err
}

// SavedSearches lists space's saved searches by name.
func (d *DB) SavedSearches(ctx context.Context, space tenant.ID) ([]savedsearch.Search, error) {
	return d.savedSearches(ctx, `WHERE tenant = ? ORDER BY name_key, id`, string(space))
}

// ScheduledSearches lists every space's scheduled searches.
func (d *DB) ScheduledSearches(ctx context.Context) ([]savedsearch.Search, error) {
	return d.savedSearches(ctx, `WHERE schedule <> '' ORDER BY id`)
}

func (d *DB) savedSearches(ctx context.Context, where string, args ...any) ([]savedsearch.Search, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+savedSearchCols+` FROM saved_searches `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list saved searches: %w", err)
	}
	defer rows.Close()
	var out []savedsearch.Search
	for rows.Next() {
		s, err := scanSavedSearch(rows)
		if err != nil {
			return nil, fmt.Errorf("list saved searches: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list saved searches: %w", err)
	}
	return out, nil
}

// AddSavedSearch stores s and returns it with its ID.
func (d *DB) AddSavedSearch(ctx context.Context, s savedsearch.Search) (savedsearch.Search, error) {
	if err := s.Validate(); err != nil {
		return savedsearch.Search{}, err
	}
	s.Created, s.Updated = normTime(s.Created), normTime(s.Updated)
	schedule, err := scheduleJSON(s.Schedule)
	if err != nil {
		return savedsearch.Search{}, fmt.Errorf("add saved search: %w", err)
	}
	if s.Schedule != nil {
		sc := s.Schedule.Defaults()
		s.Schedule = &sc
	}
	s.LastRun = nil
	err = d.db.execScan(ctx, `INSERT INTO saved_searches (tenant, name, name_key, query, description, author, editor, created, updated, schedule)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		[]any{string(s.Space), s.Name, savedsearch.NameKey(s.Name), s.Query, s.Description, s.Author, s.Editor, nanos(s.Created), nanos(s.Updated), schedule}, &s.ID)
	if isUnique(err) {
		return savedsearch.Search{}, fmt.Errorf("%w: %q", savedsearch.ErrExists, s.Name)
	}
	if err != nil {
		return savedsearch.Search{}, fmt.Errorf("add saved search: %w", err)
	}
	return s, nil
}

// UpdateSavedSearch replaces space's search id's text with s's.
func (d *DB) UpdateSavedSearch(ctx context.Context, space tenant.ID, id int64, s savedsearch.Search) (before, after savedsearch.Search, err error) {
	if err := s.Validate(); err != nil {
		return before, after, err
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return before, after, fmt.Errorf("update saved search %d: %w", id, err)
	}
	defer tx.Rollback()
	before, err = scanSavedSearch(tx.QueryRowContext(ctx, `SELECT `+savedSearchCols+` FROM saved_searches WHERE id = ? AND tenant = ?`, id, string(space)))
	if errors.Is(err, sql.ErrNoRows) {
		return before, after, fmt.Errorf("%w: %d", savedsearch.ErrNotFound, id)
	}
	if err != nil {
		return before, after, fmt.Errorf("update saved search %d: %w", id, err)
	}
	schedule, err := scheduleJSON(s.Schedule)
	if err != nil {
		return before, after, fmt.Errorf("update saved search %d: %w", id, err)
	}
	after = before
	after.Name, after.Query, after.Description, after.Editor, after.Updated = s.Name, s.Query, s.Description, s.Editor, normTime(s.Updated)
	after.Schedule = nil
	if s.Schedule != nil {
		sc := s.Schedule.Defaults()
		after.Schedule = &sc
	}
	_, err = tx.ExecContext(ctx, `UPDATE saved_searches SET name = ?, name_key = ?, query = ?, description = ?, editor = ?, updated = ?, schedule = ? WHERE id = ?`,
		after.Name, savedsearch.NameKey(after.Name), after.Query, after.Description, after.Editor, nanos(after.Updated), schedule, id)
	if isUnique(err) {
		return before, after, fmt.Errorf("%w: %q", savedsearch.ErrExists, s.Name)
	}
	if err != nil {
		return before, after, fmt.Errorf("update saved search %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return before, after, fmt.Errorf("update saved search %d: %w", id, err)
	}
	return before, after, nil
}

// RemoveSavedSearch deletes space's search id.
func (d *DB) RemoveSavedSearch(ctx context.Context, space tenant.ID, id int64) (savedsearch.Search, error) {
	s, err := scanSavedSearch(d.db.QueryRowContext(ctx, `DELETE FROM saved_searches WHERE id = ? AND tenant = ? RETURNING `+savedSearchCols, id, string(space)))
	if errors.Is(err, sql.ErrNoRows) {
		return savedsearch.Search{}, fmt.Errorf("%w: %d", savedsearch.ErrNotFound, id)
	}
	if err != nil {
		return savedsearch.Search{}, fmt.Errorf("remove saved search %d: %w", id, err)
	}
	return s, nil
}

// SavedSearchRan records search id's last run.
func (d *DB) SavedSearchRan(ctx context.Context, id int64, run savedsearch.Run) error {
	run.At, run.Until = normTime(run.At), normTime(run.Until)
	b, err := json.Marshal(run)
	if err != nil {
		return fmt.Errorf("record saved search %d's run: %w", id, err)
	}
	if _, err := d.db.ExecContext(ctx, `UPDATE saved_searches SET last_run = ? WHERE id = ?`, string(b), id); err != nil {
		return fmt.Errorf("record saved search %d's run: %w", id, err)
	}
	return nil
}
