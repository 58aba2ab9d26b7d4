package health

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse"
	"github.com/tarian-soc/tarian/internal/stage"
	"github.com/tarian-soc/tarian/internal/store"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Name is the monitor's checkpoint name.
const Name = "health"

// Store keeps the monitor's checkpoint with its counters, and counts dead
// letters.
type Store interface {
	Checkpoint(ctx context.Context, name string) (store.Checkpoint, error)
	// CorrelationStates and SaveProgress keep a consumer's state per
	// tenant with its checkpoint, atomically.
	CorrelationStates(ctx context.Context, consumer string) (map[tenant.ID][]byte, error)
	SaveProgress(ctx context.Context, consumer string, cp store.Checkpoint, states map[tenant.ID][]byte) error
	// DeadLetterCounts counts tenant t's dead letters received since,
	// by receiver (event.Raw.Source).
	DeadLetterCounts(ctx context.Context, t tenant.ID, since time.Time) (map[string]int64, error)
}

// Alerts raises the monitor's findings.
type Alerts interface {
	Raise(ctx context.Context, t tenant.ID, ds []alert.Detection) ([]alert.Change, error)
}

// Deps are the monitor's collaborators.
type Deps struct {
	// Name is the checkpoint's (and the saved state's) name: Name, or one
	// per bus partition.
	Name   string
	Store  Store
	Alerts Alerts
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	Log *slog.Logger
}

// Declared is a log source the configuration names for one tenant: a
// member's source that is expected to speak.
type Declared struct {
	Tenant   tenant.ID
	Name     string
	Receiver string
	Type     string
	Silence  time.Duration
}

// DeclaredSources returns the sources of the configuration with a tenant
// and a name.
func DeclaredSources(ss []parse.Source) []Declared {
	var out []Declared
	for _, s := range ss {
		if s.Tenant == "" || s.Name == "" {
			continue
		}
		out = append(out, Declared{Tenant: tenant.ID(s.Tenant), Name: s.Name, Receiver: s.Receiver, Type: s.Type, Silence: s.Silence})
	}
	return out
}

// saveEvery is the most often Process saves the counters (Idle saves what
// is left at once): a crash reads this much of the stream again.
const saveEvery = 10 * time.Second

// Monitor counts every source's events (a stage consumer) and judges their
// health (Check).
type Monitor struct {
	d Deps

	mu       sync.Mutex
	cfg      Config
	loc      *time.Location // cfg.TimeZone
	declared map[tenant.ID]map[string]Declared
	tracks   map[Key]*track
	cp       store.Checkpoint
	dirty    map[tenant.ID]bool
	saved    time.Time
	// seen is the newest receipt time processed; busy says the stream
	// had more when last asked (Check judges up to seen, not now, while
	// the stage catches up, so a backlog is not silence).
	seen time.Time
	busy bool
	// pending are findings not raised yet.
	pending map[tenant.ID][]alert.Detection
	// force makes the next save move the checkpoint with no state to
	// save (after Forget).
	force bool
}

// New returns a monitor; it is a stage.Consumer, and Run checks health.
func New(cfg Config, declared []Declared, d Deps) *Monitor {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Name == "" {
		d.Name = Name
	}
	m := &Monitor{d: d, tracks: map[Key]*track{}, dirty: map[tenant.ID]bool{}, pending: map[tenant.ID][]alert.Detection{}}
	m.Configure(cfg, declared)
	return m
}

// Configure takes a new configuration and set of declared sources (a
// reload).
func (m *Monitor) Configure(cfg Config, declared []Declared) {
	byTenant := map[tenant.ID]map[string]Declared{}
	for _, d := range declared {
		if byTenant[d.Tenant] == nil {
			byTenant[d.Tenant] = map[string]Declared{}
		}
		byTenant[d.Tenant][d.Name] = d
	}
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil || cfg.TimeZone == "" {
		loc = time.UTC // Validate refused a bad name already
	}
	m.mu.Lock()
	m.cfg, m.declared, m.loc = cfg, byTenant, loc
	m.mu.Unlock()
}

// Start loads the checkpoint and the counters saved with it.
func (m *Monitor) Start(ctx context.Context) (uint64, error) {
	cp, err := m.d.Store.Checkpoint(ctx, m.d.Name)
	if err != nil {
		return 0, fmt.Errorf("health: read checkpoint: %w", err)
	}
	saved, err := m.d.Store.CorrelationStates(ctx, m.d.Name)
	if err != nil {
		return 0, fmt.Errorf("health: read state: %w", err)
	}
	tracks := map[Key]*track{}
	for t, b := range saved {
		var st savedState
		if err := json.Unmarshal(b, &st); err != nil {
			m.d.Log.Warn("source health state unreadable; counting afresh", "tenant", t, "err", err)
			continue
		}
		for _, s := range st.Sources {
			s.Key.Tenant = t
			tracks[s.Key] = s.Track
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tracks, m.cp, m.dirty = tracks, cp, map[tenant.ID]bool{}
	m.pending = map[tenant.ID][]alert.Detection{}
	return cp.Done, nil
}

// savedState is one tenant's counters as saved.
type savedState struct {
	Sources []savedTrack `json:"sources"`
}

type savedTrack struct {
	Key   Key    `json:"key"`
	Track *track `json:"track"`
}

// Process counts the batch's events past the checkpoint by source.
func (m *Monitor) Process(ctx context.Context, b *stage.Batch) error {
	m.mu.Lock()
	last := m.cp.Done
	m.busy = true
	for i := range b.Msgs {
		msg := &b.Msgs[i]
		if msg.Seq <= m.cp.Done {
			continue
		}
		last = msg.Seq
		// Runs of events of one source received together count at once.
		var run struct {
			k        Key
			name     string
			at       time.Time
			n, unpar int64
		}
		flush := func() {
			if run.n > 0 {
				m.observe(run.k, run.name, run.at, run.n, run.unpar)
			}
		}
		for j := range msg.Events {
			rec := &msg.Records[msg.Refs[j].Idx]
			k, name := keyOf(msg.Tenant, rec, &msg.Events[j])
			if run.n == 0 || k != run.k || name != run.name || !rec.Received.Equal(run.at) {
				flush()
				run.k, run.name, run.at, run.n, run.unpar = k, name, rec.Received, 0, 0
			}
			run.n++
			if k.Type == "" {
				run.unpar++
			}
		}
		flush()
		if len(msg.Events) > 0 {
			m.dirty[msg.Tenant] = true
		}
	}
	if last == m.cp.Done {
		m.mu.Unlock()
		return nil
	}
	m.cp = store.Checkpoint{Done: last, Pending: last}
	due := m.d.Now().Sub(m.saved) >= saveEvery
	m.mu.Unlock()
	if err := m.raise(ctx); err != nil {
		return err
	}
	if due {
		return m.save(ctx)
	}
	return nil
}

// Idle saves what is not saved yet.
func (m *Monitor) Idle(ctx context.Context) error {
	m.mu.Lock()
	m.busy = false
	m.mu.Unlock()
	return m.save(ctx)
}

// keyOf returns the source of an event and the declared source's name, in
// one pass over its fields.
func keyOf(t tenant.ID, rec *event.Raw, ev *event.Event) (Key, string) {
	k := Key{Tenant: t, Receiver: string(rec.Kind())}
	var name string
	rank := -1 // of the host found so far (parse.Host's order)
	for _, f := range ev.Fields {
		switch f.Name {
		case parse.FieldType:
			k.Type = f.Value
			continue
		case parse.FieldName:
			name = f.Value
			continue
		}
		if r := parse.HostRank(f.Name); r >= 0 && (rank < 0 || r < rank) && f.Value != "" && f.Value != "-" {
			rank, k.Host = r, f.Value
		}
	}
	return k, name
}

// observe counts n events of source k (m.mu held).
func (m *Monitor) observe(k Key, name string, at time.Time, n, unparsed int64) {
	tr := m.tracks[k]
	if tr == nil {
		tr = &track{}
		m.tracks[k] = tr
	}
	if name != "" {
		tr.Name = name
	}
	tr.observe(at, n, unparsed, m.loc, m.judge(k, tr))
	if at.After(m.seen) {
		m.seen = at
	}
}

// judge returns the drop test of source k's finished hours (m.mu held).
func (m *Monitor) judge(k Key, tr *track) func(time.Time, int64, mean) {
	return func(hour time.Time, got int64, usual mean) {
		if usual.N < baselineDays || usual.M < m.cfg.DropMinEvents || float64(got) >= (1-m.cfg.Drop)*usual.M {
			return
		}
		if !tr.Dropped.Before(hour) {
			return
		}
		tr.Dropped = hour
		m.pending[k.Tenant] = append(m.pending[k.Tenant], m.dropDetection(k, tr, hour, got, usual.M))
	}
}

// silenceFor is source k's silence and whether a configured source
// declares it (m.mu held).
func (m *Monitor) silenceFor(k Key, tr *track) (time.Duration, bool) {
	d, ok := m.declared[k.Tenant][tr.Name]
	if ok && d.Silence > 0 {
		return d.Silence, true
	}
	return m.cfg.Silence, ok
}

// horizon is how far the stream has been judged: now, unless the stage is
// still catching up, then the newest receipt it has read (m.mu held).
func (m *Monitor) horizon() time.Time {
	now := m.d.Now()
	if m.busy && m.seen.Before(now) && !m.seen.IsZero() {
		return m.seen
	}
	return now
}

// Check judges every source as of now: it folds finished hours into the
// baselines (alerting drops), alerts each silence once, forgets the
// sources nobody declared that were quiet for ForgetAfter, and raises what
// it found.
func (m *Monitor) Check(ctx context.Context) error {
	m.mu.Lock()
	at := m.horizon()
	forgot := 0
	for k, tr := range m.tracks {
		if _, declared := m.declared[k.Tenant][tr.Name]; !declared && at.Sub(tr.Last) >= m.cfg.ForgetAfter {
			delete(m.tracks, k)
			m.dirty[k.Tenant] = true
			forgot++
			continue
		}
		tr.roll(at, m.loc, m.judge(k, tr))
		if m.stateOf(k, tr, at) != StateSilent || tr.Alerted.Equal(tr.Last) {
			continue
		}
		tr.Alerted = tr.Last
		m.dirty[k.Tenant] = true
		m.pending[k.Tenant] = append(m.pending[k.Tenant], m.silenceDetection(k, tr, at))
	}
	m.mu.Unlock()
	if forgot > 0 {
		m.d.Log.Info("source health: forgot sources nobody declared, quiet since before", "sources", forgot, "before", at.Add(-m.cfg.ForgetAfter).UTC().Format(time.RFC3339))
	}
	return m.raise(ctx)
}

// checkEvery is how often Run checks: a source is found silent at most
// this long after its silence has passed.
const checkEvery = 5 * time.Second

// Run checks health until ctx is done.
func (m *Monitor) Run(ctx context.Context) error {
	tick := time.NewTicker(checkEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if err := m.Check(ctx); err != nil && ctx.Err() == nil {
				m.d.Log.Error("source health check failed", "err", err)
			}
		}
	}
}

// stateOf is source k's state at `at` (m.mu held).
func (m *Monitor) stateOf(k Key, tr *track, at time.Time) string {
	silence, declared := m.silenceFor(k, tr)
	if at.Sub(tr.Last) >= silence {
		if declared || tr.expected(tr.Last, at, m.loc) >= m.cfg.MinExpected {
			return StateSilent
		}
		return StateIdle
	}
	if !tr.Dropped.IsZero() && at.Before(tr.Dropped.Add(2*time.Hour)) {
		return StateDropped
	}
	return StateOK
}

// raise hands pending findings to the alert pipeline; those it refuses
// stay pending for the next try.
func (m *Monitor) raise(ctx context.Context) error {
	m.mu.Lock()
	pending := m.pending
	m.pending = map[tenant.ID][]alert.Detection{}
	m.mu.Unlock()
	var failed error
	for t, ds := range pending {
		if _, err := m.d.Alerts.Raise(ctx, t, ds); err != nil {
			m.mu.Lock()
			m.pending[t] = append(m.pending[t], ds...)
			m.mu.Unlock()
			failed = fmt.Errorf("health: raise alerts of %s: %w", t, err)
			continue
		}
		m.d.Log.Info("source health alert", "tenant", t, "alerts", len(ds), "first", ds[0].Title)
	}
	return failed
}

// Position is the last bus sequence the monitor has counted (saved or
// not).
func (m *Monitor) Position() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cp.Done
}

// Forget drops tenant t's sources (a member being removed) and saves the
// checkpoint, so the member's records are never counted again. Call it
// once Position has passed the member's last record.
func (m *Monitor) Forget(ctx context.Context, t tenant.ID) error {
	m.mu.Lock()
	for k := range m.tracks {
		if k.Tenant == t {
			delete(m.tracks, k)
		}
	}
	m.dirty[t] = true // saved empty
	delete(m.pending, t)
	m.force = true
	m.mu.Unlock()
	return m.save(ctx)
}

// save moves the checkpoint with the changed tenants' counters.
func (m *Monitor) save(ctx context.Context) error {
	m.mu.Lock()
	if len(m.dirty) == 0 && !m.force {
		m.mu.Unlock()
		return nil
	}
	m.force = false
	byTenant := map[tenant.ID]*savedState{}
	for t := range m.dirty {
		byTenant[t] = &savedState{}
	}
	for k, tr := range m.tracks {
		if st := byTenant[k.Tenant]; st != nil {
			c := *tr
			st.Sources = append(st.Sources, savedTrack{Key: k, Track: &c})
		}
	}
	cp := m.cp
	m.dirty = map[tenant.ID]bool{}
	m.saved = m.d.Now()
	m.mu.Unlock()
	states := map[tenant.ID][]byte{}
	for t, st := range byTenant {
		for i := range st.Sources {
			st.Sources[i].Key.Tenant = ""
		}
		b, err := json.Marshal(st)
		if err != nil {
			return fmt.Errorf("health: save state of %s: %w", t, err)
		}
		states[t] = b
	}
	if err := m.d.Store.SaveProgress(ctx, m.d.Name, cp, states); err != nil {
		m.mu.Lock()
		for t := range states {
			m.dirty[t] = true
		}
		m.force = true
		m.mu.Unlock()
		return fmt.Errorf("health: checkpoint: %w", err)
	}
	return nil
}

// Sources returns the health of tenants' sources (every tenant's when
// tenants is nil), declared sources never heard from included, by tenant,
// then state (the worst first), then name.
func (m *Monitor) Sources(ctx context.Context, tenants []tenant.ID) ([]Source, error) {
	want := func(t tenant.ID) bool { return tenants == nil || slices.Contains(tenants, t) }
	m.mu.Lock()
	at := m.horizon()
	now := m.d.Now()
	var out []Source
	heard := map[tenant.ID]map[string]bool{}
	for k, tr := range m.tracks {
		if !want(k.Tenant) {
			continue
		}
		silence, declared := m.silenceFor(k, tr)
		s := Source{Key: k, Name: tr.Name, Declared: declared, FirstSeen: tr.First, LastSeen: tr.Last,
			Events: tr.Events, Unparsed: tr.Unparsed, Rate: tr.rate(at), SilenceSeconds: int64(silence / time.Second),
			State: m.stateOf(k, tr, at)}
		if u, ok := tr.usual(at, m.loc); ok {
			per := u / 3600
			s.Baseline = &per
		}
		if heard[k.Tenant] == nil {
			heard[k.Tenant] = map[string]bool{}
		}
		heard[k.Tenant][tr.Name] = true
		out = append(out, s)
	}
	for t, ds := range m.declared {
		if !want(t) {
			continue
		}
		for name, d := range ds {
			if heard[t][name] {
				continue
			}
			silence := d.Silence
			if silence == 0 {
				silence = m.cfg.Silence
			}
			out = append(out, Source{Key: Key{Tenant: t, Receiver: d.Receiver, Type: d.Type}, Name: name, Declared: true,
				SilenceSeconds: int64(silence / time.Second), State: StateWaiting})
		}
	}
	m.mu.Unlock()
	out, err := m.addDeadLetters(ctx, out, tenants, now)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Source) int {
		return cmp.Or(cmp.Compare(a.Tenant, b.Tenant), cmp.Compare(stateRank[a.State], stateRank[b.State]),
			cmp.Compare(a.Name, b.Name), cmp.Compare(a.Receiver, b.Receiver), cmp.Compare(a.Type, b.Type), cmp.Compare(a.Host, b.Host))
	})
	return out, nil
}

// MonthEvents counts each of tenant t's sources' events received in the
// calendar month (UTC) that starts at month.
func (m *Monitor) MonthEvents(t tenant.ID, month time.Time) map[Key]int64 {
	month = month.UTC()
	start := time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, time.UTC)
	out := map[Key]int64{}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, tr := range m.tracks {
		if k.Tenant == t {
			out[k] = tr.inMonth(start)
		}
	}
	return out
}

// stateRank orders states worst first.
var stateRank = map[string]int{StateSilent: 0, StateDropped: 1, StateWaiting: 2, StateIdle: 3, StateOK: 4}

// addDeadLetters puts each receiver's dead letters of the last day on its
// row without host or type (appended when there is none).
func (m *Monitor) addDeadLetters(ctx context.Context, out []Source, tenants []tenant.ID, now time.Time) ([]Source, error) {
	if tenants == nil {
		seen := map[tenant.ID]bool{}
		for _, s := range out {
			if !seen[s.Tenant] {
				seen[s.Tenant] = true
				tenants = append(tenants, s.Tenant)
			}
		}
	}
	for _, t := range tenants {
		counts, err := m.d.Store.DeadLetterCounts(ctx, t, now.Add(-24*time.Hour))
		if err != nil {
			return nil, fmt.Errorf("health: dead letters of %s: %w", t, err)
		}
		for src, n := range counts {
			k := Key{Tenant: t, Receiver: string(event.Raw{Source: src}.Kind())}
			i := slices.IndexFunc(out, func(s Source) bool { return s.Key == k })
			if i < 0 {
				out = append(out, Source{Key: k, State: StateOK})
				i = len(out) - 1
			}
			out[i].DeadLetters += n
		}
	}
	return out, nil
}

// Rule IDs of health alerts: one rule per receiver and type, so each
// source (with its host, the default alert key) has its own alert.
const (
	RuleSilence = "health:silence:"
	RuleDrop    = "health:drop:"
)

func (m *Monitor) silenceDetection(k Key, tr *track, at time.Time) alert.Detection {
	silence, declared := m.silenceFor(k, tr)
	level := m.cfg.Level
	if !declared {
		level = lower(level)
	}
	d := m.detection(k, tr, RuleSilence, "Log source silent: ", level, "silence", tr.Last.Add(silence), at,
		event.Field{Name: "tarian.health.last_seen", Value: tr.Last.UTC().Format(time.RFC3339)},
		event.Field{Name: "tarian.health.silence", Value: silence.String()})
	d.EventHash = hash(k, "silence", tr.Last)
	return d
}

func (m *Monitor) dropDetection(k Key, tr *track, hour time.Time, got int64, usual float64) alert.Detection {
	d := m.detection(k, tr, RuleDrop, "Log source rate dropped: ", lower(m.cfg.Level), "drop", hour.Add(time.Hour), hour.Add(time.Hour),
		event.Field{Name: "tarian.health.hour", Value: hour.UTC().Format(time.RFC3339)},
		event.Field{Name: "tarian.health.events", Value: strconv.FormatInt(got, 10)},
		event.Field{Name: "tarian.health.baseline", Value: strconv.FormatFloat(usual, 'f', 0, 64)})
	d.EventHash = hash(k, "drop", hour)
	return d
}

func (m *Monitor) detection(k Key, tr *track, rule, title, level, what string, when, received time.Time, extra ...event.Field) alert.Detection {
	typ := cmp.Or(k.Type, TypeUnknown)
	label := k.Label()
	if tr.Name != "" {
		label = tr.Name + " (" + label + ")"
	}
	d := alert.Detection{
		Producer: alert.ProducerHealth, RuleID: rule + k.Receiver + "/" + typ, Title: title + label,
		Author: "Tarian", Level: level, Tags: []string{"attack.defense-evasion", "attack.t1562"},
		Fields: append([]event.Field{
			{Name: "tarian.source.receiver", Value: k.Receiver},
			{Name: parse.FieldType, Value: typ},
			{Name: "tarian.health.finding", Value: what},
		}, extra...),
		EventTime: when, Received: received,
	}
	if tr.Name != "" {
		d.Fields = append(d.Fields, event.Field{Name: parse.FieldName, Value: tr.Name})
	}
	if k.Host != "" {
		d.Entities = []alert.Entity{{Type: alert.EntityHost, Value: k.Host}}
		d.Fields = append(d.Fields, event.Field{Name: "host.name", Value: k.Host})
	}
	return d
}

// hash identifies one finding, so raising it again (after a restart)
// counts it once.
func hash(k Key, what string, at time.Time) string {
	s := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%s\x00%s\x00%d", k.Tenant, k.Receiver, k.Host, k.Type, what, at.UnixNano()))
	return hex.EncodeToString(s[:16])
}

// lower is the level below l.
func lower(l string) string {
	switch l {
	case "critical":
		return "high"
	case "high":
		return "medium"
	default:
		return "low"
	}
}
