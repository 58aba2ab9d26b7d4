package asa

import (
	"net/netip"
	"strings"

	"github.com/tarian-soc/tarian/internal/parse/ecs"
)

// word splits s at its first space, leading spaces skipped.
func word(s string) (w, rest string) {
	s = strings.TrimLeft(s, " ")
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// atoi reads a non-negative decimal that fits comfortably in an int.
func atoi(s string) (int, bool) {
	if !ecs.IsDigits(s) || len(s) > 18 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// number returns s as Elastic writes an integer field: decimal, no leading
// zeros; "" when s is not a number.
func number(s string) string {
	if !ecs.IsDigits(s) {
		return ""
	}
	if len(s) > 1 && s[0] == '0' {
		s = strings.TrimLeft(s, "0")
		if s == "" {
			return "0"
		}
	}
	if len(s) > 19 {
		return ""
	}
	return s
}

func isIP(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

// ifaceAddr splits "iface:addr" at the first colon: interface names hold
// none, IPv6 addresses do.
func ifaceAddr(s string) (iface, addr string) {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return "", s
}

// optIfaceAddr is ifaceAddr for places where the interface is optional:
// a bare IPv6 address is not split.
func optIfaceAddr(s string) (iface, addr string) {
	addrPart, _ := addrPort(s)
	if isIP(addrPart) {
		return "", s
	}
	return ifaceAddr(s)
}

// addrPort splits "addr/port" at the last slash.
func addrPort(s string) (addr, port string) {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// endpoint splits "iface:addr/port".
func endpoint(s string) (iface, addr, port string) {
	iface, rest := ifaceAddr(s)
	addr, port = addrPort(rest)
	return
}

// parenthesised returns the text between s's opening '(' and its matching
// ')', and what follows; ok is false when s does not start with '('.
func parenthesised(s string) (in, rest string, ok bool) {
	if !strings.HasPrefix(s, "(") {
		return "", s, false
	}
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return s[1:i], s[i+1:], true
			}
		}
	}
	return "", s, false
}

// hms reads a flow duration, "h:mm:ss" (any number of ':' groups) or
// "0h:05m:10s", as seconds.
func hms(s string) (int64, bool) {
	var total, cur int64
	seen := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			cur = cur*10 + int64(c-'0')
			seen = true
			if cur > 1e12 {
				return 0, false
			}
		case c == ':':
			total = (total + cur) * 60
			cur = 0
		case c == 'h' || c == 'm' || c == 's':
		default:
			return 0, false
		}
	}
	return total + cur, seen
}

// unquote strips one pair of surrounding single or double quotes.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// ianaNumbers maps protocol names to IANA numbers, as Elastic's pipeline
// does.
var ianaNumbers = map[string]string{
	"icmp": "1", "igmp": "2", "ipv4": "4", "tcp": "6", "egp": "8", "igp": "9",
	"pup": "12", "udp": "17", "rdp": "27", "irtp": "28", "dccp": "33", "idpr": "35",
	"ipv6": "41", "ipv6-route": "43", "ipv6-frag": "44", "rsvp": "46", "gre": "47",
	"esp": "50", "ipv6-icmp": "58", "ipv6-nonxt": "59", "ipv6-opts": "60",
}

// ianaNames is ianaNumbers reversed.
var ianaNames = func() map[string]string {
	m := make(map[string]string, len(ianaNumbers))
	for k, v := range ianaNumbers {
		m[v] = k
	}
	return m
}()

// lower returns s in lower case, without allocating when it already is.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
