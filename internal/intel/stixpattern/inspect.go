package stixpattern

import "sort"

// Inspection is what a pattern tests, as the OASIS inspector reports it.
type Inspection struct {
	// Qualifiers are the distinct qualifiers, sorted, e.g. "WITHIN 5 SECONDS".
	Qualifiers []string
	// ObservationOps are the distinct observation operators, sorted.
	ObservationOps []string
	// Comparisons lists, per object type, the comparisons in pattern order.
	Comparisons map[string][]ComparisonTuple
}

// ComparisonTuple is one comparison: the path after the type (keys as
// strings, list indexes as int64, "[*]" as "*"), the operator with any NOT
// ("NOT !=") and the literal as written ("(1,2,3)" for a set).
type ComparisonTuple struct {
	Path    []any
	Op      string
	Literal string
}

// Inspect lists the qualifiers, observation operators and comparisons.
func (p *Pattern) Inspect() Inspection {
	in := Inspection{Qualifiers: []string{}, ObservationOps: []string{}, Comparisons: map[string][]ComparisonTuple{}}
	quals, ops := map[string]bool{}, map[string]bool{}
	var walkCmp func(CmpExpr)
	walkCmp = func(e CmpExpr) {
		switch e := e.(type) {
		case *Comparison:
			in.Comparisons[e.Path.Type] = append(in.Comparisons[e.Path.Type], ComparisonTuple{
				Path: pathTuple(e.Path), Op: e.OpString(), Literal: e.LiteralString(),
			})
		case *CmpGroup:
			walkCmp(e.Expr)
		case *CmpBinary:
			walkCmp(e.Left)
			walkCmp(e.Right)
		}
	}
	var walk func(ObsExpr)
	walk = func(e ObsExpr) {
		switch e := e.(type) {
		case *Observation:
			walkCmp(e.Cmp)
		case *ObsGroup:
			walk(e.Expr)
		case *ObsBinary:
			ops[e.Op.String()] = true
			walk(e.Left)
			walk(e.Right)
		case *Qualified:
			quals[e.Q.String()] = true
			walk(e.Expr)
		}
	}
	walk(p.Root)
	for q := range quals {
		in.Qualifiers = append(in.Qualifiers, q)
	}
	for o := range ops {
		in.ObservationOps = append(in.ObservationOps, o)
	}
	sort.Strings(in.Qualifiers)
	sort.Strings(in.ObservationOps)
	return in
}

func pathTuple(p Path) []any {
	out := make([]any, len(p.Steps))
	for i, s := range p.Steps {
		switch s.Kind {
		case StepKey:
			out[i] = s.Key
		case StepIndex:
			out[i] = s.Index
		default:
			out[i] = "*"
		}
	}
	return out
}

// Equality is one indexable test: an object of type Path.Type whose value
// at Path equals one of Values.
type Equality struct {
	Path   Path
	Values []Literal
}

// Equalities returns the tests of a pattern that is only a disjunction of
// "=" and "IN" comparisons: observation expressions joined by OR, without
// qualifiers, each holding comparisons joined by OR, none negated. Such a
// pattern matches an observation exactly when one of the tests holds, so
// callers may index the values. ok is false for any other pattern; then
// use [Pattern.Match].
//
// Example: [ipv4-addr:value = '1.2.3.4'] OR [domain-name:value IN
// ('a.com','b.com')] gives two equalities.
func (p *Pattern) Equalities() (eqs []Equality, ok bool) {
	var cmp func(CmpExpr) bool
	cmp = func(e CmpExpr) bool {
		switch e := e.(type) {
		case *Comparison:
			if e.Not {
				return false
			}
			switch e.Op {
			case OpEQ:
				eqs = append(eqs, Equality{Path: e.Path, Values: []Literal{e.Value}})
				return true
			case OpIn:
				if len(e.Set) == 0 || !homogeneous(e.Set) {
					return false
				}
				eqs = append(eqs, Equality{Path: e.Path, Values: e.Set})
				return true
			}
			return false
		case *CmpGroup:
			return cmp(e.Expr)
		case *CmpBinary:
			return !e.And && cmp(e.Left) && cmp(e.Right)
		}
		return false
	}
	var obs func(ObsExpr) bool
	obs = func(e ObsExpr) bool {
		switch e := e.(type) {
		case *Observation:
			return cmp(e.Cmp)
		case *ObsGroup:
			return obs(e.Expr)
		case *ObsBinary:
			return e.Op == ObsOr && obs(e.Left) && obs(e.Right)
		}
		return false
	}
	if !obs(p.Root) {
		return nil, false
	}
	return eqs, true
}
