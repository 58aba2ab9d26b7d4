package netlog

import (
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/tarian-soc/tarian/internal/event"
)

// ECSVersion is the Elastic Common Schema version of the fields written.
const ECSVersion = "8.17.0"

// out writes fields to the event being parsed.
type out struct {
	dst *event.Event
	buf []byte
}

func (o *out) begin(dst *event.Event) { o.dst = dst }
func (o *out) end()                   { o.dst = nil }

func (o *out) add(name, value string) {
	if value != "" {
		o.dst.Fields = append(o.dst.Fields, event.Field{Name: name, Value: value})
	}
}

// jsonSet returns the non-empty, distinct values as a JSON array text, or
// "" when there are none.
func (o *out) jsonSet(vs ...string) string {
	b := append(o.buf[:0], '[')
	n := 0
	for i, v := range vs {
		if v == "" || contains(vs[:i], v) {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, v)
		n++
	}
	if n == 0 {
		return ""
	}
	b = append(b, ']')
	o.buf = b
	return string(b)
}

// jsonList returns vs as a JSON array text.
func (o *out) jsonList(vs []string) string {
	b := append(o.buf[:0], '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, v)
	}
	b = append(b, ']')
	o.buf = b
	return string(b)
}

func contains(vs []string, v string) bool {
	for _, w := range vs {
		if w == v {
			return true
		}
	}
	return false
}

func isIP(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// number returns s as a decimal integer without leading zeros, or "".
func number(s string) string {
	if !isDigits(s) || len(s) > 19 {
		return ""
	}
	if len(s) > 1 && s[0] == '0' {
		s = strings.TrimLeft(s, "0")
		if s == "" {
			return "0"
		}
	}
	return s
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
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
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}
