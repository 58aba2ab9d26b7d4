package stage

import (
	"context"
	"errors"
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
