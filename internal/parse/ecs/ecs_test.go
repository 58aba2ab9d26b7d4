package ecs

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	want := time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)
	for _, s := range []string{"1700000000", "1700000000000", "1700000000000000", "1700000000000000000", "2023-11-14T22:13:20Z", "2023-11-14 22:13:20", "2023-11-14T23:13:20+01:00"} {
		got, ok := ParseTime(s)
		if !ok || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "yesterday", "-5", "12:00"} {
		if _, ok := ParseTime(s); ok {
			t.Errorf("ParseTime(%q) succeeded", s)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote\back`, "tab\tnl\ncr\r\x01\x1f", "héllo ✓ 𝄞", "bad\xffutf8", "<&>"} {
		b := AppendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q gave invalid JSON %s: %v", s, b, err)
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); got != want {
			t.Errorf("%q round-trips as %q", s, got)
		}
		if bb := AppendJSONString(nil, []byte(s)); string(bb) != string(b) {
			t.Errorf("[]byte and string forms differ: %s vs %s", bb, b)
		}
	}
	if got := string(AppendJSONString(nil, "<&>")); got != `"<&>"` {
		t.Errorf("HTML escaped: %s", got)
	}
}
