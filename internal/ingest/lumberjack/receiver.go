package lumberjack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/ingest/listener"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Source is the event.Raw source of every event this receiver accepts; the
// indexer parses it as JSON.
const Source = "lumberjack"

// Metric names (counters by tenant; refused senders have no tenant).
const (
	MetricEvents         = "tarian_lumberjack_events_total"
	MetricRejected       = "tarian_lumberjack_rejected_total"
	MetricRefused        = "tarian_lumberjack_refused_total"
	MetricMalformed      = "tarian_lumberjack_malformed_total"
	MetricBackpressure   = "tarian_lumberjack_backpressure_total"
	MetricUnacknowledged = "tarian_lumberjack_unacknowledged_total"
)

// Counter counts per tenant.
type Counter interface {
	Count(name string, t tenant.ID, n int)
}

// Tenants looks tenants up; the receiver checks every configured tenant
// exists before it listens.
type Tenants interface {
	Tenant(ctx context.Context, id tenant.ID) (tenant.Tenant, error)
}

// Deps are the receiver's collaborators.
type Deps struct {
	Sink        ingest.Sink
	DeadLetters ingest.DeadLetters
	Tenants     Tenants
	Metrics     Counter
	Log         *slog.Logger
}

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

// Receiver serves the configured Lumberjack v2 listeners.
type Receiver struct {
	cfg Config
	d   Deps
	lns []*socket
	now func() time.Time

	ready chan struct{}
	mu    sync.Mutex
	bound bool
	addrs []net.Addr
}

// socket is a configured listener ready to serve.
type socket struct {
	*listener.Listener
	index int
}

// New checks cfg and loads the TLS files; Run listens.
func New(cfg Config, d Deps) (*Receiver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("lumberjack: %w", err)
	}
	if d.Sink == nil || d.DeadLetters == nil || d.Tenants == nil || d.Metrics == nil {
		return nil, errors.New("lumberjack: BUG: Deps.Sink, DeadLetters, Tenants and Metrics are required")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	r := &Receiver{cfg: cfg, d: d, now: time.Now, ready: make(chan struct{})}
	for i, l := range cfg.Listeners {
		ln, err := listener.New(l)
		if err != nil {
			return nil, fmt.Errorf("lumberjack: listeners[%d].%w", i, err)
		}
		r.lns = append(r.lns, &socket{Listener: ln, index: i})
	}
	return r, nil
}

// Addrs returns the listeners' bound addresses, in configuration order.
// It waits until Run has bound them, and returns nil if Run failed to.
func (r *Receiver) Addrs() []net.Addr {
	<-r.ready
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.bound {
		return nil
	}
	return append([]net.Addr{}, r.addrs...)
}

// Run checks every configured tenant exists, binds every listener and
// serves until ctx is done (with no listener, it just waits for ctx). On
// the way out it stops reading, lets each connection finish the write it
// is in (and acknowledge it), and returns once every connection is done.
// Errors at start (an unknown tenant, an address in use) are returned at
// once.
func (r *Receiver) Run(ctx context.Context) error {
	var readyOnce sync.Once
	defer readyOnce.Do(func() { close(r.ready) })
	for _, l := range r.lns {
		if err := l.CheckTenants(ctx, r.d.Tenants.Tenant); err != nil {
			return fmt.Errorf("lumberjack: listeners[%d]: %w", l.index, err)
		}
	}
	var closers []io.Closer
	closeAll := func() {
		for _, c := range closers {
			c.Close()
		}
	}
	var lc net.ListenConfig
	var lns []net.Listener
	for _, l := range r.lns {
		ln, err := lc.Listen(ctx, "tcp", l.Address())
		if err != nil {
			closeAll()
			return fmt.Errorf("lumberjack: listeners[%d]: %w", l.index, err)
		}
		closers = append(closers, ln)
		lns = append(lns, ln)
	}
	r.mu.Lock()
	r.bound = true
	for _, ln := range lns {
		r.addrs = append(r.addrs, ln.Addr())
	}
	r.mu.Unlock()
	readyOnce.Do(func() { close(r.ready) })
	stop := context.AfterFunc(ctx, closeAll)
	defer stop()
	var wg sync.WaitGroup
	for i, ln := range lns {
		l := r.lns[i]
		wg.Go(func() {
			listener.Accept(ctx, ln, &wg, r.d.Log, "lumberjack", func(c net.Conn) { r.serveConn(ctx, l, c) })
		})
		r.d.Log.Info("lumberjack listening", "receiver", "lumberjack", "protocol", l.Protocol, "addr", ln.Addr().String())
	}
	<-ctx.Done()
	wg.Wait()
	return nil
}

// refuse counts a sender that matches no tenant.
func (r *Receiver) refuse(l *socket, from netip.Addr, reason string) {
	r.d.Metrics.Count(MetricRefused, "", 1)
	r.d.Log.Warn("lumberjack sender refused", "receiver", "lumberjack", "protocol", l.Protocol, "listen", l.Address(), "remote", from.String(), "reason", reason)
}

// serveConn authenticates one connection and serves it until it ends or
// ctx is done.
func (r *Receiver) serveConn(ctx context.Context, l *socket, c net.Conn) {
	defer c.Close()
	from := listener.RemoteAddr(c.RemoteAddr())
	// sc is c, or the TLS connection over it.
	sc, t, err := l.Authenticate(ctx, c)
	if err != nil {
		r.refuse(l, from, err.Error())
		return
	}
	log := r.d.Log.With("receiver", "lumberjack", "tenant", string(t), "remote", from.String())
	log.Debug("lumberjack connection")
	cr := &connReader{c: sc, timeout: r.cfg.Timeout}
	stop := context.AfterFunc(ctx, cr.stop)
	defer stop()
	s := r.newSession(t, log, cr, sc)
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
