package stixpattern

import (
	"iter"
	"math"
	"slices"
	"time"
)

// DefaultMaxSteps bounds the work of one [Pattern.Match]: combining
// observations for AND, FOLLOWEDBY and REPEATS can grow exponentially.
const DefaultMaxSteps = 20_000_000

// maxInstances bounds the observations (number_observed copies) one
// Match combines.
const maxInstances = 1 << 20

// MatchOptions tune [Pattern.MatchOptions].
type MatchOptions struct {
	// MaxSteps bounds the combination search (0: DefaultMaxSteps). When it
	// is exhausted, Match returns an *EvalError.
	MaxSteps int
}

// Match reports whether the observed-data match the pattern. An
// *EvalError means the pattern cannot be evaluated against this data.
//
// Following the specification and the reference matcher, an
// observed-data with number_observed N counts as N observations; an
// observation expression [..] holds for an observation when its
// comparisons hold for its objects (comparisons joined by AND must hold
// for the same object when they name the same type, and for objects of
// the same observed-data otherwise); AND and FOLLOWEDBY need distinct
// observations, FOLLOWEDBY with the left ones not later than the right
// ones; WITHIN needs all observations to fit in the window; REPEATS n
// needs n distinct sets of observations; START/STOP keeps observations
// whose [first_observed, last_observed] overlaps [START, STOP).
func (p *Pattern) Match(obs []ObservedData) (bool, error) {
	return p.MatchOptions(obs, MatchOptions{})
}

// MatchOptions is [Pattern.Match] with options.
func (p *Pattern) MatchOptions(obs []ObservedData, opts MatchOptions) (bool, error) {
	p.compileOnce.Do(func() {
		p.compiled = map[*Comparison]*compiled{}
		p.compileErr = compileObs(p.Root, p.compiled)
	})
	if p.compileErr != nil {
		return false, p.compileErr
	}
	m := &matcher{maxSteps: opts.MaxSteps, obs: obs, leaves: map[*Observation][]bool{}, comp: p.compiled}
	if m.maxSteps <= 0 {
		m.maxSteps = DefaultMaxSteps
	}
	m.keys = make([][]string, len(obs))
	for i := range obs {
		m.keys[i] = obs[i].sortedKeys()
	}
	if err := m.prepare(p.Root); err != nil {
		return false, err
	}
	copies, total := bindingSize(p.Root), 0
	for i := range obs {
		total += min(obs[i].NumberObserved, copies)
	}
	if total > maxInstances {
		return false, evalErrf("pattern too expensive to evaluate: %d observations to combine (at most %d)", total, maxInstances)
	}
	m.inst = make([]int32, 0, total)
	for i := range obs {
		n := min(obs[i].NumberObserved, copies)
		for range n {
			m.inst = append(m.inst, int32(i))
		}
	}
	seq := m.seq(p.Root)
	matched := false
	for range seq {
		matched = true
		break
	}
	if matched {
		return true, nil
	}
	if m.err != nil {
		return false, m.err
	}
	return false, nil
}

type binding []int32 // instance indexes

type matcher struct {
	obs      []ObservedData
	keys     [][]string // per observed-data, its object keys in order
	comp     map[*Comparison]*compiled
	inst     []int32 // instance -> observed-data index
	leaves   map[*Observation][]bool
	steps    int
	maxSteps int
	seen     []uint32 // scratch for bound
	gen      uint32
	err      error
}

// prepare evaluates every bracketed observation expression against every
// observed-data and checks the qualifiers.
func (m *matcher) prepare(e ObsExpr) error {
	switch e := e.(type) {
	case *Observation:
		hits := make([]bool, len(m.obs))
		for i := range m.obs {
			ts, err := evalCmp(e.Cmp, m.comp, &m.obs[i], m.keys[i])
			if err != nil {
				return err
			}
			hits[i] = len(ts) > 0
		}
		m.leaves[e] = hits
	case *ObsGroup:
		return m.prepare(e.Expr)
	case *ObsBinary:
		if err := m.prepare(e.Left); err != nil {
			return err
		}
		return m.prepare(e.Right)
	case *Qualified:
		switch e.Q.Kind {
		case QualWithin:
			if e.Q.Within <= 0 {
				return evalErrf("invalid WITHIN value (must be positive): %s", e.Q.Seconds.Raw)
			}
		case QualRepeats:
			if e.Q.Repeats <= 0 {
				return evalErrf("invalid REPEATS value (must be positive): %s", e.Q.Times.Raw)
			}
		}
		return m.prepare(e.Expr)
	}
	return nil
}

// compileObs compiles every comparison of the pattern.
func compileObs(e ObsExpr, out map[*Comparison]*compiled) error {
	switch e := e.(type) {
	case *Observation:
		return compileAll(e.Cmp, out)
	case *ObsGroup:
		return compileObs(e.Expr, out)
	case *ObsBinary:
		if err := compileObs(e.Left, out); err != nil {
			return err
		}
		return compileObs(e.Right, out)
	case *Qualified:
		return compileObs(e.Expr, out)
	}
	return nil
}

func compileAll(e CmpExpr, out map[*Comparison]*compiled) error {
	switch e := e.(type) {
	case *Comparison:
		k, err := compile(e)
		if err != nil {
			return err
		}
		out[e] = k
	case *CmpGroup:
		return compileAll(e.Expr, out)
	case *CmpBinary:
		if err := compileAll(e.Left, out); err != nil {
			return err
		}
		return compileAll(e.Right, out)
	}
	return nil
}

// typeSet holds, per object type, the keys of the objects a comparison
// expression holds for.
type typeSet map[string]map[string]bool

func evalCmp(e CmpExpr, comp map[*Comparison]*compiled, od *ObservedData, keys []string) (typeSet, error) {
	switch e := e.(type) {
	case *Comparison:
		var hit map[string]bool
		for _, k := range keys {
			obj := od.Objects[k]
			if t, _ := obj["type"].(string); t != e.Path.Type {
				continue
			}
			ok, err := comp[e].test(od, obj)
			if err != nil {
				return nil, err
			}
			if ok {
				if hit == nil {
					hit = map[string]bool{}
				}
				hit[k] = true
			}
		}
		if hit == nil {
			return nil, nil
		}
		return typeSet{e.Path.Type: hit}, nil
	case *CmpGroup:
		return evalCmp(e.Expr, comp, od, keys)
	case *CmpBinary:
		l, err := evalCmp(e.Left, comp, od, keys)
		if err != nil {
			return nil, err
		}
		r, err := evalCmp(e.Right, comp, od, keys)
		if err != nil {
			return nil, err
		}
		if !e.And {
			for t, ids := range r {
				if l == nil {
					l = typeSet{}
				}
				if l[t] == nil {
					l[t] = map[string]bool{}
				}
				for id := range ids {
					l[t][id] = true
				}
			}
			return l, nil
		}
		if len(l) == 0 || len(r) == 0 {
			return nil, nil
		}
		out := typeSet{}
		for t, ids := range l {
			out[t] = ids
		}
		for t, ids := range r {
			lids, ok := out[t]
			if !ok {
				out[t] = ids
				continue
			}
			both := map[string]bool{}
			for id := range ids {
				if lids[id] {
					both[id] = true
				}
			}
			if len(both) == 0 {
				return nil, nil
			}
			out[t] = both
		}
		return out, nil
	}
	return nil, nil
}

// bindingSize is the largest number of observations one binding of e can
// hold; no observed-data needs more copies than that.
func bindingSize(e ObsExpr) int {
	switch e := e.(type) {
	case *ObsGroup:
		return bindingSize(e.Expr)
	case *ObsBinary:
		l, r := bindingSize(e.Left), bindingSize(e.Right)
		if e.Op == ObsOr {
			return max(l, r)
		}
		return satAdd(l, r)
	case *Qualified:
		n := bindingSize(e.Expr)
		if e.Q.Kind == QualRepeats {
			if e.Q.Repeats > 0 && int64(n) > math.MaxInt32/e.Q.Repeats {
				return math.MaxInt32
			}
			return n * int(max(e.Q.Repeats, 1))
		}
		return n
	}
	return 1
}

func satAdd(a, b int) int {
	if a > math.MaxInt32-b {
		return math.MaxInt32
	}
	return a + b
}

// tick counts one step of the search; false when the budget is spent.
func (m *matcher) tick() bool {
	if m.err != nil {
		return false
	}
	m.steps++
	if m.steps > m.maxSteps {
		m.err = evalErrf("pattern too expensive to evaluate: more than %d combination steps", m.maxSteps)
		return false
	}
	return true
}

func (m *matcher) first(b binding) time.Time {
	t := m.obs[m.inst[b[0]]].FirstObserved
	for _, i := range b[1:] {
		if f := m.obs[m.inst[i]].FirstObserved; f.After(t) {
			t = f
		}
	}
	return t // latest first_observed
}

func (m *matcher) last(b binding) time.Time {
	t := m.obs[m.inst[b[0]]].LastObserved
	for _, i := range b[1:] {
		if l := m.obs[m.inst[i]].LastObserved; l.Before(t) {
			t = l
		}
	}
	return t // earliest last_observed
}

func disjoint(a, b binding) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// seq lazily yields the bindings (sets of observation instances) of e.
func (m *matcher) seq(e ObsExpr) iter.Seq[binding] {
	switch e := e.(type) {
	case *Observation:
		hits := m.leaves[e]
		return func(yield func(binding) bool) {
			for i, obsIdx := range m.inst {
				if hits[obsIdx] && m.tick() && !yield(binding{int32(i)}) {
					return
				}
			}
		}
	case *ObsGroup:
		return m.seq(e.Expr)
	case *ObsBinary:
		l, r := m.seq(e.Left), m.seq(e.Right)
		switch e.Op {
		case ObsOr:
			return func(yield func(binding) bool) {
				for b := range l {
					if !yield(b) {
						return
					}
				}
				for b := range r {
					if !yield(b) {
						return
					}
				}
			}
		case ObsAnd:
			return m.join(l, r, func(a, b binding) bool { return true })
		default:
			return m.join(l, r, func(a, b binding) bool { return !m.first(a).After(m.last(b)) })
		}
	case *Qualified:
		inner := m.seq(e.Expr)
		q := e.Q
		switch q.Kind {
		case QualWithin:
			return filter(inner, func(b binding) bool {
				return m.first(b).Sub(m.last(b)) <= q.Within
			})
		case QualStartStop:
			return filter(inner, func(b binding) bool {
				if !q.Start.Time.Before(q.Stop.Time) {
					return false
				}
				for _, i := range b {
					od := &m.obs[m.inst[i]]
					if !od.FirstObserved.Before(q.Stop.Time) || od.LastObserved.Before(q.Start.Time) {
						return false
					}
				}
				return true
			})
		default:
			return m.repeat(inner, q.Repeats)
		}
	}
	return func(func(binding) bool) {}
}

func filter(s iter.Seq[binding], keep func(binding) bool) iter.Seq[binding] {
	return func(yield func(binding) bool) {
		for b := range s {
			if keep(b) && !yield(b) {
				return
			}
		}
	}
}

// join yields the disjoint pairs of bindings of l and r that pass ok. It
// pulls from both sides in turn, so a match is found without enumerating
// either side first.
func (m *matcher) join(l, r iter.Seq[binding], ok func(a, b binding) bool) iter.Seq[binding] {
	return func(yield func(binding) bool) {
		nextL, stopL := iter.Pull(l)
		defer stopL()
		nextR, stopR := iter.Pull(r)
		defer stopR()
		var lc, rc []binding
		lmore, rmore := true, true
		try := func(a, b binding) bool {
			if !m.tick() {
				return false
			}
			if disjoint(a, b) && ok(a, b) {
				return yield(slices.Concat(a, b))
			}
			return true
		}
		for lmore || rmore {
			if lmore {
				a, more := nextL()
				if !more {
					lmore = false
					if len(lc) == 0 {
						return
					}
				} else {
					for _, b := range rc {
						if !try(a, b) {
							return
						}
					}
					lc = append(lc, a)
				}
			}
			if rmore {
				b, more := nextR()
				if !more {
					rmore = false
					if len(rc) == 0 {
						return
					}
				} else {
					for _, a := range lc {
						if !try(a, b) {
							return
						}
					}
					rc = append(rc, b)
				}
			}
			if m.err != nil {
				return
			}
		}
	}
}

// repeat yields the unions of n pairwise disjoint bindings of s.
func (m *matcher) repeat(s iter.Seq[binding], n int64) iter.Seq[binding] {
	return func(yield func(binding) bool) {
		if n > int64(len(m.inst)) {
			return
		}
		if n == 1 {
			for b := range s {
				if !yield(b) {
					return
				}
			}
			return
		}
		next, stop := iter.Pull(s)
		defer stop()
		var cache []binding
		for {
			b, more := next()
			if !more || m.err != nil {
				return
			}
			var cands []binding
			for _, c := range cache {
				if disjoint(b, c) {
					cands = append(cands, c)
				}
			}
			if !m.combine(cands, int(n-1), slices.Clone(b), yield) {
				return
			}
			cache = append(cache, b)
		}
	}
}

// combine extends acc with need pairwise disjoint bindings from cands
// (all disjoint from acc), yielding each complete union.
func (m *matcher) combine(cands []binding, need int, acc binding, yield func(binding) bool) bool {
	if need == 0 {
		return yield(slices.Clone(acc))
	}
	if len(cands) < need || m.bound(cands) < need {
		return true
	}
	for j := 0; j <= len(cands)-need; j++ {
		if !m.tick() {
			return false
		}
		c := cands[j]
		var rest []binding
		for _, d := range cands[j+1:] {
			if disjoint(c, d) {
				rest = append(rest, d)
			}
		}
		if !m.combine(rest, need-1, append(acc, c...), yield) {
			return false
		}
	}
	return true
}

// bound is an upper bound on the number of pairwise disjoint bindings in
// cands: the instances they cover divided by the smallest binding size.
func (m *matcher) bound(cands []binding) int {
	if len(m.seen) != len(m.inst) {
		m.seen = make([]uint32, len(m.inst))
	}
	m.gen++
	covered, smallest := 0, len(cands[0])
	for _, c := range cands {
		smallest = min(smallest, len(c))
		for _, i := range c {
			if m.seen[i] != m.gen {
				m.seen[i] = m.gen
				covered++
			}
		}
	}
	return covered / smallest
}
