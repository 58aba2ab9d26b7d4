package stixpattern

import (
	"encoding/base64"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"time"
)

// Version is the STIX version whose grammar a pattern follows.
type Version int

// STIX versions. The zero value is STIX 2.1.
const (
	V21 Version = iota
	// V20 also accepts START/STOP with string literals ('2016-...Z'), as
	// STIX 2.0 wrote them.
	V20
)

// Options tune parsing and validation.
type Options struct {
	Version Version
	// Strict adds the naming rules of the specification (object type
	// names: lowercase ASCII letters, digits and hyphens, 3 to 250
	// characters; property names: lowercase ASCII letters, digits and
	// underscores) and requires comparisons joined by AND inside one
	// observation expression to name a single object type. The OASIS
	// reference validator checks neither, and published patterns break
	// them, so they are off by default.
	Strict bool
}

// Parse parses a STIX 2.1 pattern. It checks the grammar and the literals,
// not the semantic rules: use [Validate] for those.
func Parse(src string) (*Pattern, error) { return ParseOptions(src, Options{}) }

// ParseOptions is [Parse] with options.
func ParseOptions(src string, opts Options) (*Pattern, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks, opts: opts}
	if k := p.peek().kind; k != tLBrack && k != tLParen {
		if k == tEOF {
			return nil, p.errf("mismatched input '<EOF>' expecting '[' or '('")
		}
		return nil, errAt(src, 0, "input is missing square brackets")
	}
	root, err := p.obsExprs()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errf("mismatched input '%s' expecting <EOF>", t.text)
	}
	return &Pattern{Root: root, src: src}, nil
}

type parser struct {
	src  string
	toks []token
	i    int
	opts Options
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// errf reports an error at the current token.
func (p *parser) errf(format string, args ...any) error {
	return errAt(p.src, p.peek().pos, format, args...)
}

func (p *parser) mismatch(expecting string) error {
	return p.errf("mismatched input '%s' expecting %s", p.peek().text, expecting)
}

func (p *parser) obsExprs() (ObsExpr, error) {
	left, err := p.obsOr()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tFOLLOWEDBY {
		p.next()
		right, err := p.obsOr()
		if err != nil {
			return nil, err
		}
		left = &ObsBinary{Op: ObsFollowedBy, Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) obsOr() (ObsExpr, error) {
	left, err := p.obsAnd()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tOR {
		p.next()
		right, err := p.obsAnd()
		if err != nil {
			return nil, err
		}
		left = &ObsBinary{Op: ObsOr, Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) obsAnd() (ObsExpr, error) {
	left, err := p.obsExpr()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tAND {
		p.next()
		right, err := p.obsExpr()
		if err != nil {
			return nil, err
		}
		left = &ObsBinary{Op: ObsAnd, Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) obsExpr() (ObsExpr, error) {
	var e ObsExpr
	switch t := p.peek(); t.kind {
	case tLBrack:
		p.next()
		c, err := p.cmpExpr()
		if err != nil {
			return nil, err
		}
		if p.peek().kind != tRBrack {
			return nil, p.mismatch("']'")
		}
		p.next()
		e = &Observation{Cmp: c, Pos: t.pos}
	case tLParen:
		p.next()
		inner, err := p.obsExprs()
		if err != nil {
			return nil, err
		}
		if p.peek().kind != tRParen {
			return nil, p.mismatch("')'")
		}
		p.next()
		e = &ObsGroup{Expr: inner}
	default:
		return nil, p.mismatch("'[' or '('")
	}
	for {
		q, ok, err := p.qualifier()
		if err != nil {
			return nil, err
		}
		if !ok {
			return e, nil
		}
		e = &Qualified{Expr: e, Q: q}
	}
}

func (p *parser) qualifier() (Qualifier, bool, error) {
	t := p.peek()
	q := Qualifier{Pos: t.pos}
	switch t.kind {
	case tWITHIN:
		p.next()
		n := p.peek()
		if (n.kind != tInt && n.kind != tFloat) || n.text[0] == '-' {
			return q, false, p.mismatch("{IntPosLiteral, FloatPosLiteral}")
		}
		p.next()
		lit, err := p.literal(n)
		if err != nil {
			return q, false, err
		}
		secs := lit.Float
		if lit.Kind == LitInt {
			secs = float64(lit.Int)
		}
		q.Kind, q.Seconds = QualWithin, lit
		if secs*1e9 > math.MaxInt64 {
			q.Within = time.Duration(math.MaxInt64)
		} else {
			q.Within = time.Duration(math.Round(secs * 1e9))
		}
		if p.peek().kind != tSECONDS {
			return q, false, p.mismatch("'SECONDS'")
		}
		p.next()
	case tREPEATS:
		p.next()
		n := p.peek()
		if n.kind != tInt || n.text[0] == '-' {
			return q, false, p.mismatch("IntPosLiteral")
		}
		p.next()
		lit, err := p.literal(n)
		if err != nil {
			return q, false, err
		}
		q.Kind, q.Times, q.Repeats = QualRepeats, lit, lit.Int
		if p.peek().kind != tTIMES {
			return q, false, p.mismatch("'TIMES'")
		}
		p.next()
	case tSTART:
		p.next()
		start, err := p.stamp()
		if err != nil {
			return q, false, err
		}
		if p.peek().kind != tSTOP {
			return q, false, p.mismatch("'STOP'")
		}
		p.next()
		stop, err := p.stamp()
		if err != nil {
			return q, false, err
		}
		q.Kind, q.Start, q.Stop = QualStartStop, start, stop
	default:
		return q, false, nil
	}
	return q, true, nil
}

// stamp reads the timestamp of START or STOP (STIX 2.0 also allowed a
// string holding a timestamp).
func (p *parser) stamp() (Literal, error) {
	t := p.peek()
	if t.kind == tTimestamp {
		p.next()
		return p.literal(t)
	}
	if t.kind == tString && p.opts.Version == V20 {
		lit, err := p.literal(t)
		if err != nil {
			return lit, err
		}
		if !validTimestamp(lit.Str) {
			return lit, p.errf("invalid timestamp %s", t.text)
		}
		p.next()
		lit.Kind, lit.Time = LitTimestamp, stampTime(lit.Str)
		return lit, nil
	}
	return Literal{}, p.mismatch("TimestampLiteral")
}

func (p *parser) cmpExpr() (CmpExpr, error) {
	left, err := p.cmpAnd()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tOR {
		p.next()
		right, err := p.cmpAnd()
		if err != nil {
			return nil, err
		}
		left = &CmpBinary{Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) cmpAnd() (CmpExpr, error) {
	left, err := p.propTest()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tAND {
		p.next()
		right, err := p.propTest()
		if err != nil {
			return nil, err
		}
		left = &CmpBinary{And: true, Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) propTest() (CmpExpr, error) {
	t := p.peek()
	switch t.kind {
	case tLParen:
		p.next()
		inner, err := p.cmpExpr()
		if err != nil {
			return nil, err
		}
		if p.peek().kind != tRParen {
			return nil, p.mismatch("')'")
		}
		p.next()
		return &CmpGroup{Expr: inner}, nil
	case tNOT, tEXISTS:
		not := false
		if t.kind == tNOT {
			p.next()
			not = true
			if p.peek().kind != tEXISTS {
				return nil, p.mismatch("'EXISTS'")
			}
		}
		p.next()
		path, err := p.objectPath()
		if err != nil {
			return nil, err
		}
		return &Comparison{Path: path, Not: not, Op: OpExists, Pos: t.pos}, nil
	}
	path, err := p.objectPath()
	if err != nil {
		return nil, err
	}
	c := &Comparison{Path: path, Pos: t.pos}
	if p.peek().kind == tNOT {
		p.next()
		c.Not = true
	}
	op := p.peek()
	if op.kind >= tEQ && op.kind <= tGE || op.kind == tIN || op.kind >= tLIKE && op.kind <= tISSUBSET {
		p.next()
	}
	switch op.kind {
	case tEQ, tNEQ:
		c.Op = tokOps[op.kind]
		c.Value, err = p.literalOf("a literal", tInt, tFloat, tString, tBool, tBinary, tHex, tTimestamp)
	case tLT, tLE, tGT, tGE:
		c.Op = tokOps[op.kind]
		c.Value, err = p.literalOf("an orderable literal", tInt, tFloat, tString, tBinary, tHex, tTimestamp)
	case tIN:
		c.Op = OpIn
		c.Set, err = p.setLiteral()
	case tLIKE, tMATCHES, tISSUBSET, tISSUPERSET:
		c.Op = tokOps[op.kind]
		if p.peek().kind != tString {
			return nil, p.errf("missing StringLiteral at '%s'", p.peek().text)
		}
		c.Value, err = p.literal(p.next())
	default:
		return nil, p.mismatch("a comparison operator")
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// tokOps maps operator tokens to comparison operators.
var tokOps = map[tokKind]CmpOp{
	tEQ: OpEQ, tNEQ: OpNE, tLT: OpLT, tLE: OpLE, tGT: OpGT, tGE: OpGE,
	tLIKE: OpLike, tMATCHES: OpMatches, tISSUBSET: OpIsSubset, tISSUPERSET: OpIsSuperset,
}

func (p *parser) literalOf(what string, kinds ...tokKind) (Literal, error) {
	t := p.peek()
	for _, k := range kinds {
		if t.kind == k {
			p.next()
			return p.literal(t)
		}
	}
	return Literal{}, p.mismatch(what)
}

func (p *parser) setLiteral() ([]Literal, error) {
	if p.peek().kind != tLParen {
		return nil, p.mismatch("'('")
	}
	p.next()
	set := []Literal{}
	if p.peek().kind == tRParen {
		p.next()
		return set, nil
	}
	for {
		l, err := p.literalOf("a literal", tInt, tFloat, tString, tBool, tBinary, tHex, tTimestamp)
		if err != nil {
			return nil, err
		}
		set = append(set, l)
		switch p.peek().kind {
		case tComma:
			p.next()
		case tRParen:
			p.next()
			return set, nil
		default:
			return nil, p.mismatch("',' or ')'")
		}
	}
}

func (p *parser) objectPath() (Path, error) {
	t := p.peek()
	if t.kind != tIdent {
		return Path{}, p.mismatch("an object type")
	}
	p.next()
	path := Path{Type: t.text}
	if p.peek().kind != tColon {
		return Path{}, p.errf("no viable alternative at input '%s%s'", t.text, p.peek().text)
	}
	p.next()
	first, err := p.keyStep()
	if err != nil {
		return Path{}, err
	}
	path.Steps = append(path.Steps, first)
	for {
		switch p.peek().kind {
		case tDot:
			p.next()
			s, err := p.keyStep()
			if err != nil {
				return Path{}, err
			}
			path.Steps = append(path.Steps, s)
		case tLBrack:
			p.next()
			n := p.peek()
			var s Step
			switch n.kind {
			case tAsterisk:
				p.next()
				s = Step{Kind: StepAny}
			case tInt:
				p.next()
				v, err := strconv.ParseInt(n.text, 10, 64)
				if err != nil {
					return Path{}, errAt(p.src, n.pos, "list index out of range: %s", n.text)
				}
				s = Step{Kind: StepIndex, Index: v}
			default:
				return Path{}, p.mismatch("an integer or '*'")
			}
			if p.peek().kind != tRBrack {
				return Path{}, p.mismatch("']'")
			}
			p.next()
			path.Steps = append(path.Steps, s)
		default:
			return path, nil
		}
	}
}

func (p *parser) keyStep() (Step, error) {
	t := p.peek()
	switch {
	case t.kind == tIdent && !t.hyphen:
		p.next()
		return Step{Kind: StepKey, Key: t.text}, nil
	case t.kind == tString:
		p.next()
		return Step{Kind: StepKey, Key: unquote(t.text), Quoted: true}, nil
	}
	return Step{}, p.mismatch("a property name (an identifier without '-', or a quoted string)")
}

// literal converts a literal token.
func (p *parser) literal(t token) (Literal, error) {
	l := Literal{Raw: t.text}
	var err error
	switch t.kind {
	case tInt:
		l.Kind = LitInt
		l.Int, err = strconv.ParseInt(strings.TrimPrefix(t.text, "+"), 10, 64)
		if err != nil {
			return l, errAt(p.src, t.pos, "integer literal out of range: %s", t.text)
		}
	case tFloat:
		l.Kind = LitFloat
		l.Float, err = strconv.ParseFloat(t.text, 64)
		if err != nil {
			return l, errAt(p.src, t.pos, "float literal out of range: %s", t.text)
		}
	case tString:
		l.Kind, l.Str = LitString, unquote(t.text)
	case tBool:
		l.Kind, l.Bool = LitBool, t.text == "true"
	case tHex:
		l.Kind = LitHex
		l.Bytes, err = hex.DecodeString(t.text[2 : len(t.text)-1])
	case tBinary:
		l.Kind = LitBinary
		l.Bytes, err = base64.StdEncoding.DecodeString(t.text[2 : len(t.text)-1])
	case tTimestamp:
		l.Kind, l.Time = LitTimestamp, stampTime(t.text[2:len(t.text)-1])
	default:
		return l, errAt(p.src, t.pos, "mismatched input '%s' expecting a literal", t.text)
	}
	if err != nil {
		return l, errAt(p.src, t.pos, "invalid %s literal %s", l.Kind, t.text)
	}
	return l, nil
}

// unquote removes the quotes of a string literal and its escapes.
func unquote(s string) string {
	s = s[1 : len(s)-1]
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// stampTime converts a timestamp already checked by validTimestamp. Out of
// calendar dates (February 30) and leap seconds roll over, as time.Date
// does.
func stampTime(s string) time.Time {
	atoi := func(a string) int { n, _ := strconv.Atoi(a); return n }
	nsec := 0
	if len(s) > 20 {
		frac := s[20 : len(s)-1]
		if len(frac) > 9 {
			frac = frac[:9]
		}
		nsec = atoi(frac + strings.Repeat("0", 9-len(frac)))
	}
	return time.Date(atoi(s[0:4]), time.Month(atoi(s[5:7])), atoi(s[8:10]),
		atoi(s[11:13]), atoi(s[14:16]), atoi(s[17:19]), nsec, time.UTC)
}
