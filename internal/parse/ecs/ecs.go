// Package ecs holds what every format parser writes the same way: times as
// records carry them and JSON strings for array-valued Elastic Common Schema
// fields (event.category, related.ip).
package ecs

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ParseTime reads a time as records carry it: RFC 3339 (with or without a
// zone, 'T' or space), or a Unix epoch number (Epoch).
func ParseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if c := s[0]; c >= '0' && c <= '9' && !strings.ContainsAny(s, "-:T ") {
		return Epoch(s)
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// Epoch reads a positive Unix epoch number's text in seconds,
// milliseconds, microseconds or nanoseconds, told apart by the magnitude
// of its integer part (below 1e11 seconds, 1e14 milliseconds, 1e17
// microseconds; a shipper's milliseconds are never read as seconds, 3,000
// years ahead). A decimal fraction is kept exactly, to the nanosecond; an
// exponent form is read as a float.
func Epoch(s string) (time.Time, bool) {
	ip, frac, _ := strings.Cut(s, ".")
	if !IsDigits(ip) || !IsDigits(frac) && frac != "" || len(ip) > 19 {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f <= 0 || f >= 1e19 || math.IsNaN(f) {
			return time.Time{}, false
		}
		ip, frac, _ = strings.Cut(strconv.FormatFloat(f, 'f', -1, 64), ".")
	}
	n, err := strconv.ParseInt(ip, 10, 64)
	if err != nil || n == 0 && strings.Trim(frac, "0") == "" {
		return time.Time{}, false
	}
	// per is the unit's count in a second; digits the fraction's digits
	// that reach a nanosecond.
	var per, digits int64
	switch {
	case n < 1e11:
		per, digits = 1, 9
	case n < 1e14:
		per, digits = 1e3, 6
	case n < 1e17:
		per, digits = 1e6, 3
	default:
		per, digits = 1e9, 0
	}
	var nsec int64
	for i := range digits {
		nsec *= 10
		if int(i) < len(frac) {
			nsec += int64(frac[i] - '0')
		}
	}
	return time.Unix(n/per, n%per*(1e9/per)+nsec).UTC(), true
}

// IsDigits reports whether s is one or more ASCII digits.
func IsDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// AppendJSONSet appends the non-empty, distinct values of vs to b as a JSON
// array text ("related.ip", "related.user"); with none it appends nothing
// and reports false.
func AppendJSONSet(b []byte, vs ...string) ([]byte, bool) {
	start, n := len(b), 0
	b = append(b, '[')
	for i, v := range vs {
		if v == "" || slices.Contains(vs[:i], v) {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, v)
		n++
	}
	if n == 0 {
		return b[:start], false
	}
	return append(b, ']'), true
}

// AppendJSONString appends s to b as a JSON string: quotes, backslashes
// and control characters escaped (\n, \r, \t, else \u00XX), invalid UTF-8
// as U+FFFD, nothing else (no HTML escaping). Format parsers build their
// array-valued fields (event.category, related.ip) with it.
func AppendJSONString[T ~string | ~[]byte](b []byte, s T) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		var rb [utf8.UTFMax]byte
		r, size := utf8.DecodeRune(rb[:copy(rb[:], s[i:])])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"
