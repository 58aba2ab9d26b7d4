package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/incident"
	"github.com/tarian-soc/tarian/internal/tenant"
)

var _ incident.Store = (*DB)(nil)

// casesMigration creates the tables of cases (owned by this file). A
// case's parts are reached only through its row, whose tenant every
// method checks first. Times are Unix nanoseconds, 0 for none.
const casesMigration = `
CREATE TABLE cases (
	id                     INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant                 TEXT NOT NULL REFERENCES tenants(id),
	title                  TEXT NOT NULL,
	description            TEXT NOT NULL,
	severity               TEXT NOT NULL,
	tlp                    TEXT NOT NULL,
	status                 TEXT NOT NULL,
	assignee               TEXT NOT NULL,
	author                 TEXT NOT NULL,
	created                INTEGER NOT NULL,
	updated                INTEGER NOT NULL,
	closed                 INTEGER NOT NULL,
	classification         TEXT NOT NULL,
	summary                TEXT NOT NULL,
	escalated              INTEGER NOT NULL,
	acknowledged_by_member INTEGER NOT NULL,
	acknowledged_by        TEXT NOT NULL
);
CREATE INDEX cases_tenant ON cases(tenant, id);
CREATE INDEX cases_tenant_status ON cases(tenant, status, id);
CREATE INDEX cases_tenant_escalated ON cases(tenant, id) WHERE escalated > 0;
CREATE TABLE case_alerts (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	case_id  INTEGER NOT NULL REFERENCES cases(id),
	alert_id INTEGER NOT NULL,
	UNIQUE (case_id, alert_id)
);
CREATE INDEX case_alerts_alert ON case_alerts(alert_id);
CREATE TABLE case_entries (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	case_id INTEGER NOT NULL REFERENCES cases(id),
	time    INTEGER NOT NULL,
	kind    TEXT NOT NULL,
	author  TEXT NOT NULL,
	role    TEXT NOT NULL,
	text    TEXT NOT NULL,
	data    TEXT NOT NULL
);
CREATE INDEX case_entries_case ON case_entries(case_id, time, id);
CREATE TABLE case_observables (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	case_id INTEGER NOT NULL REFERENCES cases(id),
	type    TEXT NOT NULL,
	value   TEXT NOT NULL,
	source  TEXT NOT NULL,
	added   INTEGER NOT NULL,
	UNIQUE (case_id, type, value)
);
CREATE TABLE case_tasks (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	case_id INTEGER NOT NULL REFERENCES cases(id),
	title   TEXT NOT NULL,
	done    INTEGER NOT NULL,
	author  TEXT NOT NULL,
	created INTEGER NOT NULL,
	updated INTEGER NOT NULL
);
CREATE INDEX case_tasks_case ON case_tasks(case_id, id);
CREATE TABLE case_evidence (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	case_id INTEGER NOT NULL REFERENCES cases(id),
	sha256  TEXT NOT NULL,
	name    TEXT NOT NULL,
	size    INTEGER NOT NULL,
	author  TEXT NOT NULL,
	added   INTEGER NOT NULL,
	UNIQUE (case_id, sha256)
);`

// caseNanos and caseTime convert times to and from their stored form.
func caseNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func caseTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func caseNotFound(id int64) error { return fmt.Errorf("%w: case %d", incident.ErrNotFound, id) }

// caseQuerier is what reads need of an engine or a txn.
type caseQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

const caseColumns = `id, tenant, title, description, severity, tlp, status, assignee, author, created, updated, closed,
	classification, summary, escalated, acknowledged_by_member, acknowledged_by`

func scanCase(s scanner) (incident.Case, error) {
	var c incident.Case
	var ten, tlp, status, class string
	var created, updated, closed, escalated, acked int64
	err := s.Scan(&c.ID, &ten, &c.Title, &c.Description, &c.Severity, &tlp, &status, &c.Assignee, &c.Author,
		&created, &updated, &closed, &class, &c.Summary, &escalated, &acked, &c.AcknowledgedBy)
	if err != nil {
		return c, err
	}
	c.Tenant, c.TLP, c.Status, c.Classification = tenant.ID(ten), incident.TLP(tlp), incident.Status(status), alert.Resolution(class)
	c.Created, c.Updated, c.Closed = caseTime(created), caseTime(updated), caseTime(closed)
	c.Escalated, c.AcknowledgedByMember = caseTime(escalated), caseTime(acked)
	return c, nil
}

// CreateCase stores a new case with its parts and returns it as stored.
func (d *DB) CreateCase(ctx context.Context, t tenant.ID, c incident.Case) (incident.Case, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return incident.Case{}, err
	}
	defer tx.Rollback()
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO cases (tenant, title, description, severity, tlp, status, assignee, author, created, updated, closed,
		classification, summary, escalated, acknowledged_by_member, acknowledged_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		string(t), c.Title, c.Description, c.Severity, string(c.TLP), string(c.Status), c.Assignee, c.Author, caseNanos(c.Created),
		caseNanos(c.Updated), caseNanos(c.Closed), string(c.Classification), c.Summary, caseNanos(c.Escalated),
		caseNanos(c.AcknowledgedByMember), c.AcknowledgedBy).Scan(&id)
	if isForeignKey(err) {
		return incident.Case{}, fmt.Errorf("%w: %s", tenant.ErrNotFound, t)
	}
	if err != nil {
		return incident.Case{}, fmt.Errorf("insert case: %w", err)
	}
	add := incident.Additions{Entries: c.Timeline, Alerts: c.Alerts, Observables: c.Observables, Tasks: c.Tasks, Evidence: c.Evidence}
	add.Tasks = slices.Clone(add.Tasks)
	for i := range add.Tasks {
		add.Tasks[i].ID = 0
	}
	if err := addToCase(ctx, tx, id, add); err != nil {
		return incident.Case{}, err
	}
	out, err := loadCase(ctx, tx, t, id)
	if err != nil {
		return incident.Case{}, err
	}
	return out, tx.Commit()
}

// addToCase inserts add's parts into case id.
func addToCase(ctx context.Context, tx *txn, id int64, add incident.Additions) error {
	if len(add.Entries) > 0 {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO case_entries (case_id, time, kind, author, role, text, data) VALUES (?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, e := range add.Entries {
			data := ""
			if len(e.Data) > 0 {
				b, err := json.Marshal(e.Data)
				if err != nil {
					return err
				}
				data = string(b)
			}
			if _, err := stmt.ExecContext(ctx, id, caseNanos(e.Time), string(e.Kind), e.Author, e.Role, e.Text, data); err != nil {
				return fmt.Errorf("insert case entry: %w", err)
			}
		}
	}
	for _, a := range add.Alerts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO case_alerts (case_id, alert_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, a); err != nil {
			return fmt.Errorf("link alert: %w", err)
		}
	}
	for _, o := range add.Observables {
		if _, err := tx.ExecContext(ctx, `INSERT INTO case_observables (case_id, type, value, source, added) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			id, o.Type, o.Value, o.Source, caseNanos(o.Added)); err != nil {
			return fmt.Errorf("insert observable: %w", err)
		}
	}
	for _, tk := range add.Tasks {
		if tk.ID == 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO case_tasks (case_id, title, done, author, created, updated) VALUES (?, ?, ?, ?, ?, ?)`,
				id, tk.Title, tk.Done, tk.Author, caseNanos(tk.Created), caseNanos(tk.Updated)); err != nil {
				return fmt.Errorf("insert task: %w", err)
			}
			continue
		}
		res, err := tx.ExecContext(ctx, `UPDATE case_tasks SET title = ?, done = ?, updated = ? WHERE id = ? AND case_id = ?`,
			tk.Title, tk.Done, caseNanos(tk.Updated), tk.ID, id)
		if err != nil {
			return fmt.Errorf("update task: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: task %d of case %d", incident.ErrNotFound, tk.ID, id)
		}
	}
	for _, e := range add.Evidence {
		if _, err := tx.ExecContext(ctx, `INSERT INTO case_evidence (case_id, sha256, name, size, author, added) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			id, e.SHA256, e.Name, e.Size, e.Author, caseNanos(e.Added)); err != nil {
			return fmt.Errorf("insert evidence: %w", err)
		}
	}
	return nil
}

// Case returns one of tenant t's cases, whole.
func (d *DB) Case(ctx context.Context, t tenant.ID, id int64) (incident.Case, error) {
	// One read transaction: the parts are of one moment.
	tx, err := d.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return incident.Case{}, err
	}
	defer tx.Rollback()
	return loadCase(ctx, tx, t, id)
}

// loadCase reads case id of tenant t and its parts.
func loadCase(ctx context.Context, q caseQuerier, t tenant.ID, id int64) (incident.Case, error) {
	c, err := scanCase(q.QueryRowContext(ctx, `SELECT `+caseColumns+` FROM cases WHERE id = ? AND tenant = ?`, id, string(t)))
	if errors.Is(err, sql.ErrNoRows) {
		return incident.Case{}, caseNotFound(id)
	}
	if err != nil {
		return incident.Case{}, fmt.Errorf("read case %d: %w", id, err)
	}
	c.Alerts = []int64{}
	err = caseRows(ctx, q, `SELECT alert_id FROM case_alerts WHERE case_id = ? ORDER BY id`, id, func(r *sql.Rows) error {
		var a int64
		if err := r.Scan(&a); err != nil {
			return err
		}
		c.Alerts = append(c.Alerts, a)
		return nil
	})
	if err != nil {
		return incident.Case{}, err
	}
	c.Observables = []incident.Observable{}
	err = caseRows(ctx, q, `SELECT type, value, source, added FROM case_observables WHERE case_id = ? ORDER BY id`, id, func(r *sql.Rows) error {
		var o incident.Observable
		var added int64
		if err := r.Scan(&o.Type, &o.Value, &o.Source, &added); err != nil {
			return err
		}
		o.Added = caseTime(added)
		c.Observables = append(c.Observables, o)
		return nil
	})
	if err != nil {
		return incident.Case{}, err
	}
	c.Tasks = []incident.Task{}
	err = caseRows(ctx, q, `SELECT id, title, done, author, created, updated FROM case_tasks WHERE case_id = ? ORDER BY id`, id, func(r *sql.Rows) error {
		var tk incident.Task
		var created, updated int64
		if err := r.Scan(&tk.ID, &tk.Title, &tk.Done, &tk.Author, &created, &updated); err != nil {
			return err
		}
		tk.Created, tk.Updated = caseTime(created), caseTime(updated)
		c.Tasks = append(c.Tasks, tk)
		return nil
	})
	if err != nil {
		return incident.Case{}, err
	}
	c.Evidence = []incident.Evidence{}
	err = caseRows(ctx, q, `SELECT sha256, name, size, author, added FROM case_evidence WHERE case_id = ? ORDER BY id`, id, func(r *sql.Rows) error {
		var e incident.Evidence
		var added int64
		if err := r.Scan(&e.SHA256, &e.Name, &e.Size, &e.Author, &added); err != nil {
			return err
		}
		e.Added = caseTime(added)
		c.Evidence = append(c.Evidence, e)
		return nil
	})
	if err != nil {
		return incident.Case{}, err
	}
	c.Timeline = []incident.Entry{}
	err = caseRows(ctx, q, `SELECT id, time, kind, author, role, text, data FROM case_entries WHERE case_id = ? ORDER BY time, id`, id, func(r *sql.Rows) error {
		var e incident.Entry
		var at int64
		var kind, data string
		if err := r.Scan(&e.ID, &at, &kind, &e.Author, &e.Role, &e.Text, &data); err != nil {
			return err
		}
		e.Time, e.Kind = caseTime(at), incident.Kind(kind)
		if data != "" {
			if err := json.Unmarshal([]byte(data), &e.Data); err != nil {
				return fmt.Errorf("case %d entry %d data: %w", id, e.ID, err)
			}
		}
		c.Timeline = append(c.Timeline, e)
		return nil
	})
	if err != nil {
		return incident.Case{}, err
	}
	return c, nil
}

// caseRows runs a query about case id and calls fn for each row.
func caseRows(ctx context.Context, q caseQuerier, query string, id int64, fn func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query, id)
	if err != nil {
		return fmt.Errorf("read case %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("read case %d: %w", id, err)
		}
	}
	return rows.Err()
}

// Cases lists tenant t's cases, newest first, headers only.
func (d *DB) Cases(ctx context.Context, t tenant.ID, f incident.Filter) ([]incident.Case, error) {
	q := `SELECT ` + caseColumns + ` FROM cases WHERE tenant = ?`
	args := []any{string(t)}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, string(f.Status))
	}
	if f.Escalated {
		q += ` AND escalated > 0`
	}
	if f.Alert > 0 {
		q += ` AND id IN (SELECT case_id FROM case_alerts WHERE alert_id = ?)`
		args = append(args, f.Alert)
	}
	if f.Before > 0 {
		q += ` AND id < ?`
		args = append(args, f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	defer rows.Close()
	out := []incident.Case{}
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, fmt.Errorf("list cases: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CaseTenant returns the tenant of case id (for provider roles only).
func (d *DB) CaseTenant(ctx context.Context, id int64) (tenant.ID, error) {
	var t string
	err := d.db.QueryRowContext(ctx, `SELECT tenant FROM cases WHERE id = ?`, id).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return "", caseNotFound(id)
	}
	if err != nil {
		return "", fmt.Errorf("read case %d: %w", id, err)
	}
	return tenant.ID(t), nil
}

// UpdateCase changes one case atomically with fn.
func (d *DB) UpdateCase(ctx context.Context, t tenant.ID, id int64, fn func(c *incident.Case) (incident.Additions, error)) (before, after incident.Case, err error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return before, after, err
	}
	defer tx.Rollback()
	before, err = loadCase(ctx, tx, t, id)
	if err != nil {
		return incident.Case{}, incident.Case{}, err
	}
	c := before
	c.Alerts, c.Observables, c.Tasks = slices.Clone(c.Alerts), slices.Clone(c.Observables), slices.Clone(c.Tasks)
	c.Evidence, c.Timeline = slices.Clone(c.Evidence), slices.Clone(c.Timeline)
	add, err := fn(&c)
	if err != nil {
		return incident.Case{}, incident.Case{}, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE cases SET title = ?, description = ?, severity = ?, tlp = ?, status = ?, assignee = ?, updated = ?,
		closed = ?, classification = ?, summary = ?, escalated = ?, acknowledged_by_member = ?, acknowledged_by = ? WHERE id = ? AND tenant = ?`,
		c.Title, c.Description, c.Severity, string(c.TLP), string(c.Status), c.Assignee, caseNanos(c.Updated), caseNanos(c.Closed),
		string(c.Classification), c.Summary, caseNanos(c.Escalated), caseNanos(c.AcknowledgedByMember), c.AcknowledgedBy, id, string(t))
	if err != nil {
		return incident.Case{}, incident.Case{}, fmt.Errorf("update case %d: %w", id, err)
	}
	if err := addToCase(ctx, tx, id, add); err != nil {
		return incident.Case{}, incident.Case{}, err
	}
	if after, err = loadCase(ctx, tx, t, id); err != nil {
		return incident.Case{}, incident.Case{}, err
	}
	if err := tx.Commit(); err != nil {
		return incident.Case{}, incident.Case{}, fmt.Errorf("update case %d: %w", id, err)
	}
	return before, after, nil
}
