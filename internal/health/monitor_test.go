package health_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/bus"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/health"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/parse"
	"github.com/tarian-soc/tarian/internal/stage"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// clock is the tests' injected time.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

type rig struct {
	t     testing.TB
	db    *sqlstore.DB
	alert *alert.Pipeline
	clock *clock
	seq   uint64
	mon   *health.Monitor
}

var t0 = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC) // a Monday, midnight

func newRig(t testing.TB, cfg health.Config, declared []health.Declared) *rig {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, id := range []tenant.ID{"north-vale", "riverside"} {
		if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: id, Name: string(id)}); err != nil {
			t.Fatal(err)
		}
	}
	c := &clock{now: t0}
	p, err := alert.NewPipeline(ctx, alert.DefaultConfig(), alert.Deps{Store: db, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, db: db, alert: p, clock: c}
	r.mon = r.open(cfg, declared)
	return r
}

// open starts a monitor on the rig's database, as a server start does.
func (r *rig) open(cfg health.Config, declared []health.Declared) *health.Monitor {
	r.t.Helper()
	m := health.New(cfg, declared, health.Deps{Store: r.db, Alerts: r.alert, Now: r.clock.Now})
	done, err := m.Start(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	if done > r.seq {
		r.t.Fatalf("checkpoint %d is past the last sequence written %d", done, r.seq)
	}
	return m
}

// src is one source's events: their receiver, host, type and name.
type src struct {
	receiver, host, typ, name string
}

// batch makes one bus message of n events of s received at `at`.
func (r *rig) batch(tn tenant.ID, s src, at time.Time, n int) *stage.Batch {
	r.seq++
	msg := stage.Msg{Message: bus.Message{Tenant: tn, Seq: r.seq, Records: []event.Raw{{Received: at, Source: s.receiver, Data: []byte("{}")}}}}
	for i := range n {
		fs := []event.Field{{Name: "message", Value: "x"}}
		if s.host != "" {
			fs = append(fs, event.Field{Name: "host.name", Value: s.host})
		}
		if s.typ != "" {
			fs = append(fs, event.Field{Name: parse.FieldType, Value: s.typ})
		}
		if s.name != "" {
			fs = append(fs, event.Field{Name: parse.FieldName, Value: s.name})
		}
		msg.Events = append(msg.Events, event.Event{Time: at, Fields: fs})
		msg.Refs = append(msg.Refs, event.Ref{Seq: r.seq, Idx: 0, Sub: i})
	}
	return &stage.Batch{Msgs: []stage.Msg{msg}}
}

func (r *rig) send(m *health.Monitor, tn tenant.ID, s src, at time.Time, n int) {
	r.t.Helper()
	if err := m.Process(context.Background(), r.batch(tn, s, at, n)); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) check(at time.Time) {
	r.t.Helper()
	r.clock.Set(at)
	if err := r.mon.Idle(context.Background()); err != nil {
		r.t.Fatal(err)
	}
	if err := r.mon.Check(context.Background()); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) healthAlerts(tn tenant.ID) []alert.Alert {
	r.t.Helper()
	all, err := r.alert.Alerts(context.Background(), tn, alert.Filter{Limit: 100})
	if err != nil {
		r.t.Fatal(err)
	}
	var out []alert.Alert
	for _, a := range all {
		if a.Producer == alert.ProducerHealth {
			out = append(out, a)
		}
	}
	return out
}

func (r *rig) source(tn tenant.ID, match func(health.Source) bool) health.Source {
	r.t.Helper()
	ss, err := r.mon.Sources(context.Background(), []tenant.ID{tn})
	if err != nil {
		r.t.Fatal(err)
	}
	for _, s := range ss {
		if match(s) {
			return s
		}
	}
	r.t.Fatalf("no such source of %s in %+v", tn, ss)
	return health.Source{}
}

var firewall = src{receiver: "syslog", host: "nv-fw01", typ: "fortigate", name: "nv-firewall"}

// TestSilenceOfDeclaredSource: a declared firewall with a 15-minute
// silence alerts once when it stops, within its silence and not before,
// and again only after it has spoken and stopped again.
func TestSilenceOfDeclaredSource(t *testing.T) {
	declared := []health.Declared{{Tenant: "north-vale", Name: "nv-firewall", Receiver: "syslog", Type: "fortigate", Silence: 15 * time.Minute}}
	r := newRig(t, health.DefaultConfig(), declared)
	for i := range 10 {
		r.send(r.mon, "north-vale", firewall, t0.Add(time.Duration(i)*time.Minute), 20)
	}
	last := t0.Add(9 * time.Minute)
	r.check(last.Add(14 * time.Minute))
	if got := r.healthAlerts("north-vale"); len(got) != 0 {
		t.Fatalf("alerted before the silence passed: %+v", got)
	}
	if s := r.source("north-vale", func(s health.Source) bool { return s.Name == "nv-firewall" }); s.State != health.StateOK || s.Events != 200 || !s.LastSeen.Equal(last) || s.SilenceSeconds != 900 || !s.Declared {
		t.Fatalf("before the silence: %+v", s)
	}
	r.check(last.Add(15 * time.Minute))
	got := r.healthAlerts("north-vale")
	if len(got) != 1 {
		t.Fatalf("want one silence alert at 15 minutes, got %+v", got)
	}
	a := got[0]
	if a.Level != "high" || a.Host() != "nv-fw01" || !strings.Contains(a.Title, "nv-firewall") || a.RuleID != health.RuleSilence+"syslog/fortigate" {
		t.Fatalf("silence alert: %+v", a)
	}
	if s := r.source("north-vale", func(s health.Source) bool { return s.Name == "nv-firewall" }); s.State != health.StateSilent {
		t.Fatalf("state after silence: %+v", s)
	}
	r.check(last.Add(40 * time.Minute))
	if got := r.healthAlerts("north-vale"); len(got) != 1 || got[0].Count != 1 {
		t.Fatalf("one silence alerted twice: %+v", got)
	}
	// Other members see nothing of it.
	if got := r.healthAlerts("riverside"); len(got) != 0 {
		t.Fatalf("riverside sees north-vale's alert: %+v", got)
	}

	// It speaks again, then stops again: a second finding.
	back := last.Add(41 * time.Minute)
	r.send(r.mon, "north-vale", firewall, back, 5)
	r.check(back.Add(time.Minute))
	if s := r.source("north-vale", func(s health.Source) bool { return s.Name == "nv-firewall" }); s.State != health.StateOK {
		t.Fatalf("state after it spoke again: %+v", s)
	}
	r.check(back.Add(16 * time.Minute))
	got = r.healthAlerts("north-vale")
	total := int64(0)
	for _, a := range got {
		total += a.Count
	}
	if total != 2 {
		t.Fatalf("want two silence findings, got %+v", got)
	}
}

// TestSilenceOfSeenSource: a source no one declares alerts on silence only
// when its history says it should have spoken (a sleeping laptop is idle,
// not silent), and one level lower.
func TestSilenceOfSeenSource(t *testing.T) {
	r := newRig(t, health.DefaultConfig(), nil)
	laptop := src{receiver: "http", host: "rb-lt-388", typ: "windows"}
	server := src{receiver: "http", host: "rb-app2", typ: "linuxauth"}
	r.send(r.mon, "riverside", laptop, t0.Add(time.Minute), 3)
	for i := range 180 { // three hours at 10 a minute
		r.send(r.mon, "riverside", server, t0.Add(time.Duration(i)*time.Minute), 10)
	}
	r.check(t0.Add(5 * time.Hour))
	if s := r.source("riverside", func(s health.Source) bool { return s.Host == "rb-lt-388" }); s.State != health.StateIdle {
		t.Fatalf("laptop: %+v", s)
	}
	got := r.healthAlerts("riverside")
	if len(got) != 1 || got[0].Host() != "rb-app2" || got[0].Level != "medium" {
		t.Fatalf("want one medium alert for the server: %+v", got)
	}
}

// TestDropAgainstBaseline: three days at a steady hourly rate teach the
// baseline; an hour with a tenth of it alerts once, as a drop, and an
// ordinary hour does not.
func TestDropAgainstBaseline(t *testing.T) {
	r := newRig(t, health.DefaultConfig(), nil)
	proxy := src{receiver: "syslog", host: "rb-proxy", typ: "squid"}
	hour := t0
	for ; hour.Before(t0.Add(72 * time.Hour)); hour = hour.Add(time.Hour) {
		for q := range 4 {
			r.send(r.mon, "riverside", proxy, hour.Add(time.Duration(q)*15*time.Minute), 300)
		}
	}
	r.check(hour.Add(time.Minute))
	s := r.source("riverside", func(s health.Source) bool { return s.Host == "rb-proxy" })
	if s.Baseline == nil || *s.Baseline < 0.33 || *s.Baseline > 0.34 {
		t.Fatalf("baseline after three days of 1,200 an hour: %+v", s)
	}
	if got := r.healthAlerts("riverside"); len(got) != 0 {
		t.Fatalf("steady rate alerted: %+v", got)
	}
	// Hour 72 brings its usual, hour 73 a tenth (hour of day 0 has two
	// days learned, the first hour being partial; hour 1 has three).
	r.send(r.mon, "riverside", proxy, hour.Add(10*time.Minute), 1200)
	hour = hour.Add(time.Hour)
	r.send(r.mon, "riverside", proxy, hour.Add(10*time.Minute), 120)
	r.send(r.mon, "riverside", proxy, hour.Add(70*time.Minute), 1200)
	r.check(hour.Add(75 * time.Minute))
	got := r.healthAlerts("riverside")
	if len(got) != 1 || !strings.HasPrefix(got[0].RuleID, health.RuleDrop) || got[0].Host() != "rb-proxy" {
		t.Fatalf("want one drop alert: %+v", got)
	}
	if s := r.source("riverside", func(s health.Source) bool { return s.Host == "rb-proxy" }); s.State != health.StateDropped {
		t.Fatalf("state after the drop: %+v", s)
	}
	r.send(r.mon, "riverside", proxy, hour.Add(130*time.Minute), 1200)
	r.check(hour.Add(185 * time.Minute))
	if got := r.healthAlerts("riverside"); len(got) != 1 {
		t.Fatalf("an ordinary hour alerted: %+v", got)
	}
}

// TestSurvivesRestart: counters, baselines and what was alerted come back
// from the state store; a batch read again after the checkpoint is not
// counted twice, and a silence already alerted is not alerted again.
func TestSurvivesRestart(t *testing.T) {
	declared := []health.Declared{{Tenant: "north-vale", Name: "nv-firewall", Silence: 15 * time.Minute}}
	r := newRig(t, health.DefaultConfig(), declared)
	b := r.batch("north-vale", firewall, t0, 50)
	if err := r.mon.Process(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	r.check(t0.Add(20 * time.Minute))
	if n := len(r.healthAlerts("north-vale")); n != 1 {
		t.Fatalf("%d alerts before the restart", n)
	}
	r.mon = r.open(health.DefaultConfig(), declared)
	if err := r.mon.Process(context.Background(), b); err != nil { // read again
		t.Fatal(err)
	}
	r.check(t0.Add(30 * time.Minute))
	s := r.source("north-vale", func(s health.Source) bool { return s.Name == "nv-firewall" })
	if s.Events != 50 || !s.LastSeen.Equal(t0) || s.State != health.StateSilent {
		t.Fatalf("after restart: %+v", s)
	}
	if got := r.healthAlerts("north-vale"); len(got) != 1 || got[0].Count != 1 {
		t.Fatalf("silence alerted again after restart: %+v", got)
	}
}

// TestSourcesList: a declared source never heard from is waiting; dead
// letters land on their receiver's row; a tenant sees only its own.
func TestSourcesList(t *testing.T) {
	declared := []health.Declared{
		{Tenant: "north-vale", Name: "nv-firewall", Receiver: "syslog", Type: "fortigate"},
		{Tenant: "riverside", Name: "rb-mail", Receiver: "hec", Type: "exchange"},
	}
	r := newRig(t, health.DefaultConfig(), declared)
	ctx := context.Background()
	r.send(r.mon, "north-vale", firewall, t0, 7)
	if err := r.db.AddDeadLetters(ctx, "north-vale", []ingest.DeadLetter{{Received: t0, Source: "http", Reason: "invalid JSON", Data: []byte("{")}}); err != nil {
		t.Fatal(err)
	}
	r.clock.Set(t0.Add(time.Minute))
	nv, err := r.mon.Sources(ctx, []tenant.ID{"north-vale"})
	if err != nil {
		t.Fatal(err)
	}
	if len(nv) != 2 {
		t.Fatalf("north-vale rows: %+v", nv)
	}
	for _, s := range nv {
		if s.Tenant != "north-vale" {
			t.Fatalf("another tenant's row: %+v", s)
		}
		switch s.Receiver {
		case "http":
			if s.DeadLetters != 1 {
				t.Fatalf("dead letters: %+v", s)
			}
		case "syslog":
			if s.Events != 7 || s.Name != "nv-firewall" || s.State != health.StateOK || s.Rate <= 0 {
				t.Fatalf("firewall row: %+v", s)
			}
		default:
			t.Fatalf("unexpected row: %+v", s)
		}
	}
	rb, err := r.mon.Sources(ctx, []tenant.ID{"riverside"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rb) != 1 || rb[0].State != health.StateWaiting || rb[0].Name != "rb-mail" {
		t.Fatalf("riverside rows: %+v", rb)
	}
}

// TestMonthEvents: a source's events count in the month they were
// received in, for the member reports.
func TestMonthEvents(t *testing.T) {
	r := newRig(t, health.DefaultConfig(), nil)
	nov, dec := time.Date(2026, 11, 30, 23, 59, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 1, 0, 0, time.UTC)
	r.send(r.mon, "riverside", firewall, nov, 40)
	r.send(r.mon, "riverside", firewall, dec, 2)
	r.send(r.mon, "north-vale", firewall, dec, 7)
	k := health.Key{Tenant: "riverside", Receiver: "syslog", Host: "nv-fw01", Type: "fortigate"}
	if got := r.mon.MonthEvents("riverside", nov)[k]; got != 40 {
		t.Errorf("November: %d, want 40", got)
	}
	if got := r.mon.MonthEvents("riverside", dec); got[k] != 2 || len(got) != 1 {
		t.Errorf("December: %v, want riverside's 2", got)
	}
	if got := r.mon.MonthEvents("riverside", time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))[k]; got != 0 {
		t.Errorf("October: %d", got)
	}
}

// TestForget: a removed member's sources go, the checkpoint is saved past
// them, and a restart does not bring them back.
func TestForget(t *testing.T) {
	r := newRig(t, health.DefaultConfig(), nil)
	r.send(r.mon, "riverside", firewall, t0, 5)
	r.send(r.mon, "north-vale", firewall, t0, 3)
	if err := r.mon.Forget(context.Background(), "riverside"); err != nil {
		t.Fatal(err)
	}
	if r.mon.Position() != r.seq {
		t.Fatalf("position %d, want %d", r.mon.Position(), r.seq)
	}
	for _, m := range []*health.Monitor{r.mon, r.open(health.DefaultConfig(), nil)} {
		ss, err := m.Sources(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(ss) != 1 || ss[0].Tenant != "north-vale" {
			t.Fatalf("after forgetting riverside: %+v", ss)
		}
	}
}

// TestForgetQuietUndeclared: a source nobody declared leaves the list
// (and its saved state) once quiet for forget_after; a declared one quiet
// as long stays, silent.
func TestForgetQuietUndeclared(t *testing.T) {
	declared := []health.Declared{{Tenant: "north-vale", Name: "nv-firewall", Receiver: "syslog", Type: "fortigate"}}
	r := newRig(t, health.DefaultConfig(), declared)
	laptop := src{receiver: "http", host: "nv-lt-0042", typ: "windows"}
	r.send(r.mon, "north-vale", firewall, t0, 5)
	r.send(r.mon, "north-vale", laptop, t0, 5)
	hosts := func(m *health.Monitor) []string {
		ss, err := m.Sources(context.Background(), []tenant.ID{"north-vale"})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range ss {
			out = append(out, s.Host+"/"+s.State)
		}
		slices.Sort(out)
		return out
	}
	r.check(t0.Add(30*24*time.Hour - time.Minute))
	if got := hosts(r.mon); !slices.Equal(got, []string{"nv-fw01/silent", "nv-lt-0042/idle"}) {
		t.Fatalf("a minute before forget_after: %v", got)
	}
	r.check(t0.Add(30 * 24 * time.Hour))
	r.check(t0.Add(30*24*time.Hour + time.Minute)) // saves
	for _, m := range []*health.Monitor{r.mon, r.open(health.DefaultConfig(), declared)} {
		if got := hosts(m); !slices.Equal(got, []string{"nv-fw01/silent"}) {
			t.Fatalf("after forget_after (and after a restart): %v, want the declared firewall only", got)
		}
	}
	// It comes back: it is listed again, learning afresh.
	r.send(r.mon, "north-vale", laptop, t0.Add(31*24*time.Hour), 1)
	r.check(t0.Add(31*24*time.Hour + time.Minute))
	if got := hosts(r.mon); !slices.Equal(got, []string{"nv-fw01/silent", "nv-lt-0042/ok"}) {
		t.Fatalf("back again: %v", got)
	}
}

// TestWeekendBaseline: a working week's traffic does not make a quiet
// Saturday a drop: weekends learn their own baseline.
func TestWeekendBaseline(t *testing.T) {
	cfg := health.DefaultConfig()
	cfg.TimeZone = "Europe/London"
	r := newRig(t, cfg, nil)
	proxy := src{receiver: "syslog", host: "nv-proxy", typ: "squid"}
	hour := t0 // Monday 2 November 2026, midnight (GMT: UTC)
	for ; hour.Before(t0.Add(5 * 24 * time.Hour)); hour = hour.Add(time.Hour) {
		r.send(r.mon, "north-vale", proxy, hour.Add(5*time.Minute), 1200)
	}
	// Saturday: a tenth of a weekday, hour after hour.
	for ; hour.Before(t0.Add(5*24*time.Hour + 12*time.Hour)); hour = hour.Add(time.Hour) {
		r.send(r.mon, "north-vale", proxy, hour.Add(5*time.Minute), 120)
	}
	r.send(r.mon, "north-vale", proxy, hour.Add(5*time.Minute), 120)
	r.check(hour.Add(10 * time.Minute))
	if got := r.healthAlerts("north-vale"); len(got) != 0 {
		t.Fatalf("a quiet Saturday alerted against the working week: %+v", got)
	}
	if s := r.source("north-vale", func(s health.Source) bool { return s.Host == "nv-proxy" }); s.Baseline != nil {
		t.Fatalf("Saturday noon has no baseline yet (a weekday's does not stand in): %+v", s)
	}
}

// TestConfigValidate names the key and the reason.
func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		edit func(*health.Config)
		want string
	}{
		{func(c *health.Config) { c.TimeZone = "Mars/Olympus" }, "time_zone"},
		{func(c *health.Config) { c.Silence = time.Second }, "silence"},
		{func(c *health.Config) { c.Drop = 1.5 }, "drop"},
		{func(c *health.Config) { c.Level = "urgent" }, "level"},
		{func(c *health.Config) { c.ForgetAfter = time.Hour }, "forget_after"},
		{func(c *health.Config) { c.Silence, c.ForgetAfter = 72*time.Hour, 48*time.Hour }, "forget_after"},
	} {
		cfg := health.DefaultConfig()
		c.edit(&cfg)
		if err := cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), c.want+":") {
			t.Errorf("%+v: %v, want an error about %s", cfg, err, c.want)
		}
	}
	if err := health.DefaultConfig().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}
