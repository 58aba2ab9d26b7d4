package intel

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"

	"golang.org/x/net/idna"
)

// refang undoes the defanging analysts and reports apply to keep values
// from being clicked: evil[.]com, hxxps://, user[@]host.
var refang = strings.NewReplacer(
	"[.]", ".", "(.)", ".", "{.}", ".", "[dot]", ".", "(dot)", ".",
	"[:]", ":", "[://]", "://",
	"[@]", "@", "(@)", "@", "[at]", "@",
	"hxxps", "https", "hXXps", "https", "hxxp", "http", "hXXp", "http",
)

// Normalize returns v as Tarian stores and compares values of type t:
// refanged; domains lower-case without a trailing dot, IDNs as punycode;
// addresses in their canonical (compressed IPv6) form; CIDRs masked; URLs
// with a lower-case scheme and host, no default port or fragment; hashes as
// lower-case hex of the right length; e-mail addresses lower-case. It
// reports a value that is not of the type.
func Normalize(t Type, v string) (string, error) {
	s := strings.TrimSpace(v)
	if t != TypeEmailSubject && t != TypeFileName {
		s = refang.Replace(s)
	}
	if s == "" {
		return "", fmt.Errorf("%s: empty value", t)
	}
	var (
		out string
		err error
	)
	switch t {
	case TypeIPv4, TypeIPv6:
		out, err = normIP(t, s)
	case TypeCIDR:
		out, err = normCIDR(s)
	case TypeDomain:
		out, err = normDomain(s)
	case TypeURL:
		out, err = normURL(s)
	case TypeMD5:
		out, err = normHash(s, 32)
	case TypeSHA1:
		out, err = normHash(s, 40)
	case TypeSHA256:
		out, err = normHash(s, 64)
	case TypeEmail:
		out, err = normEmail(s)
	case TypeEmailSubject:
		out = s
	case TypeFileName:
		out = strings.ToLower(s)
	default:
		err = fmt.Errorf("unknown type (want one of %s)", typeList())
	}
	if err != nil {
		return "", fmt.Errorf("%s %q: %w", t, v, err)
	}
	return out, nil
}

func normIP(t Type, s string) (string, error) {
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return "", fmt.Errorf("not an IP address")
	}
	if a.Zone() != "" {
		return "", fmt.Errorf("an address with a zone is local to one host")
	}
	a = a.Unmap()
	switch {
	case t == TypeIPv4 && !a.Is4():
		return "", fmt.Errorf("not an IPv4 address")
	case t == TypeIPv6 && !a.Is6():
		return "", fmt.Errorf("not an IPv6 address (an IPv4 one is type ipv4)")
	}
	return a.String(), nil
}

func normCIDR(s string) (string, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return "", fmt.Errorf("not a CIDR range (address/bits)")
	}
	if p.Addr().Is4In6() {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		if !p.IsValid() {
			return "", fmt.Errorf("not a CIDR range")
		}
	}
	return p.Masked().String(), nil
}

// normDomain normalises a domain indicator. A domain indicator matches
// its subdomains, so the wildcard feeds write for them ("*.evil.example",
// ".evil.example") is dropped; a wildcard anywhere else would match
// nothing and is refused.
func normDomain(s string) (string, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "*"), ".")
	d, err := NormalizeDomain(s)
	if err != nil {
		return "", err
	}
	if strings.Contains(d, "*") {
		return "", fmt.Errorf("a wildcard other than a leading \"*.\" matches no host name (a domain indicator already matches its subdomains)")
	}
	return d, nil
}

var domainProfile = idna.New(idna.MapForLookup(), idna.Transitional(false), idna.StrictDomainName(false))

// NormalizeDomain returns host name s lower-case, without a trailing dot,
// internationalised labels in punycode.
func NormalizeDomain(s string) (string, error) {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	if d == "" {
		return "", fmt.Errorf("empty host name")
	}
	if !isASCII(d) {
		a, err := domainProfile.ToASCII(d)
		if err != nil {
			return "", fmt.Errorf("not a host name: %v", err)
		}
		d = a
	}
	if len(d) > 253 {
		return "", fmt.Errorf("longer than 253 characters")
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 {
			return "", fmt.Errorf("empty or over-long label")
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '*') {
				return "", fmt.Errorf("character %q is not allowed in a host name", c)
			}
		}
	}
	if _, err := netip.ParseAddr(d); err == nil {
		return "", fmt.Errorf("an IP address is type ipv4 or ipv6, not domain")
	}
	return d, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

var defaultPorts = map[string]string{"http": "80", "https": "443", "ftp": "21"}

// normURL canonicalises a URL: scheme and host lower-case (http:// when
// none is written), default port and fragment dropped, an empty path "/",
// percent-escapes of unreserved characters decoded.
func normURL(s string) (string, error) {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("not a URL: %v", err)
	}
	if u.Host == "" {
		return "", fmt.Errorf("a URL needs a host")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	host, port := u.Hostname(), u.Port()
	if a, err := netip.ParseAddr(host); err == nil {
		host = a.Unmap().String()
	} else if host, err = NormalizeDomain(host); err != nil {
		return "", err
	}
	if port == defaultPorts[u.Scheme] {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	u.Host = host
	u.Fragment, u.RawFragment = "", ""
	path := unescapeUnreserved(u.EscapedPath())
	if path == "" {
		path = "/"
	}
	out := u.Scheme + "://"
	if u.User != nil {
		out += u.User.String() + "@"
	}
	out += u.Host + path
	if u.RawQuery != "" || u.ForceQuery {
		out += "?" + unescapeUnreserved(u.RawQuery)
	}
	return out, nil
}

// unescapeUnreserved decodes %XX escapes of the unreserved characters
// (RFC 3986 2.3) and upper-cases the hex of the others.
func unescapeUnreserved(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := hex.DecodeString(s[i+1 : i+3]); err == nil {
				c := v[0]
				if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
					b.WriteByte(c)
				} else {
					b.WriteString("%" + strings.ToUpper(s[i+1:i+3]))
				}
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func normHash(s string, n int) (string, error) {
	h := strings.ToLower(s)
	if len(h) != n {
		return "", fmt.Errorf("want %d hex digits, have %d", n, len(h))
	}
	if _, err := hex.DecodeString(h); err != nil {
		return "", fmt.Errorf("not hexadecimal")
	}
	return h, nil
}

func normEmail(s string) (string, error) {
	if i := strings.LastIndexByte(s, '<'); i >= 0 && strings.HasSuffix(s, ">") {
		s = s[i+1 : len(s)-1]
	}
	s = strings.TrimPrefix(strings.ToLower(s), "mailto:")
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || strings.ContainsAny(local, " \t<>") {
		return "", fmt.Errorf("not an e-mail address")
	}
	d, err := NormalizeDomain(domain)
	if err != nil {
		return "", err
	}
	return local + "@" + d, nil
}

// Guess returns the type of an untyped value (CSV feeds, analysts'
// pivots): an address, a CIDR, a hash by its length, a URL, an e-mail
// address or a domain; false when it is none of those.
func Guess(v string) (Type, bool) {
	s := refang.Replace(strings.TrimSpace(v))
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Unmap().Is4() {
			return TypeIPv4, true
		}
		return TypeIPv6, true
	}
	if _, err := netip.ParsePrefix(s); err == nil {
		return TypeCIDR, true
	}
	if _, err := hex.DecodeString(s); err == nil {
		switch len(s) {
		case 32:
			return TypeMD5, true
		case 40:
			return TypeSHA1, true
		case 64:
			return TypeSHA256, true
		}
	}
	if strings.Contains(s, "://") {
		return TypeURL, true
	}
	if strings.Contains(s, "@") {
		if _, err := normEmail(s); err == nil {
			return TypeEmail, true
		}
		return "", false
	}
	if strings.Contains(s, "/") {
		if _, err := normURL(s); err == nil {
			return TypeURL, true
		}
		return "", false
	}
	if strings.Contains(s, ".") {
		if _, err := NormalizeDomain(s); err == nil {
			return TypeDomain, true
		}
	}
	return "", false
}

// URLHost is the host of a normalised URL (Normalize), without user
// or port; an IPv6 literal keeps its brackets.
func URLHost(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	if strings.HasPrefix(rest, "[") {
		if i := strings.IndexByte(rest, ']'); i >= 0 {
			return rest[:i+1]
		}
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		rest = rest[:i]
	}
	return rest
}
