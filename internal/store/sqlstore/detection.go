package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tarian-soc/tarian/internal/detector"
	"github.com/tarian-soc/tarian/internal/store"
	"github.com/tarian-soc/tarian/internal/tenant"
)

var _ detector.Store = (*DB)(nil)

// PutRuleFiles stores rule files, replacing those with the same key.
func (d *DB) PutRuleFiles(ctx context.Context, files []detector.RuleFile) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, f := range files {
		if _, err := tx.ExecContext(ctx, `INSERT INTO rule_files (key, name, data, imported) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET name = excluded.name, data = excluded.data, imported = excluded.imported`,
			f.Key, f.Name, f.Data, f.Imported.UnixNano()); err != nil {
			return fmt.Errorf("store rule file %s: %w", f.Name, err)
		}
	}
	return tx.Commit()
}

// RuleFiles returns every stored rule file.
func (d *DB) RuleFiles(ctx context.Context) ([]detector.RuleFile, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT key, name, data, imported FROM rule_files ORDER BY key`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []detector.RuleFile
	for rows.Next() {
		var f detector.RuleFile
		var imported int64
		if err := rows.Scan(&f.Key, &f.Name, &f.Data, &imported); err != nil {
			return nil, err
		}
		f.Imported = time.Unix(0, imported).UTC()
		out = append(out, f)
	}
	return out, rows.Err()
}

// DeleteRuleFiles deletes the shared rule files with the given keys.
func (d *DB) DeleteRuleFiles(ctx context.Context, keys []string) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, `DELETE FROM rule_files WHERE key = ?`, k); err != nil {
			return fmt.Errorf("delete rule file %s: %w", k, err)
		}
	}
	return tx.Commit()
}

// DeleteTenantFilterFiles deletes tenant t's filter files with the given
// keys.
func (d *DB) DeleteTenantFilterFiles(ctx context.Context, t tenant.ID, keys []string) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, `DELETE FROM tenant_filter_files WHERE tenant = ? AND key = ?`, string(t), k); err != nil {
			return fmt.Errorf("delete filter file %s of %s: %w", k, t, err)
		}
	}
	return tx.Commit()
}

// SetRuleDisabled switches a rule off (or back on) for t.
func (d *DB) SetRuleDisabled(ctx context.Context, t tenant.ID, ruleID string, disabled bool) error {
	var err error
	if disabled {
		_, err = d.db.ExecContext(ctx, `INSERT INTO rules_disabled (tenant, rule_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, string(t), ruleID)
	} else {
		_, err = d.db.ExecContext(ctx, `DELETE FROM rules_disabled WHERE tenant = ? AND rule_id = ?`, string(t), ruleID)
	}
	return err
}

// DisabledRules returns, per tenant, the rules switched off.
func (d *DB) DisabledRules(ctx context.Context) (map[tenant.ID]map[string]bool, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT tenant, rule_id FROM rules_disabled`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[tenant.ID]map[string]bool{}
	for rows.Next() {
		var t, id string
		if err := rows.Scan(&t, &id); err != nil {
			return nil, err
		}
		if out[tenant.ID(t)] == nil {
			out[tenant.ID(t)] = map[string]bool{}
		}
		out[tenant.ID(t)][id] = true
	}
	return out, rows.Err()
}

// CorrelationStates returns consumer's saved state per tenant.
func (d *DB) CorrelationStates(ctx context.Context, consumer string) (map[tenant.ID][]byte, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT tenant, state FROM correlation_states WHERE consumer = ?`, consumer)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[tenant.ID][]byte{}
	for rows.Next() {
		var t string
		var b []byte
		if err := rows.Scan(&t, &b); err != nil {
			return nil, err
		}
		out[tenant.ID(t)] = b
	}
	return out, rows.Err()
}

// SaveProgress moves consumer's checkpoint and saves states, atomically.
func (d *DB) SaveProgress(ctx context.Context, consumer string, cp store.Checkpoint, states map[tenant.ID][]byte) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for t, b := range states {
		if _, err := tx.ExecContext(ctx, `INSERT INTO correlation_states (consumer, tenant, state) VALUES (?, ?, ?)
			ON CONFLICT (consumer, tenant) DO UPDATE SET state = excluded.state`, consumer, string(t), b); err != nil {
			return fmt.Errorf("save state of %s: %w", t, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoints (name, done, pending) VALUES (?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET done = excluded.done, pending = excluded.pending`, consumer, cp.Done, cp.Pending); err != nil {
		return err
	}
	return tx.Commit()
}

// PutTenantFilterFiles stores filter documents of tenant t, replacing those
// with the same key.
func (d *DB) PutTenantFilterFiles(ctx context.Context, t tenant.ID, files []detector.RuleFile) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, f := range files {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenant_filter_files (tenant, key, name, data, imported) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (tenant, key) DO UPDATE SET name = excluded.name, data = excluded.data, imported = excluded.imported`,
			string(t), f.Key, f.Name, f.Data, f.Imported.UnixNano()); err != nil {
			return fmt.Errorf("store filter file %s of %s: %w", f.Name, t, err)
		}
	}
	return tx.Commit()
}

// TenantFilterFiles returns every tenant's filter documents.
func (d *DB) TenantFilterFiles(ctx context.Context) (map[tenant.ID][]detector.RuleFile, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT tenant, key, name, data, imported FROM tenant_filter_files ORDER BY tenant, key`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[tenant.ID][]detector.RuleFile{}
	for rows.Next() {
		var t string
		var f detector.RuleFile
		var imported int64
		if err := rows.Scan(&t, &f.Key, &f.Name, &f.Data, &imported); err != nil {
			return nil, err
		}
		f.Imported = time.Unix(0, imported).UTC()
		out[tenant.ID(t)] = append(out[tenant.ID(t)], f)
	}
	return out, rows.Err()
}

// SetPlaceholders replaces tenant t's placeholder values.
func (d *DB) SetPlaceholders(ctx context.Context, t tenant.ID, p map[string][]string) error {
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = d.db.ExecContext(ctx, `INSERT INTO tenant_placeholders (tenant, data) VALUES (?, ?)
		ON CONFLICT (tenant) DO UPDATE SET data = excluded.data`, string(t), string(data))
	return err
}

// Placeholders returns every tenant's placeholder values.
func (d *DB) Placeholders(ctx context.Context) (map[tenant.ID]map[string][]string, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT tenant, data FROM tenant_placeholders`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[tenant.ID]map[string][]string{}
	for rows.Next() {
		var t, data string
		if err := rows.Scan(&t, &data); err != nil {
			return nil, err
		}
		var p map[string][]string
		if err := json.Unmarshal([]byte(data), &p); err != nil {
			return nil, fmt.Errorf("placeholders of %s: %w", t, err)
		}
		out[tenant.ID(t)] = p
	}
	return out, rows.Err()
}
