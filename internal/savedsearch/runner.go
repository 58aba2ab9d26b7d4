package savedsearch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Tick is how often the runner looks for searches due to run.
const Tick = 30 * time.Second

// retryAfter is the longest a failed run waits before it is tried again
// (a search run less often waits less).
const retryAfter = 5 * time.Minute

// RunStore is what the runner reads and records.
type RunStore interface {
	ScheduledSearches(ctx context.Context) ([]Search, error)
	SavedSearchRan(ctx context.Context, id int64, run Run) error
}

// Events is the event store as the runner searches it.
type Events interface {
	Search(ctx context.Context, q logstore.Query, fn func(logstore.Row) error) error
}

// Alerts raises the runner's findings.
type Alerts interface {
	Raise(ctx context.Context, t tenant.ID, ds []alert.Detection) ([]alert.Change, error)
}

// RunnerDeps are the runner's collaborators.
type RunnerDeps struct {
	Store  RunStore
	Events Events
	Alerts Alerts
	// Members lists the members a provider's search runs for.
	Members func(ctx context.Context) ([]tenant.ID, error)
	// Stored, when set, returns once the event store holds what the bus
	// held when it was called: a run then sees every event received
	// before it, however far the indexer trailed.
	Stored func(ctx context.Context) error
	// Metrics, when set, counts the runs (tarian_search_runs_total) and
	// the failed ones (tarian_search_failures_total).
	Metrics Counter
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	Log *slog.Logger
}

// Counter counts events by metric name.
type Counter interface{ Inc(name string) }

// Runner runs the scheduled searches when they are due.
type Runner struct {
	d    RunnerDeps
	wake chan struct{}
}

// NewRunner returns a runner.
func NewRunner(d RunnerDeps) *Runner {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Runner{d: d, wake: make(chan struct{}, 1)}
}

// Wake has Run look for due searches now rather than at its next tick
// (a search just scheduled runs at once).
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run checks for due searches every Tick, and when woken, until ctx ends.
func (r *Runner) Run(ctx context.Context) error {
	t := time.NewTicker(Tick)
	defer t.Stop()
	for {
		if err := r.Check(ctx); err != nil && ctx.Err() == nil {
			r.d.Log.Error("scheduled searches", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-r.wake:
		}
	}
}

// Check runs every search due now, and records each run.
func (r *Runner) Check(ctx context.Context) error {
	ss, err := r.d.Store.ScheduledSearches(ctx)
	if err != nil {
		return fmt.Errorf("list scheduled searches: %w", err)
	}
	now := r.d.Now().UTC()
	var due []Search
	for _, s := range ss {
		if Due(s, now) {
			due = append(due, s)
		}
	}
	if len(due) == 0 {
		return nil
	}
	if r.d.Stored != nil {
		if err := r.d.Stored(ctx); err != nil {
			return fmt.Errorf("wait for the event store to hold what the bus holds (the searches run at the next tick): %w", err)
		}
	}
	for _, s := range due {
		run := r.run(ctx, s, now)
		if ctx.Err() != nil {
			return nil
		}
		r.count("tarian_search_runs_total")
		if run.Error != "" {
			r.count("tarian_search_failures_total")
			r.d.Log.Warn("scheduled search failed; tried again later", "search", s.ID, "name", s.Name, "space", s.Space, "err", run.Error)
		}
		if err := r.d.Store.SavedSearchRan(ctx, s.ID, run); err != nil {
			return fmt.Errorf("record search %d's run: %w", s.ID, err)
		}
	}
	return nil
}

func (r *Runner) count(name string) {
	if r.d.Metrics != nil {
		r.d.Metrics.Inc(name)
	}
}

// Due reports whether scheduled search s is to run at now: it never ran,
// or its next window (Every long, from its last run's end) ends Delay
// before now; after a failure, not before min(Every, 5 minutes) later.
func Due(s Search, now time.Time) bool {
	if s.Schedule == nil {
		return false
	}
	sc := s.Schedule.Defaults()
	if s.LastRun == nil {
		return true
	}
	if s.LastRun.Error != "" && now.Before(s.LastRun.At.Add(min(sc.Every.D(), retryAfter))) {
		return false
	}
	if s.LastRun.Until.IsZero() {
		return true
	}
	return !now.Add(-sc.Delay.D()).Before(s.LastRun.Until.Add(sc.Every.D()))
}

// Window is the time range s's run at now searches: from its last run's
// end (or one Every back, the first time; at most MaxWindow back) to
// Delay before now.
func Window(s Search, now time.Time) (from, to time.Time) {
	sc := s.Schedule.Defaults()
	to = now.Add(-sc.Delay.D()).Truncate(time.Second)
	from = to.Add(-sc.Every.D())
	if s.LastRun != nil && !s.LastRun.Until.IsZero() {
		from = s.LastRun.Until
	}
	if to.Sub(from) > MaxWindow {
		from = to.Add(-MaxWindow)
	}
	return from, to
}

// run searches s's window for each member it runs for and raises an
// alert where the threshold is reached.
func (r *Runner) run(ctx context.Context, s Search, now time.Time) Run {
	run := Run{At: now}
	if s.LastRun != nil {
		run.Until = s.LastRun.Until
	}
	from, to := Window(s, now)
	if s.LastRun != nil && !s.LastRun.Until.IsZero() && from.After(s.LastRun.Until) {
		r.d.Log.Warn("scheduled search: a window longer than the longest a run searches; the older events are not searched",
			"search", s.ID, "name", s.Name, "space", s.Space, "not_searched_from", s.LastRun.Until, "not_searched_to", from)
	}
	members := []tenant.ID{s.Space}
	if s.Space == Provider {
		var err error
		if members, err = r.d.Members(ctx); err != nil {
			run.Error = "list the members: " + err.Error()
			return run
		}
	}
	for _, t := range members {
		found, alerted, err := r.runFor(ctx, s, t, from, to, now)
		if err != nil {
			run.Error = fmt.Sprintf("%s: %v", t, err)
			return run
		}
		run.Found += found
		if alerted {
			run.Members++
		}
	}
	run.Until = to
	return run
}

// runFor runs s over member t's events of [from, to): how many rows
// matched, and whether they reached the threshold (and were raised).
func (r *Runner) runFor(ctx context.Context, s Search, t tenant.ID, from, to, now time.Time) (int64, bool, error) {
	sc := s.Schedule.Defaults()
	// Enough rows to reach the threshold and to fill an alert's evidence
	// several times over; past that, a count says how many there were.
	limit := max(sc.Threshold, 10*alert.MaxEvidence)
	q := logstore.Query{Tenants: []tenant.ID{t}, LogsQL: s.Query, From: from, To: to, Limit: limit}
	var ds []alert.Detection
	err := r.d.Events.Search(ctx, q, func(row logstore.Row) error {
		ds = append(ds, detection(s, t, row, from, to, now))
		return nil
	})
	if err != nil {
		return 0, false, err
	}
	found := int64(len(ds))
	if len(ds) == limit {
		if n, err := r.rows(ctx, q); err == nil {
			found = max(found, n)
		}
	}
	if len(ds) < sc.Threshold {
		return found, false, nil
	}
	if _, err := r.d.Alerts.Raise(ctx, t, ds); err != nil {
		return found, false, fmt.Errorf("raise: %w", err)
	}
	return found, true, nil
}

// rows counts the rows of q beyond its limit.
func (r *Runner) rows(ctx context.Context, q logstore.Query) (int64, error) {
	q.LogsQL += " | stats count() as hits"
	q.Limit = 0
	var n int64
	err := r.d.Events.Search(ctx, q, func(row logstore.Row) error {
		for _, f := range row.Fields {
			if f.Name == "hits" {
				var v int64
				if _, err := fmt.Sscan(f.Value, &v); err != nil {
					return err
				}
				n += v
			}
		}
		return nil
	})
	if err == nil && n == 0 {
		err = errors.New("no count")
	}
	return n, err
}

// detection is one result row of s as a detection. A stored event's row
// names the event (its reference and hash, as a retro-hunt's); a row a
// pipe made (stats) is its fields, found in the window it ends.
func detection(s Search, t tenant.ID, row logstore.Row, from, to, now time.Time) alert.Detection {
	sc := s.Schedule.Defaults()
	d := alert.StoredDetection(row.Time, row.Fields)
	if d.EventRef == "" {
		d.Fields = row.Fields
		if d.EventTime.IsZero() {
			d.EventTime = to
		}
		d.Received = now
		h := sha256.New()
		fmt.Fprintf(h, "%s\x00%s\x00%d\x00%d", RuleID(s.ID), t, from.UnixNano(), to.UnixNano())
		for _, f := range row.Fields {
			fmt.Fprintf(h, "\x00%s=%s", f.Name, f.Value)
		}
		d.EventHash = hex.EncodeToString(h.Sum(nil)[:16])
	}
	d.Producer = alert.ProducerSearch
	d.RuleID = RuleID(s.ID)
	d.Title = s.Name
	d.Author = s.Author
	d.Level = sc.Level
	d.Tags = sc.Tags
	if d.Fields == nil {
		d.Fields = queryFields(s.Query, row.Fields)
	}
	return d
}

// queryFields are the row's values of the fields the query filters on
// (name: or "name":), which an analyst reads first in the alert.
func queryFields(query string, fields []event.Field) []event.Field {
	var out []event.Field
	for _, f := range fields {
		if !strings.HasPrefix(f.Name, "_") && names(query, f.Name) {
			out = append(out, f)
		}
	}
	return out
}

// names reports whether query filters on field name: name followed by a
// colon, not the tail of a longer name.
func names(query, name string) bool {
	for _, form := range []string{name + ":", `"` + name + `":`} {
		for i := 0; ; {
			j := strings.Index(query[i:], form)
			if j < 0 {
				break
			}
			at := i + j
			if at == 0 || !partOfName(query[at-1]) {
				return true
			}
			i = at + 1
		}
	}
	return false
}

func partOfName(c byte) bool {
	return c == '.' || c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
