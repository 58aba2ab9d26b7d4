package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/detector"
	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// TestRulesLogSourceSummary imports rules of three log sources (two that
// Tarian maps, one it does not) and checks that `rules import` and `rules
// list` say per log source how many rules run and why the others do not.
func TestRulesLogSourceSummary(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	admin := cmdEnv{url: s.URL, token: servertest.AdminToken}
	dir := t.TempDir()
	rules := map[string]string{
		"win.yml": "title: whoami\nid: 11111111-1111-4111-8111-111111111111\nlogsource: {product: windows, category: process_creation}\n" +
			"detection:\n  sel: {Image|endswith: '\\whoami.exe'}\n  condition: sel\nlevel: low\n",
		"signin.yml": "title: sign-in blocked\nid: 22222222-2222-4222-8222-222222222222\nlogsource: {product: azure, service: signinlogs}\n" +
			"detection:\n  sel: {ResultType: 53003}\n  condition: sel\nlevel: low\n",
		"jvm1.yml": "title: jvm one\nid: 33333333-3333-4333-8333-333333333333\nlogsource: {product: jvm, category: application}\n" +
			"detection:\n  sel: {message|contains: OutOfMemoryError}\n  condition: sel\nlevel: low\n",
		"jvm2.yml": "title: jvm two\nid: 44444444-4444-4444-8444-444444444444\nlogsource: {product: jvm, category: application}\n" +
			"detection:\n  sel: {message|contains: ClassNotFoundException}\n  condition: sel\nlevel: low\n",
	}
	for name, data := range rules {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, _, errs := admin.run(t, "", "rules", "import", dir)
	if code != 0 {
		t.Fatalf("rules import: %d %s", code, errs)
	}
	for _, want := range []string{
		"jvm/application/-: 2 of 2 rules not evaluated (" + detector.WhyUnmapped + "); 0 active",
		"2 other log sources: 2 rules, every one evaluated",
		"2 rules active, 2 not evaluated here",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("rules import: stderr lacks %q:\n%s", want, errs)
		}
	}

	code, out, errs := admin.run(t, "", "rules", "list", "--summary")
	if code != 0 {
		t.Fatalf("rules list --summary: %d %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "LOG SOURCE") || !strings.HasPrefix(lines[1], "jvm/application/-") ||
		!strings.Contains(lines[1], detector.WhyUnmapped) {
		t.Errorf("rules list --summary:\n%s", out)
	}
	for _, want := range []string{"azure/-/signinlogs", "windows/process_creation/-"} {
		if !strings.Contains(out, want) {
			t.Errorf("rules list --summary lacks %s:\n%s", want, out)
		}
	}

	code, out, _ = admin.run(t, "", "rules", "list", "--summary", "--json")
	if code != 0 {
		t.Fatalf("rules list --summary --json: %d", code)
	}
	got := map[string]detector.LogSourceSummary{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var ls detector.LogSourceSummary
		if err := json.Unmarshal([]byte(l), &ls); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		got[ls.Name()] = ls
	}
	if o := got["jvm/application/-"]; o.Rules != 2 || o.NotEvaluated != 2 || o.Active != 0 || o.Why[detector.WhyUnmapped] != 2 {
		t.Errorf("jvm: %+v", o)
	}
	if a := got["azure/-/signinlogs"]; a.Rules != 1 || a.Active != 1 || a.NotEvaluated != 0 || a.Kind != "detection" {
		t.Errorf("azure sign-ins: %+v", a)
	}

	// The plain list ends with the same table; --json stays one rule a line.
	code, out, _ = admin.run(t, "", "rules", "list")
	if code != 0 || !strings.Contains(out, "TITLE") || !strings.Contains(out, "LOG SOURCE") {
		t.Errorf("rules list: %d\n%s", code, out)
	}
	code, out, _ = admin.run(t, "", "rules", "list", "--json")
	if n := strings.Count(strings.TrimSpace(out), "\n") + 1; code != 0 || n != 4 || !strings.Contains(out, `"product":"jvm"`) {
		t.Errorf("rules list --json: %d, %d lines\n%s", code, n, out)
	}
}

// TestRulesImportNotes: importing a rule again from another file says it
// replaces the stored version, and a tenant's import counts its filter
// documents and names the one that excludes nothing (a mistyped rule id).
func TestRulesImportNotes(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	s.AddTenant(t, "gwynedd")
	admin := cmdEnv{url: s.URL, token: servertest.AdminToken}
	rule := "title: whoami\nid: 11111111-1111-4111-8111-111111111111\nlogsource: {product: windows, category: process_creation}\n" +
		"detection:\n  sel: {Image|endswith: '\\whoami.exe'}\n  condition: sel\nlevel: low\n"
	dir := writeFiles(t, map[string]string{
		"v1/both.yml":   "title: other\nid: 55555555-5555-4555-8555-555555555555\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel: {Image|endswith: '\\other.exe'}\n  condition: sel\n---\n" + rule,
		"v2/whoami.yml": strings.Replace(rule, "level: low", "level: high", 1),
		"f/lab.yml":     "title: lab\nid: 66666666-6666-4666-8666-666666666666\nlogsource: {product: windows}\nfilter:\n  rules: [11111111-1111-4111-8111-111111111111]\n  lab: {Computer|startswith: LAB-}\n  condition: not lab\n",
		"f/typo.yml":    "title: typo\nid: 77777777-7777-4777-8777-777777777777\nlogsource: {product: windows}\nfilter:\n  rules: [11111111-1111-4111-8111-11111111111l]\n  lab: {Computer|startswith: LAB-}\n  condition: not lab\n",
	})
	if code, _, errs := admin.run(t, "", "rules", "import", filepath.Join(dir, "v1")); code != 0 {
		t.Fatalf("rules import v1: %d %s", code, errs)
	}
	code, _, errs := admin.run(t, "", "rules", "import", filepath.Join(dir, "v2"))
	if want := "v2/whoami.yml:1: note: replaces the version of rule 11111111-1111-4111-8111-111111111111 imported earlier from " + filepath.Join(dir, "v1/both.yml"); code != 0 || !strings.Contains(errs, want) {
		t.Errorf("rules import v2: %d, stderr lacks %q:\n%s", code, want, errs)
	}
	if !strings.Contains(errs, "2 rules active, 0 not evaluated") {
		t.Errorf("rules import v2 counts the replaced version:\n%s", errs)
	}
	code, _, errs = admin.run(t, "", "rules", "import", "--tenant", "gwynedd", filepath.Join(dir, "f"))
	for _, want := range []string{
		"typo.yml:1: note: filter is for \"11111111-1111-4111-8111-11111111111l\"",
		"gwynedd has 2 filter documents, 1 applied, 1 not",
	} {
		if code != 0 || !strings.Contains(errs, want) {
			t.Errorf("rules import --tenant: %d, stderr lacks %q:\n%s", code, want, errs)
		}
	}
	code, out, _ := admin.run(t, "", "rules", "list", "--tenant", "gwynedd")
	if code != 0 || !strings.Contains(out, "66666666-6666-4666-8666-666666666666") || !strings.Contains(out, "windows/-/- (filters)") {
		t.Errorf("rules list --tenant does not show the tenant's filters: %d\n%s", code, out)
	}
	if _, out, _ := admin.run(t, "", "rules", "list"); strings.Contains(out, "66666666") || strings.Count(out, "11111111-1111-4111-8111-111111111111") != 1 {
		t.Errorf("rules list:\n%s", out)
	}
}
