package detector_test

import (
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/server/servertest"
)

func failed(ip, user, ts string) string {
	return `{"EventID":4625,"Channel":"Security","Computer":"DC1","TimeCreated":"2026-12-07T` + ts + `Z","IpAddress":"` + ip + `","TargetUserName":"` + user + `"}`
}

type ruleRow struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Kind    string `json:"kind"`
	Skipped string `json:"skipped"`
	Tenant  string `json:"tenant"`
}

func listRules(t *testing.T, s *servertest.Server, token, tenant string) []ruleRow {
	t.Helper()
	var out struct {
		Rules []ruleRow `json:"rules"`
	}
	path := "/api/v1/rules"
	if tenant != "" {
		path += "?tenant=" + tenant
	}
	s.JSON(t, "GET", path, token, nil, &out)
	return out.Rules
}

func byID(rows []ruleRow, id string) []ruleRow {
	var out []ruleRow
	for _, r := range rows {
		if r.ID == id {
			out = append(out, r)
		}
	}
	return out
}

func warnings(res map[string]any) string {
	var b strings.Builder
	ws, _ := res["warnings"].([]any)
	for _, w := range ws {
		m := w.(map[string]any)
		b.WriteString(m["file"].(string) + ": " + m["reason"].(string) + "\n")
	}
	return b.String()
}

// A rule imported again with the same id from another file (moved out of
// a file of several documents, say) replaces the stored version: both ran
// side by side, listed twice. Imported again with status deprecated, it
// is retired. A tenant sees its own filter documents, and one that names
// no rule is reported, not accepted silently.
func TestRuleImportedAgainReplacesAndRetires(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	s.AddTenant(t, "council-a")
	const sprayID = "0a1b2c3d-0000-4000-8000-000000000002"
	importRules(t, s, map[string]string{"spray.yml": sprayRule})
	v2 := strings.Replace(sprayRule[strings.Index(sprayRule, "title: Password spray"):], "title: Password spray from one address", "title: Password spray v2", 1)
	v2 = strings.Replace(v2, "gte: 3", "gte: 2", 1)
	res := importRules(t, s, map[string]string{"spray-v2.yml": v2})
	if w := warnings(res); !strings.Contains(w, "spray-v2.yml: replaces the version of rule "+sprayID+" imported earlier from spray.yml") {
		t.Errorf("import warnings = %q", w)
	}
	rows := byID(listRules(t, s, servertest.AdminToken, ""), sprayID)
	if len(rows) != 1 || rows[0].Title != "Password spray v2" {
		t.Fatalf("rules with id %s = %+v, want v2 alone", sprayID, rows)
	}

	ingest(t, s, s.Token(t, "council-a", "ingest"), failed("192.0.2.1", "u1", "01:00:00"), failed("192.0.2.1", "u2", "01:01:00"))
	a := alertCount(t, s, servertest.AdminToken, "council-a", 1)
	if len(a) != 1 || a[0].Title != "Password spray v2" || a[0].Count != 1 {
		t.Fatalf("alerts = %+v, want one of v2", a)
	}

	// Retired: the same rule with status deprecated.
	retired := strings.Replace(v2, "status: test", "status: deprecated", 1)
	importRules(t, s, map[string]string{"spray-v2.yml": retired})
	rows = byID(listRules(t, s, servertest.AdminToken, ""), sprayID)
	if len(rows) != 1 || !strings.Contains(rows[0].Skipped, "retired") {
		t.Fatalf("retired rule listed as %+v", rows)
	}
	ingest(t, s, s.Token(t, "council-a", "ingest"), failed("192.0.2.9", "u1", "02:00:00"), failed("192.0.2.9", "u2", "02:01:00"))
	waitDetected(t, s)
	if a := alerts(t, s, servertest.AdminToken, "council-a", 0); len(a) != 1 {
		t.Errorf("a retired rule raised alerts: %+v", a)
	}

	// A tenant's filters: listed for that tenant only; a mistyped rule id
	// is reported.
	admin := s.Token(t, "council-a", "tenant-admin")
	typo := "title: Scanner\nid: f0000000-0000-4000-8000-000000000001\nlogsource: {product: windows, service: security}\nfilter:\n  rules: [0a1b2c3d-0000-4000-8000-00000000000l]\n  scanner: {IpAddress: 192.0.2.200}\n  condition: not scanner\n"
	s.JSON(t, "POST", "/api/v1/rules", admin, map[string]any{"files": []map[string]any{{"name": "scanner.yml", "data": []byte(typo)}}}, &res)
	if w := warnings(res); !strings.Contains(w, "scanner.yml: filter is for") || !strings.Contains(w, "excludes nothing") {
		t.Errorf("filter import warnings = %q", w)
	}
	own := byID(listRules(t, s, admin, ""), "f0000000-0000-4000-8000-000000000001")
	if len(own) != 1 || own[0].Kind != "filter" || own[0].Tenant != "council-a" || own[0].Skipped == "" {
		t.Errorf("the tenant's filter is listed as %+v", own)
	}
	if other := byID(listRules(t, s, servertest.AdminToken, ""), "f0000000-0000-4000-8000-000000000001"); len(other) != 0 {
		t.Errorf("the shared list shows a tenant's filter: %+v", other)
	}
}
