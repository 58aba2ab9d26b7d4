package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// Offboarding: a tenant's rows in every table, found by the schema rather
// than a list kept by hand, so a table added later is covered too (a test
// checks that every table is reached).

// ownerColumns are the columns that name the tenant a row belongs to.
var ownerColumns = []string{"tenant", "owner", "alert_tenant"}

// childTables are tables without an owner column whose rows belong to a
// row of a tenant's: each with the query that selects the tenant's rows
// (the tenant bound to ?).
var childTables = map[string]string{
	"alert_events":     `alert IN (SELECT id FROM alerts WHERE tenant = ?)`,
	"case_alerts":      `case_id IN (SELECT id FROM cases WHERE tenant = ?) OR alert_id IN (SELECT id FROM alerts WHERE tenant = ?)`,
	"case_entries":     `case_id IN (SELECT id FROM cases WHERE tenant = ?)`,
	"case_observables": `case_id IN (SELECT id FROM cases WHERE tenant = ?)`,
	"case_tasks":       `case_id IN (SELECT id FROM cases WHERE tenant = ?)`,
	"case_evidence":    `case_id IN (SELECT id FROM cases WHERE tenant = ?)`,
	"sessions":         `user_id IN (SELECT id FROM users WHERE tenant = ?)`,
	"recovery_codes":   `user_id IN (SELECT id FROM users WHERE tenant = ?)`,
	"sso_identities":   `user_id IN (SELECT id FROM users WHERE tenant = ?)`,
	"poll_checkpoints": `source IN (SELECT id FROM cloud_sources WHERE tenant = ?)`,
	// The tenant's audit chain and its signed checkpoints (the chain of a
	// tenant is named by its ID: audit.ChainOf).
	"audit":             `chain = ?`,
	"audit_checkpoints": `chain = ?`,
}

// sharedTables hold no tenant's rows: provider-wide state, or shared
// objects whose tenant-specific links are in other tables (a campaign's
// members are in campaign_alerts, an advisory's in advisory_audience).
var sharedTables = []string{
	"schema_migrations", "sqlite_sequence", "checkpoints", "rule_files", "audit_legacy",
	"intel_objects_clock", "taxii_feeds", "campaigns", "campaign_keys", "advisories", "tenants",
	"retro_hunt_queue", // indicator ids; a removed member's indicators are gone, so their hunts are skipped
	"secret_key",       // the server's, not a member's
}

// exportSkip are what an export leaves out: secrets and their hashes, and
// engine state with no meaning outside this server.
var exportSkip = map[string][]string{
	"tokens":             {"hash"},
	"users":              {"password", "totp_secret", "totp_pending"},
	"cloud_sources":      {"sealed_secret"},
	"notify_channels":    {"sealed"},
	"sessions":           nil, // the whole table
	"recovery_codes":     nil,
	"correlation_states": nil,
	"poll_checkpoints":   nil,
	// The audit chain is exported as tarian audit export writes it.
	"audit":             nil,
	"audit_checkpoints": nil,
}

// tenantTable is one table holding rows of a tenant, and how to find them.
type tenantTable struct {
	name  string
	where string // with one ? per use of the tenant
	args  int
}

// tenantTables lists every table with rows of a tenant, children before
// their parents (so deletion meets no foreign key).
func tenantTables(ctx context.Context, q rowQuerier, x *dialect) ([]tenantTable, error) {
	names, err := queryStrings(ctx, q, x.tablesQuery())
	if err != nil {
		return nil, err
	}
	var children, owned []tenantTable
	for _, name := range names {
		if w, ok := childTables[name]; ok {
			children = append(children, tenantTable{name, "(" + w + ")", strings.Count(w, "?")})
			continue
		}
		cols, err := queryStrings(ctx, q, x.columnsQuery(), name)
		if err != nil {
			return nil, err
		}
		var conds []string
		for _, c := range cols {
			if slices.Contains(ownerColumns, c) {
				conds = append(conds, c+" = ?")
			}
		}
		if len(conds) > 0 {
			owned = append(owned, tenantTable{name, "(" + strings.Join(conds, " OR ") + ")", len(conds)})
		}
	}
	return append(children, owned...), nil
}

// rowQuerier is an engine or a txn.
type rowQuerier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

func queryStrings(ctx context.Context, q rowQuerier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func tenantArgs(t tenant.ID, n int) []any {
	args := make([]any, n)
	for i := range args {
		args[i] = string(t)
	}
	return args
}

// RemoveTenant deletes every row of tenant t, in every table, and the
// tenant itself, in one transaction, and returns the rows deleted per
// table (tables with none left out). Provider-wide rows stay, the
// provider's audit chain among them. A tenant created later with the same
// ID gets a new number and starts empty.
func (d *DB) RemoveTenant(ctx context.Context, t tenant.ID) (map[string]int64, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var exists bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM tenants WHERE id = ?)`, string(t)).Scan(&exists); err != nil {
		return nil, fmt.Errorf("remove tenant %s: %w", t, err)
	}
	if !exists {
		return nil, fmt.Errorf("%w: %s", tenant.ErrNotFound, t)
	}
	tables, err := tenantTables(ctx, tx, tx.x)
	if err != nil {
		return nil, fmt.Errorf("remove tenant %s: %w", t, err)
	}
	counts := map[string]int64{}
	// Owned tables refer to each other (a campaign link to an alert, a
	// sighting to an indicator): a table whose rows are still referred to
	// waits for the next round.
	pending := tables
	for round := 0; len(pending) > 0; round++ {
		var failed []tenantTable
		var lastErr error
		for _, tb := range pending {
			// In a savepoint: a failed statement ends a PostgreSQL
			// transaction otherwise.
			var res sql.Result
			err := tx.savepoint(ctx, func() (err error) {
				res, err = tx.ExecContext(ctx, `DELETE FROM `+tb.name+` WHERE `+tb.where, tenantArgs(t, tb.args)...)
				return err
			})
			if err != nil {
				failed, lastErr = append(failed, tb), fmt.Errorf("%s: %w", tb.name, err)
				continue
			}
			if n, _ := res.RowsAffected(); n > 0 {
				counts[tb.name] += n
			}
		}
		if len(failed) == len(pending) {
			return nil, fmt.Errorf("remove tenant %s: %w", t, lastErr)
		}
		pending = failed
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM tenants WHERE id = ?`, string(t)); err != nil {
		return nil, fmt.Errorf("remove tenant %s: %w", t, err)
	}
	counts["tenants"] = 1
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("remove tenant %s: %w", t, err)
	}
	return counts, nil
}

// ExportTenant calls fn with every row of tenant t, table by table (the
// tenant's own record first), as column → value (BLOBs as bytes), leaving
// out secrets and engine state (exportSkip).
func (d *DB) ExportTenant(ctx context.Context, t tenant.ID, fn func(table string, row map[string]any) error) error {
	tx, err := d.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := exportRows(ctx, tx, "tenants", `id = ?`, []any{string(t)}, nil, fn); err != nil {
		return err
	}
	tables, err := tenantTables(ctx, tx, tx.x)
	if err != nil {
		return fmt.Errorf("export tenant %s: %w", t, err)
	}
	slices.SortFunc(tables, func(a, b tenantTable) int { return strings.Compare(a.name, b.name) })
	for _, tb := range tables {
		skip, listed := exportSkip[tb.name]
		if listed && skip == nil {
			continue
		}
		if err := exportRows(ctx, tx, tb.name, tb.where, tenantArgs(t, tb.args), skip, fn); err != nil {
			return err
		}
	}
	return nil
}

func exportRows(ctx context.Context, tx *txn, table, where string, args []any, skip []string, fn func(string, map[string]any) error) error {
	rows, err := tx.QueryContext(ctx, `SELECT * FROM `+table+` WHERE `+where, args...)
	if err != nil {
		return fmt.Errorf("export %s: %w", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("export %s: %w", table, err)
		}
		row := make(map[string]any, len(cols))
		for i, c := range cols {
			if !slices.Contains(skip, c) {
				row[c] = vals[i]
			}
		}
		if err := fn(table, row); err != nil {
			return err
		}
	}
	return rows.Err()
}

// DeleteDeadLettersBefore deletes tenant t's dead letters received before
// before and returns how many.
func (d *DB) DeleteDeadLettersBefore(ctx context.Context, t tenant.ID, before time.Time) (int64, error) {
	res, err := d.db.ExecContext(ctx, `DELETE FROM dead_letters WHERE tenant = ? AND received < ?`, string(t), before.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("delete dead letters of %s: %w", t, err)
	}
	return res.RowsAffected()
}

// tablesQuery lists the tables of the schema, by name.
func (x *dialect) tablesQuery() string {
	if x.postgres {
		return `SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
	}
	return `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
}

// columnsQuery lists the columns of the table bound to its parameter.
func (x *dialect) columnsQuery() string {
	if x.postgres {
		return `SELECT column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`
	}
	return `SELECT name FROM pragma_table_info(?)`
}
