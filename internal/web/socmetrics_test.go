package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/feed"
	"github.com/tarian-soc/tarian/internal/tenant"
	"github.com/tarian-soc/tarian/internal/web"
)

func (l *live) act(t *testing.T, at time.Time, id int64, verb, body string) {
	t.Helper()
	l.setClock(at)
	if status, resp := l.do(t, "POST", fmt.Sprintf("/api/v1/alerts/%d/%s", id, verb), l.tokens["provider-analyst"], body); status != 200 {
		t.Fatalf("%s %d: %d %s", verb, id, status, resp)
	}
}

func (l *live) soc(t *testing.T, token string, q url.Values) (int, web.SOCStatsJSON, string) {
	t.Helper()
	status, body := l.do(t, "GET", "/api/v1/metrics/soc?"+q.Encode(), token, "")
	var out web.SOCStatsJSON
	if status == 200 {
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("metrics/soc: %v: %s", err, body)
		}
	}
	return status, out, string(body)
}

func mean(n int64, d time.Duration) web.MeanJSON {
	return web.MeanJSON{Count: n, MeanSeconds: d.Seconds()}
}

// TestSOCMetrics: MTTD (ingest and detection lag), MTTA, MTTR, volumes,
// false-positive rates and SLA breaches through the API, exactly, on a
// known timeline kept by the real pipeline and SQLite store.
func TestSOCMetrics(t *testing.T) {
	l := newLive(t, feed.DefaultConfig())
	s := time.Second
	// tenant-a: received 30 s after the event, raised 10 s later;
	// acknowledged after 5 min, resolved false-positive after 1 h.
	l.setClock(t0.Add(40 * s))
	a1 := l.raise(t, "tenant-a", "r1", "high", "pc1", t0, t0.Add(30*s))
	l.act(t, t0.Add(40*s+5*time.Minute), a1.ID, "ack", "")
	l.act(t, t0.Add(40*s+time.Hour), a1.ID, "resolve", `{"as":"false-positive"}`)
	// A critical alert never acknowledged: received after 1 s, raised 2 s
	// later.
	l.setClock(t0.Add(10*time.Minute + 3*s))
	l.raise(t, "tenant-a", "r2", "critical", "pc2", t0.Add(10*time.Minute), t0.Add(10*time.Minute+s))
	// tenant-b: received after 2 min, raised 1 min later, acknowledged
	// (by assigning) 1 min after that.
	l.setClock(t0.Add(3 * time.Minute))
	b1 := l.raise(t, "tenant-b", "r1", "low", "pc3", t0, t0.Add(2*time.Minute))
	l.act(t, t0.Add(4*time.Minute), b1.ID, "assign", `{"to":"ana"}`)
	l.setClock(t0.Add(2 * time.Hour))

	day := url.Values{"from": {t0.Format(time.RFC3339)}, "to": {t0.Add(24 * time.Hour).Format(time.RFC3339)}}
	status, got, body := l.soc(t, l.tokens["a/tenant-analyst"], day)
	if status != 200 {
		t.Fatalf("tenant-a: %d %s", status, body)
	}
	want := web.SOCStatsJSON{
		Tenant: "tenant-a", From: t0, To: t0.Add(24 * time.Hour), Alerts: 2, Events: 2,
		MTTA: mean(1, 5*time.Minute), MTTR: mean(1, time.Hour),
		BySeverity:   map[string]int64{"high": 1, "critical": 1},
		ByStatus:     map[alert.Status]int64{alert.StatusResolved: 1, alert.StatusNew: 1},
		ByResolution: map[alert.Resolution]int64{alert.FalsePositive: 1},
		Techniques:   map[string]int64{},
		Rules: []web.RuleStatsJSON{
			{RuleID: "r1", Title: "rule r1", Alerts: 1, Resolved: 1, FalsePositives: 1, FalsePositiveRate: 1},
			{RuleID: "r2", Title: "rule r2", Alerts: 1},
		},
	}
	want.MTTD.IngestLag = mean(2, 15500*time.Millisecond) // (30 + 1) / 2 s
	want.MTTD.DetectionLag = mean(2, 6*s)                 // (10 + 2) / 2 s
	want.MTTD.Total = mean(2, 21500*time.Millisecond)     // (40 + 3) / 2 s
	want.SLABreaches.Acknowledge = 1                      // the critical one, 15 min
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("tenant-a (-want +got):\n%s", d)
	}

	// A provider's "*": every tenant's together, and each one's.
	q := url.Values{"tenant": {"*"}, "from": day["from"], "to": day["to"]}
	status, all, body := l.soc(t, l.tokens["provider-analyst"], q)
	if status != 200 {
		t.Fatalf("tenant=*: %d %s", status, body)
	}
	if len(all.Tenants) != 2 || all.Tenants[0].Tenant != "tenant-a" || all.Tenants[1].Tenant != "tenant-b" {
		t.Fatalf("tenant=* breakdown: %+v", all.Tenants)
	}
	if d := cmp.Diff(want, all.Tenants[0]); d != "" {
		t.Errorf("tenant=*, tenant-a (-want +got):\n%s", d)
	}
	b := all.Tenants[1]
	if b.Alerts != 1 || b.MTTA != mean(1, time.Minute) || b.MTTD.DetectionLag != mean(1, time.Minute) || b.MTTR != mean(0, 0) {
		t.Errorf("tenant=*, tenant-b: %+v", b)
	}
	if all.Tenant != "*" || all.Alerts != 3 || all.MTTD.IngestLag != mean(3, 151*s/3) || all.MTTA != mean(2, 3*time.Minute) ||
		all.BySeverity["high"] != 1 || all.BySeverity["low"] != 1 || all.Rules[0].RuleID != "r1" || all.Rules[0].Alerts != 2 || all.Rules[0].Resolved != 1 || all.Rules[0].FalsePositiveRate != 1 {
		t.Errorf("tenant=* total: %+v", all)
	}
	// Relative times, as search takes them: the last hour has none.
	if _, got, _ := l.soc(t, l.tokens["a/tenant-analyst"], url.Values{"from": {"-1h"}}); got.Alerts != 0 || !got.From.Equal(t0.Add(time.Hour)) || !got.To.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("from=-1h: %+v", got)
	}
	// Scoped like the alerts.
	for _, tc := range []struct {
		token string
		q     url.Values
		code  int
	}{
		{l.tokens["a/tenant-analyst"], url.Values{"tenant": {"tenant-b"}}, 403},
		{l.tokens["a/ingest"], nil, 403},
		{l.tokens["provider-analyst"], nil, 403},
		{l.tokens["a/tenant-analyst"], url.Values{"from": {"yesterday"}}, 400},
		{l.tokens["a/tenant-analyst"], url.Values{"from": {"-1h"}, "to": {"-2h"}}, 400},
		{l.tokens["a/tenant-analyst"], url.Values{"step": {"daily"}}, 400},
		{l.tokens["a/tenant-analyst"], url.Values{"step": {"30s"}}, 400},
		{l.tokens["a/tenant-analyst"], url.Values{"step": {"-1h"}}, 400},
		{l.tokens["a/tenant-analyst"], url.Values{"from": {"-365d"}, "step": {"1h"}}, 400}, // 8,761 intervals
	} {
		if status, _, body := l.soc(t, tc.token, tc.q); status != tc.code {
			t.Errorf("metrics/soc?%s: %d %s, want %d", tc.q.Encode(), status, body, tc.code)
		}
	}
	recs, err := l.db.AuditRecords(context.Background(), "*", 10)
	if err != nil || len(recs) != 1 || recs[0].Action != "metrics.soc.read" {
		t.Errorf("audit of the provider's read: %+v %v", recs, err)
	}

	// More alerts than one store page: all counted.
	var ds []alert.Detection
	for i := range 2500 {
		ds = append(ds, alert.Detection{Producer: alert.ProducerSigma, RuleID: "bulk", Title: "bulk", Level: "medium",
			Entities: []alert.Entity{{Type: alert.EntityHost, Value: fmt.Sprint("h", i)}}, EventHash: fmt.Sprint("bulk", i),
			EventTime: t0.Add(time.Hour), Received: t0.Add(time.Hour + s)})
	}
	l.setClock(t0.Add(time.Hour + 2*s))
	if _, err := l.alerts.Raise(context.Background(), "tenant-b", ds); err != nil {
		t.Fatal(err)
	}
	l.setClock(t0.Add(2 * time.Hour))
	_, got, _ = l.soc(t, l.tokens["b/tenant-viewer"], day)
	if got.Alerts != 2501 || got.BySeverity["medium"] != 2500 || got.MTTD.IngestLag.Count != 2501 || got.MTTD.DetectionLag != mean(2501, (2500*s+time.Minute)/2501) {
		t.Errorf("tenant-b after 2,500 more: %d alerts, %v, %+v", got.Alerts, got.BySeverity, got.MTTD)
	}

	// /metrics: open alerts per tenant, level and status.
	_, metrics := l.do(t, "GET", "/metrics", l.tokens["provider-admin"], "")
	for _, line := range []string{
		`tarian_alerts_open{tenant="tenant-a",level="critical",status="new"} 1`,
		`tarian_alerts_open{tenant="tenant-a",level="high",status="new"} 0`, // resolved
		`tarian_alerts_open{tenant="tenant-b",level="low",status="in-progress"} 1`,
		`tarian_alerts_open{tenant="tenant-b",level="medium",status="new"} 2500`,
	} {
		if !strings.Contains(string(metrics), line+"\n") {
			t.Errorf("/metrics lacks %s:\n%s", line, metrics)
		}
	}
}

// TestSOCMetricsSeries: with step, the alerts per interval by severity,
// exactly, over a known set of alerts (intervals aligned on UTC days or
// hours, empty ones included, the first holding from), for a tenant, for
// "*" and for each tenant of "*"; and the ATT&CK techniques of their
// tags.
func TestSOCMetricsSeries(t *testing.T) {
	l := newLive(t, feed.DefaultConfig())
	h := time.Hour
	n := 0
	raise := func(ten, level string, created time.Time, tags ...string) {
		t.Helper()
		n++
		l.setClock(created)
		_, err := l.alerts.Raise(context.Background(), tenant.ID(ten), []alert.Detection{{
			Producer: alert.ProducerSigma, RuleID: "r-" + level, Title: "rule " + level, Level: level, Tags: tags,
			Entities: []alert.Entity{{Type: alert.EntityHost, Value: fmt.Sprint("h", n)}}, EventHash: fmt.Sprint("e", n),
			EventTime: created.Add(-time.Second), Received: created,
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Day 1 (t0 is midnight UTC): 2 high and 1 low at tenant-a, 1 high at
	// tenant-b; day 2 nothing; day 3: 1 critical and 1 medium at tenant-a.
	raise("tenant-a", "high", t0.Add(9*h), "attack.execution", "attack.t1059.001", "attack.t1033")
	raise("tenant-a", "high", t0.Add(9*h+30*time.Minute), "attack.t1033")
	raise("tenant-a", "low", t0.Add(23*h+59*time.Minute))
	raise("tenant-b", "high", t0.Add(10*h), "attack.t1033")
	raise("tenant-a", "critical", t0.Add(48*h))
	raise("tenant-a", "medium", t0.Add(71*h), "attack.t1003.001")
	// Before the period: not counted.
	raise("tenant-a", "critical", t0.Add(-time.Minute))
	l.setClock(t0.Add(72 * h))

	// [t0+6h, t0+72h) by day: the first interval starts at t0 (holding
	// from), the last is day 3.
	q := url.Values{"from": {t0.Add(6 * h).Format(time.RFC3339)}, "to": {t0.Add(72 * h).Format(time.RFC3339)}, "step": {"1d"}}
	status, got, body := l.soc(t, l.tokens["a/tenant-analyst"], q)
	if status != 200 {
		t.Fatalf("step=1d: %d %s", status, body)
	}
	sev := func(kv ...any) map[string]int64 {
		m := map[string]int64{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = int64(kv[i+1].(int))
		}
		return m
	}
	wantA := []web.BucketJSON{
		{Time: t0, Alerts: 3, BySeverity: sev("high", 2, "low", 1)},
		{Time: t0.Add(24 * h), Alerts: 0, BySeverity: sev()},
		{Time: t0.Add(48 * h), Alerts: 2, BySeverity: sev("critical", 1, "medium", 1)},
	}
	if d := cmp.Diff(wantA, got.Series); d != "" {
		t.Errorf("tenant-a by day (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]int64{"T1059.001": 1, "T1033": 2, "T1003.001": 1}, got.Techniques); d != "" {
		t.Errorf("tenant-a techniques (-want +got):\n%s", d)
	}
	if got.Alerts != 5 {
		t.Errorf("tenant-a: %d alerts, want 5", got.Alerts)
	}

	// "*": the total and each tenant's.
	q.Set("tenant", "*")
	_, all, body := l.soc(t, l.tokens["provider-analyst"], q)
	wantAll := []web.BucketJSON{
		{Time: t0, Alerts: 4, BySeverity: sev("high", 3, "low", 1)},
		{Time: t0.Add(24 * h), Alerts: 0, BySeverity: sev()},
		{Time: t0.Add(48 * h), Alerts: 2, BySeverity: sev("critical", 1, "medium", 1)},
	}
	if d := cmp.Diff(wantAll, all.Series); d != "" {
		t.Errorf("* by day (-want +got):\n%s\n%s", d, body)
	}
	if len(all.Tenants) != 2 || !cmp.Equal(wantA, all.Tenants[0].Series) || all.Tenants[1].Series[0].Alerts != 1 || all.Tenants[1].Series[0].BySeverity["high"] != 1 || all.Tenants[1].Series[2].Alerts != 0 {
		t.Errorf("* per tenant: %+v", all.Tenants)
	}
	if all.Techniques["T1033"] != 3 {
		t.Errorf("* techniques: %v, want T1033 3", all.Techniques)
	}

	// By hour over [t0+9h, t0+12h): 9h has 2 high at tenant-a, 10h 1 high
	// at tenant-b, 11h none.
	q = url.Values{"tenant": {"*"}, "from": {t0.Add(9 * h).Format(time.RFC3339)}, "to": {t0.Add(12 * h).Format(time.RFC3339)}, "step": {"1h"}}
	_, all, _ = l.soc(t, l.tokens["provider-analyst"], q)
	wantHours := []web.BucketJSON{
		{Time: t0.Add(9 * h), Alerts: 2, BySeverity: sev("high", 2)},
		{Time: t0.Add(10 * h), Alerts: 1, BySeverity: sev("high", 1)},
		{Time: t0.Add(11 * h), Alerts: 0, BySeverity: sev()},
	}
	if d := cmp.Diff(wantHours, all.Series); d != "" {
		t.Errorf("* by hour (-want +got):\n%s", d)
	}

	// Without step, no series.
	if _, body := l.do(t, "GET", "/api/v1/metrics/soc", l.tokens["a/tenant-analyst"], ""); strings.Contains(string(body), `"series"`) {
		t.Errorf("no step, yet a series: %s", body)
	}
}
