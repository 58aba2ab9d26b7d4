package indicators_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/intel/indicators"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/logstore/vlogs"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
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

// TestRetroHuntManyIndicators: a retro-hunt of many indicators at once is
// split into queries an event store over HTTP accepts, and finds every
// indicator's event.
func TestRetroHuntManyIndicators(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: "a", Name: "A"}); err != nil {
		t.Fatal(err)
	}
	store, err := vlogs.Open(vlogs.Config{Path: filepath.Join(dir, "events"), MinFreeDiskBytes: -1}, numbers{db}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	const n = 120
	now := time.Now().UTC()
	var evs []event.Event
	var is []intel.Indicator
	for i := range n {
		ip := fmt.Sprintf("203.0.%d.%d", 100+i/200, i%200)
		evs = append(evs, event.Event{Time: now.Add(-time.Hour), Fields: []event.Field{
			{Name: "destination.ip", Value: ip}, {Name: "host.name", Value: fmt.Sprintf("ws-%d", i)},
			{Name: event.FieldHash, Value: fmt.Sprintf("%032x", i)}, {Name: event.FieldSeq, Value: "1"}, {Name: event.FieldIdx, Value: strconv.Itoa(i)},
		}})
		is = append(is, intel.Indicator{ID: fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", i), TLP: intel.TLPAmber, Confidence: 80,
			ValidFrom: now, Created: now, Modified: now, Observables: []intel.Observable{{Type: intel.TypeIPv4, Value: ip}}})
	}
	if err := store.Add(ctx, "a", evs); err != nil {
		t.Fatal(err)
	}
	if err := store.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutIndicators(ctx, is); err != nil {
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
	defer s.Close()
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
