// Package lease runs a named job on one server of a cluster at a time:
// cluster-wide leases kept in a NATS JetStream key-value bucket, one key per
// job, changed only by compare-and-set on the key's revision.
//
// A holder renews its lease every Config.Renew. A lease whose revision has
// not changed for Config.TTL, as timed by each contender's own clock from
// the moment it first saw that revision, is presumed dead, and a contender
// takes it over by compare-and-set on that revision. Every read of a key
// counts as a sighting, Holder's included: a node that looked at a lease
// before it began to contend for it (a node at its fair share of
// partitions checks who holds the others) takes over TTL after it first
// saw the dead holder's last renewal, not TTL after it began to contend.
// The holder counts from the moment it sent its last successful renewal,
// which is before any contender can have seen it, and stops its job
// (cancels its context) at TTL - Renew: before any contender may take
// over, by a margin of Renew for the job to stop in. No server's or
// node's wall clock is compared with another's; the assumption is only
// that the nodes' clocks run at about the same rate (drift well under
// Renew over a TTL) and that a job stops within Renew of its context being
// cancelled.
//
// A graceful stop releases the lease (a delete at the held revision), and a
// contender waiting on the key's watch takes it over at once.
package lease

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Config configures a Manager.
type Config struct {
	// Bucket is the key-value bucket of the leases (default TARIAN_LEASES).
	Bucket string `yaml:"bucket"`
	// Node names this server in the leases it holds (Holder, logs).
	Node string `yaml:"node"`
	// TTL is how long a lease outlives its last renewal: a holder that
	// dies is replaced within about TTL + Renew (default 15s).
	TTL time.Duration `yaml:"ttl"`
	// Renew is how often a holder renews (default 3s), at most TTL/3. A
	// holder that cannot renew for TTL - Renew stops its job.
	Renew time.Duration `yaml:"renew"`
	// Replicas of the bucket: the bus's replicas (3 on an R3 cluster).
	Replicas int `yaml:"replicas"`
}

// DefaultConfig returns the defaults for node.
func DefaultConfig(node string) Config {
	return Config{Bucket: "TARIAN_LEASES", Node: node, TTL: 15 * time.Second, Renew: 3 * time.Second, Replicas: 1}
}

var (
	bucketRe = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)
	nameRe   = regexp.MustCompile(`^[a-zA-Z0-9_=-]+(\.[a-zA-Z0-9_=-]+)*$`)
)

// Validate reports the first bad setting.
func (c Config) Validate() error {
	switch {
	case !bucketRe.MatchString(c.Bucket):
		return fmt.Errorf("bucket: %q: letters, digits, '-' and '_' only", c.Bucket)
	case c.Node == "":
		return errors.New("node: must be set")
	case c.Renew < 10*time.Millisecond:
		return errors.New("renew: must be at least 10ms")
	case c.TTL < 3*c.Renew:
		return errors.New("ttl: must be at least 3 times renew")
	case c.Replicas < 1 || c.Replicas > 5:
		return errors.New("replicas: must be between 1 and 5")
	}
	return nil
}

// Manager takes, keeps and gives back leases for one node.
type Manager struct {
	cfg Config
	kv  jetstream.KeyValue
	log *slog.Logger
	// halted simulates, for tests, a node cut off from the bucket: every
	// bucket operation fails, nothing is released.
	halted atomic.Bool

	// seen is, per lease key, the revision this node last read and when
	// it first read it (after the read returned, so never before the
	// write that made it was sent).
	seenMu sync.Mutex
	seen   map[string]sighting
}

// sighting is when this node first read a lease key at a revision.
type sighting struct {
	rev uint64
	at  time.Time
}

// sighted records that name was read at rev at time now and returns when
// this node first read it at rev.
func (m *Manager) sighted(name string, rev uint64, now time.Time) time.Time {
	m.seenMu.Lock()
	defer m.seenMu.Unlock()
	if s, ok := m.seen[name]; ok && s.rev == rev {
		return s.at
	}
	if m.seen == nil {
		m.seen = make(map[string]sighting)
	}
	m.seen[name] = sighting{rev, now}
	return now
}

// forget drops name's sighting: the key is gone.
func (m *Manager) forget(name string) {
	m.seenMu.Lock()
	delete(m.seen, name)
	m.seenMu.Unlock()
}

// New opens (creating if need be) the lease bucket on js.
func New(ctx context.Context, js jetstream.JetStream, cfg Config, log *slog.Logger) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("lease: %w", err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      cfg.Bucket,
		Description: "Tarian cluster leases, one key per job",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("lease: bucket %s: %w", cfg.Bucket, err)
	}
	return &Manager{cfg: cfg, kv: kv, log: log}, nil
}

// value is a lease key's value. Token is fresh for every acquisition, so a
// holder recognises its own writes (one whose answer was lost included).
type value struct {
	Node  string `json:"node"`
	Token string `json:"token"`
}

func decode(b []byte) value {
	var v value
	_ = json.Unmarshal(b, &v) // a foreign value is someone else's lease
	return v
}

// lease is one acquisition.
type lease struct {
	val []byte
	tok string
	rev uint64
	// sent is when the last write known to have taken effect was sent:
	// the lease is ours until sent + TTL - Renew.
	sent time.Time
}

func (m *Manager) expiry(l *lease) time.Time { return l.sent.Add(m.cfg.TTL - m.cfg.Renew) }

// Run runs fn whenever this node holds lease name, until ctx is done. It
// waits to acquire the lease, runs fn with a context that is cancelled
// when ctx is done or the lease is lost (not renewed in time, or taken),
// keeps renewing until fn has returned, and then releases it (unless
// lost). A lost lease is contended for again. If fn returns while the lease
// is held, the lease is released and, after Renew, contended for again;
// fn's error is logged. fn must return promptly once its context is
// cancelled: within Renew. Run returns nil when ctx is done, an error only
// for an invalid name (letters, digits, '-', '_', '=' and inner dots).
func (m *Manager) Run(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	if !nameRe.MatchString(name) {
		return fmt.Errorf("lease: invalid name %q", name)
	}
	log := m.log.With("lease", name)
	for ctx.Err() == nil {
		l, ok := m.acquire(ctx, name)
		if !ok {
			break
		}
		if time.Until(m.expiry(l)) <= 0 {
			continue // acquired too late to use: let it lapse
		}
		log.Info("lease acquired", "node", m.cfg.Node)
		if m.hold(ctx, log, name, l, fn) {
			sleep(ctx, m.cfg.Renew)
		}
	}
	return nil
}

// opTimeout bounds one bucket operation.
func (m *Manager) opTimeout() time.Duration { return m.cfg.Renew }

var errHalted = errors.New("lease: halted")

// acquire waits until it holds lease name (true) or ctx is done (false).
func (m *Manager) acquire(ctx context.Context, name string) (*lease, bool) {
	tok := token()
	val, _ := json.Marshal(value{Node: m.cfg.Node, Token: tok})
	var (
		seenRev uint64
		seenAt  time.Time
		// unsure is when the first write of ours was sent whose outcome is
		// unknown (no answer): if the key turns out to hold our token, that
		// write took effect, and the lease runs from then at the latest.
		unsure time.Time
	)
	var updates <-chan jetstream.KeyValueEntry
	if !m.halted.Load() {
		if w, err := m.kv.Watch(ctx, name, jetstream.UpdatesOnly()); err == nil {
			defer w.Stop()
			updates = w.Updates()
		}
	}
	mark := func(sent time.Time, err error) {
		if err != nil && !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) && unsure.IsZero() {
			unsure = sent
		}
	}
	for {
		if ctx.Err() != nil {
			return nil, false
		}
		e, err := m.get(ctx, name)
		now := time.Now()
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound): // free: never held, released or purged
			sent := time.Now()
			rev, err := m.create(ctx, name, val)
			if err == nil {
				return &lease{val: val, tok: tok, rev: rev, sent: sent}, true
			}
			mark(sent, err)
		case err != nil: // bucket unreachable: try again
		case decode(e.Value()).Token == tok:
			if unsure.IsZero() {
				// Cannot happen; if it does, take the lease as already
				// expired: the safe side.
				m.log.Error("BUG: lease holds our token but no write of ours was in doubt", "lease", name)
				unsure = now.Add(-m.cfg.TTL)
			}
			return &lease{val: val, tok: tok, rev: e.Revision(), sent: unsure}, true
		case e.Revision() != seenRev:
			// Timed from this node's first read of the revision, which
			// may be older than this contention (Holder).
			seenRev, seenAt = e.Revision(), m.sighted(name, e.Revision(), now)
		case now.Sub(seenAt) >= m.cfg.TTL: // not renewed for TTL: presumed dead
			sent := time.Now()
			rev, err := m.update(ctx, name, val, seenRev)
			if err == nil {
				m.log.Info("lease taken over", "lease", name, "from", decode(e.Value()).Node, "node", m.cfg.Node)
				return &lease{val: val, tok: tok, rev: rev, sent: sent}, true
			}
			mark(sent, err)
		}
		wait := m.cfg.Renew
		if seenRev != 0 {
			wait = min(wait, max(time.Until(seenAt.Add(m.cfg.TTL)), time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		case _, ok := <-updates:
			if !ok {
				updates = nil
			}
		}
		t.Stop()
	}
}

// hold runs fn under lease l until fn returns, renewing it, and releases
// it unless lost. It reports whether fn returned on its own (the lease
// neither lost nor ctx done).
func (m *Manager) hold(ctx context.Context, log *slog.Logger, name string, l *lease, fn func(context.Context) error) bool {
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn(fctx) }()

	// Bucket operations outlive ctx: a holder keeps its lease until fn
	// has returned, then releases it.
	opCtx := context.WithoutCancel(ctx)
	expire := time.NewTimer(time.Until(m.expiry(l)))
	defer expire.Stop()
	renew := time.NewTimer(m.cfg.Renew)
	defer renew.Stop()
	lost := false
	lose := func(why string) {
		lost = true
		cancel()
		expire.Stop()
		renew.Stop()
		log.Warn("lease lost", "node", m.cfg.Node, "reason", why)
	}
	for {
		select {
		case err := <-done:
			early := ctx.Err() == nil && !lost
			if err != nil && early {
				log.Error("leased job failed", "err", err)
			}
			if !lost {
				m.release(opCtx, log, name, l)
			}
			return early
		case <-expire.C:
			lose("not renewed in time")
		case <-renew.C:
			if lost {
				continue
			}
			// A renewal's wait ends at the lease's expiry, so that the
			// expiry is acted on in time.
			sent := time.Now()
			uctx, ucancel := context.WithDeadline(opCtx, m.expiry(l))
			rev, err := m.update(uctx, name, l.val, l.rev)
			switch {
			case err == nil:
				l.rev, l.sent = rev, sent
				expire.Reset(time.Until(m.expiry(l)))
				renew.Reset(m.cfg.Renew)
			case errors.Is(err, jetstream.ErrKeyRevisionMismatch):
				e, gerr := m.get(uctx, name)
				switch {
				case gerr == nil && decode(e.Value()).Token == l.tok:
					// A renewal whose answer was lost took effect: carry
					// on from it, the lease still timed from the last
					// confirmed one.
					l.rev = e.Revision()
					renew.Reset(0)
				case gerr == nil || errors.Is(gerr, jetstream.ErrKeyNotFound):
					lose("taken or removed")
				default:
					renew.Reset(m.cfg.Renew / 4)
				}
			default:
				log.Debug("lease renewal failed", "err", err)
				renew.Reset(m.cfg.Renew / 4)
			}
			ucancel()
		}
	}
}

// release deletes lease l at its revision, so a waiting contender takes
// it at once. If that fails the lease lapses after TTL.
func (m *Manager) release(ctx context.Context, log *slog.Logger, name string, l *lease) {
	if err := m.delete(ctx, name, l.rev); err != nil {
		log.Warn("lease not released; it lapses after its ttl", "err", err)
		return
	}
	log.Info("lease released", "node", m.cfg.Node)
}

// Holder returns the node holding lease name, and false when none does.
// For status only: a lease not renewed for TTL by the server's timestamp
// against this node's clock counts as not held, so it is only as exact as
// the two clocks agree.
func (m *Manager) Holder(ctx context.Context, name string) (string, bool, error) {
	e, err := m.get(ctx, name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("lease %s: %w", name, err)
	}
	if time.Since(e.Created()) > m.cfg.TTL {
		return "", false, nil
	}
	return decode(e.Value()).Node, true, nil
}

// The bucket operations, each bounded by opTimeout and failing while
// halted.

func (m *Manager) get(ctx context.Context, name string) (jetstream.KeyValueEntry, error) {
	if m.halted.Load() {
		return nil, errHalted
	}
	ctx, cancel := context.WithTimeout(ctx, m.opTimeout())
	defer cancel()
	e, err := m.kv.Get(ctx, name)
	switch {
	case err == nil:
		m.sighted(name, e.Revision(), time.Now())
	case errors.Is(err, jetstream.ErrKeyNotFound):
		m.forget(name)
	}
	return e, err
}

func (m *Manager) create(ctx context.Context, name string, val []byte) (uint64, error) {
	if m.halted.Load() {
		return 0, errHalted
	}
	ctx, cancel := context.WithTimeout(ctx, m.opTimeout())
	defer cancel()
	return m.kv.Create(ctx, name, val)
}

func (m *Manager) update(ctx context.Context, name string, val []byte, rev uint64) (uint64, error) {
	if m.halted.Load() {
		return 0, errHalted
	}
	ctx, cancel := context.WithTimeout(ctx, m.opTimeout())
	defer cancel()
	return m.kv.Update(ctx, name, val, rev)
}

func (m *Manager) delete(ctx context.Context, name string, rev uint64) error {
	if m.halted.Load() {
		return errHalted
	}
	ctx, cancel := context.WithTimeout(ctx, m.opTimeout())
	defer cancel()
	return m.kv.Delete(ctx, name, jetstream.LastRevision(rev))
}

func token() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
