package sqlstore

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/audit"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/incident"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// TestEveryTableIsReached fails when a migration adds a table that
// offboarding would not reach: give it a tenant (or owner) column, or add
// it to childTables (rows of a tenant's row) or sharedTables.
func TestEveryTableIsReached(t *testing.T) { backends(t, testEveryTableIsReached) }

func testEveryTableIsReached(t *testing.T, open func(testing.TB) *DB) {
	db := open(t)
	names, err := queryStrings(t.Context(), db.db, db.db.x.tablesQuery())
	if err != nil {
		t.Fatal(err)
	}
	tables, err := tenantTables(t.Context(), db.db, db.db.x)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if slices.Contains(sharedTables, n) || slices.ContainsFunc(tables, func(tb tenantTable) bool { return tb.name == n }) {
			continue
		}
		t.Errorf("table %s: neither a tenant's (no tenant or owner column, not in childTables) nor in sharedTables", n)
	}
	for n := range childTables {
		if !slices.Contains(names, n) {
			t.Errorf("childTables names %s, which the schema does not have", n)
		}
	}
}

// populate gives tenant tn a token, a user, dead letters, a case with an
// alert, and audit records.
func populate(t *testing.T, ctx context.Context, db *DB, tn tenant.ID, at time.Time) {
	t.Helper()
	if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: tn, Name: string(tn), Created: at}); err != nil {
		t.Fatal(err)
	}
	_, id, hash := auth.NewSecret()
	if err := db.CreateToken(ctx, auth.Token{ID: id, Tenant: tn, Role: auth.RoleIngest, Name: "shipper", Hash: hash, Created: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, auth.User{Name: string(tn) + "-lead", Tenant: tn, Role: auth.RoleTenantAdmin, PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	dls := []ingest.DeadLetter{
		{Received: at.Add(-48 * time.Hour), Source: "http", Line: 1, Reason: "old", Data: []byte("{")},
		{Received: at, Source: "http", Line: 2, Reason: "new", Data: []byte("[")},
	}
	if err := db.AddDeadLetters(ctx, tn, dls); err != nil {
		t.Fatal(err)
	}
	c, err := db.CreateCase(ctx, tn, incident.Case{Title: "phish", Severity: "high", TLP: "amber", Status: "new", Author: "a", Created: at, Updated: at})
	if err != nil {
		t.Fatal(err)
	}
	var alertID int64
	err = db.db.execScan(ctx, `INSERT INTO alerts (tenant, producer, rule_id, title, author, level, refs, tags, entities, fields, dedup_key, count, evidence,
		event_time, first_seen, last_seen, received, created, updated, criticality, risk, incident, status, resolution, assignee, note,
		acknowledged, resolved, escalated)
		VALUES (?, 'sigma', 'r1', 't', 'a', 'high', '[]', '[]', '[]', '{}', 'k', 1, '[]', 0, 0, 0, 0, 0, 0, 'normal', 1, 0, 'new', '', '', '', 0, 0, 0)
		RETURNING id`, []any{string(tn)}, &alertID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.ExecContext(ctx, `INSERT INTO alert_events (mark, alert) VALUES (?, ?)`, []byte(string(tn)+"mark"), alertID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.ExecContext(ctx, `INSERT INTO case_alerts (case_id, alert_id) VALUES (?, ?)`, c.ID, alertID); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"search", "alert.ack"} {
		if err := db.Append(ctx, audit.Record{Time: at, Actor: "x", Role: "tenant-admin", Action: a, Scope: string(tn), Detail: "{}"}); err != nil {
			t.Fatal(err)
		}
	}
}

// rowsOf counts tenant tn's rows in every table it has rows in.
func rowsOf(t *testing.T, db *DB, tn tenant.ID) map[string]int64 {
	t.Helper()
	tables, err := tenantTables(t.Context(), db.db, db.db.x)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, tb := range tables {
		var n int64
		if err := db.db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM `+tb.name+` WHERE `+tb.where, tenantArgs(tn, tb.args)...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			out[tb.name] = n
		}
	}
	return out
}

func TestRemoveTenant(t *testing.T) { backends(t, testRemoveTenant) }

func testRemoveTenant(t *testing.T, open func(testing.TB) *DB) {
	ctx := t.Context()
	db := open(t)
	now := time.Now().UTC()
	populate(t, ctx, db, "north-vale", now)
	populate(t, ctx, db, "south-fire", now)
	if err := db.Append(ctx, audit.Record{Time: now, Actor: "p", Role: "provider-admin", Action: "search", Scope: "*", Detail: "{}"}); err != nil {
		t.Fatal(err)
	}
	before := rowsOf(t, db, "south-fire")
	old, _ := db.Tenant(ctx, "north-vale")

	var exported []string
	err := db.ExportTenant(ctx, "north-vale", func(table string, row map[string]any) error {
		exported = append(exported, table)
		if _, ok := row["hash"]; ok && table == "tokens" {
			t.Errorf("export of tokens has the secret's hash")
		}
		if _, ok := row["password"]; ok {
			t.Errorf("export of %s has a password", table)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"tenants", "tokens", "users", "dead_letters", "cases", "alerts", "alert_events", "case_alerts"} {
		if !slices.Contains(exported, want) {
			t.Errorf("export has no %s rows: %v", want, exported)
		}
	}

	counts, err := db.RemoveTenant(ctx, "north-vale")
	if err != nil {
		t.Fatal(err)
	}
	for table, want := range map[string]int64{"tenants": 1, "tokens": 1, "users": 1, "dead_letters": 2, "cases": 1, "alerts": 1, "alert_events": 1, "case_alerts": 1, "audit": 2} {
		if counts[table] != want {
			t.Errorf("deleted %d %s, want %d (all: %v)", counts[table], table, want, counts)
		}
	}
	if left := rowsOf(t, db, "north-vale"); len(left) != 0 {
		t.Errorf("rows of north-vale left: %v", left)
	}
	if after := rowsOf(t, db, "south-fire"); !maps(before, after) {
		t.Errorf("south-fire's rows changed: %v, then %v", before, after)
	}
	if _, err := db.Tenant(ctx, "north-vale"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("tenant still there: %v", err)
	}
	if _, err := db.RemoveTenant(ctx, "north-vale"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("second removal: %v", err)
	}
	// The provider's chain and south-fire's still verify.
	signer, err := audit.NewSigner(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.VerifyAudit(ctx, "", signer.PublicKey()); err != nil {
		t.Errorf("audit trail after removal: %v", err)
	}
	// The same ID again: a new number, nothing of the old.
	again, err := db.CreateTenant(ctx, tenant.Tenant{ID: "north-vale", Name: "again", Created: now})
	if err != nil {
		t.Fatal(err)
	}
	if again.Number == old.Number {
		t.Errorf("re-created tenant has the old number %d", old.Number)
	}
	if left := rowsOf(t, db, "north-vale"); len(left) != 0 {
		t.Errorf("re-created tenant has rows: %v", left)
	}
}

func maps(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestDeleteDeadLettersBefore(t *testing.T) { backends(t, testDeleteDeadLettersBefore) }

func testDeleteDeadLettersBefore(t *testing.T, open func(testing.TB) *DB) {
	ctx := context.Background()
	db := open(t)
	now := time.Now().UTC()
	populate(t, ctx, db, "north-vale", now)
	populate(t, ctx, db, "south-fire", now)
	n, err := db.DeleteDeadLettersBefore(ctx, "north-vale", now.Add(-24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("deleted %d (%v), want 1", n, err)
	}
	for tn, want := range map[tenant.ID]int{"north-vale": 1, "south-fire": 2} {
		dls, err := db.DeadLetters(ctx, tn, 1<<62, 100)
		if err != nil || len(dls) != want {
			t.Errorf("%s keeps %d dead letters (%v), want %d", tn, len(dls), err, want)
		}
	}
}
