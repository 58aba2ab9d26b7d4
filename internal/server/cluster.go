package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tarian-soc/tarian/internal/bus"
	"github.com/tarian-soc/tarian/internal/lease"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// members keeps this node's entry in the bus' node bucket — a key per node
// alive, refreshed every memberBeat and gone memberTTL after the node
// stops — so that nodes know how many share the partitions.
type members struct {
	kv   jetstream.KeyValue
	node string
}

const (
	membersBucket = "TARIAN_NODES"
	memberBeat    = 3 * time.Second
	memberTTL     = 10 * time.Second
)

// openMembers creates or opens the node bucket.
func openMembers(ctx context.Context, js jetstream.JetStream, node string, replicas int) (*members, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      membersBucket,
		Description: "Tarian nodes alive (key: node name)",
		TTL:         memberTTL,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("node bucket: %w", err)
	}
	return &members{kv: kv, node: node}, nil
}

// errNodeNameInUse is a node started with the node.name of a node that
// is running.
var errNodeNameInUse = errors.New("node.name is in use by a running node")

// claim makes sure no running node has this node's name: an entry of
// its name that is written again within a beat and a half is a live
// node's (one left by a node that died stays as it was until it expires).
func (m *members) claim(ctx context.Context) error {
	first, err := m.kv.Get(ctx, m.node)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("node bucket: %w", err)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(memberBeat * 3 / 2):
	}
	again, err := m.kv.Get(ctx, m.node)
	if errors.Is(err, jetstream.ErrKeyNotFound) || err == nil && again.Revision() == first.Revision() {
		return nil
	}
	if err != nil {
		return fmt.Errorf("node bucket: %w", err)
	}
	return fmt.Errorf("%w: another node runs as %q; give each node its own node.name (TARIAN_NODE_NAME)", errNodeNameInUse, m.node)
}

// Run keeps this node's entry until ctx ends, then deletes it.
func (m *members) Run(ctx context.Context) {
	t := time.NewTicker(memberBeat)
	defer t.Stop()
	for {
		_, _ = m.kv.Put(ctx, m.node, []byte(time.Now().UTC().Format(time.RFC3339)))
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = m.kv.Delete(dctx, m.node)
			cancel()
			return
		case <-t.C:
		}
	}
}

// Count returns how many nodes are alive (this one included).
func (m *members) Count(ctx context.Context) (int, error) {
	if m == nil {
		return 1, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	keys, err := m.kv.ListKeys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return 1, nil
	}
	if err != nil {
		return 0, err
	}
	n, self := 0, false
	for k := range keys.Keys() {
		n++
		self = self || k == m.node
	}
	if !self {
		n++
	}
	return n, nil
}

// scheduled runs fn — scheduled work, which must run once in a cluster:
// polls, reports, retention, notifications — under the cluster-wide lease
// name, taken again whenever it is lost, until ctx ends; on a single node
// (the embedded bus) it simply runs fn.
func (s *Server) scheduled(ctx context.Context, name string, fn func(context.Context) error) error {
	if s.leases == nil {
		return fn(ctx)
	}
	return s.leases.Run(ctx, name, func(lctx context.Context) error {
		s.log.Info("scheduled work taken", "job", name, "node", s.cfg.Node.Name)
		if err := fn(lctx); err != nil {
			return err
		}
		// Work that ends early (nothing to poll) keeps its lease, so the
		// job does not move between nodes every few seconds.
		<-lctx.Done()
		return nil
	})
}

// openCluster joins the nodes sharing the external bus: the lease manager
// for partitions and scheduled work, and this node's entry among the
// nodes alive.
func (s *Server) openCluster(ctx context.Context) error {
	js := s.bus.JetStream()
	var err error
	lc := lease.DefaultConfig(s.cfg.Node.Name)
	lc.Replicas = s.cfg.Bus.Replicas
	// Nodes of a new cluster starting together may each time out while
	// JetStream creates these: bus.SetUp tries again.
	err = bus.SetUp(ctx, s.log, lc.Bucket, func(ctx context.Context) (err error) {
		s.leases, err = lease.New(ctx, js, lc, s.log.With("component", "lease"))
		return err
	})
	if err != nil {
		return err
	}
	err = bus.SetUp(ctx, s.log, membersBucket, func(ctx context.Context) (err error) {
		s.members, err = openMembers(ctx, js, s.cfg.Node.Name, s.cfg.Bus.Replicas)
		return err
	})
	if err != nil {
		return err
	}
	// The bucket's stream may still be electing its leader (no responders
	// to a read yet) in a cluster that has just started: SetUp tries again.
	if err := bus.SetUp(ctx, s.log, membersBucket, s.members.claim); err != nil {
		return err
	}
	return bus.SetUp(ctx, s.log, changesBucket, func(ctx context.Context) (err error) {
		s.changes, err = openChanges(ctx, js, s.cfg.Bus.Replicas)
		return err
	})
}

// Changes made on one node that the others must apply within seconds go
// through the bus' change bucket, a key per change: the rules and tenant
// settings (the detector reloads them), the indicators (intel reloads its
// index), a tenant added (the receivers' tenant cache), being removed
// (its writes refused while the removing node keeps saying so, every
// removalBeat) or kept after all (a removal that ended before its
// deletion), or removed (every cache of it, and the source health counters
// where its partition runs).
const (
	changesBucket        = "TARIAN_CHANGES"
	changesTTL           = 5 * time.Minute
	changeRules          = "rules"
	changeIntel          = "intel"
	changeTenantAdded    = "tenant.added."
	changeTenantRemoving = "tenant.removing."
	changeTenantKept     = "tenant.kept."
	changeTenantRemoved  = "tenant.removed."
)

// openChanges creates or opens the change bucket.
func openChanges(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.KeyValue, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      changesBucket,
		Description: "Tarian changes for every node to apply (value: the node that made it)",
		TTL:         changesTTL,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("change bucket: %w", err)
	}
	return kv, nil
}

// announce tells the other nodes of a change made here (nothing on a
// single node).
func (s *Server) announce(ctx context.Context, key string) {
	if s.changes == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := s.changes.Put(ctx, key, []byte(s.cfg.Node.Name)); err != nil {
		s.log.Error("announce a change to the other nodes; they apply it at their next restart", "change", key, "err", err)
	}
}

// watchChanges applies the other nodes' changes until ctx ends.
func (s *Server) watchChanges(ctx context.Context) {
	for ctx.Err() == nil {
		w, err := s.changes.WatchAll(ctx, jetstream.UpdatesOnly())
		if err != nil {
			s.log.Warn("watch the other nodes' changes", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(balanceEvery):
			}
			continue
		}
		for e := range w.Updates() {
			if e == nil || e.Operation() != jetstream.KeyValuePut || string(e.Value()) == s.cfg.Node.Name {
				continue
			}
			s.applyChange(ctx, e.Key())
		}
		_ = w.Stop()
	}
}

// applyChange applies one change another node made.
func (s *Server) applyChange(ctx context.Context, key string) {
	var err error
	switch {
	case key == changeRules:
		err = s.rules.Reload(ctx)
	case key == changeIntel:
		err = s.intel.Reload(ctx)
	case strings.HasPrefix(key, changeTenantAdded):
		s.tenants.Added(tenant.ID(strings.TrimPrefix(key, changeTenantAdded)))
	case strings.HasPrefix(key, changeTenantRemoving):
		s.removing.heard(tenant.ID(strings.TrimPrefix(key, changeTenantRemoving)))
	case strings.HasPrefix(key, changeTenantKept):
		s.removing.end(tenant.ID(strings.TrimPrefix(key, changeTenantKept)))
	case strings.HasPrefix(key, changeTenantRemoved):
		id := tenant.ID(strings.TrimPrefix(key, changeTenantRemoved))
		if m := s.parts.monitor(bus.Partition(id, s.cfg.Bus.Partitions)); m != nil {
			err = m.Forget(ctx, id)
		}
		s.removing.end(id)
		s.forgetTenant(ctx, id)
	}
	if err != nil {
		s.log.Error("apply another node's change", "change", key, "err", err)
		return
	}
	s.log.Info("applied another node's change", "change", key)
}

// forgetTenant drops a removed tenant from this node's caches, limits and
// detector (its rule switches, placeholders and filters went with it).
func (s *Server) forgetTenant(ctx context.Context, id tenant.ID) {
	s.numbers.cache.Delete(id)
	s.tenants.Removed(id)
	s.sink.Forget(id)
	if err := s.rules.Reload(ctx); err != nil {
		s.log.Warn("tenant removal: reload rules", "tenant", id, "err", err)
	}
}
