package lumberjack

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// ackWriter is where a session writes its ACKs: the connection.
type ackWriter interface {
	io.Writer
	SetWriteDeadline(time.Time) error
}

// session is the protocol on one authenticated connection: read a window,
// write its events durably, acknowledge, read the next.
type session struct {
	r    *Receiver
	cfg  *Config
	t    tenant.ID
	log  *slog.Logger
	dec  *decoder
	wait func(idle bool)
	ack  acker
}

func (r *Receiver) newSession(cfg *Config, t tenant.ID, log *slog.Logger, cr *connReader, w ackWriter) *session {
	s := &session{r: r, cfg: cfg, t: t, log: log, dec: newDecoder(cr, cfg.MaxEventBytes), wait: cr.waiting}
	s.ack = acker{w: w, timeout: cfg.Timeout, keepalive: cfg.Keepalive}
	return s
}

func (s *session) close() { s.ack.release() }

// batch is what a session has read of a window and not yet written.
type batch struct {
	recs   []event.Raw
	dead   []ingest.DeadLetter
	bytes  int
	frames int    // data frames read, dead-lettered ones included
	seq    uint32 // sequence number of the last of them
}

// run serves windows until the stream ends, fails, or turns out
// malformed.
func (s *session) run(ctx context.Context) {
	for {
		s.wait(true)
		n, err := s.dec.window()
		s.wait(false)
		if err != nil {
			s.ended(ctx, err, 0, 0)
			return
		}
		if n == 0 {
			continue
		}
		if !s.window(ctx, n) {
			return
		}
	}
}

// window reads a window of n data frames, writes them and acknowledges
// them; a window over chunkBytes is written and acknowledged in parts. It
// returns false when the connection must end.
func (s *session) window(ctx context.Context, n uint32) bool {
	received := s.r.now().UTC()
	b := batch{recs: make([]event.Raw, 0, min(n, 2048))}
	for i := uint32(0); i < n; i++ {
		f, err := s.dec.next()
		if err != nil {
			var fe *FrameError
			if !errors.As(err, &fe) {
				s.ended(ctx, err, n, b.frames)
				return false
			}
			// What the window held before the malformed frame is written
			// and acknowledged, so the shipper resends only the rest; the
			// frame itself, as far as it could be read, is dead-lettered.
			s.r.d.Metrics.Count(MetricMalformed, s.t, 1)
			s.log.Warn("lumberjack connection closed on a malformed frame", "reason", fe.Reason, "window", n, "frames_read", i)
			b.dead = append(b.dead, ingest.DeadLetter{Received: received, Source: Source, Reason: fe.Error(), Data: fe.Data})
			s.commit(ctx, &b)
			return false
		}
		b.frames++
		b.seq = f.seq
		if f.bad != "" {
			b.dead = append(b.dead, ingest.DeadLetter{Received: received, Source: Source, Reason: f.bad, Data: f.data})
		} else {
			b.recs = append(b.recs, event.Raw{Received: received, Source: Source, Data: f.data})
		}
		b.bytes += len(f.data)
		if b.bytes >= chunkBytes && i+1 < n {
			if !s.commit(ctx, &b) {
				return false
			}
		}
	}
	return s.commit(ctx, &b)
}

// ended reports a stream that ended or failed outside a whole frame: what
// was read of an unfinished window is neither written nor acknowledged,
// so the shipper sends it again.
func (s *session) ended(ctx context.Context, err error, window uint32, read int) {
	if read > 0 {
		s.r.d.Metrics.Count(MetricUnacknowledged, s.t, read)
	}
	var fe *FrameError
	switch {
	case errors.As(err, &fe):
		s.r.d.Metrics.Count(MetricMalformed, s.t, 1)
		s.log.Warn("lumberjack connection closed on a malformed frame", "reason", fe.Reason)
		s.storeDead(ctx, []ingest.DeadLetter{{Received: s.r.now().UTC(), Source: Source, Reason: fe.Error(), Data: fe.Data}})
	case errors.Is(err, io.EOF) && window == 0:
		s.log.Debug("lumberjack connection closed by the shipper")
	case ctx.Err() != nil:
		s.log.Debug("lumberjack connection closed at shutdown", "window", window, "frames_unacknowledged", read)
	case window > 0:
		s.log.Warn("lumberjack connection ended inside a window; the shipper resends it", "window", window, "frames_unacknowledged", read, "err", err)
	default:
		s.log.Info("lumberjack connection ended", "err", err)
	}
}

// commit writes the batch durably, dead letters first, then the records,
// and acknowledges its last frame. Meanwhile the connection reads nothing
// and the shipper gets keepalives. It returns false when the connection
// must end: then nothing of the batch was acknowledged.
func (s *session) commit(ctx context.Context, b *batch) bool {
	defer func() {
		*b = batch{recs: b.recs[len(b.recs):]}
		s.dec.release()
	}()
	if b.frames == 0 && len(b.dead) == 0 {
		return true
	}
	s.ack.hold()
	ok := s.store(ctx, b)
	s.ack.release()
	if !ok {
		s.r.d.Metrics.Count(MetricUnacknowledged, s.t, b.frames)
		return false
	}
	if b.frames == 0 {
		return true
	}
	if err := s.ack.send(b.seq); err != nil {
		s.log.Warn("lumberjack ACK not sent; the shipper resends the window", "seq", b.seq, "err", err)
		return false
	}
	return true
}

// store writes the batch's dead letters and records.
func (s *session) store(ctx context.Context, b *batch) bool {
	if len(b.dead) > 0 && !s.storeDead(ctx, b.dead) {
		return false
	}
	if len(b.recs) == 0 {
		return true
	}
	if err := s.write(ctx, b.recs); err != nil {
		s.log.Error("lumberjack events not written; the window is not acknowledged", "events", len(b.recs), "err", err)
		return false
	}
	s.r.d.Metrics.Count(MetricEvents, s.t, len(b.recs))
	return true
}

func (s *session) storeDead(ctx context.Context, dls []ingest.DeadLetter) bool {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
	err := s.r.d.DeadLetters.AddDeadLetters(wctx, s.t, dls)
	cancel()
	if err != nil {
		s.log.Error("lumberjack dead letters not stored; the window is not acknowledged", "dead_letters", len(dls), "err", err)
		return false
	}
	s.r.d.Metrics.Count(MetricRejected, s.t, len(dls))
	return true
}

// retryAfterer is a sink error that knows when to come back (a tenant over
// its rate limit).
type retryAfterer interface{ RetryAfter() time.Duration }

// write calls the sink until it takes recs. Back-pressure is waited out
// with backoff (the shipper is kept waiting by keepalives); any other
// error, or shutdown, ends the connection unacknowledged.
func (s *session) write(ctx context.Context, recs []event.Raw) error {
	wctx := context.WithoutCancel(ctx)
	delay := minBackoff
	for attempt := 1; ; attempt++ {
		err := s.r.d.Sink.Write(wctx, s.t, recs)
		if err == nil {
			if attempt > 1 {
				s.log.Info("lumberjack sink accepting again", "attempts", attempt)
			}
			return nil
		}
		if !errors.Is(err, ingest.ErrBackpressure) {
			return err
		}
		wait := delay
		var ra retryAfterer
		if errors.As(err, &ra) && ra.RetryAfter() > wait {
			wait = min(ra.RetryAfter(), maxRetryAfter)
		}
		if attempt == 1 {
			s.r.d.Metrics.Count(MetricBackpressure, s.t, 1)
			s.log.Warn("lumberjack sink pushing back; the window waits", "events", len(recs), "err", err)
		}
		tm := time.NewTimer(wait)
		select {
		case <-tm.C:
		case <-ctx.Done():
			tm.Stop()
			return fmt.Errorf("stopped while the sink pushed back: %w", err)
		}
		delay = min(2*delay, maxBackoff)
	}
}

// acker writes ACK frames: the final one of each write, and while a write
// waits, an empty ACK (sequence 0) every keepalive, which tells the
// shipper its window is still in hand and resets its read timeout (what
// Logstash and go-lumber's own server do).
type acker struct {
	w         ackWriter
	timeout   time.Duration
	keepalive time.Duration

	mu     sync.Mutex
	timer  *time.Timer
	busy   bool
	failed error
}

// hold starts the keepalives.
func (a *acker) hold() {
	if a.keepalive <= 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.busy = true
	if a.timer == nil {
		a.timer = time.AfterFunc(a.keepalive, a.tick)
	} else {
		a.timer.Reset(a.keepalive)
	}
}

// release stops the keepalives.
func (a *acker) release() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.busy = false
	if a.timer != nil {
		a.timer.Stop()
	}
}

func (a *acker) tick() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.busy {
		return
	}
	if a.write(0) == nil {
		a.timer.Reset(a.keepalive)
	}
}

// send acknowledges every data frame up to seq.
func (a *acker) send(seq uint32) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.write(seq)
}

func (a *acker) write(seq uint32) error {
	if a.failed != nil {
		return a.failed
	}
	b := [6]byte{codeVersion, codeACK}
	binary.BigEndian.PutUint32(b[2:], seq)
	if err := a.w.SetWriteDeadline(time.Now().Add(a.timeout)); err != nil {
		a.failed = err
		return err
	}
	if _, err := a.w.Write(b[:]); err != nil {
		a.failed = err
		return err
	}
	return nil
}
