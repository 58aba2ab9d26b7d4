// Package vlhttp is Tarian's event store on a victoria-logs server or
// cluster, over its HTTP API: JSON lines in (/insert/jsonline), LogsQL out
// (/select/logsql/query). It behaves as the embedded store
// (logstore/vlogs): the same fields, the same time handling, the same limits,
// the same search (free-text rewrite, one query per tenant, newest first).
//
// Each Tarian tenant is a VictoriaLogs AccountID (ProjectID 0), sent in the
// AccountID and ProjectID headers of every request. An event's message is
// stored as _msg and its time as _time; an event outside the retention window
// is stored at its ingest time with its own time kept in @timestamp.
//
// The server must run with -defaultMsgValue= (empty), or it would give every
// event without a message a made-up one; Open refuses a server that does not,
// and reads the server's insert limits so that Add refuses, rather than the
// server silently drops, what exceeds them. See Store.Flush for what a flush
// guarantees, and Store.Delete for deletion.
package vlhttp

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/klauspost/compress/zstd"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/ingest/jsonstr"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/logstore/vlrow"
	"github.com/tarian-soc/tarian/internal/tenant"
)

var (
	// ErrUnavailable wraps a failure to reach the server.
	ErrUnavailable = logstore.ErrUnavailable
)

// Store is an event store on a victoria-logs server. It is safe for
// concurrent use.
type Store struct {
	cfg     Config
	tenants logstore.Resolver
	log     *slog.Logger
	hc      *http.Client
	zw      *zstd.Encoder

	// nodes are the servers that store data: the URL itself for a single
	// node, Config.StorageNodes for a cluster front.
	nodes []string
	// cluster is set when URL is a cluster front.
	cluster bool
	// insert are the limits of the server that parses JSON lines.
	insert serverLimits
	// flushIntervals are the nodes' -inmemoryDataFlushInterval.
	flushIntervals map[string]time.Duration

	// flushMu lets Flush hold Adds back while it runs.
	flushMu sync.RWMutex
	// daysMu guards dirty: the UTC days (partition names) written since the
	// last Flush.
	daysMu sync.Mutex
	dirty  map[string]struct{}

	closed       atomic.Bool
	timeAdjusted atomic.Uint64

	// stats is the last Stats read; statsMu guards it and statsAt.
	statsMu      sync.Mutex
	stats        logstore.Stats
	statsAt      time.Time
	statsRunning bool
	statsWG      sync.WaitGroup
}

// Open connects to the server at cfg.URL, filling zero fields of cfg with
// their defaults, and checks its settings. It then asks the server to make
// everything it received searchable, so that what a previous process added
// shortly before it died is found by a search (the indexer's look-up after a
// crash relies on it).
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
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	// VictoriaLogs closes idle connections after a minute; stay below.
	tr.IdleConnTimeout = 30 * time.Second
	zw, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("open event store: %w", err)
	}
	s := &Store{
		cfg:     cfg,
		tenants: tenants,
		log:     log.With("component", "logstore.vlhttp"),
		hc:      &http.Client{Transport: tr},
		zw:      zw,
		dirty:   make(map[string]struct{}),

		flushIntervals: make(map[string]time.Duration),
	}
	s.cfg.URL = strings.TrimRight(cfg.URL, "/")
	for i := range s.cfg.StorageNodes {
		s.cfg.StorageNodes[i] = strings.TrimRight(s.cfg.StorageNodes[i], "/")
	}
	if err := s.connect(context.Background()); err != nil {
		s.hc.CloseIdleConnections()
		return nil, fmt.Errorf("open event store %s: %w", s.cfg.URL, err)
	}
	s.log.Info("event store open", "url", s.cfg.URL, "cluster", s.cluster, "storage_nodes", len(s.nodes))
	return s, nil
}

// connect reads the servers' settings and makes what they hold searchable.
func (s *Store) connect(ctx context.Context) error {
	storage, err := s.isStorage(ctx, s.cfg.URL)
	if err != nil {
		return err
	}
	s.cluster = !storage
	s.insert, err = s.limits(ctx, s.cfg.URL, storage)
	if err != nil {
		return err
	}
	if err := s.insert.check(s.cfg.URL, s.cfg); err != nil {
		return err
	}
	if storage {
		if len(s.cfg.StorageNodes) > 0 {
			return errors.New("storage nodes are set but the URL is a single node, not a cluster front")
		}
		s.nodes = []string{s.cfg.URL}
		s.flushIntervals[s.cfg.URL] = s.insert.flushInterval
	} else {
		s.nodes = s.cfg.StorageNodes
		if len(s.nodes) == 0 {
			s.log.Warn("cluster front without storage nodes: Flush makes events searchable, then waits out the nodes' flush interval for durability",
				"node_flush_interval", s.cfg.NodeFlushInterval)
		}
	}
	for _, n := range s.nodes {
		if n == s.cfg.URL {
			continue
		}
		ok, err := s.isStorage(ctx, n)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("storage node %s does not answer the partition API: not a storage node", n)
		}
		l, err := s.limits(ctx, n, true)
		if err != nil {
			return err
		}
		if err := l.check(n, s.cfg); err != nil {
			return err
		}
		s.flushIntervals[n] = l.flushInterval
		// A storage node applies its own field limit to what the front
		// forwards.
		s.insert.maxFields = min(s.insert.maxFields, l.maxFields)
	}
	_, err = s.call(ctx, s.cfg.URL+"/internal/force_flush")
	return err
}

// Add stores events for tenant t. An event the server would drop (too many
// fields, too long a field name or line) fails the whole call before
// anything is sent. The events go in requests of about Config.BatchBytes; if
// one fails, those sent before it are stored: Add is at-least-once, and the
// indexer's look-up by bus position makes a retry exactly-once. Events
// become searchable within about a second (Refresh: at once) and durable
// after Flush.
func (s *Store) Add(ctx context.Context, t tenant.ID, events []event.Event) error {
	if len(events) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("add events: %w", err)
	}
	if s.closed.Load() {
		return fmt.Errorf("add events: %w", logstore.ErrClosed)
	}
	account, err := s.tenants.Number(ctx, t)
	if err != nil {
		return fmt.Errorf("add events: resolve tenant %s: %w", t, err)
	}
	bodies, days, adjusted, err := s.encode(events)
	if err != nil {
		return fmt.Errorf("add events: %w", err)
	}

	s.flushMu.RLock()
	defer s.flushMu.RUnlock()
	// A day counts as written once a request for it may have reached the
	// server, so mark it before sending.
	s.daysMu.Lock()
	for d := range days {
		s.dirty[d] = struct{}{}
	}
	s.daysMu.Unlock()
	for i, b := range bodies {
		if err := s.insertBody(ctx, account, b); err != nil {
			return fmt.Errorf("add %d events of %s: request %d of %d: %w", len(events), t, i+1, len(bodies), err)
		}
	}
	if adjusted > 0 {
		s.timeAdjusted.Add(uint64(adjusted))
		s.log.Debug("events outside retention stored at ingest time", "tenant", t, "count", adjusted)
	}
	return nil
}

// encode turns events into JSON-lines request bodies of about BatchBytes
// each, checking every event against the server's limits.
func (s *Store) encode(events []event.Event) (bodies [][]byte, days map[string]struct{}, adjusted int, err error) {
	w := vlrow.NewWindow(time.Now(), s.cfg.Retention, s.cfg.FutureRetention)
	days = make(map[string]struct{}, 1)
	var fields []logstorage.Field
	var buf []byte
	for i := range events {
		var ts time.Time
		var moved bool
		fields, ts, moved = vlrow.Append(fields[:0], &events[i], w)
		if moved {
			adjusted++
		}
		// The server counts the _time field it parses the time from.
		if err := vlrow.CheckLimits(fields, 1, min(s.insert.maxFields, vlrow.MaxFields)); err != nil {
			return nil, nil, 0, fmt.Errorf("event %d: %w", i, err)
		}
		start := len(buf)
		buf = appendLine(buf, ts, fields)
		if n := len(buf) - start; n > s.insert.maxLineBytes {
			return nil, nil, 0, fmt.Errorf("event %d: %w: %d bytes as a JSON line, the server's limit (-insert.maxLineSizeBytes) %d", i, logstore.ErrTooLarge, n, s.insert.maxLineBytes)
		}
		days[ts.UTC().Format("20060102")] = struct{}{}
		if len(buf) >= s.cfg.BatchBytes {
			bodies = append(bodies, buf)
			buf = nil
		}
	}
	if len(buf) > 0 {
		bodies = append(bodies, buf)
	}
	return bodies, days, adjusted, nil
}

// appendLine appends one event as a JSON line: _time first, then the fields
// in order; a byte that is not UTF-8 becomes U+FFFD (JSON is UTF-8).
func appendLine(b []byte, ts time.Time, fields []logstorage.Field) []byte {
	b = append(b, `{"_time":"`...)
	b = ts.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	for _, f := range fields {
		b = append(b, ',')
		b, _ = jsonstr.Append(b, f.Name)
		b = append(b, ':')
		b, _ = jsonstr.Append(b, f.Value)
	}
	return append(b, "}\n"...)
}

var gzipPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }}

// insertBody sends one JSON-lines body for account.
func (s *Store) insertBody(ctx context.Context, account uint32, body []byte) error {
	var enc string
	switch s.cfg.Compression {
	case "zstd":
		body = s.zw.EncodeAll(body, make([]byte, 0, len(body)/4))
		enc = "zstd"
	case "gzip":
		var b bytes.Buffer
		zw := gzipPool.Get().(*gzip.Writer)
		zw.Reset(&b)
		_, _ = zw.Write(body)
		err := zw.Close()
		gzipPool.Put(zw)
		if err != nil {
			return fmt.Errorf("BUG: gzip: %w", err)
		}
		body, enc = b.Bytes(), "gzip"
	}
	q := url.Values{}
	q.Set("_time_field", "_time")
	q.Set("_msg_field", "_msg")
	q.Set("_stream_fields", strings.Join(s.cfg.StreamFields, ","))
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL+"/insert/jsonline?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	// Without a Content-Type the server may read the body as a form and
	// store nothing (measured: curl's default form type loses every line).
	req.Header.Set("Content-Type", "application/stream+json")
	if enc != "" {
		req.Header.Set("Content-Encoding", enc)
	}
	setTenant(req, account)
	resp, err := s.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 2:
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	case resp.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("%w: %w", logstore.ErrReadOnly, statusError(resp))
	default:
		return statusError(resp)
	}
}

func setTenant(req *http.Request, account uint32) {
	req.Header.Set("AccountID", strconv.FormatUint(uint64(account), 10))
	req.Header.Set("ProjectID", "0")
}

// TimeAdjusted is the number of events stored at their ingest time because
// their own time was outside the retention window (kept in @timestamp) or
// missing.
func (s *Store) TimeAdjusted() uint64 {
	return s.timeAdjusted.Load()
}

// refreshTimeout bounds Refresh, which has no context.
const refreshTimeout = 10 * time.Second

// Refresh asks the server to make every event it has received searchable
// (not durable); a failure is logged. Until then the server buffers rows for
// up to a second (a cluster front, up to a second more).
func (s *Store) Refresh() {
	if s.closed.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
	defer cancel()
	if _, err := s.call(ctx, s.cfg.URL+"/internal/force_flush"); err != nil {
		s.log.Warn("refresh failed", "err", err)
	}
}

// Flush returns once every Add that returned before it is searchable and
// written to disk on each storage node, as far as VictoriaLogs' HTTP API
// lets a client make sure. Adds through this Store wait while it runs.
//
// What it does (VictoriaLogs v1.52.1):
//
//  1. GET /internal/force_flush on URL. A single node moves its buffered rows
//     into in-memory parts (searchable, not on disk). A cluster front first
//     sends the rows it buffers to the storage nodes, synchronously (rerouting
//     from a node that fails to the others, and waiting while none accepts),
//     then forwards force_flush to every node, logging but not returning a
//     node's failure.
//  2. On each storage node (URL itself, or Config.StorageNodes): force_flush
//     again, its error checked; then, for each UTC day written since the last
//     Flush, /internal/partition/snapshot/create with that day as the
//     partition prefix, and /internal/partition/snapshot/delete of each
//     snapshot made. Creating a snapshot writes the partition's in-memory
//     parts (data and index) to new file parts, fsynced, with parts.json
//     replaced atomically, exactly as logstore/vlogs' Flush does in process;
//     the snapshot itself (hard links) is deleted at once. This is repeated
//     until the node's /metrics report no in-memory parts, no pending rows
//     and no in-memory merges (a snapshot skips parts a merge holds); from
//     the fourth round on, every partition is taken, since the figures
//     count every day's parts.
//  3. If a node still reports in-memory parts (background merges, or another
//     writer adding), the rounds go on, further apart, until the node's
//     -inmemoryDataFlushInterval (read from its /flags) plus a second has
//     passed since its force_flush: by then VictoriaLogs' own flusher has
//     written to disk every part that was in memory at the force_flush. A
//     cluster front with no StorageNodes is waited out the same way, with
//     Config.NodeFlushInterval.
//
// Limits: a cluster front acknowledges an insert once the rows are in its
// memory; they are on a storage node only after step 1, so a front that dies
// before Flush loses them (Add's caller retries from its checkpoint). A
// storage node that goes down after Flush keeps what Flush wrote; the front
// reroutes new rows to the other nodes. If Flush returns an error, nothing
// is promised.
func (s *Store) Flush(ctx context.Context) error {
	if s.closed.Load() {
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

	if _, err := s.call(ctx, s.cfg.URL+"/internal/force_flush"); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	if len(s.nodes) == 0 {
		if err := sleep(ctx, s.cfg.NodeFlushInterval+time.Second); err != nil {
			return fmt.Errorf("flush: %w", err)
		}
	}
	errs := make([]error, len(s.nodes))
	var wg sync.WaitGroup
	for i, n := range s.nodes {
		wg.Go(func() { errs[i] = s.flushNode(ctx, n, days) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("flush: %w", err)
	}

	s.daysMu.Lock()
	for _, d := range days {
		delete(s.dirty, d)
	}
	s.daysMu.Unlock()
	return nil
}

// flushNode writes the in-memory data of the storage node at base for days
// to disk (see Flush).
func (s *Store) flushNode(ctx context.Context, base string, days []string) error {
	if _, err := s.call(ctx, base+"/internal/force_flush"); err != nil {
		return err
	}
	// By then the node's own flusher has written every part that was in
	// memory at the force_flush.
	deadline := time.Now().Add(s.flushIntervals[base] + time.Second)
	pause := 5 * time.Millisecond
	for i := 0; ; i++ {
		if i == 3 {
			// In-memory parts of other days (written through another
			// Store, or before a restart) keep the figures up: take every
			// partition.
			days = []string{""}
		}
		for _, d := range days {
			if err := s.snapshot(ctx, base, d); err != nil {
				return err
			}
		}
		m, err := s.nodeMetrics(ctx, base)
		if err != nil {
			return err
		}
		if m.inmemoryParts == 0 && m.pendingRows == 0 && m.inmemoryMerges == 0 {
			return nil
		}
		if time.Now().Add(pause).After(deadline) {
			s.log.Debug("flush: storage node keeps in-memory parts; waiting out its flush interval", "node", base)
			return sleep(ctx, time.Until(deadline))
		}
		if err := sleep(ctx, pause); err != nil {
			return err
		}
		pause = min(2*pause, 250*time.Millisecond)
	}
}

// snapshot creates and deletes a snapshot of the partitions of day on the
// storage node at base, which writes their in-memory parts to disk.
func (s *Store) snapshot(ctx context.Context, base, day string) error {
	b, err := s.call(ctx, base+"/internal/partition/snapshot/create?partition_prefix="+url.QueryEscape(day))
	if err != nil {
		return err
	}
	var paths []string
	if err := jsonUnmarshal(b, &paths); err != nil {
		return fmt.Errorf("snapshot of %s on %s: %w", day, base, err)
	}
	for _, p := range paths {
		if _, err := s.call(ctx, base+"/internal/partition/snapshot/delete?path="+url.QueryEscape(p)); err != nil {
			return fmt.Errorf("delete snapshot %s on %s: %w", p, base, err)
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Close marks the store closed and releases its connections; it does not
// flush (the server keeps what it received). Later calls return logstore.ErrClosed.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.statsWG.Wait()
	s.hc.CloseIdleConnections()
	s.log.Info("event store closed", "url", s.cfg.URL)
	return nil
}
