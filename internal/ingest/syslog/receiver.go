package syslog

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

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/ingest/listener"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Source is the event.Raw source of every record this receiver accepts;
// the indexer parses it with envelope.Syslog.
const Source = "syslog"

// Metric names (counters by tenant; refused senders have no tenant).
const (
	MetricEvents   = "tarian_syslog_events_total"
	MetricRejected = "tarian_syslog_rejected_total"
	MetricRefused  = "tarian_syslog_refused_total"
	MetricDropped  = "tarian_syslog_dropped_total"
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

// Timeouts of the connection life cycle.
const (
	// drainTimeout bounds the last durable write of what a connection had
	// read when the receiver stops.
	drainTimeout = 10 * time.Second
	maxBackoff   = time.Second
	// udpReadBuffer is the socket buffer asked for UDP listeners.
	udpReadBuffer = 8 << 20
)

// Receiver serves the configured syslog listeners.
type Receiver struct {
	cfg Config
	d   Deps
	lns []*socket
	now func() time.Time

	ready chan struct{}
	mu    sync.Mutex
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
		return nil, fmt.Errorf("syslog: %w", err)
	}
	if d.Sink == nil || d.DeadLetters == nil || d.Tenants == nil || d.Metrics == nil {
		return nil, errors.New("syslog: BUG: Deps.Sink, DeadLetters, Tenants and Metrics are required")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	r := &Receiver{cfg: cfg, d: d, now: time.Now, ready: make(chan struct{})}
	for i, l := range cfg.Listeners {
		ln, err := listener.New(l)
		if err != nil {
			return nil, fmt.Errorf("syslog: listeners[%d].%w", i, err)
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
	return append([]net.Addr(nil), r.addrs...)
}

// Run checks every configured tenant exists, binds every listener and
// serves until ctx is done (with no listener, it just waits for ctx). On the way out it stops reading, writes what
// each connection had read, and returns once every connection is done.
// Errors at start (an unknown tenant, an address in use) are returned at
// once.
func (r *Receiver) Run(ctx context.Context) error {
	var readyOnce sync.Once
	defer readyOnce.Do(func() { close(r.ready) })
	for _, l := range r.lns {
		if err := l.CheckTenants(ctx, r.d.Tenants.Tenant); err != nil {
			return fmt.Errorf("syslog: listeners[%d]: %w", l.index, err)
		}
	}
	var closers []io.Closer
	closeAll := func() {
		for _, c := range closers {
			c.Close()
		}
	}
	var lc net.ListenConfig
	var addrs []net.Addr
	type serve func()
	var serves []serve
	var wg sync.WaitGroup
	for _, l := range r.lns {
		if l.Protocol == "udp" {
			pc, err := lc.ListenPacket(ctx, "udp", l.Address())
			if err != nil {
				closeAll()
				return fmt.Errorf("syslog: listeners[%d]: %w", l.index, err)
			}
			closers = append(closers, pc)
			addrs = append(addrs, pc.LocalAddr())
			// A larger socket buffer rides out a slow durable write; the
			// kernel may cap it (net.core.rmem_max), which is fine.
			_ = pc.(*net.UDPConn).SetReadBuffer(udpReadBuffer)
			serves = append(serves, func() { r.serveUDP(ctx, l, pc.(*net.UDPConn)) })
			continue
		}
		ln, err := lc.Listen(ctx, "tcp", l.Address())
		if err != nil {
			closeAll()
			return fmt.Errorf("syslog: listeners[%d]: %w", l.index, err)
		}
		closers = append(closers, ln)
		addrs = append(addrs, ln.Addr())
		serves = append(serves, func() {
			listener.Accept(ctx, ln, &wg, r.d.Log, "syslog", func(c net.Conn) { r.serveConn(ctx, l, c) })
		})
	}
	r.mu.Lock()
	r.addrs = addrs
	r.mu.Unlock()
	readyOnce.Do(func() { close(r.ready) })
	stop := context.AfterFunc(ctx, closeAll)
	defer stop()
	for i, s := range serves {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s()
		}()
		r.d.Log.Info("syslog listening", "receiver", "syslog", "protocol", r.lns[i].Protocol, "addr", addrs[i].String())
	}
	<-ctx.Done()
	wg.Wait()
	return nil
}

// refuse counts a sender that matches no tenant.
func (r *Receiver) refuse(l *socket, from netip.Addr, reason string) {
	r.d.Metrics.Count(MetricRefused, "", 1)
	r.d.Log.Warn("syslog sender refused", "receiver", "syslog", "protocol", l.Protocol, "listen", l.Address(), "remote", from.String(), "reason", reason)
}

// serveConn authenticates one TCP or TLS connection and reads it until it
// ends or ctx is done.
func (r *Receiver) serveConn(ctx context.Context, l *socket, c net.Conn) {
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	from := listener.RemoteAddr(c.RemoteAddr())
	// sc is c, or the TLS connection over it; closing c ends either.
	sc, t, err := l.Authenticate(ctx, c)
	if err != nil {
		r.refuse(l, from, err.Error())
		return
	}
	log := r.d.Log.With("receiver", "syslog", "tenant", string(t), "remote", from.String())
	log.Debug("syslog connection")
	r.read(ctx, log, t, sc)
}

// batch is what a connection has read and not yet written.
type batch struct {
	recs  []event.Raw
	dead  []ingest.DeadLetter
	arena []byte
	first time.Time
}

func (b *batch) empty() bool { return len(b.recs) == 0 && len(b.dead) == 0 }

// read frames c's stream into batches, each written durably before more
// is read: a slow sink stops the reads, and TCP pushes back on the sender.
func (r *Receiver) read(ctx context.Context, log *slog.Logger, t tenant.ID, c net.Conn) {
	fr := framer{max: r.cfg.MaxMessageBytes}
	buf := make([]byte, bufSize(r.cfg.MaxMessageBytes))
	start, end := 0, 0
	var b batch
	done, atEOF := false, false
	for {
		for {
			n, f, ok := fr.next(buf[start:end], atEOF)
			start += n
			if !ok {
				break
			}
			if f.bad != "" {
				r.addDead(&b, f)
				if f.fatal {
					log.Warn("syslog connection closed on a malformed frame", "framing", fr.mode.String(), "reason", f.bad)
					r.flush(ctx, log, t, &b)
					return
				}
				continue
			}
			r.add(&b, f.msg)
			if len(b.recs) >= r.cfg.BatchRecords {
				if !r.flush(ctx, log, t, &b) {
					return
				}
			}
		}
		if done {
			if start < end {
				log.Warn("syslog connection closed inside a frame", "bytes", end-start)
			}
			r.flush(ctx, log, t, &b)
			return
		}
		if start > 0 {
			end = copy(buf, buf[start:end])
			start = 0
		}
		if end == len(buf) {
			log.Error("BUG: syslog framer made no progress on a full buffer", "framing", fr.mode.String())
			r.flush(ctx, log, t, &b)
			return
		}
		deadline := time.Time{}
		if !b.empty() {
			deadline = b.first.Add(r.cfg.BatchWait)
			if !r.now().Before(deadline) {
				if !r.flush(ctx, log, t, &b) {
					return
				}
				deadline = time.Time{}
			}
		}
		if err := c.SetReadDeadline(deadline); err != nil {
			done = true
			continue
		}
		k, err := c.Read(buf[end:])
		end += k
		if err != nil {
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil:
				if !r.flush(ctx, log, t, &b) {
					return
				}
			case errors.Is(err, io.EOF):
				done, atEOF = true, true
			default: // closed at shutdown, reset: keep the whole frames read
				if ctx.Err() == nil {
					log.Debug("syslog connection read", "err", err)
				}
				done = true
			}
		}
	}
}

// add copies msg into the batch.
func (r *Receiver) add(b *batch, msg []byte) {
	if b.empty() {
		b.first = r.now()
	}
	if b.arena == nil {
		b.arena = make([]byte, 0, 64<<10)
	}
	if cap(b.arena)-len(b.arena) < len(msg) {
		// Records keep pointing into the old arena; start a new one.
		b.arena = make([]byte, 0, max(64<<10, len(msg)))
	}
	off := len(b.arena)
	b.arena = append(b.arena, msg...)
	b.recs = append(b.recs, event.Raw{Received: r.now().UTC(), Source: Source, Data: b.arena[off:len(b.arena):len(b.arena)]})
}

func (r *Receiver) addDead(b *batch, f frame) {
	if b.empty() {
		b.first = r.now()
	}
	b.dead = append(b.dead, ingest.DeadLetter{Received: r.now().UTC(), Source: Source, Reason: f.bad, Data: append([]byte(nil), f.msg...)})
}

// flush writes the batch durably, retrying with backoff while the sink
// pushes back (the connection reads nothing meanwhile). Once ctx is done
// it keeps trying for drainTimeout; it returns false if the records could
// not be written, and then the connection must stop.
func (r *Receiver) flush(ctx context.Context, log *slog.Logger, t tenant.ID, b *batch) bool {
	defer func() {
		// The sink may keep the records: never reuse their memory.
		b.recs, b.dead, b.arena = nil, nil, nil
	}()
	ok := true
	if len(b.recs) > 0 {
		if err := r.write(ctx, log, t, b.recs); err != nil {
			log.Error("syslog records not written", "records", len(b.recs), "err", err)
			r.d.Metrics.Count(MetricDropped, t, len(b.recs))
			ok = false
		} else {
			r.d.Metrics.Count(MetricEvents, t, len(b.recs))
		}
	}
	if len(b.dead) > 0 {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
		err := r.d.DeadLetters.AddDeadLetters(wctx, t, b.dead)
		cancel()
		if err != nil {
			log.Error("syslog dead letters not stored", "records", len(b.dead), "err", err)
		}
		r.d.Metrics.Count(MetricRejected, t, len(b.dead))
	}
	return ok
}

// write calls the sink until it accepts recs.
func (r *Receiver) write(ctx context.Context, log *slog.Logger, t tenant.ID, recs []event.Raw) error {
	wctx := context.WithoutCancel(ctx)
	delay := 10 * time.Millisecond
	var giveUp time.Time
	for attempt := 1; ; attempt++ {
		err := r.d.Sink.Write(wctx, t, recs)
		if err == nil {
			if attempt > 1 {
				log.Info("syslog sink accepting again", "attempts", attempt)
			}
			return nil
		}
		if attempt == 1 {
			log.Warn("syslog sink pushing back; retrying", "records", len(recs), "err", err)
		}
		if ctx.Err() != nil {
			if giveUp.IsZero() {
				giveUp = time.Now().Add(drainTimeout)
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
		delay = min(2*delay, maxBackoff)
	}
}

// trimTrailer drops one trailing LF (and a CR before it) from a datagram.
func trimTrailer(p []byte) []byte {
	if l := len(p); l > 0 && p[l-1] == '\n' {
		p = p[:l-1]
		if l := len(p); l > 0 && p[l-1] == '\r' {
			p = p[:l-1]
		}
	}
	return p
}

// serveUDP reads datagrams, one message each, batched per tenant. Under
// back-pressure datagrams are dropped and counted: UDP has no way to slow
// the sender.
func (r *Receiver) serveUDP(ctx context.Context, l *socket, pc *net.UDPConn) {
	log := r.d.Log.With("receiver", "syslog", "protocol", "udp", "listen", l.Address())
	buf := make([]byte, 64<<10)
	batches := map[tenant.ID]*batch{}
	flushAll := func(force bool) {
		now := r.now()
		for t, b := range batches {
			if b.empty() || (!force && now.Before(b.first.Add(r.cfg.BatchWait))) {
				continue
			}
			r.flushUDP(ctx, log, t, b)
		}
	}
	for {
		deadline := time.Time{}
		for _, b := range batches {
			if !b.empty() && (deadline.IsZero() || b.first.Before(deadline)) {
				deadline = b.first
			}
		}
		if !deadline.IsZero() {
			deadline = deadline.Add(r.cfg.BatchWait)
		}
		if err := pc.SetReadDeadline(deadline); err != nil {
			flushAll(true)
			return
		}
		n, ap, err := pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil {
				flushAll(false)
				continue
			}
			flushAll(true)
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				log.Error("syslog udp read", "err", err)
			}
			return
		}
		from := ap.Addr().Unmap()
		t := tenant.ID(l.Tenant)
		if l.HasSources() {
			var ok bool
			if t, ok = l.SourceTenant(from); !ok {
				r.d.Metrics.Count(MetricRefused, "", 1)
				log.Debug("syslog datagram refused", "remote", from.String(), "reason", "source address not allow-listed")
				continue
			}
		}
		msg := trimTrailer(buf[:n])
		if len(msg) == 0 {
			continue
		}
		b := batches[t]
		if b == nil {
			b = &batch{}
			batches[t] = b
		}
		if len(msg) > r.cfg.MaxMessageBytes {
			r.addDead(b, frame{msg: msg[:r.cfg.MaxMessageBytes], bad: fmt.Sprintf("datagram of %d bytes is over the %d-byte limit (first %d bytes kept)", len(msg), r.cfg.MaxMessageBytes, r.cfg.MaxMessageBytes)})
		} else {
			r.add(b, msg)
		}
		if len(b.recs) >= r.cfg.BatchRecords {
			r.flushUDP(ctx, log, t, b)
		}
		flushAll(false)
	}
}

// flushUDP writes one tenant's datagrams once; on failure they are
// dropped and counted.
func (r *Receiver) flushUDP(ctx context.Context, log *slog.Logger, t tenant.ID, b *batch) {
	defer func() { b.recs, b.dead, b.arena = nil, nil, nil }()
	if len(b.recs) > 0 {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
		err := r.d.Sink.Write(wctx, t, b.recs)
		cancel()
		if err != nil {
			r.d.Metrics.Count(MetricDropped, t, len(b.recs))
			log.Warn("syslog datagrams dropped under back-pressure", "tenant", string(t), "records", len(b.recs), "err", err)
		} else {
			r.d.Metrics.Count(MetricEvents, t, len(b.recs))
		}
	}
	if len(b.dead) > 0 {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
		if err := r.d.DeadLetters.AddDeadLetters(wctx, t, b.dead); err != nil {
			log.Error("syslog dead letters not stored", "tenant", string(t), "records", len(b.dead), "err", err)
		}
		cancel()
		r.d.Metrics.Count(MetricRejected, t, len(b.dead))
	}
}
