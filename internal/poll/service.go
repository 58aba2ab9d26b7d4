package poll

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// Deps are the Service's collaborators.
type Deps struct {
	Store Store
	Sink  Sink
	Box   *Box
	Log   *slog.Logger
	// Clock defaults to the real time; HTTP to a client with a 2-minute timeout.
	Clock Clock
	HTTP  *http.Client
}

// Service keeps the tenants' cloud sources and polls them.
type Service struct {
	cfg Config
	d   Deps
	c   *client

	mu      sync.Mutex
	health  map[healthKey]*Health
	pollers map[int64]*sourcePoller
}

type healthKey struct {
	source int64
	stream string
}

// Health is one stream's state as the API shows it. It is kept in the state
// store next to the stream's checkpoint, written whenever it changes, so a
// restart shows what the last run saw.
type Health struct {
	// Stream is "entra-signin", "entra-audit" or "m365-audit/<content type>".
	Stream        string     `json:"stream"`
	LastSuccess   *time.Time `json:"last_success,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	LastErrorTime *time.Time `json:"last_error_time,omitempty"`
	// Records counts records polled since the source was added, across
	// restarts.
	Records int64 `json:"records"`
}

// NewSource is a cloud source as a tenant admin defines it.
type NewSource struct {
	Name            string   `json:"name"`
	DirectoryTenant string   `json:"directory_tenant"`
	ClientID        string   `json:"client_id"`
	ClientSecret    string   `json:"client_secret"`
	Streams         []string `json:"streams,omitempty"`
}

// String never shows the secret.
func (n NewSource) String() string {
	return fmt.Sprintf("{%s %s %s secret:[redacted] %v}", n.Name, n.DirectoryTenant, n.ClientID, n.Streams)
}

// Info is a cloud source as the API returns it: no secret, ever.
type Info struct {
	ID              int64     `json:"id"`
	Tenant          tenant.ID `json:"tenant"`
	Name            string    `json:"name"`
	DirectoryTenant string    `json:"directory_tenant"`
	ClientID        string    `json:"client_id"`
	Streams         []string  `json:"streams"`
	Created         time.Time `json:"created"`
	Health          []Health  `json:"health"`
}

// New returns a Service, with the health of every stream as it was stored.
func New(ctx context.Context, cfg Config, d Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Store == nil || d.Sink == nil || d.Box == nil || d.Log == nil {
		return nil, errors.New("BUG: poll.New needs Store, Sink, Box and Log")
	}
	if d.Clock == nil {
		d.Clock = realClock{}
	}
	if d.HTTP == nil {
		d.HTTP = &http.Client{Timeout: 2 * time.Minute}
	}
	s := &Service{
		cfg:     cfg,
		d:       d,
		c:       &client{hc: d.HTTP, clock: d.Clock, maxAttempts: cfg.MaxAttempts, maxBackoff: cfg.MaxBackoff},
		health:  map[healthKey]*Health{},
		pollers: map[int64]*sourcePoller{},
	}
	if err := s.loadHealth(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// loadHealth reads the stored health of every source's streams, leaving
// out streams no longer polled (a content type taken out of the config).
func (s *Service) loadHealth(ctx context.Context) error {
	srcs, err := s.d.Store.AllCloudSources(ctx)
	if err != nil {
		return fmt.Errorf("load cloud source health: %w", err)
	}
	for _, src := range srcs {
		hs, err := s.d.Store.PollHealth(ctx, src.Tenant, src.ID)
		if err != nil {
			return fmt.Errorf("load cloud source %d health: %w", src.ID, err)
		}
		names := s.streamNames(src)
		for _, h := range hs {
			if slices.Contains(names, h.Stream) {
				s.health[healthKey{src.ID, h.Stream}] = &h
			}
		}
	}
	return nil
}

var (
	guidOrDomain = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$`)
	clientIDRe   = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
)

func (n NewSource) validate() error {
	switch {
	case n.Name == "" || len(n.Name) > 100:
		return fmt.Errorf("%w: name: 1 to 100 characters", ErrInvalid)
	case !guidOrDomain.MatchString(n.DirectoryTenant):
		return fmt.Errorf("%w: directory_tenant: the Entra tenant ID (GUID) or domain", ErrInvalid)
	case !clientIDRe.MatchString(n.ClientID):
		return fmt.Errorf("%w: client_id: the app's (client) ID", ErrInvalid)
	case n.ClientSecret == "" || len(n.ClientSecret) > 1024:
		return fmt.Errorf("%w: client_secret: 1 to 1024 characters", ErrInvalid)
	}
	for _, s := range n.Streams {
		if !slices.Contains(Streams, s) {
			return fmt.Errorf("%w: streams: unknown %q (want %v)", ErrInvalid, s, Streams)
		}
	}
	return nil
}

// Add seals the secret and stores a new cloud source for tenant t.
func (s *Service) Add(ctx context.Context, t tenant.ID, n NewSource) (Info, error) {
	if err := n.validate(); err != nil {
		return Info{}, err
	}
	sealed, err := s.d.Box.Seal([]byte(n.ClientSecret), []byte(t))
	if err != nil {
		return Info{}, fmt.Errorf("seal secret: %w", err)
	}
	streams := slices.Clone(n.Streams)
	if len(streams) == 0 {
		streams = slices.Clone(Streams)
	}
	src, err := s.d.Store.AddCloudSource(ctx, StoredSource{
		Tenant: t, Name: n.Name, DirectoryTenant: n.DirectoryTenant, ClientID: n.ClientID,
		SealedSecret: sealed, Streams: streams, Created: s.d.Clock.Now().UTC(),
	})
	if err != nil {
		return Info{}, err
	}
	s.d.Log.Info("cloud source added", "tenant", t, "source", src.ID)
	return s.info(src), nil
}

// List returns tenant t's cloud sources with their health.
func (s *Service) List(ctx context.Context, t tenant.ID) ([]Info, error) {
	srcs, err := s.d.Store.CloudSources(ctx, t)
	if err != nil {
		return nil, err
	}
	out := make([]Info, 0, len(srcs))
	for _, src := range srcs {
		out = append(out, s.info(src))
	}
	return out, nil
}

// Remove deletes tenant t's cloud source id (and its checkpoints).
func (s *Service) Remove(ctx context.Context, t tenant.ID, id int64) error {
	if err := s.d.Store.DeleteCloudSource(ctx, t, id); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.pollers, id)
	for k := range s.health {
		if k.source == id {
			delete(s.health, k)
		}
	}
	s.mu.Unlock()
	s.d.Log.Info("cloud source removed", "tenant", t, "source", id)
	return nil
}

func (s *Service) info(src StoredSource) Info {
	return Info{
		ID: src.ID, Tenant: src.Tenant, Name: src.Name, DirectoryTenant: src.DirectoryTenant,
		ClientID: src.ClientID, Streams: src.Streams, Created: src.Created, Health: s.Health(src.ID),
	}
}

// Health returns the health of source id's streams, by stream name.
func (s *Service) Health(id int64) []Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Health{}
	for k, h := range s.health {
		if k.source == id {
			out = append(out, *h)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Stream < out[j].Stream })
	return out
}

func (s *Service) healthOf(id int64, stream string) *Health {
	k := healthKey{id, stream}
	h := s.health[k]
	if h == nil {
		h = &Health{Stream: stream}
		s.health[k] = h
	}
	return h
}

// record notes the outcome of a poll of src's stream.
func (s *Service) record(ctx context.Context, src StoredSource, stream string, err error) {
	now := s.d.Clock.Now().UTC()
	s.update(ctx, src, stream, func(h *Health) {
		if err == nil {
			h.LastSuccess, h.LastError, h.LastErrorTime = &now, "", nil
			return
		}
		h.LastError, h.LastErrorTime = err.Error(), &now
	})
}

// count adds n records written to src's stream.
func (s *Service) count(ctx context.Context, src StoredSource, stream string, n int) {
	s.update(ctx, src, stream, func(h *Health) { h.Records += int64(n) })
}

// update changes a stream's health and stores it. A stream is polled by one
// goroutine at a time, so its writes arrive in order. The write outlives
// ctx: records written before a shutdown are still counted.
func (s *Service) update(ctx context.Context, src StoredSource, stream string, change func(*Health)) {
	s.mu.Lock()
	h := s.healthOf(src.ID, stream)
	change(h)
	snap := *h
	s.mu.Unlock()
	err := s.d.Store.SetPollHealth(context.WithoutCancel(ctx), src.Tenant, src.ID, snap)
	if err != nil && !errors.Is(err, ErrNotFound) { // ErrNotFound: removed while polled
		s.d.Log.Warn("saving cloud source health failed", "tenant", src.Tenant, "source", src.ID, "stream", stream, "err", err)
	}
}

// Run polls every source each Interval until ctx is done.
func (s *Service) Run(ctx context.Context) error {
	for {
		if err := s.PollAll(ctx); err != nil && ctx.Err() == nil {
			s.d.Log.Warn("listing cloud sources failed", "err", err)
		}
		if err := s.d.Clock.Sleep(ctx, s.cfg.Interval); err != nil {
			return nil
		}
	}
}

// PollAll polls every source once, one goroutine per source, and returns
// when all are done.
func (s *Service) PollAll(ctx context.Context) error {
	srcs, err := s.d.Store.AllCloudSources(ctx)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	for _, src := range srcs {
		wg.Go(func() { s.PollSource(ctx, src) })
	}
	wg.Wait()
	return nil
}

// PollSource polls each of src's streams once; failures go to its health.
func (s *Service) PollSource(ctx context.Context, src StoredSource) {
	p, err := s.poller(src)
	if err != nil {
		for _, st := range s.streamNames(src) {
			s.record(ctx, src, st, err)
		}
		s.d.Log.Error("cloud source unusable", "tenant", src.Tenant, "source", src.ID, "err", err)
		return
	}
	for _, st := range src.Streams {
		if ctx.Err() != nil {
			return
		}
		switch st {
		case StreamSignIns, StreamAudits:
			s.pollOne(ctx, p, st, func() (int, error) { return p.pollGraph(ctx, st) })
		case StreamM365:
			for _, ct := range s.cfg.ContentTypes {
				s.pollOne(ctx, p, st+"/"+ct, func() (int, error) { return p.pollM365(ctx, ct) })
			}
		}
	}
}

func (s *Service) pollOne(ctx context.Context, p *sourcePoller, stream string, fn func() (int, error)) {
	n, err := fn()
	if ctx.Err() != nil {
		return
	}
	s.record(ctx, p.src, stream, err)
	if err != nil {
		s.d.Log.Warn("cloud poll failed", "tenant", p.src.Tenant, "source", p.src.ID, "stream", stream, "records", n, "err", err)
	}
}

func (s *Service) streamNames(src StoredSource) []string {
	var out []string
	for _, st := range src.Streams {
		if st != StreamM365 {
			out = append(out, st)
			continue
		}
		for _, ct := range s.cfg.ContentTypes {
			out = append(out, st+"/"+ct)
		}
	}
	return out
}

// poller returns src's poller, keeping its token cache and started
// subscriptions between rounds.
func (s *Service) poller(src StoredSource) (*sourcePoller, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.pollers[src.ID]; p != nil && p.src.Tenant == src.Tenant {
		return p, nil
	}
	secret, err := s.d.Box.Open(src.SealedSecret, []byte(src.Tenant))
	if err != nil {
		return nil, err
	}
	p := &sourcePoller{
		cfg: s.cfg, c: s.c, src: src, state: s.d.Store, sink: s.d.Sink, clock: s.d.Clock,
		log:     s.d.Log.With("tenant", src.Tenant, "source", src.ID),
		started: map[string]bool{},
		count:   func(ctx context.Context, stream string, n int) { s.count(ctx, src, stream, n) },
		tok:     &tokens{c: s.c, loginURL: s.cfg.LoginURL, dirTen: src.DirectoryTenant, clientID: src.ClientID, secret: string(secret)},
	}
	s.pollers[src.ID] = p
	return p, nil
}

// sourcePoller polls one source; it is used by one goroutine at a time.
type sourcePoller struct {
	cfg     Config
	c       *client
	tok     *tokens
	src     StoredSource
	state   State
	sink    Sink
	clock   Clock
	log     *slog.Logger
	started map[string]bool
	count   func(ctx context.Context, stream string, n int)
}
