package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// ErrRateLimited marks a write refused because its tenant is over its rate
// limit or daily quota. Such errors also wrap ErrBackpressure, so every
// receiver already answers them as back-pressure in its own terms; the HTTP
// API answers 429 rather than 503.
var ErrRateLimited = errors.New("tenant over its ingest limit")

// MetricLimited counts records refused by a tenant's rate limit or quota.
const MetricLimited = "tarian_ingest_limited_total"

// Limit is one tenant's ingest allowance. Zero values mean unlimited.
type Limit struct {
	// EventsPerSecond is the sustained rate of records accepted.
	EventsPerSecond float64 `yaml:"events_per_second"`
	// BurstEvents is how many records may arrive at once above the rate
	// (the token bucket's size); 0 means one second's worth.
	BurstEvents int `yaml:"burst_events"`
	// BytesPerDay is the quota of record bytes accepted per UTC day.
	BytesPerDay int64 `yaml:"bytes_per_day"`
}

// LimitsConfig holds the default allowance and per-tenant ones.
type LimitsConfig struct {
	// Default applies to every tenant without an entry in Tenants.
	Default Limit `yaml:"default"`
	// Tenants overrides Default per tenant ID.
	Tenants map[string]Limit `yaml:"tenants"`
}

// Validate reports the first bad setting, naming its key.
func (c LimitsConfig) Validate() error {
	if err := c.Default.validate(); err != nil {
		return fmt.Errorf("default.%w", err)
	}
	for id, l := range c.Tenants {
		if _, err := tenant.Parse(id); err != nil {
			return fmt.Errorf("tenants.%s: %w", id, err)
		}
		if err := l.validate(); err != nil {
			return fmt.Errorf("tenants.%s.%w", id, err)
		}
	}
	return nil
}

func (l Limit) validate() error {
	switch {
	case l.EventsPerSecond < 0:
		return errors.New("events_per_second: must not be negative")
	case l.BurstEvents < 0:
		return errors.New("burst_events: must not be negative")
	case l.BytesPerDay < 0:
		return errors.New("bytes_per_day: must not be negative")
	}
	return nil
}

// LimitError says which allowance refused a write and when to come back.
type LimitError struct {
	Tenant tenant.ID
	Reason string
	Wait   time.Duration
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("tenant %s: %s (retry in %s)", e.Tenant, e.Reason, e.Wait.Round(time.Millisecond))
}

// RetryAfter is how long until the allowance admits the write.
func (e *LimitError) RetryAfter() time.Duration { return e.Wait }

// Unwrap makes a LimitError both ErrRateLimited and back-pressure.
func (e *LimitError) Unwrap() []error { return []error{ErrRateLimited, ErrBackpressure} }

// QuotaStore keeps each tenant's daily quota use across restarts (the
// state store implements it).
type QuotaStore interface {
	// QuotaUse returns the bytes each tenant used on day (a UTC midnight).
	QuotaUse(ctx context.Context, day time.Time) (map[tenant.ID]int64, error)
	// SaveQuotaUse records the use of the tenants in use on day; other
	// tenants' use of day is kept, earlier days may be dropped.
	SaveQuotaUse(ctx context.Context, day time.Time, use map[tenant.ID]int64) error
}

// QuotaSaveInterval is how often Run saves quota use that changed: a
// kill -9 loses at most the use of this last interval.
const QuotaSaveInterval = 5 * time.Second

// Limiter is a Sink that enforces each tenant's Limit before it passes
// records on: a token bucket of records and a daily byte quota. A refused
// write writes nothing. With a QuotaStore (Restore), the day's quota use
// survives a restart: Run saves it every QuotaSaveInterval and when it
// stops. The token buckets are kept in memory (a restart fills them).
// SetLimits changes the limits while it runs.
type Limiter struct {
	next    Sink
	metrics Counter
	now     func() time.Time
	cfg     atomic.Pointer[LimitsConfig]

	saveMu sync.Mutex // one Save at a time

	mu      sync.Mutex
	tenants map[tenant.ID]*allowance
	quota   QuotaStore
	// restored is the use loaded by Restore, for restoredDay: a tenant's
	// allowance starts from it.
	restored    map[tenant.ID]int64
	restoredDay time.Time
}

// allowance is one tenant's state.
type allowance struct {
	tokens  float64
	updated time.Time
	day     time.Time // the UTC day bytes counts
	bytes   int64
	saved   int64 // bytes as last saved (or restored) for day
}

// NewLimiter returns a Limiter in front of next. Without any limit
// configured it passes every write straight on.
func NewLimiter(next Sink, cfg LimitsConfig, metrics Counter) *Limiter {
	l := &Limiter{next: next, metrics: metrics, now: time.Now, tenants: map[tenant.ID]*allowance{}}
	l.SetLimits(cfg)
	return l
}

// Restore loads today's quota use from qs and keeps qs for Save; call it
// before the first Write.
func (l *Limiter) Restore(ctx context.Context, qs QuotaStore) error {
	day := utcDay(l.now())
	use, err := qs.QuotaUse(ctx, day)
	if err != nil {
		return fmt.Errorf("load quota use: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.quota, l.restored, l.restoredDay = qs, use, day
	return nil
}

// Forget drops tenant t's allowance and restored use (a removed tenant:
// its quota row went with its other rows, and a tenant created again with
// its ID starts afresh). Its writes are refused before it is removed.
func (l *Limiter) Forget(t tenant.ID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.tenants, t)
	delete(l.restored, t)
}

// Save writes the quota use of today that changed since the last save. It
// does nothing without a QuotaStore (Restore).
func (l *Limiter) Save(ctx context.Context) error {
	l.saveMu.Lock()
	defer l.saveMu.Unlock()
	l.mu.Lock()
	qs, day := l.quota, utcDay(l.now())
	use := map[tenant.ID]int64{}
	for t, a := range l.tenants {
		if a.day.Equal(day) && a.bytes != a.saved {
			use[t] = a.bytes
		}
	}
	l.mu.Unlock()
	if qs == nil || len(use) == 0 {
		return nil
	}
	if err := qs.SaveQuotaUse(ctx, day, use); err != nil {
		return fmt.Errorf("save quota use: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for t, n := range use {
		if a := l.tenants[t]; a != nil && a.day.Equal(day) {
			a.saved = n
		}
	}
	return nil
}

// Run saves the quota use every QuotaSaveInterval while it changes, until
// ctx is done, then once more; a failed save is logged and tried again at
// the next tick. It returns the last save's error.
func (l *Limiter) Run(ctx context.Context, log *slog.Logger) error {
	t := time.NewTicker(QuotaSaveInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			return l.Save(sctx)
		case <-t.C:
			if err := l.Save(ctx); err != nil && ctx.Err() == nil {
				log.Warn("saving quota use failed; trying again", "err", err)
			}
		}
	}
}

func utcDay(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

// SetLimits replaces the limits (a configuration reload). The use each
// tenant has made of its allowance so far is kept.
func (l *Limiter) SetLimits(cfg LimitsConfig) { l.cfg.Store(&cfg) }

func (l *Limiter) limit(t tenant.ID) Limit {
	cfg := l.cfg.Load()
	if lim, ok := cfg.Tenants[string(t)]; ok {
		return lim
	}
	return cfg.Default
}

// Write admits recs for t if its allowance holds them, then writes them to
// the next sink; a failed write gives the allowance back.
func (l *Limiter) Write(ctx context.Context, t tenant.ID, recs []event.Raw) error {
	lim := l.limit(t)
	if lim == (Limit{}) {
		return l.next.Write(ctx, t, recs)
	}
	var size int64
	for _, r := range recs {
		size += int64(len(r.Data))
	}
	if err := l.take(t, lim, len(recs), size); err != nil {
		l.metrics.Count(MetricLimited, t, len(recs))
		return err
	}
	if err := l.next.Write(ctx, t, recs); err != nil {
		l.giveBack(t, lim, len(recs), size)
		return err
	}
	return nil
}

// take charges n records and size bytes to t's allowance, or refuses.
func (l *Limiter) take(t tenant.ID, lim Limit, n int, size int64) error {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.tenants[t]
	burst := float64(lim.BurstEvents)
	if burst == 0 {
		burst = max(lim.EventsPerSecond, 1)
	}
	day := utcDay(now)
	if a == nil {
		a = &allowance{tokens: burst, updated: now}
		if n, ok := l.restored[t]; ok && l.restoredDay.Equal(day) {
			a.day, a.bytes, a.saved = day, n, n
		}
		l.tenants[t] = a
	}
	if lim.BytesPerDay > 0 {
		if !a.day.Equal(day) {
			a.day, a.bytes, a.saved = day, 0, 0
		}
		// A batch larger than the whole quota passes on a fresh day and
		// spends it: refused, the shipper would retry it every day for
		// ever, holding back everything behind it.
		if a.bytes+size > lim.BytesPerDay && a.bytes > 0 {
			return &LimitError{Tenant: t, Wait: day.Add(24 * time.Hour).Sub(now),
				Reason: fmt.Sprintf("daily quota of %d bytes reached (%d used)", lim.BytesPerDay, a.bytes)}
		}
	}
	if lim.EventsPerSecond > 0 {
		a.tokens = min(burst, a.tokens+now.Sub(a.updated).Seconds()*lim.EventsPerSecond)
		a.updated = now
		// A batch larger than the bucket passes when the bucket is full
		// and leaves it in debt, so the average rate still holds.
		if need := min(float64(n), burst); a.tokens < need {
			wait := time.Duration((need - a.tokens) / lim.EventsPerSecond * float64(time.Second))
			return &LimitError{Tenant: t, Wait: wait,
				Reason: fmt.Sprintf("rate limit of %g events/s (burst %g) reached", lim.EventsPerSecond, burst)}
		}
		a.tokens -= float64(n)
	}
	if lim.BytesPerDay > 0 {
		a.bytes += size
	}
	return nil
}

// giveBack returns what take charged for a write that did not happen,
// unless the tenant was forgotten meanwhile (removed while the write was
// in flight): there is nothing to give back to.
func (l *Limiter) giveBack(t tenant.ID, lim Limit, n int, size int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.tenants[t]
	if a == nil {
		return
	}
	if lim.EventsPerSecond > 0 {
		a.tokens += float64(n)
	}
	if lim.BytesPerDay > 0 {
		a.bytes = max(a.bytes-size, 0)
	}
}
