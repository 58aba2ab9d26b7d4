package forward

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/ingest/listener"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Source is the event.Raw source of every record this receiver accepts:
// each record is one JSON object, parsed by the default JSON parser.
const Source = string(event.KindForward)

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

// Timeouts of the connection life cycle.
const (
	handshakeTimeout = 10 * time.Second
	// ackTimeout bounds writing an acknowledgement to a sender.
	ackTimeout = 10 * time.Second
	// readBuffer is a connection's first read buffer; it grows for larger
	// messages, up to MaxMessageBytes.
	readBuffer = 64 << 10
	// maxHandshakeBytes bounds a PING.
	maxHandshakeBytes = 16 << 10
)

// Receiver serves the configured Forward listeners; Run, Reload,
// Addrs and Tenants are its listener.Runner's.
type Receiver struct {
	*listener.Runner[Config, Listener]
	d   ingest.Deps
	now func() time.Time
}

var _ ingest.Reloader[Config] = (*Receiver)(nil)

// socket is a configured listener ready to serve.
type socket = listener.Socket[Listener]

// New checks cfg and loads the TLS files; Run listens. d needs Tenants
// (a listener's tenants are checked per connection).
func New(cfg Config, d ingest.Deps) (*Receiver, error) {
	r := &Receiver{d: d, now: time.Now}
	run, err := listener.NewRunner("forward", MetricRefused, cfg, &r.d, listener.Handlers[Listener]{Conn: r.serveConn})
	if err != nil {
		return nil, err
	}
	r.Runner = run
	return r, nil
}

// serveConn reads one authenticated connection until it ends or ctx is
// done, after the shared-key handshake when the listener has one.
func (r *Receiver) serveConn(ctx context.Context, l *socket, c net.Conn, t tenant.ID, from netip.Addr) {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	cfg := r.Config()
	st := &stream{c: c, buf: make([]byte, readBuffer)}
	if l.Spec.SharedKey != "" {
		if err := r.handshake(l, st); err != nil {
			r.Group().Refuse(l, from, "forward handshake: "+err.Error())
			return
		}
	}
	log := r.d.Log.With("receiver", "forward", "tenant", string(t), "remote", from.String())
	log.Debug("forward connection")
	st.sc.max = cfg.MaxMessageBytes
	st.sc.reset()
	r.read(ctx, cfg, log, t, st)
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
func (r *Receiver) read(ctx context.Context, cfg *Config, log *slog.Logger, t tenant.ID, st *stream) {
	dec := newDecoder(*cfg)
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
			if len(b.recs)+len(b.dead) >= cfg.BatchRecords {
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
			deadline = b.first.Add(cfg.BatchWait)
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
// keeps trying for ingest.DrainTimeout; it returns false if anything could not
// be made durable or acknowledged, and then the connection must stop.
func (r *Receiver) flush(ctx context.Context, log *slog.Logger, t tenant.ID, b *batch, c net.Conn) bool {
	defer func() {
		// The sink may keep the records: never reuse their memory.
		b.recs, b.dead, b.arena, b.acks, b.chunks = nil, nil, nil, nil, nil
	}()
	for _, w := range b.writes() {
		wctx := ctx
		if w.id != "" {
			wctx = ingest.WithWriteKey(ctx, chunkKey+w.id)
		}
		recs := b.recs[w.start:w.end]
		if err := ingest.WriteRetrying(wctx, r.d.Sink, t, recs, log, "forward"); err != nil {
			log.Error("forward records not written; not acknowledged", "records", len(b.recs)-w.start, "err", err)
			r.d.Metrics.Count(MetricDropped, t, len(b.recs)-w.start)
			return false
		}
		r.d.Metrics.Count(MetricEvents, t, len(recs))
	}
	if len(b.dead) > 0 {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ingest.DrainTimeout)
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

// chunkKey prefixes a chunk id to make the write key of its records,
// apart from the HTTP API's Idempotency-Keys.
const chunkKey = "forward:"

// writes splits the batch's records into the writes that store them, in
// order: each chunk's records under its id, the records between chunks
// (from messages without one) as they are.
func (b *batch) writes() []chunkRun {
	var out []chunkRun
	at := 0
	for _, c := range b.chunks {
		if c.start > at {
			out = append(out, chunkRun{start: at, end: c.start})
		}
		out = append(out, c)
		at = c.end
	}
	if len(b.recs) > at {
		out = append(out, chunkRun{start: at, end: len(b.recs)})
	}
	return out
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
