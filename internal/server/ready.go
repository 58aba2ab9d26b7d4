package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/nats-io/nats.go"

	"github.com/tarian-soc/tarian/internal/web"
)

// Readiness (GET /readyz): a node is ready while it can do its work, so a
// load balancer in front of several nodes takes it out when its state
// store, event store or bus does not answer it. Each engine has a cheap
// probe:
//
//   - state: one query (sqlstore.DB.Ping): a round trip to PostgreSQL, a
//     read of the SQLite file;
//   - events: GET /health of the VictoriaLogs server and of each storage
//     node it names (events.url); the embedded store lives and dies with
//     the process, so it is up unless it refuses writes for want of free
//     disk space (events.min_free_disk_bytes);
//   - bus: the NATS connection's state, which the client keeps (no I/O):
//     up only while connected (not reconnecting, not closed).
//
// The probes run together, each bounded by readyTimeout, and their answer
// is kept for readyTTL: a storm of probes costs one round of checks a
// second or so, and a probe never waits longer than readyTimeout.
//
// /readyz needs no token, so the reason it gives for an engine down is a
// short one that names no address, user or database ("connection
// refused", "no answer within 1.5s", "PostgreSQL SQLSTATE 57P01"); the
// whole error is logged at warning level when the engine goes down, and
// its return at info.
const (
	readyTTL     = time.Second
	readyTimeout = 1500 * time.Millisecond
)

// engineCheck is one engine's probe.
type engineCheck struct {
	engine string // "state", "events", "bus"
	kind   string // "embedded", "external"
	probe  func(ctx context.Context) error
}

// readiness runs the engines' probes and keeps their answer for ttl.
type readiness struct {
	checks  []engineCheck
	ttl     time.Duration
	timeout time.Duration
	log     *slog.Logger // nil: no log

	mu      sync.Mutex
	last    []web.EngineStatus
	at      time.Time
	running chan struct{} // closed when the round under way ends; nil when none
}

// status returns the engines' statuses: the last round's if younger than
// ttl, else a new round's. Callers arriving during a round wait for it
// (within their ctx), so rounds never overlap.
func (r *readiness) status(ctx context.Context) []web.EngineStatus {
	r.mu.Lock()
	if r.last != nil && time.Since(r.at) < r.ttl {
		last := r.last
		r.mu.Unlock()
		return last
	}
	if wait := r.running; wait != nil {
		r.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
		}
		r.mu.Lock()
		last := r.last
		r.mu.Unlock()
		if last == nil {
			return r.unknown(ctx.Err())
		}
		return last
	}
	done := make(chan struct{})
	r.running = done
	r.mu.Unlock()

	// A round of its own: a caller giving up must not end it for those
	// waiting on it.
	res, errs := r.round()
	r.mu.Lock()
	prev := r.last
	r.last, r.at, r.running = res, time.Now(), nil
	r.mu.Unlock()
	r.logChanges(prev, res, errs)
	close(done)
	return res
}

// round runs every probe at once and waits for them up to the timeout; a
// probe that has not answered by then is reported down. errs are the
// probes' own errors, for the log.
func (r *readiness) round() ([]web.EngineStatus, []error) {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	type answer struct {
		i   int
		err error
	}
	answers := make(chan answer, len(r.checks))
	for i, c := range r.checks {
		go func() { answers <- answer{i, c.probe(ctx)} }()
	}
	res := make([]web.EngineStatus, len(r.checks))
	errs := make([]error, len(r.checks))
	for i, c := range r.checks {
		errs[i] = fmt.Errorf("no answer within %v", r.timeout)
		res[i] = web.EngineStatus{Engine: c.engine, Kind: c.kind, Status: web.EngineDown, Error: errs[i].Error()}
	}
	for range r.checks {
		select {
		case a := <-answers:
			res[a.i].Checked, errs[a.i] = time.Now().UTC(), a.err
			if a.err == nil {
				res[a.i].Status, res[a.i].Error = web.EngineUp, ""
			} else {
				res[a.i].Error = reason(a.err, r.timeout)
			}
		case <-ctx.Done():
			now := time.Now().UTC()
			for i := range res {
				if res[i].Checked.IsZero() {
					res[i].Checked = now
				}
			}
			return res, errs
		}
	}
	return res, errs
}

// logChanges logs each engine that went down (with its probe's error) or
// came back since the previous round.
func (r *readiness) logChanges(prev, cur []web.EngineStatus, errs []error) {
	if r.log == nil {
		return
	}
	for i, c := range cur {
		wasDown := prev != nil && prev[i].Status != web.EngineUp
		switch {
		case c.Status != web.EngineUp && !wasDown:
			r.log.Warn("engine down: not ready", "engine", c.Engine, "kind", c.Kind, "err", errs[i])
		case c.Status == web.EngineUp && wasDown:
			r.log.Info("engine back: ready", "engine", c.Engine, "kind", c.Kind)
		}
	}
}

// probeError is a probe's error whose text is safe to show on /readyz.
type probeError struct{ msg string }

func (e *probeError) Error() string { return e.msg }

// reason is what /readyz says of err: a short account naming no address,
// user or database.
func reason(err error, timeout time.Duration) string {
	var pe *probeError
	var pg *pgconn.PgError
	var ne net.Error
	switch {
	case errors.As(err, &pe):
		return pe.msg
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer within %v", timeout)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection lost"
	case errors.As(err, &pg):
		return "PostgreSQL SQLSTATE " + pg.Code
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("no answer within %v", timeout)
	}
	return "query failed (the server log says why)"
}

// unknown is the answer to a caller that gave up before the first round
// ended.
func (r *readiness) unknown(err error) []web.EngineStatus {
	res := make([]web.EngineStatus, len(r.checks))
	for i, c := range r.checks {
		res[i] = web.EngineStatus{Engine: c.engine, Kind: c.kind, Status: web.EngineDown, Error: fmt.Sprintf("not checked yet: %v", err)}
	}
	return res
}

// newReadiness is the readiness of the server's engines.
func (s *Server) newReadiness() *readiness {
	return &readiness{checks: s.engineChecks(), ttl: readyTTL, timeout: readyTimeout, log: s.log.With("component", "ready")}
}

// engineChecks are the probes of the server's engines.
func (s *Server) engineChecks() []engineCheck {
	return []engineCheck{
		{engine: "state", kind: engineKind(s.cfg.State.URL), probe: s.db.Ping},
		{engine: "events", kind: engineKind(s.cfg.Events.URL), probe: eventsProbe(s.cfg.Events.URL, s.cfg.Events.StorageNodes, s.events)},
		{engine: "bus", kind: engineKind(s.cfg.Bus.URL), probe: func(context.Context) error { return connected(s.bus.JetStream().Conn()) }},
	}
}

// connected reports an error unless nc is connected; the client's last
// error, if any, is wrapped for the log.
func connected(nc *nats.Conn) error {
	if st := nc.Status(); st != nats.CONNECTED {
		err := error(&probeError{"NATS connection " + strings.ToLower(st.String())})
		if last := nc.LastError(); last != nil {
			err = fmt.Errorf("%w: %w", err, last)
		}
		return err
	}
	return nil
}

// readOnlyer is the embedded event store, which turns read-only when its
// disk runs low.
type readOnlyer interface{ ReadOnly() bool }

// errReadOnly is the embedded event store refusing writes.
var errReadOnly = &probeError{"read-only: free disk space below events.min_free_disk_bytes"}

// eventsProbe asks the VictoriaLogs server at url, and each storage node,
// for its /health; with no url it asks the embedded store st whether it
// takes writes.
func eventsProbe(url string, nodes []string, st any) func(ctx context.Context) error {
	if url == "" {
		return func(context.Context) error {
			if ro, ok := st.(readOnlyer); ok && ro.ReadOnly() {
				return errReadOnly
			}
			return nil
		}
	}
	// Its own connections, as the event store's (logstore/vlhttp) do:
	// probes never queue behind inserts and searches.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 1
	tr.IdleConnTimeout = 30 * time.Second // below VictoriaLogs' idle timeout of a minute
	hc := &http.Client{Transport: tr}
	type target struct{ name, base string }
	targets := []target{{"VictoriaLogs", strings.TrimRight(url, "/")}}
	for i, n := range nodes {
		targets = append(targets, target{fmt.Sprintf("VictoriaLogs storage node %d", i+1), strings.TrimRight(n, "/")})
	}
	health := func(ctx context.Context, t target) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.base+"/health", nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		if resp.StatusCode != http.StatusOK {
			return &probeError{fmt.Sprintf("GET /health: HTTP %d", resp.StatusCode)}
		}
		return nil
	}
	return func(ctx context.Context) error {
		errs := make([]error, len(targets))
		var wg sync.WaitGroup
		for i, t := range targets {
			wg.Go(func() { errs[i] = health(ctx, t) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				// The first one down; its reason is made safe to show
				// here, as the log gets the whole error.
				return fmt.Errorf("%w: %w", &probeError{targets[i].name + ": " + reason(err, readyTimeout)}, err)
			}
		}
		return nil
	}
}
