package ingest

import (
	"context"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// DeadLetter is a record that could not be accepted or parsed, kept with the
// reason so nothing is silently lost.
type DeadLetter struct {
	ID       int64
	Received time.Time
	Source   string
	// Line is the 1-based line in the request, 0 when not line-framed.
	Line   int
	Reason string
	Data   []byte
}

// DeadLetters stores dead letters per tenant.
type DeadLetters interface {
	AddDeadLetters(ctx context.Context, t tenant.ID, dls []DeadLetter) error
}
