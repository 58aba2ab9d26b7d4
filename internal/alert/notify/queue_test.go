package notify

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/metrics"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// bare is a Service with channels but no store, transport or workers:
// what Notify queues is read straight from its queue.
func bare(t *testing.T, cfg Config, now *time.Time, log *slog.Logger, chs ...Channel) (*Service, *metrics.Registry) {
	t.Helper()
	reg := metrics.New()
	s := &Service{cfg: cfg, d: Deps{Metrics: reg, Log: log, Now: func() time.Time { return *now }}, queue: make(chan *job, cfg.QueueSize), updates: map[updateKey]time.Time{}}
	m := map[tenant.ID][]routed{}
	for _, c := range chs {
		r, err := c.Route.compile()
		if err != nil {
			t.Fatal(err)
		}
		m[c.Tenant] = append(m[c.Tenant], routed{ch: c, r: r})
	}
	s.routes.Store(&m)
	return s, reg
}

func drain(s *Service) []*job {
	var out []*job
	for {
		select {
		case j := <-s.queue:
			out = append(out, j)
		default:
			return out
		}
	}
}

func change(what string, id int64, ten tenant.ID, level string) alert.Change {
	return alert.Change{What: what, Alert: alert.Alert{ID: id, Tenant: ten, Level: level, Title: "t"}}
}

func TestNotifyRoutesPerTenantAndProvider(t *testing.T) {
	now := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	s, _ := bare(t, DefaultConfig(), &now, slog.New(slog.DiscardHandler),
		Channel{ID: 1, Tenant: "council-a", Kind: Webhook},
		Channel{ID: 2, Tenant: "council-a", Kind: Slack, Route: Route{MinSeverity: "high"}},
		Channel{ID: 3, Tenant: "council-b", Kind: Webhook},
		Channel{ID: 4, Tenant: Provider, Kind: Teams, Route: Route{MinSeverity: "critical"}},
	)
	s.Notify(context.Background(), "council-a", []alert.Change{
		change(alert.ChangeCreated, 10, "council-a", "medium"),
		change(alert.ChangeCreated, 11, "council-a", "critical"),
		change(alert.ChangeUpdated, 10, "council-a", "critical"),
	})
	got := map[[2]int64]bool{}
	for _, j := range drain(s) {
		got[[2]int64{j.ch.ID, j.msg.Change.Alert.ID}] = true
	}
	want := map[[2]int64]bool{{1, 10}: true, {1, 11}: true, {2, 11}: true, {4, 11}: true}
	if len(got) != len(want) {
		t.Errorf("queued %v, want %v", got, want)
	}
	for k := range want {
		if !got[k] {
			t.Errorf("channel %d did not get alert %d (queued %v)", k[0], k[1], got)
		}
	}
}

func TestNotifyUpdatesAtMostOncePerInterval(t *testing.T) {
	now := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	s, _ := bare(t, DefaultConfig(), &now, slog.New(slog.DiscardHandler),
		Channel{ID: 1, Tenant: "council-a", Kind: Webhook, Route: Route{Changes: []string{"created", "updated"}, UpdateInterval: "10m"}},
		Channel{ID: 2, Tenant: "council-a", Kind: Webhook},
	)
	ctx := context.Background()
	step := func(name string, want int) {
		t.Helper()
		if got := len(drain(s)); got != want {
			t.Errorf("%s: %d notifications, want %d", name, got, want)
		}
	}
	s.Notify(ctx, "council-a", []alert.Change{change(alert.ChangeCreated, 7, "council-a", "high")})
	step("creation (both channels)", 2)
	s.Notify(ctx, "council-a", []alert.Change{change(alert.ChangeUpdated, 7, "council-a", "high"), change(alert.ChangeUpdated, 7, "council-a", "high")})
	step("updates right after the creation", 0)
	now = now.Add(9 * time.Minute)
	s.Notify(ctx, "council-a", []alert.Change{change(alert.ChangeUpdated, 7, "council-a", "high")})
	step("update within the interval", 0)
	now = now.Add(2 * time.Minute)
	s.Notify(ctx, "council-a", []alert.Change{change(alert.ChangeUpdated, 7, "council-a", "high"), change(alert.ChangeUpdated, 7, "council-a", "high")})
	step("updates after the interval: one", 1)
	s.Notify(ctx, "council-a", []alert.Change{change(alert.ChangeUpdated, 8, "council-a", "high")})
	step("another alert's first update", 1)
}

func TestNotifyOverflowCountedAndLogged(t *testing.T) {
	now := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	var logs bytes.Buffer
	cfg := DefaultConfig()
	cfg.QueueSize = 2
	s, reg := bare(t, cfg, &now, slog.New(slog.NewTextHandler(&logs, nil)), Channel{ID: 1, Tenant: "council-a", Kind: Slack})
	var cs []alert.Change
	for i := range 5 {
		cs = append(cs, change(alert.ChangeCreated, int64(i+1), "council-a", "low"))
	}
	done := make(chan struct{})
	go func() {
		s.Notify(context.Background(), "council-a", cs) // must not block on the full queue
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Notify blocked on a full queue")
	}
	if n := len(drain(s)); n != 2 {
		t.Errorf("queued %d, want 2", n)
	}
	if s.Overflow() != 3 {
		t.Errorf("overflow %d, want 3", s.Overflow())
	}
	var m bytes.Buffer
	reg.Write(&m)
	if !strings.Contains(m.String(), `tarian_notify_queue_overflow_total{tenant="council-a",kind="slack"} 3`) {
		t.Errorf("metrics:\n%s", m.String())
	}
	if !strings.Contains(logs.String(), "notification queue full") || !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("overflow not logged: %s", logs.String())
	}
}

func TestBackoff(t *testing.T) {
	s := &Service{cfg: Config{Backoff: time.Second, MaxBackoff: 10 * time.Second}}
	for _, c := range []struct {
		n          int
		retryAfter time.Duration
		lo, hi     time.Duration
	}{
		{1, 0, 500 * time.Millisecond, time.Second},
		{2, 0, time.Second, 2 * time.Second},
		{3, 0, 2 * time.Second, 4 * time.Second},
		{5, 0, 5 * time.Second, 10 * time.Second}, // 16 s capped
		{60, 0, 5 * time.Second, 10 * time.Second},
		{1, 7 * time.Second, 7 * time.Second, 7 * time.Second},
		{1, time.Hour, 10 * time.Second, 10 * time.Second},
	} {
		for range 20 {
			if d := s.backoff(c.n, c.retryAfter); d < c.lo || d > c.hi {
				t.Errorf("backoff(%d, %s) = %s, want in [%s, %s]", c.n, c.retryAfter, d, c.lo, c.hi)
			}
		}
	}
}
