package vlogs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"

	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/logstore/vlrow"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// ErrNotDeleted is returned by Delete when events it was to delete are
// still found after the engine reported the deletion done.
var ErrNotDeleted = errors.New("events still stored after deletion")

// deletePoll is how often Delete looks whether the engine's delete task is
// done (the engine starts one about every second).
const deletePoll = 50 * time.Millisecond

// deleteSeq makes delete task IDs unique within the process.
var deleteSeq atomic.Uint64

// Delete removes tenant t's events stored before before (by the stored
// time, _time), or all of them when before is zero, and returns how many
// it removed. It counts the events first, runs the engine's delete task
// (VictoriaLogs rewrites the parts holding them), waits for it, and counts
// again: any event left is an ErrNotDeleted, so a deletion that returns
// nil is verified. Other tenants' events are never touched (the task is
// scoped to t's AccountID). Calling it again deletes nothing more.
func (s *Store) Delete(ctx context.Context, t tenant.ID, before time.Time) (int, error) {
	account, err := s.tenants.Number(ctx, t)
	if err != nil {
		return 0, fmt.Errorf("delete events: resolve tenant %s: %w", t, err)
	}
	filter := "*"
	if !before.IsZero() {
		filter = "_time:<" + before.UTC().Format(time.RFC3339Nano)
	}
	n, err := s.count(ctx, t, account, filter)
	if err != nil || n == 0 {
		return 0, err
	}
	f, err := logstorage.ParseFilter(filter)
	if err != nil {
		return 0, fmt.Errorf("BUG: delete filter %q: %w", filter, err)
	}
	id := "tarian-" + string(t) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.FormatUint(deleteSeq.Add(1), 10)
	if err := s.runDelete(ctx, id, account, f); err != nil {
		return 0, err
	}
	left, err := s.count(ctx, t, account, filter)
	if err != nil {
		return 0, err
	}
	if left > 0 {
		return n - left, fmt.Errorf("delete events of %s: %w: %d of %d", t, ErrNotDeleted, left, n)
	}
	return n, nil
}

// runDelete registers the engine's delete task and waits until it is
// done. The engine keeps tasks on disk and runs them one at a time; a task
// still running when ctx ends goes on in the background.
func (s *Store) runDelete(ctx context.Context, id string, account uint32, f *logstorage.Filter) error {
	s.life.RLock()
	if s.closed {
		s.life.RUnlock()
		return fmt.Errorf("delete events: %w", logstore.ErrClosed)
	}
	err := s.st.DeleteRunTask(ctx, id, time.Now().UnixNano(), []logstorage.TenantID{{AccountID: account}}, f)
	s.life.RUnlock()
	if err != nil {
		return fmt.Errorf("delete events: %w", err)
	}
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("delete events: %w", ctx.Err())
		case <-time.After(deletePoll):
		}
		s.life.RLock()
		if s.closed {
			s.life.RUnlock()
			return fmt.Errorf("delete events: %w", logstore.ErrClosed)
		}
		tasks, err := s.st.DeleteActiveTasks(ctx)
		s.life.RUnlock()
		if err != nil {
			return fmt.Errorf("delete events: %w", err)
		}
		pending := false
		for _, dt := range tasks {
			if dt.TaskID == id {
				pending = true
			}
		}
		if !pending {
			return nil
		}
	}
}

// count returns how many of account's events match filter.
func (s *Store) count(ctx context.Context, t tenant.ID, account uint32, filter string) (int, error) {
	// Not the rows VictoriaLogs keeps of deleted events (see ghost).
	q, err := logstorage.ParseQueryAtTimestamp(filter+` | delete _time, _stream, _stream_id | pack_json as tarian_row | filter tarian_row:!="{}" | stats count() as n`, time.Now().UnixNano())
	if err != nil {
		return 0, fmt.Errorf("BUG: count query %q: %w", filter, err)
	}
	s.Refresh()
	var n int
	var parseErr error
	err = s.each(ctx, account, q, func(db *logstorage.DataBlock) {
		for _, c := range db.GetColumns(false) {
			if c.Name != "n" {
				continue
			}
			for _, v := range c.Values {
				k, err := strconv.Atoi(v)
				if err != nil {
					parseErr = fmt.Errorf("count events of %s: %q: %w", t, v, err)
				}
				n += k
			}
		}
	})
	if err == nil {
		err = parseErr
	}
	return n, err
}

// each runs q for account and calls fn with each result block, one at a
// time; fn must copy what it keeps.
func (s *Store) each(ctx context.Context, account uint32, q *logstorage.Query, fn func(*logstorage.DataBlock)) error {
	s.life.RLock()
	defer s.life.RUnlock()
	if s.closed {
		return logstore.ErrClosed
	}
	var mu sync.Mutex
	qctx := logstorage.NewQueryContext(ctx, &logstorage.QueryStats{}, []logstorage.TenantID{{AccountID: account}}, q, false, nil)
	err := s.st.RunQuery(qctx, func(_ uint, db *logstorage.DataBlock) {
		mu.Lock()
		defer mu.Unlock()
		fn(db)
	})
	if err != nil {
		return err
	}
	return ctx.Err()
}

// Export calls fn with every event of tenant t, in no particular order,
// until they run out or fn returns an error (Export returns it). Rows are
// as Search returns them. The events are read one day at a time, so
// memory holds a day's rows of t at most.
func (s *Store) Export(ctx context.Context, t tenant.ID, fn func(logstore.Row) error) error {
	account, err := s.tenants.Number(ctx, t)
	if err != nil {
		return fmt.Errorf("export events: resolve tenant %s: %w", t, err)
	}
	s.Refresh()
	// The oldest and newest stored times bound the days to read.
	q, err := logstorage.ParseQueryAtTimestamp("* | stats min(_time) as lo, max(_time) as hi", time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("BUG: export bounds: %w", err)
	}
	var lo, hi string
	err = s.each(ctx, account, q, func(db *logstorage.DataBlock) {
		for _, c := range db.GetColumns(false) {
			if len(c.Values) == 0 {
				continue
			}
			switch c.Name {
			case "lo":
				lo = c.Values[0]
			case "hi":
				hi = c.Values[0]
			}
		}
	})
	if err != nil {
		return fmt.Errorf("export events of %s: %w", t, err)
	}
	if lo == "" || hi == "" {
		return nil // no events
	}
	from, err1 := time.Parse(time.RFC3339Nano, lo)
	to, err2 := time.Parse(time.RFC3339Nano, hi)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("export events of %s: bounds: %w", t, err)
	}
	for day := from.UTC().Truncate(24 * time.Hour); !day.After(to); day = day.Add(24 * time.Hour) {
		q, err := logstorage.ParseQueryAtTimestamp("*", time.Now().UnixNano())
		if err != nil {
			return fmt.Errorf("BUG: export query: %w", err)
		}
		q.AddTimeFilter(day.UnixNano(), day.Add(24*time.Hour).UnixNano()-1)
		var rows []vlrow.Hit
		err = s.each(ctx, account, q, func(db *logstorage.DataBlock) { rows = append(rows, blockRows(t, db)...) })
		if err != nil {
			return fmt.Errorf("export events of %s: %w", t, err)
		}
		for _, h := range rows {
			if err := fn(h.Row); err != nil {
				return err
			}
		}
	}
	return nil
}
