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
	for _, s := range []string{"", "yesterday", "-5", "12:00", "0", "0.000", "1.2.3", "1e400"} {
		if _, ok := ParseTime(s); ok {
			t.Errorf("ParseTime(%q) succeeded", s)
		}
	}
}

// TestEpoch: an epoch number's unit by its magnitude, its fraction kept to
// the nanosecond, exactly (not through a float).
func TestEpoch(t *testing.T) {
	base := time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)
	for s, want := range map[string]time.Time{
		"1700000000.123456789":   base.Add(123456789),
		"1700000000.25":          base.Add(250 * time.Millisecond),
		"1700000000.1":           base.Add(100 * time.Millisecond),
		"1700000000123":          base.Add(123 * time.Millisecond),
		"1700000000123.456":      base.Add(123456 * time.Microsecond),
		"1700000000123456":       base.Add(123456 * time.Microsecond),
		"1700000000123456.7":     base.Add(123456700),
		"1700000000123456789":    base.Add(123456789),
		"1.7e9":                  base,
		"1.7e12":                 base,
		"99999999999":            time.Unix(99999999999, 0).UTC(),
		"100000000000":           time.UnixMilli(100000000000).UTC(),
		"0.5":                    time.Unix(0, 5e8).UTC(),
		"1700000000.00000000099": base,
	} {
		if got, ok := Epoch(s); !ok || !got.Equal(want) {
			t.Errorf("Epoch(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "0", "-1", "abc", "12a", "1.2.3", "NaN", "Inf", "99999999999999999999"} {
		if got, ok := Epoch(s); ok {
			t.Errorf("Epoch(%q) = %v, want refused", s, got)
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
