package panos

import (
	"slices"
	"strings"

	"github.com/tarian-soc/tarian/internal/parse/ecs"
)

// splitCSV appends the columns of one PAN-OS CSV record to cols. A column
// in double quotes may hold commas and doubled quotes (""); an unquoted
// column in braces (PAN-OS's Link Switches, "{a,b,c}") may hold commas
// when its braces balance. Columns are substrings of s, except quoted ones
// with doubled quotes, which are copied once through buf.
func splitCSV(cols []string, s string, buf *[]byte) []string {
	for {
		if strings.HasPrefix(s, "\"") {
			v, rest, doubled := quotedColumn(s)
			if doubled {
				b := (*buf)[:0]
				for i := 0; i < len(v); i++ {
					b = append(b, v[i])
					if v[i] == '"' && i+1 < len(v) && v[i+1] == '"' {
						i++
					}
				}
				*buf = b
				v = string(b)
			}
			cols = append(cols, v)
			if rest == "" {
				return cols
			}
			s = rest[1:] // the comma
			continue
		}
		end := strings.IndexByte(s, ',')
		if strings.HasPrefix(s, "{") {
			if e := braceEnd(s); e > 0 {
				if c := strings.IndexByte(s[e:], ','); c >= 0 {
					end = e + c
				} else {
					end = -1
				}
			}
		}
		if end < 0 {
			return append(cols, s)
		}
		cols = append(cols, s[:end])
		s = s[end+1:]
	}
}

// quotedColumn reads a quoted column at the start of s: its text without
// the quotes, the rest of s from the comma after it ("" at the end), and
// whether the text holds doubled quotes. An unterminated quote takes the
// rest of s; text between the closing quote and the comma is kept.
func quotedColumn(s string) (v, rest string, doubled bool) {
	i := 1
	for i < len(s) {
		if s[i] == '"' {
			if i+1 < len(s) && s[i+1] == '"' {
				doubled = true
				i += 2
				continue
			}
			break
		}
		i++
	}
	if i >= len(s) { // no closing quote
		return s[1:], "", doubled
	}
	v = s[1:i]
	after := s[i+1:]
	c := strings.IndexByte(after, ',')
	if c < 0 {
		if after != "" {
			v = s[1:i] + after
		}
		return v, "", doubled
	}
	if c > 0 {
		v = s[1:i] + after[:c]
	}
	return v, after[c:], doubled
}

// braceEnd returns the offset after the '}' that closes the '{' at s[0],
// quotes respected, or -1.
func braceEnd(s string) int {
	depth, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case '{':
			if !quoted {
				depth++
			}
		case '}':
			if !quoted {
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
	}
	return -1
}

// mac writes a MAC address as Elastic does: separators '-', upper case.
func mac(v string) string {
	b := make([]byte, len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == ':' || c == '.':
			c = '-'
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		b[i] = c
	}
	return string(b)
}

// jsonSet returns the non-empty, distinct values as a JSON array text, or
// "" when there are none.
func (p *Parser) jsonSet(vs ...string) string {
	b, ok := ecs.AppendJSONSet(p.buf[:0], vs...)
	p.buf = b
	if !ok {
		return ""
	}
	return string(b)
}

// splitList returns a comma-separated list as a JSON array text.
func (p *Parser) splitList(s string) string {
	b := append(p.buf[:0], '[')
	for i := 0; s != ""; i++ {
		part, rest, _ := strings.Cut(s, ",")
		if i > 0 {
			b = append(b, ',')
		}
		b = ecs.AppendJSONString(b, strings.TrimSpace(part))
		s = rest
	}
	b = append(b, ']')
	p.buf = b
	return string(b)
}

// jsonSetOrOne is jsonSet, but a single value stays plain text.
func (p *Parser) jsonSetOrOne(vs ...string) string {
	var one string
	n := 0
	for i, v := range vs {
		if v != "" && !slices.Contains(vs[:i], v) {
			one = v
			n++
		}
	}
	if n == 1 {
		return one
	}
	return p.jsonSet(vs...)
}
