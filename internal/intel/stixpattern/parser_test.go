package stixpattern

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPatternParseValid(t *testing.T) {
	for _, src := range []string{
		`[ipv4-addr:value = '198.51.100.1']`,
		`[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']`,
		`[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f' OR file:name = 'x.exe']`,
		`[a:b = 1] AND [a:c = 2] OR [a:d = 3] FOLLOWEDBY [a:e = 4]`,
		`([a:b = 1] AND [a:c = 2]) WITHIN 5 SECONDS REPEATS 2 TIMES`,
		`[a:b = 1] START t'2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00.5Z'`,
		`[a:b[0].c[*].'d e' NOT IN (1, 2.5, -3)]`,
		`[a:b[-1] = -1.5]`,
		`[a:b LIKE 'x%' AND NOT EXISTS a:c]`,
		`[a:b = h''] /* comment */ // line comment`,
		`[a:b = b'AQID' OR a:b <> true OR a:b == false]`,
		`[a:b ISSUBSET '10.0.0.0/8' OR a:b NOT ISSUPERSET '10.0.0.1']`,
		"[a:b\t=\n'it\\'s \\\\ fine']",
		`[network-traffic:src_ref.value = '1.2.3.4' AND network-traffic:dst_port = +443]`,
		`[a:b = 1]WITHIN .5 SECONDS`,
	} {
		if _, err := Validate(src, Options{}); err != nil {
			t.Errorf("Validate(%q): %v", src, err)
		}
	}
}

func TestPatternParseInvalid(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{``, "line 1:0: mismatched input '<EOF>'"},
		{`a:b = 1`, "line 1:0: input is missing square brackets"},
		{`[a:b = ]`, "line 1:7: mismatched input ']' expecting a literal"},
		{`[a:b = 1`, "line 1:8: mismatched input '<EOF>' expecting ']'"},
		{`[a:b = 1] AND`, "line 1:13: mismatched input '<EOF>' expecting '[' or '('"},
		{`[a:b = 1] and [a:c = 2]`, "line 1:10: mismatched input 'and' expecting <EOF>"},
		{`[a:b-c = 1]`, "line 1:3: mismatched input 'b-c'"},
		{`[a:b < true]`, "line 1:7: mismatched input 'true' expecting an orderable literal"},
		{`[a:b LIKE 1]`, "line 1:10: missing StringLiteral at '1'"},
		{`[a:b = 'x\y']`, "line 1:9: invalid escape"},
		{`[a:b = 'x]`, "line 1:7: unterminated string literal"},
		{`[a:b = h'abc']`, "line 1:7: invalid hex literal"},
		{`[a:b = b'']`, "line 1:7: invalid binary literal"},
		{`[a:b = t'2020-01-01T00:00:00']`, "line 1:7: invalid timestamp literal"},
		{`[a:b = t'2020-01-01t00:00:00Z']`, "line 1:7: invalid timestamp literal"},
		{`[a:b = 1] WITHIN -5 SECONDS`, "line 1:17: mismatched input '-5'"},
		{`[a:b = 1] WITHIN 5 MINUTES`, "line 1:19: mismatched input 'MINUTES' expecting 'SECONDS'"},
		{`[a:b = 1] REPEATS 1.5 TIMES`, "line 1:18: mismatched input '1.5' expecting IntPosLiteral"},
		{`[a:b = 1] START t'2020-01-01T00:00:00Z'`, "expecting 'STOP'"},
		{`[a:b = 1] START '2020-01-01T00:00:00Z' STOP '2020-01-02T00:00:00Z'`, "expecting TimestampLiteral"},
		{`[a:b = 1 ~]`, "line 1:9: extraneous input '~'"},
		{`[a:b = 99999999999999999999]`, "integer literal out of range"},
		{`[a:b = 1] /* open`, "unterminated comment"},
		{`[a:b = null]`, "line 1:7: mismatched input 'null' expecting a literal"},
		{"[a:b = 1]\n[a:c = 2]", "line 2:0: mismatched input '['"},
		// semantic rules
		{`[file:hashes.MD5 = 'abc']`, "line 1:1: 'abc' is not a valid MD5 hash"},
		{`[file:hashes.'SHA-1' IN ('da39a3ee5e6b4b0d3255bfef95601890afd80709', 'zz')]`, "'zz' is not a valid SHA-1 hash"},
		{`[file:hashes.MD5 = 5]`, "'5' is not a valid MD5 hash"},
		{`[file:hashes.SSDEEP = 'not ssdeep']`, "is not a valid SSDEEP hash"},
		{`[a:b = 1] WITHIN 1 SECONDS WITHIN 2 SECONDS`, "line 1:27: Duplicate qualifier type encountered: WITHIN"},
		{`[a:b = 1] WITHIN 0 SECONDS`, "WITHIN needs a positive number"},
		{`[a:b = 1] REPEATS 0 TIMES`, "REPEATS needs a positive count"},
		{`[a:b = 1] START t'2020-01-02T00:00:00Z' STOP t'2020-01-01T00:00:00Z'`, "is not before STOP"},
		{`[a:b = 1] START t'2020-01-01T00:00:00Z' STOP t'2020-01-01T00:00:00Z'`, "is not before STOP"},
	} {
		_, err := Validate(tc.src, Options{})
		if err == nil {
			t.Errorf("Validate(%q): no error, want %q", tc.src, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%q):\n got  %v\n want %q", tc.src, err, tc.want)
		}
	}
}

func TestPatternValidateLenientByDefault(t *testing.T) {
	// Accepted by the reference validator: grammar-valid calendar dates,
	// types shorter than 3 characters, mixed types under AND, and several
	// qualifiers of one type on a parenthesized group.
	for _, src := range []string{
		`[x:created = t'2024-02-30T12:00:00Z']`,
		`[network-traffic:src_port = 37020 AND user-account:user_id = 'root']`,
		`([a:b = 1]) WITHIN 5 SECONDS WITHIN 6 SECONDS`,
		`[file:hashes.'X-CUSTOM' = 'anything']`,
	} {
		if _, err := Validate(src, Options{}); err != nil {
			t.Errorf("Validate(%q): %v", src, err)
		}
	}
}

func TestPatternValidateStrict(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`[x:created = 1]`, "object type \"x\" must be 3 to 250 characters"},
		{`[Foo:bar = 1]`, "may only contain a-z, 0-9 and '-'"},
		{`[foo:Bar = 1]`, "property name \"Bar\""},
		{`[network-traffic:src_port = 1 AND user-account:user_id = 'root']`, "must use one object type"},
		{`[(file:name = 'a' OR process:name = 'b') AND file:size = 1]`, "must use one object type"},
		{`[file:name = 'a' OR process:name = 'b']`, ""},
		{`[file:name = 'a' AND file:size = 1]`, ""},
	} {
		_, err := Validate(tc.src, Options{Strict: true})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Validate(%q, strict): %v", tc.src, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Validate(%q, strict): got %v, want %q", tc.src, err, tc.want)
		}
	}
}

func TestPatternParseTree(t *testing.T) {
	p, err := Parse(`[a:b = 1 OR a:c = 2 AND a:d = 3] AND [x:y = 'z'] OR [q:r > 1] FOLLOWEDBY [s:t < 2]`)
	if err != nil {
		t.Fatal(err)
	}
	fb, ok := p.Root.(*ObsBinary)
	if !ok || fb.Op != ObsFollowedBy {
		t.Fatalf("root = %#v, want FOLLOWEDBY", p.Root)
	}
	or, ok := fb.Left.(*ObsBinary)
	if !ok || or.Op != ObsOr {
		t.Fatalf("left of FOLLOWEDBY = %#v, want OR", fb.Left)
	}
	and, ok := or.Left.(*ObsBinary)
	if !ok || and.Op != ObsAnd {
		t.Fatalf("left of OR = %#v, want AND", or.Left)
	}
	cmpOr, ok := and.Left.(*Observation).Cmp.(*CmpBinary)
	if !ok || cmpOr.And {
		t.Fatalf("comparison root = %#v, want OR", and.Left.(*Observation).Cmp)
	}
	if inner, ok := cmpOr.Right.(*CmpBinary); !ok || !inner.And {
		t.Fatalf("comparison right = %#v, want AND", cmpOr.Right)
	}
}

func TestPatternLiterals(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want any
	}{
		{`[a:b = 42]`, int64(42)},
		{`[a:b = +42]`, int64(42)},
		{`[a:b = -7]`, int64(-7)},
		{`[a:b = -.5]`, -0.5},
		{`[a:b = 'it\'s a \\ path']`, `it's a \ path`},
		{`[a:b = true]`, true},
		{`[a:b = h'00ff']`, []byte{0, 0xff}},
		{`[a:b = b'AQID']`, []byte{1, 2, 3}},
		{`[a:b = t'2020-05-06T07:08:09.123456789Z']`, time.Date(2020, 5, 6, 7, 8, 9, 123456789, time.UTC)},
	} {
		p, err := Parse(tc.src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.src, err)
		}
		got := p.Root.(*Observation).Cmp.(*Comparison).Value.Value()
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%s: literal (-want +got):\n%s", tc.src, d)
		}
	}
}

func TestPatternPath(t *testing.T) {
	p, err := Parse(`[file:extensions.'windows-pebinary-ext'.sections[*].hashes[0].'SHA-256' = 'x']`)
	if err != nil {
		t.Fatal(err)
	}
	c := p.Root.(*Observation).Cmp.(*Comparison)
	want := []any{"extensions", "windows-pebinary-ext", "sections", "*", "hashes", int64(0), "SHA-256"}
	if d := cmp.Diff(want, pathTuple(c.Path)); d != "" {
		t.Errorf("path (-want +got):\n%s", d)
	}
	if got, want := c.Path.String(), `file:extensions.'windows-pebinary-ext'.sections[*].hashes[0].'SHA-256'`; got != want {
		t.Errorf("Path.String() = %s, want %s", got, want)
	}
}

func TestPatternStringRoundTrip(t *testing.T) {
	for _, src := range []string{
		`[a:b = 1 OR (a:c != 'x\'y' AND NOT EXISTS a:d)] AND ([e:f IN ('g', 'h')]) WITHIN 5 SECONDS`,
		`[a:'b c'[*].d NOT LIKE 'x%'] REPEATS 3 TIMES START t'2020-01-01T00:00:00Z' STOP t'2021-01-01T00:00:00Z'`,
		`[a:b MATCHES '^\\d+$'] FOLLOWEDBY [a:c = h'0a'] OR [a:d >= b'AA==']`,
	} {
		p, err := Parse(src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", src, err)
		}
		s1 := p.String()
		p2, err := Parse(s1)
		if err != nil {
			t.Fatalf("Parse(String()) %q: %v", s1, err)
		}
		if s2 := p2.String(); s1 != s2 {
			t.Errorf("round trip unstable:\n %s\n %s", s1, s2)
		}
	}
}

func TestPatternEqualities(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want []string // type:path=values
	}{
		{`[ipv4-addr:value = '1.2.3.4'] OR [domain-name:value IN ('a.com','b.com')]`,
			[]string{`ipv4-addr:value='1.2.3.4'`, `domain-name:value='a.com','b.com'`}},
		{`[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f' OR file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']`,
			[]string{`file:hashes.MD5='cead3f77f6cda6ec00f57d76c9a6879f'`, `file:hashes.'SHA-1'='da39a3ee5e6b4b0d3255bfef95601890afd80709'`}},
		{`([url:value = 'http://x/'])`, []string{`url:value='http://x/'`}},
		{`[a:b = 1 AND a:c = 2]`, nil},
		{`[a:b = 1] AND [a:c = 2]`, nil},
		{`[a:b = 1] WITHIN 5 SECONDS`, nil},
		{`[a:b != 1]`, nil},
		{`[a:b NOT = 1]`, nil},
		{`[a:b NOT IN (1)]`, nil},
		{`[a:b IN ()]`, nil},
		{`[a:b LIKE 'x']`, nil},
		{`[a:b = 1] FOLLOWEDBY [a:c = 2]`, nil},
	} {
		p, err := Parse(tc.src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.src, err)
		}
		eqs, ok := p.Equalities()
		if ok != (tc.want != nil) {
			t.Errorf("%s: ok = %v", tc.src, ok)
			continue
		}
		var got []string
		for _, e := range eqs {
			var vals []string
			for _, v := range e.Values {
				vals = append(vals, v.Raw)
			}
			got = append(got, e.Path.String()+"="+strings.Join(vals, ","))
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.src, d)
		}
	}
}

func TestPatternInspect(t *testing.T) {
	p, err := Parse(`([a:b = 1] AND [c:d NOT != 'x'] WITHIN 5 SECONDS) FOLLOWEDBY [a:e IN (1,2)] REPEATS 2 TIMES`)
	if err != nil {
		t.Fatal(err)
	}
	want := Inspection{
		Qualifiers:     []string{"REPEATS 2 TIMES", "WITHIN 5 SECONDS"},
		ObservationOps: []string{"AND", "FOLLOWEDBY"},
		Comparisons: map[string][]ComparisonTuple{
			"a": {{Path: []any{"b"}, Op: "=", Literal: "1"}, {Path: []any{"e"}, Op: "IN", Literal: "(1,2)"}},
			"c": {{Path: []any{"d"}, Op: "NOT !=", Literal: "'x'"}},
		},
	}
	if d := cmp.Diff(want, p.Inspect()); d != "" {
		t.Errorf("Inspect (-want +got):\n%s", d)
	}
}
