// Package stage is the event path after the bus: one ordered read of the
// stream, each record parsed once (by the parse stage, in parallel), and
// each parsed batch handed to every consumer — the indexer (event store)
// and the detector — in stream order.
//
// Each consumer owns its durable position (its checkpoint in the state
// store) and runs in its own goroutine, up to Lag batches behind the reader,
// so detection may trail storage without holding it up and neither loses
// nor repeats a record across a crash: after a restart the stream is read
// again from the oldest position any consumer needs, and each consumer
// skips what it already has.
//
// A consumer that fails (its store unreachable) does not hold the others
// back: it is detached, the others go on from their own positions, and it
// retries on a read of its own from its position (parsing what it reads a
// second time) until it is within rejoinGap messages of the main read,
// then rejoins it (catchup.go). So detection goes on while the event store
// is down, and storage while the detector cannot raise alerts.
package stage

import (
	"context"
	"log/slog"
	"math"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tarian-soc/tarian/internal/bus"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse"
)

// Msg is one bus message, parsed.
type Msg struct {
	bus.Message
	// Events are the record's events, in record order; Refs[i] is
	// Events[i]'s position.
	Events []event.Event
	Refs   []event.Ref
	// Failed are the records that did not parse: their index in Records
	// and why.
	Failed []Failure
}

// Failure is a record that did not parse.
type Failure struct {
	Idx    int
	Reason string
}

// Batch is a run of parsed messages in stream order. Consumers must not
// change it: every consumer sees the same batch.
type Batch struct {
	Msgs []Msg
	refs atomic.Int32
	free chan *Batch
}

// Release says a consumer is done with b; the last release recycles its
// buffers (the events' field slices), which keeps the garbage collector
// out of the way of a stage that parses most of a core's worth of events.
func (b *Batch) Release() {
	if b.refs.Add(-1) == 0 && b.free != nil {
		select {
		case b.free <- b:
		default:
		}
	}
}

// Consumer is one reader of the parsed stream.
type Consumer interface {
	// Start (re)loads the consumer's durable position and state and
	// returns the last stream sequence it has fully processed.
	Start(ctx context.Context) (uint64, error)
	// Process handles one batch. Messages at or before the consumer's
	// position may be in it (another consumer needed them); it skips them.
	Process(ctx context.Context, b *Batch) error
	// Idle is called when the stream had nothing new for a while.
	Idle(ctx context.Context) error
}

// Source is the bus as the stage reads it.
type Source interface {
	Consume(ctx context.Context, cc bus.ConsumeConfig, h bus.Handler) error
}

// Deps are the stage's collaborators.
type Deps struct {
	// Pipeline parses records into events (the log sources); nil parses
	// with no sources declared (every type detected).
	Pipeline  *parse.Pipeline
	Bus       Source
	Consumers []Consumer
	// Log is where a consumer's detachment and return are told (nil:
	// slog.Default()).
	Log *slog.Logger
}

// Name is the stage's name on the bus (in logs).
const Name = "stage"

// Lag is how many batches a consumer may trail the reader by before the
// reader waits for it.
//
// Lag and batchBytes bound the parsed events in memory: at most Lag+2
// batches of up to 2 MiB of records (decompressed), about 100 MB of parsed
// Windows events. (At 8 batches of 4 MiB a backlog held 400 MB of them,
// the Go heap sat at its limit and collection took most of the CPU: 0.36-0.49
// CPU s per 1,000 events on 300,000 realistic events, against 0.20
// now; bench/README.md.)
const Lag = 4

// Read limits: the most messages and record bytes (decompressed) parsed as
// one batch.
const (
	batchMessages = 16
	batchBytes    = 2 << 20
)

// Stage reads, parses and fans out.
type Stage struct {
	d       Deps
	free    chan *Batch // released batches, for reuse
	workers []*parse.Parser
	run     *fanout // the consumers' goroutines of the current read
	hold    *hold   // a backup's hold on the read (hold.go), shared with catch-up reads
	name    string  // the read's name on the bus
	// pos is the last stream sequence handed to the consumers.
	pos atomic.Uint64
	// progress, on a catch-up read, is told each sequence its consumer has
	// processed (catchup.go).
	progress func(seq uint64)
	catchup  catchups
	ctx      context.Context // Run's: the catch-up reads end with it
}

// New returns a stage; Run starts it.
func New(d Deps) *Stage {
	if d.Pipeline == nil {
		d.Pipeline, _ = parse.New(parse.Config{})
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	s := newStage(d, max(1, min(runtime.GOMAXPROCS(0), 4)), &hold{})
	s.name = Name
	return s
}

func newStage(d Deps, workers int, h *hold) *Stage {
	s := &Stage{d: d, free: make(chan *Batch, Lag+2), workers: make([]*parse.Parser, workers), hold: h}
	for i := range s.workers {
		s.workers[i] = d.Pipeline.NewParser()
	}
	return s
}

// Run reads the stream until ctx is done.
func (s *Stage) Run(ctx context.Context) error {
	s.ctx = ctx
	defer s.catchup.wait()
	defer s.stop()
	cc := bus.ConsumeConfig{Name: s.name, From: s.from, Batch: batchMessages, MaxBytes: batchBytes, MaxWait: 20 * time.Millisecond}
	return s.d.Bus.Consume(ctx, cc, s.handle)
}

// fanout is one generation of consumer goroutines: the attached consumers'
// (d.Consumers[ids[k]] reads in[k]).
type fanout struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	ids    []int
	in     []chan *Batch // nil batch: the stream is idle
	errc   chan consumerError
}

// consumerError is consumer id's failure.
type consumerError struct {
	id  int
	err error
}

// from (re)starts every consumer on the main read (not those detached
// onto reads of their own, catchup.go; those back from one rejoin here)
// and returns where the stream must be read from: the oldest position any
// of them needs.
func (s *Stage) from(ctx context.Context) (uint64, error) {
	s.stop()
	s.catchup.rejoined()
	from := uint64(math.MaxUint64)
	var ids []int
	for id, c := range s.d.Consumers {
		if s.catchup.detached(id) {
			continue
		}
		done, err := c.Start(ctx)
		if err != nil {
			return 0, err
		}
		from = min(from, done)
		ids = append(ids, id)
	}
	if from == math.MaxUint64 {
		from = s.pos.Load()
	}
	rctx, cancel := context.WithCancel(ctx)
	f := &fanout{cancel: cancel, ids: ids, errc: make(chan consumerError, len(ids))}
	for _, id := range ids {
		c := s.d.Consumers[id]
		in := make(chan *Batch, Lag)
		f.in = append(f.in, in)
		f.wg.Go(func() {
			if err := consume(rctx, c, in, s.progress); err != nil {
				f.errc <- consumerError{id, err}
			}
		})
	}
	s.run = f
	return from + 1, nil
}

// consume feeds one consumer until ctx is done or it fails; progress, when
// set, is told the last sequence of each batch it processed.
func consume(ctx context.Context, c Consumer, in <-chan *Batch, progress func(uint64)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case b := <-in:
			var err error
			if b == nil {
				if len(in) > 0 {
					// Batches came after the idle moment: it is over.
					continue
				}
				err = c.Idle(ctx)
			} else {
				err = c.Process(ctx, b)
				if err == nil && progress != nil && len(b.Msgs) > 0 {
					progress(b.Msgs[len(b.Msgs)-1].Seq)
				}
				b.Release()
			}
			if err != nil {
				return err
			}
		}
	}
}

// stop ends the current consumer goroutines and waits for them.
func (s *Stage) stop() {
	if s.run == nil {
		return
	}
	s.run.cancel()
	s.run.wg.Wait()
	s.run = nil
}

func (s *Stage) handle(ctx context.Context, msgs []bus.Message) error {
	f := s.run
	select {
	case ce := <-f.errc:
		return s.failed(ce)
	default:
	}
	if s.catchup.rejoining() {
		return errRejoin
	}
	if through, released, ok := s.hold.at(); ok && len(msgs) > 0 && msgs[len(msgs)-1].Seq > through {
		return s.handleHeld(ctx, msgs, through, released)
	}
	if len(msgs) == 0 {
		for _, in := range f.in {
			select {
			case in <- nil:
			default: // busy: it will be told at the next idle moment
			}
		}
		return nil
	}
	b := s.parse(msgs)
	b.refs.Store(int32(len(f.in)))
	for _, in := range f.in {
		select {
		case in <- b:
		case ce := <-f.errc:
			return s.failed(ce)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.pos.Store(msgs[len(msgs)-1].Seq)
	return nil
}

// parse parses msgs into a batch, the messages dealt round-robin to the
// workers.
func (s *Stage) parse(msgs []bus.Message) *Batch {
	var b *Batch
	select {
	case b = <-s.free:
	default:
		b = &Batch{free: s.free}
	}
	if cap(b.Msgs) < len(msgs) {
		b.Msgs = append(b.Msgs[:cap(b.Msgs)], make([]Msg, len(msgs)-cap(b.Msgs))...)
	}
	b.Msgs = b.Msgs[:len(msgs)]
	var wg sync.WaitGroup
	n := len(s.workers)
	for w, p := range s.workers {
		wg.Go(func() {
			for i := w; i < len(msgs); i += n {
				parseMsg(p, msgs[i], &b.Msgs[i])
			}
		})
	}
	wg.Wait()
	return b
}

// indexes are the tarian.idx values of the first records of a message,
// made once rather than for every event.
var indexes = func() []string {
	s := make([]string, 4096)
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

// index returns ref.Index().
func index(ref event.Ref) string {
	if ref.Sub == 0 && ref.Idx < len(indexes) {
		return indexes[ref.Idx]
	}
	return ref.Index()
}

// parseMsg parses m's records into pm, reusing pm's buffers, and stamps
// each event with its bus position (the parser gave it its record's
// event.hash, as it does for `tarian parse`).
func parseMsg(p *parse.Parser, m bus.Message, pm *Msg) {
	pm.Message = m
	evs := pm.Events[:0]
	pm.Refs, pm.Failed = pm.Refs[:0], pm.Failed[:0]
	seq := strconv.FormatUint(m.Seq, 10)
	for i, r := range m.Records {
		n := len(evs)
		var err error
		if evs, err = p.Parse(m.Tenant, r, evs); err != nil {
			pm.Failed = append(pm.Failed, Failure{Idx: i, Reason: "parse: " + err.Error()})
			continue
		}
		if len(evs) == n {
			continue
		}
		for j := n; j < len(evs); j++ {
			ref := event.Ref{Seq: m.Seq, Idx: i, Sub: j - n}
			pm.Refs = append(pm.Refs, ref)
			evs[j].Fields = append(evs[j].Fields,
				event.Field{Name: event.FieldSeq, Value: seq},
				event.Field{Name: event.FieldIdx, Value: index(ref)})
		}
	}
	pm.Events = evs
}
