package ingest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/ingest/ingesttest"
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
