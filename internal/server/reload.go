package server

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/tarian-soc/tarian/internal/audit"
	"github.com/tarian-soc/tarian/internal/config"
	"github.com/tarian-soc/tarian/internal/health"
	"github.com/tarian-soc/tarian/internal/parse"
)

// reloadState is what Reload applied last.
type reloadState struct {
	mu  sync.Mutex
	cfg config.Config
}

// reloaded returns the configuration Reload applied last.
func (s *Server) reloaded() config.Config {
	s.reload.mu.Lock()
	defer s.reload.mu.Unlock()
	return s.reload.cfg
}

// reloadable are the top-level keys Reload applies while the server runs.
var reloadable = map[string]bool{
	"syslog": true, "hec": true, "elasticsearch": true, "lumberjack": true, "forward": true, "otlp": true,
	"sources": true, "raw": true, "raw_archive": true, "limits": true, "health": true, "retention": true,
}

// Reload applies cfg, the configuration read again (on SIGHUP), while the
// server runs: the receivers (a listener added, removed or changed starts
// and stops, the other listeners keep their connections; an HTTP receiver
// whose section changed is restarted), the log sources and raw record
// policies, the ingest limits, source health and retention (the next run
// of the retention job uses it). Other settings wait for a restart, as
// the log says. An invalid cfg is refused whole, with the reason, and the
// running configuration stays; an error applying it (an address in use)
// names the listener, and the rest is applied.
func (s *Server) Reload(ctx context.Context, cfg config.Config) error {
	s.reload.mu.Lock()
	defer s.reload.mu.Unlock()
	old := s.reload.cfg
	err := s.reloadLocked(ctx, cfg)
	s.auditReload(ctx, old, cfg, err)
	return err
}

// auditReload records a reload in the provider's audit chain: the keys it
// changed (applied now or at the next restart), or why it was refused.
func (s *Server) auditReload(ctx context.Context, old, cfg config.Config, err error) {
	applied, later := changedKeys(old, cfg)
	d := map[string]any{"applied": applied, "next_restart": later}
	action := "config.reload"
	if err != nil {
		action, d = "config.reload.failure", map[string]any{"error": err.Error()}
	}
	detail, _ := json.Marshal(d)
	rec := audit.Record{Time: time.Now().UTC(), Actor: "system:reload", Action: action, Detail: string(detail)}
	if aerr := s.db.Append(ctx, rec); aerr != nil {
		s.log.Error("audit the configuration reload", "err", aerr)
	}
}

func (s *Server) reloadLocked(ctx context.Context, cfg config.Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	pc := parse.Config{Sources: cfg.Sources, Raw: cfg.Raw, RawArchive: cfg.RawArchive}
	kinds := receivers(cfg)
	if err := s.receivers.check(kinds); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	old := s.reload.cfg
	if err := s.pipeline.Reload(pc); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	s.sink.SetLimits(cfg.Limits)
	s.health.Configure(cfg.Health, health.DeclaredSources(cfg.Sources))
	s.configureMonitors(cfg) // partitions.go
	err := s.receivers.reload(ctx, kinds)
	watchTenants(s.metrics, s.receivers, s.tenants)
	s.reload.cfg = cfg
	changed, later := changedKeys(old, cfg)
	if len(later) > 0 {
		s.log.Warn("configuration reloaded; these settings take effect at the next restart", "keys", strings.Join(later, ", "))
	}
	s.log.Info("configuration reloaded", "changed", strings.Join(changed, ", "))
	return err
}

// changedKeys lists the top-level keys whose values differ between a and
// b: those Reload applies, and the others.
func changedKeys(a, b config.Config) (applied, later []string) {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	t := va.Type()
	for i := range t.NumField() {
		key, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if key == "" || key == "-" || reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			continue
		}
		if reloadable[key] {
			applied = append(applied, key)
		} else {
			later = append(later, key)
		}
	}
	return applied, later
}
