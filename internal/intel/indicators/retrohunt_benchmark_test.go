package indicators_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/intel/indicators"
	"github.com/tarian-soc/tarian/internal/logstore/vlogs"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

type numbers struct{ db *sqlstore.DB }

// openStores opens a state store holding tenant "a" and an event store
// beside it in a temporary directory, both closed when tb ends.
func openStores(tb testing.TB) (*sqlstore.DB, *vlogs.Store, *slog.Logger) {
	ctx := context.Background()
	dir := tb.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: "a", Name: "A"}); err != nil {
		tb.Fatal(err)
	}
	events, err := vlogs.Open(vlogs.Config{Path: filepath.Join(dir, "events"), MinFreeDiskBytes: -1}, numbers{db}, log)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { events.Close() })
	return db, events, log
}

func (n numbers) Number(ctx context.Context, t tenant.ID) (uint32, error) {
	tn, err := n.db.Tenant(ctx, t)
	return tn.Number, err
}

// BenchmarkRetroHunt stores TARIAN_BENCH_RETRO_EVENTS events (default
// 100,000; the figure is 10,000,000) over 20 days in the embedded
// event store, ten of them with the indicator's domain, and times one
// retro-hunt of that indicator through the real alert pipeline.
func BenchmarkRetroHunt(b *testing.B) {
	n := 100_000
	if s := os.Getenv("TARIAN_BENCH_RETRO_EVENTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	db, events, log := openStores(b)
	now := time.Now().UTC()
	start := now.Add(-20 * 24 * time.Hour)
	step := 20 * 24 * time.Hour / time.Duration(n)
	batch := make([]event.Event, 0, 10_000)
	for i := range n {
		at := start.Add(time.Duration(i) * step)
		name := fmt.Sprintf("host%d.example%d.com", i%5000, i%97)
		if i%(n/10) == 7 {
			name = "cdn.hunted-evil.example"
		}
		batch = append(batch, event.Event{Fields: []event.Field{
			{Name: event.FieldTimestamp, Value: at.Format(time.RFC3339Nano)},
			{Name: "host.name", Value: fmt.Sprintf("ws-%03d", i%300)},
			{Name: "user.name", Value: fmt.Sprintf("user%d", i%700)},
			{Name: "source.ip", Value: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)},
			{Name: "destination.ip", Value: fmt.Sprintf("198.%d.%d.%d", i>>16&255, i>>8&255, i&255)},
			{Name: "dns.question.name", Value: name},
			{Name: event.FieldMessage, Value: "dns query " + name},
			{Name: event.FieldHash, Value: fmt.Sprintf("%032x", i)},
			{Name: event.FieldSeq, Value: strconv.Itoa(i/1000 + 1)},
			{Name: event.FieldIdx, Value: strconv.Itoa(i % 1000)},
		}})
		if len(batch) == cap(batch) || i == n-1 {
			if err := events.Add(ctx, "a", batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := events.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	pipe, err := alert.NewPipeline(ctx, alert.DefaultConfig(), alert.Deps{Store: db})
	if err != nil {
		b.Fatal(err)
	}
	cfg := indicators.DefaultConfig()
	cfg.RetroHuntLimit = 0
	s, err := indicators.New(ctx, cfg, indicators.Deps{Store: db, Search: events, Alerts: pipe,
		Tenants: func(context.Context) ([]tenant.ID, error) { return []tenant.ID{"a"}, nil }, Log: log})
	if err != nil {
		b.Fatal(err)
	}
	ind := intel.Indicator{ID: "indicator--00000000-0000-4000-8000-0000000000aa", TLP: intel.TLPAmber, Confidence: 80,
		ValidFrom: now, Created: now, Modified: now, Observables: []intel.Observable{{Type: intel.TypeDomain, Value: "hunted-evil.example"}}}
	if _, _, err := db.PutIndicators(ctx, []intel.Indicator{ind}, false); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if err := s.Hunt(ctx, ind); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	hs, err := s.RetroHunts(ctx, ind.ID, "a", 1)
	if err != nil || len(hs) != 1 || hs[0].Hits != 10 {
		b.Fatalf("hunt = %+v, %v; want 10 hits", hs, err)
	}
	b.ReportMetric(float64(n), "events")
	b.ReportMetric(float64(hs[0].Hits), "hits")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/hunt")
}
