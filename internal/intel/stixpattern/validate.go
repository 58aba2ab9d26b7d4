package stixpattern

import (
	"fmt"
	"strings"
)

// Validate parses src and applies the semantic rules (see the package
// documentation). The error is a *SyntaxError.
func Validate(src string, opts Options) (*Pattern, error) {
	p, err := ParseOptions(src, opts)
	if err != nil {
		return nil, err
	}
	if err := p.Check(opts); err != nil {
		return nil, err
	}
	return p, nil
}

// Check applies the semantic rules to a parsed pattern.
func (p *Pattern) Check(opts Options) error {
	v := &checker{src: p.src, opts: opts}
	v.obs(p.Root)
	if v.err != nil {
		return v.err
	}
	return nil
}

type checker struct {
	src  string
	opts Options
	err  error
}

func (v *checker) fail(pos int, format string, args ...any) {
	if v.err != nil {
		return
	}
	if pos < 0 {
		v.err = &SyntaxError{Msg: fmt.Sprintf(format, args...)}
		return
	}
	v.err = errAt(v.src, pos, format, args...)
}

func (v *checker) obs(e ObsExpr) {
	switch e := e.(type) {
	case *Observation:
		v.cmp(e.Cmp)
		if v.opts.Strict {
			v.sameTypeAND(e.Cmp)
		}
	case *ObsGroup:
		v.obs(e.Expr)
	case *ObsBinary:
		v.obs(e.Left)
		v.obs(e.Right)
	case *Qualified:
		// A qualifier type may be applied once to a bracketed observation
		// expression; a parenthesized group may carry several (as the
		// reference validator has it).
		seen := map[QualKind]int{} // kind -> position of the later one
		base := ObsExpr(e)
		for {
			q, ok := base.(*Qualified)
			if !ok {
				break
			}
			v.qualifier(q.Q)
			if later, dup := seen[q.Q.Kind]; dup {
				if _, simple := innermost(q).(*Observation); simple {
					v.fail(later, "Duplicate qualifier type encountered: %s", q.Q.Kind)
				}
			}
			seen[q.Q.Kind] = q.Q.Pos
			base = q.Expr
		}
		v.obs(base)
	}
}

func innermost(e ObsExpr) ObsExpr {
	for {
		q, ok := e.(*Qualified)
		if !ok {
			return e
		}
		e = q.Expr
	}
}

func (v *checker) qualifier(q Qualifier) {
	switch q.Kind {
	case QualWithin:
		if q.Within <= 0 {
			v.fail(q.Pos, "WITHIN needs a positive number of seconds, got %s", q.Seconds.Raw)
		}
	case QualRepeats:
		if q.Repeats <= 0 {
			v.fail(q.Pos, "REPEATS needs a positive count, got %s", q.Times.Raw)
		}
	case QualStartStop:
		if !q.Start.Time.Before(q.Stop.Time) {
			v.fail(q.Pos, "START %s is not before STOP %s", q.Start.Raw, q.Stop.Raw)
		}
	}
}

func (v *checker) cmp(e CmpExpr) {
	switch e := e.(type) {
	case *CmpGroup:
		v.cmp(e.Expr)
	case *CmpBinary:
		v.cmp(e.Left)
		v.cmp(e.Right)
	case *Comparison:
		v.hashes(e)
		if v.opts.Strict {
			v.names(e)
		}
	}
}

// hashAlgs gives, per normalized algorithm name (upper case, without '-'),
// the accepted value check and the name used in messages.
var hashAlgs = map[string]func(string) bool{
	"MD5":       hexLen(32),
	"MD6":       hexLen(32, 40, 56, 64, 96, 128),
	"RIPEMD160": hexLen(40),
	"SHA1":      hexLen(40),
	"SHA224":    hexLen(56),
	"SHA256":    hexLen(64),
	"SHA384":    hexLen(96),
	"SHA512":    hexLen(128),
	"SHA3224":   hexLen(56),
	"SHA3256":   hexLen(64),
	"SHA3384":   hexLen(96),
	"SHA3512":   hexLen(128),
	"WHIRLPOOL": hexLen(128),
	"SSDEEP":    validSSDEEP,
	"TLSH":      validTLSH,
}

func hexLen(ns ...int) func(string) bool {
	return func(s string) bool {
		for i := 0; i < len(s); i++ {
			if !isHex(s[i]) {
				return false
			}
		}
		for _, n := range ns {
			if len(s) == n {
				return true
			}
		}
		return false
	}
}

// validSSDEEP accepts blocksize:hash:hash with base64 characters.
func validSSDEEP(s string) bool {
	parts := strings.Split(s, ":")
	if len(parts) != 3 || len(s) > 148 || parts[0] == "" || parts[1] == "" {
		return false
	}
	for i := 0; i < len(parts[0]); i++ {
		if !isDigit(parts[0][i]) {
			return false
		}
	}
	for _, p := range parts[1:] {
		for i := 0; i < len(p); i++ {
			if !isB64(p[i]) {
				return false
			}
		}
	}
	return true
}

// validTLSH accepts 70 hex digits, optionally after the version "T1".
func validTLSH(s string) bool {
	if len(s) == 72 && (s[:2] == "T1" || s[:2] == "t1") {
		s = s[2:]
	}
	return hexLen(70)(s)
}

// hashes checks the value compared with hashes.<ALGORITHM> by = != and IN.
func (v *checker) hashes(c *Comparison) {
	n := len(c.Path.Steps)
	if n < 2 || c.Path.Steps[n-1].Kind != StepKey || c.Path.Steps[n-2].Kind != StepKey || c.Path.Steps[n-2].Key != "hashes" {
		return
	}
	alg := c.Path.Steps[n-1].Key
	ok := hashAlgs[strings.ReplaceAll(strings.ToUpper(alg), "-", "")]
	if ok == nil {
		return
	}
	var vals []Literal
	switch c.Op {
	case OpEQ, OpNE:
		vals = []Literal{c.Value}
	case OpIn:
		vals = c.Set
	default:
		return
	}
	for _, l := range vals {
		if l.Kind != LitString || !ok(l.Str) {
			s := l.Raw
			if l.Kind == LitString {
				s = l.Str
			}
			v.fail(c.Pos, "'%s' is not a valid %s hash", s, alg)
			return
		}
	}
}

// names applies the specification's naming rules (strict mode).
func (v *checker) names(c *Comparison) {
	t := c.Path.Type
	if len(t) < 3 || len(t) > 250 {
		v.fail(c.Pos, "object type %q must be 3 to 250 characters long", t)
		return
	}
	for i := 0; i < len(t); i++ {
		ch := t[i]
		if !(ch >= 'a' && ch <= 'z' || isDigit(ch) || ch == '-') {
			v.fail(c.Pos, "object type %q may only contain a-z, 0-9 and '-'", t)
			return
		}
	}
	first := c.Path.Steps[0]
	for i := 0; i < len(first.Key); i++ {
		ch := first.Key[i]
		if !(ch >= 'a' && ch <= 'z' || isDigit(ch) || ch == '_') {
			v.fail(c.Pos, "property name %q may only contain a-z, 0-9 and '_'", first.Key)
			return
		}
	}
}

// sameTypeAND requires the comparisons joined by AND to name one object
// type (strict mode). Each OR branch is checked on its own.
func (v *checker) sameTypeAND(e CmpExpr) {
	var types func(e CmpExpr) []string // the types an AND-chain needs
	pos := -1
	types = func(e CmpExpr) []string {
		switch e := e.(type) {
		case *Comparison:
			if pos < 0 {
				pos = e.Pos
			}
			return []string{e.Path.Type}
		case *CmpGroup:
			return types(e.Expr)
		case *CmpBinary:
			l, r := types(e.Left), types(e.Right)
			if !e.And {
				return append(l, r...)
			}
			for _, a := range l {
				for _, b := range r {
					if a != b {
						v.fail(pos, "comparisons joined by AND in one observation expression must use one object type, got %s and %s", a, b)
						return nil
					}
				}
			}
			return l
		}
		return nil
	}
	types(e)
}
