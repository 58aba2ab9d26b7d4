package sigma

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// corrDoc is a correlation document whose condition mapping starts on
// line 8, one key a line.
func corrDoc(typ string, cond ...string) string {
	return "title: c\ncorrelation:\n  type: " + typ + "\n  rules: [a]\n  group-by: [Ip]\n  timespan: 5m\n  condition:\n    " +
		strings.Join(cond, "\n    ") + "\n"
}

func TestCorrelationConditionRange(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want CorrelationCondition
	}{
		{"single", corrDoc("event_count", "gte: 10"),
			CorrelationCondition{Comparisons: []Comparison{{"gte", 10}}}},
		{"gt and lte", corrDoc("event_count", "gt: 10", "lte: 100"),
			CorrelationCondition{Comparisons: []Comparison{{"gt", 10}, {"lte", 100}}}},
		{"upper bound first", corrDoc("event_count", "lt: 50", "gte: 5"),
			CorrelationCondition{Comparisons: []Comparison{{"lt", 50}, {"gte", 5}}}},
		{"value_count", corrDoc("value_count", "field: User", "gte: 5", "lt: 50"),
			CorrelationCondition{Fields: []string{"User"}, Comparisons: []Comparison{{"gte", 5}, {"lt", 50}}}},
		{"flow mapping", "title: c\ncorrelation: {type: event_count, rules: [a], timespan: 1h, condition: {gt: 1, lt: 3}}\n",
			CorrelationCondition{Comparisons: []Comparison{{"gt", 1}, {"lt", 3}}}},
		{"one count fits", corrDoc("event_count", "gt: 10", "lt: 12"),
			CorrelationCondition{Comparisons: []Comparison{{"gt", 10}, {"lt", 12}}}},
		{"single point", corrDoc("event_count", "gte: 7", "lte: 7"),
			CorrelationCondition{Comparisons: []Comparison{{"gte", 7}, {"lte", 7}}}},
		{"with neq", corrDoc("event_count", "gte: 1", "lte: 3", "neq: 2"),
			CorrelationCondition{Comparisons: []Comparison{{"gte", 1}, {"lte", 3}, {"neq", 2}}}},
		{"lower bound and neq", corrDoc("event_count", "gt: 1", "neq: 5"),
			CorrelationCondition{Comparisons: []Comparison{{"gt", 1}, {"neq", 5}}}},
		{"fractional sum", corrDoc("value_sum", "field: Bytes", "gt: 10.5", "lt: 11"),
			CorrelationCondition{Fields: []string{"Bytes"}, Comparisons: []Comparison{{"gt", 10.5}, {"lt", 11}}}},
		{"temporal", corrDoc("temporal", "gte: 1", "lte: 1"),
			CorrelationCondition{Comparisons: []Comparison{{"gte", 1}, {"lte", 1}}}},
		{"temporal default", "title: c\ncorrelation: {type: temporal, rules: [a, b], timespan: 1h}\n",
			CorrelationCondition{Comparisons: []Comparison{{"gte", 2}}}},
		{"value_count of a field list", corrDoc("value_count", "field: [TargetUserName, WorkstationName]", "gte: 2"),
			CorrelationCondition{Fields: []string{"TargetUserName", "WorkstationName"}, Comparisons: []Comparison{{"gte", 2}}}},
		{"value_count of a block list", corrDoc("value_count", "field:", "  - TargetUserName", "  - WorkstationName", "gte: 2"),
			CorrelationCondition{Fields: []string{"TargetUserName", "WorkstationName"}, Comparisons: []Comparison{{"gte", 2}}}},
		{"value_count of a one-field list", corrDoc("value_count", "field: [User]", "gte: 2"),
			CorrelationCondition{Fields: []string{"User"}, Comparisons: []Comparison{{"gte", 2}}}},
	}
	for _, tt := range tests {
		rules, err := Parse("r.yml", []byte(tt.doc))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, rules[0].Correlation.Condition); diff != "" {
			t.Errorf("%s: condition (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestCorrelationConditionRangeErrors(t *testing.T) {
	tests := []struct {
		name   string
		doc    string
		line   int
		reason string
	}{
		{"contradictory", corrDoc("event_count", "gt: 10", "lt: 5"), 9,
			"correlation.condition can never hold: no count is greater than 10 and less than 5"},
		{"contradictory reversed", corrDoc("value_count", "field: User", "lte: 2", "gte: 3"), 10,
			"no count is at most 2 and at least 3"},
		{"no whole count between", corrDoc("event_count", "gt: 10", "lt: 11"), 9,
			"no count is greater than 10 and less than 11"},
		{"fractional bounds on a count", corrDoc("event_count", "gte: 1.2", "lte: 1.8"), 9,
			"no count is at least 1.2 and at most 1.8"},
		{"empty real interval", corrDoc("value_sum", "field: Bytes", "gt: 10", "lt: 10"), 10,
			"no value is greater than 10 and less than 10"},
		{"neq removes the only value", corrDoc("event_count", "gte: 7", "lte: 7", "neq: 7"), 10,
			"no count is at least 7, at most 7 and other than 7"},
		{"duplicate", corrDoc("event_count", "gt: 10", "gt: 20"), 9,
			"correlation.condition: gt is given twice (first on line 8)"},
		{"duplicate upper", corrDoc("event_count", "gt: 1", "lte: 10", "lte: 20"), 10,
			"lte is given twice (first on line 9)"},
		{"two lower bounds", corrDoc("event_count", "gt: 10", "gte: 20"), 9,
			"two lower bounds, gt and gte"},
		{"two upper bounds", corrDoc("event_count", "lte: 10", "lt: 20"), 9,
			"two upper bounds, lt and lte"},
		{"eq in a range", corrDoc("event_count", "eq: 5", "gt: 1"), 9,
			"eq cannot be combined with gt"},
		{"not finite", corrDoc("event_count", "gt: 1", "lt: NaN"), 9,
			`correlation.condition.lt: "NaN" is not a number`},
		{"value_count without field", corrDoc("value_count", "gte: 2"), 8,
			"value_count correlation needs condition.field, the field whose values it aggregates"},
		{"value_count with an empty field list", corrDoc("value_count", "field: []", "gte: 2"), 8,
			"value_count correlation needs condition.field"},
		{"value_count with a null field", corrDoc("value_count", "field: null", "gte: 2"), 8,
			"value_count correlation needs condition.field"},
		{"value_sum without field", corrDoc("value_sum", "gte: 2"), 8,
			"value_sum correlation needs condition.field"},
		{"field is a mapping", corrDoc("value_count", "field: {a: b}", "gte: 2"), 8,
			"correlation.condition.field must be a field name or a list of field names"},
		{"field list holds a mapping", corrDoc("value_count", "field: [User, {a: b}]", "gte: 2"), 8,
			"correlation.condition.field must be a field name or a list of field names"},
		{"field list holds a null", corrDoc("value_count", "field:", "  - User", "  - null", "gte: 2"), 10,
			"correlation.condition.field must be a field name or a list of field names"},
		{"field listed twice", corrDoc("value_count", "field: [User, User]", "gte: 2"), 8,
			`correlation.condition.field lists "User" twice`},
		{"value_avg of a field list", corrDoc("value_avg", "field: [A, B]", "gt: 2"), 8,
			"value_avg correlation takes one field in condition.field, not a list"},
	}
	for _, tt := range tests {
		_, err := Parse("e.yml", []byte(tt.doc))
		if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: error %v, want an invalid-rule error", tt.name, err)
			continue
		}
		var es Errors
		if !errors.As(err, &es) || len(es) != 1 {
			t.Errorf("%s: want one Error, got %v", tt.name, err)
			continue
		}
		if es[0].File != "e.yml" || es[0].Line != tt.line {
			t.Errorf("%s: at %s:%d, want e.yml:%d (%v)", tt.name, es[0].File, es[0].Line, tt.line, es[0])
		}
		if !strings.Contains(es[0].Reason, tt.reason) {
			t.Errorf("%s: reason %q lacks %q", tt.name, es[0].Reason, tt.reason)
		}
	}
}

func TestCorrelationConditionHolds(t *testing.T) {
	rng := CorrelationCondition{Comparisons: []Comparison{{"gt", 10}, {"lte", 100}}}
	tests := []struct {
		cond CorrelationCondition
		v    float64
		want bool
	}{
		{rng, 10, false},
		{rng, 11, true},
		{rng, 100, true},
		{rng, 101, false},
		{CorrelationCondition{Comparisons: []Comparison{{"gte", 5}, {"lt", 8}, {"neq", 6}}}, 6, false},
		{CorrelationCondition{Comparisons: []Comparison{{"gte", 5}, {"lt", 8}, {"neq", 6}}}, 7, true},
		{CorrelationCondition{Comparisons: []Comparison{{"gte", 5}, {"lt", 8}, {"neq", 6}}}, 8, false},
		{CorrelationCondition{Comparisons: []Comparison{{"eq", 3}}}, 3, true},
		{CorrelationCondition{}, 3, false}, // no comparison never holds
	}
	for _, tt := range tests {
		if got := tt.cond.Holds(tt.v); got != tt.want {
			t.Errorf("%+v.Holds(%g) = %v, want %v", tt.cond.Comparisons, tt.v, got, tt.want)
		}
	}
}

func TestCorrelationJudgedAtClose(t *testing.T) {
	tests := []struct {
		typ  string
		cs   []Comparison
		want bool
	}{
		{"event_count", []Comparison{{"gte", 1}}, false},
		{"event_count", []Comparison{{"gt", 1}}, false},
		{"event_count", []Comparison{{"eq", 1}}, true},
		{"event_count", []Comparison{{"neq", 1}}, true},
		{"event_count", []Comparison{{"lt", 1}}, true},
		{"event_count", []Comparison{{"lte", 1}}, true},
		{"event_count", []Comparison{{"gt", 1}, {"lte", 9}}, true},
		{"event_count", []Comparison{{"gt", 1}, {"neq", 9}}, true},
		{"value_count", []Comparison{{"gte", 3}}, false},
		{"value_count", []Comparison{{"eq", 3}}, true},
		{"value_count", []Comparison{{"neq", 3}}, true},
		{"temporal", []Comparison{{"gte", 2}}, false},
		{"temporal", []Comparison{{"eq", 2}}, true},
		{"temporal_ordered", []Comparison{{"neq", 2}}, true},
		{"value_sum", []Comparison{{"gt", 100}}, false},
		{"value_sum", []Comparison{{"eq", 100}}, true},
		{"value_sum", []Comparison{{"neq", 100}}, true},
		{"value_avg", []Comparison{{"gt", 500}}, true},
		{"value_avg", []Comparison{{"gte", 500}}, true},
		{"value_percentile", []Comparison{{"gte", 100}}, true},
	}
	for _, tt := range tests {
		c := &Correlation{Type: tt.typ, Condition: CorrelationCondition{Comparisons: tt.cs}}
		if got := c.JudgedAtClose(); got != tt.want {
			t.Errorf("%s %+v: JudgedAtClose() = %v, want %v", tt.typ, tt.cs, got, tt.want)
		}
	}
}

func TestParseTimespan(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"30s", 30 * time.Second, ""},
		{"5m", 5 * time.Minute, ""},
		{"2d", 48 * time.Hour, ""},
		{"36500d", maxTimespan, ""},
		{"36501d", 0, `"36501d" is longer than 36500 days`},
		{"200000d", 0, `"200000d" is longer than 36500 days`},
		{"5215w", 0, "longer than 36500 days"},
		{"3153600001s", 0, "longer than 36500 days"},
		// Past int64 itself: strconv reports a range error.
		{"99999999999999999999s", 0, "longer than 36500 days"},
		{"0m", 0, "is not a timespan"},
		{"-5m", 0, "is not a timespan"},
		{"5x", 0, "unknown unit"},
	}
	for _, tt := range tests {
		got, err := parseTimespan(tt.in)
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("parseTimespan(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("parseTimespan(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.err)
		}
	}
}

// TestCorrelationTimespanTooLong checks that an overflowing timespan is a
// bad rule with its file and line, not one that silently never fires.
func TestCorrelationTimespanTooLong(t *testing.T) {
	doc := "title: c\ncorrelation:\n  type: event_count\n  rules: [a]\n  group-by: [Ip]\n  timespan: 200000d\n  condition: {gte: 2}\n"
	_, err := Parse("ts.yml", []byte(doc))
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || !errors.Is(es[0], ErrInvalid) {
		t.Fatalf("want one invalid-rule error, got %v", err)
	}
	const want = `ts.yml:6: correlation.timespan: "200000d" is longer than 36500 days, the longest window allowed`
	if es[0].Error() != want {
		t.Errorf("error %q, want %q", es[0].Error(), want)
	}
}
