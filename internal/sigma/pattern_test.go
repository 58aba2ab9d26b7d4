package sigma

import (
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
