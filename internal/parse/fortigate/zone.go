package fortigate

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"
)

// normalizeTZ rewrites the human forms of a FortiOS tz ("GMT+5:30",
// "UTC-08:00") as "+0530" and "-0800", as Elastic's pipeline does; other
// values come back unchanged.
func normalizeTZ(tz string) string {
	i := 0
	for i < len(tz) && i < 5 && tz[i] >= 'A' && tz[i] <= 'Z' {
		i++
	}
	if i == 0 || i > 4 || i >= len(tz) || (tz[i] != '+' && tz[i] != '-') {
		return tz
	}
	sign, r := tz[i], tz[i+1:]
	var hh, mm string
	switch {
	case len(r) == 4 && r[1] == ':' && digits(r[:1]) && digits(r[2:]): // 5:30
		hh, mm = "0"+r[:1], r[2:]
	case len(r) == 3 && digits(r): // 530
		hh, mm = "0"+r[:1], r[1:]
	case len(r) == 5 && r[2] == ':' && digits(r[:2]) && digits(r[3:]): // 05:30
		hh, mm = r[:2], r[3:]
	case len(r) == 4 && digits(r): // 0530
		hh, mm = r[:2], r[2:]
	default:
		return tz
	}
	return string(sign) + hh + mm
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// zoneNames maps the zone abbreviations Java's date parser takes for the
// places FortiGates log them in.
var zoneNames = map[string]string{
	"EST": "America/New_York", "EDT": "America/New_York",
	"CST": "America/Chicago", "CDT": "America/Chicago",
	"MST": "America/Denver", "MDT": "America/Denver",
	"PST": "America/Los_Angeles", "PDT": "America/Los_Angeles",
	"BST": "Europe/London", "CET": "Europe/Paris", "CEST": "Europe/Paris",
}

// zone turns a normalized tz into a location: "+0200", "-07:00", "Z",
// "UTC", "GMT", an IANA name or one of a few abbreviations. ok is false
// for anything else.
func (p *Parser) zone(tz string) (*time.Location, bool) {
	switch tz {
	case "Z", "UTC", "GMT", "UT", "+0000", "-0000", "+00:00", "+00":
		return time.UTC, true
	}
	if l, ok := p.zones[tz]; ok {
		return l, l != nil
	}
	if len(tz) >= 3 && (tz[0] == '+' || tz[0] == '-') {
		r := strings.ReplaceAll(tz[1:], ":", "")
		if len(r) == 2 {
			r += "00"
		}
		if len(r) == 4 && digits(r) {
			h, _ := strconv.Atoi(r[:2])
			m, _ := strconv.Atoi(r[2:])
			off := h*3600 + m*60
			if tz[0] == '-' {
				off = -off
			}
			if h <= 18 && m < 60 {
				l := time.FixedZone(tz, off)
				p.cacheZone(tz, l)
				return l, true
			}
		}
		return nil, false
	}
	name := tz
	if n, ok := zoneNames[tz]; ok {
		name = n
	}
	l, err := time.LoadLocation(name)
	if err != nil || name == "" || name == "Local" {
		l = nil
	}
	p.cacheZone(tz, l)
	return l, l != nil
}

// cacheZone remembers the location of a tz value (nil: unknown), for at
// most 256 values.
func (p *Parser) cacheZone(tz string, l *time.Location) {
	if p.zones == nil {
		p.zones = make(map[string]*time.Location)
	}
	if len(p.zones) < 256 {
		p.zones[strings.Clone(tz)] = l
	}
}

// uriParts splits a URL into url.* as Elastic's uri_parts processor does
// (keep_original off). It reports false, setting nothing, for text that
// Java's URI and URL parsers both refuse.
func (p *Parser) uriParts(v string) bool {
	if !javaURI(v) && !hasURLScheme(v) {
		return false
	}
	u, err := url.Parse(v)
	if err != nil {
		return false
	}
	if u.Scheme != "" {
		p.put1(fURLScheme, u.Scheme)
	}
	if h := u.Hostname(); h != "" {
		p.put1(fURLDomain, h)
	}
	if port := u.Port(); port != "" {
		if n, ok := long(port); ok {
			p.put1(fURLPort, n)
		}
	}
	if u.Opaque == "" && u.Path != "" {
		p.put1(fURLPath, u.Path)
		if i := strings.LastIndexByte(u.Path, '.'); i >= 0 {
			p.put1(fURLExtension, u.Path[i+1:])
		}
	}
	if u.RawQuery != "" {
		q, err := url.PathUnescape(u.RawQuery)
		if err != nil {
			q = u.RawQuery
		}
		p.put1(fURLQuery, q)
	}
	if u.Fragment != "" {
		p.put1(fURLFragment, u.Fragment)
	}
	if u.User != nil {
		p.put1(fURLUsername, u.User.Username())
		if pw, ok := u.User.Password(); ok {
			p.put1(fURLPassword, pw)
		}
	}
	return true
}

// javaURI reports whether java.net.URI would take s: no spaces, no
// characters outside its grammar, every '%' followed by two hex digits,
// square brackets only around an IPv6 host.
func javaURI(s string) bool {
	if s == "" {
		return false
	}
	authEnd := -1
	if i := strings.Index(s, "//"); i >= 0 {
		rest := s[i+2:]
		j := strings.IndexAny(rest, "/?#")
		if j < 0 {
			j = len(rest)
		}
		authEnd = i + 2 + j
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= ' ' || c == 0x7f:
			return false
		case strings.IndexByte("\"<>\\^`{|}", c) >= 0:
			return false
		case c == '[' || c == ']':
			if i >= authEnd {
				return false
			}
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// hasURLScheme reports whether java.net.URL would take s: it knows http,
// https, ftp, file and jar.
func hasURLScheme(s string) bool {
	for _, p := range [...]string{"http://", "https://", "ftp://", "file:", "jar:"} {
		if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
			return !strings.ContainsAny(s, "\x00\r\n")
		}
	}
	return false
}

// registeredDomain splits a DNS name at its public suffix (ICANN section
// of the Public Suffix List), as Elastic's registered_domain processor
// does.
func (p *Parser) registeredDomain(name string) {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if name == "" || strings.ContainsAny(name, " /:") {
		return
	}
	suffix := icannSuffix(name)
	if suffix == "" || suffix == name || !strings.HasSuffix(name, "."+suffix) {
		return
	}
	rest := name[:len(name)-len(suffix)-1]
	label := rest
	sub := ""
	if i := strings.LastIndexByte(rest, '.'); i >= 0 {
		label, sub = rest[i+1:], rest[:i]
	}
	if label == "" {
		return
	}
	p.put1(fDNSRegisteredDomain, label+"."+suffix)
	p.put1(fDNSTopLevelDomain, suffix)
	if sub != "" {
		p.put1(fDNSSubdomain, sub)
	}
}

// icannSuffix is the public suffix of name from the ICANN section of the
// list, skipping privately registered suffixes.
func icannSuffix(name string) string {
	s := name
	for {
		suffix, icann := publicsuffix.PublicSuffix(s)
		if icann || !strings.Contains(suffix, ".") {
			return suffix
		}
		s = suffix[strings.IndexByte(suffix, '.')+1:]
	}
}
