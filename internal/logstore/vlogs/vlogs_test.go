package vlogs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// testMemory caps VictoriaLogs' caches in tests.
const testMemory = 256 << 20

type resolver map[tenant.ID]uint32

func (r resolver) Number(_ context.Context, t tenant.ID) (uint32, error) {
	n, ok := r[t]
	if !ok {
		return 0, fmt.Errorf("%w: %s", tenant.ErrNotFound, t)
	}
	return n, nil
}

var testTenants = resolver{"council-a": 1, "council-b": 2, "fire-c": 3}

func testConfig(path string) Config {
	return Config{Path: path, MinFreeDiskBytes: -1}
}

func openStore(t testing.TB, cfg Config) *Store {
	t.Helper()
	if err := SetProcessLimits(testMemory); err != nil {
		t.Fatal(err)
	}
	s, err := Open(cfg, testTenants, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func ev(at time.Time, kv ...string) event.Event {
	e := event.Event{Time: at}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Fields = append(e.Fields, event.Field{Name: kv[i], Value: kv[i+1]})
	}
	return e
}

func mustAdd(t testing.TB, s *Store, tn tenant.ID, events ...event.Event) {
	t.Helper()
	if err := s.Add(t.Context(), tn, events); err != nil {
		t.Fatal(err)
	}
}

func mustFlush(t testing.TB, s *Store) {
	t.Helper()
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func search(t testing.TB, s *Store, q logstore.Query) []logstore.Row {
	t.Helper()
	var rows []logstore.Row
	err := s.Search(t.Context(), q, func(r logstore.Row) error {
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		t.Fatalf("search %q: %v", q.LogsQL, err)
	}
	return rows
}

// values returns field name of every row, in order.
func values(rows []logstore.Row, name string) []string {
	var out []string
	for _, r := range rows {
		for _, f := range r.Fields {
			if f.Name == name {
				out = append(out, f.Value)
			}
		}
	}
	return out
}

func TestTenantIsolation(t *testing.T) {
	s := openStore(t, testConfig(t.TempDir()))
	now := time.Now().Truncate(time.Millisecond)
	mustAdd(t, s, "council-a", ev(now, "message", "login failed", "user.name", "alice"))
	mustAdd(t, s, "council-b", ev(now.Add(time.Second), "message", "login failed", "user.name", "bob"))
	mustFlush(t, s)

	tests := []struct {
		tenants []tenant.ID
		want    []string // user.name of rows, newest first
		wantTen []tenant.ID
	}{
		{[]tenant.ID{"council-a"}, []string{"alice"}, []tenant.ID{"council-a"}},
		{[]tenant.ID{"council-b"}, []string{"bob"}, []tenant.ID{"council-b"}},
		{[]tenant.ID{"fire-c"}, nil, nil},
		{[]tenant.ID{"council-a", "council-b"}, []string{"bob", "alice"}, []tenant.ID{"council-b", "council-a"}},
	}
	for _, tt := range tests {
		rows := search(t, s, logstore.Query{Tenants: tt.tenants, LogsQL: "login"})
		var gotTen []tenant.ID
		for _, r := range rows {
			gotTen = append(gotTen, r.Tenant)
		}
		if diff := cmp.Diff(tt.want, values(rows, "user.name")); diff != "" {
			t.Errorf("tenants %v: users (-want +got):\n%s", tt.tenants, diff)
		}
		if diff := cmp.Diff(tt.wantTen, gotTen); diff != "" {
			t.Errorf("tenants %v: row tenants (-want +got):\n%s", tt.tenants, diff)
		}
	}

	noop := func(logstore.Row) error { return nil }
	if err := s.Search(t.Context(), logstore.Query{LogsQL: "*"}, noop); err == nil {
		t.Error("search with no tenant: want error")
	}
	err := s.Search(t.Context(), logstore.Query{Tenants: []tenant.ID{"nobody"}, LogsQL: "*"}, noop)
	if !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("search unknown tenant: got %v, want tenant.ErrNotFound", err)
	}
	if err := s.Add(t.Context(), "nobody", []event.Event{ev(now)}); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("add unknown tenant: got %v, want tenant.ErrNotFound", err)
	}
}

func TestFields(t *testing.T) {
	s := openStore(t, testConfig(t.TempDir()))
	at := time.Now().Add(-time.Hour).Truncate(time.Microsecond).UTC()
	mustAdd(t, s, "council-a", ev(at,
		"message", "Failed password for alice from 10.0.0.5",
		"user.name", "alice",
		"host.name", "web-1",
		"source.ip", "10.0.0.5",
		"event.module", "sshd",
		"_stream", "dropped: reserved by VictoriaLogs",
	))
	mustFlush(t, s)

	want := []logstore.Row{{
		Tenant: "council-a",
		Time:   at,
		Fields: []event.Field{
			{Name: "event.module", Value: "sshd"},
			{Name: "host.name", Value: "web-1"},
			{Name: "message", Value: "Failed password for alice from 10.0.0.5"},
			{Name: "source.ip", Value: "10.0.0.5"},
			{Name: "user.name", Value: "alice"},
		},
	}}
	for _, q := range []string{"password", "user.name:alice", `host.name:"web-1" AND event.module:sshd`, `_stream:{host.name="web-1"}`, "*"} {
		rows := search(t, s, logstore.Query{Tenants: []tenant.ID{"council-a"}, LogsQL: q})
		if diff := cmp.Diff(want, rows); diff != "" {
			t.Errorf("query %q (-want +got):\n%s", q, diff)
		}
	}
	// A bare word searches the message and the text fields (host.name is
	// one), not every field (event.module is not; see TestSearchText).
	if rows := search(t, s, logstore.Query{Tenants: []tenant.ID{"council-a"}, LogsQL: "web-1"}); len(rows) != 1 {
		t.Errorf("bare word in a text field matched %d rows, want 1", len(rows))
	}
	if rows := search(t, s, logstore.Query{Tenants: []tenant.ID{"council-a"}, LogsQL: "sshd"}); len(rows) != 0 {
		t.Errorf("bare word outside the message and text fields matched %d rows", len(rows))
	}
}

func TestTimeOutsideRetention(t *testing.T) {
	s := openStore(t, testConfig(t.TempDir()))
	now := time.Now().UTC()
	ingested := now.Add(-time.Hour).Truncate(time.Second)
	old := now.AddDate(-3, 0, 0).Truncate(time.Second)
	future := now.AddDate(0, 0, 10).Truncate(time.Second)
	mustAdd(t, s, "council-a",
		ev(old, "message", "ancient", "event.ingested", ingested.Format(time.RFC3339)),
		ev(future, "message", "future"),
		ev(now, "message", "current"),
	)
	mustFlush(t, s)
	if got := s.TimeAdjusted(); got != 2 {
		t.Errorf("TimeAdjusted = %d, want 2", got)
	}

	rows := search(t, s, logstore.Query{Tenants: []tenant.ID{"council-a"}, LogsQL: "*"})
	got := map[string]time.Time{}
	for _, r := range rows {
		got[values([]logstore.Row{r}, "message")[0]] = r.Time
	}
	want := map[string]time.Time{"ancient": old, "future": future, "current": now.Truncate(time.Nanosecond)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("row times (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{old.Format(time.RFC3339Nano)}, values(search(t, s, logstore.Query{Tenants: []tenant.ID{"council-a"}, LogsQL: "ancient"}), "@timestamp")); diff != "" {
		t.Errorf("@timestamp of adjusted event (-want +got):\n%s", diff)
	}
	// The adjusted event is stored at its ingest time.
	rows = search(t, s, logstore.Query{Tenants: []tenant.ID{"council-a"}, LogsQL: "*", From: ingested, To: ingested.Add(time.Second)})
	if diff := cmp.Diff([]string{"ancient"}, values(rows, "message")); diff != "" {
		t.Errorf("search at ingest time (-want +got):\n%s", diff)
	}
}

func TestSearchOrderAndLimit(t *testing.T) {
	s := openStore(t, testConfig(t.TempDir()))
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	for i := range 10 {
		tn := tenant.ID("council-a")
		if i%2 == 1 {
			tn = "council-b"
		}
		mustAdd(t, s, tn, ev(base.Add(time.Duration(i)*time.Minute), "message", fmt.Sprintf("n%d", i)))
	}
	mustFlush(t, s)
	both := []tenant.ID{"council-a", "council-b"}
	tests := []struct {
		name string
		q    logstore.Query
		want []string
	}{
		{"all", logstore.Query{Tenants: both, LogsQL: "*"}, []string{"n9", "n8", "n7", "n6", "n5", "n4", "n3", "n2", "n1", "n0"}},
		{"global limit", logstore.Query{Tenants: both, LogsQL: "*", Limit: 3}, []string{"n9", "n8", "n7"}},
		{"one tenant", logstore.Query{Tenants: both[:1], LogsQL: "*", Limit: 2}, []string{"n8", "n6"}},
		{"from", logstore.Query{Tenants: both, LogsQL: "*", From: base.Add(7 * time.Minute)}, []string{"n9", "n8", "n7"}},
		{"to exclusive", logstore.Query{Tenants: both, LogsQL: "*", To: base.Add(2 * time.Minute)}, []string{"n1", "n0"}},
		{"from to", logstore.Query{Tenants: both, LogsQL: "*", From: base.Add(3 * time.Minute), To: base.Add(5 * time.Minute)}, []string{"n4", "n3"}},
		{"pipe keeps rows", logstore.Query{Tenants: both, LogsQL: "* | fields _time, _msg", Limit: 2}, []string{"n9", "n8"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, values(search(t, s, tt.q), "message")); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}

	for i := range DefaultLimit + 5 {
		mustAdd(t, s, "fire-c", ev(base.Add(time.Duration(i)*time.Millisecond), "message", "bulk"))
	}
	mustFlush(t, s)
	if rows := search(t, s, logstore.Query{Tenants: []tenant.ID{"fire-c"}, LogsQL: "bulk"}); len(rows) != DefaultLimit {
		t.Errorf("default limit: got %d rows, want %d", len(rows), DefaultLimit)
	}
}

func TestSearchStatsPipe(t *testing.T) {
	s := openStore(t, testConfig(t.TempDir()))
	now := time.Now()
	mustAdd(t, s, "council-a", ev(now, "message", "x"), ev(now, "message", "y"))
	mustAdd(t, s, "council-b", ev(now, "message", "z"))
	mustFlush(t, s)
	rows := search(t, s, logstore.Query{Tenants: []tenant.ID{"council-a", "council-b"}, LogsQL: "* | stats count() as n"})
	want := []logstore.Row{
		{Tenant: "council-a", Fields: []event.Field{{Name: "n", Value: "2"}}},
		{Tenant: "council-b", Fields: []event.Field{{Name: "n", Value: "1"}}},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
}

func TestSearchErrors(t *testing.T) {
	s := openStore(t, testConfig(t.TempDir()))
	mustAdd(t, s, "council-a", ev(time.Now(), "message", "one"), ev(time.Now(), "message", "two"))
	mustFlush(t, s)
	scope := []tenant.ID{"council-a"}

	for _, q := range []string{"foo |", "(a or", "* | stats nosuchfunc()"} {
		err := s.Search(t.Context(), logstore.Query{Tenants: scope, LogsQL: q}, func(logstore.Row) error { return nil })
		if !errors.Is(err, logstore.ErrBadQuery) || !strings.Contains(err.Error(), "bad query: ") || len(err.Error()) < len("search: bad query: ")+10 {
			t.Errorf("query %q: got %v, want ErrBadQuery with the parser's message", q, err)
		}
	}

	stop := errors.New("stop")
	calls := 0
	err := s.Search(t.Context(), logstore.Query{Tenants: scope, LogsQL: "*"}, func(logstore.Row) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("fn error: got %v after %d calls, want stop after 1", err, calls)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = s.Search(ctx, logstore.Query{Tenants: scope, LogsQL: "*"}, func(logstore.Row) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled search: got %v, want context.Canceled", err)
	}
}

func TestFlushCloseReopen(t *testing.T) {
	dir := t.TempDir()
	if err := SetProcessLimits(testMemory); err != nil {
		t.Fatal(err)
	}
	s, err := Open(testConfig(dir), testTenants, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-time.Minute)
	var batch []event.Event
	for i := range 500 {
		batch = append(batch, ev(base.Add(time.Duration(i)*time.Millisecond), "message", fmt.Sprintf("e%d", i), "host.name", fmt.Sprintf("h%d", i%7)))
	}
	mustAdd(t, s, "council-a", batch...)
	mustFlush(t, s)
	if got := s.Stats(); got.Rows != 500 || got.DiskBytes == 0 {
		t.Errorf("stats after flush = %+v, want 500 rows on disk", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(t.Context(), "council-a", batch); !errors.Is(err, logstore.ErrClosed) {
		t.Errorf("add after close: got %v, want logstore.ErrClosed", err)
	}

	s = openStore(t, testConfig(dir))
	rows := search(t, s, logstore.Query{Tenants: []tenant.ID{"council-a"}, LogsQL: "*", Limit: 10_000})
	checkExactlyOnce(t, rows, 500)
}

func checkExactlyOnce(t *testing.T, rows []logstore.Row, n int) {
	t.Helper()
	seen := map[string]int{}
	for _, m := range values(rows, "message") {
		seen[m]++
	}
	for i := range n {
		if c := seen[fmt.Sprintf("e%d", i)]; c != 1 {
			t.Errorf("event e%d found %d times, want 1", i, c)
		}
	}
	if len(rows) != n {
		t.Errorf("got %d rows, want %d", len(rows), n)
	}
}

// TestFlushSurvivesKill runs a child process that adds, flushes and is then
// killed with SIGKILL before it can close the store.
func TestFlushSurvivesKill(t *testing.T) {
	if dir := os.Getenv("VLOGS_KILL_DIR"); dir != "" {
		killChild(t, dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFlushSurvivesKill$")
	// Test binaries skip fsync unless told otherwise; the child fsyncs as
	// production does.
	cmd.Env = append(os.Environ(), "VLOGS_KILL_DIR="+dir, "DISABLE_FSYNC_FOR_TESTING=false")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	flushed := false
	for sc.Scan() {
		if sc.Text() == "flushed" {
			flushed = true
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if !flushed {
		t.Fatal("child did not flush")
	}
	s := openStore(t, testConfig(dir))
	checkExactlyOnce(t, search(t, s, logstore.Query{Tenants: []tenant.ID{"council-b"}, LogsQL: "*", Limit: 10_000}), 300)
	// The stream index survived too.
	if rows := search(t, s, logstore.Query{Tenants: []tenant.ID{"council-b"}, LogsQL: `_stream:{host.name="h1"}`, Limit: 10_000}); len(rows) != 100 {
		t.Errorf("stream filter after kill: got %d rows, want 100", len(rows))
	}
}

func killChild(t *testing.T, dir string) {
	if err := SetProcessLimits(testMemory); err != nil {
		t.Fatal(err)
	}
	s, err := Open(testConfig(dir), testTenants, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for b := range 3 {
		var batch []event.Event
		for i := range 100 {
			n := b*100 + i
			batch = append(batch, ev(now, "message", fmt.Sprintf("e%d", n), "host.name", fmt.Sprintf("h%d", n%3)))
		}
		mustAdd(t, s, "council-b", batch...)
	}
	mustFlush(t, s)
	fmt.Println("flushed")
	time.Sleep(time.Minute) // killed here
}

func TestConcurrentAddFlushSearch(t *testing.T) {
	s := openStore(t, testConfig(t.TempDir()))
	const writers, batches, size = 4, 10, 50
	now := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				var batch []event.Event
				for i := range size {
					batch = append(batch, ev(now, "message", fmt.Sprintf("e%d", (w*batches+b)*size+i)))
				}
				if err := s.Add(t.Context(), "council-a", batch); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			if err := s.Flush(t.Context()); err != nil {
				t.Error(err)
			}
			err := s.Search(t.Context(), logstore.Query{Tenants: []tenant.ID{"council-a"}, LogsQL: "*"}, func(logstore.Row) error { return nil })
			if err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	mustFlush(t, s)
	checkExactlyOnce(t, search(t, s, logstore.Query{Tenants: []tenant.ID{"council-a"}, LogsQL: "*", Limit: 10_000}), writers*batches*size)
}

func TestTwoStores(t *testing.T) {
	t.Parallel()
	a := openStore(t, testConfig(t.TempDir()))
	b := openStore(t, testConfig(t.TempDir()))
	now := time.Now()
	mustAdd(t, a, "council-a", ev(now, "message", "in a"))
	mustAdd(t, b, "council-a", ev(now, "message", "in b"))
	mustFlush(t, a)
	mustFlush(t, b)
	scope := []tenant.ID{"council-a"}
	if diff := cmp.Diff([]string{"in a"}, values(search(t, a, logstore.Query{Tenants: scope, LogsQL: "*"}), "message")); diff != "" {
		t.Errorf("store a (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"in b"}, values(search(t, b, logstore.Query{Tenants: scope, LogsQL: "*"}), "message")); diff != "" {
		t.Errorf("store b (-want +got):\n%s", diff)
	}
	if err := SetProcessLimits(testMemory); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(testConfig(a.cfg.Path), testTenants, nil); err == nil {
		t.Error("second Open of an open path: want error")
	}
}

func TestAddRejects(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.MinFreeDiskBytes = 1 << 62
	s := openStore(t, cfg)
	if err := s.Add(t.Context(), "council-a", []event.Event{ev(time.Now(), "message", "x")}); !errors.Is(err, logstore.ErrReadOnly) {
		t.Errorf("add with no free space: got %v, want logstore.ErrReadOnly", err)
	}

	s = openStore(t, testConfig(t.TempDir()))
	long := ev(time.Now(), strings.Repeat("f", 129), "x")
	if err := s.Add(t.Context(), "council-a", []event.Event{ev(time.Now(), "message", "ok"), long}); !errors.Is(err, logstore.ErrTooLarge) {
		t.Errorf("add long field name: got %v, want logstore.ErrTooLarge", err)
	}
	huge := ev(time.Now(), "message", strings.Repeat("x", 3<<20))
	if err := s.Add(t.Context(), "council-a", []event.Event{huge}); !errors.Is(err, logstore.ErrTooLarge) {
		t.Errorf("add huge event: got %v, want logstore.ErrTooLarge", err)
	}
	mustFlush(t, s)
	if got := s.Stats().Rows; got != 0 {
		t.Errorf("rejected batches stored %d rows", got)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"path only", Config{Path: "x"}, true},
		{"defaults", func() Config { c := DefaultConfig(); c.Path = "x"; return c }(), true},
		{"no path", Config{}, false},
		{"short retention", Config{Path: "x", Retention: time.Hour}, false},
		{"short future", Config{Path: "x", FutureRetention: time.Hour}, false},
		{"disk percent", Config{Path: "x", MaxDiskUsagePercent: 101}, false},
		{"stream field", Config{Path: "x", StreamFields: []string{"_msg"}}, false},
	}
	if err := SetProcessLimits(0); err == nil {
		t.Error("SetProcessLimits(0): want error")
	}
	for _, tt := range tests {
		if err := tt.cfg.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

// Rows are returned by row queries as soon as Refresh returns, not only by
// stats queries (which count buffered rows).
func TestRefreshMakesRowsSearchable(t *testing.T) {
	s := openStore(t, testConfig(t.TempDir()))
	at := time.Now().Add(-time.Minute)
	var evs []event.Event
	for i := 0; i < 500; i++ {
		evs = append(evs, ev(at.Add(time.Duration(i)*time.Millisecond), "message", fmt.Sprintf("refresh-marker %d", i)))
	}
	mustAdd(t, s, "council-a", evs...)
	s.Refresh()
	rows := search(t, s, logstore.Query{Tenants: []tenant.ID{"council-a"}, LogsQL: "refresh-marker", Limit: 1000})
	if len(rows) != 500 {
		t.Fatalf("after Refresh: %d rows, want 500", len(rows))
	}
}
