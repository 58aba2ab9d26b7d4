package vlogs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/logstore/logsql"
	"github.com/tarian-soc/tarian/internal/logstore/vlrow"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// DefaultLimit is the number of rows Search returns when Query.Limit is 0.
const DefaultLimit = 1000

// Search runs q and calls fn with each result row, newest first, until the
// rows run out, q.Limit is reached, fn returns an error (Search returns it)
// or ctx is done.
//
// A text filter that names no field (a word, a "phrase", foo*, i(foo), ...)
// searches the message and the text fields (see logsql.TextFields and logsql.TextQuery),
// not the message alone as in LogsQL: Windows events have no message.
//
// A VictoriaLogs query over several tenants does not say which tenant a
// result came from, and a stats pipe would add the tenants up, so Search runs
// q once per tenant and merges the results: rows with a time newest first
// (by the time stored, _time), with the limit applied to the whole; rows
// without one (pipes such as stats) tenant by tenant. q.From is inclusive,
// q.To exclusive; both bound the stored time, which is the event's own time
// except for events stored at their ingest time (Store.TimeAdjusted), whose
// Row.Time still reports their own time, from @timestamp: a range reaching
// back past the retention window also finds those by their own time
// (vlrow.Bounds).
func (s *Store) Search(ctx context.Context, q logstore.Query, fn func(logstore.Row) error) error {
	return s.search(ctx, q, textFields, fn)
}

// search is Search with the text fields given; none leaves LogsQL's meaning.
func (s *Store) search(ctx context.Context, q logstore.Query, fields []string, fn func(logstore.Row) error) error {
	if len(q.Tenants) == 0 {
		return errors.New("search: no tenant in scope")
	}
	if q.Limit < 0 {
		return fmt.Errorf("search: %w: negative limit %d", logstore.ErrBadQuery, q.Limit)
	}
	limit := q.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	parsedAt := time.Now().UnixNano()
	// The user's query is parsed as written, so that a mistake is reported
	// in their words.
	base, err := logstorage.ParseQueryAtTimestamp(q.LogsQL, parsedAt)
	if err != nil {
		return fmt.Errorf("search: %w: %w", logstore.ErrBadQuery, err)
	}
	if text, ok := logsql.TextQuery(q.LogsQL, fields, s.cfg.StoredName); ok && len(fields) > 0 {
		tq, err := logstorage.ParseQueryAtTimestamp(text, parsedAt)
		if err != nil {
			// Should not happen (FuzzTextQuery): search as LogsQL says.
			s.log.Warn("search: text fields not searched: rewritten query does not parse", "err", err)
		} else {
			base = tq
		}
	}
	if !q.From.IsZero() || !q.To.IsZero() {
		w := vlrow.NewWindow(time.Unix(0, parsedAt), s.cfg.Retention, s.cfg.FutureRetention)
		b := vlrow.Bounds(q.From, q.To, w)
		base.AddTimeFilter(b.Start, b.End)
		if b.Filter != "" {
			f, err := logstorage.ParseFilterAtTimestamp(b.Filter, parsedAt)
			if err != nil {
				return fmt.Errorf("BUG: search: time filter %q: %w", b.Filter, err)
			}
			base.AddExtraFilters(f)
		}
	}
	// Queries whose pipes keep rows as rows get the newest `limit`; others
	// (stats, uniq, ...) just the first `limit` result rows.
	byTime := base.CanReturnLastNResults()
	if byTime {
		base.AddPipeSortByTimeDesc()
	}
	base.AddPipeOffsetLimit(0, uint64(limit))

	return vlrow.Merge(ctx, q.Tenants, s.tenants, limit, byTime, func(ctx context.Context, t tenant.ID, account uint32, hits []vlrow.Hit) ([]vlrow.Hit, error) {
		return s.runQuery(ctx, t, account, base.Clone(parsedAt), hits)
	}, fn)
}

// runQuery runs q for one tenant and appends its rows to hits.
func (s *Store) runQuery(ctx context.Context, t tenant.ID, account uint32, q *logstorage.Query, hits []vlrow.Hit) ([]vlrow.Hit, error) {
	s.life.RLock()
	defer s.life.RUnlock()
	if s.closed {
		return nil, fmt.Errorf("search: %w", logstore.ErrClosed)
	}
	var mu sync.Mutex
	tenants := []logstorage.TenantID{{AccountID: account}}
	qctx := logstorage.NewQueryContext(ctx, &logstorage.QueryStats{}, tenants, q, false, nil)
	// The engine calls write from several workers at once, with blocks it
	// reuses afterwards: copy what is kept.
	write := func(_ uint, db *logstorage.DataBlock) {
		rows := blockRows(t, db)
		mu.Lock()
		hits = append(hits, rows...)
		mu.Unlock()
	}
	if err := s.st.RunQuery(qctx, write); err != nil {
		return nil, fmt.Errorf("search tenant %s: %w", t, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return hits, nil
}

// blockRows converts one result block to rows: _msg becomes message,
// VictoriaLogs' own fields go, empty values (absent fields) are skipped,
// fields are sorted by name, and ghosts are dropped.
//
// A ghost is what VictoriaLogs leaves of a deleted event that was the first
// of its block: a row with a time and a stream but no field (it keeps blocks
// sorted). It is no event: an event always has fields (its bus position at
// least). A row of a query that drops the stream (fields, stats) is never
// one.
func blockRows(t tenant.ID, db *logstorage.DataBlock) []vlrow.Hit {
	n := db.RowsCount()
	stamps, hasTime := db.GetTimestamps(nil)
	var cols []logstorage.BlockColumn
	streams := false
	for _, c := range db.GetColumns(false) {
		switch c.Name {
		case "_time", "_stream", "_stream_id":
			streams = streams || c.Name == "_stream_id"
			continue
		case "_msg":
			c.Name = event.FieldMessage
		default:
			c.Name = strings.Clone(c.Name)
		}
		cols = append(cols, c)
	}
	slices.SortFunc(cols, func(a, b logstorage.BlockColumn) int { return strings.Compare(a.Name, b.Name) })

	hits := make([]vlrow.Hit, 0, n)
	for i := range n {
		hits = append(hits, vlrow.Hit{})
		h := &hits[len(hits)-1]
		h.Row.Tenant = t
		h.Row.Fields = make([]event.Field, 0, len(cols))
		for _, c := range cols {
			if v := c.Values[i]; v != "" {
				h.Row.Fields = append(h.Row.Fields, event.Field{Name: c.Name, Value: strings.Clone(v)})
			}
		}
		if streams && len(h.Row.Fields) == 0 {
			hits = hits[:len(hits)-1] // a ghost
			continue
		}
		if hasTime {
			h.Stored = stamps[i]
			h.Row.Time = time.Unix(0, stamps[i]).UTC()
		}
		for _, f := range h.Row.Fields {
			if f.Name == event.FieldTimestamp {
				if ts, err := time.Parse(time.RFC3339Nano, f.Value); err == nil {
					h.Row.Time = ts
				}
			}
		}
	}
	return hits
}
