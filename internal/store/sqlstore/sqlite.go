// Package sqlstore is the state store: tenants, tokens, dead letters,
// audit records, alerts, cases, intel and consumer checkpoints, with
// versioned migrations, in one SQLite database (modernc.org/sqlite, pure
// Go, WAL: Open) or in PostgreSQL (pgx, shared by several servers:
// OpenPostgres). The same methods and query text serve both (dialect.go,
// engine.go).
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	"github.com/tarian-soc/tarian/internal/audit"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/store"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// DB is an open state store.
type DB struct {
	db    *engine
	audit auditState // audit.go
}

var (
	_ auth.Store         = (*DB)(nil)
	_ ingest.DeadLetters = (*DB)(nil)
	_ audit.Log          = (*DB)(nil)
)

// Open opens (creating if needed) the database at path and migrates it.
func Open(ctx context.Context, path string) (*DB, error) {
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	return open(ctx, newEngine(db, false), path)
}

// open migrates the database and chains its older audit records; name
// names it in errors.
func open(ctx context.Context, e *engine, name string) (*DB, error) {
	d := &DB{db: e}
	if err := d.migrate(ctx); err != nil {
		e.Close()
		return nil, fmt.Errorf("migrate %s: %w", name, err)
	}
	if err := d.chainLegacyAudit(ctx); err != nil {
		e.Close()
		return nil, fmt.Errorf("chain audit trail %s: %w", name, err)
	}
	return d, nil
}

// Close signs a checkpoint of every audit chain's head (audit.go) and
// closes the database.
func (d *DB) Close() error { return errors.Join(d.closeAudit(), d.db.Close()) }

// migrations are applied in order; a database records the versions it has.
// Never edit a released migration: add a new one.
var migrations = []string{
	1: `
CREATE TABLE tenants (
	number  INTEGER PRIMARY KEY AUTOINCREMENT,
	id      TEXT NOT NULL UNIQUE,
	name    TEXT NOT NULL,
	created INTEGER NOT NULL
);
CREATE TABLE tokens (
	id      TEXT PRIMARY KEY,
	tenant  TEXT REFERENCES tenants(id),
	role    TEXT NOT NULL,
	name    TEXT NOT NULL,
	hash    BLOB NOT NULL UNIQUE,
	created INTEGER NOT NULL
);
CREATE TABLE dead_letters (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant   TEXT NOT NULL REFERENCES tenants(id),
	received INTEGER NOT NULL,
	source   TEXT NOT NULL,
	line     INTEGER NOT NULL,
	reason   TEXT NOT NULL,
	data     BLOB NOT NULL
);
CREATE INDEX dead_letters_tenant ON dead_letters(tenant, id);
CREATE TABLE audit (
	id     INTEGER PRIMARY KEY AUTOINCREMENT,
	time   INTEGER NOT NULL,
	actor  TEXT NOT NULL,
	role   TEXT NOT NULL,
	action TEXT NOT NULL,
	scope  TEXT NOT NULL,
	detail TEXT NOT NULL
);
CREATE TABLE checkpoints (
	name    TEXT PRIMARY KEY,
	done    INTEGER NOT NULL,
	pending INTEGER NOT NULL
);`,
	2: `
CREATE TABLE rule_files (
	key      TEXT PRIMARY KEY,
	name     TEXT NOT NULL,
	data     BLOB NOT NULL,
	imported INTEGER NOT NULL
);
CREATE TABLE rules_disabled (
	tenant  TEXT NOT NULL REFERENCES tenants(id),
	rule_id TEXT NOT NULL,
	PRIMARY KEY (tenant, rule_id)
);
CREATE TABLE alerts (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant     TEXT NOT NULL REFERENCES tenants(id),
	rule_id    TEXT NOT NULL,
	title      TEXT NOT NULL,
	author     TEXT NOT NULL,
	level      TEXT NOT NULL,
	tags       TEXT NOT NULL,
	event_ref  TEXT NOT NULL,
	event_time INTEGER NOT NULL,
	created    INTEGER NOT NULL,
	fields     TEXT NOT NULL,
	status     TEXT NOT NULL,
	UNIQUE (tenant, rule_id, event_ref)
);
CREATE INDEX alerts_tenant ON alerts(tenant, id);
CREATE TABLE correlation_states (
	consumer TEXT NOT NULL,
	tenant   TEXT NOT NULL REFERENCES tenants(id),
	state    BLOB NOT NULL,
	PRIMARY KEY (consumer, tenant)
);`,
	3: `
CREATE TABLE tenant_filter_files (
	tenant   TEXT NOT NULL REFERENCES tenants(id),
	key      TEXT NOT NULL,
	name     TEXT NOT NULL,
	data     BLOB NOT NULL,
	imported INTEGER NOT NULL,
	PRIMARY KEY (tenant, key)
);
CREATE TABLE tenant_placeholders (
	tenant TEXT PRIMARY KEY REFERENCES tenants(id),
	data   TEXT NOT NULL
);`,
	4: pollMigration,
	// The host and user of the event that fired an alert.
	5: `
ALTER TABLE alerts ADD COLUMN host_name TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN user_name TEXT NOT NULL DEFAULT '';`,
	6:  alertsMigration,               // alerts.go
	7:  casesMigration,                // cases.go
	8:  notifyMigration,               // notify.go
	9:  usersMigration,                // users.go
	10: auditMigration,                // audit.go
	11: alertsCreatedMigration,        // alerts.go
	12: ssoMigration,                  // sso.go (OIDC)
	13: intelMigration,                // intel.go
	14: intelObjectsMigration,         // intelobjects.go
	15: campaignsMigration,            // campaigns.go
	16: advisoriesMigration,           // advisories.go
	17: reportsMigration,              // reports.go (monthly reports mailed)
	18: quotaMigration,                // quota.go (quota use, poll health)
	19: retroHuntQueueMigration,       // intel.go (the retro-hunts to run)
	20: alertMemoryMigration,          // alerts.go (counted events forgotten)
	21: alertsRiskMigration,           // alerts.go (the queue by risk)
	22: retroHuntQueueOnceMigration,   // intel.go (one queued hunt per indicator)
	23: secretKeyMigration,            // secretkey.go (every node's key the same)
	24: campaignsClosedMigration,      // campaigns.go (closed by an analyst)
	25: accountsMigration,             // users.go (names unique in any case; tokens die with their user)
	26: alertsHistoryMigration,        // alerts.go (who changed an alert, when)
	27: ingestKeysMigration,           // ingestkeys.go (Idempotency-Key answers)
	28: alertsProducerMigration,       // alerts.go (the queue of one producer)
	29: savedSearchesMigration,        // savedsearches.go (searches analysts save)
	30: savedSearchSchedulesMigration, // savedsearches.go (scheduled searches)
}

// migrate applies the migrations the database lacks, each in a write
// transaction of its own that first reads the version anew: servers
// starting together on one PostgreSQL database take turns (the writers'
// lock), and each migration is applied once.
func (d *DB) migrate(ctx context.Context) error {
	for {
		done, err := d.migrateNext(ctx)
		if err != nil || done {
			return err
		}
	}
}

// ErrNewerSchema is a state database a newer tarian migrated: this one does
// not know its tables, so it would neither use nor write them safely (a
// binary rolled back, a node of an older version left in a cluster).
var ErrNewerSchema = errors.New("the state database was written by a newer tarian")

// migrateNext applies the first migration the database lacks, and reports
// whether there was none; a database beyond the last is ErrNewerSchema.
func (d *DB) migrateNext(ctx context.Context) (done bool, err error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)`); err != nil {
		return false, err
	}
	var have int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return false, err
	}
	if have > Schema() {
		return false, fmt.Errorf("%w: it is at schema %d and this tarian knows schema %d at most; run the tarian that wrote it (or a later one), or restore a backup this one can read", ErrNewerSchema, have, Schema())
	}
	v := have + 1
	if v >= len(migrations) {
		return true, tx.Commit()
	}
	if _, err := tx.ExecContext(ctx, d.db.x.migration(v)); err != nil {
		return false, fmt.Errorf("migration %d: %w", v, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES (?, ?)`, v, time.Now().Unix()); err != nil {
		return false, fmt.Errorf("migration %d: %w", v, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %d: %w", v, err)
	}
	return false, nil
}

// CreateTenant stores a new tenant and returns it with its Number.
func (d *DB) CreateTenant(ctx context.Context, t tenant.Tenant) (tenant.Tenant, error) {
	if t.Created.IsZero() {
		t.Created = time.Now().UTC()
	}
	err := d.db.execScan(ctx, `INSERT INTO tenants (id, name, created) VALUES (?, ?, ?) RETURNING number`,
		[]any{string(t.ID), t.Name, t.Created.UnixNano()}, &t.Number)
	if isUnique(err) {
		return tenant.Tenant{}, fmt.Errorf("%w: %s", tenant.ErrExists, t.ID)
	}
	if err != nil {
		return tenant.Tenant{}, fmt.Errorf("insert tenant %s: %w", t.ID, err)
	}
	return t, nil
}

// Tenant returns one tenant.
func (d *DB) Tenant(ctx context.Context, id tenant.ID) (tenant.Tenant, error) {
	row := d.db.QueryRowContext(ctx, `SELECT number, id, name, created FROM tenants WHERE id = ?`, string(id))
	t, err := scanTenant(row)
	if errors.Is(err, sql.ErrNoRows) {
		return tenant.Tenant{}, fmt.Errorf("%w: %s", tenant.ErrNotFound, id)
	}
	return t, err
}

// Tenants lists every tenant by ID.
func (d *DB) Tenants(ctx context.Context) ([]tenant.Tenant, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT number, id, name, created FROM tenants ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ts []tenant.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, rows.Err()
}

type scanner interface{ Scan(dest ...any) error }

func scanTenant(s scanner) (tenant.Tenant, error) {
	var t tenant.Tenant
	var id string
	var created int64
	if err := s.Scan(&t.Number, &id, &t.Name, &created); err != nil {
		return t, err
	}
	t.ID = tenant.ID(id)
	t.Created = time.Unix(0, created).UTC()
	return t, nil
}

// CreateToken stores tok (its hash, never its secret). A token that acts
// for a user (tok.User) is refused (auth.ErrUnauthenticated) when that
// user is gone, disabled, or no longer at tok.UserEpoch: the credential
// that asked for it was revoked meanwhile.
func (d *DB) CreateToken(ctx context.Context, tok auth.Token) error {
	if err := tok.Validate(); err != nil {
		return err
	}
	var ten, user any
	if tok.Tenant != "" {
		ten = string(tok.Tenant)
	}
	if tok.User != 0 {
		user = tok.User
	}
	if tok.Created.IsZero() {
		tok.Created = time.Now().UTC()
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if tok.User != 0 {
		var disabled bool
		var epoch int64
		err := tx.QueryRowContext(ctx, `SELECT disabled, epoch FROM users WHERE id = ?`, tok.User).Scan(&disabled, &epoch)
		if errors.Is(err, sql.ErrNoRows) || err == nil && (disabled || epoch != tok.UserEpoch) {
			return fmt.Errorf("%w: the user this credential acts for was disabled, reset or removed", auth.ErrUnauthenticated)
		}
		if err != nil {
			return fmt.Errorf("insert token: %w", err)
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO tokens (id, tenant, role, name, hash, created, expires, user_id, user_epoch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		tok.ID, ten, string(tok.Role), tok.Name, tok.Hash, tok.Created.UnixNano(), unixNanoOrZero(tok.Expires), user, tok.UserEpoch)
	if isForeignKey(err) {
		return fmt.Errorf("%w: %s", tenant.ErrNotFound, tok.Tenant)
	}
	if err != nil {
		return fmt.Errorf("insert token: %w", err)
	}
	return tx.Commit()
}

// TokenByHash finds the token whose secret hashes to hash. UserRevoked
// is set when the token acts for a user who is gone, disabled, or was
// reset (or disabled) since the token was made.
func (d *DB) TokenByHash(ctx context.Context, hash []byte) (auth.Token, error) {
	var tok auth.Token
	var ten sql.NullString
	var role string
	var created, expires int64
	var user, userID, epoch sql.NullInt64
	var disabled sql.NullBool
	err := d.db.QueryRowContext(ctx, `SELECT t.id, t.tenant, t.role, t.name, t.hash, t.created, t.expires, t.user_id, t.user_epoch, u.id, u.disabled, u.epoch
		FROM tokens t LEFT JOIN users u ON u.id = t.user_id WHERE t.hash = ?`, hash).
		Scan(&tok.ID, &ten, &role, &tok.Name, &tok.Hash, &created, &expires, &user, &tok.UserEpoch, &userID, &disabled, &epoch)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Token{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.Token{}, err
	}
	tok.Tenant = tenant.ID(ten.String)
	tok.Role = auth.Role(role)
	tok.Created = time.Unix(0, created).UTC()
	if expires != 0 {
		tok.Expires = time.Unix(0, expires).UTC()
	}
	tok.User = user.Int64
	tok.UserRevoked = user.Valid && (!userID.Valid || disabled.Bool || epoch.Int64 != tok.UserEpoch)
	return tok, nil
}

// CountTokens returns how many tokens exist.
func (d *DB) CountTokens(ctx context.Context) (int, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens`).Scan(&n)
	return n, err
}

// AddDeadLetters keeps dls for tenant t.
func (d *DB) AddDeadLetters(ctx context.Context, t tenant.ID, dls []ingest.DeadLetter) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO dead_letters (tenant, received, source, line, reason, data) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, dl := range dls {
		data := dl.Data
		if data == nil {
			data = []byte{}
		}
		if _, err := stmt.ExecContext(ctx, string(t), dl.Received.UnixNano(), dl.Source, dl.Line, dl.Reason, data); err != nil {
			return fmt.Errorf("insert dead letter: %w", err)
		}
	}
	return tx.Commit()
}

// DeadLetters returns tenant t's newest dead letters with ID below before
// (0: from the newest), at most limit.
func (d *DB) DeadLetters(ctx context.Context, t tenant.ID, before int64, limit int) ([]ingest.DeadLetter, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := d.db.QueryContext(ctx, `SELECT id, received, source, line, reason, data FROM dead_letters WHERE tenant = ? AND id < ? ORDER BY id DESC LIMIT ?`, string(t), before, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ingest.DeadLetter
	for rows.Next() {
		var dl ingest.DeadLetter
		var received int64
		if err := rows.Scan(&dl.ID, &received, &dl.Source, &dl.Line, &dl.Reason, &dl.Data); err != nil {
			return nil, err
		}
		dl.Received = time.Unix(0, received).UTC()
		out = append(out, dl)
	}
	return out, rows.Err()
}

// Checkpoint returns consumer name's position (zero if none yet).
func (d *DB) Checkpoint(ctx context.Context, name string) (store.Checkpoint, error) {
	var c store.Checkpoint
	err := d.db.QueryRowContext(ctx, `SELECT done, pending FROM checkpoints WHERE name = ?`, name).Scan(&c.Done, &c.Pending)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Checkpoint{}, nil
	}
	return c, err
}

// SetCheckpoint records consumer name's position.
func (d *DB) SetCheckpoint(ctx context.Context, name string, c store.Checkpoint) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO checkpoints (name, done, pending) VALUES (?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET done = excluded.done, pending = excluded.pending`, name, c.Done, c.Pending)
	return err
}
