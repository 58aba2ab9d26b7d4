package kv

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pairs scans s and returns "key|value|assigns" for each pair.
func pairs(s *Scanner, text string) []string {
	var out []string
	s.Reset(text)
	for s.Next() {
		out = append(out, s.Key()+"|"+s.Value()+"|"+string(rune('0'+s.Assigns())))
	}
	return out
}

func TestScanner(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     []string
	}{
		{"plain", `a=1 b=2`, []string{"a|1|1", "b|2|1"}},
		{"runs of spaces", `  a=1    b=2  `, []string{"a|1|1", "b|2|1"}},
		{"quoted spaces", `msg="a b  c" n=1`, []string{`msg|"a b  c"|1`, "n|1|1"}},
		{"quoted assign", `u="x=y" n=1`, []string{`u|"x=y"|1`, "n|1|1"}},
		{"escaped quote stays inside", `f="a\"b c" n=1`, []string{`f|"a\"b c"|1`, "n|1|1"}},
		{"escaped space joins", `p=a\ b n=1`, []string{`p|a\ b|1`, "n|1|1"}},
		{"empty value", `a= b=2`, []string{"a||1", "b|2|1"}},
		{"empty quoted value", `a="" b=2`, []string{`a|""|1`, "b|2|1"}},
		{"empty key", `=v b=2`, []string{"|v|1", "b|2|1"}},
		{"two assigns", `url=/?a=b n=1`, []string{"url|/?a=b|2", "n|1|1"}},
		{"double assign", `k==v`, []string{"k|=v|2"}},
		{"header words skipped", `2026-04-03T00:31:09Z 192.168.2.1 date=2026-04-02`, []string{"date|2026-04-02|1"}},
		{"unclosed quote runs to end", `a="x y b=2`, []string{`a|"x y b=2|1`}},
		{"quote in the middle of a word", `ui=GUI("x y") n=1`, []string{`ui|GUI("x y")|1`, "n|1|1"}},
		{"trailing junk after quote", `msg="done"| n=1`, []string{`msg|"done"||1`, "n|1|1"}},
		{"escape at the end", `a=b\`, []string{`a|b\|1`}},
		{"no pairs", `just words here`, nil},
		{"empty", ``, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s Scanner
			if diff := cmp.Diff(c.want, pairs(&s, c.in)); diff != "" {
				t.Errorf("%q (-want +got):\n%s", c.in, diff)
			}
		})
	}
}

func TestScannerOptions(t *testing.T) {
	s := Scanner{Sep: ',', Assign: ':', Quote: '\'', NoEscape: true}
	got := pairs(&s, `a:1,b:'x,y',c:\'d`)
	want := []string{"a|1|1", "b|'x,y'|1", `c|\'d|1`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Reuse with the same options on other text.
	if got := pairs(&s, `z:9`); len(got) != 1 || got[0] != "z|9|1" {
		t.Errorf("reuse: %v", got)
	}
}

func TestTokenAndOffset(t *testing.T) {
	var s Scanner
	s.Reset(`x a=1 b="2 3"`)
	if !s.Next() || s.Token() != "a=1" || s.Offset() != 2 {
		t.Fatalf("first: token %q offset %d", s.Token(), s.Offset())
	}
	if !s.Next() || s.Token() != `b="2 3"` || s.Offset() != 6 {
		t.Fatalf("second: token %q offset %d", s.Token(), s.Offset())
	}
	if s.Next() || s.Key() != "" || s.Value() != "" {
		t.Fatalf("after the end: %q %q", s.Key(), s.Value())
	}
}

func TestUnquote(t *testing.T) {
	for in, want := range map[string]string{
		`"a b"`:    "a b",
		`"a`:       "a",
		`a"`:       "a",
		`a`:        "a",
		`""`:       "",
		`"`:        "",
		`"x\""`:    `x\"`,
		`"done"|`:  `done"|`,
		`"inner"x`: `inner"x`,
	} {
		if got := Unquote(in, '"'); got != want {
			t.Errorf("Unquote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAppendUnescaped(t *testing.T) {
	for in, want := range map[string]string{
		`a\"b`:  `a"b`,
		`a\\b`:  `a\b`,
		`plain`: `plain`,
		`end\`:  `end\`,
		`\=\n`:  `=n`,
	} {
		if got := string(AppendUnescaped(nil, in, '\\')); got != want {
			t.Errorf("AppendUnescaped(%q) = %q, want %q", in, got, want)
		}
		if HasEscape(in, '\\') != strings.Contains(in, `\`) {
			t.Errorf("HasEscape(%q) wrong", in)
		}
	}
}

// FuzzScanner: no input panics; every pair lies inside the text, in order,
// and the key ends at an assignment byte.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{
		`a=1 b="x y" c=\"d`, `msg="a\"b" k==v`, `"`, `=`, `\`, `a="`, `x y z`,
		`date=2026-04-02 time=17:31:09 devname="FG" msg="Admin \"x\" login"|`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var s Scanner
		s.Reset(in)
		last := -1
		for s.Next() {
			off := s.Offset()
			if off <= last || off+len(s.Token()) > len(in) || in[off:off+len(s.Token())] != s.Token() {
				t.Fatalf("token %q at %d out of place in %q", s.Token(), off, in)
			}
			last = off
			if s.Assigns() < 1 || s.Key()+"="+s.Value() != s.Token() {
				t.Fatalf("key %q value %q do not make token %q", s.Key(), s.Value(), s.Token())
			}
		}
		_ = AppendUnescaped(nil, Unquote(in, '"'), '\\')
	})
}
