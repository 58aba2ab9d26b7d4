// Package logstoretest is the conformance suite every event store passes:
// Run checks adding and searching, order, limits, time bounds, tenant
// isolation, free text, stats queries, the indexer's look-up by bus
// position, deletion and export, against a real store.
package logstoretest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Store is an event store as the suite uses it.
type Store interface {
	Add(ctx context.Context, t tenant.ID, events []event.Event) error
	Refresh()
	Flush(ctx context.Context) error
	Search(ctx context.Context, q logstore.Query, fn func(logstore.Row) error) error
	Delete(ctx context.Context, t tenant.ID, before time.Time) (int, error)
	Export(ctx context.Context, t tenant.ID, fn func(logstore.Row) error) error
	Stats() logstore.Stats
	TimeAdjusted() uint64
}

// The tenants the suite writes; a Resolver knows them.
const (
	A tenant.ID = "council-a"
	B tenant.ID = "council-b"
	C tenant.ID = "council-c"
)

// Resolver numbers the suite's tenants. Each test gets its own numbers, so
// the stores of several tests may share one server and still start empty.
type Resolver struct{ base uint32 }

// Number returns t's AccountID.
func (r Resolver) Number(_ context.Context, t tenant.ID) (uint32, error) {
	switch t {
	case A:
		return r.base + 1, nil
	case B:
		return r.base + 2, nil
	case C:
		return r.base + 3, nil
	}
	return 0, fmt.Errorf("unknown tenant %q", t)
}

// bases hands out Resolver numbers: a random start, so that runs against a
// server kept between runs do not meet old events.
var bases atomic.Uint32

func newResolver() Resolver {
	bases.CompareAndSwap(0, uint32(rand.IntN(1<<20))*16+16)
	return Resolver{base: bases.Add(4)}
}

// Open returns an empty store whose tenants are numbered by r, closed when
// the test ends.
type Open func(t *testing.T, r Resolver) Store

// Known is a check an implementation is known to fail, skipped visibly
// with the reason until it is fixed.
type Known struct{ Test, Reason string }

// Run runs the suite, each check against a store from open.
func Run(t *testing.T, open Open, known ...Known) {
	tests := []struct {
		name string
		fn   func(*testing.T, Store)
	}{
		{"Fields", testFields},
		{"OrderAndLimit", testOrderAndLimit},
		{"TimeBounds", testTimeBounds},
		{"TenantIsolation", testTenantIsolation},
		{"FreeText", testFreeText},
		{"StatsQuery", testStatsQuery},
		{"BadQuery", testBadQuery},
		{"SeqRange", testSeqRange},
		{"TimeOutsideRetention", testTimeOutsideRetention},
		{"TooLarge", testTooLarge},
		{"ConcurrentAdd", testConcurrentAdd},
		{"DeleteBefore", testDeleteBefore},
		{"Export", testExport},
		{"FlushAndStats", testFlushAndStats},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range known {
				if k.Test == tt.name {
					t.Skipf("known to fail: %s", k.Reason)
				}
			}
			tt.fn(t, open(t, newResolver()))
		})
	}
}

// Ev returns an event at at with the name/value pairs kv.
func Ev(at time.Time, kv ...string) event.Event {
	e := event.Event{Time: at}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Fields = append(e.Fields, event.Field{Name: kv[i], Value: kv[i+1]})
	}
	return e
}

func add(t *testing.T, s Store, tn tenant.ID, events ...event.Event) {
	t.Helper()
	if err := s.Add(t.Context(), tn, events); err != nil {
		t.Fatalf("add %d events of %s: %v", len(events), tn, err)
	}
}

func search(t *testing.T, s Store, q logstore.Query) []logstore.Row {
	t.Helper()
	var rows []logstore.Row
	if err := s.Search(t.Context(), q, func(r logstore.Row) error { rows = append(rows, r); return nil }); err != nil {
		t.Fatalf("search %+v: %v", q, err)
	}
	return rows
}

func value(r logstore.Row, name string) string {
	for _, f := range r.Fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

func values(rows []logstore.Row, name string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = value(r, name)
	}
	return out
}

// base is a time well inside any retention, on a whole second.
func base() time.Time { return time.Now().Add(-3 * time.Hour).Truncate(time.Second).UTC() }

// testFields: what goes in comes out, names and values exact, message as
// message, time to the nanosecond, fields sorted by name.
func testFields(t *testing.T, s Store) {
	at := base().Add(123456789 * time.Nanosecond)
	tricky := "quote \" backslash \\ newline \n tab \t nul \x00 unicode é 日本 emoji 🙂 <html>&"
	e := Ev(at,
		"message", "Failed password for root",
		"host.name", "fw01",
		"user.name", "root",
		"source.ip", "203.0.113.9",
		"event.original", tricky,
		"Weird Name-with.dots_and:colon", "v",
		"empty", "",
	)
	add(t, s, A, e)
	s.Refresh()
	rows := search(t, s, logstore.Query{Tenants: []tenant.ID{A}, LogsQL: "*"})
	if len(rows) != 1 {
		t.Fatalf("%d rows, want 1", len(rows))
	}
	want := logstore.Row{Tenant: A, Time: at, Fields: []event.Field{
		{Name: "Weird Name-with.dots_and:colon", Value: "v"},
		{Name: "event.original", Value: tricky},
		{Name: "host.name", Value: "fw01"},
		{Name: "message", Value: "Failed password for root"},
		{Name: "source.ip", Value: "203.0.113.9"},
		{Name: "user.name", Value: "root"},
	}}
	if diff := cmp.Diff(want, rows[0]); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
	if !rows[0].Time.Equal(at) {
		t.Errorf("time %s, want %s", rows[0].Time.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano))
	}
	// A filter on a field named in the search results.
	if got := search(t, s, logstore.Query{Tenants: []tenant.ID{A}, LogsQL: `message:"Failed password"`}); len(got) != 1 {
		t.Errorf("message:... found %d rows, want 1", len(got))
	}
	// No message stays no message.
	add(t, s, A, Ev(at.Add(time.Second), "n", "2"))
	s.Refresh()
	rows = search(t, s, logstore.Query{Tenants: []tenant.ID{A}, LogsQL: "n:2"})
	if len(rows) != 1 || len(rows[0].Fields) != 1 {
		t.Errorf("event without message came back as %+v", rows)
	}
}

// testOrderAndLimit: newest first, the limit over the newest.
func testOrderAndLimit(t *testing.T, s Store) {
	at := base()
	r := rand.New(rand.NewPCG(1, 2))
	var evs []event.Event
	for i := range 60 {
		evs = append(evs, Ev(at.Add(time.Duration(i)*time.Second), "i", strconv.Itoa(i)))
	}
	r.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	add(t, s, A, evs[:30]...)
	add(t, s, A, evs[30:]...)
	s.Refresh()
	rows := search(t, s, logstore.Query{Tenants: []tenant.ID{A}, LogsQL: "*", Limit: 10})
	want := []string{"59", "58", "57", "56", "55", "54", "53", "52", "51", "50"}
	if got := values(rows, "i"); !slices.Equal(got, want) {
		t.Errorf("limit 10: %v, want %v", got, want)
	}
	rows = search(t, s, logstore.Query{Tenants: []tenant.ID{A}, LogsQL: "*"})
	if len(rows) != 60 {
		t.Fatalf("default limit: %d rows, want 60", len(rows))
	}
	for i := 1; i < len(rows); i++ {
		if !rows[i].Time.Before(rows[i-1].Time) {
			t.Fatalf("row %d at %s not before row %d at %s", i, rows[i].Time, i-1, rows[i-1].Time)
		}
	}
	// The limit holds over several tenants together.
	add(t, s, B, Ev(at.Add(30*time.Minute), "i", "b"))
	s.Refresh()
	rows = search(t, s, logstore.Query{Tenants: []tenant.ID{A, B}, LogsQL: "*", Limit: 3})
	if got := values(rows, "i"); !slices.Equal(got, []string{"b", "59", "58"}) {
		t.Errorf("two tenants, limit 3: %v", got)
	}
}

// testTimeBounds: From inclusive, To exclusive.
func testTimeBounds(t *testing.T, s Store) {
	at := base()
	for i := range 10 {
		add(t, s, A, Ev(at.Add(time.Duration(i)*time.Minute), "i", strconv.Itoa(i)))
	}
	s.Refresh()
	rows := search(t, s, logstore.Query{Tenants: []tenant.ID{A}, LogsQL: "*", From: at.Add(2 * time.Minute), To: at.Add(5 * time.Minute)})
	if got := values(rows, "i"); !slices.Equal(got, []string{"4", "3", "2"}) {
		t.Errorf("[2m, 5m): %v, want [4 3 2]", got)
	}
	rows = search(t, s, logstore.Query{Tenants: []tenant.ID{A}, LogsQL: "*", From: at.Add(8 * time.Minute)})
	if got := values(rows, "i"); !slices.Equal(got, []string{"9", "8"}) {
		t.Errorf("from 8m: %v, want [9 8]", got)
	}
	rows = search(t, s, logstore.Query{Tenants: []tenant.ID{A}, LogsQL: "*", To: at.Add(time.Minute + time.Nanosecond)})
	if got := values(rows, "i"); !slices.Equal(got, []string{"1", "0"}) {
		t.Errorf("to 1m+1ns: %v, want [1 0]", got)
	}
}

// testTenantIsolation: nothing of A is ever visible to a query for B.
func testTenantIsolation(t *testing.T, s Store) {
	at := base()
	add(t, s, A, Ev(at, "message", "secret of a mimikatz", "host.name", "a-host", "CommandLine", "a-only"))
	add(t, s, B, Ev(at.Add(time.Second), "message", "b event", "host.name", "b-host"))
	s.Refresh()
	for _, q := range []string{"*", "secret", "mimikatz", "a-only", `host.name:"a-host"`, "* | stats count() as n", "* | uniq by (host.name)", "* | fields host.name"} {
		for _, r := range search(t, s, logstore.Query{Tenants: []tenant.ID{B}, LogsQL: q}) {
			if r.Tenant != B {
				t.Errorf("%q for B: row of tenant %q", q, r.Tenant)
			}
			for _, f := range r.Fields {
				if strings.Contains(f.Value, "a-host") || strings.Contains(f.Value, "secret") || (f.Name == "n" && f.Value != "1") {
					t.Errorf("%q for B sees A's data: %+v", q, r)
				}
			}
		}
	}
	if rows := search(t, s, logstore.Query{Tenants: []tenant.ID{B}, LogsQL: "mimikatz"}); len(rows) != 0 {
		t.Errorf("mimikatz for B: %d rows, want none", len(rows))
	}
	if rows := search(t, s, logstore.Query{Tenants: []tenant.ID{C}, LogsQL: "*"}); len(rows) != 0 {
		t.Errorf("empty tenant C: %d rows", len(rows))
	}
	rows := search(t, s, logstore.Query{Tenants: []tenant.ID{A, B, A}, LogsQL: "*"})
	got := map[tenant.ID]string{}
	for _, r := range rows {
		got[r.Tenant] += value(r, "host.name")
	}
	if diff := cmp.Diff(map[tenant.ID]string{A: "a-host", B: "b-host"}, got); diff != "" {
		t.Errorf("A and B (-want +got):\n%s", diff)
	}
	if err := s.Search(t.Context(), logstore.Query{LogsQL: "*"}, func(logstore.Row) error { return nil }); err == nil {
		t.Error("search without tenants: no error")
	}
}

// testFreeText: a word naming no field finds the message and text fields.
func testFreeText(t *testing.T, s Store) {
	at := base()
	add(t, s, A,
		Ev(at, "EventID", "1", "CommandLine", `mimikatz.exe "sekurlsa::logonpasswords" exit`, "host.name", "WS01"),
		Ev(at.Add(time.Second), "message", "Failed password for root from 203.0.113.9", "host.name", "fw01"),
		Ev(at.Add(2*time.Second), "message", "GET /admin", "url.full", "https://intranet.example/admin?q=mimikatz", "host.name", "web01"),
		Ev(at.Add(3*time.Second), "other.field", "mimikatz", "host.name", "nowhere"),
	)
	s.Refresh()
	tests := []struct {
		q    string
		want []string
	}{
		{"mimikatz", []string{"web01", "WS01"}},
		{`"sekurlsa::logonpasswords"`, []string{"WS01"}},
		{"mimi*", []string{"web01", "WS01"}},
		{"i(MIMIKATZ) -host.name:web01", []string{"WS01"}},
		{"203.0.113.9", []string{"fw01"}},
		{"message:password", []string{"fw01"}},
		{"_msg:mimikatz", nil},
		{"other.field:mimikatz", []string{"nowhere"}},
	}
	for _, tt := range tests {
		if got := values(search(t, s, logstore.Query{Tenants: []tenant.ID{A}, LogsQL: tt.q}), "host.name"); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.q, got, tt.want)
		}
	}
}

// testStatsQuery: rows without time, one set per tenant.
func testStatsQuery(t *testing.T, s Store) {
	at := base()
	for i := range 5 {
		add(t, s, A, Ev(at.Add(time.Duration(i)*time.Second), "host.name", "h"+strconv.Itoa(i%2)))
	}
	add(t, s, B, Ev(at, "host.name", "hb"))
	s.Refresh()
	rows := search(t, s, logstore.Query{Tenants: []tenant.ID{A, B}, LogsQL: "* | stats count() as n"})
	got := map[tenant.ID]string{}
	for _, r := range rows {
		if !r.Time.IsZero() {
			t.Errorf("stats row with time %s", r.Time)
		}
		got[r.Tenant] = value(r, "n")
	}
	if diff := cmp.Diff(map[tenant.ID]string{A: "5", B: "1"}, got); diff != "" {
		t.Errorf("count per tenant (-want +got):\n%s", diff)
	}
	rows = search(t, s, logstore.Query{Tenants: []tenant.ID{A}, LogsQL: "* | stats by (host.name) count() as n | sort by (host.name)"})
	if got := fmt.Sprint(values(rows, "host.name"), values(rows, "n")); got != "[h0 h1] [3 2]" {
		t.Errorf("by host: %s", got)
	}
}

// testBadQuery: the store's parser's refusal is ErrBadQuery.
func testBadQuery(t *testing.T, s Store) {
	for _, q := range []string{"foo((", "a | nosuchpipe", `x:re("(")`} {
		err := s.Search(t.Context(), logstore.Query{Tenants: []tenant.ID{A}, LogsQL: q}, func(logstore.Row) error { return nil })
		if !errors.Is(err, logstore.ErrBadQuery) {
			t.Errorf("%q: %v, want ErrBadQuery", q, err)
		}
	}
	err := s.Search(t.Context(), logstore.Query{Tenants: []tenant.ID{A}, LogsQL: "*", Limit: -1}, func(logstore.Row) error { return nil })
	if !errors.Is(err, logstore.ErrBadQuery) {
		t.Errorf("negative limit: %v", err)
	}
	// fn's error comes back as it is.
	add(t, s, A, Ev(base(), "x", "1"))
	s.Refresh()
	stop := errors.New("stop")
	if err := s.Search(t.Context(), logstore.Query{Tenants: []tenant.ID{A}, LogsQL: "*"}, func(logstore.Row) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("fn's error: %v", err)
	}
}

// testSeqRange is the indexer's look-up of what a crashed run stored.
func testSeqRange(t *testing.T, s Store) {
	at := base()
	var evs []event.Event
	for seq := 1; seq <= 20; seq++ {
		for j := range 3 {
			evs = append(evs, Ev(at.Add(time.Duration(seq)*time.Second), event.FieldSeq, strconv.Itoa(seq), event.FieldIdx, strconv.Itoa(j), "message", "m"))
		}
	}
	add(t, s, A, evs...)
	add(t, s, B, Ev(at, event.FieldSeq, "7", event.FieldIdx, "9"))
	s.Refresh()
	q := logstore.Query{
		Tenants: []tenant.ID{A},
		LogsQL:  fmt.Sprintf("%s:range[%d, %d] | fields %s, %s", event.FieldSeq, 5, 9, event.FieldSeq, event.FieldIdx),
		Limit:   16,
	}
	var got []string
	for _, r := range search(t, s, q) {
		if len(r.Fields) != 2 {
			t.Errorf("fields %+v, want only seq and idx", r.Fields)
		}
		got = append(got, value(r, event.FieldSeq)+":"+value(r, event.FieldIdx))
	}
	slices.Sort(got)
	var want []string
	for seq := 5; seq <= 9; seq++ {
		for j := range 3 {
			want = append(want, fmt.Sprintf("%d:%d", seq, j))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("seq range [5, 9]: %v, want %v", got, want)
	}
}

// testTimeOutsideRetention: an event too old or too new is stored at its
// ingest time, keeps its own time, and is counted.
func testTimeOutsideRetention(t *testing.T, s Store) {
	before := s.TimeAdjusted()
	now := time.Now()
	old := now.AddDate(-20, 0, 0).UTC()
	ingested := now.Add(-time.Minute).UTC()
	add(t, s, A,
		Ev(old, "n", "old", event.FieldIngested, ingested.Format(time.RFC3339Nano)),
		Ev(now.AddDate(1, 0, 0), "n", "future"),
		Ev(time.Time{}, "n", "none"),
	)
	s.Refresh()
	if got := s.TimeAdjusted() - before; got != 3 {
		t.Errorf("time adjusted %d, want 3", got)
	}
	rows := search(t, s, logstore.Query{Tenants: []tenant.ID{A}, LogsQL: "n:old", From: now.Add(-2 * time.Minute)})
	if len(rows) != 1 || !rows[0].Time.Equal(old) || value(rows[0], event.FieldTimestamp) == "" {
		t.Fatalf("old event: %+v, want stored at ingest time with its own time %s", rows, old)
	}
	if got := search(t, s, logstore.Query{Tenants: []tenant.ID{A}, LogsQL: "*", From: now.Add(-2 * time.Minute), To: now.Add(time.Minute)}); len(got) != 3 {
		t.Errorf("%d events stored around now, want 3", len(got))
	}
	// A hunt over the old event's own time finds it too (logs of an
	// attack years ago, replayed now), and nothing stored in the window.
	add(t, s, A, Ev(base(), "n", "recent"))
	s.Refresh()
	for _, tt := range []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{"around its own time", old.Add(-time.Hour), old.Add(time.Hour), []string{"old"}},
		// To the microsecond: the own time is compared as a float64 of
		// nanoseconds.
		{"to just after it", time.Time{}, old.Add(time.Microsecond), []string{"old"}},
		{"to at it (exclusive)", time.Time{}, old, []string{}},
		{"from at it", old, old.Add(time.Hour), []string{"old"}},
		{"from just after it", old.Add(time.Microsecond), old.Add(time.Hour), []string{}},
		{"from before it, open", old.Add(-time.Hour), time.Time{}, []string{"old", "recent", "future", "none"}},
		{"a day long before it", old.AddDate(-1, 0, 0), old.AddDate(-1, 0, 1), []string{}},
		{"recent only", base().Add(-time.Minute), base().Add(time.Minute), []string{"recent"}},
	} {
		rows := search(t, s, logstore.Query{Tenants: []tenant.ID{A}, LogsQL: "n:*", From: tt.from, To: tt.to})
		got := values(rows, "n")
		slices.Sort(got)
		want := slices.Sorted(slices.Values(tt.want))
		if !slices.Equal(got, want) {
			t.Errorf("%s [%s, %s): %v, want %v", tt.name, tt.from, tt.to, got, want)
		}
	}
	rows = search(t, s, logstore.Query{Tenants: []tenant.ID{A}, LogsQL: "* | stats count() as n", From: old.Add(-time.Hour), To: old.Add(time.Hour)})
	if got := values(rows, "n"); !slices.Equal(got, []string{"1"}) {
		t.Errorf("count around the old event's own time: %v, want [1]", got)
	}
}

// testTooLarge: an event beyond the limits fails the whole batch, and
// nothing of it is stored.
func testTooLarge(t *testing.T, s Store) {
	at := base()
	wide := Ev(at)
	for i := range 2100 {
		wide.Fields = append(wide.Fields, event.Field{Name: "f" + strconv.Itoa(i), Value: "v"})
	}
	longName := Ev(at, strings.Repeat("n", 200), "v")
	huge := Ev(at, "message", strings.Repeat("x", 3<<20))
	for name, bad := range map[string]event.Event{"wide": wide, "long name": longName, "huge": huge} {
		if err := s.Add(t.Context(), A, []event.Event{Ev(at, "ok", name), bad}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	s.Refresh()
	if rows := search(t, s, logstore.Query{Tenants: []tenant.ID{A}, LogsQL: "*"}); len(rows) != 0 {
		t.Errorf("%d events of refused batches stored", len(rows))
	}
}

// testConcurrentAdd: parallel adds, each event once.
func testConcurrentAdd(t *testing.T, s Store) {
	at := base()
	const writers, batches, size = 4, 5, 200
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches)
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				evs := make([]event.Event, size)
				for i := range evs {
					evs[i] = Ev(at.Add(time.Duration(i)*time.Millisecond), "k", fmt.Sprintf("%d-%d-%d", w, b, i))
				}
				tn := A
				if w%2 == 1 {
					tn = B
				}
				errs <- s.Add(t.Context(), tn, evs)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, tn := range []tenant.ID{A, B} {
		rows := search(t, s, logstore.Query{Tenants: []tenant.ID{tn}, LogsQL: "*", Limit: 10000})
		seen := map[string]bool{}
		for _, r := range rows {
			k := value(r, "k")
			if seen[k] {
				t.Errorf("%s: %s twice", tn, k)
			}
			seen[k] = true
		}
		if len(seen) != writers/2*batches*size {
			t.Errorf("%s: %d events, want %d", tn, len(seen), writers/2*batches*size)
		}
	}
}

// testDeleteBefore: Delete removes a tenant's events before a time, and
// only those.
func testDeleteBefore(t *testing.T, s Store) {
	at := base()
	for i := range 4 {
		add(t, s, A, Ev(at.Add(time.Duration(i)*time.Hour/2), "i", strconv.Itoa(i)))
		add(t, s, B, Ev(at.Add(time.Duration(i)*time.Hour/2), "i", strconv.Itoa(i)))
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	n, err := s.Delete(t.Context(), A, at.Add(time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("delete before +1h: %d, %v; want 2", n, err)
	}
	if got := values(search(t, s, logstore.Query{Tenants: []tenant.ID{A}, LogsQL: "*"}), "i"); !slices.Equal(got, []string{"3", "2"}) {
		t.Errorf("A after delete: %v, want [3 2]", got)
	}
	if got := values(search(t, s, logstore.Query{Tenants: []tenant.ID{B}, LogsQL: "*"}), "i"); !slices.Equal(got, []string{"3", "2", "1", "0"}) {
		t.Errorf("B after A's delete: %v, want all four", got)
	}
	if n, err := s.Delete(t.Context(), A, at.Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("delete again: %d, %v; want 0", n, err)
	}
	if n, err := s.Delete(t.Context(), A, time.Time{}); err != nil || n != 2 {
		t.Errorf("delete all: %d, %v; want 2", n, err)
	}
	if rows := search(t, s, logstore.Query{Tenants: []tenant.ID{A}, LogsQL: "*"}); len(rows) != 0 {
		t.Errorf("A after delete all: %d rows", len(rows))
	}
	if rows := search(t, s, logstore.Query{Tenants: []tenant.ID{B}, LogsQL: "*"}); len(rows) != 4 {
		t.Errorf("B after A's delete all: %d rows, want 4", len(rows))
	}
}

// testExport: every event of the tenant, across days, and no other's.
func testExport(t *testing.T, s Store) {
	now := time.Now().UTC()
	var want []string
	for i := range 5 {
		at := now.Add(-time.Duration(i) * 20 * time.Hour)
		add(t, s, A, Ev(at, "i", strconv.Itoa(i), "message", "m"+strconv.Itoa(i)))
		want = append(want, strconv.Itoa(i))
	}
	add(t, s, B, Ev(now, "i", "b"))
	var got []string
	err := s.Export(t.Context(), A, func(r logstore.Row) error {
		if r.Tenant != A {
			t.Errorf("exported row of %q", r.Tenant)
		}
		got = append(got, value(r, "i"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("export: %v, want %v", got, want)
	}
	stop := errors.New("stop")
	if err := s.Export(t.Context(), A, func(logstore.Row) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("fn's error: %v", err)
	}
	if err := s.Export(t.Context(), C, func(logstore.Row) error { t.Error("row of empty tenant"); return nil }); err != nil {
		t.Error(err)
	}
}

// testFlushAndStats: after Flush every event is searchable without Refresh,
// and Stats counts them (a store may report its figures late).
func testFlushAndStats(t *testing.T, s Store) {
	at := base()
	var evs []event.Event
	for i := range 500 {
		evs = append(evs, Ev(at.Add(time.Duration(i)*time.Millisecond), "i", strconv.Itoa(i)))
	}
	add(t, s, A, evs...)
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if rows := search(t, s, logstore.Query{Tenants: []tenant.ID{A}, LogsQL: "* | stats count() as n"}); len(rows) != 1 || value(rows[0], "n") != "500" {
		t.Errorf("after flush: %+v", rows)
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Errorf("second flush: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := s.Stats()
		if st.Rows >= 500 && st.DiskBytes > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("stats %+v, want at least 500 rows on disk", st)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
}
