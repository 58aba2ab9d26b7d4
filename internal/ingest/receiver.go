package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Receiver accepts records for one protocol until ctx is done, writing them
// to its Deps.Sink. Run returns an error at once when it cannot start (an
// address in use); otherwise it returns nil once ctx is done and what it
// had read is written. It must not retry a start internally, and must not
// close anything it did not create.
type Receiver interface {
	Run(ctx context.Context) error
}

// Reloader is a Receiver that takes a new configuration while it runs (a
// configuration reload), changing only what changed: a listener receiver
// starts the new listeners, stops the removed ones and restarts the changed
// ones, and never drops the connections of the others. An invalid cfg is
// refused before anything changes. A receiver that is not a Reloader is
// restarted when its configuration changes.
type Reloader[C any] interface {
	Receiver
	Reload(ctx context.Context, cfg C) error
}

// Deps are what every receiver is given; each uses the ones its protocol
// needs (a listener receiver Tenants, an HTTP receiver Auth) and checks
// them with Require.
type Deps struct {
	// Sink takes the records; it returns once they are durable.
	Sink Sink
	// DeadLetters keeps what could not be accepted, with the reason.
	DeadLetters DeadLetters
	// Tenants looks up the tenants a listener's configuration names, once
	// per connection (or datagram): use a TenantCache.
	Tenants Tenants
	// Auth resolves the ingest tokens of HTTP receivers to their tenant.
	Auth Authenticator
	// Metrics counts per tenant.
	Metrics Counter
	// Log is the receiver's logger; nil discards.
	Log *slog.Logger
}

// Need says which optional Deps a receiver uses.
type Need int

// The optional Deps.
const (
	NeedTenants Need = 1 << iota
	NeedAuth
)

// Require checks that d has what receiver needs (Sink, DeadLetters and
// Metrics always), and gives it a discarding logger when it has none. A
// missing dependency is a programmer error.
func (d *Deps) Require(receiver string, need Need) error {
	missing := d.Sink == nil || d.DeadLetters == nil || d.Metrics == nil ||
		need&NeedTenants != 0 && d.Tenants == nil || need&NeedAuth != 0 && d.Auth == nil
	if missing {
		names := []string{"Sink", "DeadLetters"}
		if need&NeedTenants != 0 {
			names = append(names, "Tenants")
		}
		if need&NeedAuth != 0 {
			names = append(names, "Auth")
		}
		return fmt.Errorf("%s: BUG: Deps.%s and Metrics are required", receiver, strings.Join(names, ", "))
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Tenants looks tenants up: the tenant store, or a TenantCache in front of
// it. An unknown tenant is an error wrapping tenant.ErrNotFound.
type Tenants interface {
	Tenant(ctx context.Context, id tenant.ID) (tenant.Tenant, error)
}

// Authenticator resolves an ingest token to its tenant. Errors wrap
// auth.ErrUnauthenticated (unknown token) or auth.ErrForbidden (a token
// that may not ingest).
type Authenticator interface {
	IngestTenant(ctx context.Context, secret string) (tenant.ID, error)
}

// ErrBackpressure marks a write the pipeline cannot take now (the bus is
// full, stalled or slow, or the tenant is over its limit). Nothing was
// lost: each receiver tells its shipper to retry, in its protocol's terms
// (503, a withheld acknowledgement, TCP back-pressure). The bus's errors
// wrap it.
var ErrBackpressure = errors.New("bus back-pressure")

// Durable-write retries of the stream receivers.
const (
	// DrainTimeout bounds the last durable write of what a connection had
	// read when its receiver stops.
	DrainTimeout = 10 * time.Second
	minRetry     = 10 * time.Millisecond
	maxRetry     = time.Second
)

// WriteRetrying writes recs to sink until it takes them: a refusal is
// retried with backoff (10 ms doubling to 1 s) while the caller reads
// nothing more, so a slow bus slows the sender. Once ctx is done it keeps
// trying for DrainTimeout, then gives up with an error. Logs start with
// the receiver's name ("syslog sink pushing back; retrying").
func WriteRetrying(ctx context.Context, sink Sink, t tenant.ID, recs []event.Raw, log *slog.Logger, receiver string) error {
	wctx := context.WithoutCancel(ctx)
	delay := minRetry
	var giveUp time.Time
	for attempt := 1; ; attempt++ {
		err := sink.Write(wctx, t, recs)
		if err == nil {
			if attempt > 1 {
				log.Info(receiver+" sink accepting again", "attempts", attempt)
			}
			return nil
		}
		if attempt == 1 {
			log.Warn(receiver+" sink pushing back; retrying", "records", len(recs), "err", err)
		}
		if ctx.Err() != nil {
			if giveUp.IsZero() {
				giveUp = time.Now().Add(DrainTimeout)
			}
			if time.Now().After(giveUp) {
				return fmt.Errorf("write %d records at shutdown: %w", len(recs), err)
			}
			time.Sleep(delay)
		} else {
			tm := time.NewTimer(delay)
			select {
			case <-tm.C:
			case <-ctx.Done():
				tm.Stop()
			}
		}
		delay = min(2*delay, maxRetry)
	}
}

// Shorten cuts s to at most n bytes, marking the cut with "...", for
// reasons that quote what a shipper sent.
func Shorten(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
