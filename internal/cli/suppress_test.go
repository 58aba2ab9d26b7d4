package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// TestSuppressFromAlert: suppress add --from-alert takes the member, the
// rule and (by default) the host from an alert; --on names other entity
// types or none; a --rule or --tenant that is not the alert's, or an
// entity it lacks, is refused before anything is stored.
func TestSuppressFromAlert(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	s.AddTenant(t, "gwynedd")
	s.JSON(t, "POST", "/api/v1/rules", servertest.AdminToken, map[string]any{"files": []map[string]any{{"name": "r.yml", "data": []byte(casesRule)}}}, nil)
	if status, body := s.Do(t, "POST", "/api/v1/ingest", s.Token(t, "gwynedd", "ingest"), []byte(rundllEvent("pc-7", 1))); status != 200 {
		t.Fatalf("ingest: %d %s", status, body)
	}
	prov := cmdEnv{url: s.URL, token: s.Token(t, "", "provider-analyst")}
	var id string
	for deadline := time.Now().Add(30 * time.Second); id == ""; time.Sleep(50 * time.Millisecond) {
		_, out, _ := prov.run(t, "", "alerts", "list", "--tenant", "gwynedd", "--json")
		var a struct{ ID json.Number }
		if json.Unmarshal([]byte(out), &a) == nil && a.ID != "" {
			id = a.ID.String()
		}
		if time.Now().After(deadline) {
			t.Fatal("no alert after 30 s")
		}
	}
	where := func(out string) string {
		t.Helper()
		var sp struct {
			Tenant, RuleID string
			Where          []struct{ Field, Value string }
		}
		if err := json.Unmarshal([]byte(out), &sp); err != nil {
			t.Fatalf("suppress add --json printed %q: %v", out, err)
		}
		var parts []string
		for _, c := range sp.Where {
			parts = append(parts, c.Field+"="+c.Value)
		}
		return sp.Tenant + " " + strings.Join(parts, ",")
	}
	code, out, errs := prov.run(t, "", "suppress", "add", "--from-alert", id, "--reason", "pc-7 runs the updater", "--expires", "7d", "--json")
	if code != 0 || where(out) != "gwynedd host=pc-7" || !strings.Contains(out, `"rule_id":"3f0c9a1e-0000-4000-8000-00000000c11a"`) {
		t.Errorf("--from-alert: exit %d, %q, %q", code, out, errs)
	}
	if code, out, errs := prov.run(t, "", "suppress", "add", "--from-alert", id, "--on", "host,user", "--reason", "x", "--json"); code != 0 || where(out) != "gwynedd host=pc-7,user=carys" {
		t.Errorf("--on host,user: exit %d, %q, %q", code, out, errs)
	}
	if code, out, errs := prov.run(t, "", "suppress", "add", "--from-alert", id, "--on", "none", "--reason", "x", "--json"); code != 0 || where(out) != "gwynedd " {
		t.Errorf("--on none: exit %d, %q, %q", code, out, errs)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--on", "domain"}, "alert " + id + " has no domain (it has: host, user)"},
		{[]string{"--rule", "0d0d0d0d-0000-4000-8000-00000000dead"}, "is of rule 3f0c9a1e-0000-4000-8000-00000000c11a"},
		{[]string{"--tenant", "powys"}, "is gwynedd's"},
	} {
		args := append([]string{"suppress", "add", "--from-alert", id, "--reason", "x"}, c.args...)
		if code, _, errs := prov.run(t, "", args...); code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %q; want %q", c.args, code, errs, c.want)
		}
	}
	if code, _, errs := prov.run(t, "", "suppress", "add", "--on", "host", "--rule", "r", "--reason", "x"); code != 2 || !strings.Contains(errs, "needs --from-alert") {
		t.Errorf("--on without --from-alert: exit %d, %q", code, errs)
	}
	if _, out, _ := prov.run(t, "", "suppress", "list", "--tenant", "gwynedd", "--json"); strings.Count(out, "\n") != 3 {
		t.Errorf("suppressions stored: %q, want the three added", out)
	}
}
