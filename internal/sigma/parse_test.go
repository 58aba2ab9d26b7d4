package sigma

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const fullRule = `title: Test Rule
id: 5f5f5f5f-0000-0000-0000-000000000001
name: test_rule
status: test
description: a test
author: Someone
date: 2024-01-01
level: high
tags:
    - attack.execution
    - attack.t1059.001
references: https://example.org
falsepositives:
    - Unknown
fields:
    - CommandLine
related:
    - id: 5f5f5f5f-0000-0000-0000-000000000002
      type: derived
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\powershell.exe'
        CommandLine|contains|all:
            - '-enc'
            - 'bypass'
    filter:
        - User: null
        - User: ''
    keywords:
        - 'evil'
        - 'bad*'
    condition: selection and not filter or keywords
`

func TestParseFullRule(t *testing.T) {
	rules, err := Parse("full.yml", []byte(fullRule))
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 1 {
		t.Fatalf("got %d rules", len(rules))
	}
	r := rules[0]
	if r.Title != "Test Rule" || r.Level != "high" || r.Author != "Someone" || r.Name != "test_rule" {
		t.Errorf("metadata = %+v", r)
	}
	if diff := cmp.Diff([]string{"attack.execution", "attack.t1059.001"}, r.Tags); diff != "" {
		t.Errorf("tags: %s", diff)
	}
	if diff := cmp.Diff([]string{"https://example.org"}, r.References); diff != "" {
		t.Errorf("references: %s", diff)
	}
	if r.LogSource != (LogSource{Category: "process_creation", Product: "windows"}) {
		t.Errorf("logsource = %+v", r.LogSource)
	}
	if len(r.Related) != 1 || r.Related[0].Type != "derived" {
		t.Errorf("related = %+v", r.Related)
	}
	d := r.Detection
	if diff := cmp.Diff([]string{"selection", "filter", "keywords"}, d.Order); diff != "" {
		t.Errorf("order: %s", diff)
	}
	sel := d.Searches["selection"].Alternatives
	if len(sel) != 1 || len(sel[0]) != 2 {
		t.Fatalf("selection = %+v", sel)
	}
	img := sel[0][0]
	if img.Field != "Image" || img.Values[0].Pattern.String() != `*\powershell.exe` {
		t.Errorf("Image match = %+v (%s)", img, img.Values[0].Pattern)
	}
	cl := sel[0][1]
	if !cl.All || len(cl.Values) != 2 || cl.Values[1].Pattern.String() != "*bypass*" {
		t.Errorf("CommandLine match = %+v", cl)
	}
	flt := d.Searches["filter"].Alternatives
	if len(flt) != 2 || flt[0][0].Values[0].Kind != KindNull || flt[1][0].Values[0].Pattern.String() != "" {
		t.Errorf("filter = %+v", flt)
	}
	kw := d.Searches["keywords"].Alternatives[0][0]
	if kw.Field != "" || len(kw.Values) != 2 {
		t.Errorf("keywords = %+v", kw)
	}
	if got := FormatExpr(d.Conditions[0]); got != "((selection and not filter) or keywords)" {
		t.Errorf("condition = %s", got)
	}
}

func TestParseModifiers(t *testing.T) {
	tests := []struct {
		key, value string
		op         Op
		want       []string // pattern strings, regex sources or values
		check      func(*Match) bool
	}{
		{key: "F", value: "'abc'", want: []string{"abc"}},
		{key: "F|contains", value: "'abc'", want: []string{"*abc*"}},
		{key: "F|startswith", value: "'abc'", want: []string{"abc*"}},
		{key: "F|endswith", value: "'abc'", want: []string{"*abc"}},
		{key: "F|base64", value: "'abc'", want: []string{"YWJj"}},
		{key: "F|base64offset|contains", value: "'ping'", want: []string{"*cGluZ*", "*Bpbm*", "*waW5n*"}},
		{key: "F|wide|base64offset|contains", value: "'ab'", want: []string{"*YQBiA*", "*EAYg*", "*hAGIA*"}},
		{key: "F|utf16le", value: "'a'", want: []string{"a\x00"}},
		{key: "F|utf16be", value: "'a'", want: []string{"\x00a"}},
		{key: "F|contains|windash", value: "' -x'", want: []string{"* -x*", "* /x*", "* \u2013x*", "* \u2014x*", "* \u2015x*"}},
		{key: "F|re", value: "'^a.b$'", op: OpRegex, want: []string{"^a.b$"}},
		{key: "F|re|i", value: "'^ab$'", op: OpRegex, check: func(m *Match) bool { return m.Values[0].Regex.MatchString("AB") }},
		{key: "F|re|s", value: "'a.b'", op: OpRegex, check: func(m *Match) bool { return m.Values[0].Regex.MatchString("a\nb") }},
		{key: "F|re|m", value: "'^b$'", op: OpRegex, check: func(m *Match) bool { return m.Values[0].Regex.MatchString("a\nb") }},
		{key: "F|cidr", value: "'10.0.0.0/8'", op: OpCIDR, want: []string{"10.0.0.0/8"}},
		{key: "F|exists", value: "true", op: OpExists, check: func(m *Match) bool { return m.Values[0].Bool }},
		{key: "F|fieldref", value: "'G'", op: OpFieldRef, want: []string{"G"}},
		{key: "F|fieldref|endswith", value: "'G'", op: OpFieldRef, check: func(m *Match) bool { return m.FieldRefKind == "endswith" }},
		{key: "F|gt", value: "5", op: OpGT, check: func(m *Match) bool { return m.Values[0].Num == 5 }},
		{key: "F|gte", value: "5", op: OpGTE},
		{key: "F|lt", value: "5.5", op: OpLT, check: func(m *Match) bool { return m.Values[0].Num == 5.5 }},
		{key: "F|lte", value: "5", op: OpLTE},
		{key: "F|neq", value: "'x'", check: func(m *Match) bool { return m.Negate }},
		{key: "F|cased", value: "'X'", check: func(m *Match) bool { return m.Cased }},
		{key: "F|expand", value: "'%dc%'", check: func(m *Match) bool { return m.Expand }},
		{key: "F|hour", value: "3", check: func(m *Match) bool { return m.TimePart == "hour" && m.Values[0].Num == 3 }},
		{key: "F|hour|gte", value: "22", op: OpGTE, check: func(m *Match) bool { return m.TimePart == "hour" }},
		{key: "F", value: "4688", check: func(m *Match) bool { return m.Values[0].Kind == KindNumber && m.Values[0].Num == 4688 }},
		{key: "F", value: "null", check: func(m *Match) bool { return m.Values[0].Kind == KindNull }},
		{key: "F", value: "''", want: []string{""}},
		{key: "F|contains|all", value: "['a', 'b']", want: []string{"*a*", "*b*"}, check: func(m *Match) bool { return m.All }},
	}
	for _, tt := range tests {
		doc := "title: t\nlogsource: {product: windows}\ndetection:\n  sel:\n    " + tt.key + ": " + tt.value + "\n  condition: sel\n"
		rules, err := Parse("m.yml", []byte(doc))
		if err != nil {
			t.Errorf("%s: %v", tt.key, err)
			continue
		}
		m := rules[0].Detection.Searches["sel"].Alternatives[0][0]
		if m.Op != tt.op {
			t.Errorf("%s: op = %v, want %v", tt.key, m.Op, tt.op)
		}
		if tt.want != nil {
			var got []string
			for _, v := range m.Values {
				switch {
				case v.Regex != nil:
					got = append(got, v.Text)
				case v.Net != nil || m.Op == OpFieldRef:
					got = append(got, v.Text)
				default:
					got = append(got, v.Pattern.String())
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s: values (-want +got):\n%s", tt.key, diff)
			}
		}
		if tt.check != nil && !tt.check(m) {
			t.Errorf("%s: check failed on %+v", tt.key, m)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, doc string
		kind      error
		line      int
		reason    string
	}{
		{"no title", "detection: {sel: {a: 1}, condition: sel}\n", ErrInvalid, 1, "missing title"},
		{"no condition", "title: t\ndetection:\n  sel: {a: 1}\n", ErrInvalid, 3, "no condition"},
		{"bad modifier", "title: t\ndetection:\n  sel:\n    a|foo: 1\n  condition: sel\n", ErrInvalid, 4, "unknown modifier"},
		{"lookahead", "title: t\ndetection:\n  sel:\n    a|re: 'x(?!y)'\n  condition: sel\n", ErrUnsupported, 4, "lookahead"},
		{"backref", "title: t\ndetection:\n  sel:\n    a|re: '(a)\\1'\n  condition: sel\n", ErrUnsupported, 4, "backreference"},
		{"bad regex", "title: t\ndetection:\n  sel:\n    a|re: 'a('\n  condition: sel\n", ErrInvalid, 4, "missing closing"},
		{"undefined ident", "title: t\ndetection:\n  sel: {a: 1}\n  condition: sel and other\n", ErrInvalid, 4, "undefined search identifier"},
		{"aggregation", "title: t\ndetection:\n  sel: {a: 1}\n  condition: sel | count() > 5\n", ErrUnsupported, 4, "aggregation"},
		{"yaml", "title: t\ndetection: [\n", ErrInvalid, 0, "yaml"},
		{"bad level", "title: t\nlevel: severe\ndetection: {sel: {a: 1}, condition: sel}\n", ErrInvalid, 2, "level"},
		{"cidr", "title: t\ndetection:\n  sel:\n    a|cidr: 'nope'\n  condition: sel\n", ErrInvalid, 4, "not a network"},
		{"exists", "title: t\ndetection:\n  sel:\n    a|exists: 'yes'\n  condition: sel\n", ErrInvalid, 4, "exists"},
		{"base64 wildcard", "title: t\ndetection:\n  sel:\n    a|base64: 'a*'\n  condition: sel\n", ErrInvalid, 4, "wildcards"},
		{"mixed list", "title: t\ndetection:\n  sel:\n    - a\n    - {b: 1}\n  condition: sel\n", ErrInvalid, 4, "mixes"},
		{"collection", "title: t\naction: global\n", ErrUnsupported, 2, "collections"},
	}
	for _, tt := range tests {
		_, err := Parse("e.yml", []byte(tt.doc))
		if !errors.Is(err, tt.kind) {
			t.Errorf("%s: error %v, want kind %v", tt.name, err, tt.kind)
			continue
		}
		var es Errors
		if !errors.As(err, &es) || len(es) != 1 {
			t.Errorf("%s: want one Error, got %v", tt.name, err)
			continue
		}
		if tt.line != 0 && es[0].Line != tt.line {
			t.Errorf("%s: line %d, want %d (%v)", tt.name, es[0].Line, tt.line, es[0])
		}
		if !strings.Contains(es[0].Error(), tt.reason) || !strings.HasPrefix(es[0].Error(), "e.yml") {
			t.Errorf("%s: message %q lacks %q", tt.name, es[0].Error(), tt.reason)
		}
	}
}

func TestParseMultiDocument(t *testing.T) {
	src := `title: base
name: failed_logon
logsource: {product: windows, service: security}
detection:
  sel: {EventID: 4625}
  condition: sel
---
title: many failed logons
correlation:
  type: value_count
  rules: [failed_logon]
  group-by: [IpAddress]
  timespan: 5m
  condition:
    field: TargetUserName
    gte: 10
---
title: exclude lab
logsource: {product: windows}
filter:
  rules: [failed_logon]
  lab:
    Computer|startswith: LAB-
  condition: not lab
---
title: broken
detection: {}
`
	rules, err := Parse("multi.yml", []byte(src))
	if len(rules) != 3 {
		t.Fatalf("got %d rules, want 3 (err %v)", len(rules), err)
	}
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0].Line != 27 {
		t.Errorf("want one error on line 27 for the broken document, got %v", err)
	}
	c := rules[1].Correlation
	want := &Correlation{Type: "value_count", Rules: []string{"failed_logon"}, GroupBy: []string{"IpAddress"},
		Timespan: 5 * time.Minute, Condition: CorrelationCondition{Fields: []string{"TargetUserName"}, Comparisons: []Comparison{{Op: "gte", Value: 10}}}, Line: 10}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("correlation (-want +got):\n%s", diff)
	}
	f := rules[2].Filter
	if f == nil || f.Rules[0] != "failed_logon" || FormatExpr(f.Detection.Conditions[0]) != "not lab" {
		t.Errorf("filter = %+v", f)
	}
}

// TestEveryModifierParses keeps ModifierNames and the parser in step.
func TestEveryModifierParses(t *testing.T) {
	values := map[string]string{"exists": "true", "cidr": "'10.0.0.0/8'", "fieldref": "Other", "gt": "1", "gte": "1", "lt": "1", "lte": "1",
		"minute": "1", "hour": "1", "day": "1", "week": "1", "month": "1", "year": "1"}
	for _, mod := range ModifierNames() {
		key := "F|" + mod
		switch mod {
		case "i", "m", "s":
			key = "F|re|" + mod
		}
		v, ok := values[mod]
		if !ok {
			v = "'abc'"
		}
		doc := "title: t\ndetection:\n  sel:\n    " + key + ": " + v + "\n  condition: sel\n"
		if _, err := Parse("m.yml", []byte(doc)); err != nil {
			t.Errorf("%s: %v", key, err)
		}
	}
}

// A YAML syntax error is reported at the line of the mistake, or of the
// sequence or mapping that holds it, and the line is said once: yaml.v3
// counts its parser's lines from 0, so an unclosed bracket on line 5 was
// reported at line 4, the line before.
func TestParseYAMLErrorLines(t *testing.T) {
	tests := []struct {
		name, doc string
		line      int
	}{
		{"unclosed bracket", "title: a\nlogsource: {product: windows}\ndetection:\n  sel:\n    EventID: [1, 2\n  condition: sel\n", 5},
		{"unclosed brace", "title: a\nlogsource: {product: windows}\ndetection:\n  sel: {EventID: 1\n  condition: sel\n", 4},
		{"bad indentation", "title: a\nlogsource: {product: windows}\ndetection:\n  sel:\n    EventID: 1\n   bad: indent\n  condition: sel\n", 4},
		{"tab (scanner)", "title: a\n\tlevel: high\n", 2},
		{"mapping value (scanner)", "title: a\nlogsource: {product: windows}\ndetection:\n  sel:\n    EventID: a: b\n  condition: sel\n", 5},
		{"third document", "title: a\n---\ntitle: b\n---\ntitle: c\ndetection:\n  sel: [1, 2\n  condition: sel\n", 7},
	}
	for _, tt := range tests {
		_, err := Parse("e.yml", []byte(tt.doc))
		var es Errors
		if !errors.As(err, &es) || len(es) == 0 {
			t.Errorf("%s: want an error, got %v", tt.name, err)
			continue
		}
		last := es[len(es)-1]
		if last.Line != tt.line {
			t.Errorf("%s: line %d, want %d (%v)", tt.name, last.Line, tt.line, last)
		}
		if strings.Contains(last.Reason, "line ") {
			t.Errorf("%s: reason %q names a line of its own", tt.name, last.Reason)
		}
	}
}
