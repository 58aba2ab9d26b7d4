package stixpattern

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tInt
	tFloat
	tString
	tBool
	tBinary
	tHex
	tTimestamp
	// keywords
	tAND
	tOR
	tNOT
	tFOLLOWEDBY
	tLIKE
	tMATCHES
	tISSUPERSET
	tISSUBSET
	tEXISTS
	tLAST
	tIN
	tSTART
	tSTOP
	tSECONDS
	tWITHIN
	tREPEATS
	tTIMES
	// punctuation
	tEQ
	tNEQ
	tLT
	tLE
	tGT
	tGE
	tColon
	tDot
	tComma
	tLParen
	tRParen
	tLBrack
	tRBrack
	tPlus
	tMinus
	tPower
	tDivide
	tAsterisk
)

var keywords = map[string]tokKind{
	"AND": tAND, "OR": tOR, "NOT": tNOT, "FOLLOWEDBY": tFOLLOWEDBY,
	"LIKE": tLIKE, "MATCHES": tMATCHES, "ISSUPERSET": tISSUPERSET,
	"ISSUBSET": tISSUBSET, "EXISTS": tEXISTS, "LAST": tLAST, "IN": tIN,
	"START": tSTART, "STOP": tSTOP, "SECONDS": tSECONDS, "WITHIN": tWITHIN,
	"REPEATS": tREPEATS, "TIMES": tTIMES, "true": tBool, "false": tBool,
}

type token struct {
	kind   tokKind
	text   string
	pos    int  // byte offset
	hyphen bool // identifier contains '-'
}

// SyntaxError is a pattern that does not parse or does not validate. Line
// and Column (0-based, in characters, as ANTLR reports them) locate the
// problem when it has a position.
type SyntaxError struct {
	Line, Column int
	HasPos       bool
	Msg          string
}

func (e *SyntaxError) Error() string {
	if !e.HasPos {
		return e.Msg
	}
	return fmt.Sprintf("line %d:%d: %s", e.Line, e.Column, e.Msg)
}

func errAt(src string, pos int, format string, args ...any) *SyntaxError {
	if pos > len(src) {
		pos = len(src)
	}
	line, col := 1, 0
	for _, r := range src[:pos] {
		if r == '\n' {
			line++
			col = 0
		} else {
			col++
		}
	}
	return &SyntaxError{Line: line, Column: col, HasPos: true, Msg: fmt.Sprintf(format, args...)}
}

func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\r', '\n', '\v', '\f', 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
func isIdentChar(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '-' }

// lex splits src into tokens, ending with tEOF.
func lex(src string) ([]token, error) {
	toks := make([]token, 0, len(src)/4+2)
	i := 0
	for i < len(src) {
		r, size := utf8.DecodeRuneInString(src[i:])
		if isSpace(r) {
			i += size
			continue
		}
		c := src[i]
		if c == '/' && i+1 < len(src) && src[i+1] == '*' {
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, errAt(src, i, "unterminated comment")
			}
			i += end + 4
			continue
		}
		if c == '/' && i+1 < len(src) && src[i+1] == '/' {
			for i < len(src) && src[i] != '\n' && src[i] != '\r' {
				i++
			}
			continue
		}
		start := i
		emit := func(k tokKind, end int) {
			toks = append(toks, token{kind: k, text: src[start:end], pos: start})
			i = end
		}
		switch {
		case (c == 'h' || c == 'b' || c == 't') && i+1 < len(src) && src[i+1] == '\'':
			end, err := lexPrefixed(src, i)
			if err != nil {
				return nil, err
			}
			k := tTimestamp
			switch c {
			case 'h':
				k = tHex
			case 'b':
				k = tBinary
			}
			emit(k, end)
		case isIdentStart(c):
			j := i + 1
			hyphen := false
			for j < len(src) && isIdentChar(src[j]) {
				hyphen = hyphen || src[j] == '-'
				j++
			}
			k := tIdent
			if kw, ok := keywords[src[i:j]]; ok {
				k = kw
			}
			emit(k, j)
			toks[len(toks)-1].hyphen = hyphen
		case isDigit(c) || c == '.' && i+1 < len(src) && isDigit(src[i+1]),
			(c == '+' || c == '-') && i+1 < len(src) && (isDigit(src[i+1]) || src[i+1] == '.' && i+2 < len(src) && isDigit(src[i+2])):
			k, end := lexNumber(src, i)
			emit(k, end)
		case c == '\'':
			end, err := lexString(src, i)
			if err != nil {
				return nil, err
			}
			emit(tString, end)
		default:
			two := ""
			if i+1 < len(src) {
				two = src[i : i+2]
			}
			switch two {
			case "==":
				emit(tEQ, i+2)
				continue
			case "!=", "<>":
				emit(tNEQ, i+2)
				continue
			case "<=":
				emit(tLE, i+2)
				continue
			case ">=":
				emit(tGE, i+2)
				continue
			}
			k := punct(c)
			if k == tEOF {
				return nil, errAt(src, i, "extraneous input '%s'", string(r))
			}
			emit(k, i+1)
		}
	}
	toks = append(toks, token{kind: tEOF, text: "<EOF>", pos: len(src)})
	return toks, nil
}

// punct returns the token of a one-character punctuation, tEOF if c is
// not one.
func punct(c byte) tokKind {
	switch c {
	case '=':
		return tEQ
	case '<':
		return tLT
	case '>':
		return tGT
	case ':':
		return tColon
	case '.':
		return tDot
	case ',':
		return tComma
	case '(':
		return tLParen
	case ')':
		return tRParen
	case '[':
		return tLBrack
	case ']':
		return tRBrack
	case '+':
		return tPlus
	case '-':
		return tMinus
	case '^':
		return tPower
	case '/':
		return tDivide
	case '*':
		return tAsterisk
	}
	return tEOF
}

// lexNumber scans an IntPos/IntNeg/FloatPos/FloatNeg literal at i.
func lexNumber(src string, i int) (tokKind, int) {
	j := i
	if src[j] == '+' || src[j] == '-' {
		j++
	}
	d := j
	for j < len(src) && isDigit(src[j]) {
		j++
	}
	if j+1 < len(src) && src[j] == '.' && isDigit(src[j+1]) {
		j++
		for j < len(src) && isDigit(src[j]) {
			j++
		}
		return tFloat, j
	}
	// An integer literal has no leading zeros: "0123" is "0" then "123".
	if src[d] == '0' {
		return tInt, d + 1
	}
	return tInt, j
}

// lexString scans a quoted string literal at i (which is the quote).
func lexString(src string, i int) (int, error) {
	j := i + 1
	for j < len(src) {
		switch src[j] {
		case '\'':
			return j + 1, nil
		case '\\':
			if j+1 < len(src) && (src[j+1] == '\\' || src[j+1] == '\'') {
				j += 2
				continue
			}
			return 0, errAt(src, j, "invalid escape in string literal: only \\\\ and \\' are allowed")
		}
		j++
	}
	return 0, errAt(src, i, "unterminated string literal")
}

// lexPrefixed scans h'..', b'..' or t'..' at i and checks its content
// against the grammar.
func lexPrefixed(src string, i int) (int, error) {
	end := strings.IndexByte(src[i+2:], '\'')
	if end < 0 {
		return 0, errAt(src, i, "unterminated %c'' literal", src[i])
	}
	body := src[i+2 : i+2+end]
	var ok bool
	var what string
	switch src[i] {
	case 'h':
		ok, what = validHex(body), "hex literal (pairs of hex digits)"
	case 'b':
		ok, what = validBase64(body), "binary literal (base64)"
	default:
		ok, what = validTimestamp(body), "timestamp literal (YYYY-MM-DDTHH:MM:SS[.s]Z)"
	}
	if !ok {
		return 0, errAt(src, i, "invalid %s %q", what, src[i:i+3+end])
	}
	return i + 3 + end, nil
}

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func validHex(s string) bool {
	if len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

func isB64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || isDigit(c) || c == '+' || c == '/'
}

// validBase64 follows the grammar: one or more groups of four, the last of
// which may end in "=" or "==".
func validBase64(s string) bool {
	if len(s) == 0 || len(s)%4 != 0 {
		return false
	}
	pad := 0
	if strings.HasSuffix(s, "==") {
		pad = 2
	} else if strings.HasSuffix(s, "=") {
		pad = 1
	}
	for i := 0; i < len(s)-pad; i++ {
		if !isB64(s[i]) {
			return false
		}
	}
	return true
}

// validTimestamp follows the grammar's TimestampLiteral: the ranges of
// each field are checked, not the calendar (2024-02-30 is accepted, as the
// reference validator does); 60 is a valid second (leap second).
func validTimestamp(s string) bool {
	// YYYY-MM-DDTHH:MM:SS[.fff]Z
	if len(s) < 20 || s[len(s)-1] != 'Z' {
		return false
	}
	for _, k := range []int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		if !isDigit(s[k]) {
			return false
		}
	}
	if s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return false
	}
	num := func(k int) int { return int(s[k]-'0')*10 + int(s[k+1]-'0') }
	mon, day, hour, min, sec := num(5), num(8), num(11), num(14), num(17)
	if mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60 {
		return false
	}
	frac := s[19 : len(s)-1]
	if frac == "" {
		return true
	}
	if frac[0] != '.' || len(frac) < 2 {
		return false
	}
	for k := 1; k < len(frac); k++ {
		if !isDigit(frac[k]) {
			return false
		}
	}
	return true
}
