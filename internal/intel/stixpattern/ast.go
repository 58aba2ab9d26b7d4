package stixpattern

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

// Pattern is a parsed STIX pattern. It is safe for concurrent use; do not
// modify Root after the first Match.
type Pattern struct {
	// Root is the top observation expression.
	Root ObsExpr
	src  string

	compileOnce sync.Once
	compiled    map[*Comparison]*compiled
	compileErr  error
}

// Source returns the text the pattern was parsed from.
func (p *Pattern) Source() string { return p.src }

// String renders the pattern in a canonical form; parsing the result gives
// an equal pattern.
func (p *Pattern) String() string {
	var b strings.Builder
	writeObs(&b, p.Root)
	return b.String()
}

// ObsExpr is an observation expression: *Observation, *ObsGroup,
// *ObsBinary or *Qualified.
type ObsExpr interface{ obsExpr() }

// ObsOp is an observation operator.
type ObsOp int

// Observation operators.
const (
	ObsAnd ObsOp = iota
	ObsOr
	ObsFollowedBy
)

func (o ObsOp) String() string {
	switch o {
	case ObsAnd:
		return "AND"
	case ObsOr:
		return "OR"
	default:
		return "FOLLOWEDBY"
	}
}

// Observation is a bracketed observation expression: [comparisons].
type Observation struct {
	Cmp CmpExpr
	Pos int // byte offset of '['
}

// ObsGroup is a parenthesized observation expression.
type ObsGroup struct{ Expr ObsExpr }

// ObsBinary joins two observation expressions with an observation operator.
type ObsBinary struct {
	Op          ObsOp
	Left, Right ObsExpr
}

// Qualified is an observation expression followed by a qualifier.
type Qualified struct {
	Expr ObsExpr
	Q    Qualifier
}

func (*Observation) obsExpr() {}
func (*ObsGroup) obsExpr()    {}
func (*ObsBinary) obsExpr()   {}
func (*Qualified) obsExpr()   {}

// QualKind is the type of a qualifier.
type QualKind int

// Qualifier types.
const (
	QualWithin QualKind = iota
	QualRepeats
	QualStartStop
)

func (k QualKind) String() string {
	switch k {
	case QualWithin:
		return "WITHIN"
	case QualRepeats:
		return "REPEATS"
	default:
		return "STARTSTOP"
	}
}

// Qualifier is WITHIN n SECONDS, REPEATS n TIMES or START t STOP t.
type Qualifier struct {
	Kind QualKind
	// Within is the WITHIN duration; Seconds keeps the literal.
	Within  time.Duration
	Seconds Literal
	// Repeats is the REPEATS count; Times keeps the literal.
	Repeats int64
	Times   Literal
	// Start and Stop are the START/STOP timestamps.
	Start, Stop Literal
	Pos         int
}

func (q Qualifier) String() string {
	switch q.Kind {
	case QualWithin:
		return "WITHIN " + q.Seconds.Raw + " SECONDS"
	case QualRepeats:
		return "REPEATS " + q.Times.Raw + " TIMES"
	default:
		return "START " + q.Start.Raw + " STOP " + q.Stop.Raw
	}
}

// CmpExpr is a comparison expression: *Comparison, *CmpGroup or *CmpBinary.
type CmpExpr interface{ cmpExpr() }

// CmpBinary joins two comparison expressions with AND (And true) or OR.
type CmpBinary struct {
	And         bool
	Left, Right CmpExpr
}

// CmpGroup is a parenthesized comparison expression.
type CmpGroup struct{ Expr CmpExpr }

// CmpOp is a comparison operator.
type CmpOp int

// Comparison operators.
const (
	OpEQ CmpOp = iota
	OpNE
	OpLT
	OpLE
	OpGT
	OpGE
	OpIn
	OpLike
	OpMatches
	OpIsSubset
	OpIsSuperset
	OpExists
)

var opNames = [...]string{"=", "!=", "<", "<=", ">", ">=", "IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET", "EXISTS"}

func (o CmpOp) String() string { return opNames[o] }

// Comparison is one property test: path op literal, path IN (set) or
// EXISTS path, optionally negated with NOT.
type Comparison struct {
	Path  Path
	Not   bool
	Op    CmpOp
	Value Literal   // all operators but IN and EXISTS
	Set   []Literal // IN
	Pos   int       // byte offset of the path
}

func (*Comparison) cmpExpr() {}
func (*CmpGroup) cmpExpr()   {}
func (*CmpBinary) cmpExpr()  {}

// OpString is the operator as the inspector shows it, e.g. "NOT !=".
func (c *Comparison) OpString() string {
	if c.Not {
		return "NOT " + c.Op.String()
	}
	return c.Op.String()
}

// LiteralString is the literal as written (a set as "(a,b)").
func (c *Comparison) LiteralString() string {
	switch c.Op {
	case OpExists:
		return ""
	case OpIn:
		parts := make([]string, len(c.Set))
		for i, l := range c.Set {
			parts[i] = l.Raw
		}
		return "(" + strings.Join(parts, ",") + ")"
	}
	return c.Value.Raw
}

// StepKind is the kind of an object path step.
type StepKind int

// Path step kinds.
const (
	StepKey   StepKind = iota // .name or .'quoted name'
	StepIndex                 // [n]
	StepAny                   // [*]
)

// Step is one object path component after the object type.
type Step struct {
	Kind   StepKind
	Key    string // StepKey, unescaped
	Index  int64  // StepIndex
	Quoted bool   // the key was written as a string literal
}

// Path is an object path: type:prop.sub[*].x.
type Path struct {
	Type  string
	Steps []Step
}

// String renders the path as a pattern writes it.
func (p Path) String() string {
	var b strings.Builder
	writePath(&b, p)
	return b.String()
}

// LitKind is the type of a literal.
type LitKind int

// Literal kinds.
const (
	LitInt LitKind = iota
	LitFloat
	LitString
	LitBool
	LitBinary // b'base64'
	LitHex    // h'hex'
	LitTimestamp
)

func (k LitKind) String() string {
	return [...]string{"int", "float", "string", "bool", "binary", "hex", "timestamp"}[k]
}

// Literal is a constant in a pattern. Raw is the source text; the value is
// in the field for its kind (Bytes for binary and hex).
type Literal struct {
	Kind  LitKind
	Raw   string
	Int   int64
	Float float64
	Str   string
	Bool  bool
	Bytes []byte
	Time  time.Time
}

// Value returns the literal as a Go value: int64, float64, string, bool,
// []byte or time.Time.
func (l Literal) Value() any {
	switch l.Kind {
	case LitInt:
		return l.Int
	case LitFloat:
		return l.Float
	case LitString:
		return l.Str
	case LitBool:
		return l.Bool
	case LitBinary, LitHex:
		return l.Bytes
	default:
		return l.Time
	}
}

func writeObs(b *strings.Builder, e ObsExpr) {
	switch e := e.(type) {
	case *Observation:
		b.WriteByte('[')
		writeCmp(b, e.Cmp)
		b.WriteByte(']')
	case *ObsGroup:
		b.WriteByte('(')
		writeObs(b, e.Expr)
		b.WriteByte(')')
	case *ObsBinary:
		writeObs(b, e.Left)
		b.WriteString(" " + e.Op.String() + " ")
		writeObs(b, e.Right)
	case *Qualified:
		writeObs(b, e.Expr)
		b.WriteString(" " + e.Q.String())
	}
}

func writeCmp(b *strings.Builder, e CmpExpr) {
	switch e := e.(type) {
	case *Comparison:
		if e.Op == OpExists {
			if e.Not {
				b.WriteString("NOT ")
			}
			b.WriteString("EXISTS ")
			writePath(b, e.Path)
			return
		}
		writePath(b, e.Path)
		b.WriteString(" " + e.OpString() + " " + e.LiteralString())
	case *CmpGroup:
		b.WriteByte('(')
		writeCmp(b, e.Expr)
		b.WriteByte(')')
	case *CmpBinary:
		writeCmp(b, e.Left)
		if e.And {
			b.WriteString(" AND ")
		} else {
			b.WriteString(" OR ")
		}
		writeCmp(b, e.Right)
	}
}

func writePath(b *strings.Builder, p Path) {
	b.WriteString(p.Type)
	b.WriteByte(':')
	for i, s := range p.Steps {
		switch s.Kind {
		case StepKey:
			if i > 0 {
				b.WriteByte('.')
			}
			if s.Quoted || !isPlainIdent(s.Key) {
				b.WriteString(quoteString(s.Key))
			} else {
				b.WriteString(s.Key)
			}
		case StepIndex:
			b.WriteString("[" + strconv.FormatInt(s.Index, 10) + "]")
		case StepAny:
			b.WriteString("[*]")
		}
	}
}

// quoteString writes s as a STIX string literal.
func quoteString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(s) + "'"
}

func isPlainIdent(s string) bool {
	if s == "" || keywords[s] != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}
