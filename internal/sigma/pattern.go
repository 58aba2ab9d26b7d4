package sigma

import (
	"encoding/base64"
	"strings"
	"unicode/utf16"
)

// TokenKind is the kind of one Pattern token.
type TokenKind uint8

// Pattern token kinds.
const (
	TokLit  TokenKind = iota // literal text
	TokStar                  // * : any run of characters, possibly empty
	TokOne                   // ? : exactly one character
	// TokPlaceholder is a %name% placeholder of an |expand value, to be
	// replaced by the values configured for name (Text, without the %).
	TokPlaceholder
)

// Token is one piece of a Pattern.
type Token struct {
	Kind TokenKind
	Text string // TokLit: the text; TokPlaceholder: the placeholder's name
}

// Pattern is a Sigma string value: literal text and unescaped wildcards.
// Adjacent literals are always merged and a Pattern never holds two
// consecutive stars.
type Pattern []Token

// ParsePattern reads a Sigma string value. '*' and '?' are wildcards; a
// backslash escapes a following '*', '?' or '\'; any other backslash is
// literal (so `C:\Windows\` needs no escaping).
func ParsePattern(s string) Pattern {
	var p Pattern
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p = append(p, Token{Kind: TokLit, Text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\') {
				lit.WriteByte(s[i+1])
				i++
			} else {
				lit.WriteByte(c)
			}
		case '*':
			flush()
			if len(p) == 0 || p[len(p)-1].Kind != TokStar {
				p = append(p, Token{Kind: TokStar})
			}
		case '?':
			flush()
			p = append(p, Token{Kind: TokOne})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return p
}

// ParseExpandPattern reads the value of an |expand modifier: as
// ParsePattern, and %name% is a placeholder (TokPlaceholder) unless its
// first '%' is escaped: `\%` is a plain percent sign, so
// `\%plain%name%` is the text "%plain" then the placeholder name. A '%'
// with no closing one is plain text.
func ParseExpandPattern(s string) Pattern {
	var p Pattern
	var lit strings.Builder
	flushLit := func() {
		if lit.Len() > 0 {
			p = append(p, ParsePattern(lit.String())...)
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s) && s[i+1] == '\\':
			lit.WriteString(`\\`) // an escaped backslash, for ParsePattern
			i++
		case c == '\\' && i+1 < len(s) && s[i+1] == '%':
			flushLit()
			p = appendLiteral(p, "%")
			i++
		case c == '%':
			j := strings.IndexByte(s[i+1:], '%')
			if j < 0 {
				lit.WriteByte(c)
				continue
			}
			flushLit()
			p = append(p, Token{Kind: TokPlaceholder, Text: s[i+1 : i+1+j]})
			i += j + 1
		default:
			lit.WriteByte(c)
		}
	}
	flushLit()
	// Merge the literals that escapes split.
	var out Pattern
	for _, t := range p {
		if t.Kind == TokLit {
			out = appendLiteral(out, t.Text)
		} else {
			out = append(out, t)
		}
	}
	return out
}

// appendLiteral appends text to p, merged into p's last token if that is a
// literal too.
func appendLiteral(p Pattern, text string) Pattern {
	if n := len(p); n > 0 && p[n-1].Kind == TokLit {
		p[n-1].Text += text
		return p
	}
	return append(p, Token{Kind: TokLit, Text: text})
}

// HasPlaceholders reports whether p holds an |expand placeholder.
func (p Pattern) HasPlaceholders() bool {
	for _, t := range p {
		if t.Kind == TokPlaceholder {
			return true
		}
	}
	return false
}

// Literal returns a pattern matching s exactly (no wildcards).
func Literal(s string) Pattern {
	if s == "" {
		return Pattern{}
	}
	return Pattern{{Kind: TokLit, Text: s}}
}

// HasWildcards reports whether p holds '*' or '?'.
func (p Pattern) HasWildcards() bool {
	for _, t := range p {
		if t.Kind == TokStar || t.Kind == TokOne {
			return true
		}
	}
	return false
}

// String renders p back in Sigma syntax, escaping as needed. A pattern
// with placeholders renders as an |expand value (ParseExpandPattern reads
// it back): a plain '%' is escaped.
func (p Pattern) String() string {
	expand := p.HasPlaceholders()
	var b strings.Builder
	for _, t := range p {
		switch t.Kind {
		case TokStar:
			b.WriteByte('*')
		case TokOne:
			b.WriteByte('?')
		case TokPlaceholder:
			b.WriteString("%" + t.Text + "%")
		default:
			for i := 0; i < len(t.Text); i++ {
				c := t.Text[i]
				if c == '*' || c == '?' || c == '%' && expand {
					b.WriteByte('\\')
				} else if c == '\\' && (i+1 == len(t.Text) || strings.IndexByte(`*?\\`, t.Text[i+1]) >= 0 || t.Text[i+1] == '%' && expand) {
					// A trailing backslash or one before another backslash would be read
					// as an escape only if followed by a special char; be explicit.
					b.WriteByte('\\')
				}
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}

// LiteralText returns the text of a pattern without wildcards.
func (p Pattern) LiteralText() string {
	var b strings.Builder
	for _, t := range p {
		b.WriteString(t.Text)
	}
	return b.String()
}

func (p Pattern) withStar(front, back bool) Pattern {
	out := make(Pattern, 0, len(p)+2)
	if front && (len(p) == 0 || p[0].Kind != TokStar) {
		out = append(out, Token{Kind: TokStar})
	}
	out = append(out, p...)
	if back && (len(out) == 0 || out[len(out)-1].Kind != TokStar) {
		out = append(out, Token{Kind: TokStar})
	}
	return out
}

// mapLiterals applies f to every literal token.
func (p Pattern) mapLiterals(f func(string) string) Pattern {
	out := make(Pattern, len(p))
	for i, t := range p {
		if t.Kind == TokLit {
			t.Text = f(t.Text)
		}
		out[i] = t
	}
	return out
}

func encodeUTF16(s string, bigEndian, bom bool) string {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u)+2)
	if bom {
		b = append(b, 0xFF, 0xFE)
	}
	for _, c := range u {
		if bigEndian {
			b = append(b, byte(c>>8), byte(c))
		} else {
			b = append(b, byte(c), byte(c>>8))
		}
	}
	return string(b)
}

// base64Offsets returns the three base64 encodings of s as it may appear at
// byte offsets 0, 1 and 2 inside a longer encoded text, with the characters
// that depend on the surrounding bytes removed.
func base64Offsets(s string) []string {
	startOffsets := [3]int{0, 2, 3}
	endOffsets := [3]int{0, -3, -2} // 0 means none
	out := make([]string, 0, 3)
	for i := 0; i < 3; i++ {
		enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat(" ", i) + s))
		start := startOffsets[i]
		end := len(enc)
		if e := endOffsets[(len(s)+i)%3]; e != 0 {
			end = len(enc) + e
		}
		if start > end {
			start = end
		}
		out = append(out, enc[start:end])
	}
	return out
}

// windashChars are the characters the windash modifier substitutes for a
// leading '-' or '/'.
var windashChars = [...]string{"-", "/", "\u2013", "\u2014", "\u2015"}

// maxWindashVariants caps the number of patterns one value expands to.
const maxWindashVariants = 625

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// windash expands every '-' or '/' that starts an option (not preceded by a
// word character, followed by one) into the dash variants Windows accepts.
func windash(p Pattern) ([]Pattern, bool) {
	// Positions are per literal token: (token index, byte offset).
	type pos struct{ tok, off int }
	var at []pos
	for ti, t := range p {
		if t.Kind != TokLit {
			continue
		}
		for i := 0; i < len(t.Text); i++ {
			c := t.Text[i]
			if c != '-' && c != '/' {
				continue
			}
			prevWord := false
			if i > 0 {
				prevWord = isWordByte(t.Text[i-1])
			} else if ti > 0 && p[ti-1].Kind == TokOne {
				prevWord = true
			}
			nextWord := i+1 < len(t.Text) && isWordByte(t.Text[i+1])
			if !prevWord && nextWord {
				at = append(at, pos{ti, i})
			}
		}
	}
	if len(at) == 0 {
		return []Pattern{p}, true
	}
	n := 1
	for range at {
		n *= len(windashChars)
		if n > maxWindashVariants {
			return nil, false
		}
	}
	out := make([]Pattern, 0, n)
	choice := make([]int, len(at))
	for {
		q := make(Pattern, len(p))
		copy(q, p)
		// Rebuild each touched token from the end so offsets stay valid.
		for k := len(at) - 1; k >= 0; k-- {
			t := q[at[k].tok]
			t.Text = t.Text[:at[k].off] + windashChars[choice[k]] + t.Text[at[k].off+1:]
			q[at[k].tok] = t
		}
		out = append(out, q)
		k := 0
		for k < len(choice) {
			choice[k]++
			if choice[k] < len(windashChars) {
				break
			}
			choice[k] = 0
			k++
		}
		if k == len(choice) {
			break
		}
	}
	return out, true
}
