// Package server is Tarian's composition root: it opens every engine the
// configuration names, wires the pipeline (HTTP ingest → bus → indexer →
// event store; search and admin APIs over the state store) and runs it
// until its context ends, then shuts down in order. It is the only package
// that imports every implementation.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tarian-soc/tarian/internal/advisory"
	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/alert/notify"
	"github.com/tarian-soc/tarian/internal/audit"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/bus"
	"github.com/tarian-soc/tarian/internal/config"
	"github.com/tarian-soc/tarian/internal/defend"
	"github.com/tarian-soc/tarian/internal/detect"
	"github.com/tarian-soc/tarian/internal/detector"
	"github.com/tarian-soc/tarian/internal/feed"
	"github.com/tarian-soc/tarian/internal/health"
	"github.com/tarian-soc/tarian/internal/incident"
	"github.com/tarian-soc/tarian/internal/indexer"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/intel/indicators"
	"github.com/tarian-soc/tarian/internal/lease"
	"github.com/tarian-soc/tarian/internal/metrics"
	"github.com/tarian-soc/tarian/internal/parse"
	"github.com/tarian-soc/tarian/internal/poll"
	"github.com/tarian-soc/tarian/internal/rawarchive"
	"github.com/tarian-soc/tarian/internal/savedsearch"
	"github.com/tarian-soc/tarian/internal/stage"
	"github.com/tarian-soc/tarian/internal/store"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/taxii"
	"github.com/tarian-soc/tarian/internal/tenant"
	"github.com/tarian-soc/tarian/internal/web"
)

// AddrFile is written in the data directory with the address the API
// listens on (useful with --listen 127.0.0.1:0).
const AddrFile = "tarian.addr"

// AdminTokenFile holds the provider-admin token created on first start.
const AdminTokenFile = "admin.token"

// Server is one running Tarian.
type Server struct {
	cfg  config.Config
	log  *slog.Logger
	db   *sqlstore.DB
	bus  *bus.Bus
	sink *ingest.Limiter // the bus behind the tenants' ingest limits
	// tenants is the tenant store as the receivers' listeners ask it.
	tenants *ingest.TenantCache
	// pipeline parses records for the indexer and the detector.
	pipeline *parse.Pipeline
	events   eventStore          // engines.go
	raw      *rawarchive.Archive // the raw record archive (raw_archive)
	metrics  *metrics.Registry
	api      *web.API
	rules    *detector.Service
	// intel keeps indicators and matches them on the event stream.
	intel *indicators.Service
	// taxii serves TAXII 2.1; taxiiFeeds polls remote collections.
	taxii      *taxii.Server
	taxiiFeeds *taxii.Poller
	// defend shares confirmed observables and raises campaigns.
	defend *defend.Service
	// feed carries alert and case changes to the live stream.
	feed *feed.Hub
	// alerts turns detections into the analysts' queue.
	alerts *alert.Pipeline
	// searches runs the scheduled saved searches.
	searches *savedsearch.Runner
	// cases is case management; its changes go to the live stream.
	cases *incident.Service
	// health counts every log source's events and alerts silence.
	health *health.Monitor
	// receivers are the protocol receivers (receivers.go).
	receivers *receiverSet
	poll      *poll.Service
	notify    *notify.Service
	reload    reloadState
	ready     atomic.Bool
	addr      atomic.Value                // string
	diagAddr  atomic.Value                // string: the loopback diagnostics listener
	lock      *dataLock                   // held from New until close
	stage     atomic.Pointer[stage.Stage] // the bus read of a single partition, from Run (a backup holds it: backup.go)
	// parts are the bus partitions this node runs (partitions.go);
	// leases and members share them with other nodes on an external bus
	// (nil on the embedded one).
	parts   local
	leases  *lease.Manager
	members *members
	changes jetstream.KeyValue // cluster.go
	// numbers resolves tenants for the event store (a removal forgets one).
	numbers  *tenantNumbers
	removeMu sync.Mutex // one tenant removal at a time (offboard.go)
	removing removals   // tenants being removed: writes refused
	// tokenCache is the API's and the protocol receivers' token look-ups.
	tokenCache *auth.TokenCache
	// engines answers GET /readyz for the engines (ready.go).
	engines *readiness
}

// New opens the stores and the bus under cfg.Data. vlogs.SetProcessLimits
// must have been called (main does).
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (_ *Server, err error) {
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	lock, err := lockData(cfg.Data)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			lock.release()
		}
	}()
	s := &Server{cfg: cfg, log: log, metrics: metrics.New(), lock: lock, feed: feed.New(feed.DefaultConfig()), tokenCache: &auth.TokenCache{}}
	if s.db, err = openState(ctx, cfg); err != nil { // engines.go
		return nil, err
	}
	if err := s.bootstrap(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	s.numbers = &tenantNumbers{db: s.db}
	s.events, err = openEvents(cfg, s.numbers, log) // engines.go
	if err != nil {
		s.db.Close()
		return nil, err
	}
	if s.bus, err = bus.Open(ctx, cfg.Bus, cfg.Data, log.With("component", "bus")); err != nil {
		s.events.Close()
		s.db.Close()
		return nil, err
	}
	if cfg.Bus.URL != "" { // several nodes may share the bus (cluster.go)
		if err := s.openCluster(ctx); err != nil {
			s.close()
			return nil, err
		}
	}
	mapping, err := detect.LoadMapping(cfg.Detection.MappingFile)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("detection.mapping_file: %w", err)
	}
	if s.pipeline, err = parse.New(parse.Config{Sources: cfg.Sources, Raw: cfg.Raw, RawArchive: cfg.RawArchive}); err != nil {
		s.close()
		return nil, err
	}
	s.raw, err = rawarchive.Open(rawarchive.Config{Dir: filepath.Join(cfg.Data, "raw"), Retention: cfg.Events.Retention},
		rawarchive.Deps{Checkpoints: s.db, Pipeline: s.pipeline, Log: log.With("component", "rawarchive")})
	if err != nil {
		s.close()
		return nil, err
	}
	s.alerts, err = alert.NewPipeline(ctx, cfg.Alerts, alert.Deps{Store: s.db, OnChange: s.alertsChanged})
	if err != nil {
		s.close()
		return nil, err
	}
	s.cases, err = incident.NewService(cfg.Cases, incident.Deps{Store: s.db, Alerts: s.alerts, Dir: filepath.Join(cfg.Data, "evidence"),
		OnChange: web.CaseChanges(s.feed, log.With("component", "cases"))})
	if err != nil {
		s.close()
		return nil, err
	}
	s.intel, err = s.newIntel(ctx, cfg.Intel, log.With("component", "intel"))
	if err != nil {
		s.close()
		return nil, err
	}
	if s.defend, err = defend.New(cfg.Defend, defend.Deps{Store: s.db, Intel: s.intel, Audit: s.db, Log: log.With("component", "defend")}); err != nil {
		s.close()
		return nil, err
	}
	if s.taxii, err = taxii.New(cfg.TAXII, taxii.Deps{Store: s.db, Importer: s.intel, Tenants: s.db, Log: log.With("component", "taxii")}); err != nil {
		s.close()
		return nil, err
	}
	if s.taxiiFeeds, err = taxii.NewPoller(cfg.TAXII.Feeds, taxii.PollerDeps{State: s.db, Importer: s.intel, DefaultTLP: cfg.Intel.TLP(), Log: log.With("component", "taxii.poller")}); err != nil {
		s.close()
		return nil, err
	}
	s.rules, err = detector.New(ctx, detector.Deps{Mapping: mapping, Store: s.db, Alerts: s.alerts, Intel: s.intel, Metrics: s.metrics, Log: log.With("component", "detector"),
		Changed: func(ctx context.Context) { s.announce(ctx, changeRules) }})
	if err != nil {
		s.close()
		return nil, err
	}
	s.health = health.New(cfg.Health, health.DeclaredSources(cfg.Sources), health.Deps{Store: s.db, Alerts: s.alerts, Log: log.With("component", "health")})
	// Every receiver writes through the tenants' limits.
	s.sink = ingest.NewLimiter(removalGuard{s.bus, &s.removing}, cfg.Limits, s.metrics)
	// Today's quota use as saved before a restart (Run saves it).
	if err := s.sink.Restore(ctx, s.db); err != nil {
		s.close()
		return nil, err
	}
	s.tenants = ingest.NewTenantCache(s.db)
	s.receivers, err = newReceiverSet(receivers(cfg), ingest.Deps{
		Sink: s.sink, DeadLetters: s.db, Tenants: s.tenants, Auth: ingestAuth{tokens: s.db, cache: s.tokenCache}, Metrics: s.metrics,
	}, log)
	if err != nil {
		s.close()
		return nil, err
	}
	s.reload.cfg = cfg
	box, err := poll.OpenBox(cfg.Data, cfg.SecretKey)
	if err != nil {
		s.close()
		return nil, err
	}
	signer, err := AuditSigner(cfg.Data, cfg.SecretKey) // audit.go
	if err != nil {
		s.close()
		return nil, err
	}
	if err := s.db.ClaimSecretKey(ctx, audit.KeyID(signer.PublicKey())); err != nil {
		s.close()
		if errors.Is(err, store.ErrSecretKeyDiffers) {
			from := "TARIAN_SECRET_KEY"
			if cfg.SecretKey == "" {
				from = filepath.Join(cfg.Data, poll.KeyFile) + ", made for this data directory"
			}
			return nil, fmt.Errorf("secret key: %w (this server's key is from %s). Every server on one state store needs the same key (docs/scaling.md): set TARIAN_SECRET_KEY to the others'; a restored server needs its backup's", err, from)
		}
		return nil, err
	}
	s.db.SetAuditSigner(signer)
	s.poll, err = poll.New(ctx, cfg.Poll, poll.Deps{Store: s.db, Sink: s.sink, Box: box, Log: log.With("component", "poll")})
	if err != nil {
		s.close()
		return nil, err
	}
	s.notify, err = notify.New(ctx, cfg.Notify, notify.Deps{Store: s.db, Box: box, Metrics: s.metrics, Log: log.With("component", "notify")})
	if err != nil {
		s.close()
		return nil, err
	}
	s.registerGauges()
	watchTenants(s.metrics, s.receivers, s.tenants)
	s.engines = s.newReadiness()
	s.searches = savedsearch.NewRunner(savedsearch.RunnerDeps{
		Store: s.db, Events: s.events, Alerts: s.alerts, Members: s.tenantIDs, Stored: s.storedNow,
		Metrics: s.metrics, Log: log.With("component", "searches"),
	})
	s.api = web.New(cfg.API, web.Deps{
		Tenants:       tenantStore{DB: s.db, srv: s},
		Tokens:        s.db,
		TokenCache:    s.tokenCache,
		Users:         s.db,
		SSO:           s.db,
		Secrets:       box,
		Ingest:        ingest.NewService(cfg.Ingest, s.sink, s.db, s.metrics),
		IngestLimit:   cfg.Ingest,
		IngestKeys:    s.db,
		Search:        s.events,
		Raw:           s.raw,
		DeadLetters:   s.db,
		Audit:         s.db,
		Alerts:        s.alerts,
		Rules:         clusterRules{s.rules, s}, // partitions.go
		CloudSources:  s.poll,
		Sources:       healthSources{s}, // partitions.go
		Notify:        s.notify,
		SavedSearches: savedSearches{s.db, s.searches},
		Feed:          s.feed,
		Cases:         s.cases,
		Intel:         s.intel,
		TAXII:         s.taxii,
		Defend:        s.defend,
		Advisories:    advisory.NewService(advisory.Deps{Store: s.db, Intel: s.db, Members: s.tenantIDs}),
		Reports:       reports{s.reportDeps()}, // reports.go
		Metrics:       http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { s.metrics.Write(w) }),
		Ready:         s.readyErr,
		Engines:       s.engines.status,
		Backup:        s,
		Offboard:      offboarder{s},
		Log:           log.With("component", "web"),
	})
	return s, nil
}

// savedSearches wakes the runner when a search is saved or changed with
// a schedule, so that it runs at once (on this node; on another, at its
// runner's next tick).
type savedSearches struct {
	*sqlstore.DB
	runner *savedsearch.Runner
}

func (s savedSearches) AddSavedSearch(ctx context.Context, ss savedsearch.Search) (savedsearch.Search, error) {
	out, err := s.DB.AddSavedSearch(ctx, ss)
	if err == nil && out.Schedule != nil {
		s.runner.Wake()
	}
	return out, err
}

func (s savedSearches) UpdateSavedSearch(ctx context.Context, space tenant.ID, id int64, ss savedsearch.Search) (before, after savedsearch.Search, err error) {
	before, after, err = s.DB.UpdateSavedSearch(ctx, space, id, ss)
	if err == nil && after.Schedule != nil {
		s.runner.Wake()
	}
	return before, after, err
}

// tenantIDs lists every tenant (an intel retro-hunt's audience "all").
func (s *Server) tenantIDs(ctx context.Context) ([]tenant.ID, error) {
	ts, err := s.db.Tenants(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]tenant.ID, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	return ids, nil
}

// alertsChanged hands alert changes, once stored, to /metrics, the live
// stream and the notifications.
func (s *Server) alertsChanged(ctx context.Context, cs []alert.Change) {
	observeAlerts(s.metrics, cs)
	web.AlertChanges(s.feed, s.cfg.Alerts, s.log)(ctx, cs)
	// One call's changes are one tenant's (Raise is per tenant, Act one alert).
	if len(cs) > 0 && s.notify != nil {
		s.notify.Notify(ctx, cs[0].Alert.Tenant, cs)
	}
	if len(cs) > 0 && s.defend != nil {
		if err := s.defend.Observe(ctx, cs[0].Alert.Tenant, cs); err != nil {
			s.log.Error("campaign detection", "err", err)
		}
	}
}

// Addr returns the API's listen address once Run is listening.
func (s *Server) Addr() string {
	a, _ := s.addr.Load().(string)
	return a
}

func (s *Server) readyErr() error {
	if !s.ready.Load() {
		return errors.New("starting")
	}
	return nil
}

// bootstrap makes sure a provider-admin can log in: the token from
// TARIAN_BOOTSTRAP_TOKEN, or on first start a new one written to
// <data>/admin.token (0600).
func (s *Server) bootstrap(ctx context.Context) error {
	if secret := s.cfg.BootstrapToken; secret != "" {
		if _, err := s.db.TokenByHash(ctx, auth.Hash(secret)); err == nil {
			return nil
		}
		_, id, _ := auth.NewSecret()
		err := s.db.CreateToken(ctx, auth.Token{ID: id, Role: auth.RoleProviderAdmin, Name: "bootstrap", Hash: auth.Hash(secret), Created: time.Now().UTC()})
		if err != nil {
			// Nodes of a new cluster starting together on one state
			// store: another stored the same token first.
			if _, lerr := s.db.TokenByHash(ctx, auth.Hash(secret)); lerr == nil {
				return nil
			}
		}
		return err
	}
	n, err := s.db.CountTokens(ctx)
	if err != nil || n > 0 {
		return err
	}
	secret, id, hash := auth.NewSecret()
	path := filepath.Join(s.cfg.Data, AdminTokenFile)
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := s.db.CreateToken(ctx, auth.Token{ID: id, Role: auth.RoleProviderAdmin, Name: "first start", Hash: hash, Created: time.Now().UTC()}); err != nil {
		return err
	}
	s.log.Info("created provider-admin token", "file", path)
	return nil
}

func (s *Server) registerGauges() {
	s.metrics.Writer(web.AlertGauges(s.db))
	gauge := func(name string, f func(ctx context.Context) (float64, error)) {
		s.metrics.Gauge(name, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			v, err := f(ctx)
			if err != nil {
				return -1
			}
			return v
		})
	}
	gauge("tarian_bus_lag_messages", func(ctx context.Context) (float64, error) {
		n, _, err := s.lag(ctx, indexer.Name, 0, nil)
		return float64(n), err
	})
	gauge("tarian_detector_lag_messages", func(ctx context.Context) (float64, error) {
		n, _, err := s.lag(ctx, detector.Name, 0, nil)
		return float64(n), err
	})
	s.metrics.Gauge("tarian_partitions_held", func() float64 { return float64(s.parts.held()) })
	for p := range s.cfg.Bus.Partitions {
		s.metrics.Gauge(fmt.Sprintf(`tarian_partition_held{partition="%d"}`, p), func() float64 {
			if s.parts.monitor(p) != nil {
				return 1
			}
			return 0
		})
	}
	gauge("tarian_bus_stream_bytes", func(ctx context.Context) (float64, error) {
		st, err := s.bus.Stats(ctx)
		return float64(st.Bytes), err
	})
	gauge("tarian_events_stored", func(context.Context) (float64, error) {
		return float64(s.events.Stats().Rows), nil
	})
	gauge("tarian_events_disk_bytes", func(context.Context) (float64, error) {
		return float64(s.events.Stats().DiskBytes), nil
	})
	gauge("tarian_events_time_adjusted_total", func(context.Context) (float64, error) {
		return float64(s.events.TimeAdjusted()), nil
	})
}

// Run serves until ctx is done, then shuts down gracefully: stop accepting
// requests and finish those in flight, let the indexer drain the bus, flush
// and close every store.
func (s *Server) Run(ctx context.Context) error {
	tlsCfg, err := s.apiTLS()
	if err != nil {
		s.close()
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		s.close()
		return fmt.Errorf("listen %s: %w", s.cfg.Listen, err)
	}
	addr := ln.Addr().String()
	s.addr.Store(addr)
	if err := os.WriteFile(filepath.Join(s.cfg.Data, AddrFile), []byte(addr+"\n"), 0o600); err != nil {
		ln.Close()
		s.close()
		return err
	}
	hs := &http.Server{Handler: s.api, TLSConfig: tlsCfg, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	httpErr := make(chan error, 2)
	diag, err := s.diagnostics(httpErr)
	if err != nil {
		ln.Close()
		s.close()
		return err
	}

	// The consumers get their own context: on shutdown they drain the bus
	// after the API has stopped taking events.
	cCtx, stopConsumers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopConsumers()
	var wg sync.WaitGroup
	consumerErr := make(chan error, 1)
	// One read of each bus partition, each record parsed once, for the
	// indexer and the detector (each with its own checkpoint), on the
	// node that holds the partition (partitions.go).
	if s.members != nil {
		wg.Go(func() { s.members.Run(cCtx) })
		wg.Go(func() { s.watchChanges(cCtx) })
	}
	wg.Go(func() {
		err := s.runPartitions(cCtx)
		if err == nil && cCtx.Err() == nil {
			err = errors.New("stopped")
		}
		if err != nil {
			consumerErr <- fmt.Errorf("%s: %w", stage.Name, err)
		}
	})
	wg.Go(func() { s.checkpointAudit(cCtx) }) // audit.go
	// Scheduled work runs on one node of a cluster at a time.
	wg.Go(func() {
		s.scheduled(cCtx, "scheduler", func(ctx context.Context) error {
			var wg sync.WaitGroup
			wg.Go(func() { s.trimBus(ctx) })
			wg.Go(func() { s.runReports(ctx) })   // reports.go
			wg.Go(func() { s.runRetention(ctx) }) // retention.go
			wg.Wait()
			return nil
		})
	})
	// Scheduled searches run on one node at a time.
	wg.Go(func() {
		s.scheduled(cCtx, "searches", s.searches.Run)
	})
	// Retro-hunts run on one node at a time, from the queue in the state
	// store.
	wg.Go(func() {
		s.scheduled(cCtx, "retrohunt", func(ctx context.Context) error {
			s.intel.RunRetroHunts(ctx)
			return nil
		})
	})
	// Quota use is saved every few seconds and, once the receivers and the
	// API have stopped, a last time.
	wg.Go(func() {
		if err := s.sink.Run(cCtx, s.log.With("component", "ingest.limit")); err != nil {
			s.log.Warn("saving quota use at shutdown failed", "err", err)
		}
	})
	// Notifications stop with the consumers, after the drain's last alerts.
	wg.Go(func() {
		s.scheduled(cCtx, "notify", func(ctx context.Context) error {
			if err := s.notify.Run(ctx); err != nil {
				s.log.Error("notifications stopped", "err", err)
			}
			return nil
		})
	})
	// Receivers, like the API, stop before the consumers drain.
	rCtx, stopReceivers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopReceivers()
	receivers := map[string]func(context.Context) error{
		"poll":  func(ctx context.Context) error { return s.scheduled(ctx, "poll", s.poll.Run) },
		"taxii": func(ctx context.Context) error { return s.scheduled(ctx, "taxii", s.taxiiFeeds.Run) },
	}
	receiverErr := make(chan error, len(receivers)+1)
	var rwg sync.WaitGroup
	rwg.Go(func() {
		if err := s.receivers.run(rCtx); err != nil {
			receiverErr <- err
		}
	})
	for name, run := range receivers {
		rwg.Go(func() {
			if err := run(rCtx); err != nil {
				receiverErr <- fmt.Errorf("%s: %w", name, err)
			}
		})
	}
	go func() { httpErr <- serveHTTP(hs, ln) }()
	s.log.Info("tarian serving", "addr", addr, "tls", tlsCfg != nil, "data", s.cfg.Data, "node", s.cfg.Node.Name,
		"bus", engineKind(s.cfg.Bus.URL), "events", engineKind(s.cfg.Events.URL), "state", engineKind(s.cfg.State.URL), "partitions", s.cfg.Bus.Partitions)
	s.ready.Store(true)

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-httpErr:
		runErr = fmt.Errorf("http: %w", err)
	case runErr = <-consumerErr:
	case runErr = <-receiverErr:
	}
	s.ready.Store(false)
	s.log.Info("shutting down")
	shCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s.feed.Close() // open streams end, so Shutdown need not wait for them
	s.shutdownHTTP(shCtx, hs, "api")
	s.shutdownHTTP(shCtx, diag, "metrics")
	stopReceivers()
	rwg.Wait()
	if runErr == nil {
		s.drain(shCtx)
	}
	stopConsumers()
	wg.Wait()
	s.close()
	s.log.Info("stopped")
	return runErr
}

// trimBus keeps the bus from filling with messages every consumer has
// processed: once the stream passes half its max_bytes, those are removed
// (below that they stay, for replay, until bus.max_age).
func (s *Server) trimBus(ctx context.Context) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st, err := s.bus.Stats(ctx)
		if err != nil || st.Bytes < uint64(s.cfg.Bus.MaxBytes/2) {
			continue
		}
		low, err := s.trimmable(ctx)
		if err != nil || low == 0 {
			continue
		}
		if err := s.bus.Trim(ctx, low+1); err != nil {
			s.log.Warn("trim bus", "err", err)
		}
	}
}

// drain waits until the consumers of the partitions this node runs have
// durably processed everything on the bus (on an external bus, where other
// nodes keep writing: up to where it ended when the drain began), or ctx
// ends.
func (s *Server) drain(ctx context.Context) {
	var upto uint64
	if s.leases != nil {
		var err error
		if upto, err = s.bus.LastSeq(ctx); err != nil {
			return
		}
	}
	parts := s.parts.list()
	for {
		var n uint64
		var err error
		for _, kind := range consumerKinds {
			var l uint64
			if l, _, err = s.lag(ctx, kind, upto, parts); err != nil {
				break
			}
			n += l
		}
		if err != nil || n == 0 {
			return
		}
		if ro, ok := s.events.(readOnlyer); ok && ro.ReadOnly() {
			s.log.Warn("shutdown with the event store read-only (low free disk space): the rest is indexed on next start", "lag", n)
			return
		}
		select {
		case <-ctx.Done():
			s.log.Warn("shutdown before the bus was drained; the rest is indexed on next start", "lag", n)
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Server) close() {
	if err := s.bus.Close(); err != nil {
		s.log.Warn("close bus", "err", err)
	}
	if err := s.events.Close(); err != nil {
		s.log.Warn("close event store", "err", err)
	}
	if s.raw != nil {
		s.raw.Close()
	}
	if err := s.db.Close(); err != nil {
		s.log.Warn("close state store", "err", err)
	}
	if err := s.lock.release(); err != nil {
		s.log.Warn("release data directory lock", "err", err)
	}
}

// tenantNumbers resolves tenants to the event store's numeric keys, from
// the state store, cached (numbers never change).
type tenantNumbers struct {
	db    *sqlstore.DB
	cache sync.Map // tenant.ID → uint32
}

func (r *tenantNumbers) Number(ctx context.Context, t tenant.ID) (uint32, error) {
	if n, ok := r.cache.Load(t); ok {
		return n.(uint32), nil
	}
	tn, err := r.db.Tenant(ctx, t)
	if err != nil {
		return 0, err
	}
	r.cache.Store(t, tn.Number)
	return tn.Number, nil
}
