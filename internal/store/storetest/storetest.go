// Package storetest is the conformance suite every state-store backend
// passes: tenants, tokens, dead letters, audit, checkpoints and alerts,
// with cross-tenant isolation on every read.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/audit"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/detector"
	"github.com/tarian-soc/tarian/internal/incident"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/intel/indicators"
	"github.com/tarian-soc/tarian/internal/savedsearch"
	"github.com/tarian-soc/tarian/internal/store"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Store is everything a state-store backend provides.
type Store interface {
	CreateTenant(ctx context.Context, t tenant.Tenant) (tenant.Tenant, error)
	Tenant(ctx context.Context, id tenant.ID) (tenant.Tenant, error)
	Tenants(ctx context.Context) ([]tenant.Tenant, error)
	CreateToken(ctx context.Context, tok auth.Token) error
	TokenByHash(ctx context.Context, hash []byte) (auth.Token, error)
	CountTokens(ctx context.Context) (int, error)
	AddDeadLetters(ctx context.Context, t tenant.ID, dls []ingest.DeadLetter) error
	DeadLetters(ctx context.Context, t tenant.ID, before int64, limit int) ([]ingest.DeadLetter, error)
	Append(ctx context.Context, r audit.Record) error
	AuditRecords(ctx context.Context, scope string, limit int) ([]audit.Record, error)
	Checkpoint(ctx context.Context, name string) (store.Checkpoint, error)
	SetCheckpoint(ctx context.Context, name string, c store.Checkpoint) error
	ClaimSecretKey(ctx context.Context, keyID string) error
	detector.Store
	alert.Backend
	incident.Store
	indicators.Store
	savedsearch.Store
}

// Run runs the suite; open returns a new, empty store.
func Run(t *testing.T, open func(t *testing.T) Store) {
	t.Run("Tenants", func(t *testing.T) { testTenants(t, open(t)) })
	t.Run("Tokens", func(t *testing.T) { testTokens(t, open(t)) })
	t.Run("DeadLetters", func(t *testing.T) { testDeadLetters(t, open(t)) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, open(t)) })
	t.Run("Checkpoints", func(t *testing.T) { testCheckpoints(t, open(t)) })
	t.Run("SecretKey", func(t *testing.T) { testSecretKey(t, open(t)) })
	t.Run("Alerts", func(t *testing.T) { TestAlerts(t, func(t *testing.T) AlertStore { return open(t) }) })
	t.Run("Rules", func(t *testing.T) { testRules(t, open(t)) })
	t.Run("Progress", func(t *testing.T) { testProgress(t, open(t)) })
	t.Run("Cases", func(t *testing.T) { TestCases(t, func(t *testing.T) CaseStore { return open(t) }) })
	t.Run("Intel", func(t *testing.T) { TestIntel(t, func(t *testing.T) IntelStore { return open(t) }) })
	t.Run("SavedSearches", func(t *testing.T) { testSavedSearches(t, open(t)) })
	t.Run("IndicatorOwnership", func(t *testing.T) { TestIndicatorOwnership(t, func(t *testing.T) IntelStore { return open(t) }) })
}

func mustTenant(t *testing.T, s Store, id tenant.ID) tenant.Tenant {
	t.Helper()
	tn, err := s.CreateTenant(context.Background(), tenant.Tenant{ID: id, Name: "Council " + string(id)})
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

func testTenants(t *testing.T, s Store) {
	ctx := context.Background()
	a := mustTenant(t, s, "council-a")
	b := mustTenant(t, s, "council-b")
	if a.Number == 0 || b.Number == 0 || a.Number == b.Number {
		t.Errorf("numbers %d, %d: want distinct and non-zero", a.Number, b.Number)
	}
	if _, err := s.CreateTenant(ctx, tenant.Tenant{ID: "council-a", Name: "again"}); !errors.Is(err, tenant.ErrExists) {
		t.Errorf("duplicate tenant: err = %v, want ErrExists", err)
	}
	got, err := s.Tenant(ctx, "council-b")
	if err != nil || got.Number != b.Number || got.Name != "Council council-b" {
		t.Errorf("Tenant(council-b) = %+v, %v", got, err)
	}
	if _, err := s.Tenant(ctx, "nobody"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("missing tenant: err = %v, want ErrNotFound", err)
	}
	all, err := s.Tenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].ID != "council-a" || all[1].ID != "council-b" {
		t.Errorf("Tenants = %+v", all)
	}
}

func testTokens(t *testing.T, s Store) {
	ctx := context.Background()
	mustTenant(t, s, "council-a")
	secret, id, hash := auth.NewSecret()
	tok := auth.Token{ID: id, Tenant: "council-a", Role: auth.RoleIngest, Name: "fw", Hash: hash, Created: time.Unix(100, 0).UTC()}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	got, err := s.TokenByHash(ctx, auth.Hash(secret))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tok, got); diff != "" {
		t.Errorf("token (-want +got):\n%s", diff)
	}
	if _, err := s.TokenByHash(ctx, auth.Hash(secret+"x")); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("wrong secret: err = %v, want ErrNotFound", err)
	}
	_, id2, hash2 := auth.NewSecret()
	if err := s.CreateToken(ctx, auth.Token{ID: id2, Tenant: "nobody", Role: auth.RoleIngest, Hash: hash2}); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("token for missing tenant: err = %v, want ErrNotFound", err)
	}
	_, id3, hash3 := auth.NewSecret()
	if err := s.CreateToken(ctx, auth.Token{ID: id3, Role: auth.RoleProviderAdmin, Hash: hash3}); err != nil {
		t.Errorf("provider token: %v", err)
	}
	if n, err := s.CountTokens(ctx); err != nil || n != 2 {
		t.Errorf("CountTokens = %d, %v; want 2", n, err)
	}
}

func testDeadLetters(t *testing.T, s Store) {
	ctx := context.Background()
	mustTenant(t, s, "council-a")
	mustTenant(t, s, "council-b")
	now := time.Unix(1700000000, 0).UTC()
	var dls []ingest.DeadLetter
	for i := 1; i <= 5; i++ {
		dls = append(dls, ingest.DeadLetter{Received: now, Source: "http", Line: i, Reason: "invalid JSON", Data: fmt.Appendf(nil, "bad %d", i)})
	}
	if err := s.AddDeadLetters(ctx, "council-a", dls); err != nil {
		t.Fatal(err)
	}
	got, err := s.DeadLetters(ctx, "council-a", 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Line != 5 || string(got[0].Data) != "bad 5" || got[0].Reason != "invalid JSON" || !got[0].Received.Equal(now) {
		t.Fatalf("first page = %+v", got)
	}
	more, err := s.DeadLetters(ctx, "council-a", got[2].ID, 10)
	if err != nil || len(more) != 2 || more[1].Line != 1 {
		t.Errorf("second page = %+v, %v", more, err)
	}
	// Cross-tenant: B sees none of A's.
	if other, err := s.DeadLetters(ctx, "council-b", 0, 10); err != nil || len(other) != 0 {
		t.Errorf("council-b sees %d dead letters of council-a (err %v)", len(other), err)
	}
}

func testAudit(t *testing.T, s Store) {
	ctx := context.Background()
	for _, scope := range []string{"*", "council-a", "*"} {
		if err := s.Append(ctx, audit.Record{Actor: "tok1", Role: "provider-analyst", Action: "search", Scope: scope, Detail: "q=*"}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.AuditRecords(ctx, "", 10)
	if err != nil || len(all) != 3 {
		t.Fatalf("AuditRecords = %d, %v", len(all), err)
	}
	stars, err := s.AuditRecords(ctx, "*", 10)
	if err != nil || len(stars) != 2 || stars[0].Action != "search" || stars[0].Time.IsZero() {
		t.Errorf("AuditRecords(*) = %+v, %v", stars, err)
	}
	a, err := s.AuditRecords(ctx, "council-a", 10)
	if err != nil || len(a) != 1 {
		t.Errorf("AuditRecords(council-a) = %+v, %v", a, err)
	}
}

func testCheckpoints(t *testing.T, s Store) {
	ctx := context.Background()
	c, err := s.Checkpoint(ctx, "indexer")
	if err != nil || c != (store.Checkpoint{}) {
		t.Fatalf("new checkpoint = %+v, %v", c, err)
	}
	for _, want := range []store.Checkpoint{{Done: 0, Pending: 10}, {Done: 10, Pending: 10}} {
		if err := s.SetCheckpoint(ctx, "indexer", want); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Checkpoint(ctx, "indexer"); err != nil || got != want {
			t.Errorf("Checkpoint = %+v, %v; want %+v", got, err, want)
		}
	}
	if got, _ := s.Checkpoint(ctx, "other"); got != (store.Checkpoint{}) {
		t.Errorf("other consumer sees %+v", got)
	}
}

// testSecretKey: the first key claimed is the store's; the same key
// claims it again, another is refused.
func testSecretKey(t *testing.T, s Store) {
	ctx := context.Background()
	for _, id := range []string{"c333467176026a5d", "c333467176026a5d"} {
		if err := s.ClaimSecretKey(ctx, id); err != nil {
			t.Fatalf("claim %s: %v", id, err)
		}
	}
	if err := s.ClaimSecretKey(ctx, "0123456789abcdef"); !errors.Is(err, store.ErrSecretKeyDiffers) {
		t.Fatalf("another key: %v, want ErrSecretKeyDiffers", err)
	}
}

func testRules(t *testing.T, s Store) {
	ctx := context.Background()
	mustTenant(t, s, "council-a")
	at := time.Unix(1700000000, 0).UTC()
	files := []detector.RuleFile{{Key: "id-1", Name: "a.yml", Data: []byte("title: a"), Imported: at}, {Key: "id-2", Name: "b.yml", Data: []byte("title: b"), Imported: at}}
	if err := s.PutRuleFiles(ctx, files); err != nil {
		t.Fatal(err)
	}
	files[0].Data = []byte("title: a2")
	if err := s.PutRuleFiles(ctx, files[:1]); err != nil {
		t.Fatal(err)
	}
	got, err := s.RuleFiles(ctx)
	if err != nil || len(got) != 2 || string(got[0].Data) != "title: a2" || !got[1].Imported.Equal(at) {
		t.Fatalf("RuleFiles = %+v, %v", got, err)
	}
	if err := s.SetRuleDisabled(ctx, "council-a", "id-1", true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRuleDisabled(ctx, "council-a", "id-1", true); err != nil {
		t.Errorf("disabling twice: %v", err)
	}
	off, err := s.DisabledRules(ctx)
	if err != nil || !off["council-a"]["id-1"] || len(off) != 1 {
		t.Errorf("DisabledRules = %v, %v", off, err)
	}
	if err := s.SetRuleDisabled(ctx, "council-a", "id-1", false); err != nil {
		t.Fatal(err)
	}
	if off, _ := s.DisabledRules(ctx); len(off) != 0 {
		t.Errorf("after enabling: %v", off)
	}

	// Filters and placeholders are per tenant.
	mustTenant(t, s, "council-b")
	if err := s.PutTenantFilterFiles(ctx, "council-a", []detector.RuleFile{{Key: "f1", Name: "f.yml", Data: []byte("filter: a"), Imported: at}}); err != nil {
		t.Fatal(err)
	}
	ff, err := s.TenantFilterFiles(ctx)
	if err != nil || len(ff) != 1 || len(ff["council-a"]) != 1 || string(ff["council-a"][0].Data) != "filter: a" {
		t.Errorf("TenantFilterFiles = %+v, %v", ff, err)
	}
	if err := s.SetPlaceholders(ctx, "council-b", map[string][]string{"Admins": {"alice", "bob"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPlaceholders(ctx, "council-b", map[string][]string{"Admins": {"carol"}}); err != nil {
		t.Fatal(err)
	}
	ph, err := s.Placeholders(ctx)
	if err != nil || len(ph) != 1 || fmt.Sprint(ph["council-b"]["Admins"]) != "[carol]" {
		t.Errorf("Placeholders = %v, %v", ph, err)
	}
}

func testProgress(t *testing.T, s Store) {
	ctx := context.Background()
	mustTenant(t, s, "council-a")
	mustTenant(t, s, "council-b")
	if err := s.SaveProgress(ctx, "detector", store.Checkpoint{Done: 5, Pending: 5}, map[tenant.ID][]byte{"council-a": []byte("A1"), "council-b": []byte("B1")}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveProgress(ctx, "detector", store.Checkpoint{Done: 9, Pending: 9}, map[tenant.ID][]byte{"council-a": []byte("A2")}); err != nil {
		t.Fatal(err)
	}
	cp, err := s.Checkpoint(ctx, "detector")
	if err != nil || cp.Done != 9 {
		t.Errorf("checkpoint = %+v, %v", cp, err)
	}
	st, err := s.CorrelationStates(ctx, "detector")
	if err != nil || string(st["council-a"]) != "A2" || string(st["council-b"]) != "B1" {
		t.Errorf("states = %q, %v", st, err)
	}
	if other, _ := s.CorrelationStates(ctx, "other"); len(other) != 0 {
		t.Errorf("another consumer sees %q", other)
	}
}
