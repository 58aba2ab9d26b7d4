package syslog

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

// Source is the event.Raw source of every record this receiver accepts;
// the parse stage reads it with envelope.Syslog.
const Source = string(event.KindSyslog)

// Metric names (counters by tenant; refused senders have no tenant).
const (
	MetricEvents   = "tarian_syslog_events_total"
	MetricRejected = "tarian_syslog_rejected_total"
	MetricRefused  = "tarian_syslog_refused_total"
	MetricDropped  = "tarian_syslog_dropped_total"
)

// udpReadBuffer is the socket buffer asked for UDP listeners.
const udpReadBuffer = 8 << 20

// Receiver serves the configured syslog listeners; Run, Reload,
// Addrs and Tenants are its listener.Runner's.
type Receiver struct {
	*listener.Runner[Config, Listener]
	d   ingest.Deps
	now func() time.Time
}

var _ ingest.Reloader[Config] = (*Receiver)(nil)

// New checks cfg and loads the TLS files; Run listens. d needs Tenants
// (a listener's tenants are checked per connection and datagram).
func New(cfg Config, d ingest.Deps) (*Receiver, error) {
	r := &Receiver{d: d, now: time.Now}
	run, err := listener.NewRunner("syslog", MetricRefused, cfg, &r.d, listener.Handlers[Listener]{Conn: r.serveConn, Packets: r.serveUDP})
	if err != nil {
		return nil, err
	}
	r.Runner = run
	return r, nil
}

// serveConn reads one authenticated TCP or TLS connection until it ends
// or ctx is done.
func (r *Receiver) serveConn(ctx context.Context, _ *listener.Socket[Listener], c net.Conn, t tenant.ID, from netip.Addr) {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	log := r.d.Log.With("receiver", "syslog", "tenant", string(t), "remote", from.String())
	log.Debug("syslog connection")
	r.read(ctx, r.Config(), log, t, c)
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
func (r *Receiver) read(ctx context.Context, cfg *Config, log *slog.Logger, t tenant.ID, c net.Conn) {
	fr := framer{max: cfg.MaxMessageBytes}
	buf := make([]byte, bufSize(cfg.MaxMessageBytes))
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
			if len(b.recs) >= cfg.BatchRecords {
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
			deadline = b.first.Add(cfg.BatchWait)
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
// it keeps trying for ingest.DrainTimeout; it returns false if the records could
// not be written, and then the connection must stop.
func (r *Receiver) flush(ctx context.Context, log *slog.Logger, t tenant.ID, b *batch) bool {
	defer func() {
		// The sink may keep the records: never reuse their memory.
		b.recs, b.dead, b.arena = nil, nil, nil
	}()
	ok := true
	if len(b.recs) > 0 {
		if err := ingest.WriteRetrying(ctx, r.d.Sink, t, b.recs, log, "syslog"); err != nil {
			log.Error("syslog records not written", "records", len(b.recs), "err", err)
			r.d.Metrics.Count(MetricDropped, t, len(b.recs))
			ok = false
		} else {
			r.d.Metrics.Count(MetricEvents, t, len(b.recs))
		}
	}
	if len(b.dead) > 0 {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ingest.DrainTimeout)
		err := r.d.DeadLetters.AddDeadLetters(wctx, t, b.dead)
		cancel()
		if err != nil {
			log.Error("syslog dead letters not stored", "records", len(b.dead), "err", err)
		}
		r.d.Metrics.Count(MetricRejected, t, len(b.dead))
	}
	return ok
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
func (r *Receiver) serveUDP(ctx context.Context, l *listener.Socket[Listener], pc *net.UDPConn) {
	// A larger socket buffer rides out a slow durable write; the kernel
	// may cap it (net.core.rmem_max), which is fine.
	_ = pc.SetReadBuffer(udpReadBuffer)
	log := r.d.Log.With("receiver", "syslog", "protocol", "udp", "listen", l.Address())
	buf := make([]byte, 64<<10)
	batches := map[tenant.ID]*batch{}
	flushAll := func(force bool) {
		now := r.now()
		for t, b := range batches {
			if b.empty() || (!force && now.Before(b.first.Add(r.Config().BatchWait))) {
				continue
			}
			r.flushUDP(ctx, log, t, b)
		}
	}
	for {
		// Settings reloaded apply from the next datagram.
		cfg := r.Config()
		deadline := time.Time{}
		for _, b := range batches {
			if !b.empty() && (deadline.IsZero() || b.first.Before(deadline)) {
				deadline = b.first
			}
		}
		if !deadline.IsZero() {
			deadline = deadline.Add(cfg.BatchWait)
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
		if !r.Group().Admit(ctx, l, t, from) {
			continue
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
		if max := cfg.MaxMessageBytes; len(msg) > max {
			r.addDead(b, frame{msg: msg[:max], bad: fmt.Sprintf("datagram of %d bytes is over the %d-byte limit (first %d bytes kept)", len(msg), max, max)})
		} else {
			r.add(b, msg)
		}
		if len(b.recs) >= cfg.BatchRecords {
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
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ingest.DrainTimeout)
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
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ingest.DrainTimeout)
		if err := r.d.DeadLetters.AddDeadLetters(wctx, t, b.dead); err != nil {
			log.Error("syslog dead letters not stored", "tenant", string(t), "records", len(b.dead), "err", err)
		}
		cancel()
		r.d.Metrics.Count(MetricRejected, t, len(b.dead))
	}
}
