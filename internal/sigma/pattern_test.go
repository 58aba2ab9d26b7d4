package sigma

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePattern(t *testing.T) {
	lit := func(s string) Token { return Token{Kind: TokLit, Text: s} }
	star, one := Token{Kind: TokStar}, Token{Kind: TokOne}
	tests := []struct {
		in   string
		want Pattern
	}{
		{"", nil},
		{"abc", Pattern{lit("abc")}},
		{"*abc*", Pattern{star, lit("abc"), star}},
		{"a?c", Pattern{lit("a"), one, lit("c")}},
		{`a\*b`, Pattern{lit("a*b")}},
		{`a\?b`, Pattern{lit("a?b")}},
		{`C:\Windows\`, Pattern{lit(`C:\Windows\`)}},
		{`C:\\*`, Pattern{lit(`C:\`), star}},
		{`\\\*`, Pattern{lit(`\*`)}},
		{"**a", Pattern{star, lit("a")}},
	}
	for _, tt := range tests {
		got := ParsePattern(tt.in)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParsePattern(%q) (-want +got):\n%s", tt.in, diff)
		}
		// String must round-trip.
		if back := ParsePattern(got.String()); !cmp.Equal(got, back) {
			t.Errorf("ParsePattern(%q).String() = %q does not round-trip", tt.in, got.String())
		}
	}
}

func TestBase64Offsets(t *testing.T) {
	// The three encodings of "ping" at offsets 0, 1, 2 inside a longer text,
	// as the Sigma specification lists them.
	got := base64Offsets("ping")
	want := []string{"cGluZ", "Bpbm", "waW5n"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("base64Offsets (-want +got):\n%s", diff)
	}
}

func TestWindash(t *testing.T) {
	got, ok := windash(ParsePattern(" -exec a-b /c"))
	if !ok {
		t.Fatal("windash refused")
	}
	var strs []string
	for _, p := range got {
		strs = append(strs, p.String())
	}
	if len(strs) != 25 {
		t.Fatalf("got %d variants, want 25: %q", len(strs), strs)
	}
	for _, want := range []string{" -exec a-b /c", " /exec a-b -c", " \u2013exec a-b \u2015c"} {
		found := false
		for _, s := range strs {
			found = found || s == want
		}
		if !found {
			t.Errorf("missing variant %q", want)
		}
	}
}

func TestEncodeUTF16(t *testing.T) {
	if got := encodeUTF16("ab", false, false); got != "a\x00b\x00" {
		t.Errorf("utf16le = %q", got)
	}
	if got := encodeUTF16("ab", true, false); got != "\x00a\x00b" {
		t.Errorf("utf16be = %q", got)
	}
	if got := encodeUTF16("a", false, true); got != "\xff\xfea\x00" {
		t.Errorf("utf16 = %q", got)
	}
}

func TestParseExpandPattern(t *testing.T) {
	lit := func(s string) Token { return Token{Kind: TokLit, Text: s} }
	ph := func(s string) Token { return Token{Kind: TokPlaceholder, Text: s} }
	star := Token{Kind: TokStar}
	tests := []struct {
		in   string
		want Pattern
	}{
		{"%admins%", Pattern{ph("admins")}},
		// The specification's example: \%plain%name% is the text %plain,
		// then the placeholder name.
		{`\%plain%name%`, Pattern{lit("%plain"), ph("name")}},
		{`\%plain%admins%`, Pattern{lit("%plain"), ph("admins")}},
		{`CORP\%x%`, Pattern{lit("CORP%x%")}},
		{`CORP\\%x%`, Pattern{lit(`CORP\`), ph("x")}},
		{`a\%b\%c`, Pattern{lit("a%b%c")}},
		{"*%dc%*", Pattern{star, ph("dc"), star}},
		{`%a%\*%b%`, Pattern{ph("a"), lit("*"), ph("b")}},
		{"100%", Pattern{lit("100%")}},
		// A backslash before a placeholder must itself be escaped.
		{`C:\Users\%name%`, Pattern{lit(`C:\Users%name%`)}},
		{`C:\Users\\%name%\\*`, Pattern{lit(`C:\Users\`), ph("name"), lit(`\`), star}},
		{"no placeholder", Pattern{lit("no placeholder")}},
	}
	for _, tt := range tests {
		got := ParseExpandPattern(tt.in)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseExpandPattern(%q) (-want +got):\n%s", tt.in, diff)
		}
		// String renders a pattern with placeholders as an |expand value,
		// one without as a plain value.
		parse := ParsePattern
		if got.HasPlaceholders() {
			parse = ParseExpandPattern
		}
		if back := parse(got.String()); !cmp.Equal(got, back) {
			t.Errorf("ParseExpandPattern(%q).String() = %q does not round-trip: %v", tt.in, got.String(), back)
		}
	}
}

func TestExpandValues(t *testing.T) {
	doc := "title: t\ndetection:\n  sel:\n    A|expand: '\\%plain%admins%'\n    B: '\\%plain%admins%'\n    C|expand|contains: '%dc%'\n  condition: sel\n"
	rules, err := Parse("x.yml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range rules[0].Detection.Searches["sel"].Alternatives[0] {
		for _, v := range m.Values {
			got = append(got, fmt.Sprintf("%s %q %v", m.Field, v.Pattern.String(), v.Pattern.HasPlaceholders()))
		}
	}
	want := []string{
		`A "\\%plain%admins%" true`,
		// Without expand, % and the backslash are plain text.
		`B "\\%plain%admins%" false`,
		`C "*%dc%*" true`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	for _, mod := range []string{"base64", "base64offset|contains", "wide", "utf16"} {
		doc := "title: t\ndetection:\n  sel:\n    A|expand|" + mod + ": '%dc%'\n  condition: sel\n"
		if _, err := Parse("x.yml", []byte(doc)); err == nil || !strings.Contains(err.Error(), "with a placeholder") {
			t.Errorf("expand|%s of a placeholder: error %v, want one about the placeholder", mod, err)
		}
	}
}
