package linuxauth

import "strings"

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func trimSpaces(s string) string { return strings.TrimLeft(s, " \t") }

// nilDash is an RFC 5424 value as text: "" for the nil value "-".
func nilDash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// cutWord splits s at its first space; rest keeps what follows the space.
func cutWord(s string) (w, rest string) {
	w, rest, _ = strings.Cut(s, " ")
	return w, rest
}
