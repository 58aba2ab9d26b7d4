package indicators_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/intel/indicators"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// benign is a warning list of one value.
type benign string

func (b benign) Check(t intel.Type, v string) (string, bool) {
	return "test-list", t == intel.TypeIPv4 && v == string(b)
}

func newService(t *testing.T, now time.Time) (*indicators.Service, *sqlstore.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, id := range []tenant.ID{"a", "b"} {
		if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: id, Name: string(id)}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := indicators.DefaultConfig()
	cfg.RetroHunt = 0
	s, err := indicators.New(ctx, cfg, indicators.Deps{Store: db, Warnings: benign("8.8.8.8"), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return s, db
}

func fields(kv ...string) []event.Field {
	var fs []event.Field
	for i := 0; i+1 < len(kv); i += 2 {
		fs = append(fs, event.Field{Name: kv[i], Value: kv[i+1]})
	}
	return fs
}

func matchRules(s *indicators.Service, t tenant.ID, fs []event.Field) []string {
	var out []string
	for _, d := range s.Match(context.Background(), t, fs, func() alert.Detection { return alert.Detection{EventRef: "1:0"} }) {
		out = append(out, string(d.Producer)+" "+d.RuleID+" "+d.Level)
	}
	return out
}

func TestServiceMatchesValuesAndPatterns(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s, _ := newService(t, now)
	// A value, a warning-listed value, and a pattern the index cannot hold.
	v, err := s.Add(ctx, intel.Indicator{Observables: []intel.Observable{{Type: intel.TypeIPv4, Value: "203.0.113.9"}}, Confidence: 90})
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Add(ctx, intel.Indicator{Observables: []intel.Observable{{Type: intel.TypeIPv4, Value: "8.8.8.8"}}})
	if err != nil || w.Observables[0].Warninglist != "test-list" {
		t.Fatalf("warning-listed add = %+v, %v", w, err)
	}
	pat := intel.Indicator{ID: "indicator--00000000-0000-4000-8000-000000000001", Pattern: "[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 4444]",
		TLP: intel.TLPAmber, Confidence: 40, ValidFrom: now.Add(-time.Hour), Created: now.Add(-time.Hour), Modified: now.Add(-time.Hour), Owner: "b"}
	sum, err := s.Import(ctx, intel.Batch{Indicators: []intel.Indicator{pat}})
	if err != nil || sum.Imported != 1 {
		t.Fatalf("import: %+v, %v", sum, err)
	}
	if sum, _ := s.Import(ctx, intel.Batch{Indicators: []intel.Indicator{pat}}); sum.Unchanged != 1 || sum.Imported != 0 {
		t.Errorf("the same version again: %+v, want unchanged", sum)
	}

	if got := matchRules(s, "a", fields("destination.ip", "203.0.113.9")); len(got) != 1 || got[0] != "intel intel:"+v.ID+" critical" {
		t.Errorf("value match = %v", got)
	}
	if got := matchRules(s, "a", fields("destination.ip", "8.8.8.8")); len(got) != 0 {
		t.Errorf("a warning-listed value alerted: %v", got)
	}
	conn := fields("destination.ip", "198.51.100.7", "destination.port", "4444", "source.ip", "10.0.0.5")
	if got := matchRules(s, "b", conn); len(got) != 1 || got[0] != "intel intel:"+pat.ID+" medium" {
		t.Errorf("pattern match at b = %v", got)
	}
	if got := matchRules(s, "a", conn); len(got) != 0 {
		t.Errorf("b's pattern matched at a: %v", got)
	}
	if got := matchRules(s, "b", fields("destination.ip", "198.51.100.7", "destination.port", "443")); len(got) != 0 {
		t.Errorf("pattern matched the wrong port: %v", got)
	}

	// Revocation: the owner only; then nothing matches.
	if _, err := s.Revoke(ctx, pat.ID, "a", false); err == nil {
		t.Error("a revoked b's indicator")
	}
	if _, err := s.Revoke(ctx, pat.ID, "b", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Revoke(ctx, v.ID, "", true); err != nil {
		t.Fatal(err)
	}
	if got := matchRules(s, "b", conn); len(got) != 0 {
		t.Errorf("revoked pattern still matches: %v", got)
	}
	if got := matchRules(s, "a", fields("destination.ip", "203.0.113.9")); len(got) != 0 {
		t.Errorf("revoked value still matches: %v", got)
	}
	// A restart loads what is stored: revoked ones stay out.
	if s.Len() != 1 {
		t.Errorf("Len = %d, want the warning-listed one only", s.Len())
	}
	if _, err := s.Get(ctx, pat.ID, "a", false); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("a reads b's indicator: %v", err)
	}
}
