package stage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/bus"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// recorder is a consumer that keeps a durable-looking position in memory
// and records every event it was handed past it.
type recorder struct {
	mu     sync.Mutex
	done   uint64 // position, as a checkpoint would keep it
	seen   map[string]int
	hashes map[string]string
	// gate, when set, blocks Process until closed.
	gate chan struct{}
	// failOnce makes the first Process fail; down makes every Process
	// fail while set (its store unreachable).
	failOnce bool
	down     bool
	batches  int
}

func (r *recorder) setDown(down bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = down
}

func newRecorder() *recorder { return &recorder{seen: map[string]int{}, hashes: map[string]string{}} }

func (r *recorder) Start(context.Context) (uint64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done, nil
}

func (r *recorder) Process(ctx context.Context, b *Batch) error {
	if r.gate != nil {
		select {
		case <-r.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches++
	if r.down {
		return errors.New("store unreachable")
	}
	if r.failOnce {
		r.failOnce = false
		return errors.New("store unavailable")
	}
	for _, m := range b.Msgs {
		if m.Seq <= r.done {
			continue
		}
		for i, ev := range m.Events {
			n, _ := ev.Get("n")
			r.seen[n]++
			h, _ := ev.Get(event.FieldHash)
			r.hashes[n] = h
			if idx, _ := ev.Get(event.FieldIdx); idx != m.Refs[i].Index() {
				return fmt.Errorf("event %s: tarian.idx %q, ref %s", n, idx, m.Refs[i])
			}
		}
		r.done = m.Seq
	}
	return nil
}

func (r *recorder) Idle(context.Context) error { return nil }

func (r *recorder) position() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done
}

func openBus(t *testing.T) *bus.Bus {
	t.Helper()
	cfg := bus.DefaultConfig()
	cfg.MessageBytes = 4 << 10
	b, err := bus.Open(context.Background(), cfg, t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func write(t *testing.T, b *bus.Bus, tn tenant.ID, from, to int) {
	t.Helper()
	var recs []event.Raw
	for i := from; i < to; i++ {
		recs = append(recs, event.Raw{Received: time.Now(), Source: "http", Data: fmt.Appendf(nil, `{"n":"%d","message":"event %d"}`, i, i)})
	}
	if err := b.Write(context.Background(), tn, recs); err != nil {
		t.Fatal(err)
	}
}

// runUntil runs a stage until every consumer reached the bus' last
// message.
func runUntil(t *testing.T, b *bus.Bus, cs ...*recorder) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var consumers []Consumer
	for _, c := range cs {
		consumers = append(consumers, c)
	}
	s := New(Deps{Bus: b, Consumers: consumers})
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	last, err := b.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, c := range cs {
		for c.position() < last {
			if time.Now().After(deadline) {
				t.Fatalf("consumer at %d, bus at %d", c.position(), last)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func checkOnce(t *testing.T, name string, r *recorder, n int) {
	t.Helper()
	if len(r.seen) != n {
		t.Errorf("%s saw %d distinct events, want %d", name, len(r.seen), n)
	}
	for k, c := range r.seen {
		if c != 1 {
			t.Errorf("%s saw event %s %d times", name, k, c)
		}
	}
}

func TestEveryConsumerSeesEveryEventOnce(t *testing.T) {
	b := openBus(t)
	write(t, b, "council-a", 0, 600)
	write(t, b, "council-b", 600, 1000)
	ix, det := newRecorder(), newRecorder()
	runUntil(t, b, ix, det)
	checkOnce(t, "indexer", ix, 1000)
	checkOnce(t, "detector", det, 1000)
	// Parsed once: both consumers were handed the same hashes, and the
	// hash is the record's.
	for n, h := range ix.hashes {
		if det.hashes[n] != h || len(h) != 32 {
			t.Fatalf("event %s: hashes %q and %q", n, h, det.hashes[n])
		}
	}
}

// Consumers at different positions (detection behind storage after a
// crash): the stream is read from the older one, and neither repeats.
func TestConsumersResumeFromTheirOwnPositions(t *testing.T) {
	b := openBus(t)
	write(t, b, "council-a", 0, 300)
	ix, det := newRecorder(), newRecorder()
	runUntil(t, b, ix)
	if det.position() != 0 || ix.position() == 0 {
		t.Fatalf("positions: indexer %d, detector %d", ix.position(), det.position())
	}
	write(t, b, "council-a", 300, 500)
	runUntil(t, b, ix, det)
	checkOnce(t, "indexer", ix, 500)
	checkOnce(t, "detector", det, 500)
}

// A consumer that fails has the stream read again from its position; the
// other consumer does not see anything twice.
func TestFailedConsumerRestartsAlone(t *testing.T) {
	b := openBus(t)
	write(t, b, "council-a", 0, 400)
	ix, det := newRecorder(), newRecorder()
	det.failOnce = true
	runUntil(t, b, ix, det)
	checkOnce(t, "indexer", ix, 400)
	checkOnce(t, "detector", det, 400)
	if det.batches < 2 {
		t.Errorf("detector handled %d batches; want the failed one again", det.batches)
	}
}

// A slow consumer does not hold the other back until it is Lag batches
// behind.
func TestSlowConsumerLags(t *testing.T) {
	b := openBus(t)
	for i := range 40 { // many small messages: several batches
		write(t, b, "council-a", i*50, i*50+50)
	}
	ix, det := newRecorder(), newRecorder()
	det.gate = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := New(Deps{Bus: b, Consumers: []Consumer{ix, det}})
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for ix.position() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("indexer made no progress while the detector was blocked")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if det.position() != 0 {
		t.Fatal("blocked detector moved")
	}
	close(det.gate)
	last, _ := b.LastSeq(ctx)
	for det.position() < last || ix.position() < last {
		if time.Now().After(deadline) {
			t.Fatalf("positions: indexer %d, detector %d, bus %d", ix.position(), det.position(), last)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkOnce(t, "indexer", ix, 2000)
	checkOnce(t, "detector", det, 2000)
}

// A consumer whose store is down does not hold the other back, however
// long it lasts: the other reads on past Lag batches; once the store is
// back the failed one catches up and rejoins the read, and neither loses
// or repeats an event.
func TestFailingConsumerDoesNotHoldTheOthers(t *testing.T) {
	b := openBus(t)
	writeMany := func(from, n int) {
		for i := range n {
			write(t, b, "council-a", from+i*50, from+i*50+50)
		}
	}
	writeMany(0, 40)
	ix, det := newRecorder(), newRecorder()
	ix.setDown(true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := New(Deps{Bus: b, Consumers: []Consumer{ix, det}})
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	waitAt := func(what string, r *recorder) {
		t.Helper()
		last, _ := b.LastSeq(ctx)
		for deadline := time.Now().Add(30 * time.Second); r.position() < last; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s at %d, bus at %d", what, r.position(), last)
			}
		}
	}
	waitAt("detector, the indexer down", det)
	writeMany(2000, 40) // more than Lag batches while it is down
	waitAt("detector, the indexer still down", det)
	if ix.position() != 0 {
		t.Fatalf("the indexer moved while its store was down: %d", ix.position())
	}
	ix.setDown(false)
	waitAt("indexer, its store back", ix)
	writeMany(4000, 20)
	waitAt("indexer, after rejoining", ix)
	waitAt("detector, after the indexer rejoined", det)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkOnce(t, "indexer", ix, 5000)
	checkOnce(t, "detector", det, 5000)
	if s.catchup.detached(0) {
		t.Error("the indexer is still detached from the main read")
	}
}
