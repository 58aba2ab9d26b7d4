package indicators_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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

// TestPatternsCompareAsTheIndex: a pattern evaluated whole compares
// hashes, domain names, e-mail addresses and URLs as the index does, so
// the way a feed spells them (hashes.SHA256, upper-case hex, Evil.Example,
// a default port) does not decide whether an event matches.
func TestPatternsCompareAsTheIndex(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s, _ := newService(t, now)
	sha := "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"
	n := 0
	for _, tc := range []struct {
		pattern string
		event   []event.Field
	}{
		{"[file:hashes.SHA256 = '" + strings.ToUpper(sha) + "' AND file:name = 'dropper.exe']",
			fields("file.name", "dropper.exe", "file.hash.sha256", sha)},
		{"[file:hashes.'sha-1' IN ('DA39A3EE5E6B4B0D3255BFEF95601890AFD80709') AND file:size = 0]",
			fields("file.size", "0", "Hashes", "SHA1=da39a3ee5e6b4b0d3255bfef95601890afd80709")},
		{"[domain-name:value = 'Evil.Example' AND network-traffic:dst_port = 53]",
			fields("dns.question.name", "evil.example", "destination.ip", "192.0.2.1", "destination.port", "53")},
		{"[email-message:from_ref.value = 'Boss@Phish.Example' AND email-message:subject = 'Invoice']",
			fields("email.from.address", "boss@phish.example", "email.subject", "Invoice")},
		{"[url:value = 'HTTP://Bad.Example:80/a' AND network-traffic:dst_port = 80]",
			fields("url.full", "http://bad.example/a", "destination.ip", "192.0.2.2", "destination.port", "80")},
	} {
		n++
		i := intel.Indicator{ID: testID(n), Pattern: tc.pattern, TLP: intel.TLPAmber, Confidence: 90,
			ValidFrom: now.Add(-time.Hour), Created: now.Add(-time.Hour), Modified: now.Add(-time.Hour), Owner: "a"}
		if _, err := s.Import(ctx, intel.Batch{Indicators: []intel.Indicator{i}}); err != nil {
			t.Fatal(err)
		}
		if got := matchRules(s, "a", tc.event); len(got) != 1 || got[0] != "intel intel:"+i.ID+" critical" {
			t.Errorf("%s: matches %v", tc.pattern, got)
		}
	}
	// LIKE and MATCHES keep the author's case.
	i := intel.Indicator{ID: testID(99), Pattern: "[domain-name:value MATCHES '^EVIL' AND network-traffic:dst_port = 53]", TLP: intel.TLPAmber,
		ValidFrom: now.Add(-time.Hour), Created: now.Add(-time.Hour), Modified: now.Add(-time.Hour), Owner: "a"}
	if _, err := s.Import(ctx, intel.Batch{Indicators: []intel.Indicator{i}}); err != nil {
		t.Fatal(err)
	}
	if got := matchRules(s, "a", fields("dns.question.name", "evil.example", "destination.ip", "192.0.2.1", "destination.port", "53")); len(got) != 1 {
		t.Errorf("matches %v, want only the = pattern", got)
	}
}

// testID is a STIX indicator id numbered n.
func testID(n int) string {
	return fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", n)
}

// TestSightingsCountedOnce: importing the same feed again (a STIX
// sighting version already kept, a MISP event's sightings that are
// already counted) adds no sightings; a MISP event with more adds only
// the new ones.
func TestSightingsCountedOnce(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := indicators.DefaultConfig()
	cfg.RetroHunt = 0
	s, err := indicators.New(ctx, cfg, indicators.Deps{Store: db, Objects: db, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ind := intel.Indicator{ID: testID(1), Observables: []intel.Observable{{Type: intel.TypeDomain, Value: "evil.example"}}, TLP: intel.TLPAmber,
		ValidFrom: now.Add(-time.Hour), Created: now.Add(-time.Hour), Modified: now.Add(-time.Hour)}
	sid := "sighting--00000000-0000-4000-8000-000000000001"
	feed := func(modified time.Time, count int) intel.Batch {
		return intel.Batch{
			Indicators: []intel.Indicator{ind},
			Objects: []intel.Object{{ID: sid, Type: "sighting", Modified: modified, SpecVersion: "2.1", TLP: intel.TLPAmber,
				JSON: []byte(`{"type":"sighting","id":"` + sid + `"}`)}},
			Sightings: []intel.Sighting{{IndicatorID: ind.ID, FirstSeen: modified, LastSeen: modified, Count: count, Source: "feed",
				ObjectID: sid, ObjectVersion: modified}},
		}
	}
	misp := func(count int) intel.Batch {
		return intel.Batch{Indicators: []intel.Indicator{ind}, Sightings: []intel.Sighting{{IndicatorID: ind.ID, FirstSeen: now, LastSeen: now, Count: count, Source: "misp:CERT", Total: true}}}
	}
	counts := func() map[string]int {
		ss, err := db.Sightings(ctx, ind.ID, "", true)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int{}
		for _, x := range ss {
			m[x.Source] = x.Count
		}
		return m
	}
	v1 := now.Add(-time.Hour)
	for _, step := range []struct {
		b    intel.Batch
		want map[string]int
	}{
		{feed(v1, 2), map[string]int{"feed": 2}},
		{feed(v1, 2), map[string]int{"feed": 2}},  // the same version again
		{feed(now, 1), map[string]int{"feed": 3}}, // a new version: a new report
		{misp(2), map[string]int{"feed": 3, "misp:CERT": 2}},
		{misp(2), map[string]int{"feed": 3, "misp:CERT": 2}}, // the same event again
		{misp(3), map[string]int{"feed": 3, "misp:CERT": 3}}, // one more sighting
	} {
		if _, err := s.Import(ctx, step.b); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(step.want, counts()); d != "" {
			t.Fatalf("sightings (-want +got):\n%s", d)
		}
	}
}

// TestImportFileNamesTheFileOnce: a file the importers refuse is named
// once in the error, whether or not the format detector named it.
func TestImportFileNamesTheFileOnce(t *testing.T) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, tc := range []struct{ parseErr, want string }{
		{"bad.json: text that is not JSON", "bad.json: text that is not JSON"},
		{"stix: invalid character", "bad.json: stix: invalid character"},
	} {
		s, err := indicators.New(ctx, indicators.DefaultConfig(), indicators.Deps{Store: db, Formats: indicators.Formats{
			Parse: func(string, []byte, intel.ImportOptions) (intel.Batch, error) {
				return intel.Batch{}, errors.New(tc.parseErr)
			},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ImportFile(ctx, "bad.json", []byte("x"), intel.ImportOptions{}); err == nil || err.Error() != tc.want {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

// TestDefaultTLPAsWritten: intel.default_tlp is read as people write a
// level ("TLP:GREEN"), and an indicator added without one gets it as a
// level, not as the text.
func TestDefaultTLPAsWritten(t *testing.T) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := indicators.DefaultConfig()
	cfg.RetroHunt, cfg.DefaultTLP = 0, "TLP:GREEN"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := indicators.New(ctx, cfg, indicators.Deps{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	i, err := s.Add(ctx, intel.Indicator{Observables: []intel.Observable{{Type: intel.TypeDomain, Value: "evil.example"}}})
	if err != nil || i.TLP != intel.TLPGreen {
		t.Errorf("added without a TLP: %q, %v; want %q", i.TLP, err, intel.TLPGreen)
	}
}

// TestSharedSightingsK: anonymised sightings are off (0) or need at least
// three members; at two, each would learn the other saw the indicator.
func TestSharedSightingsK(t *testing.T) {
	for k, ok := range map[int]bool{0: true, 1: false, 2: false, 3: true, 10: true, -1: false} {
		cfg := indicators.DefaultConfig()
		cfg.SharedSightingsK = k
		if err := cfg.Validate(); (err == nil) != ok {
			t.Errorf("shared_sightings_k %d: %v, want ok %v", k, err, ok)
		}
	}
	if k := indicators.DefaultConfig().SharedSightingsK; k != 3 {
		t.Errorf("default shared_sightings_k %d, want 3", k)
	}
}
