package savedsearch_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/logstore/vlogs"
	"github.com/tarian-soc/tarian/internal/savedsearch"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// world is a runner on real stores: the state database, the embedded
// event store and the alert pipeline, with a clock the test moves.
type world struct {
	db     *sqlstore.DB
	events *vlogs.Store
	runner *savedsearch.Runner
	now    time.Time
	seq    int
	// fail, when set, is what the event store answers.
	fail error
	// counts are the runner's metrics.
	counts map[string]int
}

func (w *world) Inc(name string) { w.counts[name]++ }

type numbers struct{ db *sqlstore.DB }

func (n numbers) Number(ctx context.Context, t tenant.ID) (uint32, error) {
	tn, err := n.db.Tenant(ctx, t)
	return tn.Number, err
}

func (w *world) Search(ctx context.Context, q logstore.Query, fn func(logstore.Row) error) error {
	if w.fail != nil {
		return w.fail
	}
	return w.events.Search(ctx, q, fn)
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, id := range []tenant.ID{"council-a", "council-b"} {
		if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: id, Name: string(id)}); err != nil {
			t.Fatal(err)
		}
	}
	events, err := vlogs.Open(vlogs.Config{Path: filepath.Join(dir, "events"), MinFreeDiskBytes: -1}, numbers{db}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { events.Close() })
	w := &world{db: db, events: events, now: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC), counts: map[string]int{}}
	clock := func() time.Time { return w.now }
	pipe, err := alert.NewPipeline(ctx, alert.DefaultConfig(), alert.Deps{Store: db, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	w.runner = savedsearch.NewRunner(savedsearch.RunnerDeps{
		Store: db, Events: w, Alerts: pipe, Log: log, Now: clock, Metrics: w,
		Members: func(ctx context.Context) ([]tenant.ID, error) { return []tenant.ID{"council-a", "council-b"}, nil },
	})
	return w
}

// logon stores a failed logon of user at host in member t, at.
func (w *world) logon(t *testing.T, ten tenant.ID, at time.Time, host, user string) {
	t.Helper()
	w.seq++
	ev := event.Event{Time: at, Fields: []event.Field{
		{Name: "event.code", Value: "4625"}, {Name: "host.name", Value: host}, {Name: "user.name", Value: user},
		{Name: event.FieldHash, Value: fmt.Sprintf("%032x", w.seq)}, {Name: event.FieldSeq, Value: strconv.Itoa(w.seq)}, {Name: event.FieldIdx, Value: "0"},
	}}
	ctx := context.Background()
	if err := w.events.Add(ctx, ten, []event.Event{ev}); err != nil {
		t.Fatal(err)
	}
	if err := w.events.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func (w *world) save(t *testing.T, s savedsearch.Search) savedsearch.Search {
	t.Helper()
	s.Author, s.Created, s.Updated = "ana", w.now, w.now
	got, err := w.db.AddSavedSearch(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (w *world) check(t *testing.T) {
	t.Helper()
	if err := w.runner.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (w *world) alerts(t *testing.T, ten tenant.ID) []alert.Alert {
	t.Helper()
	as, err := w.db.Alerts(context.Background(), ten, alert.Filter{Producer: alert.ProducerSearch})
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func (w *world) lastRun(t *testing.T, id int64) savedsearch.Run {
	t.Helper()
	ss, err := w.db.ScheduledSearches(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ss {
		if s.ID == id && s.LastRun != nil {
			return *s.LastRun
		}
	}
	t.Fatalf("search %d has no run", id)
	return savedsearch.Run{}
}

// notRunAfter moves the clock by d and checks that search id did not run
// (its last run is still last).
func (w *world) notRunAfter(t *testing.T, id int64, d time.Duration, last savedsearch.Run, when string) {
	t.Helper()
	w.now = w.now.Add(d)
	w.check(t)
	if got := w.lastRun(t, id); !got.At.Equal(last.At) {
		t.Errorf("ran again %s: %+v", when, got)
	}
}

func every(d time.Duration) savedsearch.Duration { return savedsearch.Duration(d) }

// TestRunnerAlertsOnAWindowOnce: a member's scheduled search raises one
// alert (producer search, its rule ID, its level, the search's author as the
// alert's) from the events of its
// window that reach the threshold; the next run searches only the next
// window, and an event outside any window (before the first, or not yet
// past the delay) is not counted.
func TestRunnerAlertsOnAWindowOnce(t *testing.T) {
	w := newWorld(t)
	s := w.save(t, savedsearch.Search{Space: "council-a", Name: "Logon failures on ws-1", Query: "event.code:4625 host.name:ws-1",
		Schedule: &savedsearch.Schedule{Every: every(time.Hour), Delay: every(5 * time.Minute), Threshold: 2, Level: "high", Tags: []string{"attack.t1110", "attack.credential-access"}}})
	// The first window is [10:55, 11:55).
	w.logon(t, "council-a", w.now.Add(-2*time.Hour), "ws-1", "old")   // before it
	w.logon(t, "council-a", w.now.Add(-50*time.Minute), "ws-1", "bo") // in it
	w.logon(t, "council-a", w.now.Add(-10*time.Minute), "ws-1", "bo") // in it
	w.logon(t, "council-a", w.now.Add(-10*time.Minute), "ws-2", "bo") // another host
	w.logon(t, "council-a", w.now.Add(-2*time.Minute), "ws-1", "bo")  // within the delay
	w.logon(t, "council-b", w.now.Add(-10*time.Minute), "ws-1", "bo") // another member

	w.check(t)
	as := w.alerts(t, "council-a")
	if len(as) != 1 {
		t.Fatalf("council-a's search alerts: %+v, want one", as)
	}
	a := as[0]
	if a.RuleID != savedsearch.RuleID(s.ID) || a.Title != s.Name || a.Level != "high" || a.Count != 2 || len(a.Evidence) != 2 {
		t.Errorf("alert %+v: want rule %s, title %q, level high, 2 events", a, savedsearch.RuleID(s.ID), s.Name)
	}
	if a.Author != "ana" {
		t.Errorf("author %q: want the search's author, ana", a.Author)
	}
	if !slices.Equal(a.Tags, []string{"attack.t1110", "attack.credential-access"}) {
		t.Errorf("tags %v: want the schedule's", a.Tags)
	}
	if !slices.Contains(a.Entities, alert.Entity{Type: alert.EntityHost, Value: "ws-1"}) {
		t.Errorf("entities %v: want host ws-1", a.Entities)
	}
	if got := w.alerts(t, "council-b"); len(got) != 0 {
		t.Errorf("council-b has %d alerts from council-a's search", len(got))
	}
	run := w.lastRun(t, s.ID)
	if want := w.now.Add(-5 * time.Minute); !run.Until.Equal(want) || run.Found != 2 || run.Members != 1 || run.Error != "" {
		t.Errorf("run %+v: want until %s, 2 found, 1 member alerted", run, want)
	}

	// Not due again until the next window has passed its delay.
	w.notRunAfter(t, s.ID, 30*time.Minute, run, "30 minutes into an hourly schedule")
	w.now = w.now.Add(30 * time.Minute)
	w.check(t)
	run = w.lastRun(t, s.ID)
	// The window [11:55, 12:55) holds the event within the first run's
	// delay, one below the threshold: no new alert, nothing added.
	if run.Found != 1 || run.Members != 0 {
		t.Errorf("second run %+v: want 1 found, below the threshold", run)
	}
	if as := w.alerts(t, "council-a"); len(as) != 1 || as[0].Count != 2 {
		t.Errorf("after the second run: %+v", as)
	}
}

// TestRunnerProviderSearchPerMember: a provider's search runs for every
// member, each alert holding only that member's events.
func TestRunnerProviderSearchPerMember(t *testing.T) {
	w := newWorld(t)
	s := w.save(t, savedsearch.Search{Space: savedsearch.Provider, Name: "Failed logons", Query: "event.code:4625",
		Schedule: &savedsearch.Schedule{Every: every(time.Hour)}})
	w.logon(t, "council-a", w.now.Add(-30*time.Minute), "a-dc1", "ann")
	w.logon(t, "council-b", w.now.Add(-30*time.Minute), "b-dc1", "bob")
	w.logon(t, "council-b", w.now.Add(-20*time.Minute), "b-dc1", "bob")
	w.check(t)
	for ten, host := range map[tenant.ID]string{"council-a": "a-dc1", "council-b": "b-dc1"} {
		as := w.alerts(t, ten)
		if len(as) != 1 || as[0].Level != savedsearch.DefaultLevel {
			t.Fatalf("%s: %+v, want one alert at the default level", ten, as)
		}
		for _, e := range as[0].Entities {
			if e.Type == alert.EntityHost && e.Value != host {
				t.Errorf("%s's alert names %s's host %s", ten, ten, e.Value)
			}
		}
	}
	if as := w.alerts(t, "council-b"); as[0].Count != 2 {
		t.Errorf("council-b's alert counts %d events, want 2", as[0].Count)
	}
	if run := w.lastRun(t, s.ID); run.Found != 3 || run.Members != 2 {
		t.Errorf("run %+v: want 3 found, 2 members alerted", run)
	}
}

// TestRunnerFailureRetriesTheWindow: a run that fails records why, keeps
// its window's start, waits before trying again, and then searches the
// whole window it missed.
func TestRunnerFailureRetriesTheWindow(t *testing.T) {
	w := newWorld(t)
	s := w.save(t, savedsearch.Search{Space: "council-a", Name: "Failed logons", Query: "event.code:4625",
		Schedule: &savedsearch.Schedule{Every: every(time.Hour), Delay: every(time.Minute)}})
	w.check(t)
	first := w.lastRun(t, s.ID)
	w.logon(t, "council-a", first.Until.Add(30*time.Minute), "ws-1", "bo")

	w.now = w.now.Add(time.Hour)
	w.fail = fmt.Errorf("%w: connection refused", logstore.ErrUnavailable)
	w.check(t)
	run := w.lastRun(t, s.ID)
	if run.Error == "" || !run.Until.Equal(first.Until) || !run.At.Equal(w.now) {
		t.Fatalf("failed run %+v: want the error, until kept at %s", run, first.Until)
	}
	w.fail = nil
	w.notRunAfter(t, s.ID, time.Minute, run, "a minute after failing")
	w.now = w.now.Add(5 * time.Minute)
	w.check(t)
	run = w.lastRun(t, s.ID)
	if run.Error != "" || run.Found != 1 || !run.Until.Equal(w.now.Add(-time.Minute)) {
		t.Errorf("the retry %+v: want the missed event found and the window closed at now-1m", run)
	}
	if as := w.alerts(t, "council-a"); len(as) != 1 {
		t.Errorf("alerts after the retry: %+v", as)
	}
	if w.counts["tarian_search_runs_total"] != 3 || w.counts["tarian_search_failures_total"] != 1 {
		t.Errorf("metrics %v: want 3 runs, 1 failed", w.counts)
	}
}

// TestRunnerStatsRowsOnceAcrossARepeat: a search whose pipe makes its
// rows (stats) alerts on those rows with their fields, and the same
// window searched again (a run whose record was lost to a crash) adds
// nothing to the alert.
func TestRunnerStatsRowsOnceAcrossARepeat(t *testing.T) {
	w := newWorld(t)
	s := w.save(t, savedsearch.Search{Space: "council-a", Name: "Spraying", Query: "event.code:4625 | stats by (user.name) count() as failures | filter failures:>=3",
		Schedule: &savedsearch.Schedule{Every: every(time.Hour), Level: "critical"}})
	for range 3 {
		w.logon(t, "council-a", w.now.Add(-30*time.Minute), "dc1", "mallory")
	}
	w.logon(t, "council-a", w.now.Add(-30*time.Minute), "dc1", "ann")
	w.check(t)
	as := w.alerts(t, "council-a")
	if len(as) != 1 || as[0].Count != 1 || as[0].Level != "critical" {
		t.Fatalf("alerts %+v: want one for the one row", as)
	}
	if !slices.Contains(as[0].Entities, alert.Entity{Type: alert.EntityUser, Value: "mallory"}) {
		t.Errorf("entities %v: want user mallory", as[0].Entities)
	}
	if !slices.Contains(as[0].Fields, event.Field{Name: "failures", Value: "3"}) {
		t.Errorf("fields %v: want failures=3", as[0].Fields)
	}
	// The record lost: the window runs again.
	if err := w.db.SavedSearchRan(context.Background(), s.ID, savedsearch.Run{}); err != nil {
		t.Fatal(err)
	}
	w.check(t)
	if as := w.alerts(t, "council-a"); len(as) != 1 || as[0].Count != 1 {
		t.Errorf("after the window ran again: %+v, want the one alert, one row", as)
	}
}

func TestDueAndWindow(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	sc := &savedsearch.Schedule{Every: every(15 * time.Minute), Delay: every(5 * time.Minute)}
	s := savedsearch.Search{Schedule: sc}
	if !savedsearch.Due(s, now) {
		t.Error("never run: due")
	}
	if from, to := savedsearch.Window(s, now); !to.Equal(now.Add(-5*time.Minute)) || !from.Equal(now.Add(-20*time.Minute)) {
		t.Errorf("first window [%s, %s)", from, to)
	}
	s.LastRun = &savedsearch.Run{Until: now.Add(-15 * time.Minute), At: now.Add(-10 * time.Minute)}
	if savedsearch.Due(s, now) {
		t.Error("due 5 minutes early")
	}
	if !savedsearch.Due(s, now.Add(5*time.Minute)) {
		t.Error("not due when the window has passed its delay")
	}
	s.LastRun.Until = now.Add(-30 * 24 * time.Hour)
	if from, to := savedsearch.Window(s, now); to.Sub(from) != savedsearch.MaxWindow {
		t.Errorf("after a long outage the window is %s, want %s", to.Sub(from), savedsearch.MaxWindow)
	}
	if savedsearch.Due(savedsearch.Search{}, now) {
		t.Error("a search with no schedule is due")
	}
}
