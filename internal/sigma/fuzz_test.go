package sigma

import (
	"slices"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte(fullRule))
	f.Add([]byte("title: t\ndetection:\n  sel:\n    a|re|i: 'x'\n  condition: sel\n---\ntitle: c\ncorrelation: {type: event_count, rules: [a], timespan: 1h, condition: {gte: 2}}\n"))
	f.Add([]byte("title: c\ncorrelation: {type: value_count, rules: [a], timespan: 1h, condition: {field: U, gt: 1, lte: 10, neq: 5}}\n"))
	f.Add([]byte("title: t\ndetection:\n  sel:\n    a|base64offset|contains: 'x'\n    b|windash|contains: ' -a /b'\n  condition: 1 of them\n"))
	f.Add([]byte("title: t\ndetection:\n  sel:\n    a|expand|contains: '\\%plain%name%'\n  condition: sel\n"))
	f.Add([]byte("title: c\ncorrelation: {type: value_count, rules: [a], timespan: 9999999999999d, condition: {field: [U, W], eq: 2}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, _ := Parse("fuzz.yml", data)
		for _, r := range rules {
			if r.Detection == nil && r.Correlation == nil && r.Filter == nil {
				t.Fatalf("rule without body: %+v", r)
			}
		}
	})
}

func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{"a and not b", "1 of s*", "all of them", "(a or (b and not c))", "a | count() > 1", "not not not a"} {
		f.Add(s)
	}
	names := []string{"a", "b", "c", "s1", "s2"}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseCondition(s, names)
		if err == nil && e == nil {
			t.Fatal("nil expression without error")
		}
		if err == nil {
			// The canonical form must parse to the same canonical form.
			e2, err := ParseCondition(FormatExpr(e), names)
			if err != nil {
				t.Fatalf("canonical form %q of %q does not parse: %v", FormatExpr(e), s, err)
			}
			if FormatExpr(e2) != FormatExpr(e) {
				t.Fatalf("canonical form unstable: %q -> %q", FormatExpr(e), FormatExpr(e2))
			}
		}
	})
}

// FuzzParseExpandPattern checks that a pattern with placeholders renders
// as an |expand value that reads back the same.
func FuzzParseExpandPattern(f *testing.F) {
	for _, s := range []string{`\%plain%name%`, `C:\\%a%\*`, "%a%%b%", "100%", `*%x%?\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := ParseExpandPattern(s)
		parse := ParsePattern
		if p.HasPlaceholders() {
			parse = ParseExpandPattern
		}
		for i := 1; i < len(p); i++ {
			if p[i].Kind == TokLit && p[i-1].Kind == TokLit || p[i].Kind == TokStar && p[i-1].Kind == TokStar {
				t.Fatalf("ParseExpandPattern(%q) = %v: adjacent tokens not merged", s, p)
			}
		}
		if back := parse(p.String()); !slices.Equal(p, back) {
			t.Fatalf("ParseExpandPattern(%q) = %v renders as %q, which reads back as %v", s, p, p.String(), back)
		}
	})
}
