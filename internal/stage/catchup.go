package stage

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/tarian-soc/tarian/internal/bus"
)

// rejoinGap is how close (in messages) to the main read a detached
// consumer's own read must come before it rejoins: the main read then
// starts again from its position, and reads those messages a second time.
const rejoinGap = Lag * batchMessages

// catchups are the consumers detached from the main read after they
// failed, each retrying on a read of its own until it has caught up.
type catchups struct {
	mu   sync.Mutex
	runs map[int]bool // detached consumers, by index in Deps.Consumers
	back []int        // those caught up, stopped, waiting for the main read to restart
	// rejoin is set while back is not empty.
	rejoin atomic.Bool
	wg     sync.WaitGroup
}

// detached reports whether consumer id is off the main read.
func (c *catchups) detached(id int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runs[id]
}

// rejoining reports whether a consumer waits for the main read to restart.
func (c *catchups) rejoining() bool { return c.rejoin.Load() }

// rejoined puts the consumers back from their own reads on the main read
// (from calls it before it starts the attached consumers).
func (c *catchups) rejoined() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range c.back {
		delete(c.runs, id)
	}
	c.back = nil
	c.rejoin.Store(false)
}

// wait waits for the catch-up reads, which end with the stage's context.
func (c *catchups) wait() { c.wg.Wait() }

// failed handles consumer ce's failure on the main read. While another
// consumer stays on it, the failed one is detached: it retries on a read
// of its own (catchUp) and the main read restarts at once, from the
// others' positions. The last consumer on the main read fails the read
// (which restarts after a pause, from its position).
func (s *Stage) failed(ce consumerError) error {
	if len(s.run.ids) < 2 {
		return ce.err
	}
	s.catchUp(ce.id)
	s.d.Log.Warn("stage: a consumer failed; the others go on, it retries on a read of its own until it catches up",
		"read", s.name, "consumer", fmt.Sprintf("%T", s.d.Consumers[ce.id]), "err", ce.err)
	return fmt.Errorf("%T detached: %w (%w)", s.d.Consumers[ce.id], bus.ErrRestart, ce.err)
}

// errRejoin restarts the main read for the consumers back from their own.
var errRejoin = fmt.Errorf("consumers caught up rejoin the read: %w", bus.ErrRestart)

// catchUp runs consumer id on a read of its own, from its position, with
// as many parsers as the main read, until it is within rejoinGap of the
// main read; then it stops that read and marks the consumer to rejoin at
// the main read's restart. (While the main read runs ahead faster than the
// consumer catches up, it stays on its own read.)
func (s *Stage) catchUp(id int) {
	c := &s.catchup
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.runs == nil {
		c.runs = map[int]bool{}
	}
	if c.runs[id] {
		return
	}
	c.runs[id] = true
	sub := newStage(Deps{Pipeline: s.d.Pipeline, Bus: s.d.Bus, Consumers: []Consumer{s.d.Consumers[id]}, Log: s.d.Log}, len(s.workers), s.hold)
	sub.name = s.name + ".catchup"
	caught := make(chan struct{})
	var once sync.Once
	sub.progress = func(seq uint64) {
		if seq+rejoinGap >= s.pos.Load() {
			once.Do(func() { close(caught) })
		}
	}
	ctx, cancel := context.WithCancel(s.ctx)
	c.wg.Go(func() {
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- sub.Run(ctx) }()
		select {
		case <-caught:
			cancel()
			<-done
			if s.ctx.Err() != nil {
				return
			}
			c.mu.Lock()
			c.back = append(c.back, id)
			c.rejoin.Store(true)
			c.mu.Unlock()
			s.d.Log.Info("stage: a consumer caught up on its own read and rejoins", "read", s.name, "consumer", fmt.Sprintf("%T", s.d.Consumers[id]))
		case <-done:
		}
	})
}
