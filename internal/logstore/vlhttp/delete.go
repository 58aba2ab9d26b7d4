package vlhttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/logstore/vlrow"
	"github.com/tarian-soc/tarian/internal/tenant"
)

var (
	// ErrNotDeleted is returned by Delete when events it was to delete are
	// still found after the server reported the deletion done.
	ErrNotDeleted = errors.New("events still stored after deletion")
	// ErrDeleteDisabled is returned by Delete when the server refuses
	// deletion: it must run with -delete.enable (a cluster's storage nodes
	// also with -internaldelete.enable).
	ErrDeleteDisabled = errors.New("deletion is disabled on the victoria-logs server")
)

// deletePoll is how often Delete looks whether the server's delete task is
// done.
const deletePoll = 50 * time.Millisecond

// Delete removes tenant t's events stored before before (by the stored
// time, _time), or all of them when before is zero, and returns how many it
// removed, as logstore/vlogs' Delete does: it counts them (not the empty
// rows VictoriaLogs leaves of some deleted events, see ghost), runs a delete
// task through the server's HTTP API (POST /delete/run_task with the
// tenant's AccountID and the filter; the server rewrites the parts holding
// them; a cluster front sends the task to every storage node), waits until
// /delete/active_tasks no longer lists it, and counts again: any event left
// is an ErrNotDeleted, so a nil error is a verified deletion. The task is
// scoped to t's AccountID, so no other tenant's events are touched. The
// server must run with -delete.enable (ErrDeleteDisabled otherwise). A task
// still running when ctx ends goes on in the server.
func (s *Store) Delete(ctx context.Context, t tenant.ID, before time.Time) (int, error) {
	if s.closed.Load() {
		return 0, fmt.Errorf("delete events: %w", logstore.ErrClosed)
	}
	account, err := s.tenants.Number(ctx, t)
	if err != nil {
		return 0, fmt.Errorf("delete events: resolve tenant %s: %w", t, err)
	}
	filter := "*"
	if !before.IsZero() {
		filter = "_time:<" + before.UTC().Format(time.RFC3339Nano)
	}
	n, err := s.count(ctx, account, filter)
	if err != nil || n == 0 {
		if err != nil {
			err = fmt.Errorf("delete events of %s: %w", t, err)
		}
		return 0, err
	}
	id, err := s.runDelete(ctx, account, filter)
	if err != nil {
		return 0, fmt.Errorf("delete events of %s: %w", t, err)
	}
	if err := s.waitDelete(ctx, id); err != nil {
		return 0, fmt.Errorf("delete events of %s: %w", t, err)
	}
	left, err := s.count(ctx, account, filter)
	if err != nil {
		return 0, fmt.Errorf("delete events of %s: %w", t, err)
	}
	if left > 0 {
		return n - left, fmt.Errorf("delete events of %s: %w: %d of %d", t, ErrNotDeleted, left, n)
	}
	return n, nil
}

// runDelete starts the server's delete task for account and filter and
// returns its ID.
func (s *Store) runDelete(ctx context.Context, account uint32, filter string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	form := url.Values{"filter": {filter}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL+"/delete/run_task", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	setTenant(req, account)
	resp, err := s.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := statusError(resp)
		var se *StatusError
		if errors.As(err, &se) && strings.Contains(se.Body, "disabled") {
			return "", fmt.Errorf("%w: %w", ErrDeleteDisabled, err)
		}
		return "", err
	}
	var reply struct {
		TaskID string `json:"task_id"`
	}
	if err := jsonDecode(resp, &reply); err != nil || reply.TaskID == "" {
		return "", fmt.Errorf("run delete task: reply without task_id: %v", err)
	}
	return reply.TaskID, nil
}

// waitDelete waits until the server no longer lists task id as active.
func (s *Store) waitDelete(ctx context.Context, id string) error {
	for {
		if err := sleep(ctx, deletePoll); err != nil {
			return err
		}
		b, err := s.call(ctx, s.cfg.URL+"/delete/active_tasks")
		if err != nil {
			return err
		}
		var tasks []struct {
			TaskID string `json:"task_id"`
		}
		if err := jsonUnmarshal(b, &tasks); err != nil {
			return fmt.Errorf("active delete tasks: %w", err)
		}
		pending := false
		for _, t := range tasks {
			if t.TaskID == id {
				pending = true
			}
		}
		if !pending {
			return nil
		}
	}
}

func jsonDecode(resp *http.Response, v any) error {
	b, err := readAll(resp)
	if err != nil {
		return err
	}
	return jsonUnmarshal(b, v)
}

// count returns how many of account's events match filter, after making
// everything the server received searchable.
func (s *Store) count(ctx context.Context, account uint32, filter string) (int, error) {
	if _, err := s.call(ctx, s.cfg.URL+"/internal/force_flush"); err != nil {
		return 0, err
	}
	// Not the ghosts of deleted events (see ghost).
	form := url.Values{"query": {filter + ` | delete _time, _stream, _stream_id | pack_json as tarian_row | filter tarian_row:!="{}" | stats count() as n`}}
	n := 0
	err := s.query(ctx, account, form, func(h vlrow.Hit) error {
		for _, f := range h.Row.Fields {
			if f.Name == "n" {
				k, err := strconv.Atoi(f.Value)
				if err != nil {
					return fmt.Errorf("count: %q: %w", f.Value, err)
				}
				n += k
			}
		}
		return nil
	})
	return n, err
}

// Export calls fn with every event of tenant t, in no particular order,
// until they run out or fn returns an error (Export returns it). Rows are as
// Search returns them. The events are read one UTC day at a time, each day
// streamed from the server as it is read.
func (s *Store) Export(ctx context.Context, t tenant.ID, fn func(logstore.Row) error) error {
	if s.closed.Load() {
		return fmt.Errorf("export events: %w", logstore.ErrClosed)
	}
	account, err := s.tenants.Number(ctx, t)
	if err != nil {
		return fmt.Errorf("export events: resolve tenant %s: %w", t, err)
	}
	if _, err := s.call(ctx, s.cfg.URL+"/internal/force_flush"); err != nil {
		return fmt.Errorf("export events of %s: %w", t, err)
	}
	var lo, hi string
	form := url.Values{"query": {"* | stats min(_time) as lo, max(_time) as hi"}}
	err = s.query(ctx, account, form, func(h vlrow.Hit) error {
		for _, f := range h.Row.Fields {
			switch f.Name {
			case "lo":
				lo = f.Value
			case "hi":
				hi = f.Value
			}
		}
		return nil
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
		form := url.Values{
			"query": {"*"},
			"start": {day.Format(time.RFC3339Nano)},
			"end":   {day.Add(24 * time.Hour).Format(time.RFC3339Nano)},
		}
		var fnErr error
		err := s.query(ctx, account, form, func(h vlrow.Hit) error {
			h.Row.Tenant = t
			fnErr = fn(h.Row)
			return fnErr
		})
		if fnErr != nil {
			return fnErr
		}
		if err != nil {
			return fmt.Errorf("export events of %s: %w", t, err)
		}
	}
	return nil
}
