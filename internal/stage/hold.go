package stage

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/tarian-soc/tarian/internal/bus"
)

// hold stops the read after a stream sequence while a backup copies the
// stores: every consumer processes the stream through it and no further,
// so their stores and checkpoints agree on one position. Ingest goes on
// meanwhile; the records wait on the bus.
type hold struct {
	mu       sync.Mutex
	through  uint64
	released chan struct{} // nil: no hold
}

// at returns the held position and the channel closed on release.
func (h *hold) at() (uint64, <-chan struct{}, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.through, h.released, h.released != nil
}

// ErrHeld means another hold is in place (one backup at a time).
var ErrHeld = errors.New("stage: a backup already holds the bus read")

// Hold makes the stage hand its consumers the stream through sequence
// through and nothing after it until release is called. While held, the
// consumers are told the stream is idle every holdIdle, so each flushes and
// moves its checkpoint to through. Hold returns at once; the caller waits
// for the checkpoints.
func (s *Stage) Hold(through uint64) (release func(), err error) {
	s.hold.mu.Lock()
	defer s.hold.mu.Unlock()
	if s.hold.released != nil {
		return nil, ErrHeld
	}
	ch := make(chan struct{})
	s.hold.through, s.hold.released = through, ch
	var once sync.Once
	return func() {
		once.Do(func() {
			s.hold.mu.Lock()
			s.hold.released = nil
			s.hold.mu.Unlock()
			close(ch)
		})
	}, nil
}

// holdIdle is how often held consumers are told the stream is idle.
const holdIdle = 100 * time.Millisecond

// handleHeld hands the messages through the held position on, then waits,
// telling the consumers the stream is idle, until the hold is released;
// then it hands the rest.
func (s *Stage) handleHeld(ctx context.Context, msgs []bus.Message, through uint64, released <-chan struct{}) error {
	n := 0
	for n < len(msgs) && msgs[n].Seq <= through {
		n++
	}
	if n > 0 {
		if err := s.handle(ctx, msgs[:n]); err != nil {
			return err
		}
	}
	t := time.NewTicker(holdIdle)
	defer t.Stop()
	for {
		if err := s.handle(ctx, nil); err != nil {
			return err
		}
		select {
		case <-released:
			return s.handle(ctx, msgs[n:])
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
