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

	"github.com/tarian-soc/tarian/internal/sigma"
)

// ccorr is a compiled correlation rule.
type ccorr struct {
	key     string // stable state key: the rule id, or its title
	rule    *sigma.Rule
	c       *sigma.Correlation
	members []*crule
	groupBy [][]int32 // per member: the field of each group-by name
	value   []int32   // per member: the condition field (value_* types)
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
}

// maxGroupEntries bounds the matches one group keeps in its window.
const maxGroupEntries = 10000

func (e *Engine) compileCorrelation(r *sigma.Rule, byRef map[string][]*crule) (*ccorr, error) {
	c := &ccorr{rule: r, c: r.Correlation, key: r.ID}
	if c.key == "" {
		c.key = r.Title
	}
	for _, ref := range r.Correlation.Rules {
		ms := byRef[ref]
		if len(ms) == 0 {
			return nil, fmt.Errorf("correlation refers to rule %q, which is not loaded (correlations of correlations are not supported)", ref)
		}
		c.members = append(c.members, ms[0])
	}
	for _, m := range c.members {
		var ids []int32
		for _, g := range r.Correlation.GroupBy {
			ids = append(ids, e.fieldID(aliasFor(r.Correlation, g, m.rule)))
		}
		c.groupBy = append(c.groupBy, ids)
		vf := int32(-1)
		if f := r.Correlation.Condition.Field; f != "" {
			vf = e.fieldID(aliasFor(r.Correlation, f, m.rule))
		}
		c.value = append(c.value, vf)
	}
	for _, m := range c.members {
		if !slices.Contains(m.corrs, c) {
			m.corrs = append(m.corrs, c)
		}
		if len(m.corrs) == 1 {
			m.generate = false
		}
		if r.Correlation.Generate {
			m.generate = true
		}
	}
	return c, nil
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
	seen   int // observations since the last sweep
}

// sweepEvery is how many observations pass between sweeps of expired groups.
const sweepEvery = 4096

// NewState returns empty correlation state.
func NewState() *State { return &State{groups: map[string]*group{}} }

type group struct {
	Entries []entry `json:"e"`
	Span    int64   `json:"s"` // the correlation's timespan, in nanoseconds
}

type entry struct {
	T      int64   `json:"t"` // unix nanoseconds
	Member int     `json:"m"`
	Value  string  `json:"v,omitempty"`
	Num    float64 `json:"n,omitempty"`
	HasNum bool    `json:"h,omitempty"`
}

type stateSnapshot struct {
	Version int               `json:"version"`
	Last    time.Time         `json:"last"`
	Groups  map[string]*group `json:"groups"`
}

// MarshalBinary encodes the state.
func (s *State) MarshalBinary() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := json.Marshal(stateSnapshot{Version: 1, Last: s.last, Groups: s.groups})
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
	return nil
}

// Groups returns the number of open correlation groups.
func (s *State) Groups() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.groups)
}

// observe records a match of member rule r for correlation c and reports
// the correlation when its condition is met.
func (s *State) observe(e *Engine, st *evState, c *ccorr, r *crule, fn func(Match)) {
	mi := slices.Index(c.members, r)
	if mi < 0 {
		return
	}
	t, ok := st.eventTime()
	s.mu.Lock()
	if !ok {
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
	var groupVals []Field
	for gi, id := range c.groupBy[mi] {
		kb.WriteByte(0)
		v := ""
		if i := st.first(id); i >= 0 && !st.vals[i].null {
			v = string(st.vals[i].raw)
		}
		kb.WriteString(v)
		groupVals = append(groupVals, Field{Name: c.c.GroupBy[gi], Value: v})
	}
	key := kb.String()
	g := s.groups[key]
	if g == nil {
		g = &group{Span: int64(c.c.Timespan)}
		s.groups[key] = g
	}
	s.seen++
	if s.seen >= sweepEvery {
		s.sweep()
	}
	en := entry{T: t.UnixNano(), Member: mi}
	if id := c.value[mi]; id >= 0 {
		if i := st.first(id); i >= 0 && !st.vals[i].null {
			en.Value = string(st.vals[i].raw)
			en.Num, en.HasNum = parseNumber(st.vals[i].raw)
		}
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
		res = &CorrelationResult{Type: c.c.Type, Value: value, Group: groupVals,
			First: time.Unix(0, g.Entries[0].T).UTC(), Last: time.Unix(0, g.Entries[len(g.Entries)-1].T).UTC()}
		seen := map[int]bool{}
		for _, x := range g.Entries {
			if !seen[x.Member] {
				seen[x.Member] = true
				ref := c.members[x.Member].rule.ID
				if ref == "" {
					ref = c.members[x.Member].rule.Name
				}
				res.Rules = append(res.Rules, ref)
			}
		}
		delete(s.groups, key) // the window starts afresh after a match
	}
	s.mu.Unlock()
	if res != nil {
		fn(Match{RuleID: c.rule.ID, Title: c.rule.Title, Level: c.rule.Level, Author: c.rule.Author,
			Status: c.rule.Status, Tags: c.rule.Tags, Rule: c.rule, Fields: groupVals, Time: t, Correlation: res})
	}
}

// sweep drops groups whose newest match is older than their timespan,
// measured from the latest event time seen, so state does not grow with
// groups that stopped matching.
func (s *State) sweep() {
	s.seen = 0
	now := s.last.UnixNano()
	for k, g := range s.groups {
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
	var ok bool
	switch cond.Op {
	case "gt":
		ok = v > cond.Value
	case "gte":
		ok = v >= cond.Value
	case "lt":
		ok = v < cond.Value
	case "lte":
		ok = v <= cond.Value
	case "eq":
		ok = v == cond.Value
	case "neq":
		ok = v != cond.Value
	}
	return v, ok
}
