package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Pool limits of a PostgreSQL state store, per server. Writers take one
// connection at a time (engine.go); the rest serve readers: the API, the
// pipeline's look-ups, the metrics.
const (
	pgMaxOpen     = 16
	pgMaxIdle     = 4
	pgMaxIdleTime = 5 * time.Minute
	pgMaxLifetime = time.Hour
)

// ErrEmbeddedOnly is returned by operations that only make sense for the
// embedded SQLite store (copying its file) when the store is PostgreSQL.
var ErrEmbeddedOnly = errors.New("the state store is PostgreSQL")

// OpenPostgres opens the state store in the PostgreSQL database at url (a
// URL or a key=value string, as libpq takes) and migrates it. Several
// servers may share one database: the migrations and every write
// transaction are serialised between them (engine.go).
func OpenPostgres(ctx context.Context, url string) (*DB, error) {
	e, err := pgEngine(ctx, url, false)
	if err != nil {
		return nil, err
	}
	return open(ctx, e, "postgres")
}

// OpenPostgresReadOnly opens the state store at url without writing to it
// (no migration, no checkpoint on Close, every transaction read-only), for
// audit verification, as OpenReadOnly does a SQLite file.
func OpenPostgresReadOnly(ctx context.Context, url string) (*DB, error) {
	e, err := pgEngine(ctx, url, true)
	if err != nil {
		return nil, err
	}
	return openReadOnly(ctx, e, "postgres")
}

func pgEngine(ctx context.Context, url string, readOnly bool) (*engine, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if readOnly {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(pgMaxOpen)
	db.SetMaxIdleConns(pgMaxIdle)
	db.SetConnMaxIdleTime(pgMaxIdleTime)
	db.SetConnMaxLifetime(pgMaxLifetime)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return newEngine(db, true), nil
}

// Postgres reports whether the store is PostgreSQL.
func (d *DB) Postgres() bool { return d.db.x.postgres }

// pgMigrations are the migrations whose PostgreSQL text is not the
// translation of SQLite's (pgDDL): data migrations using SQLite's
// functions. The version numbers, and so the schema history, are shared.
var pgMigrations = map[int]string{
	6: pgAlertsMigration,
}

// pgAlertsMigration is alertsMigration (alerts.go) for PostgreSQL: the
// same tables, the old rows converted with PostgreSQL's JSON functions,
// and the ID sequence moved past the IDs kept.
var pgAlertsMigration = func() string {
	s := alertsMigration
	from := "INSERT INTO alerts (id,"
	to := "FROM alerts_v5 ORDER BY id;"
	i, j := indexOrPanic(s, from), indexOrPanic(s, to)+len(to)
	return pgDDL(s[:i]) + `INSERT INTO alerts (id, tenant, producer, rule_id, title, author, level, refs, tags, entities, fields, dedup_key, count, evidence,
	event_time, first_seen, last_seen, received, created, updated, criticality, risk, incident, status, resolution, assignee, note,
	acknowledged, resolved, escalated)
SELECT id, tenant, 'sigma', rule_id, title, author, level, '[]', tags,
	CASE
		WHEN host_name <> '' AND user_name <> '' THEN json_build_array(json_build_array('host', host_name), json_build_array('user', user_name))::text
		WHEN host_name <> '' THEN json_build_array(json_build_array('host', host_name))::text
		WHEN user_name <> '' THEN json_build_array(json_build_array('user', user_name))::text
		ELSE '[]'
	END,
	COALESCE((SELECT json_agg(json_build_array(f.key, f.value))::text FROM json_each_text(alerts_v5.fields::json) f), '[]'),
	lower(host_name) || chr(31) || lower(user_name), 1, json_build_array(event_ref)::text,
	event_time, event_time, event_time, created, created, created, 'normal',
	CASE level WHEN 'informational' THEN 10 WHEN 'low' THEN 25 WHEN 'medium' THEN 45 WHEN 'high' THEN 65 WHEN 'critical' THEN 85 ELSE 25 END,
	id, 'new', '', '', '', 0, 0, 0
FROM alerts_v5 ORDER BY id;
SELECT setval(pg_get_serial_sequence('alerts', 'id'), COALESCE((SELECT MAX(id) FROM alerts), 0) + 1, false);` + pgDDL(s[j:])
}()

func indexOrPanic(s, sub string) int {
	i := strings.Index(s, sub)
	if i < 0 {
		panic("BUG: alertsMigration changed: no " + sub)
	}
	return i
}
