package bus

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
)

// setupFor bounds how long SetUp tries: nodes of a new cluster starting
// together, or a JetStream cluster still electing its meta leader, answer
// a stream or bucket creation with a timeout for a few seconds.
const setupFor = time.Minute

// SetUp runs create (making or opening a stream or bucket) until it
// succeeds, fails for a reason other than a timeout, or setupFor has
// passed, waiting half a second, then longer, between tries. what names
// the stream or bucket in the log.
func SetUp(ctx context.Context, log *slog.Logger, what string, create func(context.Context) error) error {
	deadline := time.Now().Add(setupFor)
	wait := 500 * time.Millisecond
	for {
		err := create(ctx)
		if err == nil || !transient(err) || time.Now().Add(wait).After(deadline) {
			return err
		}
		log.Warn("the bus did not answer in time; trying again", "what", what, "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// transient reports whether err is a JetStream API request that timed
// out (and may succeed once the cluster settles).
func transient(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders)
}
