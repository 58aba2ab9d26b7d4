package detect

import (
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/sigma"
)

func parseFiles(t *testing.T, files ...[2]string) []*sigma.Rule {
	t.Helper()
	var rules []*sigma.Rule
	for _, f := range files {
		rs, err := sigma.Parse(f[0], []byte(f[1]))
		if err != nil {
			t.Fatalf("parse %s: %v", f[0], err)
		}
		rules = append(rules, rs...)
	}
	return rules
}

func matches(t *testing.T, e *Engine, event string) []Match {
	t.Helper()
	var out []Match
	if err := e.Evaluate([]byte(event), func(m Match) { out = append(out, m) }); err != nil {
		t.Fatal(err)
	}
	return out
}

// A rule given again with the same id (a new version imported from
// another file, or a later document) replaces the earlier one: both ran,
// each raising its own alert for the same event.
func TestSameIDLaterRuleReplacesEarlier(t *testing.T) {
	old := "title: whoami v1\nid: r-1\nlevel: low\nlogsource: {product: windows, category: process_creation}\ndetection:\n  s: {Image|endswith: '\\whoami.exe'}\n  condition: s\n" +
		"---\ntitle: other\nid: r-2\nlogsource: {product: windows, category: process_creation}\ndetection:\n  s: {Image|endswith: '\\other.exe'}\n  condition: s\n"
	newer := "title: whoami v2\nid: r-1\nlevel: high\nlogsource: {product: windows, category: process_creation}\ndetection:\n  s: {Image|endswith: '\\whoami.exe'}\n  condition: s\n"
	e, err := Compile(parseFiles(t, [2]string{"old.yml", old}, [2]string{"new.yml", newer}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ms := matches(t, e, ev(`"Image":"C:\\whoami.exe"`))
	if len(ms) != 1 || ms[0].Title != "whoami v2" || ms[0].Level != "high" {
		t.Fatalf("matches = %+v, want whoami v2 alone", ms)
	}
	if e.Rules() != 2 {
		t.Errorf("Rules() = %d, want 2", e.Rules())
	}
	sk := e.Skipped()
	if len(sk) != 1 || sk[0].Rule.Title != "whoami v1" || sk[0].ReplacedBy == nil || sk[0].ReplacedBy.File != "new.yml" ||
		!strings.Contains(sk[0].Reason, "new.yml:1") {
		t.Fatalf("skipped = %+v", sk)
	}
	if !fires(t, e, ev(`"Image":"C:\\other.exe"`)) {
		t.Error("the other rule of the old file stopped")
	}
}

// A correlation given again replaces the earlier one too: two with one id
// shared their windows and both fired.
func TestSameIDCorrelationReplaced(t *testing.T) {
	base := "title: failed\nid: b-1\nname: failed\nlogsource: {product: windows, service: security}\ndetection:\n  s: {EventID: 4625}\n  condition: s\n"
	corr := func(title string, gte int) string {
		return "title: " + title + "\nid: c-1\ncorrelation:\n  type: event_count\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 10m\n  condition: {gte: " + string(rune('0'+gte)) + "}\n"
	}
	e, err := Compile(parseFiles(t, [2]string{"a.yml", base + "---\n" + corr("v1", 3)}, [2]string{"b.yml", corr("v2", 2)}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := NewState()
	var got []string
	for i, ts := range []string{"01:00:00", "01:01:00", "01:02:00"} {
		raw := `{"Channel":"Security","EventID":4625,"IpAddress":"192.0.2.1","TimeCreated":"2026-12-07T` + ts + `Z","n":` + string(rune('0'+i)) + `}`
		if err := e.EvaluateWith(st, []byte(raw), func(m Match) { got = append(got, m.Title) }); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(got, ",") != "v2" {
		t.Fatalf("correlation matches = %v, want [v2]", got)
	}
}

// Retiring a rule: import it again with status deprecated (or
// unsupported). It is listed as not evaluated, and a filter retired the
// same way no longer applies.
func TestRetiredStatusNotEvaluated(t *testing.T) {
	rule := "title: whoami\nid: r-1\nstatus: %s\nlogsource: {product: windows, category: process_creation}\ndetection:\n  s: {Image|endswith: '\\whoami.exe'}\n  condition: s\n"
	for _, status := range []string{"deprecated", "Unsupported"} {
		e, err := Compile(parseFiles(t, [2]string{"r.yml", strings.Replace(rule, "%s", status, 1)}), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if fires(t, e, ev(`"Image":"C:\\whoami.exe"`)) {
			t.Errorf("status %s: the rule still fires", status)
		}
		if sk := e.Skipped(); len(sk) != 1 || !strings.Contains(sk[0].Reason, "retired") {
			t.Errorf("status %s: skipped = %+v", status, sk)
		}
	}
	e := compileRules(t, strings.Replace(rule, "%s", "test", 1), Options{})
	filter := "title: lab\nid: f-1\nstatus: %s\nlogsource: {product: windows}\nfilter:\n  rules: [r-1]\n  lab: {Computer|startswith: LAB-}\n  condition: not lab\n"
	lab := ev(`"Image":"C:\\whoami.exe","Computer":"LAB-1"`)
	if fires(t, e.WithFilters(parseFiles(t, [2]string{"f.yml", strings.Replace(filter, "%s", "test", 1)})), lab) {
		t.Fatal("the filter does not apply")
	}
	retiredFilter := e.WithFilters(parseFiles(t, [2]string{"f.yml", strings.Replace(filter, "%s", "deprecated", 1)}))
	if !fires(t, retiredFilter, lab) {
		t.Error("a retired filter still applies")
	}
	if sk := retiredFilter.Skipped(); len(sk) != 1 || !strings.Contains(sk[0].Reason, "retired") {
		t.Errorf("retired filter: skipped = %+v", sk)
	}
}

// A filter whose rules are all unknown (a mistyped id) excludes nothing:
// it is listed as skipped with the reason rather than accepted silently.
func TestFilterForUnknownRuleReported(t *testing.T) {
	e := compileRules(t, "title: whoami\nid: r-1\nlogsource: {product: windows, category: process_creation}\ndetection:\n  s: {Image|endswith: '\\whoami.exe'}\n  condition: s\n", Options{})
	f := e.WithFilters(parseFiles(t, [2]string{"f.yml", "title: lab\nlogsource: {product: windows}\nfilter:\n  rules: [r-l]\n  lab: {Computer|startswith: LAB-}\n  condition: not lab\n"}))
	sk := f.Skipped()
	if len(sk) != 1 || !strings.Contains(sk[0].Reason, `"r-l"`) || !strings.Contains(sk[0].Reason, "excludes nothing") {
		t.Fatalf("skipped = %+v", sk)
	}
	// Naming a known rule as well is no mistake to report.
	f = e.WithFilters(parseFiles(t, [2]string{"f.yml", "title: lab\nlogsource: {product: windows}\nfilter:\n  rules: [r-1, other]\n  lab: {Computer|startswith: LAB-}\n  condition: not lab\n"}))
	if len(f.Skipped()) != 0 {
		t.Fatalf("skipped = %+v", f.Skipped())
	}
}

// Retiring a correlation does not turn its building blocks into rules of
// their own: a rule it refers to stays silent, as while it ran.
func TestRetiredCorrelationKeepsItsRulesSilent(t *testing.T) {
	src := "title: failed\nid: b-1\nname: failed\nlogsource: {product: windows, service: security}\ndetection:\n  s: {EventID: 4625}\n  condition: s\n" +
		"---\ntitle: spray\nid: c-1\nstatus: deprecated\ncorrelation:\n  type: event_count\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 10m\n  condition: {gte: 1}\n"
	e, err := Compile(parseFiles(t, [2]string{"r.yml", src}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := NewState()
	n := 0
	if err := e.EvaluateWith(st, []byte(`{"Channel":"Security","EventID":4625,"IpAddress":"192.0.2.1"}`), func(Match) { n++ }); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d matches, want none", n)
	}
}
