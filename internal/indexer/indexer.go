// Package indexer is the bus consumer that parses raw records and writes
// them to the event store, exactly once as seen from search.
//
// It reads the bus in order from its own durable checkpoint (kept in the
// state store, moved only after the event store has flushed to disk) and
// is idempotent on the store: every event carries its bus position
// (tarian.seq, tarian.idx), and records past the checkpoint that were
// being written when the process died are looked up in the store before
// they are written again.
package indexer

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/tarian-soc/tarian/internal/bus"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/parse"
	"github.com/tarian-soc/tarian/internal/store"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Names of the fields that record an event's bus position.
const (
	FieldSeq = "tarian.seq"
	FieldIdx = "tarian.idx"
)

// Name is the indexer's durable consumer and checkpoint name.
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

// Source is the bus as the indexer consumes it.
type Source interface {
	Consume(ctx context.Context, cc bus.ConsumeConfig, h bus.Handler) error
}

// Counter counts per tenant.
type Counter interface {
	Count(name string, t tenant.ID, n int)
}

// Deps are the indexer's collaborators.
type Deps struct {
	// Pipeline parses records into events (the log sources).
	Pipeline    *parse.Pipeline
	Bus         Source
	Store       Store
	Checkpoints Checkpoints
	DeadLetters ingest.DeadLetters
	Metrics     Counter
	Log         *slog.Logger
}

// Flush policy: the event store is flushed to disk, and the checkpoint
// moved, after this many events or this long, or when the bus is idle.
const (
	flushEvents   = 200_000
	flushInterval = time.Second
)

// Indexer moves events from the bus to the store.
type Indexer struct {
	d       Deps
	cp      store.Checkpoint
	workers []worker
	// added is the last sequence added to the store; unflushed counts the
	// events added since the last flush, begun when it started.
	added     uint64
	unflushed int
	begun     time.Time
}

// New returns an indexer; Run starts it.
func New(d Deps) *Indexer {
	if d.Pipeline == nil {
		d.Pipeline, _ = parse.New(parse.Config{}) // no sources: every type detected
	}
	ix := &Indexer{d: d, workers: make([]worker, max(1, min(runtime.GOMAXPROCS(0), 4)))}
	for i := range ix.workers {
		ix.workers[i].evs = map[tenant.ID][]event.Event{}
		ix.workers[i].dead = map[tenant.ID][]ingest.DeadLetter{}
		ix.workers[i].parser = d.Pipeline.NewParser()
	}
	return ix
}

// Run consumes until ctx is done.
func (ix *Indexer) Run(ctx context.Context) error {
	return ix.d.Bus.Consume(ctx, bus.ConsumeConfig{Name: Name, From: ix.from, Batch: 256, MaxBytes: 8 << 20, MaxWait: 200 * time.Millisecond}, ix.handle)
}

// from (re)starts the indexer at its durable checkpoint.
func (ix *Indexer) from(ctx context.Context) (uint64, error) {
	cp, err := ix.d.Checkpoints.Checkpoint(ctx, Name)
	if err != nil {
		return 0, fmt.Errorf("indexer: read checkpoint: %w", err)
	}
	ix.cp, ix.added, ix.unflushed = cp, cp.Done, 0
	return cp.Done + 1, nil
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
	if err := ix.d.Checkpoints.SetCheckpoint(ctx, Name, cp); err != nil {
		return fmt.Errorf("indexer: checkpoint: %w", err)
	}
	ix.cp, ix.unflushed = cp, 0
	return nil
}

// position identifies one record on the bus.
type position struct {
	seq uint64
	idx int
}

func (ix *Indexer) handle(ctx context.Context, msgs []bus.Message) error {
	if len(msgs) == 0 { // the bus is idle
		return ix.flush(ctx)
	}
	// Find what a previous run may have half-written.
	todo := msgs
	var uncertain []bus.Message
	for _, m := range todo {
		if m.Seq <= ix.cp.Pending {
			uncertain = append(uncertain, m)
		}
	}
	stored, err := ix.storedPositions(ctx, uncertain)
	if err != nil {
		return fmt.Errorf("indexer: look up half-written batch: %w", err)
	}
	// Before anything reaches the store, record how far it may get.
	last := todo[len(todo)-1].Seq
	if last > ix.cp.Pending {
		pending := store.Checkpoint{Done: ix.cp.Done, Pending: last}
		if err := ix.d.Checkpoints.SetCheckpoint(ctx, Name, pending); err != nil {
			return fmt.Errorf("indexer: mark pending: %w", err)
		}
		ix.cp = pending
	}

	// Parse and store in parallel: messages are dealt round-robin to the
	// workers, each with its own parser and buffers.
	var wg sync.WaitGroup
	for w := range ix.workers {
		wk := &ix.workers[w]
		wg.Go(func() { wk.err = wk.index(ctx, ix.d.Store, todo, w, len(ix.workers), stored) })
	}
	wg.Wait()
	ix.d.Store.Refresh()
	dead := map[tenant.ID][]ingest.DeadLetter{}
	for w := range ix.workers {
		wk := &ix.workers[w]
		if wk.err != nil {
			return wk.err
		}
		for t, dls := range wk.dead {
			dead[t] = append(dead[t], dls...)
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
	if ix.unflushed == 0 {
		ix.begun = time.Now()
	}
	ix.added = last
	for w := range ix.workers {
		for t, evs := range ix.workers[w].evs {
			if len(evs) > 0 {
				ix.unflushed += len(evs)
				ix.d.Metrics.Count("tarian_indexed_events_total", t, len(evs))
			}
		}
	}
	if ix.unflushed >= flushEvents || time.Since(ix.begun) >= flushInterval {
		return ix.flush(ctx)
	}
	return nil
}

// worker parses its share of a batch and adds it to the store.
type worker struct {
	parser *parse.Parser
	evs    map[tenant.ID][]event.Event
	dead   map[tenant.ID][]ingest.DeadLetter
	err    error
}

// index handles the messages of todo whose index is w modulo n.
func (wk *worker) index(ctx context.Context, st Store, todo []bus.Message, w, n int, stored map[position]bool) error {
	for t := range wk.evs {
		wk.evs[t] = wk.evs[t][:0]
	}
	clear(wk.dead)
	for mi := w; mi < len(todo); mi += n {
		m := todo[mi]
		seq := strconv.FormatUint(m.Seq, 10)
		evs := wk.evs[m.Tenant]
		for i, r := range m.Records {
			if stored[position{m.Seq, i}] {
				continue
			}
			n := len(evs)
			var err error
			if evs, err = wk.parser.Parse(m.Tenant, r, evs); err != nil {
				wk.dead[m.Tenant] = append(wk.dead[m.Tenant], ingest.DeadLetter{Received: r.Received, Source: r.Source, Reason: "parse: " + err.Error(), Data: r.Data})
				continue
			}
			// Every event of a record (a batch record holds several) keeps
			// its position, so a replay finds them stored.
			idx := strconv.Itoa(i)
			for j := n; j < len(evs); j++ {
				evs[j].Fields = append(evs[j].Fields, event.Field{Name: FieldSeq, Value: seq}, event.Field{Name: FieldIdx, Value: idx})
			}
		}
		wk.evs[m.Tenant] = evs
	}
	for t, evs := range wk.evs {
		if len(evs) == 0 {
			continue
		}
		if err := st.Add(ctx, t, evs); err != nil {
			return fmt.Errorf("indexer: store %d events of %s: %w", len(evs), t, err)
		}
	}
	return nil
}

// storedPositions returns which records of msgs the store already holds.
func (ix *Indexer) storedPositions(ctx context.Context, msgs []bus.Message) (map[position]bool, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	byTenant := map[tenant.ID][]bus.Message{}
	for _, m := range msgs {
		byTenant[m.Tenant] = append(byTenant[m.Tenant], m)
	}
	found := map[position]bool{}
	for t, ms := range byTenant {
		n := 0
		for _, m := range ms {
			n += len(m.Records)
		}
		q := logstore.Query{
			Tenants: []tenant.ID{t},
			LogsQL:  fmt.Sprintf("%s:range[%d, %d] | fields %s, %s", FieldSeq, ms[0].Seq, ms[len(ms)-1].Seq, FieldSeq, FieldIdx),
			Limit:   n + 1,
		}
		err := ix.d.Store.Search(ctx, q, func(r logstore.Row) error {
			var p position
			for _, f := range r.Fields {
				switch f.Name {
				case FieldSeq:
					p.seq, _ = strconv.ParseUint(f.Value, 10, 64)
				case FieldIdx:
					p.idx, _ = strconv.Atoi(f.Value)
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
