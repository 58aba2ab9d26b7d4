package server

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/tarian-soc/tarian/internal/backup"
	"github.com/tarian-soc/tarian/internal/config"
	"github.com/tarian-soc/tarian/internal/indexer"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/logstore/vlhttp"
	"github.com/tarian-soc/tarian/internal/logstore/vlogs"
	"github.com/tarian-soc/tarian/internal/parse/windows"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// eventStore is the event store as the server uses it: the embedded
// VictoriaLogs (logstore/vlogs) or a VictoriaLogs server or cluster over
// HTTP (logstore/vlhttp, events.url).
type eventStore interface {
	indexer.Store
	Delete(ctx context.Context, t tenant.ID, before time.Time) (int, error)
	Export(ctx context.Context, t tenant.ID, fn func(logstore.Row) error) error
	Stats() logstore.Stats
	TimeAdjusted() uint64
	Close() error
}

// snapshotter is the embedded event store's consistent copy (backup.go).
type snapshotter interface {
	Snapshot(ctx context.Context) ([]vlogs.PartitionSnapshot, func() error, error)
}

// errExternalBackup refuses a backup where an engine is not embedded:
// those are backed up with their own tools.
var errExternalBackup = fmt.Errorf("%w: tarian backup copies the embedded engines; with bus.url, events.url or state.url set, back up NATS JetStream, VictoriaLogs and PostgreSQL with their own tools (docs/scaling.md)", backup.ErrUnsupported)

// openEvents opens the event store the configuration names.
func openEvents(cfg config.Config, tenants logstore.Resolver, log *slog.Logger) (eventStore, error) {
	e := cfg.Events
	if e.URL == "" {
		c := e.Store(filepath.Join(cfg.Data, "events"))
		c.StoredName = windows.NativeName
		return vlogs.Open(c, tenants, log)
	}
	return vlhttp.Open(vlhttp.Config{URL: e.URL, StorageNodes: e.StorageNodes, Retention: e.Retention, FutureRetention: e.FutureRetention,
		StreamFields: e.StreamFields, StoredName: windows.NativeName},
		tenants, log.With("component", "events", "url", e.URL))
}

// openState opens the state store the configuration names.
func openState(ctx context.Context, cfg config.Config) (*sqlstore.DB, error) {
	if cfg.State.URL != "" {
		return sqlstore.OpenPostgres(ctx, cfg.State.URL)
	}
	return sqlstore.Open(ctx, filepath.Join(cfg.Data, "state.db"))
}

// engineKind says "embedded" for an empty engine URL, "external" otherwise
// (the start-up log line).
func engineKind(url string) string {
	if url == "" {
		return "embedded"
	}
	return "external"
}
