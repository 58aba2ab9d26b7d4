package vlhttp_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/bus"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/indexer"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/logstore/vlhttp"
	"github.com/tarian-soc/tarian/internal/logstore/vltest"
	"github.com/tarian-soc/tarian/internal/metrics"
	"github.com/tarian-soc/tarian/internal/stage"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

type numbers struct{ db *sqlstore.DB }

func (n numbers) Number(ctx context.Context, t tenant.ID) (uint32, error) {
	tn, err := n.db.Tenant(ctx, t)
	return tn.Number, err
}

// dying is an event store whose process dies at its first Flush: the adds
// reached the server, the checkpoint never moves, nothing more happens.
type dying struct {
	*vlhttp.Store
	once sync.Once
	died chan struct{}
}

func (d *dying) Refresh() {} // a dead process refreshes nothing

func (d *dying) Flush(ctx context.Context) error {
	d.once.Do(func() { close(d.died) })
	<-ctx.Done()
	return ctx.Err()
}

// TestIndexerCrashExactlyOnce runs the indexer on vlhttp, kills it between
// its adds and its checkpoint, and runs it again with a new store: every
// event is stored exactly once.
func TestIndexerCrashExactlyOnce(t *testing.T) {
	for _, mode := range []string{"single", "cluster"} {
		t.Run(mode, func(t *testing.T) {
			cfg := vlhttp.Config{}
			if mode == "single" {
				cfg.URL = vltest.Single(t)
			} else {
				cfg.URL, cfg.StorageNodes = vltest.Cluster(t)
			}
			testIndexerCrash(t, cfg)
		})
	}
}

func testIndexerCrash(t *testing.T, cfg vlhttp.Config) {
	ctx := t.Context()
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
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
	bcfg := bus.DefaultConfig()
	bcfg.MessageBytes = 8 << 10
	b, err := bus.Open(ctx, bcfg, dir, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	write := func(tn tenant.ID, from, to int) {
		var recs []event.Raw
		for i := from; i < to; i++ {
			recs = append(recs, event.Raw{Received: time.Now(), Source: "http", Data: fmt.Appendf(nil, `{"n":%d,"message":"event %d of %s"}`, i, i, tn)})
		}
		if err := b.Write(ctx, tn, recs); err != nil {
			t.Fatal(err)
		}
	}
	write("council-a", 0, 700)
	write("council-b", 0, 300)

	// First run: dies at its first flush, after adding everything.
	s1, err := vlhttp.Open(cfg, numbers{db}, log)
	if err != nil {
		t.Fatal(err)
	}
	d := &dying{Store: s1, died: make(chan struct{})}
	runCtx, cancel := context.WithCancel(ctx)
	ix := indexer.New(indexer.Deps{Store: d, Checkpoints: db, DeadLetters: db, Metrics: metrics.New(), Log: log})
	st := stage.New(stage.Deps{Bus: b, Consumers: []stage.Consumer{ix}})
	done := make(chan error, 1)
	go func() { done <- st.Run(runCtx) }()
	select {
	case <-d.died:
	case <-time.After(60 * time.Second):
		t.Fatal("indexer never flushed")
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	s1.Close()
	cp, err := db.Checkpoint(ctx, indexer.Name)
	if err != nil || cp.Done != 0 || cp.Pending == 0 {
		t.Fatalf("checkpoint after the crash = %+v, %v; want nothing done, something pending", cp, err)
	}

	// Second run, a new process: everything again, plus new records.
	write("council-a", 700, 800)
	s2, err := vlhttp.Open(cfg, numbers{db}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s2.Close() })
	runCtx, cancel = context.WithCancel(ctx)
	defer cancel()
	ix = indexer.New(indexer.Deps{Store: s2, Checkpoints: db, DeadLetters: db, Metrics: metrics.New(), Log: log})
	st = stage.New(stage.Deps{Bus: b, Consumers: []stage.Consumer{ix}})
	go func() { done <- st.Run(runCtx) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		last, err := b.LastSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := db.Checkpoint(ctx, indexer.Name)
		if err == nil && cp.Done == last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("indexer did not drain the bus: checkpoint %+v, last %d, %v", cp, last, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}

	for tn, want := range map[tenant.ID]int{"council-a": 800, "council-b": 300} {
		got := map[string]int{}
		err := s2.Search(ctx, logstore.Query{Tenants: []tenant.ID{tn}, LogsQL: "*", Limit: 1 << 20}, func(r logstore.Row) error {
			for _, f := range r.Fields {
				if f.Name == "n" {
					got[f.Value]++
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != want {
			t.Errorf("%s: %d distinct events, want %d", tn, len(got), want)
		}
		for n, c := range got {
			if c != 1 {
				t.Errorf("%s: event n=%s stored %d times", tn, n, c)
			}
		}
	}
}
