package sigma

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Error kinds. Every error returned by Parse wraps exactly one of them.
var (
	// ErrInvalid marks a document that is not a valid Sigma rule.
	ErrInvalid = errors.New("invalid rule")
	// ErrUnsupported marks a valid rule that this engine cannot evaluate
	// faithfully (the error's reason says why).
	ErrUnsupported = errors.New("unsupported")
)

// Error is a parse error with its position.
type Error struct {
	File   string
	Line   int // 0 when unknown
	Reason string
	Kind   error // ErrInvalid or ErrUnsupported
}

func (e *Error) Error() string {
	prefix := e.File
	if e.Line > 0 {
		prefix = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Kind == ErrUnsupported {
		return fmt.Sprintf("%s: unsupported: %s", prefix, e.Reason)
	}
	return fmt.Sprintf("%s: %s", prefix, e.Reason)
}

// Unwrap returns the kind, so errors.Is(err, ErrUnsupported) works.
func (e *Error) Unwrap() error { return e.Kind }

// Rule is one Sigma document: a detection rule, a correlation rule or a
// filter. Exactly one of Detection, Correlation and Filter is set.
type Rule struct {
	File string // as given to Parse
	Line int    // line of the document's first key

	Title          string
	ID             string
	Name           string
	Status         string
	Description    string
	License        string
	Author         string
	Date           string
	Modified       string
	Level          string
	References     []string
	Tags           []string
	Fields         []string
	FalsePositives []string
	Related        []Related
	LogSource      LogSource

	Detection   *Detection
	Correlation *Correlation
	Filter      *Filter

	// Warnings are what the specification forbids but the rule can still
	// be run as written (`tarian rules validate` prints them).
	Warnings []Warning
}

// Warning is a line of a rule that departs from the specification in a
// way the engine still runs.
type Warning struct {
	Line   int
	Reason string
}

// Related links a rule to another rule.
type Related struct {
	ID   string
	Type string
}

// LogSource names the events a rule applies to.
type LogSource struct {
	Category   string
	Product    string
	Service    string
	Definition string
}

// Detection is the detection section: named searches and the condition.
type Detection struct {
	Searches map[string]*Search
	Order    []string // search names in file order
	// Conditions holds one parsed expression per condition string; the rule
	// matches when any of them does.
	Conditions []Expr
	// ConditionText holds the source of each condition.
	ConditionText []string
	Line          int
}

// Search is one named search identifier: an OR of alternatives, each an AND
// of field matches. A keyword list is one alternative holding one Match
// with an empty Field.
type Search struct {
	Name         string
	Line         int
	Alternatives [][]*Match
}

// Op is how a Match compares the event's value with the rule's values.
type Op int

// Comparison operators.
const (
	OpPattern Op = iota // wildcard pattern (equality, contains, startswith, endswith)
	OpRegex
	OpCIDR
	OpExists
	OpFieldRef // value is another field's name
	OpGT
	OpGTE
	OpLT
	OpLTE
)

var opNames = [...]string{"pattern", "re", "cidr", "exists", "fieldref", "gt", "gte", "lt", "lte"}

func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// Match is one field (or keyword) condition: the event's field must match
// one of Values (all of them when All is set). Modifiers have already been
// applied to the values: a contains pattern already begins and ends with a
// wildcard, base64 values are already encoded, windash variants expanded.
type Match struct {
	Field     string   // "" for a keyword search
	Modifiers []string // as written, for display
	Op        Op
	Values    []Value
	All       bool // |all: every value must match
	Cased     bool // |cased: case-sensitive comparison
	Negate    bool // |neq: the field must differ from every value
	TimePart  string
	// FieldRefKind is "", "contains", "startswith" or "endswith" for OpFieldRef.
	FieldRefKind string
	Expand       bool // |expand: values hold %placeholders%
	Line         int
}

// ValueKind is the type of a rule value.
type ValueKind int

// Value kinds.
const (
	KindString ValueKind = iota
	KindNumber
	KindBool
	KindNull
)

// Value is one value of a Match. Modifiers such as windash or
// base64offset turn one written value into several alternatives; they share
// its Group (the index of the written value), which |all uses.
type Value struct {
	Group   int
	Kind    ValueKind
	Pattern Pattern // KindString (and the text of numbers/bools as a literal pattern)
	Num     float64 // KindNumber
	Bool    bool    // KindBool, and OpExists
	Text    string  // raw scalar text as written
	Regex   *regexp.Regexp
	Net     *CIDR
}

// CIDR is a parsed network for the cidr modifier.
type CIDR struct {
	IP   []byte // 4 or 16 bytes
	Mask []byte
	Text string
}

// Correlation is a correlation (meta) rule.
type Correlation struct {
	Type      string // event_count, value_count, temporal, temporal_ordered, value_sum, value_avg, value_percentile
	Rules     []string
	GroupBy   []string
	Timespan  time.Duration
	Condition CorrelationCondition
	// Aliases maps an alias field name to the field it stands for in each
	// referenced rule (keyed by rule name or id).
	Aliases  map[string]map[string]string
	Generate bool
	Line     int
}

// CorrelationCondition is the threshold of a correlation: one comparison
// ({gte: 10}) or a range of several that must all hold ({gt: 10, lte: 100}).
// Parse guarantees at most one lower bound (gt, gte), at most one upper
// bound (lt, lte), at most one neq, eq only alone, and that some value
// meets them all.
type CorrelationCondition struct {
	// Fields is condition.field: for value_count one or more fields, whose
	// combination is the value counted (a list is linked by AND); for
	// value_sum, value_avg and value_percentile exactly one. Empty for the
	// other types.
	Fields      []string
	Comparisons []Comparison // in file order; never empty (temporal defaults to gte the number of rules)
	Percentile  float64      // value_percentile only
}

// Comparison is one comparison of a correlation condition.
type Comparison struct {
	Op    string // gt, gte, lt, lte, eq, neq
	Value float64
}

// Holds reports whether v meets every comparison of the condition.
func (c CorrelationCondition) Holds(v float64) bool {
	for _, x := range c.Comparisons {
		if !x.Holds(v) {
			return false
		}
	}
	return len(c.Comparisons) > 0
}

// JudgedAtClose reports whether the correlation's condition can only be
// judged once every event of a window is in, that is when the window
// closes. An average or a percentile can fall as well as rise, so they
// always are. A count (event_count, value_count, temporal,
// temporal_ordered) only rises as matches arrive, and a sum is taken to
// (it adds byte counts and the like): a condition of lower bounds alone
// (gt, gte) holds for good once it holds, and is judged at each match; one
// with an upper bound (lt, lte), an eq or a neq can still be overtaken, or
// hold only at the start, and is judged at close.
func (c *Correlation) JudgedAtClose() bool {
	switch c.Type {
	case "value_avg", "value_percentile":
		return true
	}
	for _, x := range c.Condition.Comparisons {
		switch x.Op {
		case "lt", "lte", "eq", "neq":
			return true
		}
	}
	return false
}

// Holds reports whether v meets the comparison.
func (c Comparison) Holds(v float64) bool {
	switch c.Op {
	case "gt":
		return v > c.Value
	case "gte":
		return v >= c.Value
	case "lt":
		return v < c.Value
	case "lte":
		return v <= c.Value
	case "eq":
		return v == c.Value
	case "neq":
		return v != c.Value
	}
	return false
}

// Filter is a filter document: extra conditions ANDed with the conditions of
// the rules it names.
type Filter struct {
	Rules     []string
	Detection *Detection
}
