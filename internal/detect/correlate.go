package detect

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/sigma"
)

// ccorr is a compiled correlation rule.
type ccorr struct {
	key     string // stable state key: the rule id, or its title
	rule    *sigma.Rule
	c       *sigma.Correlation
	members []member
	// Per member: where each group-by value and the condition field come
	// from: a field id for a detection rule, a group-by name for a
	// correlation (chained correlations see only their inputs' groups).
	groupBy   [][]int32
	groupName [][]string
	// value and valueName: the condition's fields (several only for a
	// value_count of their combination).
	value     [][]int32
	valueName [][]string
	parents   []*ccorr // correlations that use this one
	generate  bool     // report its own matches
	// atClose: the condition is judged when the window closes, not at each
	// match (sigma.Correlation.JudgedAtClose): an upper bound, eq or neq
	// could hold before the count has risen past it, and an average or a
	// percentile can fall again.
	atClose bool
}

// member is one rule a correlation refers to: a detection rule or another
// correlation.
type member struct {
	rule *crule
	corr *ccorr
}

func (m member) sigmaRule() *sigma.Rule {
	if m.rule != nil {
		return m.rule.rule
	}
	return m.corr.rule
}

// CorrelationResult describes a correlation match.
type CorrelationResult struct {
	Type  string
	Value float64 // the count, sum, average or percentile that met the condition
	Group []Field // group-by values
	First time.Time
	Last  time.Time
	// Rules lists the ids (or names) of the rules whose matches took part.
	Rules []string
	// Refs are the references of the events whose matches took part
	// (EvaluateEvent's ref), in the window's order, at most MaxRefs; for a
	// match of another correlation (chaining), its last event.
	Refs []string
}

// maxGroupEntries bounds the matches one group keeps in its window.
const maxGroupEntries = 10000

// MaxRefs is how many event references a correlation's match lists.
const MaxRefs = 100

// compileCorrelations compiles correlations in dependency order: one that
// refers to another correlation waits until that one is compiled.
func (e *Engine) compileCorrelations(corrs []*sigma.Rule, byRef map[string][]*crule) {
	byCorr := map[string]*ccorr{}
	pending := corrs
	for len(pending) > 0 {
		var next []*sigma.Rule
		for _, r := range pending {
			if !refsReady(r, byRef, byCorr) {
				next = append(next, r)
				continue
			}
			c := e.compileCorrelation(r, byRef, byCorr)
			e.corrs = append(e.corrs, c)
			e.corrByKey[c.key] = c
			e.hasClosing = e.hasClosing || c.atClose
			for _, ref := range []string{r.ID, r.Name} {
				if ref != "" {
					byCorr[ref] = c
				}
			}
		}
		if len(next) == len(pending) { // no progress: unknown names or a cycle
			for _, r := range next {
				e.skipped = append(e.skipped, Skipped{Rule: r, Reason: fmt.Sprintf("correlation refers to %s, which is not loaded (or the correlations refer to each other in a cycle)", missingRefs(r, byRef, byCorr))})
			}
			return
		}
		pending = next
	}
}

func refsReady(r *sigma.Rule, byRef map[string][]*crule, byCorr map[string]*ccorr) bool {
	return missingRefs(r, byRef, byCorr) == ""
}

func missingRefs(r *sigma.Rule, byRef map[string][]*crule, byCorr map[string]*ccorr) string {
	var miss []string
	for _, ref := range r.Correlation.Rules {
		if len(byRef[ref]) == 0 && byCorr[ref] == nil {
			miss = append(miss, fmt.Sprintf("%q", ref))
		}
	}
	return strings.Join(miss, ", ")
}

func (e *Engine) compileCorrelation(r *sigma.Rule, byRef map[string][]*crule, byCorr map[string]*ccorr) *ccorr {
	c := &ccorr{rule: r, c: r.Correlation, key: r.ID, generate: true}
	c.atClose = r.Correlation.JudgedAtClose()
	if c.key == "" {
		c.key = r.Title
	}
	for _, ref := range r.Correlation.Rules {
		if ms := byRef[ref]; len(ms) > 0 {
			c.members = append(c.members, member{rule: ms[0]})
		} else {
			c.members = append(c.members, member{corr: byCorr[ref]})
		}
	}
	for _, m := range c.members {
		var ids []int32
		var names []string
		for _, g := range r.Correlation.GroupBy {
			name := aliasFor(r.Correlation, g, m.sigmaRule())
			names = append(names, name)
			if m.rule != nil {
				ids = append(ids, e.fieldID(name))
			}
		}
		c.groupBy = append(c.groupBy, ids)
		c.groupName = append(c.groupName, names)
		var vids []int32
		var vnames []string
		for _, f := range r.Correlation.Condition.Fields {
			name := aliasFor(r.Correlation, f, m.sigmaRule())
			vnames = append(vnames, name)
			if m.rule != nil {
				vids = append(vids, e.fieldID(name))
			}
		}
		c.value = append(c.value, vids)
		c.valueName = append(c.valueName, vnames)
	}
	for _, m := range c.members {
		// Referenced rules stay silent unless a correlation using them
		// says generate: true.
		switch {
		case m.rule != nil:
			if !slices.Contains(m.rule.corrs, c) {
				m.rule.corrs = append(m.rule.corrs, c)
			}
			if len(m.rule.corrs) == 1 {
				m.rule.generate = false
			}
			if r.Correlation.Generate {
				m.rule.generate = true
			}
		default:
			if !slices.Contains(m.corr.parents, c) {
				m.corr.parents = append(m.corr.parents, c)
			}
			if len(m.corr.parents) == 1 {
				m.corr.generate = false
			}
			if r.Correlation.Generate {
				m.corr.generate = true
			}
		}
	}
	return c
}

func aliasFor(c *sigma.Correlation, field string, r *sigma.Rule) string {
	if a, ok := c.Aliases[field]; ok {
		if f, ok := a[r.Name]; ok {
			return f
		}
		if f, ok := a[r.ID]; ok {
			return f
		}
	}
	return field
}

// State holds correlation windows for one tenant. It is safe for
// concurrent use and can be saved with MarshalBinary and restored with
// UnmarshalBinary so windows survive a restart.
type State struct {
	mu     sync.Mutex
	groups map[string]*group
	last   time.Time
	seen   int               // observations since the last sweep
	byKey  map[string]*ccorr // the engine's correlations, for windows judged at close
	// sources are the mapped log sources events have come from (the
	// member's coverage: detector.Coverage).
	sources map[string]struct{}
	// off are the rules switched off for the state's tenant (SetDisabled);
	// not saved with the state: the switches are kept elsewhere.
	off map[string]bool
}

// SetDisabled switches rules off for the tenant of this state, by id: a
// rule switched off reports no match, but its matches still count for the
// correlations that use it and are on; a correlation that is off, and that
// no correlation that is on uses, records nothing, so matches seen while
// it was off never count towards a window once it is on again. ids is kept,
// not copied: it must not change after the call (pass a new map instead).
// nil switches every rule on.
func (s *State) SetDisabled(ids map[string]bool) {
	s.mu.Lock()
	s.off = ids
	s.mu.Unlock()
}

// disabled returns the rules switched off.
func (s *State) disabled() map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.off
}

// live says whether correlation c is to be evaluated with the rules in off
// switched off: it is on, or a correlation that uses it is live.
func (c *ccorr) live(off map[string]bool) bool {
	if !off[c.rule.ID] {
		return true
	}
	for _, p := range c.parents {
		if p.live(off) {
			return true
		}
	}
	return false
}

// sweepEvery is how many observations pass between sweeps of expired groups.
const sweepEvery = 4096

// NewState returns empty correlation state.
func NewState() *State { return &State{groups: map[string]*group{}, sources: map[string]struct{}{}} }

// saw records that an event of mapped log source src arrived.
func (s *State) saw(src string) {
	s.mu.Lock()
	if _, ok := s.sources[src]; !ok {
		s.sources[src] = struct{}{}
	}
	s.mu.Unlock()
}

// Sources returns the mapped log sources ("product|category|service")
// events have come from, sorted.
func (s *State) Sources() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.sources))
	for src := range s.sources {
		out = append(out, src)
	}
	slices.Sort(out)
	return out
}

type group struct {
	Entries []entry `json:"e"`
	Span    int64   `json:"s"` // the correlation's timespan, in nanoseconds
	// For conditions judged when the window closes: when it closes, the
	// correlation's key and the group-by values.
	Close int64    `json:"c,omitempty"`
	Corr  string   `json:"k,omitempty"`
	Vals  []string `json:"g,omitempty"`
}

type entry struct {
	T      int64   `json:"t"` // unix nanoseconds
	Member int     `json:"m"`
	Ref    string  `json:"r,omitempty"` // the event's reference, when known
	Value  string  `json:"v,omitempty"`
	Num    float64 `json:"n,omitempty"`
	HasNum bool    `json:"h,omitempty"`
}

type stateSnapshot struct {
	Version int               `json:"version"`
	Last    time.Time         `json:"last"`
	Groups  map[string]*group `json:"groups"`
	Sources []string          `json:"sources,omitempty"`
}

// MarshalBinary encodes the state.
func (s *State) MarshalBinary() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	srcs := make([]string, 0, len(s.sources))
	for src := range s.sources {
		srcs = append(srcs, src)
	}
	slices.Sort(srcs)
	b, err := json.Marshal(stateSnapshot{Version: 1, Last: s.last, Groups: s.groups, Sources: srcs})
	if err != nil {
		return nil, fmt.Errorf("marshal correlation state: %w", err)
	}
	return b, nil
}

// UnmarshalBinary restores state written by MarshalBinary.
func (s *State) UnmarshalBinary(data []byte) error {
	var snap stateSnapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("unmarshal correlation state: %w", err)
	}
	if snap.Version != 1 {
		return fmt.Errorf("unmarshal correlation state: unknown version %d", snap.Version)
	}
	if snap.Groups == nil {
		snap.Groups = map[string]*group{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups, s.last = snap.Groups, snap.Last
	s.sources = make(map[string]struct{}, len(snap.Sources))
	for _, src := range snap.Sources {
		s.sources[src] = struct{}{}
	}
	return nil
}

// Groups returns the number of open correlation groups.
func (s *State) Groups() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.groups)
}

// observe records a match of detection rule r for correlation c.
func (s *State) observe(st *evState, c *ccorr, r *crule, fn func(Match)) {
	if !c.live(st.off) {
		return
	}
	mi := slices.IndexFunc(c.members, func(m member) bool { return m.rule == r })
	if mi < 0 {
		return
	}
	t, hasTime := st.eventTime()
	vals := make([]string, len(c.groupBy[mi]))
	for gi, id := range c.groupBy[mi] {
		if i := st.first(id); i >= 0 && !st.vals[i].null {
			vals[gi] = string(st.vals[i].raw)
		}
	}
	var en entry
	for k, id := range c.value[mi] {
		i := st.first(id)
		if i < 0 || st.vals[i].null || len(st.vals[i].raw) == 0 {
			en = entry{} // a value (combination) counts only when every field has one
			break
		}
		if k > 0 {
			en.Value += valueSep
		}
		en.Value += string(st.vals[i].raw)
		if len(c.value[mi]) == 1 {
			en.Num, en.HasNum = parseNumber(st.vals[i].raw)
		}
	}
	if st.ref != (event.Ref{}) {
		en.Ref = st.ref.String()
	}
	s.record(c, mi, t, hasTime, vals, en, fn)
}

// record adds one match of member mi to correlation c's window for the
// group vals and reports the correlation when its condition is met; a
// correlation that fires is in turn recorded for the correlations that use
// it.
func (s *State) record(c *ccorr, mi int, t time.Time, hasTime bool, vals []string, en entry, fn func(Match)) {
	s.mu.Lock()
	if !hasTime {
		t = s.last
		if t.IsZero() {
			t = time.Now().UTC()
		}
	}
	if t.After(s.last) {
		s.last = t
	}
	// Group key: the correlation, then each group-by value.
	var kb strings.Builder
	kb.WriteString(c.key)
	groupVals := make([]Field, len(vals))
	for gi, v := range vals {
		kb.WriteByte(0)
		kb.WriteString(v)
		groupVals[gi] = Field{Name: c.c.GroupBy[gi], Value: v}
	}
	key := kb.String()
	closed := s.closeWindows(nil, s.last.UnixNano())
	g := s.groups[key]
	if g != nil && c.atClose && g.Close == 0 {
		// A window from state saved when this condition was judged at each
		// match (an older version, or the rule changed): start afresh, as
		// after a match, rather than keep a window that never closes.
		g = nil
	}
	if g == nil {
		g = &group{Span: int64(c.c.Timespan)}
		if c.atClose {
			g.Close, g.Corr, g.Vals = t.UnixNano()+g.Span, c.key, vals
		}
		s.groups[key] = g
	}
	s.seen++
	if s.seen >= sweepEvery {
		s.sweep()
	}
	en.T, en.Member = t.UnixNano(), mi
	if c.atClose {
		g.Entries = append(g.Entries, en)
		if len(g.Entries) > maxGroupEntries {
			g.Entries = g.Entries[len(g.Entries)-maxGroupEntries:]
		}
		s.mu.Unlock()
		s.fireClosed(closed, fn)
		return
	}
	g.Entries = append(g.Entries, en)
	// Keep the window: entries within timespan of this event, in time order.
	sort.SliceStable(g.Entries, func(a, b int) bool { return g.Entries[a].T < g.Entries[b].T })
	lo := t.Add(-c.c.Timespan).UnixNano()
	keep := g.Entries[:0]
	for _, x := range g.Entries {
		if x.T >= lo && x.T <= t.UnixNano() || x.T > t.UnixNano() && x.T-t.UnixNano() <= int64(c.c.Timespan) {
			keep = append(keep, x)
		}
	}
	g.Entries = keep
	if len(g.Entries) > maxGroupEntries {
		g.Entries = g.Entries[len(g.Entries)-maxGroupEntries:]
	}
	value, met := evalCorrelation(c, g.Entries)
	var res *CorrelationResult
	if met {
		res = result(c, g.Entries, value, groupVals)
		delete(s.groups, key) // the window starts afresh after a match
	}
	s.mu.Unlock()
	s.fireClosed(closed, fn)
	if res != nil {
		s.fire(c, res, t, fn)
	}
}

func result(c *ccorr, es []entry, value float64, groupVals []Field) *CorrelationResult {
	res := &CorrelationResult{Type: c.c.Type, Value: value, Group: groupVals,
		First: time.Unix(0, es[0].T).UTC(), Last: time.Unix(0, es[len(es)-1].T).UTC()}
	seen := map[int]bool{}
	refs := map[string]bool{}
	for _, x := range es {
		if x.Ref != "" && !refs[x.Ref] && len(res.Refs) < MaxRefs {
			refs[x.Ref] = true
			res.Refs = append(res.Refs, x.Ref)
		}
		if !seen[x.Member] {
			seen[x.Member] = true
			mr := c.members[x.Member].sigmaRule()
			ref := mr.ID
			if ref == "" {
				ref = mr.Name
			}
			res.Rules = append(res.Rules, ref)
		}
	}
	return res
}

// closedWindow is a window whose condition was met when it closed.
type closedWindow struct {
	c   *ccorr
	res *CorrelationResult
	t   time.Time
	key string // the group's key in State.groups
}

// closeWindows ends the windows judged at close that end before now (Unix
// nanoseconds; normally the latest event time), and returns those whose
// condition held. s.mu must be held; corrs resolves correlation keys (nil:
// use the ones recorded).
func (s *State) closeWindows(corrs map[string]*ccorr, now int64) []closedWindow {
	if s.byKey == nil && corrs == nil {
		return nil
	}
	if corrs == nil {
		corrs = s.byKey
	}
	var out []closedWindow
	for k, g := range s.groups {
		if g.Close == 0 || g.Close >= now {
			continue
		}
		delete(s.groups, k)
		c := corrs[g.Corr]
		if c == nil || len(g.Entries) == 0 {
			continue
		}
		value, met := evalCorrelation(c, g.Entries)
		if !met {
			continue
		}
		fields := make([]Field, len(g.Vals))
		for i, v := range g.Vals {
			fields[i] = Field{Name: c.c.GroupBy[i], Value: v}
		}
		out = append(out, closedWindow{c: c, res: result(c, g.Entries, value, fields), t: time.Unix(0, g.Close).UTC(), key: k})
	}
	// Report in close order, not map order, so that matches come out the
	// same way every time.
	slices.SortFunc(out, func(a, b closedWindow) int {
		if c := a.t.Compare(b.t); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	})
	return out
}

func (s *State) fireClosed(ws []closedWindow, fn func(Match)) {
	for _, w := range ws {
		s.fire(w.c, w.res, w.t, fn)
	}
}

// advance moves the state's clock to t (an event's time) and reports the
// windows that closed meanwhile.
func (s *State) advance(e *Engine, t time.Time, fn func(Match)) {
	s.mu.Lock()
	s.byKey = e.corrByKey
	if t.After(s.last) {
		s.last = t
	}
	closed := s.closeWindows(e.corrByKey, s.last.UnixNano())
	s.mu.Unlock()
	s.fireClosed(closed, fn)
}

// CloseWindows ends every window of cs that is judged when it closes
// (sigma.Correlation.JudgedAtClose) as though event time had passed it, and
// reports the correlations whose condition held, in the order of their
// windows' close. It is for the end of a finite input (the event files of
// `tarian rules test`), after which no event can join those windows. The
// server does not call it: there a window closes when an event past its
// end arrives.
func (e *Engine) CloseWindows(cs *State, fn func(Match)) {
	// A window that closes here may open one of a correlation using this
	// one (chaining), so close until none is left.
	for {
		cs.mu.Lock()
		cs.byKey = e.corrByKey
		closed := cs.closeWindows(e.corrByKey, math.MaxInt64)
		cs.mu.Unlock()
		if len(closed) == 0 {
			return
		}
		cs.fireClosed(closed, fn)
	}
}

// fire reports a correlation match and records it for the correlations
// that use this one. s.mu must not be held.
func (s *State) fire(c *ccorr, res *CorrelationResult, t time.Time, fn func(Match)) {
	groupVals := res.Group
	off := s.disabled()
	if c.generate && !off[c.rule.ID] {
		fn(Match{RuleID: c.rule.ID, Title: c.rule.Title, Level: c.rule.Level, Author: c.rule.Author,
			Status: c.rule.Status, Tags: c.rule.Tags, Rule: c.rule, Fields: groupVals, Time: t, Correlation: res})
	}
	for _, p := range c.parents {
		if !p.live(off) {
			continue
		}
		pi := slices.IndexFunc(p.members, func(m member) bool { return m.corr == c })
		pvals := make([]string, len(p.groupName[pi]))
		for gi, name := range p.groupName[pi] {
			pvals[gi] = fieldValue(groupVals, name)
		}
		var pen entry
		for k, name := range p.valueName[pi] {
			v := fieldValue(groupVals, name)
			if v == "" {
				pen = entry{}
				break
			}
			if k > 0 {
				pen.Value += valueSep
			}
			pen.Value += v
			if len(p.valueName[pi]) == 1 {
				pen.Num, pen.HasNum = parseNumber([]byte(v))
			}
		}
		if len(res.Refs) > 0 {
			pen.Ref = res.Refs[len(res.Refs)-1]
		}
		s.record(p, pi, t, true, pvals, pen, fn)
	}
}

func fieldValue(fs []Field, name string) string {
	for _, f := range fs {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// valueSep joins the values of a value_count over several fields into the
// one value counted (field values do not hold NUL in practice).
const valueSep = "\x00"

// sweep drops groups whose newest match is older than their timespan,
// measured from the latest event time seen, so state does not grow with
// groups that stopped matching.
func (s *State) sweep() {
	s.seen = 0
	now := s.last.UnixNano()
	for k, g := range s.groups {
		if g.Close != 0 {
			continue // judged when its window closes
		}
		if len(g.Entries) == 0 || now-g.Entries[len(g.Entries)-1].T > g.Span {
			delete(s.groups, k)
		}
	}
}

func evalCorrelation(c *ccorr, es []entry) (float64, bool) {
	cond := c.c.Condition
	var v float64
	switch c.c.Type {
	case "event_count":
		v = float64(len(es))
	case "value_count":
		seen := map[string]bool{}
		for _, x := range es {
			if x.Value != "" {
				seen[x.Value] = true
			}
		}
		v = float64(len(seen))
	case "temporal":
		seen := map[int]bool{}
		for _, x := range es {
			seen[x.Member] = true
		}
		v = float64(len(seen))
	case "temporal_ordered":
		// Length of the longest prefix of the member order found in sequence.
		next := 0
		for _, x := range es {
			if next < len(c.members) && x.Member == next {
				next++
			}
		}
		v = float64(next)
	case "value_sum", "value_avg", "value_percentile":
		var nums []float64
		for _, x := range es {
			if x.HasNum {
				nums = append(nums, x.Num)
			}
		}
		if len(nums) == 0 {
			return 0, false
		}
		switch c.c.Type {
		case "value_sum":
			for _, n := range nums {
				v += n
			}
		case "value_avg":
			for _, n := range nums {
				v += n
			}
			v /= float64(len(nums))
		default:
			slices.Sort(nums)
			p := cond.Percentile
			if p <= 0 {
				p = 50
			}
			idx := int(math.Ceil(p/100*float64(len(nums)))) - 1
			idx = max(0, min(idx, len(nums)-1))
			v = nums[idx]
		}
	}
	return v, cond.Holds(v)
}
