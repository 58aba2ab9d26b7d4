package sqlstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/event"
)

// TestAlertsMigration migrates a database holding alerts of the old shape
// (one row per tenant, rule and event).
func TestAlertsMigration(t *testing.T) { fresh(t, testAlertsMigration) }

func testAlertsMigration(t *testing.T, pl place) {
	ctx := context.Background()
	raw, err := sql.Open(pl.driver, pl.dsn)
	if err != nil {
		t.Fatal(err)
	}
	x := newDialect(pl.postgres)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, x.rewrite(q).text, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(x.rewrite(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)`).text)
	for v := 1; v <= 5; v++ {
		exec(x.migration(v))
		exec(`INSERT INTO schema_migrations (version, applied) VALUES (?, 0)`, v)
	}
	at := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	exec(`INSERT INTO tenants (id, name, created) VALUES ('council-a', 'Council A', 0)`)
	insert := `INSERT INTO alerts (id, tenant, rule_id, title, author, level, tags, event_ref, event_time, created, fields, status, host_name, user_name)
		VALUES (?, 'council-a', ?, ?, 'Someone', ?, ?, ?, ?, ?, ?, 'new', ?, ?)`
	exec(insert, 7, "r1", "Rule r1", "high", `["attack.t1003"]`, "1:0", at.UnixNano(), at.Add(time.Second).UnixNano(),
		`{"CommandLine":"x -y","Image":"C:\\x.exe"}`, "WS-07", "a.jones")
	exec(insert, 9, "r2", "Rule r2", "critical", `[]`, "1:1", at.UnixNano(), at.UnixNano(), `{}`, "", "")
	exec(insert, 12, "r2", "Rule r2", "bogus", `[]`, "1:2", at.UnixNano(), at.UnixNano(), `{}`, "", "b.smith")
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	db := pl.reopen(t)
	got, err := db.Alerts(ctx, "council-a", alert.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	first := alert.Alert{
		ID: 7, Tenant: "council-a", Producer: alert.ProducerSigma, RuleID: "r1", Title: "Rule r1", Author: "Someone", Level: "high",
		Tags:     []string{"attack.t1003"},
		Entities: []alert.Entity{{Type: alert.EntityHost, Value: "WS-07"}, {Type: alert.EntityUser, Value: "a.jones"}},
		Fields:   []event.Field{{Name: "CommandLine", Value: "x -y"}, {Name: "Image", Value: `C:\x.exe`}},
		Key:      "ws-07\x1fa.jones", Count: 1, Evidence: []string{"1:0"},
		EventTime: at, FirstSeen: at, LastSeen: at, Received: at.Add(time.Second), Created: at.Add(time.Second), Updated: at.Add(time.Second),
		Risk: alert.Risk("high", alert.CriticalityNormal, 1), Incident: 7, Status: alert.StatusNew,
	}
	want := []alert.Alert{
		{ID: 12, Tenant: "council-a", Producer: alert.ProducerSigma, RuleID: "r2", Title: "Rule r2", Author: "Someone", Level: "bogus",
			Entities: []alert.Entity{{Type: alert.EntityUser, Value: "b.smith"}}, Key: "\x1fb.smith", Count: 1, Evidence: []string{"1:2"},
			EventTime: at, FirstSeen: at, LastSeen: at, Received: at, Created: at, Updated: at, Risk: alert.Risk("bogus", alert.CriticalityNormal, 1), Incident: 12, Status: alert.StatusNew},
		{ID: 9, Tenant: "council-a", Producer: alert.ProducerSigma, RuleID: "r2", Title: "Rule r2", Author: "Someone", Level: "critical",
			Key: "\x1f", Count: 1, Evidence: []string{"1:1"},
			EventTime: at, FirstSeen: at, LastSeen: at, Received: at, Created: at, Updated: at, Risk: alert.Risk("critical", alert.CriticalityNormal, 1), Incident: 9, Status: alert.StatusNew},
		first,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("migrated alerts (-want +got):\n%s", diff)
	}
	if tables, err := queryStrings(ctx, db.db, x.tablesQuery()); err != nil || slices.Contains(tables, "alerts_v5") {
		t.Errorf("old table left: %v, %v", tables, err)
	}
	// A new event of the same rule and key joins the migrated alert; a new
	// alert gets an ID above the old ones.
	now := at.Add(time.Hour)
	p := func(rule, key, hash string) alert.Pending {
		return alert.Pending{Detection: alert.Detection{Producer: alert.ProducerSigma, RuleID: rule, Level: "high", EventHash: hash, EventRef: "2:0",
			EventTime: at.Add(time.Minute), Entities: []alert.Entity{{Type: alert.EntityHost, Value: "ws-07"}}}, Key: key, Window: time.Hour,
			GroupBy: []string{alert.EntityHost}, GroupWindow: time.Hour}
	}
	cs, err := db.Raise(ctx, "council-a", []alert.Pending{p("r1", "ws-07\x1fa.jones", "h1"), p("r3", "x", "h2")}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Alert.ID != 7 || cs[0].Alert.Count != 2 || cs[1].What != alert.ChangeCreated || cs[1].Alert.ID <= 12 {
		t.Errorf("after migration: %+v; want alert 7 joined and a new one above 12", cs)
	}
}

// TestAlertsQueryPlans checks the queries that must stay fast use their
// indexes.
func TestAlertsQueryPlans(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	plan := func(q string, args ...any) string {
		t.Helper()
		rows, err := db.db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			out = append(out, detail)
		}
		return strings.Join(out, "; ")
	}
	for _, c := range []struct {
		f     alert.Filter
		index string
	}{
		{alert.Filter{Limit: 50}, "alerts_tenant"},
		{alert.Filter{Status: alert.StatusNew, Limit: 50}, "alerts_status"},
		{alert.Filter{Level: "high", Limit: 50}, "alerts_level"},
		{alert.Filter{RuleID: "r1", Limit: 50}, "alerts_rule"},
		{alert.Filter{Assignee: "ana", Limit: 50}, "alerts_assignee"},
		{alert.Filter{Incident: 4, Limit: 50}, "alerts_incident"},
		{alert.Filter{Status: alert.StatusNew, Before: 1000, Limit: 50}, "alerts_status"},
		{alert.Filter{Status: alert.StatusNew, Level: "high", Limit: 50}, "alerts_status"},
		{alert.Filter{Status: alert.StatusResolved, Level: "high", Limit: 50}, "alerts_level"},
		{alert.Filter{Status: alert.StatusEscalated, RuleID: "r1", Level: "high", Limit: 50}, "alerts_rule"},
		{alert.Filter{Status: alert.StatusNew, Assignee: "ana", RuleID: "r1", Limit: 50}, "alerts_assignee"},
		{alert.Filter{Incident: 4, Assignee: "ana", Limit: 50}, "alerts_incident"},
	} {
		q, args := alertsQuery(newDialect(false), "council-a", c.f, slaNone)
		got := plan(q, args...)
		if !strings.Contains(got, "INDEX "+c.index+" ") || strings.Contains(got, "TEMP B-TREE") {
			t.Errorf("Alerts(%+v): plan %q; want %s without sorting", c.f, got, c.index)
		}
	}
	// By deadline: the open alerts through the status index (sorted: no
	// index holds deadlines), then those without one newest first, through
	// the tenant's, unsorted.
	bySLA := alert.Filter{BySLA: true, SLA: alert.DefaultConfig().SLAFor, Limit: 50}
	q, args := alertsQuery(newDialect(false), "council-a", bySLA, slaOpen)
	if got := plan(q, args...); !strings.Contains(got, "INDEX alerts_status ") {
		t.Errorf("by deadline, open: plan %q; want alerts_status", got)
	}
	q, args = alertsQuery(newDialect(false), "council-a", bySLA, slaNoDue)
	if got := plan(q, args...); !strings.Contains(got, "INDEX alerts_tenant ") || strings.Contains(got, "TEMP B-TREE") {
		t.Errorf("by deadline, none: plan %q; want alerts_tenant without sorting", got)
	}
	got := plan(openAlertsQuery(newDialect(false)), "council-a", `[["r1","k"],["r2","k"]]`, 0)
	if !strings.Contains(got, "INDEX alerts_open (tenant=? AND rule_id=? AND dedup_key=? AND first_seen>?)") {
		t.Errorf("open alerts lookup: plan %q; want alerts_open on every column", got)
	}
	got = plan(entitiesQuery(newDialect(false)), "council-a", `[["host","h"],["user","u"]]`)
	if !strings.Contains(got, "PRIMARY KEY (tenant=? AND type=? AND value=?)") {
		t.Errorf("incident lookup: plan %q; want the primary key", got)
	}
	got = plan(marksQuery(newDialect(false)), `[["00"]]`)
	if !strings.Contains(got, "PRIMARY KEY (mark=?)") {
		t.Errorf("event lookup: plan %q; want the primary key", got)
	}
}

// TestAlertColumns round-trips the JSON columns, quick path and decoder.
func TestAlertColumns(t *testing.T) {
	for _, ss := range [][]string{
		nil, {""}, {"a"}, {"1:0", "1:1"}, {`say "hi"`, `C:\x.exe`, "tab\tnl\n\x1f", `","`, `"],["`, "ünïcødé", "<&>"},
	} {
		got, err := decodeStrings(encodeStrings(ss))
		if err != nil {
			t.Errorf("%q: %v", ss, err)
		}
		if diff := cmp.Diff(ss, got); diff != "" {
			t.Errorf("strings %q (-want +got):\n%s", ss, diff)
		}
		var fs []event.Field
		for i, s := range ss {
			fs = append(fs, event.Field{Name: s, Value: ss[len(ss)-1-i]})
		}
		gotFields, err := decodeFields(encodeFields(fs))
		if err != nil {
			t.Errorf("%q: %v", fs, err)
		}
		if diff := cmp.Diff(fs, gotFields); diff != "" {
			t.Errorf("fields %q (-want +got):\n%s", fs, diff)
		}
	}
	// What SQLite's JSON functions write (the migration) reads back too.
	for in, want := range map[string][][2]string{
		`[["host","WS-07"],["user","a.jones"]]`: {{"host", "WS-07"}, {"user", "a.jones"}},
		`[["k","a\u001fb"],["q","\"x\""]]`:      {{"k", "a\x1fb"}, {"q", `"x"`}},
		`[[ "a" , "b" ]]`:                       {{"a", "b"}},
	} {
		got, err := decodePairs(in)
		if err != nil || !cmp.Equal(want, got) {
			t.Errorf("decodePairs(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
}
