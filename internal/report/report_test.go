package report_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/advisory"
	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/defend"
	"github.com/tarian-soc/tarian/internal/incident"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/report"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// sources is what the log-source health would tell (the lead's
// internal/health implements report.SourceLister).
type sources []report.SourceHealth

func (s sources) ReportSources(_ context.Context, t tenant.ID, from, to time.Time) ([]report.SourceHealth, error) {
	if t != "gwynedd" {
		return nil, nil
	}
	return s, nil
}

// dataset is a state store seeded with a known month (November 2026) of
// member gwynedd, with alerts, cases, advisories and campaigns just
// outside it and at other members that must not count.
type dataset struct {
	db     *sqlstore.DB
	path   string // of db
	alerts *alert.Pipeline
	clock  *clock
	deps   report.Deps
	a1     int64 // gwynedd's alert in the campaign
}

// generated is when the report is made.
var generated = at("2026-12-02 08:00:00")

func seed(t testing.TB) *dataset {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := sqlstore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, id := range []tenant.ID{"gwynedd", "conwy", "powys", "ceredigion"} {
		if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: id, Name: "Cyngor " + strings.ToUpper(string(id[:1])) + string(id[1:]), Created: at("2026-01-01 00:00:00")}); err != nil {
			t.Fatal(err)
		}
	}
	clk := &clock{}
	p, err := alert.NewPipeline(ctx, alert.DefaultConfig(), alert.Deps{Store: db, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ds := &dataset{db: db, path: path, alerts: p, clock: clk}
	n := 0
	raise := func(ten tenant.ID, rule, title, level string, tags []string, host string, event, received, created time.Time) int64 {
		t.Helper()
		n++
		clk.Set(created)
		cs, err := p.Raise(ctx, ten, []alert.Detection{{
			Producer: alert.ProducerSigma, RuleID: rule, Title: title, Level: level, Tags: tags,
			Entities: []alert.Entity{{Type: alert.EntityHost, Value: host}},
			EventRef: fmt.Sprintf("%d:0", n), EventHash: fmt.Sprintf("hash-%d", n), EventTime: event, Received: received,
		}})
		if err != nil || len(cs) != 1 || cs[0].What != alert.ChangeCreated {
			t.Fatalf("raise %s: %v %+v", rule, err, cs)
		}
		return cs[0].Alert.ID
	}
	act := func(ten tenant.ID, id int64, when time.Time, a alert.Action) {
		t.Helper()
		clk.Set(when)
		if _, _, err := p.Act(ctx, ten, id, "analyst", a); err != nil {
			t.Fatalf("%s alert %d: %v", a.Verb, id, err)
		}
	}
	ack := alert.Action{Verb: alert.VerbAck}
	resolve := func(r alert.Resolution) alert.Action {
		return alert.Action{Verb: alert.VerbResolve, Resolution: r, Note: "checked"}
	}
	// Outside the month: the last second of October, the first of December.
	raise("gwynedd", "r-mimikatz", "Mimikatz", "critical", []string{"attack.t1003.001"}, "h0", at("2026-10-31 23:59:00"), time.Time{}, at("2026-10-31 23:59:59"))
	// A1: critical, acknowledged in 10 min, resolved true positive in 2 h.
	ds.a1 = raise("gwynedd", "r-mimikatz", "Mimikatz", "critical", []string{"attack.t1003.001", "attack.credential_access"}, "h1",
		at("2026-11-03 10:00:00"), at("2026-11-03 10:00:30"), at("2026-11-03 10:01:00"))
	act("gwynedd", ds.a1, at("2026-11-03 10:11:00"), ack)
	act("gwynedd", ds.a1, at("2026-11-03 12:01:00"), resolve(alert.TruePositive))
	// A2: high, acknowledged in 2 h (late), resolved false positive in 25 h (late).
	a2 := raise("gwynedd", "r-psexec", "PsExec service", "high", []string{"attack.t1021.002", "attack.t1569.002"}, "h2",
		at("2026-11-10 09:00:00"), at("2026-11-10 09:00:00"), at("2026-11-10 09:02:00"))
	act("gwynedd", a2, at("2026-11-10 11:02:00"), ack)
	act("gwynedd", a2, at("2026-11-11 10:02:00"), resolve(alert.FalsePositive))
	// A3: high, acknowledged in 30 min, escalated after 1 h (the resolve clock stops).
	a3 := raise("gwynedd", "r-psexec", "PsExec service", "high", []string{"attack.t1021.002", "attack.t1569.002"}, "h3",
		at("2026-11-20 14:00:00"), time.Time{}, at("2026-11-20 14:05:00"))
	act("gwynedd", a3, at("2026-11-20 14:35:00"), ack)
	act("gwynedd", a3, at("2026-11-20 15:05:00"), alert.Action{Verb: alert.VerbEscalate})
	// A4: medium, never acknowledged: late on both counts by the report's time.
	raise("gwynedd", "r-phish", "Suspicious mail link", "medium", []string{"attack.t1566.002"}, "h4",
		at("2026-11-25 08:00:00"), time.Time{}, at("2026-11-25 08:01:00"))
	// A5: low, the month's last second; acknowledged and resolved in December.
	a5 := raise("gwynedd", "r-scan", "Port scan", "low", nil, "h5",
		at("2026-11-30 23:59:00"), at("2026-11-30 23:59:30"), at("2026-11-30 23:59:59"))
	act("gwynedd", a5, at("2026-12-01 00:09:59"), ack)
	act("gwynedd", a5, at("2026-12-01 01:00:00"), resolve(alert.BenignPositive))
	raise("gwynedd", "r-scan", "Port scan", "low", nil, "h6", at("2026-12-01 00:00:00"), time.Time{}, at("2026-12-01 00:00:00"))
	// Another member's alert in the month.
	c1 := raise("conwy", "r-mimikatz", "Mimikatz", "critical", []string{"attack.t1003.001"}, "c1", at("2026-11-03 10:05:00"), time.Time{}, at("2026-11-03 10:06:00"))

	// Cases: closed in the month (counted), opened in it (counted), not
	// escalated (the provider's alone: left out), closed before it, opened
	// after it, and another member's.
	for _, c := range []incident.Case{
		{Title: "Credential theft on h1", Severity: "critical", Status: incident.StatusClosed, Created: at("2026-10-20 09:00:00"), Escalated: at("2026-10-21 09:00:00"),
			Closed: at("2026-11-05 16:00:00"), Classification: alert.TruePositive, Summary: "contained"},
		{Title: "Lateral movement", Severity: "high", Status: incident.StatusInProgress, Created: at("2026-11-12 10:00:00"), Escalated: at("2026-11-12 11:00:00")},
		{Title: "Provider only", Severity: "low", Status: incident.StatusOpen, Created: at("2026-11-15 10:00:00")},
		{Title: "Old", Severity: "low", Status: incident.StatusClosed, Created: at("2026-09-01 10:00:00"), Escalated: at("2026-09-01 11:00:00"),
			Closed: at("2026-10-01 10:00:00"), Classification: alert.FalsePositive, Summary: "x"},
		{Title: "Next month", Severity: "low", Status: incident.StatusOpen, Created: at("2026-12-01 10:00:00"), Escalated: at("2026-12-01 11:00:00")},
	} {
		c.TLP, c.Author, c.Updated = incident.TLPAmber, "analyst", c.Created
		if _, err := db.CreateCase(ctx, "gwynedd", c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.CreateCase(ctx, "conwy", incident.Case{Title: "Conwy's", Severity: "high", Status: incident.StatusOpen, TLP: incident.TLPAmber,
		Created: at("2026-11-12 10:00:00"), Updated: at("2026-11-12 10:00:00"), Escalated: at("2026-11-12 11:00:00")}); err != nil {
		t.Fatal(err)
	}

	// Advisories: to every member in the month (acknowledged), to conwy
	// alone, and to every member in October.
	adv := func(audience []tenant.ID, published time.Time, en, cy string) advisory.Advisory {
		t.Helper()
		a, err := db.CreateAdvisory(ctx, advisory.Advisory{TitleEN: en, TitleCY: cy, SummaryEN: "s", SummaryCY: "c", TLP: intel.TLPGreen,
			Audience: audience, Author: "intel", Published: published, Indicators: []string{}})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := adv(nil, at("2026-11-08 09:00:00"), "Phishing wave against councils", "Ton gwe-rwydo yn erbyn cynghorau")
	if _, err := db.AckAdvisory(ctx, a.ID, "gwynedd", "user:alys", at("2026-11-09 10:30:00")); err != nil {
		t.Fatal(err)
	}
	adv([]tenant.ID{"conwy"}, at("2026-11-09 09:00:00"), "For Conwy only", "I Gonwy yn unig")
	adv(nil, at("2026-10-01 09:00:00"), "Last month", "Y mis diwethaf")

	// Campaigns: one gwynedd's alert A1 is in, with three other members;
	// one at two other members only.
	camp := func(kind, value string, links []defend.Link) {
		t.Helper()
		c, err := db.CreateCampaign(ctx, defend.Campaign{Kind: kind, Value: value, Title: "Campaign " + value, FirstSeen: links[0].Seen, LastSeen: links[0].Seen,
			Created: links[0].Seen, Status: "open"})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.LinkCampaign(ctx, c.ID, links, []string{kind + ":" + value}); err != nil {
			t.Fatal(err)
		}
	}
	camp("domain", "evil.example", []defend.Link{
		{Tenant: "gwynedd", AlertID: ds.a1, Seen: at("2026-11-03 10:00:00")},
		{Tenant: "conwy", AlertID: c1, Seen: at("2026-11-03 10:05:00")},
		{Tenant: "powys", AlertID: 900, Seen: at("2026-11-03 10:20:00")},
		{Tenant: "ceredigion", AlertID: 901, Seen: at("2026-11-03 10:30:00")},
	})
	camp("ipv4-addr", "203.0.113.9", []defend.Link{
		{Tenant: "conwy", AlertID: c1, Seen: at("2026-11-04 10:00:00")},
		{Tenant: "powys", AlertID: 902, Seen: at("2026-11-04 10:05:00")},
	})

	clk.Set(generated)
	ds.deps = report.Deps{
		Tenants:    db,
		Alerts:     p,
		Cases:      db,
		Advisories: advisory.NewService(advisory.Deps{Store: db, Intel: db, Now: clk.Now}),
		Campaigns:  db,
		Sources: sources{
			{Name: "firewall", Receiver: "syslog", Host: "fw1", Type: "fortigate", State: report.SourceSilent, LastSeen: at("2026-11-28 02:00:00"), Events: 120000},
			{Name: "domain controllers", Receiver: "hec", Host: "dc1", Type: "windows", State: report.SourceOK, LastSeen: at("2026-12-02 07:59:00"), Events: 4500000},
		},
		KAnonymity: 2,
		Now:        clk.Now,
	}
	return ds
}

// TestGatherKnownMonth: the report's figures match the seeded month
// exactly.
func TestGatherKnownMonth(t *testing.T) {
	ds := seed(t)
	r, err := report.Gather(context.Background(), ds.deps, "gwynedd", at("2026-11-17 00:00:00"))
	if err != nil {
		t.Fatal(err)
	}
	mean := func(n int64, d time.Duration) report.Mean { return report.Mean{Count: n, Value: d} }
	want := &report.Report{
		Tenant: "gwynedd", TenantName: "Cyngor Gwynedd",
		Month: at("2026-11-01 00:00:00"), From: at("2026-11-01 00:00:00"), To: at("2026-12-01 00:00:00"), Generated: generated,
		Alerts: 5, Events: 5,
		BySeverity: []report.Count{{"critical", 1}, {"high", 2}, {"medium", 1}, {"low", 1}, {"informational", 0}},
		ByOutcome:  []report.Count{{"true-positive", 1}, {"benign-positive", 1}, {"false-positive", 1}, {"duplicate", 0}, {"escalated", 1}, {"open", 1}},
		Rules: []report.RuleCount{
			{RuleID: "r-psexec", Title: "PsExec service", Alerts: 2, FalsePositives: 1},
			{RuleID: "r-mimikatz", Title: "Mimikatz", Alerts: 1},
			{RuleID: "r-phish", Title: "Suspicious mail link", Alerts: 1},
			{RuleID: "r-scan", Title: "Port scan", Alerts: 1},
		},
		Techniques: []report.Count{{"T1021.002", 2}, {"T1569.002", 2}, {"T1003.001", 1}, {"T1566.002", 1}},
		// Created − event: 60 + 120 + 300 + 60 + 59 s over 5.
		MTTD: mean(5, 119800*time.Millisecond),
		// Acknowledged − created: 600 + 7200 + 1800 + 600 s over 4.
		MTTA: mean(4, 2550*time.Second),
		// Resolved − created: 7200 + 90000 + 3601 s over 3.
		MTTR: mean(3, 33600*time.Second+333333333),
		SLA: []report.SLALine{
			{Level: "critical", Alerts: 1, Acknowledge: 15 * time.Minute, Resolve: 4 * time.Hour, MTTA: mean(1, 10*time.Minute), MTTR: mean(1, 2*time.Hour)},
			{Level: "high", Alerts: 2, Acknowledge: time.Hour, Resolve: 24 * time.Hour, MTTA: mean(2, 75*time.Minute), MTTR: mean(1, 25*time.Hour),
				AcknowledgeBreached: 1, ResolveBreached: 1},
			{Level: "medium", Alerts: 1, Acknowledge: 4 * time.Hour, Resolve: 72 * time.Hour, AcknowledgeBreached: 1, ResolveBreached: 1},
			{Level: "low", Alerts: 1, Acknowledge: 24 * time.Hour, Resolve: 7 * 24 * time.Hour, MTTA: mean(1, 10*time.Minute), MTTR: mean(1, 3601*time.Second)},
			{Level: "informational", Acknowledge: 72 * time.Hour, Resolve: 30 * 24 * time.Hour},
		},
		SLABreaches: alert.SLABreaches{Acknowledge: 2, Resolve: 2},
		// A2 and A4, each late on both counts: two alerts, four breaches.
		LateAlerts: 2,
		Cases: report.Cases{Opened: 1, Closed: 1, Open: 1, List: []report.Case{
			{ID: 1, Title: "Credential theft on h1", Severity: "critical", Status: incident.StatusClosed, Created: at("2026-10-20 09:00:00"),
				Closed: at("2026-11-05 16:00:00"), Classification: alert.TruePositive},
			{ID: 2, Title: "Lateral movement", Severity: "high", Status: incident.StatusInProgress, Created: at("2026-11-12 10:00:00")},
		}},
		Sources: []report.SourceHealth{
			{Name: "domain controllers", Receiver: "hec", Host: "dc1", Type: "windows", State: report.SourceOK, LastSeen: at("2026-12-02 07:59:00"), Events: 4500000},
			{Name: "firewall", Receiver: "syslog", Host: "fw1", Type: "fortigate", State: report.SourceSilent, LastSeen: at("2026-11-28 02:00:00"), Events: 120000},
		},
		Advisories: []report.Advisory{{ID: 1, TitleEN: "Phishing wave against councils", TitleCY: "Ton gwe-rwydo yn erbyn cynghorau", TLP: "TLP:GREEN",
			Published: at("2026-11-08 09:00:00"), Acknowledged: at("2026-11-09 10:30:00")}},
		Campaigns: []report.Campaign{{ID: 1, Kind: "domain", Value: "evil.example",
			// gwynedd's own alert's time, not the others' (10:05 to 10:30)
			FirstSeen: at("2026-11-03 10:00:00"), LastSeen: at("2026-11-03 10:00:00"), Alerts: 1, OtherMembers: 3}},
		KAnonymity: 2,
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	// The summary's tile counts alerts, not breaches.
	for _, l := range []report.Lang{report.English, report.Welsh} {
		page, err := r.HTML(l)
		if err != nil {
			t.Fatal(err)
		}
		tile := regexp.MustCompile(regexp.QuoteMeta(l.T("sla_breaches")) + `<b>(\d+)</b>`).FindSubmatch([]byte(html.UnescapeString(string(page))))
		if tile == nil || string(tile[1]) != "2" {
			t.Errorf("%s: the tile of alerts past their service level: %q, want 2", l, tile)
		}
	}

	// Below k, the other members are not counted.
	ds.deps.KAnonymity = 4
	r, err = report.Gather(context.Background(), ds.deps, "gwynedd", at("2026-11-01 00:00:00"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Campaigns) != 1 || r.Campaigns[0].OtherMembers != 0 {
		t.Errorf("k = 4: campaigns %+v, want other members not told", r.Campaigns)
	}
	html, err := r.HTML(report.English)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(html, []byte("fewer than 4")) || bytes.Contains(html, []byte("conwy")) || bytes.Contains(html, []byte("powys")) {
		t.Errorf("k = 4: the page names or counts other members")
	}

	// Conwy's report holds Conwy's alert and case only, and not the
	// advisory addressed to every member in October.
	r, err = report.Gather(context.Background(), ds.deps, "conwy", at("2026-11-01 00:00:00"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Alerts != 1 || len(r.Cases.List) != 1 || len(r.Advisories) != 2 || len(r.Campaigns) != 2 || len(r.Sources) != 0 {
		t.Errorf("conwy: alerts %d, cases %d, advisories %d, campaigns %d, sources %d; want 1, 1, 2, 2, 0",
			r.Alerts, len(r.Cases.List), len(r.Advisories), len(r.Campaigns), len(r.Sources))
	}
}

// TestGatherRefuses: a month not yet begun, an unknown member.
func TestGatherRefuses(t *testing.T) {
	ds := seed(t)
	if _, err := report.Gather(context.Background(), ds.deps, "gwynedd", at("2026-12-05 00:00:00").AddDate(0, 1, 0)); err == nil {
		t.Error("a month to come: no error")
	}
	if _, err := report.Gather(context.Background(), ds.deps, "nobody", at("2026-11-01 00:00:00")); err == nil {
		t.Error("an unknown member: no error")
	}
	// Nil optional stores leave their sections empty.
	d := report.Deps{Tenants: ds.deps.Tenants, Alerts: ds.deps.Alerts, Now: ds.deps.Now}
	r, err := report.Gather(context.Background(), d, "gwynedd", at("2026-11-01 00:00:00"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Alerts != 5 || r.Cases.List != nil || r.Sources != nil || r.Advisories != nil || r.Campaigns != nil {
		t.Errorf("no optional stores: %+v", r)
	}
	html, err := r.HTML(report.English)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(html, []byte("No log sources reported.")) {
		t.Error("no sources: the page does not say so")
	}
}
