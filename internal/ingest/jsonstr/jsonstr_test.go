package jsonstr

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppend(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"", `""`, true},
		{"plain text", `"plain text"`, true},
		{"q\"b\\n\nr\rt\t\x01\x1f", `"q\"b\\n\nr\rt\t\u0001\u001f"`, true},
		{"café \u2028 ✓", "\"café \u2028 ✓\"", true},
		{"bad \xff byte", `"bad \ufffd byte"`, false},
		{"cut \xe2\x82", `"cut \ufffd\ufffd"`, false},
	} {
		got, ok := Append([]byte("x"), c.in)
		if string(got) != "x"+c.want || ok != c.ok {
			t.Errorf("Append(%q) = %s, %v; want %s, %v", c.in, got, ok, c.want, c.ok)
		}
		if got, ok := AppendBytes(nil, []byte(c.in)); string(got) != c.want || ok != c.ok {
			t.Errorf("AppendBytes(%q) = %s, %v", c.in, got, ok)
		}
	}
}

// FuzzAppend: the output is JSON that decodes to the input (with U+FFFD
// for bytes that are not UTF-8).
func FuzzAppend(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00\x7f\xff", "é\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, ok := Append(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("Append(%q) = %s: not JSON: %v", s, b, err)
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); ok && back != s || !ok && utf8.ValidString(s) {
			t.Fatalf("Append(%q) = %s, ok %v (decodes to %q, want %q)", s, b, ok, back, want)
		}
	})
}
