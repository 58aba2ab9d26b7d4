package notify

import (
	"container/heap"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Service keeps the channels, routes alert changes to them and delivers.
// Notify is safe for concurrent use; Run delivers until its ctx is done.
type Service struct {
	cfg   Config
	d     Deps
	tr    *transport
	queue chan *job

	// routes is every channel with its compiled route, by tenant: a copy
	// Notify reads without locks, replaced whenever a channel changes.
	routes atomic.Pointer[map[tenant.ID][]routed]
	reload sync.Mutex

	// updates holds, per channel and alert, until when further "updated"
	// changes of the alert stay quiet.
	mu      sync.Mutex
	updates map[updateKey]time.Time
	marks   int

	running atomic.Bool
	// stopped is set when Run ends; Notify holds stopMu's read lock while
	// it queues, so nothing is queued after Run's last look at the queue.
	stopMu         sync.RWMutex
	stopped        bool
	overflow       atomic.Int64
	overflowLogged atomic.Int64 // Unix nanoseconds
}

type routed struct {
	ch Channel
	r  route
}

type updateKey struct{ channel, alert int64 }

// job is one notification to one channel.
type job struct {
	ch  Channel
	msg message
	// payload is rendered at the first try and sent unchanged after.
	payload  []byte
	attempts int
	lastErr  error
	due      time.Time
}

// New returns a Service with the stored channels loaded.
func New(ctx context.Context, cfg Config, d Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Store == nil || d.Box == nil || d.Metrics == nil || d.Log == nil {
		return nil, errors.New("BUG: notify.New needs Store, Box, Metrics and Log")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	helo, err := os.Hostname()
	if err != nil || helo == "" {
		helo = "localhost"
	}
	s := &Service{
		cfg:     cfg,
		d:       d,
		tr:      newTransport(cfg, d.TLS, helo),
		queue:   make(chan *job, cfg.QueueSize),
		updates: map[updateKey]time.Time{},
	}
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// load reads every channel and replaces the routing copy.
func (s *Service) load(ctx context.Context) error {
	s.reload.Lock()
	defer s.reload.Unlock()
	chs, err := s.d.Store.AllNotifyChannels(ctx)
	if err != nil {
		return fmt.Errorf("load notification channels: %w", err)
	}
	m := map[tenant.ID][]routed{}
	for _, c := range chs {
		r, err := c.Route.compile()
		if err != nil {
			// Only a route valid when added is stored; a time zone the
			// system no longer knows is the likely cause.
			s.d.Log.Error("notification channel skipped: bad route", "tenant", c.Tenant, "channel", c.ID, "err", err)
			continue
		}
		m[c.Tenant] = append(m[c.Tenant], routed{ch: c, r: r})
	}
	s.routes.Store(&m)
	return nil
}

// Add seals the secrets and stores a new channel for tenant t (Provider
// for the provider's own).
func (s *Service) Add(ctx context.Context, t tenant.ID, n NewChannel) (Info, error) {
	if t != Provider {
		if _, err := tenant.Parse(string(t)); err != nil {
			return Info{}, err
		}
	}
	c, sec, err := n.build(t)
	if err != nil {
		return Info{}, err
	}
	plain, err := sec.marshal()
	if err != nil {
		return Info{}, err
	}
	if c.Sealed, err = s.d.Box.Seal(plain, sealAD(t)); err != nil {
		return Info{}, fmt.Errorf("seal channel secrets: %w", err)
	}
	c.Created = s.d.Now().UTC()
	if c, err = s.d.Store.AddNotifyChannel(ctx, c); err != nil {
		return Info{}, err
	}
	s.d.Log.Info("notification channel added", "tenant", t, "channel", c.ID, "kind", c.Kind)
	return info(c), s.load(ctx)
}

// List returns tenant t's channels.
func (s *Service) List(ctx context.Context, t tenant.ID) ([]Info, error) {
	chs, err := s.d.Store.NotifyChannels(ctx, t)
	if err != nil {
		return nil, err
	}
	out := make([]Info, 0, len(chs))
	for _, c := range chs {
		out = append(out, info(c))
	}
	return out, nil
}

// ChannelTenant returns the tenant of channel id, for provider roles.
func (s *Service) ChannelTenant(ctx context.Context, id int64) (tenant.ID, error) {
	return s.d.Store.NotifyChannelTenant(ctx, id)
}

// Remove deletes tenant t's channel id; notifications queued for it are
// dropped (and logged) when their turn comes.
func (s *Service) Remove(ctx context.Context, t tenant.ID, id int64) (Info, error) {
	c, err := s.d.Store.RemoveNotifyChannel(ctx, t, id)
	if err != nil {
		return Info{}, err
	}
	s.d.Log.Info("notification channel removed", "tenant", t, "channel", id, "kind", c.Kind)
	return info(c), s.load(ctx)
}

// DeadLetters lists tenant t's undelivered notifications, newest first.
func (s *Service) DeadLetters(ctx context.Context, t tenant.ID, before int64, limit int) ([]DeadLetter, error) {
	return s.d.Store.NotifyDeadLetters(ctx, t, before, limit)
}

// Test sends a test message to tenant t's channel id now, once, and
// returns an error wrapping ErrDelivery if it is not accepted.
func (s *Service) Test(ctx context.Context, t tenant.ID, id int64) error {
	c, err := s.d.Store.NotifyChannel(ctx, t, id)
	if err != nil {
		return err
	}
	now := s.d.Now().UTC()
	j := &job{ch: c, msg: message{
		Delivery: newID(), Time: now, Test: true,
		Change: alert.Change{What: EventTest, Alert: alert.Alert{Tenant: t, Title: "Tarian test notification", Level: "informational", Created: now}},
	}}
	if err := s.try(ctx, j); err != nil {
		return fmt.Errorf("%w: %v", ErrDelivery, err)
	}
	return nil
}

// Notify routes tenant t's alert changes (as one Pipeline.Raise or Act
// reports them) to the channels of t and of the provider that want them,
// and queues the notifications; it never blocks. A full queue (or a
// stopped Service) counts and logs what it could not take.
func (s *Service) Notify(_ context.Context, t tenant.ID, cs []alert.Change) {
	rs := s.routes.Load()
	if rs == nil || len(cs) == 0 || t == Provider {
		return
	}
	own, provider := (*rs)[t], (*rs)[Provider]
	if len(own) == 0 && len(provider) == 0 {
		return
	}
	now := s.d.Now()
	s.stopMu.RLock()
	defer s.stopMu.RUnlock()
	for _, c := range cs {
		for _, list := range [2][]routed{own, provider} {
			for i := range list {
				rt := &list[i]
				if !rt.r.match(c, now) || !s.due(rt, c, now) {
					continue
				}
				j := &job{ch: rt.ch, msg: message{Delivery: newID(), Change: c, Time: now.UTC(), Link: s.cfg.alertLink(c.Alert.ID)}}
				if s.stopped {
					s.overflowed(j, "notifications stopped")
					continue
				}
				select {
				case s.queue <- j:
				default:
					s.overflowed(j, "notification queue full")
				}
			}
		}
	}
}

// due applies a route's update interval: an alert's "updated" change is
// notified at most once per interval, counting its creation's notice.
func (s *Service) due(rt *routed, c alert.Change, now time.Time) bool {
	if c.What != alert.ChangeCreated && c.What != alert.ChangeUpdated {
		return true
	}
	wantsUpdates := false
	for _, w := range rt.r.changes {
		wantsUpdates = wantsUpdates || w == alert.ChangeUpdated
	}
	if !wantsUpdates {
		return true
	}
	k := updateKey{rt.ch.ID, c.Alert.ID}
	s.mu.Lock()
	defer s.mu.Unlock()
	if until, ok := s.updates[k]; ok && c.What == alert.ChangeUpdated && now.Before(until) {
		return false
	}
	s.updates[k] = now.Add(rt.r.updateEvery)
	if s.marks++; s.marks%4096 == 0 {
		for k, until := range s.updates {
			if !now.Before(until) {
				delete(s.updates, k)
			}
		}
	}
	return true
}

func (s *Service) overflowed(j *job, why string) {
	total := s.overflow.Add(1)
	s.count("queue_overflow", j)
	// Logged at most every 10 s, with the running total.
	now := time.Now().UnixNano()
	last := s.overflowLogged.Load()
	if now-last >= int64(10*time.Second) && s.overflowLogged.CompareAndSwap(last, now) {
		s.d.Log.Warn(why+": notification not sent", "tenant", j.ch.Tenant, "channel", j.ch.ID, "kind", j.ch.Kind,
			"alert_tenant", j.msg.Change.Alert.Tenant, "alert", j.msg.Change.Alert.ID, "change", j.msg.Change.What, "overflow_total", total)
	}
}

// Overflow returns how many notifications were not queued since start.
func (s *Service) Overflow() int64 { return s.overflow.Load() }

func (s *Service) count(what string, j *job) {
	s.d.Metrics.Inc(fmt.Sprintf("tarian_notify_%s_total{tenant=%q,kind=%q}", what, j.ch.Tenant, j.ch.Kind))
}

// Run delivers queued notifications with Config.Workers workers until ctx
// is done; then what is still queued or waiting for a retry becomes a
// dead letter. It returns nil.
func (s *Service) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("BUG: notify.Service.Run called twice")
	}
	due := make(chan *job)
	later := make(chan *job)
	var (
		mu   sync.Mutex
		left []*job
		wg   sync.WaitGroup
	)
	keep := func(j *job) {
		mu.Lock()
		left = append(left, j)
		mu.Unlock()
	}
	for range s.cfg.Workers {
		wg.Go(func() { s.work(ctx, due, later, keep) })
	}
	waiting := s.schedule(ctx, due, later)
	wg.Wait()
	s.stopMu.Lock()
	s.stopped = true
	s.stopMu.Unlock()
	left = append(left, waiting...)
	for {
		select {
		case j := <-s.queue:
			left = append(left, j)
			continue
		default:
		}
		break
	}
	if len(left) > 0 {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		for _, j := range left {
			err := errors.New("server stopped before delivery")
			if j.lastErr != nil {
				err = fmt.Errorf("server stopped before delivery; last try: %w", j.lastErr)
			}
			j.lastErr = err
			s.deadLetter(dctx, j)
		}
	}
	return nil
}

// work sends notifications, hands failed ones back for a retry, and
// dead-letters the last failure.
func (s *Service) work(ctx context.Context, due <-chan *job, later chan<- *job, keep func(*job)) {
	for {
		var j *job
		select {
		case <-ctx.Done():
			return
		case j = <-s.queue:
		case j = <-due:
		}
		if !s.exists(j.ch) {
			s.d.Log.Info("notification dropped: its channel was removed", "tenant", j.ch.Tenant, "channel", j.ch.ID, "alert", j.msg.Change.Alert.ID)
			continue
		}
		err := s.try(ctx, j)
		if err == nil {
			s.count("sent", j)
			continue
		}
		if ctx.Err() != nil {
			keep(j)
			return
		}
		j.lastErr = err
		s.count("failed", j)
		if isPermanent(err) || j.attempts >= s.cfg.Attempts {
			s.deadLetter(ctx, j)
			continue
		}
		wait := s.backoff(j.attempts, retryAfter(err))
		j.due = time.Now().Add(wait)
		s.d.Log.Debug("notification failed; will retry", "tenant", j.ch.Tenant, "channel", j.ch.ID, "kind", j.ch.Kind,
			"alert", j.msg.Change.Alert.ID, "attempt", j.attempts, "retry_in", wait, "err", err)
		select {
		case later <- j:
		case <-ctx.Done():
			keep(j)
			return
		}
	}
}

// backoff is the wait after the n-th failed try: Backoff doubled n-1
// times, capped at MaxBackoff, with equal jitter, and at least the
// server's Retry-After (capped too).
func (s *Service) backoff(n int, retryAfter time.Duration) time.Duration {
	d := s.cfg.Backoff
	for i := 1; i < n && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.cfg.MaxBackoff)
	d = d/2 + mrand.N(d/2+1)
	return max(d, min(retryAfter, s.cfg.MaxBackoff))
}

// schedule holds notifications waiting for a retry and hands each to a
// worker when it is due; it returns those still waiting when ctx is done.
func (s *Service) schedule(ctx context.Context, due chan<- *job, later <-chan *job) []*job {
	var h jobHeap
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		var out chan<- *job
		var next *job
		if len(h) > 0 {
			if wait := time.Until(h[0].due); wait <= 0 {
				out, next = due, h[0]
			} else {
				t.Reset(wait)
			}
		}
		select {
		case <-ctx.Done():
			return h
		case j := <-later:
			heap.Push(&h, j)
		case out <- next:
			heap.Pop(&h)
		case <-t.C:
		}
	}
}

// exists reports whether c is still a channel.
func (s *Service) exists(c Channel) bool {
	for _, rt := range (*s.routes.Load())[c.Tenant] {
		if rt.ch.ID == c.ID {
			return true
		}
	}
	return false
}

// try makes one attempt to deliver j.
func (s *Service) try(ctx context.Context, j *job) error {
	j.attempts++
	if j.payload == nil {
		p, err := s.render(j)
		if err != nil {
			return permanent(fmt.Errorf("render %s message: %w", j.ch.Kind, err))
		}
		j.payload = p
	}
	plain, err := s.d.Box.Open(j.ch.Sealed, sealAD(j.ch.Tenant))
	if err != nil {
		return permanent(fmt.Errorf("channel secrets: %w", err))
	}
	sec, err := unmarshalSecrets(plain)
	if err != nil {
		return permanent(fmt.Errorf("channel secrets: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	strict := !s.cfg.AllowPrivateNetworks && j.ch.Tenant != Provider
	switch j.ch.Kind {
	case Webhook:
		ts := s.d.Now().Unix()
		h := http.Header{}
		h.Set(HeaderEvent, j.msg.event())
		h.Set(HeaderDelivery, j.msg.Delivery)
		h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
		h.Set(HeaderSignature, Sign([]byte(sec.Secret), ts, j.payload))
		return s.tr.post(ctx, strict, sec.URL, j.ch.Target, j.payload, h)
	case Teams, Slack:
		return s.tr.post(ctx, strict, sec.URL, j.ch.Target, j.payload, http.Header{})
	case Email:
		if j.ch.Mail == nil {
			return permanent(errors.New("BUG: email channel without mail settings"))
		}
		return s.tr.mail(ctx, strict, j.ch.Mail, sec.Password, j.payload)
	}
	return permanent(fmt.Errorf("kind %q: want one of %s", j.ch.Kind, Kinds))
}

func (s *Service) render(j *job) ([]byte, error) {
	switch j.ch.Kind {
	case Webhook:
		return j.msg.webhook()
	case Teams:
		return j.msg.teams()
	case Slack:
		return j.msg.slack()
	case Email:
		if j.ch.Mail == nil {
			return nil, errors.New("no mail settings")
		}
		return j.msg.mail(j.ch.Mail.From, j.ch.Mail.To)
	}
	return nil, fmt.Errorf("kind %q", j.ch.Kind)
}

// deadLetter keeps j, undelivered, in the store.
func (s *Service) deadLetter(ctx context.Context, j *job) {
	c := j.msg.Change
	d := DeadLetter{
		Tenant: j.ch.Tenant, Channel: j.ch.ID, ChannelName: j.ch.Name, Kind: j.ch.Kind,
		AlertTenant: c.Alert.Tenant, AlertID: c.Alert.ID, Change: c.What,
		Payload: string(j.payload), Attempts: j.attempts, Time: s.d.Now().UTC(),
	}
	if j.lastErr != nil {
		d.LastError = j.lastErr.Error()
	}
	s.count("dead_letters", j)
	if _, err := s.d.Store.AddNotifyDeadLetter(ctx, d); err != nil {
		s.d.Log.Error("notification lost: dead letter not stored", "tenant", j.ch.Tenant, "channel", j.ch.ID,
			"alert_tenant", c.Alert.Tenant, "alert", c.Alert.ID, "last_error", d.LastError, "err", err)
		return
	}
	s.d.Log.Warn("notification dead-lettered", "tenant", j.ch.Tenant, "channel", j.ch.ID, "kind", j.ch.Kind,
		"alert_tenant", c.Alert.Tenant, "alert", c.Alert.ID, "attempts", j.attempts, "err", d.LastError)
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// jobHeap orders notifications waiting for a retry by when they are due.
type jobHeap []*job

func (h jobHeap) Len() int           { return len(h) }
func (h jobHeap) Less(i, k int) bool { return h[i].due.Before(h[k].due) }
func (h jobHeap) Swap(i, k int)      { h[i], h[k] = h[k], h[i] }
func (h *jobHeap) Push(x any)        { *h = append(*h, x.(*job)) }
func (h *jobHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	*h = old[:len(old)-1]
	return j
}
