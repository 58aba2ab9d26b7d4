package lumberjack

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/ingest/listener"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Source is the event.Raw source of every event this receiver accepts; the
// parse stage reads it as JSON.
const Source = string(event.KindLumberjack)

// Metric names (counters by tenant; refused senders have no tenant).
const (
	MetricEvents         = "tarian_lumberjack_events_total"
	MetricRejected       = "tarian_lumberjack_rejected_total"
	MetricRefused        = "tarian_lumberjack_refused_total"
	MetricMalformed      = "tarian_lumberjack_malformed_total"
	MetricBackpressure   = "tarian_lumberjack_backpressure_total"
	MetricUnacknowledged = "tarian_lumberjack_unacknowledged_total"
)

const (
	minBackoff = 10 * time.Millisecond
	maxBackoff = time.Second
	// maxRetryAfter caps a wait the sink asks for (a tenant's rate limit):
	// the keepalives hold the shipper meanwhile.
	maxRetryAfter = 30 * time.Second
	// chunkBytes is how much of a window is read before it is written and
	// acknowledged in part, so a large window never sits whole in memory.
	chunkBytes = 4 << 20
)

// Receiver serves the configured Lumberjack v2 listeners; Run, Reload,
// Addrs and Tenants are its listener.Runner's.
type Receiver struct {
	*listener.Runner[Config, Listener]
	d   ingest.Deps
	now func() time.Time
}

var _ ingest.Reloader[Config] = (*Receiver)(nil)

// New checks cfg and loads the TLS files; Run listens. d needs Tenants
// (a listener's tenants are checked per connection).
func New(cfg Config, d ingest.Deps) (*Receiver, error) {
	r := &Receiver{d: d, now: time.Now}
	run, err := listener.NewRunner("lumberjack", MetricRefused, cfg, &r.d, listener.Handlers[Listener]{Conn: r.serveConn})
	if err != nil {
		return nil, err
	}
	r.Runner = run
	return r, nil
}

// serveConn serves one authenticated connection until it ends or ctx is
// done.
func (r *Receiver) serveConn(ctx context.Context, _ *listener.Socket[Listener], c net.Conn, t tenant.ID, from netip.Addr) {
	log := r.d.Log.With("receiver", "lumberjack", "tenant", string(t), "remote", from.String())
	log.Debug("lumberjack connection")
	cfg := r.Config()
	cr := &connReader{c: c, timeout: cfg.Timeout}
	stop := context.AfterFunc(ctx, cr.stop)
	defer stop()
	s := r.newSession(cfg, t, log, cr, c)
	defer s.close()
	s.run(ctx)
}

// connReader reads a connection with the session's deadlines: none while
// it waits for a window, Timeout without a byte inside one. stop makes
// every read from then on fail at once, without closing the connection,
// so that a write in progress can still be acknowledged.
type connReader struct {
	c       net.Conn
	timeout time.Duration

	mu      sync.Mutex
	stopped bool
	idle    bool
	set     time.Time // when the deadline was last pushed; zero: none
}

var errStopped = errors.New("receiver stopping")

func (cr *connReader) Read(p []byte) (int, error) {
	cr.mu.Lock()
	if cr.stopped {
		cr.mu.Unlock()
		return 0, errStopped
	}
	switch now := time.Now(); {
	case cr.idle && !cr.set.IsZero():
		_ = cr.c.SetReadDeadline(time.Time{})
		cr.set = time.Time{}
	case !cr.idle && (cr.set.IsZero() || now.Sub(cr.set) > cr.timeout/8):
		// Pushed forward now and then rather than on every read: a
		// window is cut only after Timeout without any byte.
		_ = cr.c.SetReadDeadline(now.Add(cr.timeout))
		cr.set = now
	}
	cr.mu.Unlock()
	return cr.c.Read(p)
}

// waiting says whether the session waits for a window (no deadline) or
// reads one.
func (cr *connReader) waiting(idle bool) {
	cr.mu.Lock()
	cr.idle = idle
	cr.mu.Unlock()
}

func (cr *connReader) stop() {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	cr.stopped = true
	_ = cr.c.SetReadDeadline(time.Unix(1, 0))
}
