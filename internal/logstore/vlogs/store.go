// Package vlogs is Tarian's embedded event store: VictoriaLogs' storage
// engine (lib/logstorage) run in-process, with its built-in tenants and
// LogsQL search.
//
// Each Tarian tenant is a VictoriaLogs AccountID (ProjectID 0) given by a
// logstore.Resolver, so the data folder opens unchanged in a victoria-logs server.
// An event's message is stored as _msg, so a bare LogsQL word finds it; its
// time is _time. VictoriaLogs silently drops rows outside its retention
// window; this store never does: such an event is stored at its ingest time
// and keeps its own time in @timestamp (see Store.TimeAdjusted).
//
// The engine keeps process-wide state (flags, cache sizes, a logger):
// call SetProcessLimits once before Open.
package vlogs

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/logstore/vlrow"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Store is an open event store. It is safe for concurrent use.
type Store struct {
	cfg     Config
	tenants logstore.Resolver
	log     *slog.Logger
	st      *logstorage.Storage

	// life guards st against Close: every method holds it for reading.
	life   sync.RWMutex
	closed bool

	// flushMu lets Flush stop Adds while it drains the engine's memory.
	flushMu sync.RWMutex
	// daysMu guards dirty: the UTC days (partition names) written since the
	// last Flush.
	daysMu sync.Mutex
	dirty  map[string]struct{}

	timeAdjusted atomic.Uint64

	// orders are the rowOrders of Adds (one each at a time), kept from
	// one Add to the next.
	orders chan *rowOrder
}

// Open opens or creates the store in cfg.Path, filling zero fields of cfg with
// their defaults. SetProcessLimits must have been called. Two stores in one
// process need two paths.
func Open(cfg Config, tenants logstore.Resolver, log *slog.Logger) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if tenants == nil {
		return nil, errors.New("open event store: nil tenant resolver")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if !flag.Parsed() {
		// The engine would panic inside a sync.Once and stay broken.
		return nil, errors.New("open event store: call SetProcessLimits first")
	}
	if err := os.MkdirAll(cfg.Path, 0o700); err != nil {
		return nil, fmt.Errorf("open event store: %w", err)
	}
	minFree := max(cfg.MinFreeDiskBytes, 0)
	st, err := openStorage(cfg.Path, &logstorage.StorageConfig{
		Retention:             cfg.Retention,
		FutureRetention:       cfg.FutureRetention,
		MinFreeDiskSpaceBytes: minFree,
		MaxDiskUsagePercent:   cfg.MaxDiskUsagePercent,
		// VictoriaLogs' server default (-inmemoryDataFlushInterval); the
		// library's is 1 s. Durability does not rest on it (Flush), and
		// in-memory parts kept longer are merged in memory into fewer,
		// larger parts on disk: a part per second cut the events of a
		// steady 10,000 a second into parts of a few MB, each of about
		// 260 files, which took half again the bytes on disk.
		FlushInterval: inmemoryFlushInterval,
	})
	if err != nil {
		return nil, fmt.Errorf("open event store %s: %w", cfg.Path, err)
	}
	s := &Store{
		cfg:     cfg,
		tenants: tenants,
		log:     log.With("component", "logstore.vlogs"),
		st:      st,
		dirty:   make(map[string]struct{}),
		orders:  make(chan *rowOrder, 8),
	}
	s.log.Info("event store open", "path", cfg.Path)
	return s, nil
}

// openStorage turns the engine's panics on open (a second opener of the same
// directory, a damaged partition) into an error.
func openStorage(path string, cfg *logstorage.StorageConfig) (st *logstorage.Storage, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return logstorage.MustOpenStorage(path, cfg), nil
}

// Add stores events for tenant t. It either accepts the whole batch or
// returns an error and stores nothing; no event is dropped silently. Events
// become searchable within about a second; call Refresh to make them
// searchable at once, Flush to make them durable.
func (s *Store) Add(ctx context.Context, t tenant.ID, events []event.Event) error {
	if len(events) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("add events: %w", err)
	}
	account, err := s.tenants.Number(ctx, t)
	if err != nil {
		return fmt.Errorf("add events: resolve tenant %s: %w", t, err)
	}
	s.life.RLock()
	defer s.life.RUnlock()
	if s.closed {
		return fmt.Errorf("add events: %w", logstore.ErrClosed)
	}
	if s.st.IsReadOnly() {
		return fmt.Errorf("add %d events: %w", len(events), logstore.ErrReadOnly)
	}

	lr := logstorage.GetLogRows(s.cfg.StreamFields, nil, nil, nil, "")
	defer logstorage.PutLogRows(lr)
	tid := logstorage.TenantID{AccountID: account}
	// The UTC days written, as days since the epoch: formatted once each
	// below, not once an event.
	var days []int64
	w := vlrow.NewWindow(time.Now(), s.cfg.Retention, s.cfg.FutureRetention)
	var order *rowOrder
	select {
	case order = <-s.orders:
	default:
		order = newRowOrder()
	}
	defer func() {
		select {
		case s.orders <- order:
		default:
		}
	}()
	var fields []logstorage.Field
	adjusted := 0
	for i := range events {
		var ts time.Time
		var moved bool
		fields, ts, moved = vlrow.Append(fields[:0], &events[i], w)
		if moved {
			adjusted++
		}
		if err := vlrow.CheckLimits(fields, 0, vlrow.MaxFields); err != nil {
			return fmt.Errorf("add events: event %d: %w", i, err)
		}
		order.sort(fields)
		lr.MustAdd(tid, ts.UnixNano(), fields, -1)
		if d := dayOf(ts); len(days) == 0 || days[len(days)-1] != d && !slices.Contains(days, d) {
			days = append(days, d)
		}
	}

	s.flushMu.RLock()
	defer s.flushMu.RUnlock()
	s.st.MustAddRows(lr)
	s.daysMu.Lock()
	for _, d := range days {
		s.dirty[time.Unix(d*secondsPerDay, 0).UTC().Format("20060102")] = struct{}{}
	}
	s.daysMu.Unlock()
	if adjusted > 0 {
		s.timeAdjusted.Add(uint64(adjusted))
		s.log.Debug("events outside retention stored at ingest time", "tenant", t, "count", adjusted)
	}
	return nil
}

const secondsPerDay = 24 * 60 * 60

// dayOf returns t's UTC day as days since the Unix epoch.
func dayOf(t time.Time) int64 {
	sec := t.Unix()
	d := sec / secondsPerDay
	if sec%secondsPerDay < 0 {
		d--
	}
	return d
}

// TimeAdjusted is the number of events stored at their ingest time because
// their own time was outside the retention window (kept in @timestamp) or
// missing.
func (s *Store) TimeAdjusted() uint64 {
	return s.timeAdjusted.Load()
}

// Refresh makes every event added so far searchable (not durable). Until
// then the engine buffers rows for up to a second, and in that time stats
// queries count them while row queries do not return them.
func (s *Store) Refresh() {
	s.life.RLock()
	defer s.life.RUnlock()
	if !s.closed {
		s.st.DebugFlush()
	}
}

// inmemoryFlushInterval is how long the engine keeps new data in memory
// before writing it out on its own.
const inmemoryFlushInterval = 5 * time.Second

// Flush returns once every Add that returned before it is searchable and
// durable on disk (it survives kill -9). Adds wait while it runs.
//
// What VictoriaLogs offers (v1.52.1): DebugFlush only moves buffered rows into
// in-memory parts, searchable but not on disk; the engine writes those parts
// out on its own only after its flush interval (inmemoryFlushInterval). The one
// public call that writes them out at once is a partition snapshot: it
// flushes the partition's index and data in-memory parts to new file parts,
// each file fsynced on close, the part directory and its parent fsynced, and
// parts.json replaced atomically with an fsync. Flush therefore snapshots each
// day written since the last Flush and deletes the snapshot (hard links)
// straight away. A snapshot skips in-memory parts that a background merge
// holds at that moment, so Flush repeats until the engine reports no
// in-memory data parts and no in-memory merge. One residue stays: the engine
// reports index merges of one partition only, so in a rare race the index
// entries of brand-new streams can reach disk up to a flush interval late;
// losing them in a crash loses only those streams' _stream labels, never
// events, and the next event of the stream re-registers it. (Test binaries
// skip the fsyncs unless DISABLE_FSYNC_FOR_TESTING=false.)
func (s *Store) Flush(ctx context.Context) error {
	s.life.RLock()
	defer s.life.RUnlock()
	if s.closed {
		return fmt.Errorf("flush: %w", logstore.ErrClosed)
	}
	s.flushMu.Lock()
	defer s.flushMu.Unlock()

	s.daysMu.Lock()
	days := make([]string, 0, len(s.dirty))
	for d := range s.dirty {
		days = append(days, d)
	}
	s.daysMu.Unlock()
	if len(days) == 0 {
		return nil
	}
	slices.Sort(days)

	for i := 0; ; i++ {
		if i == 10 {
			// Should not happen; make sure by snapshotting every partition.
			days = []string{""}
		}
		s.st.DebugFlush()
		for _, d := range days {
			for _, p := range s.st.PartitionSnapshotMustCreate(d) {
				if err := s.st.PartitionSnapshotDelete(p); err != nil {
					return fmt.Errorf("flush: delete snapshot: %w", err)
				}
			}
		}
		var ss logstorage.StorageStats
		s.st.UpdateStats(&ss)
		if ss.InmemoryParts == 0 && ss.PendingRows == 0 && ss.ActiveInmemoryMerges == 0 && ss.IndexdbActiveInmemoryMerges == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("flush: %w", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}

	s.daysMu.Lock()
	for _, d := range days {
		delete(s.dirty, d)
	}
	s.daysMu.Unlock()
	return nil
}

// ReadOnly reports whether the store refuses writes for want of free
// disk space (below Config.MinFreeDiskBytes; the engine checks about once
// a second): Add returns logstore.ErrReadOnly meanwhile.
func (s *Store) ReadOnly() bool {
	s.life.RLock()
	defer s.life.RUnlock()
	return !s.closed && s.st.IsReadOnly()
}

// Stats reports the events stored (including those not yet flushed) and
// their size on disk (data and index parts).
func (s *Store) Stats() logstore.Stats {
	s.life.RLock()
	defer s.life.RUnlock()
	if s.closed {
		return logstore.Stats{}
	}
	var ss logstorage.StorageStats
	s.st.UpdateStats(&ss)
	// PendingRows covers only the newest day (the engine assigns rather than
	// adds it across partitions); it is zero after a Flush.
	return logstore.Stats{
		Rows:      ss.PendingRows + ss.InmemoryRowsCount + ss.SmallPartRowsCount + ss.BigPartRowsCount,
		DiskBytes: ss.CompressedSmallPartSize + ss.CompressedBigPartSize + ss.IndexdbSizeBytes,
	}
}

// Close writes everything to disk and closes the store. It waits for running
// calls to return; later calls return logstore.ErrClosed.
func (s *Store) Close() error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.st.MustClose()
	s.log.Info("event store closed", "path", s.cfg.Path)
	return nil
}
