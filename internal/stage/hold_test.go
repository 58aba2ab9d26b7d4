package stage

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// idleCounter is a recorder that counts the idle calls it gets.
type idleCounter struct {
	*recorder
	idles chan struct{}
}

func (c idleCounter) Idle(context.Context) error {
	select {
	case c.idles <- struct{}{}:
	default:
	}
	return nil
}

// A held stage hands its consumers the stream through the held position
// and nothing after it, tells them the stream is idle (so they flush)
// while held, and goes on from there once released.
func TestHold(t *testing.T) {
	b := openBus(t)
	write(t, b, "a", 0, 100)
	held, err := b.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r := idleCounter{recorder: newRecorder(), idles: make(chan struct{}, 1)}
	s := New(Deps{Bus: b, Consumers: []Consumer{r}})
	release, err := s.Hold(held)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Hold(held); !errors.Is(err, ErrHeld) {
		t.Fatalf("second hold: %v, want ErrHeld", err)
	}
	write(t, b, "a", 100, 200) // arrives while held
	last, _ := b.LastSeq(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	waitFor(t, func() bool { return r.position() == held }, "the held position")
	// Held: idle calls keep coming, the position stays.
	for range 3 {
		select {
		case <-r.idles:
		case <-time.After(10 * time.Second):
			t.Fatal("no idle call while held")
		}
	}
	if p := r.position(); p != held {
		t.Fatalf("held at %d, the consumer reached %d", held, p)
	}
	release()
	release() // twice: harmless
	waitFor(t, func() bool { return r.position() == last }, "the end after release")
	if len(r.seen) != 200 {
		t.Fatalf("%d distinct events, want 200", len(r.seen))
	}
	for n, c := range r.seen {
		if c != 1 {
			t.Fatalf("event %s seen %d times", n, c)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := s.Hold(last); err != nil {
		t.Fatalf("hold after release: %v", err)
	}
}

func waitFor(t *testing.T, ok func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not reached: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sequence records the calls a consumer gets, in order.
type sequence struct {
	calls       []string
	done, idled chan struct{}
}

func (s *sequence) Start(context.Context) (uint64, error) { return 0, nil }
func (s *sequence) Process(_ context.Context, b *Batch) error {
	s.calls = append(s.calls, "process")
	if b.Msgs != nil {
		close(s.done)
	}
	return nil
}
func (s *sequence) Idle(context.Context) error {
	s.calls = append(s.calls, "idle")
	s.idled <- struct{}{}
	return nil
}

// TestStaleIdleSkipped: an idle moment that a consumer reads only after
// more batches were queued behind it is over; the consumer is not told of
// it (an idle indexer flushes).
func TestStaleIdleSkipped(t *testing.T) {
	in := make(chan *Batch, 4)
	in <- &Batch{}
	in <- nil // idle, then a batch came
	in <- &Batch{Msgs: []Msg{}}
	s := &sequence{done: make(chan struct{}), idled: make(chan struct{}, 4)}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- consume(ctx, s, in, nil) }()
	<-s.done
	in <- nil // idle with nothing behind it
	select {
	case <-s.idled:
	case <-time.After(10 * time.Second):
		t.Fatal("the last idle moment was not passed on")
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.calls, ","); got != "process,process,idle" {
		t.Errorf("calls %s, want process,process,idle", got)
	}
}
