package sqlstore

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/tarian-soc/tarian/internal/audit"
)

// auditMigration chains the audit trail (audit package): each record's
// chain, position, previous hash and hash, and the signed checkpoints.
// Records of older versions have NULL chain fields until chainLegacyAudit
// chains them, in ID order, on the first open: only those, up to the ID
// audit_legacy notes, so a row slipped in later without chain fields is
// never chained by the server but reported by verification.
const auditMigration = `
CREATE TABLE audit_legacy AS SELECT COALESCE(MAX(id), 0) AS max_id FROM audit;
ALTER TABLE audit ADD COLUMN chain TEXT;
ALTER TABLE audit ADD COLUMN seq INTEGER;
ALTER TABLE audit ADD COLUMN prev_hash BLOB;
ALTER TABLE audit ADD COLUMN hash BLOB;
CREATE UNIQUE INDEX audit_chain_seq ON audit(chain, seq);
CREATE INDEX audit_chain_id ON audit(chain, id);
CREATE TABLE audit_checkpoints (
	chain     TEXT NOT NULL,
	seq       INTEGER NOT NULL,
	hash      BLOB NOT NULL,
	time      INTEGER NOT NULL,
	signature BLOB NOT NULL,
	PRIMARY KEY (chain, seq)
);`

// auditVersion is the migration that chains the trail.
const auditVersion = 10

// auditState is the DB's audit signing state.
type auditState struct {
	signer atomic.Pointer[audit.Signer]
}

// SetAuditSigner makes the store sign a checkpoint every
// audit.CheckpointEvery records of a chain, and every chain's head on
// Close. Without one no checkpoint is written.
func (d *DB) SetAuditSigner(s *audit.Signer) { d.audit.signer.Store(s) }

const auditColumns = `id, time, actor, role, action, scope, detail, COALESCE(chain, ''), COALESCE(seq, 0), prev_hash, hash`

func scanAudit(s scanner) (audit.Record, error) {
	var r audit.Record
	var ts int64
	var prev, hash []byte
	if err := s.Scan(&r.ID, &ts, &r.Actor, &r.Role, &r.Action, &r.Scope, &r.Detail, &r.Chain, &r.Seq, &prev, &hash); err != nil {
		return r, err
	}
	r.Time = time.Unix(0, ts).UTC()
	// A stored hash of the wrong length stays zero: verification then
	// reports the record as edited.
	r.PrevHash, _ = audit.HashFromBytes(prev)
	r.Hash, _ = audit.HashFromBytes(hash)
	return r, nil
}

// Append records an audit entry at the end of its chain
// (audit.ChainOf(r.Scope)). One write transaction reads the chain's head
// and inserts, so appends to a chain are serialised.
func (d *DB) Append(ctx context.Context, r audit.Record) error {
	if r.Time.IsZero() {
		r.Time = time.Now().UTC()
	}
	// The stored time has nanosecond precision and no zone or monotonic
	// reading: hash what is stored.
	r.Time = time.Unix(0, r.Time.UnixNano()).UTC()
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("insert audit record: %w", err)
	}
	defer tx.Rollback()
	head, err := auditHead(ctx, tx, audit.ChainOf(r.Scope))
	if err != nil {
		return fmt.Errorf("insert audit record: %w", err)
	}
	r = audit.Link(head, r)
	if err := insertAudit(ctx, tx, r); err != nil {
		return err
	}
	if s := d.audit.signer.Load(); s != nil && r.Seq%audit.CheckpointEvery == 0 {
		if err := insertCheckpoint(ctx, tx, s.Sign(audit.Checkpoint{Chain: r.Chain, Seq: r.Seq, Hash: r.Hash, Time: r.Time})); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("insert audit record: %w", err)
	}
	return nil
}

// auditHead returns chain's last record's position and hash (zero when the
// chain is empty).
func auditHead(ctx context.Context, tx *txn, chain string) (audit.Record, error) {
	var head audit.Record
	var hash []byte
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit WHERE chain = ? ORDER BY seq DESC LIMIT 1`, chain).Scan(&head.Seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return audit.Record{}, nil
	}
	if err != nil {
		return audit.Record{}, err
	}
	if head.Hash, err = audit.HashFromBytes(hash); err != nil {
		return audit.Record{}, fmt.Errorf("chain %s head seq %d: %w", chain, head.Seq, err)
	}
	return head, nil
}

func insertAudit(ctx context.Context, tx *txn, r audit.Record) error {
	var err error
	if r.ID != 0 { // a legacy record, chained in place
		_, err = tx.ExecContext(ctx, `UPDATE audit SET chain = ?, seq = ?, prev_hash = ?, hash = ? WHERE id = ?`,
			r.Chain, r.Seq, r.PrevHash[:], r.Hash[:], r.ID)
	} else {
		_, err = tx.ExecContext(ctx, `INSERT INTO audit (time, actor, role, action, scope, detail, chain, seq, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Time.UnixNano(), r.Actor, r.Role, r.Action, r.Scope, r.Detail, r.Chain, r.Seq, r.PrevHash[:], r.Hash[:])
	}
	if err != nil {
		return fmt.Errorf("insert audit record: %w", err)
	}
	return nil
}

func insertCheckpoint(ctx context.Context, tx *txn, c audit.Checkpoint) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (chain, seq, hash, time, signature) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (chain, seq) DO NOTHING`, c.Chain, c.Seq, c.Hash[:], c.Time.UnixNano(), c.Signature)
	if err != nil {
		return fmt.Errorf("insert audit checkpoint: %w", err)
	}
	return nil
}

// chainLegacyAudit chains the records written before the trail was
// chained (NULL chain), in ID order, after each chain's head: the same rows
// always give the same chains.
func (d *DB) chainLegacyAudit(ctx context.Context) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit WHERE chain IS NULL AND id <= (SELECT max_id FROM audit_legacy) ORDER BY id`)
	if err != nil {
		return err
	}
	var legacy []audit.Record
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			rows.Close()
			return err
		}
		legacy = append(legacy, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(legacy) == 0 {
		return err
	}
	heads := map[string]audit.Record{}
	for _, r := range legacy {
		c := audit.ChainOf(r.Scope)
		head, ok := heads[c]
		if !ok {
			if head, err = auditHead(ctx, tx, c); err != nil {
				return err
			}
		}
		r = audit.Link(head, r)
		if err := insertAudit(ctx, tx, r); err != nil {
			return err
		}
		heads[c] = r
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("chain %d older audit records: %w", len(legacy), err)
	}
	return nil
}

// CheckpointAudit signs every chain's head that has no checkpoint yet. The
// store does it on Close; without a signer it does nothing.
func (d *DB) CheckpointAudit(ctx context.Context) error {
	s := d.audit.signer.Load()
	if s == nil {
		return nil
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	chains, err := auditChains(ctx, tx)
	if err != nil {
		return err
	}
	var cps []audit.Checkpoint
	now := time.Unix(0, time.Now().UnixNano()).UTC()
	for _, chain := range chains {
		head, err := auditHead(ctx, tx, chain)
		if err != nil {
			return err
		}
		var signed bool
		err = tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM audit_checkpoints WHERE chain = ? AND seq = ?)`, chain, head.Seq).Scan(&signed)
		if err != nil {
			return err
		}
		if !signed {
			cps = append(cps, s.Sign(audit.Checkpoint{Chain: chain, Seq: head.Seq, Hash: head.Hash, Time: now}))
		}
	}
	for _, c := range cps {
		if err := insertCheckpoint(ctx, tx, c); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// closeAudit checkpoints the chains' heads before the database closes.
func (d *DB) closeAudit() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.CheckpointAudit(ctx); err != nil {
		return fmt.Errorf("checkpoint audit chains: %w", err)
	}
	return nil
}

// AuditRecords returns the newest audit records, at most limit, for scope
// (a tenant ID or "*"); an empty scope returns every record.
func (d *DB) AuditRecords(ctx context.Context, scope string, limit int) ([]audit.Record, error) {
	q := `SELECT ` + auditColumns + ` FROM audit`
	args := []any{}
	if scope != "" {
		q += ` WHERE scope = ?`
		args = append(args, scope)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	return d.auditQuery(ctx, q, args...)
}

// AuditChain returns chain's newest records with a position below before
// (0: from the newest), at most limit, newest first.
func (d *DB) AuditChain(ctx context.Context, chain string, before int64, limit int) ([]audit.Record, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	return d.auditQuery(ctx, `SELECT `+auditColumns+` FROM audit WHERE chain = ? AND seq < ? ORDER BY seq DESC LIMIT ?`, chain, before, limit)
}

func (d *DB) auditQuery(ctx context.Context, q string, args ...any) ([]audit.Record, error) {
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []audit.Record
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AuditChains lists the chains that have records, "*" first then tenants
// by ID.
func (d *DB) AuditChains(ctx context.Context) ([]string, error) {
	tx, err := d.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return auditChains(ctx, tx)
}

// auditChains walks the (chain, seq) index from one chain to the next, so
// listing the chains costs a look-up per chain, not a scan of the trail.
func auditChains(ctx context.Context, tx *txn) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `WITH RECURSIVE c(chain) AS (
		SELECT MIN(chain) FROM audit WHERE chain IS NOT NULL
		UNION ALL
		SELECT (SELECT MIN(chain) FROM audit WHERE chain > c.chain) FROM c WHERE c.chain IS NOT NULL)
		SELECT chain FROM c WHERE chain IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// "*" sorts first already ('*' is below every tenant ID's characters).
	return out, nil
}

// ExportAudit calls rec for every record of chain in storage (ID) order
// and cp for its checkpoints first, all from one snapshot of the database.
func (d *DB) ExportAudit(ctx context.Context, chain string, cp func(audit.Checkpoint) error, rec func(audit.Record) error) error {
	tx, err := d.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	cps, err := auditCheckpoints(ctx, tx, chain)
	if err != nil {
		return err
	}
	for _, c := range cps {
		if err := cp(c); err != nil {
			return err
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit WHERE chain = ? ORDER BY id`, chain)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return err
		}
		if err := rec(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

func auditCheckpoints(ctx context.Context, tx *txn, chain string) ([]audit.Checkpoint, error) {
	rows, err := tx.QueryContext(ctx, `SELECT chain, seq, hash, time, signature FROM audit_checkpoints WHERE chain = ? ORDER BY seq`, chain)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []audit.Checkpoint
	for rows.Next() {
		var c audit.Checkpoint
		var hash []byte
		var ts int64
		if err := rows.Scan(&c.Chain, &c.Seq, &hash, &ts, &c.Signature); err != nil {
			return nil, err
		}
		c.Hash, _ = audit.HashFromBytes(hash) // a bad length fails the signature
		c.Time = time.Unix(0, ts).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// VerifyAudit verifies chain (every chain when chain is ""), with
// checkpoints signed by pub, from one snapshot. It returns what each chain
// checked; the error is the first chain's *audit.BreakError, if any
// (the chains after it are still checked).
func (d *DB) VerifyAudit(ctx context.Context, chain string, pub ed25519.PublicKey) ([]audit.Result, error) {
	chains := []string{chain}
	if chain == "" {
		var err error
		if chains, err = d.AuditChains(ctx); err != nil {
			return nil, err
		}
		// Checkpoints of a chain whose records are all gone.
		rows, err := d.db.QueryContext(ctx, `SELECT DISTINCT chain FROM audit_checkpoints c WHERE NOT EXISTS (SELECT 1 FROM audit a WHERE a.chain = c.chain)`)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return nil, err
			}
			chains = append(chains, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	var out []audit.Result
	var first error
	brk, err := d.unchainedAudit(ctx, chain)
	if err != nil {
		return nil, err
	}
	if brk != nil {
		first = brk
	}
	for _, c := range chains {
		res, err := d.verifyChain(ctx, c, pub)
		var be *audit.BreakError
		if err != nil && !errors.As(err, &be) {
			return out, fmt.Errorf("verify chain %s: %w", c, err)
		}
		if brk != nil && brk.Chain == c && res.Break == nil {
			res.Break = brk // the row slipped in by hand belongs here
		}
		out = append(out, res)
		if first == nil && err != nil {
			first = err
		}
	}
	return out, first
}

// unchainedAudit reports a record of chain (any chain for "") stored
// without chain fields after the legacy records: slipped in by hand.
func (d *DB) unchainedAudit(ctx context.Context, chain string) (*audit.BreakError, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT id, scope FROM audit WHERE chain IS NULL AND id > (SELECT max_id FROM audit_legacy) ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var scope string
		if err := rows.Scan(&id, &scope); err != nil {
			return nil, err
		}
		if c := audit.ChainOf(scope); chain == "" || c == chain {
			return &audit.BreakError{Chain: c, ID: id, Kind: audit.KindReordered, Reason: "stored without a chain position (inserted by hand)"}, nil
		}
	}
	return nil, rows.Err()
}

func (d *DB) verifyChain(ctx context.Context, chain string, pub ed25519.PublicKey) (audit.Result, error) {
	var cps []audit.Checkpoint
	var v *audit.Verifier
	err := d.ExportAudit(ctx, chain,
		func(c audit.Checkpoint) error { cps = append(cps, c); return nil },
		func(r audit.Record) error {
			if v == nil {
				v = audit.NewVerifier(chain, cps, pub)
			}
			v.Add(r)
			return nil
		})
	if err != nil {
		return audit.Result{Chain: chain}, err
	}
	if v == nil {
		v = audit.NewVerifier(chain, cps, pub)
	}
	return v.Finish()
}

// ErrOldSchema means a read-only open found a database no server of this
// version has opened yet.
var ErrOldSchema = errors.New("database written by an older tarian")

// OpenReadOnly opens the database at path without writing to it (no
// migration, no checkpoint on Close), for offline audit verification of a
// stopped server's data directory.
func OpenReadOnly(ctx context.Context, path string) (*DB, error) {
	dsn := "file:" + path + "?mode=ro&_pragma=busy_timeout(10000)&_pragma=query_only(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return openReadOnly(ctx, newEngine(db, false), path)
}

// openReadOnly checks that the database's audit trail can be verified
// (closing it if not).
func openReadOnly(ctx context.Context, e *engine, name string) (*DB, error) {
	var have int
	err := e.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have)
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	if have < auditVersion {
		// A database without the chained trail cannot be verified.
		e.Close()
		return nil, fmt.Errorf("%w (schema version %d, the chained audit trail is %d): start the server once to chain its audit records", ErrOldSchema, have, auditVersion)
	}
	var legacy int
	if err := e.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit WHERE chain IS NULL AND id <= (SELECT max_id FROM audit_legacy)`).Scan(&legacy); err != nil {
		e.Close()
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	if legacy > 0 {
		e.Close()
		return nil, fmt.Errorf("%w: %d audit records are not chained yet: start the server once", ErrOldSchema, legacy)
	}
	return &DB{db: e}, nil
}

// AuditPublicKey returns the key that verifies the store's checkpoints
// (nil without a signer).
func (d *DB) AuditPublicKey() ed25519.PublicKey {
	if s := d.audit.signer.Load(); s != nil {
		return s.PublicKey()
	}
	return nil
}
