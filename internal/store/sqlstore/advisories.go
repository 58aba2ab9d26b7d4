package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tarian-soc/tarian/internal/advisory"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/tenant"
)

var _ advisory.Store = (*DB)(nil)

// advisoriesMigration holds the provider's advisories (the whole advisory
// as JSON, with the columns a member's read filters on), the members each
// is addressed to when it names them, and the members' acknowledgements.
// CREATE statements only (audit_test.go's dropsAfter undoes them).
const advisoriesMigration = `
CREATE TABLE advisories (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	tlp         TEXT NOT NULL,
	all_members INTEGER NOT NULL,
	published   INTEGER NOT NULL,
	data        TEXT NOT NULL
);
CREATE TABLE advisory_audience (
	advisory INTEGER NOT NULL REFERENCES advisories(id),
	tenant   TEXT NOT NULL REFERENCES tenants(id),
	PRIMARY KEY (advisory, tenant)
);
CREATE INDEX advisory_audience_tenant ON advisory_audience(tenant, advisory);
CREATE TABLE advisory_acks (
	advisory INTEGER NOT NULL REFERENCES advisories(id),
	tenant   TEXT NOT NULL REFERENCES tenants(id),
	actor    TEXT NOT NULL,
	at       INTEGER NOT NULL,
	PRIMARY KEY (advisory, tenant)
);`

// addressedTo is the SQL form of advisory.Advisory.AddressedTo for the
// member bound to its one parameter.
const addressedTo = `((a.all_members = 1 AND a.tlp NOT IN ('` + string(intel.TLPAmberStrict) + `', '` + string(intel.TLPRed) + `'))
	OR EXISTS (SELECT 1 FROM advisory_audience au WHERE au.advisory = a.id AND au.tenant = ?))`

// CreateAdvisory stores a new advisory and returns it with its ID.
func (d *DB) CreateAdvisory(ctx context.Context, a advisory.Advisory) (advisory.Advisory, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return a, err
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `INSERT INTO advisories (tlp, all_members, published, data) VALUES (?, ?, ?, '') RETURNING id`,
		string(a.TLP), a.Audience == nil, a.Published.UnixNano()).Scan(&a.ID); err != nil {
		return a, err
	}
	data, err := json.Marshal(a)
	if err != nil {
		return a, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE advisories SET data = ? WHERE id = ?`, string(data), a.ID); err != nil {
		return a, err
	}
	for _, t := range a.Audience {
		if _, err := tx.ExecContext(ctx, `INSERT INTO advisory_audience (advisory, tenant) VALUES (?, ?)`, a.ID, string(t)); err != nil {
			return a, fmt.Errorf("advisory audience %s: %w", t, err)
		}
	}
	return a, tx.Commit()
}

func scanAdvisory(s scanner) (advisory.Advisory, error) {
	var (
		a    advisory.Advisory
		data string
	)
	if err := s.Scan(&data); err != nil {
		return a, err
	}
	if err := json.Unmarshal([]byte(data), &a); err != nil {
		return a, fmt.Errorf("advisory: %w", err)
	}
	return a, nil
}

// Advisory returns advisory id if viewer may read it (every one when
// provider), else advisory.ErrNotFound.
func (d *DB) Advisory(ctx context.Context, id int64, viewer tenant.ID, provider bool) (advisory.Advisory, error) {
	if !provider && viewer == "" {
		return advisory.Advisory{}, advisory.ErrNotFound
	}
	q, args := `SELECT a.data FROM advisories a WHERE a.id = ?`, []any{id}
	if !provider {
		q += ` AND ` + addressedTo
		args = append(args, string(viewer))
	}
	a, err := scanAdvisory(d.db.QueryRowContext(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return a, advisory.ErrNotFound
	}
	return a, err
}

// Advisories lists the advisories viewer may read (every one when
// provider), newest first.
func (d *DB) Advisories(ctx context.Context, viewer tenant.ID, provider bool) ([]advisory.Advisory, error) {
	if !provider && viewer == "" {
		return nil, nil
	}
	q, args := `SELECT a.data FROM advisories a`, []any{}
	if !provider {
		q += ` WHERE ` + addressedTo
		args = append(args, string(viewer))
	}
	rows, err := d.db.QueryContext(ctx, q+` ORDER BY a.id DESC`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []advisory.Advisory
	for rows.Next() {
		a, err := scanAdvisory(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AckAdvisory records member t's acknowledgement of advisory id, if it is
// addressed to t (else advisory.ErrNotFound); a second acknowledgement
// changes nothing and returns the first.
func (d *DB) AckAdvisory(ctx context.Context, id int64, t tenant.ID, by string, at time.Time) (advisory.Ack, error) {
	k := advisory.Ack{Advisory: id, Tenant: t}
	if t == "" {
		return k, advisory.ErrNotFound
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return k, err
	}
	defer tx.Rollback()
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM advisories a WHERE a.id = ? AND `+addressedTo, id, string(t)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return k, advisory.ErrNotFound
	}
	if err != nil {
		return k, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO advisory_acks (advisory, tenant, actor, at) VALUES (?, ?, ?, ?) ON CONFLICT (advisory, tenant) DO NOTHING`,
		id, string(t), by, at.UnixNano()); err != nil {
		return k, err
	}
	var ns int64
	if err := tx.QueryRowContext(ctx, `SELECT actor, at FROM advisory_acks WHERE advisory = ? AND tenant = ?`, id, string(t)).Scan(&k.By, &ns); err != nil {
		return k, err
	}
	k.At = time.Unix(0, ns).UTC()
	return k, tx.Commit()
}

// AdvisoryAcks lists the acknowledgements of advisory id: every member's
// when provider, else viewer's own only.
func (d *DB) AdvisoryAcks(ctx context.Context, id int64, viewer tenant.ID, provider bool) ([]advisory.Ack, error) {
	q, args := `SELECT tenant, actor, at FROM advisory_acks WHERE advisory = ?`, []any{id}
	if !provider {
		q += ` AND tenant = ?`
		args = append(args, string(viewer))
	}
	rows, err := d.db.QueryContext(ctx, q+` ORDER BY at, tenant`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []advisory.Ack
	for rows.Next() {
		var (
			k  = advisory.Ack{Advisory: id}
			t  string
			ns int64
		)
		if err := rows.Scan(&t, &k.By, &ns); err != nil {
			return nil, err
		}
		k.Tenant, k.At = tenant.ID(t), time.Unix(0, ns).UTC()
		out = append(out, k)
	}
	return out, rows.Err()
}
