package kv

import "strings"

// Default bytes of a Scanner whose fields are zero.
const (
	DefaultSep    = ' '
	DefaultAssign = '='
	DefaultQuote  = '"'
	DefaultEscape = '\\'
)

// Scanner reads key=value pairs from a string. Set the fields (or leave
// them zero for the defaults), call Reset with the text, then Next until it
// returns false:
//
//	var s kv.Scanner
//	s.Reset(line)
//	for s.Next() {
//		use(s.Key(), kv.Unquote(s.Value(), '"'))
//	}
//
// Key and Value are substrings of the text: nothing is copied. A Scanner
// is not safe for concurrent use; it may be reused for any number of texts.
type Scanner struct {
	// Sep separates pairs; runs of it count as one. Default ' '.
	Sep byte
	// Assign separates a key from its value. Default '='.
	Assign byte
	// Quote opens and closes a quoted stretch. Default '"'.
	Quote byte
	// Escape makes the next byte plain. Default '\\'.
	Escape byte
	// NoEscape turns escapes off: every Escape byte is plain text.
	NoEscape bool

	data    string
	pos     int
	start   int // token bounds in data
	end     int
	assign  int // offset of the first unquoted Assign in data
	assigns int
}

// Reset starts scanning data from its beginning.
func (s *Scanner) Reset(data string) {
	if s.Sep == 0 {
		s.Sep = DefaultSep
	}
	if s.Assign == 0 {
		s.Assign = DefaultAssign
	}
	if s.Quote == 0 {
		s.Quote = DefaultQuote
	}
	if s.Escape == 0 {
		s.Escape = DefaultEscape
	}
	s.data, s.pos = data, 0
	s.start, s.end, s.assign, s.assigns = 0, 0, -1, 0
}

// Next advances to the next token that holds an unquoted assignment and
// reports whether there was one. Tokens without one are skipped.
func (s *Scanner) Next() bool {
	d := s.data
	sep, quote, assign := s.Sep, s.Quote, s.Assign
	esc := s.Escape
	if s.NoEscape {
		esc = quote // never reached: a quote is tested first
	}
	for s.pos < len(d) {
		for s.pos < len(d) && d[s.pos] == sep {
			s.pos++
		}
		if s.pos >= len(d) {
			break
		}
		s.start = s.pos
		s.assign, s.assigns = -1, 0
		i := s.pos
	token:
		for i < len(d) {
			c := d[i]
			switch c {
			case sep:
				break token
			case quote:
				// Inside quotes only the closing quote and escapes matter.
				i++
				for i < len(d) {
					c = d[i]
					if c == quote {
						break
					}
					if c == esc && !s.NoEscape {
						i++
					}
					i++
				}
			case assign:
				if s.assign < 0 {
					s.assign = i
				}
				s.assigns++
			case esc:
				if !s.NoEscape {
					i++
				}
			}
			i++
		}
		if i > len(d) { // an escape or an open quote at the very end
			i = len(d)
		}
		s.end, s.pos = i, i
		if s.assigns > 0 {
			return true
		}
	}
	s.start, s.end, s.assign, s.assigns = len(d), len(d), -1, 0
	return false
}

// Token is the whole current token, key and value.
func (s *Scanner) Token() string { return s.data[s.start:s.end] }

// Key is the text before the token's first unquoted assignment. It may be
// empty ("=x").
func (s *Scanner) Key() string {
	if s.assign < 0 {
		return ""
	}
	return s.data[s.start:s.assign]
}

// Value is the raw text after the token's first unquoted assignment,
// quotes and escapes kept. It may be empty ("k=") and may hold further
// assignments ("k=a=b"; see Assigns).
func (s *Scanner) Value() string {
	if s.assign < 0 {
		return ""
	}
	return s.data[s.assign+1 : s.end]
}

// Assigns is the number of unquoted assignment bytes in the token: 1 for a
// well-formed pair.
func (s *Scanner) Assigns() int { return s.assigns }

// Offset is the byte offset of the current token in the text.
func (s *Scanner) Offset() int { return s.start }

// Unquote strips one quote byte from the start of v and one from its end,
// each only where present: `"a b"` → `a b`, `"a` → `a`, `a"` → `a`.
// Escapes inside are kept.
func Unquote(v string, quote byte) string {
	if len(v) > 0 && v[0] == quote {
		v = v[1:]
	}
	if len(v) > 0 && v[len(v)-1] == quote {
		v = v[:len(v)-1]
	}
	return v
}

// AppendUnescaped appends v to dst with each escape byte removed and the
// byte after it kept: `a\"b\\c` → `a"b\c`. An escape at the very end is
// kept.
func AppendUnescaped(dst []byte, v string, escape byte) []byte {
	for i := 0; i < len(v); i++ {
		if v[i] == escape && i+1 < len(v) {
			i++
		}
		dst = append(dst, v[i])
	}
	return dst
}

// HasEscape reports whether v holds the escape byte, that is whether
// AppendUnescaped may change it.
func HasEscape(v string, escape byte) bool {
	return strings.IndexByte(v, escape) >= 0
}
