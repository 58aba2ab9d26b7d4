package detect

import (
	"bytes"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tarian-soc/tarian/internal/sigma"
)

// node is a compiled condition.
type node interface {
	eval(st *evState) bool
}

type andNode []node
type orNode []node
type notNode struct{ x node }

func (n andNode) eval(st *evState) bool {
	for _, x := range n {
		if !x.eval(st) {
			return false
		}
	}
	return true
}

func (n orNode) eval(st *evState) bool {
	for _, x := range n {
		if x.eval(st) {
			return true
		}
	}
	return false
}

func (n notNode) eval(st *evState) bool { return !n.x.eval(st) }

// ofNode is "N of ..." (need = number required, len(xs) for all).
type ofNode struct {
	need int
	xs   []node
}

func (n ofNode) eval(st *evState) bool {
	got := 0
	for i, x := range n.xs {
		if x.eval(st) {
			got++
			if got >= n.need {
				return true
			}
		}
		if got+len(n.xs)-i-1 < n.need {
			return false
		}
	}
	return false
}

// valueMatcher tests one event value.
type valueMatcher interface {
	match(st *evState, i int32) bool
}

// fieldNode is one compiled sigma.Match.
type fieldNode struct {
	field     int32 // -1: keyword search over every value
	name      string
	matchers  []valueMatcher
	groups    []int // group of each matcher
	nGroups   int
	all       bool
	negate    bool
	onMissing bool // result when the field is absent
	matchNull bool // a null value in the rule matches a JSON null
	exists    int  // 0: not an exists test; 1: exists true; 2: exists false
}

func (n *fieldNode) eval(st *evState) bool {
	if n.field < 0 {
		return n.evalKeyword(st)
	}
	h := st.head[n.field]
	if h < 0 {
		return n.onMissing
	}
	switch n.exists {
	case 1:
		return !st.vals[h].null || st.vals[h].next >= 0
	case 2:
		return st.vals[h].null && st.vals[h].next < 0
	}
	if n.all && n.nGroups > 1 {
		var seen uint64
		var seenBig []bool
		if n.nGroups > 64 {
			seenBig = make([]bool, n.nGroups)
		}
		count := 0
		for i := h; i >= 0; i = st.vals[i].next {
			for k, m := range n.matchers {
				g := n.groups[k]
				if g < 64 && seen&(1<<g) != 0 || g >= 64 && seenBig != nil && seenBig[g] {
					continue
				}
				if n.matchOne(st, m, i) {
					if g < 64 {
						seen |= 1 << g
					} else {
						seenBig[g] = true
					}
					count++
				}
			}
		}
		return count == n.nGroups
	}
	any := false
	for i := h; i >= 0 && !any; i = st.vals[i].next {
		for _, m := range n.matchers {
			if n.matchOne(st, m, i) {
				any = true
				break
			}
		}
	}
	if n.negate {
		return !any
	}
	return any
}

func (n *fieldNode) matchOne(st *evState, m valueMatcher, i int32) bool {
	if st.vals[i].null {
		_, isNull := m.(nullMatcher)
		return isNull
	}
	return m.match(st, i)
}

// evalKeyword matches any value of the event (keyword searches).
func (n *fieldNode) evalKeyword(st *evState) bool {
	if n.all && n.nGroups > 1 {
		seen := make([]bool, n.nGroups)
		count := 0
		for _, i := range st.all {
			for k, m := range n.matchers {
				if !seen[n.groups[k]] && m.match(st, i) {
					seen[n.groups[k]] = true
					count++
				}
			}
		}
		return count == n.nGroups
	}
	for _, i := range st.all {
		for _, m := range n.matchers {
			if m.match(st, i) {
				return true
			}
		}
	}
	return false
}

type nullMatcher struct{}

func (nullMatcher) match(st *evState, i int32) bool { return st.vals[i].null }

// globKind is the shape of a wildcard pattern.
type globKind uint8

const (
	globExact globKind = iota
	globPrefix
	globSuffix
	globContains
	globAny
	globGeneral
)

// globMatcher matches a Sigma wildcard pattern.
type globMatcher struct {
	kind  globKind
	lit   []byte
	segs  [][]sigma.Token // globGeneral: segments between stars
	start bool            // globGeneral: anchored at start
	end   bool            // globGeneral: anchored at end
	cased bool
}

func newGlob(p sigma.Pattern, cased bool) *globMatcher {
	if !cased {
		p = lowerPattern(p)
	}
	g := &globMatcher{cased: cased}
	isLit := func(i int) bool { return i < len(p) && p[i].Kind == sigma.TokLit }
	isStar := func(i int) bool { return i < len(p) && p[i].Kind == sigma.TokStar }
	switch {
	case len(p) == 0:
		g.kind = globExact
	case len(p) == 1 && isLit(0):
		g.kind, g.lit = globExact, []byte(p[0].Text)
	case len(p) == 1 && isStar(0):
		g.kind = globAny
	case len(p) == 2 && isLit(0) && isStar(1):
		g.kind, g.lit = globPrefix, []byte(p[0].Text)
	case len(p) == 2 && isStar(0) && isLit(1):
		g.kind, g.lit = globSuffix, []byte(p[1].Text)
	case len(p) == 3 && isStar(0) && isLit(1) && isStar(2):
		g.kind, g.lit = globContains, []byte(p[1].Text)
	default:
		g.kind = globGeneral
		g.start = !isStar(0)
		g.end = !isStar(len(p) - 1)
		var seg []sigma.Token
		for _, t := range p {
			if t.Kind == sigma.TokStar {
				g.segs = append(g.segs, seg)
				seg = nil
				continue
			}
			seg = append(seg, t)
		}
		g.segs = append(g.segs, seg)
	}
	return g
}

func lowerPattern(p sigma.Pattern) sigma.Pattern {
	out := make(sigma.Pattern, len(p))
	for i, t := range p {
		if t.Kind == sigma.TokLit {
			t.Text = strings.ToLower(t.Text)
		}
		out[i] = t
	}
	return out
}

func (g *globMatcher) match(st *evState, i int32) bool {
	var s []byte
	if g.cased {
		s = st.vals[i].raw
	} else {
		s = st.lowerOf(i)
	}
	return g.matchBytes(s)
}

func (g *globMatcher) matchBytes(s []byte) bool {
	switch g.kind {
	case globExact:
		return bytes.Equal(s, g.lit)
	case globPrefix:
		return bytes.HasPrefix(s, g.lit)
	case globSuffix:
		return bytes.HasSuffix(s, g.lit)
	case globContains:
		return bytes.Contains(s, g.lit)
	case globAny:
		return true
	}
	return globGeneralMatch(g.segs, g.start, g.end, s)
}

// segAt matches seg at s[pos:], returning the end offset.
func segAt(seg []sigma.Token, s []byte, pos int) (int, bool) {
	for _, t := range seg {
		switch t.Kind {
		case sigma.TokLit:
			if !bytes.HasPrefix(s[pos:], []byte(t.Text)) {
				return 0, false
			}
			pos += len(t.Text)
		case sigma.TokOne:
			if pos >= len(s) {
				return 0, false
			}
			_, w := utf8.DecodeRune(s[pos:])
			pos += w
		}
	}
	return pos, true
}

func globGeneralMatch(segs [][]sigma.Token, anchorStart, anchorEnd bool, s []byte) bool {
	pos := 0
	last := len(segs) - 1
	for k, seg := range segs {
		if k == 0 && anchorStart {
			end, ok := segAt(seg, s, 0)
			if !ok {
				return false
			}
			if last == 0 {
				return !anchorEnd || end == len(s)
			}
			pos = end
			continue
		}
		if k == last && anchorEnd {
			// The last segment must end exactly at the end of s.
			for p := len(s); p >= pos; p-- {
				if end, ok := segAt(seg, s, p); ok && end == len(s) {
					return true
				}
			}
			return false
		}
		// A floating segment: its leftmost occurrence is always best.
		found := false
		for p := pos; p <= len(s); p++ {
			if len(seg) > 0 && seg[0].Kind == sigma.TokLit {
				j := bytes.Index(s[p:], []byte(seg[0].Text))
				if j < 0 {
					return false
				}
				p += j
			}
			if end, ok := segAt(seg, s, p); ok {
				pos = end
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// numberMatcher matches a numeric rule value against a numeric or string
// field: equal text, or equal numbers.
type numberMatcher struct {
	text []byte
	num  float64
}

func (m numberMatcher) match(st *evState, i int32) bool {
	raw := st.vals[i].raw
	if bytes.Equal(raw, m.text) {
		return true
	}
	if !isDecimal(raw) {
		return false
	}
	f, ok := parseNumber(raw)
	return ok && f == m.num
}

// isDecimal reports whether b is a plain decimal number ("42", " -4.50"),
// the only text a numeric rule value is compared with numerically. (So the
// digits of the rule value always occur in a matching text, which the
// literal prefilter relies on.)
func isDecimal(b []byte) bool {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	dot := false
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return true
}

// digits returns the text every decimal rendering of the integer rule value
// contains (its absolute value), or "" for other numbers.
func (m numberMatcher) digits() string {
	if m.num != math.Trunc(m.num) || m.num > 1e15 || m.num < -1e15 {
		return ""
	}
	return strconv.FormatFloat(math.Abs(m.num), 'f', -1, 64)
}

// parseNumber reads a decimal number, as JSON writes numbers: an optional
// sign, digits with an optional fraction and an optional exponent ("42",
// "-4.5", "1e3"), surrounding spaces allowed. Hexadecimal, octal and
// binary text ("0x20"), digit separators ("1_000"), "Inf" and "NaN" are not
// numbers, as they are not for equality (isDecimal).
func parseNumber(b []byte) (float64, bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || len(b) > 64 || !decimalSyntax(b) {
		return 0, false
	}
	var buf [64]byte
	f, err := strconv.ParseFloat(string(append(buf[:0], b...)), 64)
	return f, err == nil
}

// decimalSyntax reports whether b is [+-]digits[.digits][(e|E)[+-]digits],
// where either the integer or the fraction digits may be empty but not
// both.
func decimalSyntax(b []byte) bool {
	i := 0
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	n := digits()
	if i < len(b) && b[i] == '.' {
		i++
		n += digits()
	}
	if n == 0 {
		return false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

type regexMatcher struct {
	re   *regexp.Regexp
	lits []string // every match contains one of these (lower-cased), for the prefilter
	// need lists sets of literals, down to single characters, such that a
	// match holds one literal of every set: a value (lower-cased) that does
	// not cannot match, which is cheaper to check than the regexp.
	need [][]string
}

func (m regexMatcher) match(st *evState, i int32) bool {
	if m.need != nil {
		low := st.lowerOf(i)
		for _, set := range m.need {
			found := false
			for _, n := range set {
				if bytes.Contains(low, []byte(n)) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
	}
	return m.re.Match(st.vals[i].raw)
}

type cidrMatcher struct{ prefix netip.Prefix }

func (m cidrMatcher) match(st *evState, i int32) bool {
	raw := bytes.TrimSpace(st.vals[i].raw)
	addr, err := netip.ParseAddr(string(raw))
	if err != nil {
		return false
	}
	return m.prefix.Contains(addr.Unmap())
}

type compareMatcher struct {
	op  sigma.Op
	num float64
}

func (m compareMatcher) match(st *evState, i int32) bool {
	f, ok := parseNumber(st.vals[i].raw)
	return ok && compare(m.op, f, m.num)
}

func compare(op sigma.Op, a, b float64) bool {
	switch op {
	case sigma.OpGT:
		return a > b
	case sigma.OpGTE:
		return a >= b
	case sigma.OpLT:
		return a < b
	case sigma.OpLTE:
		return a <= b
	}
	return a == b
}

// timeMatcher extracts a part of a timestamp field and compares it.
type timeMatcher struct {
	part string
	op   sigma.Op // OpPattern: equality
	num  float64
}

func (m timeMatcher) match(st *evState, i int32) bool {
	t, ok := parseTime(st.vals[i].raw)
	if !ok {
		return false
	}
	var v int
	switch m.part {
	case "minute":
		v = t.Minute()
	case "hour":
		v = t.Hour()
	case "day":
		v = t.Day()
	case "week":
		_, v = t.ISOWeek()
	case "month":
		v = int(t.Month())
	case "year":
		v = t.Year()
	}
	return compare(m.op, float64(v), m.num)
}

// fieldRefMatcher compares with the value of another field of the event.
type fieldRefMatcher struct {
	other int32
	kind  string
	cased bool
}

func (m fieldRefMatcher) match(st *evState, i int32) bool {
	for j := st.first(m.other); j >= 0; j = st.vals[j].next {
		if st.vals[j].null {
			continue
		}
		var a, b []byte
		if m.cased {
			a, b = st.vals[i].raw, st.vals[j].raw
		} else {
			a, b = st.lowerOf(i), st.lowerOf(j)
		}
		var ok bool
		switch m.kind {
		case "contains":
			ok = bytes.Contains(a, b)
		case "startswith":
			ok = bytes.HasPrefix(a, b)
		case "endswith":
			ok = bytes.HasSuffix(a, b)
		default:
			ok = bytes.Equal(a, b)
		}
		if ok {
			return true
		}
	}
	return false
}

// newGlobFromString compiles a pattern written in Sigma syntax (tests).
func newGlobFromString(s string, cased bool) *globMatcher {
	return newGlob(sigma.ParsePattern(s), cased)
}
