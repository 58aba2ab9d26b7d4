package forward

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

// Source is the event.Raw source of every record this receiver accepts:
// each record is one JSON object, parsed by the default JSON parser.
const Source = "forward"

// Metric names (counters by tenant; refused senders have no tenant).
const (
	MetricEvents   = "tarian_forward_events_total"
	MetricRejected = "tarian_forward_rejected_total"
	// MetricMalformed counts connections closed on input that is not the
	// Forward protocol (the reason is in the dead letter and the log).
	MetricMalformed = "tarian_forward_malformed_total"
	MetricRefused   = "tarian_forward_refused_total"
	// MetricDropped counts records read but never written (the sink kept
	// refusing at shutdown); they were not acknowledged.
	MetricDropped = "tarian_forward_dropped_total"
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
	handshakeTimeout = 10 * time.Second
	// drainTimeout bounds the last durable write of what a connection had
	// read when the receiver stops.
	drainTimeout = 10 * time.Second
	// ackTimeout bounds writing an acknowledgement to a sender.
	ackTimeout = 10 * time.Second
	maxBackoff = time.Second
	// readBuffer is a connection's first read buffer; it grows for larger
	// messages, up to MaxMessageBytes.
	readBuffer = 64 << 10
	// maxHandshakeBytes bounds a PING.
	maxHandshakeBytes = 16 << 10
)

// Receiver serves the configured Forward listeners.
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
	fwd   Listener
}

// New checks cfg and loads the TLS files; Run listens.
func New(cfg Config, d Deps) (*Receiver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("forward: %w", err)
	}
	if d.Sink == nil || d.DeadLetters == nil || d.Tenants == nil || d.Metrics == nil {
		return nil, errors.New("forward: BUG: Deps.Sink, DeadLetters, Tenants and Metrics are required")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	r := &Receiver{cfg: cfg, d: d, now: time.Now, ready: make(chan struct{})}
	for i, l := range cfg.Listeners {
		ln, err := listener.New(l.Config)
		if err != nil {
			return nil, fmt.Errorf("forward: listeners[%d].%w", i, err)
		}
		r.lns = append(r.lns, &socket{Listener: ln, index: i, fwd: l})
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
// serves until ctx is done (with no listener, it just waits for ctx). On
// the way out it stops reading, writes what each connection had read, and
// returns once every connection is done. Errors at start (an unknown
// tenant, an address in use) are returned at once.
func (r *Receiver) Run(ctx context.Context) error {
	var readyOnce sync.Once
	defer readyOnce.Do(func() { close(r.ready) })
	for _, l := range r.lns {
		if err := l.CheckTenants(ctx, r.d.Tenants.Tenant); err != nil {
			return fmt.Errorf("forward: listeners[%d]: %w", l.index, err)
		}
	}
	var lns []net.Listener
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	var lc net.ListenConfig
	var addrs []net.Addr
	for _, l := range r.lns {
		ln, err := lc.Listen(ctx, "tcp", l.Address())
		if err != nil {
			closeAll()
			return fmt.Errorf("forward: listeners[%d]: %w", l.index, err)
		}
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr())
	}
	r.mu.Lock()
	r.addrs = addrs
	r.mu.Unlock()
	readyOnce.Do(func() { close(r.ready) })
	stop := context.AfterFunc(ctx, closeAll)
	defer stop()
	var wg sync.WaitGroup
	for i, ln := range lns {
		l := r.lns[i]
		wg.Go(func() {
			listener.Accept(ctx, ln, &wg, r.d.Log, "forward", func(c net.Conn) { r.serveConn(ctx, l, c) })
		})
		r.d.Log.Info("forward listening", "receiver", "forward", "protocol", l.Protocol, "addr", addrs[i].String())
	}
	<-ctx.Done()
	wg.Wait()
	return nil
}

// refuse counts a sender that matches no tenant or fails the handshake.
func (r *Receiver) refuse(l *socket, from netip.Addr, reason string) {
	r.d.Metrics.Count(MetricRefused, "", 1)
	r.d.Log.Warn("forward sender refused", "receiver", "forward", "protocol", l.Protocol, "listen", l.Address(), "remote", from.String(), "reason", reason)
}

// serveConn authenticates one connection and reads it until it ends or
// ctx is done.
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
	st := &stream{c: sc, buf: make([]byte, readBuffer)}
	if l.fwd.SharedKey != "" {
		if err := r.handshake(l, st); err != nil {
			r.refuse(l, from, "forward handshake: "+err.Error())
			return
		}
	}
	log := r.d.Log.With("receiver", "forward", "tenant", string(t), "remote", from.String())
	log.Debug("forward connection")
	st.sc.max = r.cfg.MaxMessageBytes
	st.sc.reset()
	r.read(ctx, log, t, st)
}

// stream is a connection's read buffer, framed into MessagePack objects.
type stream struct {
	c          net.Conn
	buf        []byte
	start, end int
	sc         scanner
}

// message returns the next whole object in the buffer; none (and no
// error) when more bytes are needed.
func (s *stream) message() ([]byte, error) {
	if s.start == s.end {
		return nil, nil
	}
	n, err := s.sc.scan(s.buf[s.start:s.end])
	if err != nil || n == 0 {
		return nil, err
	}
	msg := s.buf[s.start : s.start+n]
	s.start += n
	s.sc.reset()
	return msg, nil
}

// pending is how many bytes of an unfinished object are buffered.
func (s *stream) pending() int { return s.end - s.start }

// fill reads more bytes, until deadline (none when zero). It makes room
// first: the unfinished object moves to the front, and the buffer grows to
// the size the object is known to reach.
func (s *stream) fill(deadline time.Time) error {
	if s.start == s.end && cap(s.buf) > 1<<20 {
		s.buf = make([]byte, readBuffer) // do not keep a large buffer idle
		s.start, s.end = 0, 0
	}
	if s.start > 0 {
		s.end = copy(s.buf, s.buf[s.start:s.end])
		s.start = 0
	}
	if s.end == len(s.buf) || s.sc.need > len(s.buf) {
		size := max(2*len(s.buf), s.sc.need)
		size = min(size, s.sc.max)
		if size <= s.end {
			return fmt.Errorf("BUG: forward read buffer full at %d bytes", s.end)
		}
		nb := make([]byte, size)
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	if err := s.c.SetReadDeadline(deadline); err != nil {
		return err
	}
	n, err := s.c.Read(s.buf[s.end:])
	s.end += n
	return err
}

// read decodes the connection's messages into batches, each written
// durably before more is read and before its acknowledgements are sent: a
// slow sink stops the reads, and TCP pushes back on the sender.
func (r *Receiver) read(ctx context.Context, log *slog.Logger, t tenant.ID, st *stream) {
	dec := newDecoder(r.cfg)
	var b batch
	// fatal dead-letters what is left of the stream, writes what was read
	// before it and ends the connection.
	fatal := func(data []byte, reason string) {
		r.d.Metrics.Count(MetricMalformed, t, 1)
		log.Warn("forward connection closed on malformed input", "reason", reason)
		dec.now = r.now().UTC()
		dec.dead(&b, data, reason)
		r.flush(ctx, log, t, &b, st.c)
	}
	for {
		for {
			msg, err := st.message()
			if err != nil {
				fatal(st.buf[st.start:st.end], "MessagePack stream: "+err.Error())
				return
			}
			if msg == nil {
				break
			}
			if _, err := dec.decode(&b, msg, r.now().UTC()); err != nil {
				fatal(msg, err.Error())
				return
			}
			if len(b.recs)+len(b.dead) >= r.cfg.BatchRecords {
				if !r.flush(ctx, log, t, &b, st.c) {
					return
				}
			}
		}
		// Every whole message is decoded: a sender waiting for an
		// acknowledgement sends nothing more until it has it.
		if len(b.acks) > 0 {
			if !r.flush(ctx, log, t, &b, st.c) {
				return
			}
		}
		deadline := time.Time{}
		if !b.empty() {
			deadline = b.first.Add(r.cfg.BatchWait)
			if !r.now().Before(deadline) {
				if !r.flush(ctx, log, t, &b, st.c) {
					return
				}
				deadline = time.Time{}
			}
		}
		err := st.fill(deadline)
		if err == nil {
			continue
		}
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil:
			if !r.flush(ctx, log, t, &b, st.c) {
				return
			}
			continue
		case errors.Is(err, io.EOF):
			if st.pending() > 0 {
				fatal(st.buf[st.start:st.end], fmt.Sprintf("connection closed inside a message (%d bytes)", st.pending()))
				return
			}
		default: // closed at shutdown, reset: keep the whole messages read
			if ctx.Err() == nil {
				log.Debug("forward connection read", "err", err)
			}
		}
		// Drain the whole messages that came with the last read.
		for {
			msg, err := st.message()
			if err != nil || msg == nil {
				break
			}
			if _, err := dec.decode(&b, msg, r.now().UTC()); err != nil {
				fatal(msg, err.Error())
				return
			}
		}
		r.flush(ctx, log, t, &b, st.c)
		return
	}
}

// flush writes the batch durably, retrying with backoff while the sink
// pushes back (the connection reads nothing meanwhile), stores its dead
// letters, and only then acknowledges its chunks. Once ctx is done it
// keeps trying for drainTimeout; it returns false if anything could not
// be made durable or acknowledged, and then the connection must stop.
func (r *Receiver) flush(ctx context.Context, log *slog.Logger, t tenant.ID, b *batch, c net.Conn) bool {
	defer func() {
		// The sink may keep the records: never reuse their memory.
		b.recs, b.dead, b.arena, b.acks = nil, nil, nil, nil
	}()
	if len(b.recs) > 0 {
		if err := r.write(ctx, log, t, b.recs); err != nil {
			log.Error("forward records not written; not acknowledged", "records", len(b.recs), "err", err)
			r.d.Metrics.Count(MetricDropped, t, len(b.recs))
			return false
		}
		r.d.Metrics.Count(MetricEvents, t, len(b.recs))
	}
	if len(b.dead) > 0 {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
		err := r.d.DeadLetters.AddDeadLetters(wctx, t, b.dead)
		cancel()
		if err != nil {
			log.Error("forward dead letters not stored; not acknowledged", "records", len(b.dead), "err", err)
			return false
		}
		r.d.Metrics.Count(MetricRejected, t, len(b.dead))
	}
	if len(b.acks) > 0 {
		var out []byte
		for _, a := range b.acks {
			out = appendAck(out, a)
		}
		if err := c.SetWriteDeadline(time.Now().Add(ackTimeout)); err != nil {
			return false
		}
		if _, err := c.Write(out); err != nil {
			log.Debug("forward acknowledgement not sent", "err", err)
			return false
		}
	}
	return true
}

// appendAck appends {"ack": chunk}.
func appendAck(dst, chunk []byte) []byte {
	dst = append(dst, 0x81, 0xa3, 'a', 'c', 'k')
	return appendStr(dst, chunk)
}

// appendStr appends s as a MessagePack string.
func appendStr(dst, s []byte) []byte {
	switch n := len(s); {
	case n < 32:
		dst = append(dst, 0xa0|byte(n))
	case n < 256:
		dst = append(dst, 0xd9, byte(n))
	case n < 1<<16:
		dst = append(dst, 0xda, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, s...)
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
				log.Info("forward sink accepting again", "attempts", attempt)
			}
			return nil
		}
		if attempt == 1 {
			log.Warn("forward sink pushing back; retrying", "records", len(recs), "err", err)
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
