package vlogs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// DefaultLimit is the number of rows Search returns when Query.Limit is 0.
const DefaultLimit = 1000

// hit is one result row with the _time VictoriaLogs sorted it by.
type hit struct {
	row    logstore.Row
	stored int64
}

// Search runs q and calls fn with each result row, newest first, until the
// rows run out, q.Limit is reached, fn returns an error (Search returns it)
// or ctx is done.
//
// A text filter that names no field (a word, a "phrase", foo*, i(foo), ...)
// searches the message and the text fields (see textFields and textQuery),
// not the message alone as in LogsQL: Windows events have no message.
//
// A VictoriaLogs query over several tenants does not say which tenant a
// result came from, and a stats pipe would add the tenants up, so Search runs
// q once per tenant and merges the results: rows with a time newest first
// (by the time stored, _time), with the limit applied to the whole; rows
// without one (pipes such as stats) tenant by tenant. q.From is inclusive,
// q.To exclusive; both bound the stored time, which is the event's own time
// except for events stored at their ingest time (Store.TimeAdjusted), whose
// Row.Time still reports their own time, from @timestamp.
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
	if text, ok := textQuery(q.LogsQL, fields); ok && len(fields) > 0 {
		tq, err := logstorage.ParseQueryAtTimestamp(text, parsedAt)
		if err != nil {
			// Should not happen (FuzzTextQuery): search as LogsQL says.
			s.log.Warn("search: text fields not searched: rewritten query does not parse", "err", err)
		} else {
			base = tq
		}
	}
	if !q.From.IsZero() || !q.To.IsZero() {
		start, end := int64(math.MinInt64), int64(math.MaxInt64)
		if !q.From.IsZero() {
			start = q.From.UnixNano()
		}
		if !q.To.IsZero() {
			end = q.To.UnixNano() - 1
		}
		base.AddTimeFilter(start, end)
	}
	// Queries whose pipes keep rows as rows get the newest `limit`; others
	// (stats, uniq, ...) just the first `limit` result rows.
	byTime := base.CanReturnLastNResults()
	if byTime {
		base.AddPipeSortByTimeDesc()
	}
	base.AddPipeOffsetLimit(0, uint64(limit))

	var hits []hit
	seen := make(map[tenant.ID]bool, len(q.Tenants))
	for _, t := range q.Tenants {
		if seen[t] {
			continue
		}
		seen[t] = true
		account, err := s.tenants.Number(ctx, t)
		if err != nil {
			return fmt.Errorf("search: resolve tenant %s: %w", t, err)
		}
		hits, err = s.runQuery(ctx, t, account, base.Clone(parsedAt), hits)
		if err != nil {
			return err
		}
	}
	if byTime {
		sort.SliceStable(hits, func(i, j int) bool { return hits[i].stored > hits[j].stored })
	}
	for _, h := range hits[:min(limit, len(hits))] {
		if err := fn(h.row); err != nil {
			return err
		}
	}
	return nil
}

// runQuery runs q for one tenant and appends its rows to hits.
func (s *Store) runQuery(ctx context.Context, t tenant.ID, account uint32, q *logstorage.Query, hits []hit) ([]hit, error) {
	s.life.RLock()
	defer s.life.RUnlock()
	if s.closed {
		return nil, fmt.Errorf("search: %w", ErrClosed)
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
// VictoriaLogs' own fields go, empty values (absent fields) are skipped, and
// fields are sorted by name.
func blockRows(t tenant.ID, db *logstorage.DataBlock) []hit {
	n := db.RowsCount()
	stamps, hasTime := db.GetTimestamps(nil)
	var cols []logstorage.BlockColumn
	for _, c := range db.GetColumns(false) {
		switch c.Name {
		case "_time", "_stream", "_stream_id":
			continue
		case "_msg":
			c.Name = event.FieldMessage
		default:
			c.Name = strings.Clone(c.Name)
		}
		cols = append(cols, c)
	}
	slices.SortFunc(cols, func(a, b logstorage.BlockColumn) int { return strings.Compare(a.Name, b.Name) })

	hits := make([]hit, n)
	for i := range hits {
		h := &hits[i]
		h.row.Tenant = t
		h.row.Fields = make([]event.Field, 0, len(cols))
		for _, c := range cols {
			if v := c.Values[i]; v != "" {
				h.row.Fields = append(h.row.Fields, event.Field{Name: c.Name, Value: strings.Clone(v)})
			}
		}
		if hasTime {
			h.stored = stamps[i]
			h.row.Time = time.Unix(0, stamps[i]).UTC()
		}
		for _, f := range h.row.Fields {
			if f.Name == event.FieldTimestamp {
				if ts, err := time.Parse(time.RFC3339Nano, f.Value); err == nil {
					h.row.Time = ts
				}
			}
		}
	}
	return hits
}
