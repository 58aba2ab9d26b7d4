package server

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/tarian-soc/tarian/internal/config"
	"github.com/tarian-soc/tarian/internal/parse"
)

// reloadState is what Reload applied last.
type reloadState struct {
	mu  sync.Mutex
	cfg config.Config
}

// reloadable are the top-level keys Reload applies while the server runs.
var reloadable = map[string]bool{
	"syslog": true, "hec": true, "elasticsearch": true, "lumberjack": true, "forward": true, "otlp": true,
	"sources": true, "raw": true, "raw_archive": true, "limits": true,
}

// Reload applies cfg, the configuration read again (on SIGHUP), while the
// server runs: the receivers (a listener added, removed or changed starts
// and stops, the other listeners keep their connections; an HTTP receiver
// whose section changed is restarted), the log sources and raw record
// policies, and the ingest limits. Other settings wait for a restart, as
// the log says. An invalid cfg is refused whole, with the reason, and the
// running configuration stays; an error applying it (an address in use)
// names the listener, and the rest is applied.
func (s *Server) Reload(ctx context.Context, cfg config.Config) error {
	s.reload.mu.Lock()
	defer s.reload.mu.Unlock()
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
