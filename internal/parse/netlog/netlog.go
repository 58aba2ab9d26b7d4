package netlog

import (
	"net/netip"
	"strings"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
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
		b = ecs.AppendJSONString(b, v)
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
		b = ecs.AppendJSONString(b, v)
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
