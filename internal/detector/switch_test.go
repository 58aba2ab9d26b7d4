package detector_test

import (
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// A correlation switched off for one tenant raises nothing there, and
// matches seen meanwhile do not count once it is on again; the other
// tenant is unaffected. A base rule switched off still feeds the
// correlation, and stays as silent as before.
func TestCorrelationSwitchedOff(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	s.AddTenant(t, "council-a")
	s.AddTenant(t, "council-b")
	importRules(t, s, map[string]string{"spray.yml": sprayRule})
	const base, corr = "0a1b2c3d-0000-4000-8000-000000000001", "0a1b2c3d-0000-4000-8000-000000000002"
	adminA := s.Token(t, "council-a", "tenant-admin")
	ingA, ingB := s.Token(t, "council-a", "ingest"), s.Token(t, "council-b", "ingest")
	switchRule := func(id, how string) {
		t.Helper()
		if status, body := s.Do(t, "POST", "/api/v1/rules/"+id+"/"+how, adminA, nil); status != 200 {
			t.Fatalf("%s %s: %d %s", how, id, status, body)
		}
	}
	switchRule(corr, "disable")
	for _, ing := range []string{ingA, ingB} {
		ingest(t, s, ing, failed("192.0.2.1", "u1", "01:00:00"), failed("192.0.2.1", "u2", "01:01:00"), failed("192.0.2.1", "u3", "01:02:00"))
	}
	waitDetected(t, s)
	if a := alerts(t, s, servertest.AdminToken, "council-a", 0); len(a) != 0 {
		t.Errorf("the correlation switched off raised %+v", a)
	}
	if b := alerts(t, s, servertest.AdminToken, "council-b", 1); len(b) != 1 || b[0].RuleID != corr {
		t.Errorf("council-b alerts = %+v, want the correlation's", b)
	}

	// Two failures while off, one once on again: no window of three.
	ingest(t, s, ingA, failed("192.0.2.2", "u1", "02:00:00"), failed("192.0.2.2", "u2", "02:01:00"))
	waitDetected(t, s)
	switchRule(corr, "enable")
	ingest(t, s, ingA, failed("192.0.2.2", "u3", "02:02:00"))
	waitDetected(t, s)
	if a := alerts(t, s, servertest.AdminToken, "council-a", 0); len(a) != 0 {
		t.Errorf("failures seen while the correlation was off counted once on: %+v", a)
	}
	ingest(t, s, ingA, failed("192.0.2.2", "u4", "02:03:00"), failed("192.0.2.2", "u5", "02:04:00"))
	if a := alerts(t, s, servertest.AdminToken, "council-a", 1); len(a) != 1 || a[0].RuleID != corr || a[0].Fields["IpAddress"] != "192.0.2.2" {
		t.Errorf("alerts once on again = %+v, want the correlation's for 192.0.2.2", a)
	}

	// The base rule off: its matches still count for the correlation, and
	// it raises nothing of its own.
	switchRule(base, "disable")
	ingest(t, s, ingA, failed("192.0.2.3", "u1", "03:00:00"), failed("192.0.2.3", "u2", "03:01:00"), failed("192.0.2.3", "u3", "03:02:00"))
	got := alerts(t, s, servertest.AdminToken, "council-a", 2)
	if len(got) != 2 {
		t.Fatalf("alerts with the base rule off = %+v, want the correlation's two", got)
	}
	for _, a := range got {
		if a.RuleID != corr {
			t.Errorf("alert of %s (%s), want only the correlation's", a.RuleID, a.Title)
		}
	}
}

// A rule without an id is refused with its file, line and why: keyed by
// its file's name, it would run twice once moved, and could not be
// switched off or deleted.
func TestRuleWithoutIDRefused(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	s.AddTenant(t, "council-a")
	noID := strings.Replace(sprayRule, "id: 0a1b2c3d-0000-4000-8000-000000000002\n", "", 1)
	res := importRules(t, s, map[string]string{"spray.yml": noID, "shadow.yml": shadowRule})
	if res["imported"] != float64(1) {
		t.Errorf("import = %v, want shadow.yml alone", res)
	}
	failed, _ := res["failed"].([]any)
	if len(failed) != 1 {
		t.Fatalf("failed = %v, want spray.yml", failed)
	}
	f := failed[0].(map[string]any)
	if f["file"] != "spray.yml" || f["line"] != float64(15) || !strings.Contains(f["reason"].(string), `"Password spray from one address" has no id`) ||
		!strings.Contains(f["reason"].(string), "add one, for example 'id: ") {
		t.Errorf("failure = %v", f)
	}
	for _, r := range listRules(t, s, servertest.AdminToken, "") {
		if r.ID == "" || strings.HasPrefix(r.Title, "Failed logon") {
			t.Errorf("listed: %+v", r)
		}
	}
	// A tenant's filter document too.
	admin := s.Token(t, "council-a", "tenant-admin")
	s.JSON(t, "POST", "/api/v1/rules", admin, map[string]any{"files": []map[string]any{{"name": "helpdesk.yml", "data": []byte(strings.Replace(whoamiFilter, "id: 3e1d2c4b-0000-4000-8000-0000000000f1\n", "", 1))}}}, &res)
	if failed, _ := res["failed"].([]any); len(failed) != 1 || !strings.Contains(failed[0].(map[string]any)["reason"].(string), "has no id") {
		t.Errorf("filter without id: %v", res)
	}
}
