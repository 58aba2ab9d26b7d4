package indicators_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/intel/indicators"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/logstore/vlogs"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// maxQueryLen is a VictoriaLogs server's default -search.maxQueryLen: it
// refuses a longer query.
const maxQueryLen = 16 << 10

// shortQueries is an event store that, like a VictoriaLogs server,
// refuses a query longer than maxQueryLen, and counts the queries.
type shortQueries struct {
	*vlogs.Store
	queries int
}

func (s *shortQueries) Search(ctx context.Context, q logstore.Query, fn func(logstore.Row) error) error {
	s.queries++
	if len(q.LogsQL) > maxQueryLen {
		return fmt.Errorf("%w: query of %d bytes over -search.maxQueryLen=%d", logstore.ErrBadQuery, len(q.LogsQL), maxQueryLen)
	}
	return s.Store.Search(ctx, q, fn)
}

// addressIndicators returns n indicators, each of one IPv4 address in
// prefix (two octets), and stores in tenant "a" an event an hour old for
// each of the first seen of them.
func addressIndicators(t *testing.T, store *vlogs.Store, prefix string, n, seen int) []intel.Indicator {
	now := time.Now().UTC()
	var evs []event.Event
	var is []intel.Indicator
	for i := range n {
		ip := fmt.Sprintf("%s.%d.%d", prefix, 100+i/200, i%200)
		if i < seen {
			evs = append(evs, event.Event{Time: now.Add(-time.Hour), Fields: []event.Field{
				{Name: "destination.ip", Value: ip}, {Name: "host.name", Value: fmt.Sprintf("ws-%d", i)},
				{Name: event.FieldHash, Value: fmt.Sprintf("%032x", i)}, {Name: event.FieldSeq, Value: "1"}, {Name: event.FieldIdx, Value: strconv.Itoa(i)},
			}})
		}
		is = append(is, intel.Indicator{ID: fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", i), TLP: intel.TLPAmber, Confidence: 80,
			ValidFrom: now, Created: now, Modified: now, Observables: []intel.Observable{{Type: intel.TypeIPv4, Value: ip}}})
	}
	ctx := context.Background()
	if err := store.Add(ctx, "a", evs); err != nil {
		t.Fatal(err)
	}
	if err := store.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return is
}

// TestRetroHuntManyIndicators: a retro-hunt of many indicators at once is
// split into queries an event store over HTTP accepts, and finds every
// indicator's event.
func TestRetroHuntManyIndicators(t *testing.T) {
	ctx := context.Background()
	db, store, log := openStores(t)
	const n = 120
	is := addressIndicators(t, store, "203.0", n, n)
	if _, _, err := db.PutIndicators(ctx, is, false); err != nil {
		t.Fatal(err)
	}
	pipe, err := alert.NewPipeline(ctx, alert.DefaultConfig(), alert.Deps{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	search := &shortQueries{Store: store}
	s, err := indicators.New(ctx, indicators.DefaultConfig(), indicators.Deps{Store: db, Search: search, Alerts: pipe,
		Tenants: func(context.Context) ([]tenant.ID, error) { return []tenant.ID{"a"}, nil }, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Hunt(ctx, is...); err != nil {
		t.Fatal(err)
	}
	if search.queries < 2 {
		t.Errorf("%d queries for %d indicators, want them split", search.queries, n)
	}
	for _, i := range is {
		hs, err := s.RetroHunts(ctx, i.ID, "a", 1)
		if err != nil || len(hs) != 1 || hs[0].Status != intel.HuntDone || hs[0].Hits != 1 {
			t.Fatalf("%s: hunts %+v, %v; want done with 1 hit", i.Observables[0].Value, hs, err)
		}
	}
}

// stopping is an event store whose searches end as the node stops
// mid-hunt: the first search cancels the hunter's context.
type stopping struct {
	*vlogs.Store
	stop     context.CancelFunc
	searches int
}

func (s *stopping) Search(ctx context.Context, q logstore.Query, fn func(logstore.Row) error) error {
	s.searches++
	s.stop()
	return ctx.Err()
}

// TestRetroHuntQueueSurvivesAStop: indicators imported are queued in the
// state store, not in memory: the import returns at once however many
// there are, a hunt a stop cuts short is marked interrupted and hunted
// again, and a service opened again on the same state (a restart) hunts
// every indicator queued before, with nothing lost.
func TestRetroHuntQueueSurvivesAStop(t *testing.T) {
	ctx := context.Background()
	db, store, log := openStores(t)
	now := time.Now().UTC()
	// 450 indicators, more than the old in-memory queue held before an
	// import blocked; the events hold the first three's addresses.
	is := addressIndicators(t, store, "198.51", 450, 3)
	pipe, err := alert.NewPipeline(ctx, alert.DefaultConfig(), alert.Deps{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	open := func(search indicators.Searcher) *indicators.Service {
		s, err := indicators.New(ctx, indicators.DefaultConfig(), indicators.Deps{Store: db, Search: search, Alerts: pipe,
			Tenants: func(context.Context) ([]tenant.ID, error) { return []tenant.ID{"a"}, nil }, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	// The first node: the import returns with no hunter running, and the
	// hunter it then starts is stopped in its first search.
	runCtx, stop := context.WithCancel(ctx)
	first := open(&stopping{Store: store, stop: stop})
	sum, err := first.Import(ctx, intel.Batch{Indicators: is})
	if err != nil || sum.Imported != len(is) {
		t.Fatalf("import: %+v, %v", sum, err)
	}
	if n, err := first.QueuedHunts(ctx); err != nil || n != int64(len(is)) {
		t.Fatalf("%d queued, %v; want every indicator imported", n, err)
	}
	first.RunRetroHunts(runCtx)
	hs, err := first.RetroHunts(ctx, is[0].ID, "a", 10)
	if err != nil || len(hs) != 1 || hs[0].Status != intel.HuntFailed || !strings.Contains(hs[0].Error, "interrupted") {
		t.Fatalf("the hunt the stop cut short: %+v, %v; want failed, interrupted", hs, err)
	}
	if q, _ := db.QueuedRetroHunts(ctx, 1000); len(q) != len(is) {
		t.Fatalf("%d queued after the stop, want all %d still queued", len(q), len(is))
	}
	// A crash leaves a hunt "running": the next hunter marks it.
	crashed, err := db.CreateRetroHunt(ctx, intel.RetroHunt{IndicatorID: is[1].ID, Tenant: "a", Status: intel.HuntRunning, Since: now.Add(-time.Hour), Created: now})
	if err != nil {
		t.Fatal(err)
	}

	// The restart: every queued indicator is hunted, and the queue empties.
	second := open(store)
	runCtx, stop = context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); second.RunRetroHunts(runCtx) }()
	deadline := time.Now().Add(time.Minute)
	for {
		q, err := db.QueuedRetroHunts(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(q) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the queue still holds %+v after a minute", q)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	<-done
	if n, err := second.QueuedHunts(ctx); err != nil || n != 0 {
		t.Errorf("%d queued once hunted, %v", n, err)
	}
	for k, i := range is {
		hs, err := second.RetroHunts(ctx, i.ID, "a", 1)
		want := 0
		if k < 3 {
			want = 1
		}
		if err != nil || len(hs) != 1 || hs[0].Status != intel.HuntDone || hs[0].Hits != want {
			t.Fatalf("%s after the restart: %+v, %v; want done with %d hit(s)", i.Observables[0].Value, hs, err, want)
		}
	}
	all, err := second.RetroHunts(ctx, is[1].ID, "a", 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range all {
		if h.ID == crashed.ID && (h.Status != intel.HuntFailed || !strings.Contains(h.Error, "interrupted")) {
			t.Errorf("the hunt a crash left running: %+v; want failed, interrupted", h)
		}
	}
	as, err := db.Alerts(ctx, "a", alert.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 3 {
		t.Errorf("%d retro-hunt alerts, want 3 (one per event an indicator names)", len(as))
	}
}

// TestRetroHuntWaitsForTheEventStore: a hunt first waits until the event
// store holds what the bus holds (Deps.Stored), so an event the detector
// saw before the indicator matched live, but not yet stored when the
// indicator came, is found; while the wait fails, the indicator stays
// queued and nothing is recorded as hunted.
func TestRetroHuntWaitsForTheEventStore(t *testing.T) {
	ctx := context.Background()
	db, store, log := openStores(t)
	is := addressIndicators(t, store, "192.0", 1, 0)
	now := time.Now().UTC()
	late := event.Event{Time: now.Add(-time.Minute), Fields: []event.Field{
		{Name: "destination.ip", Value: is[0].Observables[0].Value}, {Name: "host.name", Value: "ws-late"},
		{Name: event.FieldHash, Value: fmt.Sprintf("%032x", 7)}, {Name: event.FieldSeq, Value: "9"}, {Name: event.FieldIdx, Value: "0"},
	}}
	pipe, err := alert.NewPipeline(ctx, alert.DefaultConfig(), alert.Deps{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	var stop context.CancelFunc
	behind, waits := true, 0
	s, err := indicators.New(ctx, indicators.DefaultConfig(), indicators.Deps{Store: db, Search: store, Alerts: pipe,
		Tenants: func(context.Context) ([]tenant.ID, error) { return []tenant.ID{"a"}, nil }, Log: log,
		Stored: func(ctx context.Context) error {
			waits++
			if behind {
				stop() // the node stops while the indexer is behind
				return fmt.Errorf("the indexer is behind")
			}
			// The indexer catches up: the event is stored.
			if err := store.Add(ctx, "a", []event.Event{late}); err != nil {
				return err
			}
			return store.Flush(ctx)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, intel.Batch{Indicators: is}); err != nil {
		t.Fatal(err)
	}

	var runCtx context.Context
	runCtx, stop = context.WithTimeout(ctx, 20*time.Second) // a hunter that never asks stops here
	s.RunRetroHunts(runCtx)
	if waits != 1 {
		t.Fatalf("the hunter asked the event store %d times, want once", waits)
	}
	if hs, err := s.RetroHunts(ctx, is[0].ID, "a", 10); err != nil || len(hs) != 0 {
		t.Fatalf("hunts while the event store was behind: %+v, %v; want none", hs, err)
	}
	if n, err := s.QueuedHunts(ctx); err != nil || n != 1 {
		t.Fatalf("%d queued, %v; want the indicator still queued", n, err)
	}

	behind = false
	runCtx, stop = context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); s.RunRetroHunts(runCtx) }()
	deadline := time.Now().Add(time.Minute)
	for {
		if n, err := s.QueuedHunts(ctx); err != nil {
			t.Fatal(err)
		} else if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the queue is not empty after a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	<-done
	hs, err := s.RetroHunts(ctx, is[0].ID, "a", 10)
	if err != nil || len(hs) != 1 || hs[0].Status != intel.HuntDone || hs[0].Hits != 1 {
		t.Fatalf("the hunt once the event store caught up: %+v, %v; want done with the late event's hit", hs, err)
	}
}

// raised is an alert pipeline that notes the rules it raised.
type raised struct {
	*alert.Pipeline
	rules []string
}

func (r *raised) Raise(ctx context.Context, t tenant.ID, ds []alert.Detection) ([]alert.Change, error) {
	for _, d := range ds {
		r.rules = append(r.rules, d.RuleID)
	}
	return r.Pipeline.Raise(ctx, t, ds)
}

// TestRetroHuntPatterns: indicators that are STIX patterns only (no
// observables for the index) are hunted too: their comparisons become the
// search, and each candidate is checked by the pattern. A pattern no
// search can express is said to be so, at import and in its hunts. An
// event already in an alert with the observable the pattern names is not
// alerted again.
func TestRetroHuntPatterns(t *testing.T) {
	ctx := context.Background()
	db, store, log := openStores(t)
	now := time.Now().UTC()
	const h = "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"
	ev := func(n int, kv ...string) event.Event {
		e := event.Event{Time: now.Add(-time.Hour), Fields: []event.Field{
			{Name: event.FieldHash, Value: fmt.Sprintf("%032x", n)}, {Name: event.FieldSeq, Value: "1"}, {Name: event.FieldIdx, Value: strconv.Itoa(n)}}}
		for k := 0; k < len(kv); k += 2 {
			e.Fields = append(e.Fields, event.Field{Name: kv[k], Value: kv[k+1]})
		}
		return e
	}
	evs := []event.Event{
		ev(1, "destination.ip", "198.51.100.7", "destination.port", "4444", "source.ip", "10.0.0.5"),
		ev(2, "destination.ip", "198.51.100.7", "destination.port", "443", "source.ip", "10.0.0.5"),
		ev(3, "Hashes", "MD5=00,SHA256="+strings.ToUpper(h), "file.name", "evil.exe"),
		ev(4, "dns.question.name", "c2.example", "user.name", "bob"),
		ev(5, "destination.ip", "203.0.113.50", "destination.port", "8443", "source.ip", "10.0.0.6"),
	}
	if err := store.Add(ctx, "a", evs); err != nil {
		t.Fatal(err)
	}
	if err := store.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	pat := func(n int, p string) intel.Indicator {
		return intel.Indicator{ID: fmt.Sprintf("indicator--00000000-0000-4000-8000-1000000000%02d", n), Pattern: p, TLP: intel.TLPAmber, Confidence: 60,
			ValidFrom: now, Created: now, Modified: now}
	}
	is := []intel.Indicator{
		pat(1, "[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 4444]"),
		pat(2, "[file:hashes.'SHA-256' = '"+h+"' AND file:name = 'evil.exe']"),
		pat(3, "[domain-name:value = 'C2.example'] OR [user-account:account_login = 'nobody']"),
		pat(4, "[process:command_line MATCHES '^evil']"),
		// Already in an alert of another rule with the address (below).
		pat(5, "[network-traffic:dst_ref.value = '203.0.113.50' AND network-traffic:dst_port = 8443]"),
		// Two observations need two events: one event never matches.
		pat(6, "[domain-name:value = 'c2.example'] AND [user-account:account_login = 'bob']"),
	}
	pipe, err := alert.NewPipeline(ctx, alert.DefaultConfig(), alert.Deps{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	alerts := &raised{Pipeline: pipe}
	var keys []string
	s, err := indicators.New(ctx, indicators.DefaultConfig(), indicators.Deps{Store: db, Search: store, Alerts: alerts, Log: log,
		Tenants: func(context.Context) ([]tenant.ID, error) { return []tenant.ID{"a"}, nil },
		Alerted: func(ctx context.Context, t tenant.ID, ds []alert.Detection, ks []string) ([]bool, error) {
			keys = append(keys, ks...)
			out := make([]bool, len(ds))
			for i := range ds {
				out[i] = ks[i] == "ipv4:203.0.113.50"
			}
			return out, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := s.Import(ctx, intel.Batch{Indicators: is})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Notes) != 2 || sum.Notes[0].Ref != is[3].ID || !strings.Contains(sum.Notes[0].Reason, "not retro-hunted") || !strings.Contains(sum.Notes[0].Reason, "MATCHES") ||
		sum.Notes[1].Ref != is[5].ID || !strings.Contains(sum.Notes[1].Reason, "observations joined by AND") {
		t.Errorf("import notes = %+v, want the MATCHES pattern's and the two observations'", sum.Notes)
	}

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); s.RunRetroHunts(runCtx) }()
	deadline := time.Now().Add(time.Minute)
	for {
		if n, err := s.QueuedHunts(ctx); err != nil {
			t.Fatal(err)
		} else if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the queue is not empty after a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	<-done
	for k, want := range []struct {
		status intel.HuntStatus
		hits   int
	}{{intel.HuntDone, 1}, {intel.HuntDone, 1}, {intel.HuntDone, 1}, {intel.HuntSkipped, 0}, {intel.HuntDone, 1}, {intel.HuntSkipped, 0}} {
		hs, err := s.RetroHunts(ctx, is[k].ID, "a", 10)
		if err != nil || len(hs) != 1 || hs[0].Status != want.status || hs[0].Hits != want.hits {
			t.Errorf("%s: hunts %+v, %v; want %s with %d hits", is[k].Pattern, hs, err, want.status, want.hits)
			continue
		}
		if want.status == intel.HuntSkipped && !strings.Contains(hs[0].Error, "matched on new events only") {
			t.Errorf("skipped hunt's error = %q", hs[0].Error)
		}
	}
	got := strings.Join(alerts.rules, " ")
	for k, i := range is {
		if raised := strings.Contains(got, "intel:"+i.ID); raised != (k < 3) {
			t.Errorf("%s: alert raised %v (raised: %s)", i.Pattern, raised, got)
		}
	}
	if !slices.Contains(keys, "ipv4:198.51.100.7") || !slices.Contains(keys, "sha256:"+h) || !slices.Contains(keys, "domain:c2.example") {
		t.Errorf("observable keys asked about = %q", keys)
	}
}
