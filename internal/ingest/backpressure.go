package ingest

import (
	"errors"
	"time"
)

// DefaultRetryAfter is how long a refused shipper is told to wait when the
// refusal carries no better estimate (a full bus).
const DefaultRetryAfter = time.Second

// retryAfterer is an error that knows when a refused write may succeed: a
// tenant over its rate limit carries the time its bucket refills.
type retryAfterer interface {
	RetryAfter() time.Duration
}

// RetryAfter returns how long a shipper refused with err should wait before
// it retries: the error's own estimate, or DefaultRetryAfter. Receivers put
// it in their protocol's terms (an HTTP Retry-After header, gRPC RetryInfo).
func RetryAfter(err error) time.Duration {
	var ra retryAfterer
	if errors.As(err, &ra) {
		if d := ra.RetryAfter(); d > 0 {
			return d
		}
	}
	return DefaultRetryAfter
}

// RetryAfterSeconds is RetryAfter in whole seconds, rounded up, at least 1:
// the form of an HTTP Retry-After header.
func RetryAfterSeconds(err error) int {
	d := RetryAfter(err)
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}
