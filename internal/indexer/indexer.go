// Package indexer is the stage consumer that writes parsed events to the
// event store, exactly once as seen from search.
//
// It takes the parsed stream in order from its own durable checkpoint
// (kept in the state store, moved only after the event store has flushed
// to disk) and is idempotent on the store: every event carries its bus
// position (tarian.seq, tarian.idx), and events past the checkpoint that
// were being written when the process died are looked up in the store
// before they are written again.
package indexer

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/stage"
	"github.com/tarian-soc/tarian/internal/store"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Name is the indexer's checkpoint name.
const Name = "indexer"

// Store is the event store as the indexer uses it.
type Store interface {
	Add(ctx context.Context, t tenant.ID, events []event.Event) error
	// Refresh makes every event added so far searchable.
	Refresh()
	// Flush makes every event added so far durable and searchable.
	Flush(ctx context.Context) error
	Search(ctx context.Context, q logstore.Query, fn func(logstore.Row) error) error
}

// Checkpoints keeps the indexer's position durably.
type Checkpoints interface {
	Checkpoint(ctx context.Context, name string) (store.Checkpoint, error)
	SetCheckpoint(ctx context.Context, name string, c store.Checkpoint) error
}

// Counter counts per tenant.
type Counter interface {
	Count(name string, t tenant.ID, n int)
}

// Deps are the indexer's collaborators.
type Deps struct {
	// Name is the checkpoint's name: Name, or one per bus partition.
	Name        string
	Store       Store
	Checkpoints Checkpoints
	DeadLetters ingest.DeadLetters
	Metrics     Counter
	Log         *slog.Logger
}

// Flush policy: the event store is flushed to disk, and the checkpoint
// moved, after this many events or this long, or when the bus has been
// idle for flushQuiet. Under a steady load the reader finds the bus empty
// between most batches; a flush in each such gap would write the store's
// data out as many small parts (each of a few hundred files, most of them
// wasting the rest of a disk block, and each a snapshot that stalls the
// indexer) instead of letting the engine merge them in memory first.
const (
	flushEvents   = 1_000_000
	flushInterval = 15 * time.Second
	flushQuiet    = time.Second
)

// Indexer moves parsed events to the store; it is a stage.Consumer.
type Indexer struct {
	d       Deps
	cp      store.Checkpoint
	writers int
	// added is the last sequence added to the store; unflushed counts the
	// events added since the last flush, begun when it started.
	added     uint64
	unflushed int
	begun     time.Time
	// lastAdd is when events were last added; refreshed the last sequence
	// made searchable by Idle.
	lastAdd   time.Time
	refreshed uint64
}

// New returns an indexer.
func New(d Deps) *Indexer {
	if d.Name == "" {
		d.Name = Name
	}
	return &Indexer{d: d, writers: max(1, min(runtime.GOMAXPROCS(0), 4))}
}

// Start (re)loads the durable checkpoint.
func (ix *Indexer) Start(ctx context.Context) (uint64, error) {
	cp, err := ix.d.Checkpoints.Checkpoint(ctx, ix.d.Name)
	if err != nil {
		return 0, fmt.Errorf("indexer: read checkpoint: %w", err)
	}
	ix.cp, ix.added, ix.refreshed, ix.unflushed = cp, cp.Done, cp.Done, 0
	return cp.Done, nil
}

// Idle makes what was added searchable at once, and durable once the bus
// has had nothing new for flushQuiet.
func (ix *Indexer) Idle(ctx context.Context) error {
	if ix.refreshed != ix.added {
		ix.d.Store.Refresh()
		ix.refreshed = ix.added
	}
	if time.Since(ix.lastAdd) < flushQuiet {
		return nil
	}
	return ix.flush(ctx)
}

// flush makes everything added durable and moves the checkpoint over it.
func (ix *Indexer) flush(ctx context.Context) error {
	if ix.added == ix.cp.Done {
		return nil
	}
	if err := ix.d.Store.Flush(ctx); err != nil {
		return fmt.Errorf("indexer: flush: %w", err)
	}
	cp := store.Checkpoint{Done: ix.added, Pending: max(ix.added, ix.cp.Pending)}
	if err := ix.d.Checkpoints.SetCheckpoint(ctx, ix.d.Name, cp); err != nil {
		return fmt.Errorf("indexer: checkpoint: %w", err)
	}
	ix.cp, ix.unflushed = cp, 0
	return nil
}

// position identifies one event on the bus: its message and its index
// (event.Ref.Index).
type position struct {
	seq uint64
	idx string
}

// Process stores the batch's events past the checkpoint.
func (ix *Indexer) Process(ctx context.Context, b *stage.Batch) error {
	var todo []*stage.Msg
	var uncertain []*stage.Msg
	for i := range b.Msgs {
		m := &b.Msgs[i]
		if m.Seq <= ix.cp.Done {
			continue
		}
		todo = append(todo, m)
		if m.Seq <= ix.cp.Pending {
			uncertain = append(uncertain, m)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	// Find what a previous run may have half-written.
	stored, err := ix.storedPositions(ctx, uncertain)
	if err != nil {
		return fmt.Errorf("indexer: look up half-written batch: %w", err)
	}
	// Before anything reaches the store, record how far it may get.
	last := todo[len(todo)-1].Seq
	if last > ix.cp.Pending {
		pending := store.Checkpoint{Done: ix.cp.Done, Pending: last}
		if err := ix.d.Checkpoints.SetCheckpoint(ctx, ix.d.Name, pending); err != nil {
			return fmt.Errorf("indexer: mark pending: %w", err)
		}
		ix.cp = pending
	}

	// Add in parallel: messages are dealt round-robin to the writers.
	errs := make([]error, ix.writers)
	var wg sync.WaitGroup
	for w := range errs {
		wg.Go(func() {
			var keep []event.Event
			for i := w; i < len(todo); i += ix.writers {
				m := todo[i]
				evs := m.Events
				if stored != nil {
					keep = keep[:0]
					for j := range m.Events {
						if !stored[position{m.Seq, m.Refs[j].Index()}] {
							keep = append(keep, m.Events[j])
						}
					}
					evs = keep
				}
				if err := ix.d.Store.Add(ctx, m.Tenant, evs); err != nil {
					errs[w] = fmt.Errorf("indexer: store %d events of %s: %w", len(evs), m.Tenant, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	if err := ix.deadLetters(ctx, todo); err != nil {
		return err
	}
	if ix.unflushed == 0 {
		ix.begun = time.Now()
	}
	ix.added, ix.lastAdd = last, time.Now()
	for _, m := range todo {
		if len(m.Events) > 0 {
			ix.unflushed += len(m.Events)
			ix.d.Metrics.Count("tarian_indexed_events_total", m.Tenant, len(m.Events))
		}
	}
	if ix.unflushed >= flushEvents || time.Since(ix.begun) >= flushInterval {
		return ix.flush(ctx)
	}
	return nil
}

// deadLetters keeps the records that did not parse.
func (ix *Indexer) deadLetters(ctx context.Context, todo []*stage.Msg) error {
	dead := map[tenant.ID][]ingest.DeadLetter{}
	for _, m := range todo {
		for _, f := range m.Failed {
			r := m.Records[f.Idx]
			dead[m.Tenant] = append(dead[m.Tenant], ingest.DeadLetter{Received: r.Received, Source: r.Source, Reason: f.Reason, Data: r.Data})
		}
	}
	for t, dls := range dead {
		// Dead letters of an uncertain batch may be kept twice; that is
		// better than losing one.
		if err := ix.d.DeadLetters.AddDeadLetters(ctx, t, dls); err != nil {
			return fmt.Errorf("indexer: dead letters: %w", err)
		}
		ix.d.Metrics.Count("tarian_parse_failed_total", t, len(dls))
	}
	return nil
}

// storedPositions returns which records of msgs the store already holds.
func (ix *Indexer) storedPositions(ctx context.Context, msgs []*stage.Msg) (map[position]bool, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	// What this process added before a failure (not a crash) may not be
	// searchable yet: the look-up must see it.
	ix.d.Store.Refresh()
	byTenant := map[tenant.ID][]*stage.Msg{}
	for _, m := range msgs {
		byTenant[m.Tenant] = append(byTenant[m.Tenant], m)
	}
	found := map[position]bool{}
	for t, ms := range byTenant {
		n := 0
		for _, m := range ms {
			n += len(m.Events)
		}
		q := logstore.Query{
			Tenants: []tenant.ID{t},
			LogsQL:  fmt.Sprintf("%s:range[%d, %d] | fields %s, %s", event.FieldSeq, ms[0].Seq, ms[len(ms)-1].Seq, event.FieldSeq, event.FieldIdx),
			Limit:   n + 1,
		}
		err := ix.d.Store.Search(ctx, q, func(r logstore.Row) error {
			var p position
			for _, f := range r.Fields {
				switch f.Name {
				case event.FieldSeq:
					p.seq, _ = strconv.ParseUint(f.Value, 10, 64)
				case event.FieldIdx:
					p.idx = f.Value
				}
			}
			found[p] = true
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(found) > 0 {
		ix.d.Log.Info("indexer skipped records already stored before a restart", "records", len(found))
	}
	return found, nil
}
