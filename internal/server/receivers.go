package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"sync"
	"time"

	"github.com/tarian-soc/tarian/internal/config"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/ingest/esbulk"
	"github.com/tarian-soc/tarian/internal/ingest/forward"
	"github.com/tarian-soc/tarian/internal/ingest/hec"
	"github.com/tarian-soc/tarian/internal/ingest/lumberjack"
	"github.com/tarian-soc/tarian/internal/ingest/otlp"
	"github.com/tarian-soc/tarian/internal/ingest/syslog"
	"github.com/tarian-soc/tarian/internal/metrics"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// receivers is the one list of receivers. A new receiver is a package
// under internal/ingest (its Config a section of config.Config, its kind
// in package event) and one line here.
func receivers(c config.Config) []kind {
	return []kind{
		bind(event.KindSyslog, "ingest.syslog", c.Syslog, syslog.New),
		bind(event.KindHEC, "ingest.hec", c.HEC, hec.New),
		bind(event.KindElasticsearch, "ingest.esbulk", c.Elasticsearch, esbulk.New),
		bind(event.KindLumberjack, "ingest.lumberjack", c.Lumberjack, lumberjack.New),
		bind(event.KindForward, "ingest.forward", c.Forward, forward.New),
		bind(event.KindOTLP, "ingest.otlp", c.OTLP, otlp.New),
	}
}

// kind is one receiver as configured: how to build it, and how to hand a
// running one a new configuration.
type kind struct {
	name      event.Kind
	component string // the logger's component
	cfg       any    // the configuration section, compared on a reload
	build     func(ingest.Deps) (ingest.Receiver, error)
	// reload gives a running receiver cfg; false when it cannot take a
	// new configuration (it is restarted instead).
	reload func(context.Context, ingest.Receiver) (bool, error)
}

// bind makes the kind of a receiver package: its New and its section.
func bind[C any, R ingest.Receiver](name event.Kind, component string, cfg C, newR func(C, ingest.Deps) (R, error)) kind {
	return kind{
		name: name, component: component, cfg: cfg,
		build: func(d ingest.Deps) (ingest.Receiver, error) { return newR(cfg, d) },
		reload: func(ctx context.Context, r ingest.Receiver) (bool, error) {
			rl, ok := r.(ingest.Reloader[C])
			if !ok {
				return false, nil
			}
			return true, rl.Reload(ctx, cfg)
		},
	}
}

// receiverSet runs the receivers and changes them on a reload.
type receiverSet struct {
	d   ingest.Deps // without Log: each receiver gets its own
	log *slog.Logger

	reloads chan setReload
	done    chan struct{} // closed when run returns

	mu      sync.Mutex
	running bool
	order   []event.Kind
	byName  map[event.Kind]*runner
}

// runner is one receiver and its goroutine.
type runner struct {
	kind   kind
	r      ingest.Receiver
	cancel context.CancelFunc
	done   chan struct{}
	err    error // Run's, once done is closed
}

type setReload struct {
	kinds []kind
	done  chan error
}

// newReceiverSet builds every receiver of kinds (errors in their
// configuration stop the server from starting).
func newReceiverSet(kinds []kind, d ingest.Deps, log *slog.Logger) (*receiverSet, error) {
	rs := &receiverSet{d: d, log: log, reloads: make(chan setReload), done: make(chan struct{}), byName: map[event.Kind]*runner{}}
	for _, k := range kinds {
		r, err := rs.build(k)
		if err != nil {
			return nil, err
		}
		rs.order = append(rs.order, k.name)
		rs.byName[k.name] = &runner{kind: k, r: r}
	}
	return rs, nil
}

func (rs *receiverSet) build(k kind) (ingest.Receiver, error) {
	d := rs.d
	d.Log = rs.log.With("component", k.component)
	return k.build(d)
}

// check builds every receiver of kinds without running any: a
// configuration they refuse (a TLS file unreadable) is refused whole.
func (rs *receiverSet) check(kinds []kind) error {
	for _, k := range kinds {
		if _, err := rs.build(k); err != nil {
			return err
		}
	}
	return nil
}

// get returns the running receiver of kind name.
func (rs *receiverSet) get(name event.Kind) ingest.Receiver {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.byName[name].r
}

// run runs every receiver until ctx is done, and applies reloads. A
// receiver that fails to start stops them all and its error is returned
// ("syslog: syslog: listeners[0]: ..."); one restarted by a reload that
// fails is logged and left off until the next reload.
func (rs *receiverSet) run(ctx context.Context) error {
	defer close(rs.done)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	failed := make(chan error, len(rs.order))
	rs.mu.Lock()
	rs.running = true
	for _, name := range rs.order {
		rs.start(ctx, rs.byName[name], failed)
	}
	rs.mu.Unlock()
	var err error
	for err == nil {
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case err = <-failed:
		case req := <-rs.reloads:
			req.done <- rs.apply(ctx, req.kinds)
		}
	}
	cancel()
	rs.mu.Lock()
	all := make([]*runner, 0, len(rs.byName))
	for _, r := range rs.byName {
		all = append(all, r)
	}
	rs.mu.Unlock()
	for _, r := range all {
		if r.done != nil {
			<-r.done
		}
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// start runs r; a failure is sent on failed (nil: logged only).
func (rs *receiverSet) start(ctx context.Context, r *runner, failed chan<- error) {
	rctx, cancel := context.WithCancel(ctx)
	r.cancel, r.done = cancel, make(chan struct{})
	go func() {
		defer close(r.done)
		r.err = r.r.Run(rctx)
		switch {
		case r.err == nil:
		case failed != nil:
			failed <- fmt.Errorf("%s: %w", r.kind.name, r.err)
		default:
			rs.log.Error("receiver stopped", "receiver", string(r.kind.name), "err", r.err)
		}
	}()
}

// reload hands kinds to run's goroutine and waits until they are applied.
func (rs *receiverSet) reload(ctx context.Context, kinds []kind) error {
	rs.mu.Lock()
	if !rs.running {
		// Not started yet: the receivers are rebuilt with kinds.
		defer rs.mu.Unlock()
		for _, k := range kinds {
			r, err := rs.build(k)
			if err != nil {
				return err
			}
			rs.byName[k.name] = &runner{kind: k, r: r}
		}
		return nil
	}
	rs.mu.Unlock()
	req := setReload{kinds: kinds, done: make(chan error, 1)}
	select {
	case rs.reloads <- req:
	case <-rs.done:
		return errors.New("receivers stopped")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// restartWait bounds how long apply waits for a restarted receiver to
// fail at start (an address in use) before it reports it running.
const restartWait = 250 * time.Millisecond

// apply gives each receiver its new section: a Reloader takes it while it
// runs; any other, when its section changed, is built anew, then the old
// one is stopped (requests in flight finish) and the new one started.
func (rs *receiverSet) apply(ctx context.Context, kinds []kind) error {
	var errs []error
	for _, k := range kinds {
		rs.mu.Lock()
		cur := rs.byName[k.name]
		rs.mu.Unlock()
		// A Reloader takes even an unchanged section: its TLS listeners
		// read their certificate files again.
		if ok, err := k.reload(ctx, cur.r); ok {
			if err != nil {
				errs = append(errs, err)
			}
			rs.mu.Lock()
			cur.kind = k
			rs.mu.Unlock()
			continue
		}
		if reflect.DeepEqual(cur.kind.cfg, k.cfg) {
			continue
		}
		r, err := rs.build(k)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cur.cancel()
		<-cur.done
		next := &runner{kind: k, r: r}
		rs.mu.Lock()
		rs.byName[k.name] = next
		rs.start(ctx, next, nil)
		rs.mu.Unlock()
		select {
		case <-next.done:
			if next.err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", k.name, next.err))
			}
		case <-time.After(restartWait):
		}
		rs.log.Info("receiver restarted with its new configuration", "receiver", string(k.name))
	}
	return errors.Join(errs...)
}

// tenants counts, per tenant, the running listeners that name it.
func (rs *receiverSet) tenants() map[tenant.ID]int {
	rs.mu.Lock()
	var rcvs []ingest.Receiver
	for _, r := range rs.byName {
		rcvs = append(rcvs, r.r)
	}
	rs.mu.Unlock()
	out := map[tenant.ID]int{}
	for _, r := range rcvs {
		if l, ok := r.(interface{ Tenants() []tenant.ID }); ok {
			for _, t := range l.Tenants() {
				out[t]++
			}
		}
	}
	return out
}

// MetricTenantMissing is, per tenant, how many listeners name it while it
// does not exist: their senders are refused until it is created.
const MetricTenantMissing = "tarian_listener_tenant_missing"

// watchTenants makes sure every tenant the listeners name has its
// MetricTenantMissing gauge.
func watchTenants(reg *metrics.Registry, rs *receiverSet, tenants ingest.Tenants) {
	for t := range rs.tenants() {
		reg.Gauge(fmt.Sprintf("%s{tenant=%q}", MetricTenantMissing, t), func() float64 {
			n := rs.tenants()[t]
			if n == 0 {
				return 0
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if _, err := tenants.Tenant(ctx, t); errors.Is(err, tenant.ErrNotFound) {
				return float64(n)
			}
			return 0
		})
	}
}

// tenantStore is the state store's tenants as the API uses them: a tenant
// it creates is known at once to the receivers' tenant cache, so a
// listener waiting for it accepts its senders from the next connection.
type tenantStore struct {
	*sqlstore.DB
	srv *Server
}

func (s tenantStore) CreateTenant(ctx context.Context, t tenant.Tenant) (tenant.Tenant, error) {
	created, err := s.DB.CreateTenant(ctx, t)
	if err == nil {
		s.srv.tenants.Added(created.ID)
		s.srv.announce(ctx, changeTenantAdded+string(created.ID)) // cluster.go
	}
	return created, err
}

// SyslogAddrs returns the addresses the syslog receivers listen on, once
// Run has bound them.
func (s *Server) SyslogAddrs() []net.Addr {
	return s.receivers.get(event.KindSyslog).(*syslog.Receiver).Addrs()
}

// LumberjackAddrs returns the addresses the Lumberjack v2 (Beats) receivers
// listen on, once Run has bound them.
func (s *Server) LumberjackAddrs() []net.Addr {
	return s.receivers.get(event.KindLumberjack).(*lumberjack.Receiver).Addrs()
}

// ForwardAddrs returns the addresses the Fluent Forward receivers listen
// on, once Run has bound them.
func (s *Server) ForwardAddrs() []net.Addr {
	return s.receivers.get(event.KindForward).(*forward.Receiver).Addrs()
}

// ElasticsearchAddr returns the address of the Elasticsearch bulk receiver
// once Run has bound it (nil when it is off).
func (s *Server) ElasticsearchAddr() net.Addr {
	return s.receivers.get(event.KindElasticsearch).(*esbulk.Receiver).Addr()
}

// OTLPHTTPAddr returns the address of the OTLP/HTTP logs receiver once
// Run has bound it (nil when it is off).
func (s *Server) OTLPHTTPAddr() net.Addr {
	return s.receivers.get(event.KindOTLP).(*otlp.Receiver).HTTPAddr()
}

// OTLPGRPCAddr returns the address of the OTLP/gRPC logs receiver once
// Run has bound it (nil when it is off).
func (s *Server) OTLPGRPCAddr() net.Addr {
	return s.receivers.get(event.KindOTLP).(*otlp.Receiver).GRPCAddr()
}

// HECAddr returns the address of the Splunk HEC receiver once Run has
// bound it (nil when it is off).
func (s *Server) HECAddr() net.Addr {
	return s.receivers.get(event.KindHEC).(*hec.Receiver).Addr()
}
