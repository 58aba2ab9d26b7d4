package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tarian-soc/tarian/internal/indexer"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/intel/imports"
	"github.com/tarian-soc/tarian/internal/intel/indicators"
	"github.com/tarian-soc/tarian/internal/intel/stix"
	"github.com/tarian-soc/tarian/internal/intel/warninglist"
)

// warnings are the warning lists of every configured directory.
type warnings []*warninglist.Set

func (w warnings) Check(t intel.Type, v string) (string, bool) {
	for _, s := range w {
		if l, ok := s.Check(t, v); ok {
			return l, true
		}
	}
	return "", false
}

// parseIntel detects an import file's format and reads it.
func parseIntel(name string, data []byte, opts intel.ImportOptions) (intel.Batch, error) {
	f, err := imports.Detect(name, data)
	if err != nil {
		return intel.Batch{}, err
	}
	return imports.Parse(f, data, opts)
}

// newIntel starts the intel service: its warning lists, importers and
// STIX writer, and the stored indicators in the matcher's index.
func (s *Server) newIntel(ctx context.Context, cfg indicators.Config, log *slog.Logger) (*indicators.Service, error) {
	var ws warnings
	for _, dir := range cfg.Warninglists {
		set, err := warninglist.LoadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("intel.warninglists: %w", err)
		}
		for _, p := range set.Problems() {
			log.Warn("intel: warning list", "dir", dir, "problem", p)
		}
		ws = append(ws, set)
	}
	d := indicators.Deps{
		Store: s.db, Objects: s.db, Search: s.events, Alerts: s.alerts, Tenants: s.tenantIDs, Log: log,
		Changed: func(ctx context.Context) { s.announce(ctx, changeIntel) },
		Stored:  s.storedNow,
		Alerted: s.db.AlertedBefore,
		Formats: indicators.Formats{Parse: parseIntel, Object: stix.IndicatorObject, Sighting: stix.SightingObject, Bundle: stix.Bundle},
	}
	if len(ws) > 0 {
		d.Warnings = ws
	}
	svc, err := indicators.New(ctx, cfg, d)
	if err != nil {
		return nil, err
	}
	log.Info("intel: indicators loaded", "indicators", svc.Len(), "warning_lists", len(ws))
	return svc, nil
}

// huntWait bounds how long a retro-hunt waits for the event store to hold
// what the bus holds; a hunt that waited in vain stays queued and is tried
// again later.
const huntWait = 5 * time.Minute

// storedNow waits until every partition's indexer has stored what the bus
// holds now.
func (s *Server) storedNow(ctx context.Context) error {
	if s.parts.held() == 0 && s.leases == nil {
		return nil // no event path runs here
	}
	seq, err := s.bus.LastSeq(ctx)
	if err != nil {
		return fmt.Errorf("bus position: %w", err)
	}
	return s.waitProcessed(ctx, seq, huntWait, indexer.Name)
}
