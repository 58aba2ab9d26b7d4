package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/demo"
	"github.com/tarian-soc/tarian/internal/server/servertest"
	"github.com/tarian-soc/tarian/internal/web"
)

func TestSOCSummary(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	a := web.SOCStatsJSON{
		Tenant: "gwynedd", From: t0, To: t0.Add(24 * time.Hour), Alerts: 3, Events: 120,
		MTTA: web.MeanJSON{Count: 2, MeanSeconds: 300}, MTTR: web.MeanJSON{Count: 1, MeanSeconds: 3723},
		BySeverity:   map[string]int64{"high": 2, "low": 1},
		ByStatus:     map[alert.Status]int64{alert.StatusNew: 1, alert.StatusResolved: 1, alert.StatusInProgress: 1},
		ByResolution: map[alert.Resolution]int64{alert.FalsePositive: 1},
		Rules: []web.RuleStatsJSON{
			{RuleID: "r1", Title: "whoami run", Alerts: 2, Resolved: 1, FalsePositives: 1, FalsePositiveRate: 1},
			{RuleID: "r2", Title: "net user run", Alerts: 1},
		},
	}
	a.MTTD.Total = web.MeanJSON{Count: 3, MeanSeconds: 21.54}
	a.MTTD.IngestLag = web.MeanJSON{Count: 3, MeanSeconds: 15.5}
	a.MTTD.DetectionLag = web.MeanJSON{Count: 3, MeanSeconds: 6}
	a.SLABreaches.Acknowledge = 1
	all := web.SOCStatsJSON{Tenant: "*", From: t0, To: t0.Add(24 * time.Hour), Rules: []web.RuleStatsJSON{},
		Tenants: []web.SOCStatsJSON{a, {Tenant: "powys"}}}

	for _, tc := range []struct {
		st   web.SOCStatsJSON
		want string
	}{
		{a, `SOC metrics of tenant gwynedd, alerts created 2026-11-01T00:00:00Z to 2026-11-02T00:00:00Z

alerts         3 (120 events)
MTTD           21.5s over 3 alerts  (ingest lag 15.5s, detection lag 6s)
MTTA           5m over 2 alerts
MTTR           1h2m3s over 1 alert
SLA breaches   acknowledge 1, resolve 0
by severity    high 2, low 1
by status      new 1, in-progress 1, resolved 1
by resolution  false-positive 1

NOISIEST RULES  ALERTS  RESOLVED  FALSE POS.  FP RATE  TITLE
r1              2       1         1           100%     whoami run
r2              1       0         0           0%       net user run
`},
		{all, `SOC metrics of every tenant (2), alerts created 2026-11-01T00:00:00Z to 2026-11-02T00:00:00Z

alerts         0 (0 events)
MTTD           -  (ingest lag -, detection lag -)
MTTA           -
MTTR           -
SLA breaches   acknowledge 0, resolve 0
by severity    -
by status      -
by resolution  -

TENANT   ALERTS  MTTD   MTTA  MTTR    SLA BREACHES (ACK/RESOLVE)
gwynedd  3       21.5s  5m    1h2m3s  1/0
powys    0       -      -     -       0/0
`},
	} {
		var b strings.Builder
		if err := writeSOCSummary(&b, tc.st); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(tc.want, b.String()); d != "" {
			t.Errorf("summary of %s (-want +got):\n%s", tc.st.Tenant, d)
		}
	}
}

// TestMetricsSOC: tarian metrics soc against a real server whose rules
// raised alerts from ingested events.
func TestMetricsSOC(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	admin := cmdEnv{url: s.URL, token: servertest.AdminToken}
	var files []importFile
	for name, data := range demo.RuleFiles() {
		files = append(files, importFile{Name: name, Data: data})
	}
	s.JSON(t, "POST", "/api/v1/rules", servertest.AdminToken, map[string]any{"files": files}, nil)
	counts := map[string]int{"gwynedd": 3, "powys": 2}
	for ten, n := range counts {
		s.AddTenant(t, ten)
		var in strings.Builder
		for i := range n {
			fmt.Fprintln(&in, vssadmin(fmt.Sprintf("%s-ws-%d", ten, i), "u"+ten, time.Now().Add(-time.Minute)))
		}
		if code, _, errs := (cmdEnv{url: s.URL, token: s.Token(t, ten, "ingest")}).run(t, in.String(), "ingest"); code != 0 {
			t.Fatalf("ingest %s: %d %q", ten, code, errs)
		}
	}
	var st web.SOCStatsJSON
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		code, out, errs := admin.run(t, "", "metrics", "soc", "--tenant", "*", "--json")
		if code != 0 || json.Unmarshal([]byte(out), &st) != nil {
			t.Fatalf("metrics soc --json: %d %q %q", code, out, errs)
		}
		if st.Alerts >= 5 || time.Now().After(deadline) {
			break
		}
	}
	if st.Alerts != 5 || len(st.Tenants) != 2 || st.Tenants[0].Alerts != 3 || st.Tenants[1].Alerts != 2 ||
		st.MTTD.IngestLag.Count != 5 || st.MTTD.IngestLag.MeanSeconds < 60 || st.MTTD.DetectionLag.Count != 5 {
		t.Errorf("metrics soc --tenant '*' --json: %+v", st)
	}
	code, out, errs := admin.run(t, "", "metrics", "soc", "--tenant", "*")
	for _, want := range []string{"SOC metrics of every tenant (2)", "\nalerts         5 (5 events)\n", "\ngwynedd  3 ", "\npowys    2 "} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("metrics soc --tenant '*': %d, stderr %q, lacks %q:\n%s", code, errs, want, out)
		}
	}
	analyst := cmdEnv{url: s.URL, token: s.Token(t, "powys", "tenant-analyst")}
	if code, out, _ := analyst.run(t, "", "metrics", "soc"); code != 0 || !strings.Contains(out, "SOC metrics of tenant powys") || !strings.Contains(out, "\nalerts         2 ") {
		t.Errorf("powys analyst: %d\n%s", code, out)
	}
	if code, _, errs := analyst.run(t, "", "metrics", "soc", "--tenant", "gwynedd"); code != 1 || !strings.Contains(errs, "forbidden") {
		t.Errorf("powys analyst asking gwynedd: %d %q", code, errs)
	}
	if code, _, errs := analyst.run(t, "", "metrics"); code != 2 || !strings.Contains(errs, "tarian metrics soc") {
		t.Errorf("metrics without soc: %d %q", code, errs)
	}
}
