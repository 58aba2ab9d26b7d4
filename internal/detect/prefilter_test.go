package detect

import (
	"regexp"
	"strings"
	"testing"
)

func TestRegexNeeds(t *testing.T) {
	tests := []struct {
		re   string
		want string // sets joined: "a|b;c" means (a or b) and c
	}{
		{`abc`, "abc"},
		{`(?i)ABC`, "abc"},
		{`a.*b`, "a;b"},
		{`(foo|bar)x`, "foo|bar;x"},
		{`(foo|.)x`, "x"},
		{`\d+`, ""},
		{`(set).*&&\s?set`, "set;&&;set"},
		{`x*y`, "y"},
		{`(ab){2,}`, "ab;ab"},
	}
	for _, tt := range tests {
		var parts []string
		for _, set := range regexNeeds(tt.re) {
			parts = append(parts, strings.Join(set, "|"))
		}
		if got := strings.Join(parts, ";"); got != tt.want {
			t.Errorf("regexNeeds(%q) = %q, want %q", tt.re, got, tt.want)
		}
	}
}

// FuzzRegexNeeds checks that the quick literal check never rejects a value
// the regular expression matches.
func FuzzRegexNeeds(f *testing.F) {
	f.Add(`(?i)(set).*&&\s?set`, "SET x && set y")
	f.Add(`a(b|cd)+e`, "xxabcdbe")
	f.Add(`\bK\b`, "\u212a")
	f.Add(`(?i)straße`, "STRASSE")
	f.Fuzz(func(t *testing.T, expr, value string) {
		re, err := regexp.Compile(expr)
		if err != nil {
			return
		}
		m := regexMatcher{re: re, need: regexNeeds(re.String())}
		st := &evState{vals: []evVal{{raw: []byte(value), next: -1}}}
		if re.MatchString(value) && !m.match(st, 0) {
			t.Fatalf("need %q rejects %q which %q matches", m.need, value, expr)
		}
	})
}

// TestPrefilterLiteralsSound checks on generated values that a rule's
// required literals occur whenever a glob matcher matches.
func TestGlobLiteralSound(t *testing.T) {
	e := &Engine{commonField: map[int32]bool{}}
	values := []string{`C:\Windows\System32\cmd.exe`, `powershell -enc AAAA`, `a*b`, `xx\yy`, "Ünïcode.EXE"}
	for _, pat := range []string{`*\cmd.exe`, `*-ENC*`, `a\*b`, `*\\yy`, `*ünï*`, `c:\*\system32\*`} {
		g := newGlobFromString(pat, false)
		n := &fieldNode{field: 0, matchers: []valueMatcher{g}, groups: []int{0}, nGroups: 1}
		lits, ok := e.requiredField(n)
		for _, v := range values {
			st := &evState{vals: []evVal{{raw: []byte(v), next: -1}}}
			if !g.match(st, 0) || !ok {
				continue
			}
			low := string(st.lowerOf(0))
			found := false
			for _, l := range lits {
				found = found || strings.Contains(low, l.text)
			}
			if !found {
				t.Errorf("pattern %q matches %q but none of %v occurs", pat, v, lits)
			}
		}
	}
}
