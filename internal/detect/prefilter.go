package detect

import (
	"fmt"
	"regexp/syntax"
	"slices"
	"strings"

	ac "github.com/coregx/ahocorasick"
)

// reqLit is a literal that must occur (lower-cased) in a field for a rule to
// possibly match.
type reqLit struct {
	field int32
	text  string
}

// minLiteral is the shortest literal worth indexing; single characters
// occur in too many values to filter anything.
const minLiteral = 2

// required returns a set of literals of which at least one must occur in
// the event if n is true, or ok=false when no such set is known.
func (e *Engine) required(n node) (lits []reqLit, ok bool) {
	switch n := n.(type) {
	case andNode:
		// Any one operand's set will do: pick the most selective.
		var best []reqLit
		found := false
		for _, x := range n {
			l, ok := e.required(x)
			if ok && (!found || e.cost(l) < e.cost(best)) {
				best, found = l, true
			}
		}
		return best, found
	case orNode:
		return e.requiredAll(n)
	case ofNode:
		if n.need == len(n.xs) {
			return e.required(andNode(n.xs))
		}
		return e.requiredAll(n.xs)
	case *fieldNode:
		return e.requiredField(n)
	}
	return nil, false
}

func (e *Engine) requiredAll(xs []node) ([]reqLit, bool) {
	var out []reqLit
	for _, x := range xs {
		l, ok := e.required(x)
		if !ok {
			return nil, false
		}
		out = append(out, l...)
	}
	return out, true
}

// cost estimates how often a set of literals lets a rule through: the
// sum over its literals, shorter ones costing more, and literals that are
// part of text found in most Windows events (or on fields whose value is
// shared by whole log sources) costing much more.
func (e *Engine) cost(l []reqLit) float64 {
	c := 0.0
	for _, x := range l {
		n := len(x.text) - commonOverlap(x.text)
		k := 1 / float64(max(n, 1))
		if e.commonField[x.field] || n < minLiteral {
			k *= 20
		}
		c += k
	}
	return c
}

// commonOverlap returns how much of s is common text: all of it when s is
// part of a common text, else the longest common text s contains.
func commonOverlap(s string) int {
	best := 0
	for _, c := range commonTexts {
		switch {
		case strings.Contains(c, s):
			return len(s)
		case strings.Contains(s, c):
			best = max(best, len(c))
		}
	}
	return best
}

// commonTexts are values and paths seen in most Windows events.
var commonTexts = []string{
	`c:\windows\system32\`, `c:\windows\syswow64\`, `c:\program files (x86)\`, `c:\program files\`,
	"microsoft corporation", "microsoft-windows-", "nt authority\\system", ".exe", ".dll",
	`c:\windows\system32\ntdll.dll+`, `c:\windows\system32\kernelbase.dll+`, `c:\windows\system32\kernel32.dll+`,
}

func (e *Engine) requiredField(n *fieldNode) ([]reqLit, bool) {
	if n.negate || n.onMissing || n.exists != 0 {
		return nil, false
	}
	// With |all every group must match, so one group's literals suffice;
	// otherwise any value may match, so all of them are needed.
	byGroup := make(map[int][]reqLit)
	bad := make(map[int]bool) // groups with an alternative lacking a literal
	for k, m := range n.matchers {
		var lits []string
		switch g := m.(type) {
		case *globMatcher:
			lits = []string{g.longestLiteral()}
		case regexMatcher:
			lits = g.lits
		case numberMatcher:
			lits = []string{g.digits()}
		}
		ok := len(lits) > 0
		for _, l := range lits {
			ok = ok && len(l) >= minLiteral
		}
		if !ok {
			if !n.all {
				return nil, false
			}
			bad[n.groups[k]] = true
			continue
		}
		for _, l := range lits {
			byGroup[n.groups[k]] = append(byGroup[n.groups[k]], reqLit{n.field, l})
		}
	}
	if n.all {
		var best []reqLit
		found := false
		for g, l := range byGroup {
			if !bad[g] && (!found || e.cost(l) < e.cost(best)) {
				best, found = l, true
			}
		}
		return best, found
	}
	var out []reqLit
	for _, l := range byGroup {
		out = append(out, l...)
	}
	return out, len(out) > 0
}

// longestLiteral returns the longest literal (lower-cased) any match of g
// must contain.
func (g *globMatcher) longestLiteral() string {
	if g.kind != globGeneral {
		return strings.ToLower(string(g.lit))
	}
	best := ""
	for _, seg := range g.segs {
		for _, t := range seg {
			if len(t.Text) > len(best) {
				best = t.Text
			}
		}
	}
	return strings.ToLower(best)
}

func (e *Engine) buildPrefilter(v *ruleSet) error {
	type key struct {
		field int32
		text  string
	}
	perField := map[int32][]string{}
	patIndex := map[key]int{}
	patRules := map[int32][][]int32{}
	for ri, r := range v.rules {
		var lits []reqLit
		ok := false
		if !e.opts.Naive {
			lits, ok = e.required(r.cond)
		}
		if !ok {
			v.always = append(v.always, int32(ri))
			continue
		}
		for _, l := range lits {
			k := key(l)
			pi, seen := patIndex[k]
			if !seen {
				pi = len(perField[l.field])
				patIndex[k] = pi
				perField[l.field] = append(perField[l.field], l.text)
				patRules[l.field] = append(patRules[l.field], nil)
			}
			if rs := patRules[l.field][pi]; len(rs) == 0 || rs[len(rs)-1] != int32(ri) {
				patRules[l.field][pi] = append(rs, int32(ri))
			}
		}
	}
	fields := make([]int32, 0, len(perField))
	for f := range perField {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	for _, f := range fields {
		a, err := ac.NewBuilder().AddStrings(perField[f]).Build()
		if err != nil {
			return fmt.Errorf("build literal automaton for %s: %w", e.fieldNames[f], err)
		}
		lf := litFilter{field: f, auto: a, rules: patRules[f], first: newGramSet(perField[f])}
		v.filters = append(v.filters, lf)
	}
	return nil
}

// regexLiterals returns literals (lower-cased) one of which every match of
// the regular expression contains, or nil.
func regexLiterals(expr string, minLen int) []string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	lits := requiredLits(re.Simplify())
	for i, l := range lits {
		if len(l) < minLen {
			return nil
		}
		lits[i] = strings.ToLower(l)
	}
	return lits
}

// regexNeeds returns sets of literals (lower-cased) such that every match
// of the regular expression contains one literal of each set.
func regexNeeds(expr string) [][]string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	sets := requiredSets(re.Simplify())
	for _, set := range sets {
		for i, l := range set {
			set[i] = strings.ToLower(l)
		}
	}
	return sets
}

func requiredSets(re *syntax.Regexp) [][]string {
	switch re.Op {
	case syntax.OpLiteral:
		return [][]string{{string(re.Rune)}}
	case syntax.OpCapture, syntax.OpPlus:
		return requiredSets(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredSets(re.Sub[0])
		}
	case syntax.OpConcat:
		var out [][]string
		for _, sub := range re.Sub {
			out = append(out, requiredSets(sub)...)
		}
		return out
	case syntax.OpAlternate:
		if l := requiredLits(re); l != nil {
			return [][]string{l}
		}
	}
	return nil
}

// maxRegexLiterals bounds the alternatives one regular expression adds.
const maxRegexLiterals = 16

func requiredLits(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		return []string{string(re.Rune)}
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLits(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLits(re.Sub[0])
		}
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			l := requiredLits(sub)
			if l == nil || len(out)+len(l) > maxRegexLiterals {
				return nil
			}
			out = append(out, l...)
		}
		return out
	case syntax.OpConcat:
		var best []string
		score := func(ls []string) int { // the shortest alternative decides
			m := 1 << 30
			for _, l := range ls {
				m = min(m, len(l))
			}
			return m
		}
		run := ""
		consider := func(ls []string) {
			if ls != nil && (best == nil || score(ls) > score(best)) {
				best = ls
			}
		}
		for _, sub := range re.Sub {
			if sub.Op == syntax.OpLiteral {
				run += string(sub.Rune)
				consider([]string{run})
				continue
			}
			run = ""
			consider(requiredLits(sub))
		}
		return best
	}
	return nil
}

// gramSet holds, for each literal, one run of adjacent lower-cased bytes
// (three, or two for two-byte literals), the least common-looking one. A
// value in which none of them occurs, compared case-insensitively, cannot
// hold any of the literals, so it needs neither lower-casing nor an
// automaton scan. The runs are hashed into a bit table; checking a value
// costs a few table loads per byte.
type gramSet struct {
	n    int // 2 or 3
	bits [1 << 16 / 64]uint64
}

func newGramSet(lits []string) *gramSet {
	g := &gramSet{n: 3}
	for _, l := range lits {
		if len(l) < 3 {
			g.n = 2
		}
	}
	for _, l := range lits {
		g.add(l)
	}
	return g
}

func (g *gramSet) add(lit string) {
	best, bestScore := 0, 1<<30
	for i := 0; i+g.n <= len(lit); i++ {
		sc := 0
		for j := 0; j < g.n; j++ {
			sc += byteCommonness(lit[i+j])
		}
		if sc < bestScore {
			best, bestScore = i, sc
		}
	}
	k := g.hash(lit[best], lit[best+1], lit[min(best+2, len(lit)-1)])
	g.bits[k>>6] |= 1 << (k & 63)
}

func (g *gramSet) hash(a, b, c byte) uint16 {
	if g.n == 2 {
		return uint16(a)<<8 | uint16(b)
	}
	return uint16(a)<<8 ^ uint16(b)<<4 ^ uint16(c) ^ uint16(c)<<12
}

// byteCommonness is a rough rank of how often a byte occurs in log values.
func byteCommonness(c byte) int {
	switch {
	case c == 'e' || c == 't' || c == 'a' || c == 'o' || c == 'i' || c == 'n' || c == 's' || c == 'r':
		return 4
	case c >= 'a' && c <= 'z', c == ' ', c == '\\', c == '.', c == ':':
		return 3
	case c >= '0' && c <= '9', c == '-', c == '_', c == '/':
		return 2
	}
	return 1
}

// mayHold reports whether s (raw, any case) may contain a literal. A value
// with non-ASCII bytes always may, since Unicode lower-casing can produce
// ASCII letters.
func (g *gramSet) mayHold(s []byte) bool {
	if g.n == 2 {
		for i := 0; i+1 < len(s); i++ {
			c := s[i]
			if c >= 0x80 {
				return true
			}
			k := uint16(lowerTable[c])<<8 | uint16(lowerTable[s[i+1]])
			if g.bits[k>>6]&(1<<(k&63)) != 0 {
				return true
			}
		}
		return len(s) > 0 && s[len(s)-1] >= 0x80
	}
	if len(s) < 3 {
		return s2HasHigh(s)
	}
	a, b := lowerTable[s[0]], lowerTable[s[1]]
	if s[0] >= 0x80 || s[1] >= 0x80 {
		return true
	}
	for _, c := range s[2:] {
		if c >= 0x80 {
			return true
		}
		l := lowerTable[c]
		k := uint16(a)<<8 ^ uint16(b)<<4 ^ uint16(l) ^ uint16(l)<<12
		if g.bits[k>>6]&(1<<(k&63)) != 0 {
			return true
		}
		a, b = b, l
	}
	return false
}

func s2HasHigh(s []byte) bool {
	for _, c := range s {
		if c >= 0x80 {
			return true
		}
	}
	return false
}
