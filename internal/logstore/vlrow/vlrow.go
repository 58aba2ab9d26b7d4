// Package vlrow is an event as a VictoriaLogs row, the same for the
// embedded store (logstore/vlogs) and the one over HTTP (logstore/vlhttp):
// its field names, the time it is stored at, VictoriaLogs' per-row limits,
// which both check before writing (VictoriaLogs drops a row beyond them
// with only a log line), and how rows of several tenants are merged.
package vlrow

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// VictoriaLogs' per-row limits (lib/logstorage/consts.go), which hold
// whatever a server's flags say.
const (
	MaxFields        = 2_000
	MaxFieldNameSize = 128
	MaxRowSize       = 2 << 20
)

// Window is the span of event times VictoriaLogs keeps, as of one moment.
type Window struct {
	Now, Oldest, Newest time.Time
}

// NewWindow returns the window at now for a store keeping retention and
// accepting times up to future ahead. VictoriaLogs drops rows older than
// now-retention (checked a little later, hence an hour's margin) or newer
// than now+future.
func NewWindow(now time.Time, retention, future time.Duration) Window {
	return Window{Now: now, Oldest: now.Add(-retention + time.Hour), Newest: now.Add(future)}
}

// Append appends e's fields to dst as VictoriaLogs names them (the message
// is _msg; @timestamp and VictoriaLogs' own names are not fields) and
// returns them with the time to store e at: its own, or, when that is
// outside w, its ingest time (adjusted), with its own kept in @timestamp.
func Append(dst []logstorage.Field, e *event.Event, w Window) (fields []logstorage.Field, at time.Time, adjusted bool) {
	for _, f := range e.Fields {
		switch f.Name {
		case event.FieldMessage:
			dst = append(dst, logstorage.Field{Name: "_msg", Value: f.Value})
		case event.FieldTimestamp, "_msg", "_time", "_stream", "_stream_id":
			// @timestamp is e.Time; the rest are VictoriaLogs' own names.
		default:
			dst = append(dst, logstorage.Field{Name: f.Name, Value: f.Value})
		}
	}
	at = e.Time
	if !at.Before(w.Oldest) && !at.After(w.Newest) {
		return dst, at, false
	}
	at = ingestTime(e, w)
	if !e.Time.IsZero() {
		dst = append(dst, logstorage.Field{Name: event.FieldTimestamp, Value: e.Time.UTC().Format(time.RFC3339Nano)})
	}
	return dst, at, true
}

// ingestTime is where an event outside the window is stored: its
// event.ingested time if that is inside the window, else now.
func ingestTime(e *event.Event, w Window) time.Time {
	if v, ok := e.Get(event.FieldIngested); ok {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil && !t.Before(w.Oldest) && !t.After(w.Newest) {
			return t
		}
	}
	return w.Now
}

// CheckLimits returns a logstore.ErrTooLarge for a row of fields beyond
// maxFields fields (the fields counted with extra more, e.g. a _time the
// server parses), MaxFieldNameSize or MaxRowSize.
func CheckLimits(fields []logstorage.Field, extra, maxFields int) error {
	if n := len(fields) + extra; n > maxFields {
		return fmt.Errorf("%w: %d fields, limit %d", logstore.ErrTooLarge, n, maxFields)
	}
	for _, f := range fields {
		if len(f.Name) > MaxFieldNameSize {
			return fmt.Errorf("%w: field name %.32q... is %d bytes, limit %d", logstore.ErrTooLarge, f.Name, len(f.Name), MaxFieldNameSize)
		}
	}
	if n := logstorage.EstimatedJSONRowLen(fields); n > MaxRowSize {
		return fmt.Errorf("%w: about %d bytes, limit %d", logstore.ErrTooLarge, n, MaxRowSize)
	}
	return nil
}

// Hit is one result row with the time VictoriaLogs stored it at (_time),
// which orders results.
type Hit struct {
	Row    logstore.Row
	Stored int64
}

// Merge is how both stores answer a query over several tenants: a
// VictoriaLogs query does not say which tenant a row came from, and a stats
// pipe would add the tenants up, so query runs once per tenant (each once,
// by its number from r) and appends its rows; Merge then calls fn with the
// first limit rows: newest first by stored time when byTime, else tenant
// by tenant (rows without a time: stats). It stops at fn's error.
func Merge(ctx context.Context, tenants []tenant.ID, r logstore.Resolver, limit int, byTime bool,
	query func(ctx context.Context, t tenant.ID, account uint32, hits []Hit) ([]Hit, error), fn func(logstore.Row) error) error {
	var hits []Hit
	seen := make(map[tenant.ID]bool, len(tenants))
	for _, t := range tenants {
		if seen[t] {
			continue
		}
		seen[t] = true
		account, err := r.Number(ctx, t)
		if err != nil {
			return fmt.Errorf("search: resolve tenant %s: %w", t, err)
		}
		if hits, err = query(ctx, t, account, hits); err != nil {
			return err
		}
	}
	if byTime {
		sort.SliceStable(hits, func(i, j int) bool { return hits[i].Stored > hits[j].Stored })
	}
	for _, h := range hits[:min(limit, len(hits))] {
		if err := fn(h.Row); err != nil {
			return err
		}
	}
	return nil
}

// TimeBounds is how a search is bounded by time, the same for both stores:
// Start and End (inclusive, Unix nanoseconds) bound the stored time (_time),
// and Filter, when not empty, is a LogsQL filter to add to the query.
type TimeBounds struct {
	Start, End int64
	Filter     string
}

// Bounds returns the bounds of a search for events from from (inclusive) to
// to (exclusive), either zero for no bound, as of window w.
//
// An event whose own time is before the window was stored at its ingest
// time with its own time in @timestamp (Append); a search by stored time
// alone would never find it by its own time, say the attack week of logs
// replayed years later. When the search reaches back past the window's
// oldest time (or has no start), it matches an event whose stored time is in
// the range or whose @timestamp is, and End widens to the stored times such
// events can have (their ingest times, after any start of such a range). A search within the window keeps the stored
// time alone, so that it reads only the days it names. An own time is
// compared to the microsecond (VictoriaLogs' range filter reads it as a
// float64 of nanoseconds).
func Bounds(from, to time.Time, w Window) TimeBounds {
	b := TimeBounds{Start: math.MinInt64, End: math.MaxInt64}
	if !from.IsZero() {
		b.Start = from.UnixNano()
	}
	if !to.IsZero() {
		b.End = to.UnixNano() - 1
	}
	if from.IsZero() && to.IsZero() || !from.IsZero() && !from.Before(w.Oldest) {
		return b
	}
	// Events of the range stored at their ingest time are stored no later
	// than the newest time the window accepts.
	if !to.IsZero() {
		b.End = max(b.End, w.Newest.UnixNano())
	}
	var stored, own string
	switch {
	case from.IsZero():
		stored, own = "_time:<"+precise(to), `"@timestamp":<`+precise(to)
	case to.IsZero():
		stored, own = "_time:>="+precise(from), `"@timestamp":>=`+precise(from)
	default:
		stored = "_time:[" + precise(from) + ", " + precise(to) + ")"
		own = `"@timestamp":range[` + precise(from) + ", " + precise(to) + ")"
	}
	b.Filter = stored + " or " + own
	return b
}

// precise formats t for LogsQL to the nanosecond (a shorter form may be
// read as the whole second or day it names).
func precise(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z")
}
