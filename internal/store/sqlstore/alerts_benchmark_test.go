package sqlstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/tenant"
)

func openBench(b *testing.B, tenants int) *DB {
	b.Helper()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	for i := range tenants {
		if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: benchTenant(i), Name: "Council"}); err != nil {
			b.Fatal(err)
		}
	}
	return db
}

func benchTenant(i int) tenant.ID { return tenant.ID(fmt.Sprintf("council-%d", i)) }

// BenchmarkPipelineRaise measures detections per second through the
// alert pipeline (suppressions, keys, criticality) into the store, in
// batches like the detector's: 300 detections per call, per tenant, 80 %
// repeats of 20 rule and host keys, 20 % on hosts never seen before (each a
// new alert), 2 % replays of an event already counted, 1 % suppressed; a
// critical asset per tenant. Each op is one batch.
func BenchmarkPipelineRaise(b *testing.B) {
	ctx := context.Background()
	const tenants, batch = 3, 300
	db := openBench(b, tenants)
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	p, err := alert.NewPipeline(ctx, alert.DefaultConfig(), alert.Deps{Store: db, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	for i := range tenants {
		if _, err := p.AddSuppression(ctx, alert.Suppression{Tenant: benchTenant(i), RuleID: "r-noisy", Reason: "lab", Author: "ana"}); err != nil {
			b.Fatal(err)
		}
		if err := p.SetAsset(ctx, alert.Asset{Tenant: benchTenant(i), Type: alert.EntityHost, Name: "h1", Criticality: alert.CriticalityCritical}); err != nil {
			b.Fatal(err)
		}
	}
	seq := 0
	det := func(t int, rule, host, user string, hash int) alert.Detection {
		et := now.Add(time.Duration(seq) * time.Millisecond)
		return alert.Detection{
			Producer: alert.ProducerSigma, RuleID: rule, Title: "Suspicious " + rule, Author: "Florian Roth (Nextron Systems)", Level: "high",
			References: []string{"https://attack.mitre.org/techniques/T1003/"}, Tags: []string{"attack.credential-access", "attack.t1003.001"},
			Entities: []alert.Entity{{Type: alert.EntityHost, Value: host}, {Type: alert.EntityUser, Value: user}},
			Fields: []event.Field{{Name: "Image", Value: `C:\Windows\System32\rundll32.exe`},
				{Name: "CommandLine", Value: `rundll32.exe C:\windows\System32\comsvcs.dll, MiniDump 624 C:\temp\lsass.dmp full`}},
			EventRef: fmt.Sprintf("%d:%d", seq/10, seq%10), EventHash: strconv.FormatInt(int64(t), 10) + "-" + strconv.Itoa(hash),
			EventTime: et, Received: et.Add(time.Second),
		}
	}
	last := make([][]alert.Detection, tenants) // each tenant's previous batch
	fresh := make([]int64, tenants)            // events neither replayed nor suppressed
	total, round := 0, 0
	b.ReportAllocs()
	for b.Loop() {
		t := round % tenants
		ds := make([]alert.Detection, 0, batch)
		for i := range batch {
			seq++
			switch {
			case i%50 == 0 && last[t] != nil:
				ds = append(ds, last[t][i+1]) // a replay
			case i%100 == 7:
				ds = append(ds, det(t, "r-noisy", "h0", "u0", seq)) // suppressed
			case i%5 == 0:
				ds = append(ds, det(t, "r"+strconv.Itoa(seq%7), "ws-"+strconv.Itoa(seq), "u"+strconv.Itoa(seq%50), seq))
				fresh[t]++
			default:
				k := seq % 20
				ds = append(ds, det(t, "r"+strconv.Itoa(k%5), "h"+strconv.Itoa(k/5), "u"+strconv.Itoa(k/5), seq))
				fresh[t]++
			}
		}
		if _, err := p.Raise(ctx, benchTenant(t), ds); err != nil {
			b.Fatal(err)
		}
		last[t] = ds
		total += len(ds)
		round++
		now = now.Add(100 * time.Millisecond)
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "detections/s")
	// The mix is as described.
	ss, err := db.Suppressions(ctx, benchTenant(0))
	if err != nil || len(ss) != 1 || ss[0].Hits == 0 {
		b.Errorf("suppressions of %s: %+v, %v; want hits", benchTenant(0), ss, err)
	}
	as, err := db.Alerts(ctx, benchTenant(0), alert.Filter{Limit: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	var counted int64
	for _, a := range as {
		counted += a.Count
	}
	if counted != fresh[0] {
		b.Errorf("%s's alerts count %d events, want %d (neither replayed nor suppressed)", benchTenant(0), counted, fresh[0])
	}
}

// benchAlerts is how many alerts BenchmarkAlertsFirstPage stores:
// TARIAN_BENCH_ALERTS, else 100,000 (so that CI's single run stays quick);
// set it to 1000000 for the figure.
func benchAlerts(b *testing.B) int {
	if s := os.Getenv("TARIAN_BENCH_ALERTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("TARIAN_BENCH_ALERTS=%q: want a positive count", s)
		}
		return n
	}
	return 100_000
}

// BenchmarkAlertsFirstPage measures the first page (50) of filtered alert
// lists over TARIAN_BENCH_ALERTS stored alerts (see benchAlerts) in 4
// tenants, 50 rules, 5 levels, mostly resolved as a queue ages.
func BenchmarkAlertsFirstPage(b *testing.B) {
	ctx := context.Background()
	n := benchAlerts(b)
	db := openBench(b, 4)
	start := time.Now()
	// Alert n: tenant n%4, rule n/4%50, level n/7%5, status by n/4%100
	// (1 escalated, 4 in progress, 5 acknowledged, 10 new, the rest
	// resolved), assignee for those in progress, 3 alerts per incident.
	const evidence = `["101:0","101:1","101:2","101:3","101:4","101:5","101:6","101:7","101:8","101:9"]`
	if _, err := db.db.ExecContext(ctx, `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?)
		INSERT INTO alerts (tenant, producer, rule_id, title, author, level, refs, tags, entities, fields, dedup_key, count, evidence,
			event_time, first_seen, last_seen, received, created, updated, criticality, risk, incident, status, resolution, assignee, note,
			acknowledged, resolved, escalated)
		SELECT 'council-' || (n % 4), 'sigma', 'r' || (n / 4 % 50), 'Suspicious rule ' || (n / 4 % 50), 'Someone',
			CASE n / 7 % 5 WHEN 0 THEN 'informational' WHEN 1 THEN 'low' WHEN 2 THEN 'medium' WHEN 3 THEN 'high' ELSE 'critical' END,
			'["https://attack.mitre.org/techniques/T1003/"]', '["attack.t1003.001"]',
			json_array(json_array('host', 'ws-' || (n % 997)), json_array('user', 'u' || (n % 101))),
			'[["Image","C:\\Windows\\System32\\rundll32.exe"],["CommandLine","rundll32.exe comsvcs.dll, MiniDump 624 lsass.dmp full"]]',
			'ws-' || (n % 997) || char(31) || 'u' || (n % 101), 1 + n % 30, ?,
			?1 + n * 1000000000, ?1 + n * 1000000000, ?1 + n * 1000000000, ?1 + n * 1000000000, ?1 + n * 1000000000, ?1 + n * 1000000000,
			'normal', 65, n / 3,
			CASE WHEN n / 4 % 100 = 0 THEN 'escalated' WHEN n / 4 % 100 < 5 THEN 'in-progress' WHEN n / 4 % 100 < 10 THEN 'acknowledged'
				WHEN n / 4 % 100 < 20 THEN 'new' ELSE 'resolved' END,
			CASE WHEN n / 4 % 100 >= 20 THEN 'true-positive' ELSE '' END,
			CASE WHEN n / 4 % 100 BETWEEN 1 AND 4 THEN 'analyst-' || (n % 7) ELSE '' END, '', 0, 0, 0
		FROM seq`, n, evidence, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()); err != nil {
		b.Fatal(err)
	}
	b.Logf("stored %d alerts in %s", n, time.Since(start).Round(time.Millisecond))
	for _, c := range []struct {
		name string
		f    alert.Filter
	}{
		{"tenant", alert.Filter{}},
		{"tenant+status=new", alert.Filter{Status: alert.StatusNew}},
		{"tenant+status=escalated", alert.Filter{Status: alert.StatusEscalated}},
		{"tenant+level=critical", alert.Filter{Level: "critical"}},
		{"tenant+rule", alert.Filter{RuleID: "r17"}},
		{"tenant+assignee", alert.Filter{Assignee: "analyst-3"}},
		{"tenant+incident", alert.Filter{Incident: int64(n / 6)}},
		{"tenant+status=escalated+level=critical", alert.Filter{Status: alert.StatusEscalated, Level: "critical"}},
		{"tenant+status=new, from the middle", alert.Filter{Status: alert.StatusNew, Before: int64(n / 2)}},
		{"tenant by risk", alert.Filter{ByRisk: true}},
		// By deadline there is no index to walk: every alert of the
		// tenant is read and sorted (compare with "tenant").
		{"tenant by SLA", alert.Filter{BySLA: true, SLA: alert.DefaultConfig().SLAFor}},
		{"tenant+status=new by SLA", alert.Filter{BySLA: true, SLA: alert.DefaultConfig().SLAFor, Status: alert.StatusNew}},
	} {
		b.Run(c.name, func(b *testing.B) {
			c.f.Limit = 50
			b.ReportAllocs()
			for b.Loop() {
				as, err := db.Alerts(ctx, "council-2", c.f)
				if err != nil {
					b.Fatal(err)
				}
				if len(as) == 0 && c.f.Incident == 0 {
					b.Fatalf("no alerts for %+v", c.f)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
		})
	}
}
