package vlhttp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
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
// or ctx is done. It means what logstore/vlogs' Search means: a text filter
// naming no field searches the message and logsql.TextFields; one query per
// tenant (its AccountID in the request headers), merged newest first by the
// stored time with the limit over the whole, rows without a time (stats)
// tenant by tenant; q.From inclusive, q.To exclusive, a range reaching back
// past the retention window also finding events stored at their ingest time
// by their own (vlrow.Bounds). A query the server rejects is a
// logstore.ErrBadQuery.
func (s *Store) Search(ctx context.Context, q logstore.Query, fn func(logstore.Row) error) error {
	return s.search(ctx, q, logsql.TextFields, fn)
}

func (s *Store) search(ctx context.Context, q logstore.Query, fields []string, fn func(logstore.Row) error) error {
	if len(q.Tenants) == 0 {
		return errors.New("search: no tenant in scope")
	}
	if q.Limit < 0 {
		return fmt.Errorf("search: %w: negative limit %d", logstore.ErrBadQuery, q.Limit)
	}
	if s.closed.Load() {
		return fmt.Errorf("search: %w", logstore.ErrClosed)
	}
	limit := q.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	now := time.Now()
	// Parsed here first so that a mistake is reported in the user's words,
	// not in those of the rewrite (the server runs the same parser).
	parsed, err := logstorage.ParseQueryAtTimestamp(q.LogsQL, now.UnixNano())
	if err != nil {
		return fmt.Errorf("search: %w: %w", logstore.ErrBadQuery, err)
	}
	text := q.LogsQL
	if rq, ok := logsql.TextQuery(q.LogsQL, fields, s.cfg.StoredName); ok && len(fields) > 0 {
		text = rq
	}
	form := url.Values{}
	form.Set("limit", strconv.Itoa(limit))
	form.Set("time", now.UTC().Format(time.RFC3339Nano))
	if !q.From.IsZero() || !q.To.IsZero() {
		b := vlrow.Bounds(q.From, q.To, vlrow.NewWindow(now, s.cfg.Retention, s.cfg.FutureRetention))
		if b.Start != math.MinInt64 {
			form.Set("start", time.Unix(0, b.Start).UTC().Format(time.RFC3339Nano))
		}
		if b.End != math.MaxInt64 {
			// The server makes end exclusive.
			form.Set("end", time.Unix(0, b.End+1).UTC().Format(time.RFC3339Nano))
		}
		if b.Filter != "" {
			// Events stored at their ingest time, found by their own.
			tq, err := logstorage.ParseQueryAtTimestamp(text, now.UnixNano())
			if err != nil {
				return fmt.Errorf("search: %w: %w", logstore.ErrBadQuery, err)
			}
			f, err := logstorage.ParseFilterAtTimestamp(b.Filter, now.UnixNano())
			if err != nil {
				return fmt.Errorf("BUG: search: time filter %q: %w", b.Filter, err)
			}
			tq.AddExtraFilters(f)
			text = tq.String()
		}
	}
	form.Set("query", text)
	byTime := parsed.CanReturnLastNResults()

	return vlrow.Merge(ctx, q.Tenants, s.tenants, limit, byTime, func(ctx context.Context, t tenant.ID, account uint32, hits []vlrow.Hit) ([]vlrow.Hit, error) {
		err := s.query(ctx, account, form, func(h vlrow.Hit) error {
			h.Row.Tenant = t
			hits = append(hits, h)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("search tenant %s: %w", t, err)
		}
		return hits, nil
	}, fn)
}

// query runs one /select/logsql/query for account and calls fn with each
// row, as it streams in.
func (s *Store) query(ctx context.Context, account uint32, form url.Values, fn func(vlrow.Hit) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL+"/select/logsql/query", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	setTenant(req, account)
	resp, err := s.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusBadRequest {
		// Every argument but the query is ours and checked.
		return fmt.Errorf("%w: %w", logstore.ErrBadQuery, statusError(resp))
	}
	if resp.StatusCode != http.StatusOK {
		return statusError(resp)
	}
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	var obj map[string]string
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A row longer than the buffer: read the rest of it.
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(strings.TrimSpace(string(line))) > 0 {
			clear(obj)
			if jerr := json.Unmarshal(line, &obj); jerr != nil {
				// The server reports a failure after the status line in
				// the body.
				return fmt.Errorf("read results: %q: %w", truncate(string(line), 512), jerr)
			}
			if !ghost(obj) {
				if ferr := fn(rowOf(obj)); ferr != nil {
					return ferr
				}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%w: read results: %w", ErrUnavailable, err)
		}
	}
	return ctx.Err()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// ghost reports whether obj is what VictoriaLogs leaves of a deleted event
// that was the first of its block: a row with a time and a stream but no
// field (lib/logstorage rows.skipRowsByDropFilter keeps it so that blocks
// stay sorted). Such a row is no event; an event stored without any field
// looks the same and is skipped too. A row of a query that drops the stream
// (fields, stats, ...) is never a ghost.
func ghost(obj map[string]string) bool {
	if _, ok := obj["_stream_id"]; !ok {
		return false
	}
	for k, v := range obj {
		if v != "" && k != "_time" && k != "_stream" && k != "_stream_id" {
			return false
		}
	}
	return true
}

// rowOf converts one result object to a row as vlogs returns it: _msg
// becomes message, VictoriaLogs' own fields go, empty values are skipped,
// fields are sorted by name, and Time is @timestamp where the event has one,
// else _time.
func rowOf(obj map[string]string) vlrow.Hit {
	var h vlrow.Hit
	h.Row.Fields = make([]event.Field, 0, len(obj))
	for k, v := range obj {
		switch k {
		case "_time":
			if ts, ok := logstorage.TryParseTimestampRFC3339Nano(v); ok {
				h.Stored = ts
				h.Row.Time = time.Unix(0, ts).UTC()
			}
			continue
		case "_stream", "_stream_id":
			continue
		case "_msg":
			k = event.FieldMessage
		}
		if v != "" {
			h.Row.Fields = append(h.Row.Fields, event.Field{Name: k, Value: v})
		}
	}
	slices.SortFunc(h.Row.Fields, func(a, b event.Field) int { return strings.Compare(a.Name, b.Name) })
	for _, f := range h.Row.Fields {
		if f.Name == event.FieldTimestamp {
			if ts, err := time.Parse(time.RFC3339Nano, f.Value); err == nil {
				h.Row.Time = ts
			}
		}
	}
	return h
}
