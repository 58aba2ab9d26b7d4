package sigma

import "testing"

func FuzzParse(f *testing.F) {
	f.Add([]byte(fullRule))
	f.Add([]byte("title: t\ndetection:\n  sel:\n    a|re|i: 'x'\n  condition: sel\n---\ntitle: c\ncorrelation: {type: event_count, rules: [a], timespan: 1h, condition: {gte: 2}}\n"))
	f.Add([]byte("title: c\ncorrelation: {type: value_count, rules: [a], timespan: 1h, condition: {field: U, gt: 1, lte: 10, neq: 5}}\n"))
	f.Add([]byte("title: t\ndetection:\n  sel:\n    a|base64offset|contains: 'x'\n    b|windash|contains: ' -a /b'\n  condition: 1 of them\n"))
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
