package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// AlertStore is what the alert suite needs: an alert backend, and tenants
// to keep alerts for.
type AlertStore interface {
	alert.Backend
	CreateTenant(ctx context.Context, t tenant.Tenant) (tenant.Tenant, error)
}

// TestAlerts runs the alert suite: deduplication, replays, windows,
// grouping, risk, triage transitions, filters and paging, suppressions,
// assets, and cross-tenant isolation on every method; open returns a new,
// empty store.
func TestAlerts(t *testing.T, open func(t *testing.T) AlertStore) {
	for _, c := range []struct {
		name string
		fn   func(t *testing.T, s AlertStore)
	}{
		{"DedupAndReplay", testAlertDedup},
		{"Window", testAlertWindow},
		{"ResolvedNotJoined", testAlertResolvedNotJoined},
		{"Key", testAlertKey},
		{"CorrelationGroups", testCorrelationGroups},
		{"Grouping", testAlertGrouping},
		{"Risk", testAlertRisk},
		{"Transitions", testAlertTransitions},
		{"Update", testAlertUpdate},
		{"History", testAlertHistory},
		{"Comment", testAlertComment},
		{"Filters", testAlertFilters},
		{"Isolation", testAlertIsolation},
		{"Suppressions", testSuppressions},
		{"Assets", testAssets},
		{"PipelineSuppression", testPipelineSuppression},
		{"Times", testAlertTimes},
		{"Forget", testAlertForget},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open(t)) })
	}
}

// t0 is when the suite's events happen.
var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// testClock is a clock the test moves by hand.
type testClock struct{ now time.Time }

func (c *testClock) Now() time.Time { return c.now }

func addTenants(t *testing.T, s AlertStore, ids ...tenant.ID) {
	t.Helper()
	for _, id := range ids {
		if _, err := s.CreateTenant(context.Background(), tenant.Tenant{ID: id, Name: "Council " + string(id)}); err != nil {
			t.Fatal(err)
		}
	}
}

// newPipeline returns a pipeline over s with cfg (zero: the defaults) and
// its clock, set to t0 + 1h.
func newPipeline(t *testing.T, s AlertStore, cfg *alert.Config) (*alert.Pipeline, *testClock) {
	t.Helper()
	c := alert.DefaultConfig()
	if cfg != nil {
		c = *cfg
	}
	clk := &testClock{now: t0.Add(time.Hour)}
	p, err := alert.NewPipeline(context.Background(), c, alert.Deps{Store: s, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return p, clk
}

// det is a detection of rule on host and user at time at, with the event
// hash and reference given.
func det(rule, host, user string, at time.Time, hash, ref string) alert.Detection {
	d := alert.Detection{
		Producer: alert.ProducerSigma, RuleID: rule, Title: "Rule " + rule, Author: "Someone", Level: "high",
		References: []string{"https://example.org/" + rule}, Tags: []string{"attack.t1003"},
		Fields:   []event.Field{{Name: "Image", Value: `C:\x.exe`}, {Name: "CommandLine", Value: "x -y"}},
		EventRef: ref, EventHash: hash, EventTime: at, Received: at.Add(2 * time.Second),
	}
	if host != "" {
		d.Entities = append(d.Entities, alert.Entity{Type: alert.EntityHost, Value: host})
	}
	if user != "" {
		d.Entities = append(d.Entities, alert.Entity{Type: alert.EntityUser, Value: user})
	}
	return d
}

// raise raises ds in tenant tn and fails the test on error.
func raise(t *testing.T, p *alert.Pipeline, tn tenant.ID, ds ...alert.Detection) []alert.Change {
	t.Helper()
	cs, err := p.Raise(context.Background(), tn, ds)
	if err != nil {
		t.Fatalf("Raise: %v", err)
	}
	return cs
}

// raiseOne raises d and returns the one alert it touched.
func raiseOne(t *testing.T, p *alert.Pipeline, tn tenant.ID, d alert.Detection) alert.Change {
	t.Helper()
	cs := raise(t, p, tn, d)
	if len(cs) != 1 {
		t.Fatalf("Raise(%s %s at %s) = %d changes, want 1", d.RuleID, d.EventHash, d.EventTime, len(cs))
	}
	return cs[0]
}

func mustAlert(t *testing.T, s AlertStore, tn tenant.ID, id int64) alert.Alert {
	t.Helper()
	a, err := s.Alert(context.Background(), tn, id)
	if err != nil {
		t.Fatalf("Alert(%s, %d): %v", tn, id, err)
	}
	return a
}

func mustAlerts(t *testing.T, s AlertStore, tn tenant.ID, f alert.Filter) []alert.Alert {
	t.Helper()
	as, err := s.Alerts(context.Background(), tn, f)
	if err != nil {
		t.Fatalf("Alerts(%s, %+v): %v", tn, f, err)
	}
	return as
}

func ids(as []alert.Alert) []int64 {
	out := []int64{}
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

func testAlertDedup(t *testing.T, s AlertStore) {
	addTenants(t, s, "council-a")
	p, clk := newPipeline(t, s, nil)
	created := clk.now
	// 1,000 events of one host and user, a second apart, arriving out of
	// order, in four batches.
	const n = 1000
	order := make([]int, n)
	for i := range order {
		order[i] = i * 7919 % n // a permutation: 7919 is prime
	}
	batch := func(round int, from, to int) []alert.Detection {
		var ds []alert.Detection
		for _, i := range order[from:to] {
			ds = append(ds, det("r1", "ws-07", "a.jones", t0.Add(time.Duration(i)*time.Second), fmt.Sprintf("h%d", i), fmt.Sprintf("%d:%d", round, i)))
		}
		return ds
	}
	var last alert.Change
	for b := range 4 {
		clk.now = created.Add(time.Duration(b) * time.Minute)
		cs := raise(t, p, "council-a", batch(1, b*250, (b+1)*250)...)
		want := alert.ChangeUpdated
		if b == 0 {
			want = alert.ChangeCreated
		}
		if len(cs) != 1 || cs[0].What != want || cs[0].Alert.Count != int64(250*(b+1)) {
			t.Fatalf("batch %d: changes %+v, want one %s with count %d", b, cs, want, 250*(b+1))
		}
		last = cs[0]
	}
	all := mustAlerts(t, s, "council-a", alert.Filter{})
	if len(all) != 1 {
		t.Fatalf("%d alerts, want 1", len(all))
	}
	got := all[0]
	var evidence []string
	for _, i := range order[:alert.MaxEvidence] {
		evidence = append(evidence, fmt.Sprintf("1:%d", i))
	}
	first := t0.Add(time.Duration(order[0]) * time.Second)
	want := alert.Alert{
		ID: got.ID, Tenant: "council-a", Producer: alert.ProducerSigma, RuleID: "r1", Title: "Rule r1", Author: "Someone", Level: "high",
		References: []string{"https://example.org/r1"}, Tags: []string{"attack.t1003"},
		Entities: []alert.Entity{{Type: alert.EntityHost, Value: "ws-07"}, {Type: alert.EntityUser, Value: "a.jones"}},
		Fields:   []event.Field{{Name: "Image", Value: `C:\x.exe`}, {Name: "CommandLine", Value: "x -y"}},
		Key:      got.Key, Count: n, Evidence: evidence,
		EventTime: first, FirstSeen: t0, LastSeen: t0.Add((n - 1) * time.Second), Received: first.Add(2 * time.Second),
		Created: created, Updated: created.Add(3 * time.Minute), Risk: alert.Risk("high", alert.CriticalityNormal, n),
		Incident: got.Incident, Status: alert.StatusNew,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("alert of 1,000 events (-want +got):\n%s", diff)
	}
	if got.Key == "" || got.Incident == 0 {
		t.Errorf("key %q, incident %d: want both set", got.Key, got.Incident)
	}
	if diff := cmp.Diff(got, last.Alert); diff != "" {
		t.Errorf("last change is not the alert as stored (-stored +change):\n%s", diff)
	}
	if diff := cmp.Diff(got, mustAlert(t, s, "council-a", got.ID)); diff != "" {
		t.Errorf("Alert differs from Alerts (-list +one):\n%s", diff)
	}

	// A replay of the same events (same hashes and times, new references,
	// received again) changes nothing, whether in one batch or several.
	clk.now = created.Add(time.Hour)
	for b := range 4 {
		ds := batch(2, b*250, (b+1)*250)
		for i := range ds {
			ds[i].Received = clk.now
		}
		if cs := raise(t, p, "council-a", ds...); len(cs) != 0 {
			t.Errorf("replay batch %d: %d changes, want none", b, len(cs))
		}
	}
	if cs := raise(t, p, "council-a", batch(3, 0, n)...); len(cs) != 0 {
		t.Errorf("replay in one batch: %d changes, want none", len(cs))
	}
	if diff := cmp.Diff(got, mustAlert(t, s, "council-a", got.ID)); diff != "" {
		t.Errorf("replay changed the alert (-before +after):\n%s", diff)
	}

	// One new event twice in a batch counts once.
	again := det("r1", "ws-07", "a.jones", t0.Add(500*time.Millisecond), "h-new", "4:0")
	cs := raise(t, p, "council-a", again, again)
	if len(cs) != 1 || cs[0].Alert.Count != n+1 || cs[0].Alert.ID != got.ID {
		t.Errorf("new event twice: %+v, want alert %d with count %d", cs, got.ID, n+1)
	}
	// An event without a time of its own (its time is when it was
	// received) counts once however late it comes again.
	bare := det("r1", "ws-07", "a.jones", t0.Add(10*time.Minute), "h-bare", "5:0")
	bare.Received = bare.EventTime
	if cs := raise(t, p, "council-a", bare); len(cs) != 1 || cs[0].Alert.Count != n+2 {
		t.Errorf("event without a time: %+v, want count %d", cs, n+2)
	}
	bare.EventTime, bare.Received, bare.EventRef = t0.Add(20*time.Minute), t0.Add(20*time.Minute), "6:0"
	if cs := raise(t, p, "council-a", bare); len(cs) != 0 {
		t.Errorf("event without a time, received again: %+v, want no change", cs)
	}
	// The same content at another time of its own is another event.
	other := det("r1", "ws-07", "a.jones", t0.Add(30*time.Minute), "h-new", "7:0")
	if cs := raise(t, p, "council-a", other); len(cs) != 1 || cs[0].Alert.Count != n+3 {
		t.Errorf("same hash, another time: %+v, want count %d", cs, n+3)
	}
	// Events without a hash count by their reference.
	noHash := det("r1", "ws-07", "a.jones", t0.Add(40*time.Minute), "", "8:0")
	raise(t, p, "council-a", noHash)
	if cs := raise(t, p, "council-a", noHash); len(cs) != 0 {
		t.Errorf("event without a hash, replayed: %+v, want no change", cs)
	}
}

func testAlertWindow(t *testing.T, s AlertStore) {
	addTenants(t, s, "council-a")
	cfg := alert.DefaultConfig()
	cfg.Rules = map[string]alert.Dedup{"r2": {Key: []string{alert.EntityHost}, Window: 10 * time.Minute}}
	p, _ := newPipeline(t, s, &cfg)
	a := raiseOne(t, p, "council-a", det("r1", "ws-07", "a.jones", t0, "e1", "1:0"))
	if c := raiseOne(t, p, "council-a", det("r1", "ws-07", "a.jones", t0.Add(59*time.Minute), "e2", "1:1")); c.Alert.ID != a.Alert.ID || c.Alert.Count != 2 {
		t.Errorf("event 59 min later: %s alert %d count %d; want alert %d count 2", c.What, c.Alert.ID, c.Alert.Count, a.Alert.ID)
	}
	// An hour after the alert's first event: a new alert.
	b := raiseOne(t, p, "council-a", det("r1", "ws-07", "a.jones", t0.Add(61*time.Minute), "e3", "1:2"))
	if b.What != alert.ChangeCreated || b.Alert.ID == a.Alert.ID || b.Alert.Count != 1 {
		t.Errorf("event past the window: %s alert %d count %d; want a new alert", b.What, b.Alert.ID, b.Alert.Count)
	}
	// Later events join the newer alert; the first keeps its count.
	if c := raiseOne(t, p, "council-a", det("r1", "ws-07", "a.jones", t0.Add(100*time.Minute), "e4", "1:3")); c.Alert.ID != b.Alert.ID || c.Alert.Count != 2 {
		t.Errorf("event 100 min later: alert %d count %d; want alert %d count 2", c.Alert.ID, c.Alert.Count, b.Alert.ID)
	}
	// An earlier event within the window joins and moves first seen back.
	if c := raiseOne(t, p, "council-a", det("r1", "ws-07", "a.jones", t0.Add(-10*time.Minute), "e5", "1:4")); c.Alert.ID != a.Alert.ID || !c.Alert.FirstSeen.Equal(t0.Add(-10*time.Minute)) || !c.Alert.LastSeen.Equal(t0.Add(59*time.Minute)) {
		t.Errorf("earlier event: alert %d first %s last %s; want alert %d first %s", c.Alert.ID, c.Alert.FirstSeen, c.Alert.LastSeen, a.Alert.ID, t0.Add(-10*time.Minute))
	}
	if got := mustAlert(t, s, "council-a", a.Alert.ID); got.Count != 3 || !got.EventTime.Equal(t0) {
		t.Errorf("first alert: count %d, event time %s; want 3, %s", got.Count, got.EventTime, t0)
	}
	// A rule's own window (10 min for r2) applies.
	r2 := raiseOne(t, p, "council-a", det("r2", "ws-07", "", t0, "e1", "1:0"))
	if c := raiseOne(t, p, "council-a", det("r2", "ws-07", "", t0.Add(11*time.Minute), "e6", "1:5")); c.Alert.ID == r2.Alert.ID {
		t.Errorf("r2 event 11 min later joined alert %d; its window is 10 min", c.Alert.ID)
	}
	if n := len(mustAlerts(t, s, "council-a", alert.Filter{})); n != 4 {
		t.Errorf("%d alerts, want 4", n)
	}
}

func testAlertResolvedNotJoined(t *testing.T, s AlertStore) {
	addTenants(t, s, "council-a")
	p, _ := newPipeline(t, s, nil)
	ctx := context.Background()
	a := raiseOne(t, p, "council-a", det("r1", "ws-07", "a.jones", t0, "e1", "1:0")).Alert
	if _, _, err := p.Act(ctx, "council-a", a.ID, "ana", alert.Action{Verb: alert.VerbResolve, Resolution: alert.FalsePositive}); err != nil {
		t.Fatal(err)
	}
	b := raiseOne(t, p, "council-a", det("r1", "ws-07", "a.jones", t0.Add(time.Minute), "e2", "1:1"))
	if b.What != alert.ChangeCreated || b.Alert.ID == a.ID {
		t.Fatalf("event after resolution: %s alert %d; want a new alert", b.What, b.Alert.ID)
	}
	if got := mustAlert(t, s, "council-a", a.ID); got.Count != 1 || got.Status != alert.StatusResolved {
		t.Errorf("resolved alert: count %d status %s; want 1, resolved", got.Count, got.Status)
	}
	if _, _, err := p.Act(ctx, "council-a", b.Alert.ID, "ana", alert.Action{Verb: alert.VerbEscalate}); err != nil {
		t.Fatal(err)
	}
	c := raiseOne(t, p, "council-a", det("r1", "ws-07", "a.jones", t0.Add(2*time.Minute), "e3", "1:2"))
	if c.What != alert.ChangeCreated || c.Alert.ID == a.ID || c.Alert.ID == b.Alert.ID {
		t.Errorf("event after escalation: %s alert %d; want a new alert", c.What, c.Alert.ID)
	}
	// Reopened, an alert is open again; the newest open one is joined.
	if _, _, err := p.Act(ctx, "council-a", c.Alert.ID, "ana", alert.Action{Verb: alert.VerbResolve, Resolution: alert.Duplicate}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Act(ctx, "council-a", b.Alert.ID, "ana", alert.Action{Verb: alert.VerbReopen}); err != nil {
		t.Fatal(err)
	}
	if d := raiseOne(t, p, "council-a", det("r1", "ws-07", "a.jones", t0.Add(3*time.Minute), "e4", "1:3")); d.Alert.ID != b.Alert.ID || d.Alert.Count != 2 {
		t.Errorf("event after reopening: alert %d count %d; want alert %d count 2", d.Alert.ID, d.Alert.Count, b.Alert.ID)
	}
}

func testAlertKey(t *testing.T, s AlertStore) {
	addTenants(t, s, "council-a")
	p, _ := newPipeline(t, s, nil)
	a := raiseOne(t, p, "council-a", det("r1", "ws-07", "a.jones", t0, "e1", "1:0")).Alert
	for _, c := range []struct {
		name string
		d    alert.Detection
		same bool
	}{
		{"other host", det("r1", "ws-08", "a.jones", t0, "e2", "1:1"), false},
		{"other user", det("r1", "ws-07", "b.smith", t0, "e3", "1:2"), false},
		{"other rule", det("r2", "ws-07", "a.jones", t0, "e4", "1:3"), false},
		{"no user", det("r1", "ws-07", "", t0, "e5", "1:4"), false},
		{"same key, other case", det("r1", "WS-07", "A.Jones", t0, "e6", "1:5"), true},
	} {
		got := raiseOne(t, p, "council-a", c.d).Alert
		if (got.ID == a.ID) != c.same {
			t.Errorf("%s: alert %d, first alert %d; want same = %v", c.name, got.ID, a.ID, c.same)
		}
	}
	if n := len(mustAlerts(t, s, "council-a", alert.Filter{})); n != 5 {
		t.Errorf("%d alerts, want 5", n)
	}
}

// testCorrelationGroups: a correlation's alerts are one per group (two
// addresses spraying passwords are two alerts, however the default key of
// host and user reads), unless the rule's own key says otherwise. Its
// evidence is every event of its matches (the event, then the related
// ones), each once.
func testCorrelationGroups(t *testing.T, s AlertStore) {
	addTenants(t, s, "council-a")
	spray := func(rule, ip, hash string, at time.Time, refs ...string) alert.Detection {
		d := alert.Detection{Producer: alert.ProducerCorrelation, RuleID: rule, Title: "Password spraying", Level: "high",
			Fields:    []event.Field{{Name: "IpAddress", Value: ip}},
			Entities:  []alert.Entity{{Type: alert.EntitySourceIP, Value: ip}},
			EventHash: hash, EventTime: at, Received: at.Add(time.Second)}
		if len(refs) > 0 {
			d.EventRef, d.Related = refs[0], refs[1:]
		}
		return d
	}
	cfg := alert.DefaultConfig()
	cfg.Rules = map[string]alert.Dedup{"spray-merged": {Key: []string{}, Window: time.Hour}}
	p, _ := newPipeline(t, s, &cfg)
	a := raiseOne(t, p, "council-a", spray("spray", "203.0.113.7", "h1", t0, "1:3", "1:1", "1:2"))
	b := raiseOne(t, p, "council-a", spray("spray", "198.51.100.9", "h2", t0.Add(time.Minute)))
	again := raiseOne(t, p, "council-a", spray("spray", "203.0.113.7", "h3", t0.Add(2*time.Minute), "2:0", "1:3", "1:4"))
	if a.Alert.ID == b.Alert.ID || again.Alert.ID != a.Alert.ID || again.Alert.Count != 2 {
		t.Errorf("spray alerts %d, %d, %d (count %d): want one per address, the first address's twice", a.Alert.ID, b.Alert.ID, again.Alert.ID, again.Alert.Count)
	}
	if got, want := mustAlert(t, s, "council-a", a.Alert.ID).Evidence, []string{"1:3", "1:1", "1:2", "2:0", "1:4"}; !slices.Equal(got, want) {
		t.Errorf("the spray alert's evidence %v, want %v: its matches' events, each once", got, want)
	}
	// The rule's own key (none: every group one alert) is kept.
	m1 := raiseOne(t, p, "council-a", spray("spray-merged", "203.0.113.7", "h4", t0))
	m2 := raiseOne(t, p, "council-a", spray("spray-merged", "198.51.100.9", "h5", t0.Add(time.Minute)))
	if m1.Alert.ID != m2.Alert.ID {
		t.Errorf("a rule keyed on nothing: alerts %d and %d, want one", m1.Alert.ID, m2.Alert.ID)
	}
}

func testAlertGrouping(t *testing.T, s AlertStore) {
	addTenants(t, s, "council-a")
	p, _ := newPipeline(t, s, nil) // group by host and user within 1 h
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	// One batch: two rules on host h1 share an incident; h2 does not.
	cs := raise(t, p, "council-a",
		det("r1", "h1", "u1", at(0), "e1", "1:0"),
		det("r2", "h1", "u9", at(10), "e2", "1:1"),
		det("r3", "h2", "u2", at(10), "e3", "1:2"))
	if len(cs) != 3 {
		t.Fatalf("%d changes, want 3", len(cs))
	}
	a, b, c := cs[0].Alert, cs[1].Alert, cs[2].Alert
	if a.Incident == 0 || b.Incident != a.Incident {
		t.Errorf("same host 10 min apart: incidents %d, %d; want one", a.Incident, b.Incident)
	}
	if c.Incident == 0 || c.Incident == a.Incident {
		t.Errorf("other host: incident %d; want its own (not %d)", c.Incident, a.Incident)
	}
	// Another batch: a shared user groups too.
	e := raiseOne(t, p, "council-a", det("r5", "h5", "u1", at(20), "e5", "1:5")).Alert
	if e.Incident != a.Incident {
		t.Errorf("shared user: incident %d, want %d", e.Incident, a.Incident)
	}
	// More events of an alert keep its incident current: h1 seen at 50 min
	// brings a new alert at 100 min into the incident.
	raiseOne(t, p, "council-a", det("r1", "h1", "u1", at(50), "e6", "1:6"))
	f := raiseOne(t, p, "council-a", det("r6", "h1", "u6", at(100), "e7", "1:7")).Alert
	if f.Incident != a.Incident {
		t.Errorf("alert 50 min after the incident's last event: incident %d, want %d", f.Incident, a.Incident)
	}
	// Far later, the same host opens a new incident.
	g := raiseOne(t, p, "council-a", det("r4", "h1", "u4", at(300), "e8", "1:8")).Alert
	if g.Incident == 0 || g.Incident == a.Incident || g.Incident == c.Incident {
		t.Errorf("same host 3 h later: incident %d; want a new one", g.Incident)
	}
	inc := mustAlerts(t, s, "council-a", alert.Filter{Incident: a.Incident})
	if diff := cmp.Diff([]int64{f.ID, e.ID, b.ID, a.ID}, ids(inc)); diff != "" {
		t.Errorf("alerts of incident %d (-want +got):\n%s", a.Incident, diff)
	}
	// An alert whose host is in one incident and user in a newer one joins
	// the newer.
	x := raiseOne(t, p, "council-a", det("r7", "h7", "u7", at(400), "e9", "1:9")).Alert
	y := raiseOne(t, p, "council-a", det("r8", "h8", "u8", at(400), "e10", "1:10")).Alert
	z := raiseOne(t, p, "council-a", det("r9", "h7", "u8", at(410), "e11", "1:11")).Alert
	if x.Incident == y.Incident || z.Incident != y.Incident {
		t.Errorf("incidents %d (host) and %d (user, newer): joined %d, want %d", x.Incident, y.Incident, z.Incident, y.Incident)
	}
}

func testAlertRisk(t *testing.T, s AlertStore) {
	addTenants(t, s, "council-a")
	p, _ := newPipeline(t, s, nil)
	ctx := context.Background()
	for _, a := range []alert.Asset{
		{Tenant: "council-a", Type: alert.EntityHost, Name: "DC01", Criticality: alert.CriticalityCritical},
	} {
		if err := p.SetAsset(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	crit := raiseOne(t, p, "council-a", det("r1", "dc01", "", t0, "e1", "1:0")).Alert
	norm := raiseOne(t, p, "council-a", det("r1", "ws-07", "", t0, "e2", "1:1")).Alert
	// The store weighs the criticality it is given (straight to the store:
	// the pipeline's own choice of criticality is the pipeline's to test).
	cs, err := s.Raise(ctx, "council-a", []alert.Pending{{Detection: det("r1", "kiosk", "", t0, "e3", "1:2"), Key: "kiosk", Window: time.Hour,
		Criticality: alert.CriticalityLow, GroupBy: []string{alert.EntityHost}, GroupWindow: time.Hour}}, t0.Add(time.Hour))
	if err != nil || len(cs) != 1 {
		t.Fatalf("Raise with a low asset: %+v, %v", cs, err)
	}
	low := cs[0].Alert
	for _, c := range []struct {
		name string
		got  int
		c    alert.Criticality
	}{{"critical", crit.Risk, alert.CriticalityCritical}, {"normal", norm.Risk, alert.CriticalityNormal}, {"low", low.Risk, alert.CriticalityLow}} {
		if want := alert.Risk("high", c.c, 1); c.got != want {
			t.Errorf("%s asset: risk %d, want %d", c.name, c.got, want)
		}
	}
	if !(crit.Risk > norm.Risk && norm.Risk > low.Risk) {
		t.Errorf("risks critical %d, normal %d, low %d: want decreasing", crit.Risk, norm.Risk, low.Risk)
	}
	var ds []alert.Detection
	for i := range 9 {
		ds = append(ds, det("r1", "ws-07", "", t0.Add(time.Duration(i+1)*time.Second), fmt.Sprintf("n%d", i), fmt.Sprintf("2:%d", i)))
	}
	raise(t, p, "council-a", ds...)
	if got := mustAlert(t, s, "council-a", norm.ID); got.Count != 10 || got.Risk != alert.Risk("high", alert.CriticalityNormal, 10) || got.Risk <= norm.Risk {
		t.Errorf("10 events: risk %d (count %d); want %d, above %d", got.Risk, got.Count, alert.Risk("high", alert.CriticalityNormal, 10), norm.Risk)
	}
	// The highest criticality seen stays, even once the asset is normal.
	if err := p.SetAsset(ctx, alert.Asset{Tenant: "council-a", Type: alert.EntityHost, Name: "dc01", Criticality: alert.CriticalityNormal}); err != nil {
		t.Fatal(err)
	}
	if got := raiseOne(t, p, "council-a", det("r1", "dc01", "", t0.Add(time.Second), "e4", "1:3")).Alert; got.Risk != alert.Risk("high", alert.CriticalityCritical, 2) {
		t.Errorf("critical asset made normal: risk %d, want %d", got.Risk, alert.Risk("high", alert.CriticalityCritical, 2))
	}
}

// reachStatus is how to reach each status from new.
var reachStatus = map[alert.Status]*alert.Action{
	alert.StatusNew:          nil,
	alert.StatusAcknowledged: {Verb: alert.VerbAck},
	alert.StatusInProgress:   {Verb: alert.VerbAssign, Assignee: "bo"},
	alert.StatusResolved:     {Verb: alert.VerbResolve, Resolution: alert.BenignPositive, Note: "the backup job"},
	alert.StatusEscalated:    {Verb: alert.VerbEscalate},
}

func testAlertTransitions(t *testing.T, s AlertStore) {
	addTenants(t, s, "council-a")
	p, clk := newPipeline(t, s, nil)
	ctx := context.Background()
	// Each verb's legal starts and result.
	reach := reachStatus
	verbs := []struct {
		act   alert.Action
		from  []alert.Status
		to    alert.Status
		check func(a alert.Alert, now time.Time) bool
	}{
		{alert.Action{Verb: alert.VerbAck}, []alert.Status{alert.StatusNew}, alert.StatusAcknowledged,
			func(a alert.Alert, now time.Time) bool { return a.Acknowledged.Equal(now) }},
		{alert.Action{Verb: alert.VerbAssign, Assignee: "ana"}, []alert.Status{alert.StatusNew, alert.StatusAcknowledged, alert.StatusInProgress}, alert.StatusInProgress,
			func(a alert.Alert, now time.Time) bool { return a.Assignee == "ana" }},
		{alert.Action{Verb: alert.VerbResolve, Resolution: alert.TruePositive, Note: "confirmed"}, []alert.Status{alert.StatusNew, alert.StatusAcknowledged, alert.StatusInProgress, alert.StatusEscalated}, alert.StatusResolved,
			func(a alert.Alert, now time.Time) bool {
				return a.Resolution == alert.TruePositive && a.Note == "confirmed" && a.Resolved.Equal(now)
			}},
		{alert.Action{Verb: alert.VerbEscalate}, []alert.Status{alert.StatusNew, alert.StatusAcknowledged, alert.StatusInProgress}, alert.StatusEscalated,
			func(a alert.Alert, now time.Time) bool { return a.Escalated.Equal(now) }},
		{alert.Action{Verb: alert.VerbReopen}, []alert.Status{alert.StatusResolved, alert.StatusEscalated}, alert.StatusInProgress,
			// The resolution's note goes with it.
			func(a alert.Alert, now time.Time) bool {
				return a.Resolution == "" && a.Resolved.IsZero() && a.Note == ""
			}},
	}
	n := 0
	for _, start := range []alert.Status{alert.StatusNew, alert.StatusAcknowledged, alert.StatusInProgress, alert.StatusResolved, alert.StatusEscalated} {
		for _, v := range verbs {
			n++
			name := fmt.Sprintf("%s from %s", v.act.Verb, start)
			clk.now = t0.Add(time.Hour)
			id := raiseOne(t, p, "council-a", det("r1", fmt.Sprintf("h%d", n), "", t0, fmt.Sprintf("e%d", n), fmt.Sprintf("1:%d", n))).Alert.ID
			if act := reach[start]; act != nil {
				if _, _, err := p.Act(ctx, "council-a", id, "ana", *act); err != nil {
					t.Fatalf("%s: reaching %s: %v", name, start, err)
				}
			}
			before := mustAlert(t, s, "council-a", id)
			clk.now = t0.Add(2 * time.Hour)
			b, a, err := p.Act(ctx, "council-a", id, "ana", v.act)
			if !slices.Contains(v.from, start) {
				if !errors.Is(err, alert.ErrTransition) {
					t.Errorf("%s: err = %v, want ErrTransition", name, err)
				}
				if diff := cmp.Diff(before, mustAlert(t, s, "council-a", id)); diff != "" {
					t.Errorf("%s: refused change altered the alert (-before +after):\n%s", name, diff)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if diff := cmp.Diff(before, b); diff != "" {
				t.Errorf("%s: before (-stored +returned):\n%s", name, diff)
			}
			stored := mustAlert(t, s, "council-a", id)
			if diff := cmp.Diff(stored, a); diff != "" {
				t.Errorf("%s: after (-stored +returned):\n%s", name, diff)
			}
			if stored.Status != v.to || !v.check(stored, clk.now) || !stored.Updated.Equal(clk.now) {
				t.Errorf("%s: stored %+v; want status %s", name, stored, v.to)
			}
			// Acknowledged is when the alert first left new.
			if want := before.Acknowledged; !want.IsZero() && !stored.Acknowledged.Equal(want) {
				t.Errorf("%s: acknowledged moved from %s to %s", name, want, stored.Acknowledged)
			}
			if stored.Acknowledged.IsZero() {
				t.Errorf("%s: acknowledged not set", name)
			}
		}
	}
}

func testAlertUpdate(t *testing.T, s AlertStore) {
	addTenants(t, s, "council-a")
	p, _ := newPipeline(t, s, nil)
	ctx := context.Background()
	orig := raiseOne(t, p, "council-a", det("r1", "ws-07", "a.jones", t0, "e1", "1:0")).Alert
	// Only the triage fields are written back.
	now := t0.Add(3 * time.Hour)
	_, after, err := s.Update(ctx, "council-a", orig.ID, func(a *alert.Alert) error {
		a.Title, a.Count, a.Risk, a.Evidence = "changed", 99, 1, append(a.Evidence, "x")
		a.Status, a.Assignee, a.Note, a.Acknowledged, a.Updated = alert.StatusInProgress, "ana", "looking", now, now
		a.History = append(a.History, alert.Step{Time: now, Actor: "tok-1", Verb: alert.VerbAssign, Status: alert.StatusInProgress, Assignee: "ana"})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := orig
	want.Status, want.Assignee, want.Note, want.Acknowledged, want.Updated = alert.StatusInProgress, "ana", "looking", now, now
	want.History = []alert.Step{{Time: now, Actor: "tok-1", Verb: alert.VerbAssign, Status: alert.StatusInProgress, Assignee: "ana"}}
	stored := mustAlert(t, s, "council-a", orig.ID)
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("stored after Update (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(stored, after); diff != "" {
		t.Errorf("returned after (-stored +returned):\n%s", diff)
	}
	// An error from fn aborts the change and comes back unchanged.
	errStop := errors.New("stop")
	if _, _, err := s.Update(ctx, "council-a", orig.ID, func(a *alert.Alert) error {
		a.Status = alert.StatusResolved
		return errStop
	}); err != errStop {
		t.Errorf("fn error: err = %v, want it unchanged", err)
	}
	if diff := cmp.Diff(stored, mustAlert(t, s, "council-a", orig.ID)); diff != "" {
		t.Errorf("aborted Update changed the alert (-before +after):\n%s", diff)
	}
	called := false
	if _, _, err := s.Update(ctx, "council-a", orig.ID+1000, func(*alert.Alert) error { called = true; return nil }); !errors.Is(err, alert.ErrNotFound) || called {
		t.Errorf("missing alert: err = %v, fn called %v; want ErrNotFound, not called", err, called)
	}
	if _, err := s.Alert(ctx, "council-a", orig.ID+1000); !errors.Is(err, alert.ErrNotFound) {
		t.Errorf("Alert of a missing ID: err = %v, want ErrNotFound", err)
	}
}

// testAlertHistory: every analyst's change is kept on the alert, who and
// when, oldest first; a refused one adds nothing; the newest
// alert.MaxHistory stay.
func testAlertHistory(t *testing.T, s AlertStore) {
	addTenants(t, s, "council-a", "council-b")
	p, clk := newPipeline(t, s, nil)
	ctx := context.Background()
	id := raiseOne(t, p, "council-a", det("r1", "ws-07", "a.jones", t0, "e1", "1:0")).Alert.ID
	if h := mustAlert(t, s, "council-a", id).History; len(h) != 0 {
		t.Fatalf("a new alert's history: %+v, want none", h)
	}
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	steps := []struct {
		actor string
		act   alert.Action
		want  alert.Step
	}{
		{"tok-ana", alert.Action{Verb: alert.VerbAck},
			alert.Step{Verb: alert.VerbAck, Status: alert.StatusAcknowledged}},
		{"tok-lead", alert.Action{Verb: alert.VerbAssign, Assignee: "bo"},
			alert.Step{Verb: alert.VerbAssign, Status: alert.StatusInProgress, Assignee: "bo"}},
		{"user:bo", alert.Action{Verb: alert.VerbResolve, Resolution: alert.FalsePositive, Note: "the nightly backup"},
			alert.Step{Verb: alert.VerbResolve, Status: alert.StatusResolved, Resolution: alert.FalsePositive, Assignee: "bo", Note: "the nightly backup"}},
		{"tok-lead", alert.Action{Verb: alert.VerbReopen},
			alert.Step{Verb: alert.VerbReopen, Status: alert.StatusInProgress, Assignee: "bo"}},
	}
	var want []alert.Step
	for i, st := range steps {
		clk.now = at(i + 1)
		if _, _, err := p.Act(ctx, "council-a", id, st.actor, st.act); err != nil {
			t.Fatalf("%s: %v", st.act.Verb, err)
		}
		w := st.want
		w.Time, w.Actor = at(i+1), st.actor
		want = append(want, w)
	}
	// Refused: ack needs new; another tenant's actor cannot reach it.
	clk.now = at(10)
	if _, _, err := p.Act(ctx, "council-a", id, "tok-ana", alert.Action{Verb: alert.VerbAck}); !errors.Is(err, alert.ErrTransition) {
		t.Fatalf("ack of an in-progress alert: %v, want ErrTransition", err)
	}
	if _, _, err := p.Act(ctx, "council-b", id, "tok-b", alert.Action{Verb: alert.VerbEscalate}); !errors.Is(err, alert.ErrNotFound) {
		t.Fatalf("another tenant's escalate: %v, want ErrNotFound", err)
	}
	if diff := cmp.Diff(want, mustAlert(t, s, "council-a", id).History); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if got := mustAlerts(t, s, "council-a", alert.Filter{Limit: 10}); len(got) != 1 || !cmp.Equal(want, got[0].History) {
		t.Errorf("the list's alert history: %+v, want %+v", got, want)
	}
	// Only the newest MaxHistory stay.
	for i := 0; len(want) < alert.MaxHistory+3; i++ {
		clk.now = at(100 + i)
		st := alert.Action{Verb: alert.VerbResolve, Resolution: alert.BenignPositive}
		if i%2 == 1 {
			st = alert.Action{Verb: alert.VerbReopen}
		}
		_, a, err := p.Act(ctx, "council-a", id, "tok-ana", st)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, a.History[len(a.History)-1])
	}
	got := mustAlert(t, s, "council-a", id).History
	if diff := cmp.Diff(want[len(want)-alert.MaxHistory:], got); diff != "" {
		t.Errorf("history past %d changes (-want the newest +got):\n%s", alert.MaxHistory, diff)
	}
}

// testAlertComment: a comment is a step of the history in every status,
// with its note and actor, and changes nothing else but the update time
// (not acknowledged by it); an empty or oversized one is refused.
func testAlertComment(t *testing.T, s AlertStore) {
	addTenants(t, s, "council-a")
	p, clk := newPipeline(t, s, nil)
	ctx := context.Background()
	n := 0
	for start, act := range reachStatus {
		n++
		clk.now = t0.Add(time.Hour)
		id := raiseOne(t, p, "council-a", det("r1", fmt.Sprintf("c%d", n), "", t0, fmt.Sprintf("c%d", n), fmt.Sprintf("9:%d", n))).Alert.ID
		if act != nil {
			if _, _, err := p.Act(ctx, "council-a", id, "ana", *act); err != nil {
				t.Fatalf("reaching %s: %v", start, err)
			}
		}
		before := mustAlert(t, s, "council-a", id)
		clk.now = t0.Add(2 * time.Hour)
		for _, bad := range []string{"", "  \n ", strings.Repeat("x", alert.MaxComment+1)} {
			if _, _, err := p.Act(ctx, "council-a", id, "ana", alert.Action{Verb: alert.VerbComment, Note: bad}); !errors.Is(err, alert.ErrInvalid) {
				t.Errorf("%s: a comment of %d bytes: %v, want ErrInvalid", start, len(bad), err)
			}
		}
		_, after, err := p.Act(ctx, "council-a", id, "user:cai", alert.Action{Verb: alert.VerbComment, Note: "member says: expected\nchange 4711"})
		if err != nil {
			t.Fatalf("%s: comment: %v", start, err)
		}
		want := before
		want.Updated = clk.now
		want.History = append(slices.Clone(before.History), alert.Step{Time: clk.now, Actor: "user:cai", Verb: alert.VerbComment,
			Status: start, Resolution: before.Resolution, Assignee: before.Assignee, Note: "member says: expected\nchange 4711"})
		if diff := cmp.Diff(want, after); diff != "" {
			t.Errorf("%s: after a comment (-want +got):\n%s", start, diff)
		}
		if diff := cmp.Diff(after, mustAlert(t, s, "council-a", id)); diff != "" {
			t.Errorf("%s: stored (-answered +stored):\n%s", start, diff)
		}
	}
}

func testAlertFilters(t *testing.T, s AlertStore) {
	addTenants(t, s, "council-a")
	p, clk := newPipeline(t, s, nil)
	ctx := context.Background()
	levels := []string{"informational", "low", "medium", "high", "critical"}
	var made []alert.Alert
	for i := range 12 {
		clk.now = t0.Add(time.Duration(i) * time.Minute)
		d := det(fmt.Sprintf("r%d", i%3), fmt.Sprintf("h%d", i), "", t0, fmt.Sprintf("e%d", i), fmt.Sprintf("1:%d", i))
		d.Level = levels[i%5]
		if i%5 == 2 {
			d.Producer = alert.ProducerHealth
		}
		if i == 4 {
			d.Entities = append(d.Entities, alert.Entity{Type: alert.EntityUser, Value: "shared"}) // groups with 5
		}
		if i == 5 {
			d.Entities = []alert.Entity{{Type: alert.EntityHost, Value: "h5"}, {Type: alert.EntityUser, Value: "shared"}}
		}
		a := raiseOne(t, p, "council-a", d).Alert
		var act *alert.Action
		switch i % 4 {
		case 1:
			act = &alert.Action{Verb: alert.VerbAck}
		case 2:
			act = &alert.Action{Verb: alert.VerbAssign, Assignee: "ana"}
		case 3:
			act = &alert.Action{Verb: alert.VerbResolve, Resolution: alert.FalsePositive}
		}
		if i == 6 {
			act = &alert.Action{Verb: alert.VerbAssign, Assignee: "bo"}
		}
		if act != nil {
			var err error
			if _, a, err = p.Act(ctx, "council-a", a.ID, "lead", *act); err != nil {
				t.Fatal(err)
			}
		}
		made = append(made, a)
	}
	all := mustAlerts(t, s, "council-a", alert.Filter{})
	if len(all) != 12 {
		t.Fatalf("%d alerts, want 12", len(all))
	}
	if !slices.IsSortedFunc(all, func(a, b alert.Alert) int { return int(b.ID - a.ID) }) {
		t.Errorf("alerts not newest first: %v", ids(all))
	}
	slices.Reverse(made)
	if diff := cmp.Diff(made, all); diff != "" {
		t.Errorf("Alerts (-as raised and changed +listed):\n%s", diff)
	}
	if all[7].Incident != all[6].Incident {
		t.Fatalf("alerts 4 and 5 share user %q but not an incident", "shared")
	}
	for _, c := range []struct {
		name string
		f    alert.Filter
		keep func(a alert.Alert) bool
	}{
		{"new", alert.Filter{Status: alert.StatusNew}, func(a alert.Alert) bool { return a.Status == alert.StatusNew }},
		{"acknowledged", alert.Filter{Status: alert.StatusAcknowledged}, func(a alert.Alert) bool { return a.Status == alert.StatusAcknowledged }},
		{"in-progress", alert.Filter{Status: alert.StatusInProgress}, func(a alert.Alert) bool { return a.Status == alert.StatusInProgress }},
		{"resolved", alert.Filter{Status: alert.StatusResolved}, func(a alert.Alert) bool { return a.Status == alert.StatusResolved }},
		{"escalated (none)", alert.Filter{Status: alert.StatusEscalated}, func(a alert.Alert) bool { return false }},
		{"level", alert.Filter{Level: "high"}, func(a alert.Alert) bool { return a.Level == "high" }},
		{"rule", alert.Filter{RuleID: "r1"}, func(a alert.Alert) bool { return a.RuleID == "r1" }},
		{"assignee", alert.Filter{Assignee: "ana"}, func(a alert.Alert) bool { return a.Assignee == "ana" }},
		{"producer", alert.Filter{Producer: alert.ProducerHealth}, func(a alert.Alert) bool { return a.Producer == alert.ProducerHealth }},
		{"producer and status", alert.Filter{Producer: alert.ProducerSigma, Status: alert.StatusResolved}, func(a alert.Alert) bool {
			return a.Producer == alert.ProducerSigma && a.Status == alert.StatusResolved
		}},
		{"producer (none)", alert.Filter{Producer: alert.ProducerCampaign}, func(a alert.Alert) bool { return false }},
		{"incident", alert.Filter{Incident: all[6].Incident}, func(a alert.Alert) bool { return a.Incident == all[6].Incident }},
		{"created", alert.Filter{CreatedFrom: t0.Add(3 * time.Minute), CreatedTo: t0.Add(7 * time.Minute)}, func(a alert.Alert) bool {
			return !a.Created.Before(t0.Add(3*time.Minute)) && a.Created.Before(t0.Add(7*time.Minute))
		}},
		{"rule and status", alert.Filter{RuleID: "r2", Status: alert.StatusInProgress}, func(a alert.Alert) bool {
			return a.RuleID == "r2" && a.Status == alert.StatusInProgress
		}},
		{"before", alert.Filter{Before: all[4].ID}, func(a alert.Alert) bool { return a.ID < all[4].ID }},
		{"limit", alert.Filter{Limit: 5}, func(a alert.Alert) bool { return a.ID >= all[4].ID }},
	} {
		want := []int64{}
		for _, a := range all {
			if c.keep(a) {
				want = append(want, a.ID)
			}
		}
		if !strings.HasSuffix(c.name, "(none)") && len(want) == 0 {
			t.Fatalf("%s: the fixture has no alert to find", c.name)
		}
		if diff := cmp.Diff(want, ids(mustAlerts(t, s, "council-a", c.f))); diff != "" {
			t.Errorf("%s: IDs (-want +got):\n%s", c.name, diff)
		}
	}
	// Keyset paging walks every alert once, newest first, or by risk
	// (riskiest first, equal risks newest first, paged by risk and ID),
	// also filtered.
	byRisk := slices.Clone(all)
	slices.SortStableFunc(byRisk, func(a, b alert.Alert) int { return b.Risk - a.Risk }) // all is newest first
	if slices.Equal(ids(byRisk), ids(all)) {
		t.Fatal("the fixture's risks follow its IDs: nothing to sort")
	}
	// By service-level deadline: soonest first, equal ones (no deadline:
	// resolved, or a level without the time) newest first.
	sla := func(_ tenant.ID, level string) alert.SLA {
		return map[string]alert.SLA{"critical": {Acknowledge: 5 * time.Minute, Resolve: time.Hour}, "high": {Acknowledge: 15 * time.Minute, Resolve: 4 * time.Hour},
			"medium": {Acknowledge: 2 * time.Minute}}[level]
	}
	bySLA := slices.Clone(all)
	due := alert.Filter{BySLA: true, SLA: sla}.Due
	slices.SortStableFunc(bySLA, func(a, b alert.Alert) int {
		switch da, db := due(a), due(b); {
		case da < db:
			return -1
		case da > db:
			return 1
		}
		return 0
	})
	if slices.Equal(ids(bySLA), ids(all)) || slices.Equal(ids(bySLA), ids(byRisk)) {
		t.Fatal("the fixture's deadlines follow its IDs or risks: nothing to sort")
	}
	for _, f := range []alert.Filter{{Limit: 5}, {Limit: 2, RuleID: "r0"}, {ByRisk: true, Limit: 3}, {ByRisk: true, Limit: 2, Status: alert.StatusNew},
		{BySLA: true, SLA: sla, Limit: 3}, {BySLA: true, SLA: sla, Limit: 1, Level: "high"}} {
		order := all
		switch {
		case f.BySLA:
			order = bySLA
		case f.ByRisk:
			order = byRisk
		}
		want := []int64{}
		for _, a := range order {
			if (f.RuleID == "" || a.RuleID == f.RuleID) && (f.Status == "" || a.Status == f.Status) && (f.Level == "" || a.Level == f.Level) {
				want = append(want, a.ID)
			}
		}
		var got []int64
		for page := 0; page < 20; page++ {
			as := mustAlerts(t, s, "council-a", f)
			if len(as) == 0 {
				break
			}
			if len(as) > f.Limit {
				t.Fatalf("page of %d, limit %d", len(as), f.Limit)
			}
			got = append(got, ids(as)...)
			f = f.From(as[len(as)-1])
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("paging %+v (-want +got):\n%s", f, diff)
		}
	}
}

func testAlertIsolation(t *testing.T, s AlertStore) {
	addTenants(t, s, "council-a", "council-b")
	p, _ := newPipeline(t, s, nil)
	ctx := context.Background()
	// The same event in two tenants is two alerts, each counted once, in
	// separate incidents.
	a := raiseOne(t, p, "council-a", det("r1", "ws-07", "a.jones", t0, "e1", "1:0")).Alert
	b := raiseOne(t, p, "council-b", det("r1", "ws-07", "a.jones", t0, "e1", "1:0")).Alert
	if a.ID == b.ID || b.Tenant != "council-b" || b.Count != 1 || b.Incident == a.Incident {
		t.Fatalf("council-b's alert %+v; council-a's %d in incident %d", b, a.ID, a.Incident)
	}
	b2 := raiseOne(t, p, "council-b", det("r2", "ws-07", "", t0.Add(time.Minute), "e2", "1:1")).Alert
	if b2.Incident != b.Incident {
		t.Errorf("council-b's second alert on ws-07: incident %d, want %d", b2.Incident, b.Incident)
	}
	if got := mustAlert(t, s, "council-a", a.ID); got.Count != 1 || got.Incident != a.Incident {
		t.Errorf("council-b's events changed council-a's alert: %+v", got)
	}

	if _, err := s.Alert(ctx, "council-b", a.ID); !errors.Is(err, alert.ErrNotFound) {
		t.Errorf("Alert(council-b, A's): err = %v, want ErrNotFound", err)
	}
	if _, err := s.Alert(ctx, "council-a", b.ID); !errors.Is(err, alert.ErrNotFound) {
		t.Errorf("Alert(council-a, B's): err = %v, want ErrNotFound", err)
	}
	// AlertTenant answers for any tenant: it is for provider roles.
	if tn, err := s.AlertTenant(ctx, a.ID); err != nil || tn != "council-a" {
		t.Errorf("AlertTenant(A's) = %q, %v", tn, err)
	}
	if tn, err := s.AlertTenant(ctx, b.ID); err != nil || tn != "council-b" {
		t.Errorf("AlertTenant(B's) = %q, %v", tn, err)
	}
	if _, err := s.AlertTenant(ctx, b2.ID+1000); !errors.Is(err, alert.ErrNotFound) {
		t.Errorf("AlertTenant(missing): err = %v, want ErrNotFound", err)
	}
	called := false
	if _, _, err := s.Update(ctx, "council-b", a.ID, func(x *alert.Alert) error {
		called = true
		x.Status = alert.StatusResolved
		return nil
	}); !errors.Is(err, alert.ErrNotFound) || called {
		t.Errorf("Update(council-b, A's): err = %v, fn called %v; want ErrNotFound, not called", err, called)
	}
	if _, _, err := p.Act(ctx, "council-b", a.ID, "ana", alert.Action{Verb: alert.VerbAck}); !errors.Is(err, alert.ErrNotFound) {
		t.Errorf("Act(council-b, A's): err = %v, want ErrNotFound", err)
	}
	if diff := cmp.Diff(a, mustAlert(t, s, "council-a", a.ID)); diff != "" {
		t.Errorf("council-b changed council-a's alert (-before +after):\n%s", diff)
	}
	for _, f := range []alert.Filter{{}, {RuleID: "r1"}, {Status: alert.StatusNew}, {Level: "high"}, {Producer: alert.ProducerSigma}, {Incident: a.Incident}, {Before: a.ID + 1}} {
		for _, x := range mustAlerts(t, s, "council-b", f) {
			if x.Tenant != "council-b" || x.ID == a.ID {
				t.Errorf("Alerts(council-b, %+v) lists %d of %s", f, x.ID, x.Tenant)
			}
		}
	}
	if got := ids(mustAlerts(t, s, "council-a", alert.Filter{})); !slices.Equal(got, []int64{a.ID}) {
		t.Errorf("Alerts(council-a) = %v, want [%d]", got, a.ID)
	}

	sa, err := s.AddSuppression(ctx, alert.Suppression{Tenant: "council-a", RuleID: "r9", Reason: "noisy", Author: "ana", Created: t0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RemoveSuppression(ctx, "council-b", sa.ID); !errors.Is(err, alert.ErrNotFound) {
		t.Errorf("RemoveSuppression(council-b, A's): err = %v, want ErrNotFound", err)
	}
	if ss, err := s.Suppressions(ctx, "council-b"); err != nil || len(ss) != 0 {
		t.Errorf("Suppressions(council-b) = %+v, %v; want none", ss, err)
	}
	if err := s.CountSuppressed(ctx, "council-b", map[int64]int64{sa.ID: 5}); err != nil {
		t.Fatal(err)
	}
	if ss, err := s.Suppressions(ctx, "council-a"); err != nil || len(ss) != 1 || ss[0].Hits != 0 {
		t.Errorf("Suppressions(council-a) = %+v, %v; want one, untouched by council-b", ss, err)
	}

	if err := s.SetAsset(ctx, alert.Asset{Tenant: "council-a", Type: alert.EntityHost, Name: "ws-07", Criticality: alert.CriticalityHigh}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAsset(ctx, alert.Asset{Tenant: "council-b", Type: alert.EntityHost, Name: "ws-07", Criticality: alert.CriticalityNormal}); err != nil {
		t.Fatal(err)
	}
	if as, err := s.Assets(ctx, "council-b"); err != nil || len(as) != 0 {
		t.Errorf("Assets(council-b) = %+v, %v; want none", as, err)
	}
	if as, err := s.Assets(ctx, "council-a"); err != nil || len(as) != 1 || as[0].Criticality != alert.CriticalityHigh {
		t.Errorf("Assets(council-a) = %+v, %v; want ws-07 high, untouched by council-b", as, err)
	}
}

func testSuppressions(t *testing.T, s AlertStore) {
	addTenants(t, s, "council-a", "council-b")
	ctx := context.Background()
	s1 := alert.Suppression{Tenant: "council-a", RuleID: "r1", Where: []alert.Condition{{Field: "host", Value: "ws-07"}, {Field: "Image", Value: `C:\x.exe`}},
		Reason: "patch test", Author: "ana", Created: t0, Expires: t0.Add(time.Hour)}
	s2 := alert.Suppression{Tenant: "council-a", RuleID: "r2", Reason: "known scanner", Author: "bo", Created: t0}
	s3 := alert.Suppression{Tenant: "council-b", RuleID: "r1", Reason: "lab", Author: "cy", Created: t0}
	for _, sp := range []*alert.Suppression{&s1, &s2, &s3} {
		got, err := s.AddSuppression(ctx, *sp)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID == 0 {
			t.Errorf("AddSuppression: no ID")
		}
		sp.ID = got.ID
		if diff := cmp.Diff(*sp, got); diff != "" {
			t.Errorf("AddSuppression (-want +got):\n%s", diff)
		}
	}
	if s1.ID == s2.ID || s2.ID == s3.ID {
		t.Errorf("IDs %d, %d, %d: want distinct", s1.ID, s2.ID, s3.ID)
	}
	got, err := s.Suppressions(ctx, "council-a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]alert.Suppression{s1, s2}, got); diff != "" {
		t.Errorf("Suppressions(council-a) (-want +got):\n%s", diff)
	}
	all, err := s.AllSuppressions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]alert.Suppression{s1, s2, s3}, all); diff != "" {
		t.Errorf("AllSuppressions (-want +got):\n%s", diff)
	}
	for _, hits := range []map[int64]int64{{s1.ID: 3, s2.ID: 1}, {s1.ID: 2}, {}} {
		if err := s.CountSuppressed(ctx, "council-a", hits); err != nil {
			t.Fatal(err)
		}
	}
	s1.Hits, s2.Hits = 5, 1
	removed, err := s.RemoveSuppression(ctx, "council-a", s1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s1, removed); diff != "" {
		t.Errorf("RemoveSuppression (-want +got):\n%s", diff)
	}
	if got, _ := s.Suppressions(ctx, "council-a"); len(got) != 1 || got[0].ID != s2.ID || got[0].Hits != 1 {
		t.Errorf("after removal: %+v; want only %d with 1 hit", got, s2.ID)
	}
	if _, err := s.RemoveSuppression(ctx, "council-a", s1.ID); !errors.Is(err, alert.ErrNotFound) {
		t.Errorf("removing twice: err = %v, want ErrNotFound", err)
	}
}

func testAssets(t *testing.T, s AlertStore) {
	addTenants(t, s, "council-a", "council-b")
	ctx := context.Background()
	for _, a := range []alert.Asset{
		{Tenant: "council-a", Type: alert.EntityHost, Name: "DC01", Criticality: alert.CriticalityHigh},
		{Tenant: "council-a", Type: alert.EntityUser, Name: "svc_backup", Criticality: alert.CriticalityLow},
		{Tenant: "council-a", Type: alert.EntityHost, Name: "dc01", Criticality: alert.CriticalityCritical}, // same asset
		{Tenant: "council-a", Type: alert.EntityHost, Name: "kiosk", Criticality: alert.CriticalityHigh},
		{Tenant: "council-b", Type: alert.EntityHost, Name: "DC01", Criticality: alert.CriticalityLow},
	} {
		if err := s.SetAsset(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetAsset(ctx, alert.Asset{Tenant: "council-a", Type: alert.EntityHost, Name: "KIOSK", Criticality: alert.CriticalityNormal}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Assets(ctx, "council-a")
	if err != nil {
		t.Fatal(err)
	}
	want := []alert.Asset{
		{Tenant: "council-a", Type: alert.EntityHost, Name: "dc01", Criticality: alert.CriticalityCritical},
		{Tenant: "council-a", Type: alert.EntityUser, Name: "svc_backup", Criticality: alert.CriticalityLow},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Assets(council-a) (-want +got):\n%s", diff)
	}
	all, err := s.AllAssets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, alert.Asset{Tenant: "council-b", Type: alert.EntityHost, Name: "DC01", Criticality: alert.CriticalityLow})
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("AllAssets (-want +got):\n%s", diff)
	}
}

func testPipelineSuppression(t *testing.T, s AlertStore) {
	addTenants(t, s, "council-a")
	ctx := context.Background()
	var seen []alert.Change
	clk := &testClock{now: t0}
	p, err := alert.NewPipeline(ctx, alert.DefaultConfig(), alert.Deps{Store: s, Now: clk.Now, OnChange: func(_ context.Context, cs []alert.Change) {
		seen = append(seen, cs...)
	}})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := p.AddSuppression(ctx, alert.Suppression{Tenant: "council-a", RuleID: "r1", Where: []alert.Condition{{Field: "host", Value: "WS-07"}},
		Reason: "patch window", Author: "ana", Expires: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if cs := raise(t, p, "council-a", det("r1", "ws-07", "a.jones", t0, "e1", "1:0"), det("r1", "ws-07", "b.smith", t0, "e2", "1:1")); len(cs) != 0 {
		t.Errorf("suppressed detections raised %+v", cs)
	}
	if as := mustAlerts(t, s, "council-a", alert.Filter{}); len(as) != 0 {
		t.Errorf("suppressed detections stored %d alerts", len(as))
	}
	// Other hosts and rules still alert.
	other := raise(t, p, "council-a", det("r1", "ws-08", "a.jones", t0, "e3", "1:2"), det("r2", "ws-07", "a.jones", t0, "e4", "1:3"))
	if len(other) != 2 {
		t.Errorf("unsuppressed detections: %d changes, want 2", len(other))
	}
	if ss, _ := s.Suppressions(ctx, "council-a"); len(ss) != 1 || ss[0].Hits != 2 {
		t.Errorf("suppressions = %+v; want %d with 2 hits", ss, sp.ID)
	}
	// A pipeline started afresh loads the suppression.
	p2, err := alert.NewPipeline(ctx, alert.DefaultConfig(), alert.Deps{Store: s, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if cs := raise(t, p2, "council-a", det("r1", "ws-07", "a.jones", t0.Add(time.Minute), "e5", "1:4")); len(cs) != 0 {
		t.Errorf("restarted pipeline raised a suppressed detection: %+v", cs)
	}
	// Once it expires, the same detections alert again.
	clk.now = t0.Add(time.Hour)
	c := raiseOne(t, p, "council-a", det("r1", "ws-07", "a.jones", t0.Add(61*time.Minute), "e6", "1:5"))
	if c.What != alert.ChangeCreated || c.Alert.RuleID != "r1" || c.Alert.Host() != "ws-07" {
		t.Errorf("after expiry: %+v; want a new r1 alert on ws-07", c)
	}
	if ss, _ := s.Suppressions(ctx, "council-a"); len(ss) != 1 || ss[0].Hits != 3 {
		t.Errorf("suppressions after expiry = %+v; want 3 hits", ss)
	}
	if len(seen) != 3 {
		t.Errorf("OnChange saw %d changes, want 3", len(seen))
	}
	// Removed, a suppression stops nothing.
	if _, err := p.RemoveSuppression(ctx, "council-a", sp.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := p.RemoveSuppression(ctx, "council-a", sp.ID); !errors.Is(err, alert.ErrNotFound) {
		t.Errorf("removing twice: err = %v, want ErrNotFound", err)
	}
}

// testAlertTimes: AlertTimes gives the alerts created in [from, to),
// oldest first, with the rule, level, tags, count, triage state and times
// as Alert has them, and only the tenant's.
func testAlertTimes(t *testing.T, s AlertStore) {
	ctx := context.Background()
	addTenants(t, s, "a", "b")
	p, clk := newPipeline(t, s, nil)
	var created []int64
	for i, host := range []string{"h1", "h2", "h3"} {
		clk.now = t0.Add(time.Duration(i+1) * time.Hour)
		c := raiseOne(t, p, "a", det("r1", host, "", t0.Add(time.Duration(i)*time.Minute), "ta"+host, "1:"+host))
		created = append(created, c.Alert.ID)
	}
	raiseOne(t, p, "b", det("r1", "h1", "", t0, "tb", "2:0"))
	clk.now = t0.Add(4 * time.Hour)
	if _, _, err := p.Act(ctx, "a", created[1], "rhys", alert.Action{Verb: alert.VerbResolve, Resolution: alert.FalsePositive}); err != nil {
		t.Fatal(err)
	}
	collect := func(tn tenant.ID, from, to time.Time) []alert.Alert {
		t.Helper()
		var out []alert.Alert
		if err := s.AlertTimes(ctx, tn, from, to, func(a alert.Alert) error { out = append(out, a); return nil }); err != nil {
			t.Fatalf("AlertTimes: %v", err)
		}
		return out
	}
	all := collect("a", time.Time{}, time.Time{})
	if diff := cmp.Diff(created, ids(all)); diff != "" {
		t.Fatalf("AlertTimes of a, unbounded: ids (-want +got):\n%s", diff)
	}
	for _, got := range all {
		full := mustAlert(t, s, "a", got.ID)
		want := alert.Alert{ID: full.ID, Tenant: full.Tenant, RuleID: full.RuleID, Title: full.Title, Level: full.Level, Tags: full.Tags, Count: full.Count,
			Status: full.Status, Resolution: full.Resolution, EventTime: full.EventTime, Received: full.Received, Created: full.Created,
			Acknowledged: full.Acknowledged, Resolved: full.Resolved, Escalated: full.Escalated}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("AlertTimes alert %d (-want +got):\n%s", got.ID, diff)
		}
	}
	// [t0+2h, t0+3h): the second alert only (created at t0+2h).
	if got := ids(collect("a", t0.Add(2*time.Hour), t0.Add(3*time.Hour))); !cmp.Equal(got, created[1:2]) {
		t.Errorf("AlertTimes [2h, 3h) = %v, want %v", got, created[1:2])
	}
	if got := collect("b", time.Time{}, time.Time{}); len(got) != 1 || got[0].Tenant != "b" {
		t.Errorf("AlertTimes of b = %+v, want b's one alert", got)
	}
	stop := errors.New("stop")
	n := 0
	if err := s.AlertTimes(ctx, "a", time.Time{}, time.Time{}, func(alert.Alert) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("AlertTimes with fn failing: %v after %d, want stop after 1", err, n)
	}
}

// testAlertForget: Forget forgets the events counted, and the entities
// seen, before its time, and nothing after: an event raised again after
// its mark is forgotten counts again, one whose mark is kept does not.
func testAlertForget(t *testing.T, s AlertStore) {
	addTenants(t, s, "council-a")
	ctx := context.Background()
	p, clk := newPipeline(t, s, nil) // the clock at t0 + 1h
	old := det("r1", "ws-1", "u1", t0, "h-old", "1:1")
	recent := det("r2", "ws-2", "u2", t0.Add(150*time.Minute), "h-recent", "1:2")
	raise(t, p, "council-a", old)
	clk.now = t0.Add(3 * time.Hour)
	raise(t, p, "council-a", recent)
	events, entities, err := p.Forget(ctx, t0.Add(2*time.Hour).Add(p.Config().EventMemory))
	if err != nil || events != 1 || entities != 2 {
		t.Fatalf("Forget = %d events, %d entities, %v; want r1's event and ws-1, u1", events, entities, err)
	}
	if again := raiseOne(t, p, "council-a", old); again.Alert.Count != 2 {
		t.Errorf("the forgotten event raised again: count %d, want 2", again.Alert.Count)
	}
	if cs := raise(t, p, "council-a", recent); len(cs) != 0 {
		t.Errorf("the remembered event raised again changed %+v, want nothing (counted once)", cs)
	}
	// The event raised again is remembered from when it was raised (t0 +
	// 3h); its entities by its own time (t0), so they go again.
	if events, entities, err := p.Forget(ctx, t0.Add(2*time.Hour).Add(p.Config().EventMemory)); err != nil || events != 0 || entities != 2 {
		t.Errorf("Forget again = %d events, %d entities, %v; want 0 and 2", events, entities, err)
	}
}
