// Package ecs holds what every format parser writes the same way: times as
// records carry them and JSON strings for array-valued Elastic Common Schema
// fields (event.category, related.ip).
package ecs

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ParseTime reads a time as records carry it: RFC 3339 (with or without a
// zone, 'T' or space), or a Unix epoch number in seconds, milliseconds,
// microseconds or nanoseconds (told apart by magnitude).
func ParseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if c := s[0]; c >= '0' && c <= '9' && !strings.ContainsAny(s, "-:T ") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f <= 0 {
			return time.Time{}, false
		}
		switch {
		case f < 1e11:
			sec, frac := math.Modf(f)
			return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
		case f < 1e14:
			return time.UnixMilli(int64(f)).UTC(), true
		case f < 1e17:
			return time.UnixMicro(int64(f)).UTC(), true
		default:
			return time.Unix(0, int64(f)).UTC(), true
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
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
