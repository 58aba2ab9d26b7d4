// Package jsonstr writes JSON strings, as the receivers build the JSON
// records they put on the bus: quotes, backslashes and control characters
// escaped, everything else (U+2028 included) as it is, and each byte that
// is not UTF-8 as U+FFFD, which the caller is told about (a receiver may
// then keep the exact bytes beside, or refuse the record).
package jsonstr

import (
	"unicode/utf8"
	"unsafe"
)

const hexDigits = "0123456789abcdef"

// plain marks the bytes a JSON string holds as they are.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// Append appends s to dst as a JSON string. ok is false when s is not
// valid UTF-8: each byte that is not became U+FFFD.
func Append(dst []byte, s string) (out []byte, ok bool) {
	ok = true
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			ok = false
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"'), ok
}

// AppendBytes is Append of a byte slice, read in place (not copied).
func AppendBytes(dst, s []byte) (out []byte, ok bool) {
	return Append(dst, unsafe.String(unsafe.SliceData(s), len(s)))
}
