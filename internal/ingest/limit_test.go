package ingest_test

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/ingest/ingesttest"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

func recs(n, size int) []event.Raw {
	out := make([]event.Raw, n)
	for i := range out {
		out[i] = event.Raw{Source: "test", Data: make([]byte, size)}
	}
	return out
}

// clock is a hand-driven time for the limiter.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newLimiter(t *testing.T, cfg ingest.LimitsConfig) (*ingest.Limiter, *ingesttest.Sink, *clock) {
	t.Helper()
	sink := ingesttest.NewSink()
	l := ingest.NewLimiter(sink, cfg, sink)
	c := &clock{t: time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC)}
	ingest.SetLimiterClock(l, c.now)
	return l, sink, c
}

func TestLimiterRate(t *testing.T) {
	ctx := context.Background()
	l, sink, c := newLimiter(t, ingest.LimitsConfig{
		Default: ingest.Limit{EventsPerSecond: 100, BurstEvents: 200},
		Tenants: map[string]ingest.Limit{"big": {EventsPerSecond: 10000}},
	})
	// The burst passes at once; the next record is refused.
	if err := l.Write(ctx, "a", recs(200, 10)); err != nil {
		t.Fatalf("burst refused: %v", err)
	}
	err := l.Write(ctx, "a", recs(10, 10))
	if !errors.Is(err, ingest.ErrRateLimited) || !errors.Is(err, ingest.ErrBackpressure) {
		t.Fatalf("over the rate: err = %v, want rate limited and back-pressure", err)
	}
	if got := ingest.RetryAfter(err); got != 100*time.Millisecond {
		t.Fatalf("RetryAfter = %s, want 100ms for 10 records at 100/s", got)
	}
	if got := ingest.RetryAfterSeconds(err); got != 1 {
		t.Fatalf("RetryAfterSeconds = %d, want 1", got)
	}
	// Another tenant is not touched by a's use.
	if err := l.Write(ctx, "b", recs(200, 10)); err != nil {
		t.Fatalf("tenant b refused by a's use: %v", err)
	}
	if err := l.Write(ctx, "big", recs(5000, 10)); err != nil {
		t.Fatalf("tenant with its own limit refused: %v", err)
	}
	// After the refill time the write passes.
	c.t = c.t.Add(100 * time.Millisecond)
	if err := l.Write(ctx, "a", recs(10, 10)); err != nil {
		t.Fatalf("after refill: %v", err)
	}
	if got := len(sink.Records("a")); got != 210 {
		t.Fatalf("a has %d records, want 210", got)
	}
	if got := sink.Counted(ingest.MetricLimited, "a"); got != 10 {
		t.Fatalf("limited counter = %d, want 10", got)
	}
}

func TestLimiterLargeBatchLeavesDebt(t *testing.T) {
	ctx := context.Background()
	l, _, c := newLimiter(t, ingest.LimitsConfig{Default: ingest.Limit{EventsPerSecond: 100, BurstEvents: 100}})
	// A batch of 500 passes on a full bucket: refusing it would stall
	// the shipper for ever, as it cannot split its batch.
	if err := l.Write(ctx, "a", recs(500, 1)); err != nil {
		t.Fatalf("large batch on a full bucket: %v", err)
	}
	// It left 400 records of debt: 4s until the bucket holds 1 again.
	err := l.Write(ctx, "a", recs(1, 1))
	if got := ingest.RetryAfter(err); got < 4*time.Second || got > 4100*time.Millisecond {
		t.Fatalf("RetryAfter after debt = %s (err %v), want about 4s", got, err)
	}
	c.t = c.t.Add(5 * time.Second)
	if err := l.Write(ctx, "a", recs(100, 1)); err != nil {
		t.Fatalf("after paying the debt: %v", err)
	}
}

func TestLimiterDailyQuota(t *testing.T) {
	ctx := context.Background()
	l, sink, c := newLimiter(t, ingest.LimitsConfig{Tenants: map[string]ingest.Limit{"a": {BytesPerDay: 1000}}})
	if err := l.Write(ctx, "a", recs(9, 100)); err != nil {
		t.Fatal(err)
	}
	err := l.Write(ctx, "a", recs(2, 100))
	var le *ingest.LimitError
	if !errors.As(err, &le) || le.Tenant != "a" {
		t.Fatalf("over the quota: err = %v", err)
	}
	if le.Wait != time.Hour { // the clock is at 23:00 UTC
		t.Fatalf("quota wait = %s, want until midnight (1h)", le.Wait)
	}
	// What still fits passes; tenants without a limit are not limited.
	if err := l.Write(ctx, "a", recs(1, 100)); err != nil {
		t.Fatalf("last 100 bytes of the quota: %v", err)
	}
	if err := l.Write(ctx, "other", recs(100, 1000)); err != nil {
		t.Fatalf("unlimited tenant: %v", err)
	}
	// The next UTC day starts a new quota.
	c.t = c.t.Add(time.Hour)
	if err := l.Write(ctx, "a", recs(10, 100)); err != nil {
		t.Fatalf("next day: %v", err)
	}
	if got := len(sink.Records("a")); got != 20 {
		t.Fatalf("a has %d records, want 20", got)
	}
}

func TestLimiterBatchLargerThanQuota(t *testing.T) {
	ctx := context.Background()
	l, sink, c := newLimiter(t, ingest.LimitsConfig{Tenants: map[string]ingest.Limit{"a": {BytesPerDay: 1000}}})
	// Larger than the whole quota: it passes on a fresh day, once.
	if err := l.Write(ctx, "a", recs(15, 100)); err != nil {
		t.Fatalf("batch larger than the quota on a fresh day: %v", err)
	}
	var le *ingest.LimitError
	if err := l.Write(ctx, "a", recs(1, 1)); !errors.As(err, &le) {
		t.Fatalf("after spending the quota: err = %v, want a LimitError", err)
	}
	// Once part of the day's quota is used, it waits for the next day.
	c.t = c.t.Add(time.Hour)
	if err := l.Write(ctx, "a", recs(1, 100)); err != nil {
		t.Fatal(err)
	}
	if err := l.Write(ctx, "a", recs(15, 100)); !errors.As(err, &le) {
		t.Fatalf("batch larger than the quota on a used day: err = %v, want a LimitError", err)
	}
	if got := len(sink.Records("a")); got != 16 {
		t.Fatalf("a has %d records, want 16", got)
	}
}

func TestLimiterGivesBackOnFailedWrite(t *testing.T) {
	ctx := context.Background()
	l, sink, _ := newLimiter(t, ingest.LimitsConfig{Default: ingest.Limit{EventsPerSecond: 10, BurstEvents: 10, BytesPerDay: 100}})
	sink.RefuseNext(1)
	if err := l.Write(ctx, "a", recs(10, 10)); !errors.Is(err, ingest.ErrBackpressure) || errors.Is(err, ingest.ErrRateLimited) {
		t.Fatalf("refused by the bus: err = %v", err)
	}
	// The refused write used neither tokens nor quota.
	if err := l.Write(ctx, "a", recs(10, 10)); err != nil {
		t.Fatalf("retry after a bus refusal: %v", err)
	}
}

// forgetSink is the bus seen by a write in flight while its tenant is
// removed: the limiter forgets the tenant before the write fails.
type forgetSink struct{ l *ingest.Limiter }

func (s *forgetSink) Write(_ context.Context, t tenant.ID, _ []event.Raw) error {
	s.l.Forget(t)
	return ingest.ErrBackpressure
}

// A write that fails after its tenant was forgotten (removed meanwhile, on
// this node or another) gives nothing back, and does not crash the server.
func TestLimiterFailedWriteOfForgottenTenant(t *testing.T) {
	fs := &forgetSink{}
	l := ingest.NewLimiter(fs, ingest.LimitsConfig{Default: ingest.Limit{EventsPerSecond: 10, BytesPerDay: 100}}, ingesttest.NewSink())
	fs.l = l
	if err := l.Write(context.Background(), "a", recs(5, 10)); !errors.Is(err, ingest.ErrBackpressure) {
		t.Fatalf("err = %v, want the bus's refusal", err)
	}
}

func TestNewLimiterWithoutLimits(t *testing.T) {
	l, sink, _ := newLimiter(t, ingest.LimitsConfig{})
	for range 100 {
		if err := l.Write(context.Background(), "a", recs(1000, 100)); err != nil {
			t.Fatalf("no limits configured: %v", err)
		}
	}
	if got := len(sink.Records("a")); got != 100_000 {
		t.Fatalf("a has %d records, want 100000", got)
	}
	if got := sink.Counted(ingest.MetricLimited, "a"); got != 0 {
		t.Fatalf("limited counter = %d, want 0", got)
	}
}

// TestLimiterSetLimits: limits changed at run time (a configuration
// reload) apply to the next write; what a tenant used is kept.
func TestLimiterSetLimits(t *testing.T) {
	ctx := context.Background()
	l, _, c := newLimiter(t, ingest.LimitsConfig{})
	if err := l.Write(ctx, "a", recs(500, 1)); err != nil {
		t.Fatal(err)
	}
	l.SetLimits(ingest.LimitsConfig{Tenants: map[string]ingest.Limit{"a": {EventsPerSecond: 10, BurstEvents: 10}}})
	if err := l.Write(ctx, "a", recs(10, 1)); err != nil {
		t.Fatalf("first write under the new limit: %v", err)
	}
	if err := l.Write(ctx, "a", recs(1, 1)); !errors.Is(err, ingest.ErrRateLimited) {
		t.Fatalf("over the new limit: err = %v", err)
	}
	if err := l.Write(ctx, "b", recs(500, 1)); err != nil {
		t.Fatalf("b has no limit: %v", err)
	}
	l.SetLimits(ingest.LimitsConfig{})
	c.t = c.t.Add(time.Millisecond)
	if err := l.Write(ctx, "a", recs(1000, 1)); err != nil {
		t.Fatalf("limit removed: %v", err)
	}
}

func TestLimitsValidate(t *testing.T) {
	for _, c := range []struct {
		cfg  ingest.LimitsConfig
		want string
	}{
		{ingest.LimitsConfig{Default: ingest.Limit{EventsPerSecond: -1}}, "default.events_per_second: must not be negative"},
		{ingest.LimitsConfig{Tenants: map[string]ingest.Limit{"ab": {BytesPerDay: -5}}}, "tenants.ab.bytes_per_day: must not be negative"},
		{ingest.LimitsConfig{Tenants: map[string]ingest.Limit{"Not A Tenant": {}}}, "tenants.Not A Tenant: "},
	} {
		err := c.cfg.Validate()
		if err == nil || len(err.Error()) < len(c.want) || err.Error()[:len(c.want)] != c.want {
			t.Errorf("Validate(%+v) = %v, want %q...", c.cfg, err, c.want)
		}
	}
	if err := (ingest.LimitsConfig{Tenants: map[string]ingest.Limit{"cardiff": {EventsPerSecond: 5}}}).Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestRetryAfterDefault(t *testing.T) {
	if got := ingest.RetryAfter(errors.New("x")); got != ingest.DefaultRetryAfter {
		t.Fatalf("RetryAfter(plain) = %s", got)
	}
}

// TestLimiterQuotaSurvivesRestart: the day's use is saved to the state
// store and a new Limiter on the same database (a restart) admits only the
// rest of the quota; the next UTC day starts afresh.
func TestLimiterQuotaSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := ingest.LimitsConfig{Default: ingest.Limit{EventsPerSecond: 1000}, Tenants: map[string]ingest.Limit{"a": {BytesPerDay: 1000}}}
	noon := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	start := func(at time.Time) (*ingest.Limiter, *ingesttest.Sink, *clock) {
		t.Helper()
		l, sink, c := newLimiter(t, cfg)
		c.t = at
		if err := l.Restore(ctx, db); err != nil {
			t.Fatal(err)
		}
		return l, sink, c
	}

	l, _, _ := start(noon)
	if err := l.Write(ctx, "a", recs(6, 100)); err != nil {
		t.Fatal(err)
	}
	// A tenant with only a rate limit has no quota use to keep.
	if err := l.Write(ctx, "b", recs(10, 100)); err != nil {
		t.Fatal(err)
	}
	if err := l.Save(ctx); err != nil {
		t.Fatal(err)
	}
	if u, err := db.QuotaUse(ctx, noon); err != nil || !cmp.Equal(u, map[tenant.ID]int64{"a": 600}) {
		t.Fatalf("saved use = %v, %v; want a: 600", u, err)
	}

	// Restart: 400 bytes left, not a fresh 1000; the rate limit's bucket
	// is full again.
	l, sink, c := start(noon.Add(time.Hour))
	err = l.Write(ctx, "a", recs(5, 100))
	var le *ingest.LimitError
	if !errors.As(err, &le) || !strings.Contains(le.Reason, "(600 used)") {
		t.Fatalf("500 bytes after the restart: err = %v, want the quota with 600 used", err)
	}
	if err := l.Write(ctx, "a", recs(4, 100)); err != nil {
		t.Fatalf("the rest of the quota after the restart: %v", err)
	}
	if err := l.Write(ctx, "b", recs(1000, 1)); err != nil {
		t.Fatalf("b's bucket after the restart: %v", err)
	}
	if err := l.Write(ctx, "a", recs(1, 1)); !errors.Is(err, ingest.ErrRateLimited) {
		t.Fatalf("over the quota after the restart: err = %v", err)
	}
	// Saved on shutdown (Run's last save); the next start is still over.
	if err := l.Save(ctx); err != nil {
		t.Fatal(err)
	}
	l2, _, _ := start(c.t)
	if err := l2.Write(ctx, "a", recs(1, 1)); !errors.Is(err, ingest.ErrRateLimited) {
		t.Fatalf("over the quota after a second restart: err = %v", err)
	}
	// A removed tenant is forgotten: created again, it starts afresh.
	l2.Forget("a")
	if err := l2.Write(ctx, "a", recs(10, 100)); err != nil {
		t.Fatalf("the whole quota after Forget: %v", err)
	}

	// The next UTC day: a fresh quota, on the running Limiter and after a
	// restart.
	c.t = time.Date(2026, 11, 26, 0, 0, 1, 0, time.UTC)
	if err := l.Write(ctx, "a", recs(10, 100)); err != nil {
		t.Fatalf("next day: %v", err)
	}
	if got := len(sink.Records("a")); got != 14 {
		t.Fatalf("a has %d records after the restart, want 4 + 10", got)
	}
	l3, _, _ := start(c.t.Add(time.Minute))
	if err := l3.Write(ctx, "a", recs(10, 100)); err != nil {
		t.Fatalf("restart on the next day (yesterday's use saved): %v", err)
	}
}

// memQuota is a QuotaStore in memory that can be made to fail.
type memQuota struct {
	mu    sync.Mutex
	use   map[time.Time]map[tenant.ID]int64
	saves int
	fail  error
}

func (m *memQuota) QuotaUse(_ context.Context, day time.Time) (map[tenant.ID]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.use[day]), nil
}

func (m *memQuota) SaveQuotaUse(_ context.Context, day time.Time, use map[tenant.ID]int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.saves++
	if m.use == nil {
		m.use = map[time.Time]map[tenant.ID]int64{}
	}
	if m.use[day] == nil {
		m.use[day] = map[tenant.ID]int64{}
	}
	maps.Copy(m.use[day], use)
	return nil
}

func (m *memQuota) get(day time.Time, t tenant.ID) (int64, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.use[day][t], m.saves
}

// TestLimiterRunSaves: Run saves changed use every QuotaSaveInterval (and
// nothing when nothing changed), retries a failed save at the next tick,
// and saves a last time when it stops; a refused write given back is not
// counted.
func TestLimiterRunSaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		sink := ingesttest.NewSink()
		l := ingest.NewLimiter(sink, ingest.LimitsConfig{Default: ingest.Limit{BytesPerDay: 10_000}}, sink)
		qs := &memQuota{}
		if err := l.Restore(ctx, qs); err != nil {
			t.Fatal(err)
		}
		day := time.Now().UTC().Truncate(24 * time.Hour)
		var logs lockedLog
		done := make(chan error, 1)
		go func() { done <- l.Run(ctx, slog.New(slog.NewTextHandler(&logs, nil))) }()
		tick := func() {
			time.Sleep(ingest.QuotaSaveInterval)
			synctest.Wait()
		}

		if err := l.Write(ctx, "a", recs(3, 100)); err != nil {
			t.Fatal(err)
		}
		tick()
		if n, saves := qs.get(day, "a"); n != 300 || saves != 1 {
			t.Fatalf("after one interval: a = %d in %d saves, want 300 in 1", n, saves)
		}
		tick()
		if _, saves := qs.get(day, "a"); saves != 1 {
			t.Fatalf("%d saves with nothing changed, want 1", saves)
		}

		qs.mu.Lock()
		qs.fail = errors.New("disk full")
		qs.mu.Unlock()
		if err := l.Write(ctx, "a", recs(1, 100)); err != nil {
			t.Fatal(err)
		}
		tick()
		if !strings.Contains(logs.String(), "disk full") {
			t.Fatalf("failed save not logged: %q", logs.String())
		}
		qs.mu.Lock()
		qs.fail = nil
		qs.mu.Unlock()
		tick()
		if n, _ := qs.get(day, "a"); n != 400 {
			t.Fatalf("after the failed save was retried: a = %d, want 400", n)
		}

		sink.RefuseNext(1)
		if err := l.Write(ctx, "a", recs(1, 100)); !errors.Is(err, ingest.ErrBackpressure) {
			t.Fatalf("refused write: err = %v", err)
		}
		if err := l.Write(ctx, "b", recs(1, 50)); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		if n, _ := qs.get(day, "b"); n != 50 {
			t.Fatalf("last save on stop: b = %d, want 50", n)
		}
		if n, _ := qs.get(day, "a"); n != 400 {
			t.Fatalf("a = %d after a refused write, want 400", n)
		}
	})
}

// lockedLog is a log destination shared by goroutines.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *lockedLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *lockedLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
