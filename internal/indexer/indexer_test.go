package indexer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/bus"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/logstore/vlogs"
	"github.com/tarian-soc/tarian/internal/metrics"
	"github.com/tarian-soc/tarian/internal/stage"
	"github.com/tarian-soc/tarian/internal/store"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

type rig struct {
	bus    *bus.Bus
	db     *sqlstore.DB
	events *vlogs.Store
}

type numbers struct{ db *sqlstore.DB }

func (n numbers) Number(ctx context.Context, t tenant.ID) (uint32, error) {
	tn, err := n.db.Tenant(ctx, t)
	return tn.Number, err
}

func newRig(t *testing.T) *rig {
	t.Helper()
	if err := vlogs.SetProcessLimits(256 << 20); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []tenant.ID{"council-a", "council-b"} {
		if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: id, Name: string(id)}); err != nil {
			t.Fatal(err)
		}
	}
	ev, err := vlogs.Open(vlogs.Config{Path: filepath.Join(dir, "events"), MinFreeDiskBytes: -1}, numbers{db}, log)
	if err != nil {
		t.Fatal(err)
	}
	cfg := bus.DefaultConfig()
	cfg.MessageBytes = 8 << 10
	b, err := bus.Open(ctx, cfg, dir, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(); ev.Close(); db.Close() })
	return &rig{bus: b, db: db, events: ev}
}

// run runs an indexer until the bus lag is zero.
func (r *rig) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ix := New(Deps{Store: r.events, Checkpoints: r.db, DeadLetters: r.db, Metrics: metrics.New(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	st := stage.New(stage.Deps{Bus: r.bus, Consumers: []stage.Consumer{ix}})
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		last, err := r.bus.LastSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := r.db.Checkpoint(ctx, Name)
		if err == nil && cp.Done == last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("indexer did not drain the bus: checkpoint %+v, last %d, %v", cp, last, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// count returns how many events of t hold each distinct "n".
func (r *rig) count(t *testing.T, tn tenant.ID) map[string]int {
	t.Helper()
	got := map[string]int{}
	err := r.events.Search(context.Background(), logstore.Query{Tenants: []tenant.ID{tn}, LogsQL: "*", Limit: 1 << 20}, func(row logstore.Row) error {
		for _, f := range row.Fields {
			if f.Name == "n" {
				got[f.Value]++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func write(t *testing.T, b *bus.Bus, tn tenant.ID, from, to int) {
	t.Helper()
	var recs []event.Raw
	for i := from; i < to; i++ {
		recs = append(recs, event.Raw{Received: time.Now(), Source: "http", Data: fmt.Appendf(nil, `{"n":%d,"message":"event %d of %s"}`, i, i, tn)})
	}
	if err := b.Write(context.Background(), tn, recs); err != nil {
		t.Fatal(err)
	}
}

func checkExactlyOnce(t *testing.T, got map[string]int, n int) {
	t.Helper()
	if len(got) != n {
		t.Errorf("%d distinct events stored, want %d", len(got), n)
	}
	for k, c := range got {
		if c != 1 {
			t.Errorf("event n=%s stored %d times", k, c)
		}
	}
}

func TestIndexesPerTenant(t *testing.T) {
	r := newRig(t)
	write(t, r.bus, "council-a", 0, 700)
	write(t, r.bus, "council-b", 0, 300)
	write(t, r.bus, "council-a", 700, 1000)
	r.run(t)
	checkExactlyOnce(t, r.count(t, "council-a"), 1000)
	checkExactlyOnce(t, r.count(t, "council-b"), 300)
	cp, err := r.db.Checkpoint(context.Background(), Name)
	if err != nil || cp.Done == 0 || cp.Done != cp.Pending {
		t.Errorf("checkpoint = %+v, %v", cp, err)
	}
}

// A crash after the store flushed but before the checkpoint moved means
// the whole batch comes back; none of it may be stored twice.
func TestRedeliveryAfterCrashIsIdempotent(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	write(t, r.bus, "council-a", 0, 500)
	write(t, r.bus, "council-b", 0, 200)
	r.run(t)
	cp, err := r.db.Checkpoint(ctx, Name)
	if err != nil {
		t.Fatal(err)
	}
	// Rewind as a crash would leave it: nothing done, everything pending,
	// so the bus is read again from the start.
	if err := r.db.SetCheckpoint(ctx, Name, store.Checkpoint{Done: 0, Pending: cp.Done}); err != nil {
		t.Fatal(err)
	}
	write(t, r.bus, "council-a", 500, 600) // and new records after the crash
	r.run(t)
	checkExactlyOnce(t, r.count(t, "council-a"), 600)
	checkExactlyOnce(t, r.count(t, "council-b"), 200)
}

func TestUnparseableRecordIsDeadLettered(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	recs := []event.Raw{
		{Received: time.Now(), Source: "http", Data: []byte(`{"n":1}`)},
		{Received: time.Now(), Source: "http", Data: []byte(`not json`)},
	}
	if err := r.bus.Write(ctx, "council-a", recs); err != nil {
		t.Fatal(err)
	}
	r.run(t)
	checkExactlyOnce(t, r.count(t, "council-a"), 1)
	dls, err := r.db.DeadLetters(ctx, "council-a", 0, 10)
	if err != nil || len(dls) != 1 || string(dls[0].Data) != "not json" {
		t.Fatalf("dead letters = %+v, %v", dls, err)
	}
}

// TestIdleFlushesOnceQuiet: an idle moment between batches makes what was
// added searchable at once, but the store is flushed (and the checkpoint
// moved) only once nothing has been added for flushQuiet, so a steady
// load is not cut into a part on disk per batch.
func TestIdleFlushesOnceQuiet(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	ix := New(Deps{Store: r.events, Checkpoints: r.db, DeadLetters: r.db, Metrics: metrics.New(), Log: slog.New(slog.DiscardHandler)})
	if _, err := ix.Start(ctx); err != nil {
		t.Fatal(err)
	}
	evs := []event.Event{{Time: time.Now(), Fields: []event.Field{{Name: "n", Value: "1"}}}, {Time: time.Now(), Fields: []event.Field{{Name: "n", Value: "2"}}}}
	b := &stage.Batch{Msgs: []stage.Msg{{Message: bus.Message{Seq: 1, Tenant: "council-a"}, Events: evs, Refs: []event.Ref{{Seq: 1}, {Seq: 1, Idx: 1}}}}}
	if err := ix.Process(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := ix.Idle(ctx); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, r.count(t, "council-a"), 2)
	if cp, err := r.db.Checkpoint(ctx, Name); err != nil || cp.Done != 0 || cp.Pending != 1 {
		t.Fatalf("checkpoint after an idle moment under load = %+v, %v; want done 0, pending 1", cp, err)
	}
	ix.lastAdd = ix.lastAdd.Add(-flushQuiet) // quiet since
	if err := ix.Idle(ctx); err != nil {
		t.Fatal(err)
	}
	if cp, err := r.db.Checkpoint(ctx, Name); err != nil || cp.Done != 1 {
		t.Fatalf("checkpoint after flushQuiet idle = %+v, %v; want done 1", cp, err)
	}
}
