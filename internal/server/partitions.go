package server

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/tarian-soc/tarian/internal/bus"
	"github.com/tarian-soc/tarian/internal/config"
	"github.com/tarian-soc/tarian/internal/detect"
	"github.com/tarian-soc/tarian/internal/detector"
	"github.com/tarian-soc/tarian/internal/health"
	"github.com/tarian-soc/tarian/internal/indexer"
	"github.com/tarian-soc/tarian/internal/rawarchive"
	"github.com/tarian-soc/tarian/internal/stage"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// The event path after the bus runs once per bus partition (bus.partitions;
// one by default). A partition's stage — its indexer, detector, raw
// archive and source health consumers, each with its checkpoint and state
// in the state store — runs on one node at a time, under the cluster-wide
// lease "stage.p<k>": several nodes share the partitions, and when a node
// dies another takes its partitions over, with their checkpoints and
// correlation state, once the lease has expired.
//
// With one partition the names are those of a single node (indexer,
// detector, archive, health), and the one stage uses the server's own
// detector consumer, raw archive and health monitor.

// partitionNames returns the checkpoint names of partition p's consumers.
func partitionNames(p, of int) []string {
	names := slices.Clone(consumerKinds)
	if of == 1 {
		return names
	}
	for i, n := range names {
		names[i] = partitionName(n, p)
	}
	return names
}

// partitionName is consumer name's checkpoint name in partition p of
// several.
func partitionName(name string, p int) string { return fmt.Sprintf("%s.p%d", name, p) }

// consumerKinds are the consumers of a partition, by their single-node
// checkpoint names (the order of partitionNames).
var consumerKinds = []string{indexer.Name, detector.Name, rawarchive.Name, health.Name}

// lag returns how far consumer kind (one of consumerKinds) is behind, in
// bus sequence numbers summed over partitions (every partition when parts
// is nil): from its checkpoint to its partition's newest message, or to
// upto when that is not zero and comes first. With one partition that is
// the messages it has not durably processed. at describes the first
// partition behind, for messages.
func (s *Server) lag(ctx context.Context, kind string, upto uint64, parts []int) (n uint64, at string, err error) {
	of := s.cfg.Bus.Partitions
	k := slices.Index(consumerKinds, kind)
	if parts == nil {
		for p := range of {
			parts = append(parts, p)
		}
	}
	for _, p := range parts {
		var last uint64
		if of == 1 {
			last, err = s.bus.LastSeq(ctx)
		} else {
			last, err = s.bus.PartitionLastSeq(ctx, p)
		}
		if err != nil {
			return 0, "", err
		}
		if upto > 0 {
			last = min(last, upto)
		}
		name := partitionNames(p, of)[k]
		cp, err := s.db.Checkpoint(ctx, name)
		if err != nil {
			return 0, "", err
		}
		if cp.Done < last {
			n += last - cp.Done
			if at == "" {
				at = fmt.Sprintf("%s at %d", name, cp.Done)
			}
		}
	}
	return n, at, nil
}

// trimmable returns the last bus sequence every consumer of every
// partition has durably processed: the bus may drop what lies at or before
// it. A partition whose consumers have processed all of its messages needs
// nothing on the bus (an idle partition must not hold the trim back).
func (s *Server) trimmable(ctx context.Context) (uint64, error) {
	of := s.cfg.Bus.Partitions
	low, err := s.bus.LastSeq(ctx)
	if err != nil {
		return 0, err
	}
	for p := range of {
		last := low
		if of > 1 {
			if last, err = s.bus.PartitionLastSeq(ctx, p); err != nil {
				return 0, err
			}
		}
		for _, name := range partitionNames(p, of) {
			cp, err := s.db.Checkpoint(ctx, name)
			if err != nil {
				return 0, err
			}
			if cp.Done < last {
				low = min(low, cp.Done)
			}
		}
	}
	return low, nil
}

// partitionSource reads one partition of the bus.
type partitionSource struct {
	b *bus.Bus
	p int
}

func (ps partitionSource) Consume(ctx context.Context, cc bus.ConsumeConfig, h bus.Handler) error {
	cc.Partitions = []int{ps.p}
	return ps.b.Consume(ctx, cc, h)
}

// local is what a node runs for the partitions it holds.
type local struct {
	mu       sync.Mutex
	monitors map[int]*health.Monitor // by partition
}

func (l *local) set(p int, m *health.Monitor) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.monitors == nil {
		l.monitors = map[int]*health.Monitor{}
	}
	if m == nil {
		delete(l.monitors, p)
		return
	}
	l.monitors[p] = m
}

func (l *local) monitor(p int) *health.Monitor {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.monitors[p]
}

// list returns the partitions held here.
func (l *local) list() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []int
	for p := range l.monitors {
		out = append(out, p)
	}
	if out == nil {
		return []int{}
	}
	return out
}

func (l *local) held() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.monitors)
}

// runPartition runs partition p's stage until ctx ends or it fails.
func (s *Server) runPartition(ctx context.Context, p int) error {
	of := s.cfg.Bus.Partitions
	names := partitionNames(p, of)
	ix := indexer.New(indexer.Deps{Name: names[0], Store: s.events, Checkpoints: s.db, DeadLetters: s.db, Metrics: s.metrics, Log: s.log.With("component", "indexer", "partition", p)})
	// Source health is checked only where the partition's counters are.
	run := func(st *stage.Stage, mon *health.Monitor) error {
		s.parts.set(p, mon)
		defer s.parts.set(p, nil)
		var wg sync.WaitGroup
		defer wg.Wait()
		hctx, stopHealth := context.WithCancel(ctx)
		defer stopHealth()
		wg.Go(func() { _ = mon.Run(hctx) })
		if s.leases != nil {
			s.log.Info("partition taken", "partition", p, "of", of, "node", s.cfg.Node.Name)
			defer s.log.Info("partition let go", "partition", p, "of", of, "node", s.cfg.Node.Name)
		}
		return st.Run(ctx)
	}
	if of == 1 {
		st := stage.New(stage.Deps{Pipeline: s.pipeline, Bus: s.bus, Consumers: []stage.Consumer{ix, s.rules, s.raw, s.health}, Log: s.log.With("component", "stage")})
		s.stage.Store(st)
		return run(st, s.health)
	}
	raw, err := rawarchive.Open(rawarchive.Config{Dir: filepath.Join(s.cfg.Data, "raw"), Retention: s.cfg.Events.Retention, Name: names[2]},
		rawarchive.Deps{Checkpoints: s.db, Pipeline: s.pipeline, Log: s.log.With("component", "rawarchive", "partition", p)})
	if err != nil {
		return err
	}
	defer raw.Close()
	mon := s.partitionMonitor(p)
	st := stage.New(stage.Deps{Pipeline: s.pipeline, Bus: partitionSource{s.bus, p}, Consumers: []stage.Consumer{ix, s.rules.Consumer(names[1]), raw, mon},
		Log: s.log.With("component", "stage", "partition", p)})
	return run(st, mon)
}

// partitionMonitor returns a health monitor of partition p's tenants, not
// started.
func (s *Server) partitionMonitor(p int) *health.Monitor {
	cfg := s.reloaded()
	return health.New(cfg.Health, s.declaredIn(cfg, p), health.Deps{Name: partitionNames(p, s.cfg.Bus.Partitions)[3], Store: s.db, Alerts: s.alerts, Log: s.log.With("component", "health", "partition", p)})
}

// declaredIn returns the declared sources of partition p's tenants.
func (s *Server) declaredIn(cfg config.Config, p int) []health.Declared {
	var declared []health.Declared
	for _, d := range health.DeclaredSources(cfg.Sources) {
		if bus.Partition(d.Tenant, s.cfg.Bus.Partitions) == p {
			declared = append(declared, d)
		}
	}
	return declared
}

// configureMonitors hands a reloaded configuration to the health
// monitors of the partitions held here.
func (s *Server) configureMonitors(cfg config.Config) {
	s.parts.mu.Lock()
	defer s.parts.mu.Unlock()
	for p, m := range s.parts.monitors {
		m.Configure(cfg.Health, s.declaredIn(cfg, p))
	}
}

// runPartitions runs the partitions this node holds until ctx ends; it
// returns the first partition's failure.
func (s *Server) runPartitions(ctx context.Context) error {
	of := s.cfg.Bus.Partitions
	if of == 1 && s.leases == nil {
		return s.runPartition(ctx, 0)
	}
	// On the embedded bus this node runs every partition.
	run := s.holdPartition
	if s.leases == nil {
		run = s.runPartition
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, of)
	var wg sync.WaitGroup
	for p := range of {
		wg.Go(func() {
			if err := run(ctx, p); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("partition %d: %w", p, err)
			}
		})
	}
	defer func() {
		cancel()
		wg.Wait()
	}()
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		return err
	}
}

// Sharing the partitions: a node takes a partition while it holds fewer
// than its fair share (partitions ÷ nodes alive, rounded up), or when the
// partition has had no holder for longer than orphanAfter (a node died and
// nobody under their share took it); it lets one go, gracefully, while it
// holds more than its share.
const (
	balanceEvery = 2 * time.Second
	orphanAfter  = 10 * time.Second
)

// holdPartition competes for partition p's lease and runs its stage while
// held, until ctx ends.
func (s *Server) holdPartition(ctx context.Context, p int) error {
	name := fmt.Sprintf("stage.p%d", p)
	var orphan time.Time
	for ctx.Err() == nil {
		if s.cfg.Bus.Partitions > 1 && !s.wantPartition(ctx, name, p, &orphan) {
			select {
			case <-ctx.Done():
			case <-time.After(balanceEvery):
			}
			continue
		}
		rctx, cancel := context.WithCancel(ctx)
		go s.letGoWhenOverShare(rctx, p, cancel)
		// Run takes the lease again after a failure of the stage; it
		// returns when rctx ends: at shutdown, or handed over.
		if err := s.leases.Run(rctx, name, func(lctx context.Context) error { return s.runPartition(lctx, p) }); err != nil {
			cancel()
			return err
		}
		cancel()
	}
	return nil
}

// wantPartition says whether this node should compete for partition p now.
func (s *Server) wantPartition(ctx context.Context, name string, p int, orphan *time.Time) bool {
	if s.parts.monitor(p) != nil {
		return true
	}
	if s.parts.held() < s.fairShare(ctx) {
		return true
	}
	if _, held, err := s.leases.Holder(ctx, name); held || err != nil {
		*orphan = time.Time{}
		return false
	}
	if orphan.IsZero() {
		*orphan = time.Now()
	}
	return time.Since(*orphan) >= orphanAfter
}

// letGoWhenOverShare cancels partition p's run (releasing its lease, so
// another node takes it at once) when this node holds more than its share
// and p is the highest partition it holds.
func (s *Server) letGoWhenOverShare(ctx context.Context, p int, cancel context.CancelFunc) {
	t := time.NewTicker(balanceEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if s.parts.monitor(p) == nil || s.parts.held() <= s.fairShare(ctx) || s.parts.highest() != p {
			continue
		}
		s.log.Info("partition handed over: this node holds more than its share", "partition", p, "held", s.parts.held())
		cancel()
		return
	}
}

func (l *local) highest() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := -1
	for p := range l.monitors {
		h = max(h, p)
	}
	return h
}

// fairShare is how many partitions this node should hold: the partitions
// over the nodes alive, rounded up.
func (s *Server) fairShare(ctx context.Context) int {
	n, err := s.members.Count(ctx)
	if err != nil || n < 1 {
		n = 1
	}
	of := s.cfg.Bus.Partitions
	return (of + n - 1) / n
}

// monitorsOf returns, for each of tenants, the health monitor that answers
// for it: this node's when it holds the tenant's partition, else one
// loaded from the state store as its holder last saved it.
func (s *Server) monitorsOf(ctx context.Context, tenants []tenant.ID) (map[tenant.ID]*health.Monitor, error) {
	out := map[tenant.ID]*health.Monitor{}
	loaded := map[int]*health.Monitor{}
	for _, t := range tenants {
		p := bus.Partition(t, s.cfg.Bus.Partitions)
		m := s.parts.monitor(p)
		if m == nil {
			if m = loaded[p]; m == nil {
				m = s.partitionMonitor(p)
				if _, err := m.Start(ctx); err != nil {
					return nil, err
				}
				loaded[p] = m
			}
		}
		out[t] = m
	}
	return out, nil
}

// monitorFor returns the health monitor of tenant t's partition, which
// must run on this node (a tenant's removal changes its counters): the
// server's own before Run.
func (s *Server) monitorFor(ctx context.Context, t tenant.ID) (*health.Monitor, error) {
	p := bus.Partition(t, s.cfg.Bus.Partitions)
	if m := s.parts.monitor(p); m != nil {
		return m, nil
	}
	if s.leases == nil {
		if s.cfg.Bus.Partitions == 1 {
			return s.health, nil
		}
		return nil, errors.New("the server is not running")
	}
	holder, _, _ := s.leases.Holder(ctx, fmt.Sprintf("stage.p%d", p))
	return nil, fmt.Errorf("%w: the tenant's bus partition %d runs on node %q, not on this one (%q): send the removal to that node", errElsewhere, p, holder, s.cfg.Node.Name)
}

// errElsewhere is a request for work held by another node.
var errElsewhere = errors.New("held by another node")

// healthSources answers source health across partitions and nodes (web,
// reports).
type healthSources struct{ s *Server }

func (h healthSources) Sources(ctx context.Context, tenants []tenant.ID) ([]health.Source, error) {
	if tenants == nil {
		var err error
		if tenants, err = h.s.tenantIDs(ctx); err != nil {
			return nil, err
		}
	}
	tenants = slices.Clone(tenants)
	slices.Sort(tenants)
	ms, err := h.s.monitorsOf(ctx, tenants)
	if err != nil {
		return nil, err
	}
	var out []health.Source
	for _, t := range tenants {
		ss, err := ms[t].Sources(ctx, []tenant.ID{t})
		if err != nil {
			return nil, err
		}
		out = append(out, ss...)
	}
	return out, nil
}

// MonthEvents is tenant t's events per source in month (reports).
func (h healthSources) MonthEvents(ctx context.Context, t tenant.ID, month time.Time) (map[health.Key]int64, error) {
	ms, err := h.s.monitorsOf(ctx, []tenant.ID{t})
	if err != nil {
		return nil, err
	}
	return ms[t].MonthEvents(t, month), nil
}

// clusterRules is the detector as the API uses it: a member's ATT&CK
// coverage depends on the log sources its events have come from, which the
// node that runs its partition counts; any other node reads them from the
// partition's correlation state as last saved.
type clusterRules struct {
	*detector.Service
	s *Server
}

func (r clusterRules) Coverage(t tenant.ID) detector.Coverage {
	of := r.s.cfg.Bus.Partitions
	p := bus.Partition(t, of)
	if r.s.leases == nil || r.s.parts.monitor(p) != nil {
		return r.Service.Coverage(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var seen []string
	states, err := r.s.db.CorrelationStates(ctx, partitionNames(p, of)[1])
	if b, ok := states[t]; ok && err == nil {
		st := detect.NewState()
		if st.UnmarshalBinary(b) == nil {
			seen = st.Sources()
		}
	}
	return r.Service.CoverageOf(t, seen)
}
