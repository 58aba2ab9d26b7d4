package windows

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// validIP returns s when it is an IP address (as Elastic's convert to ip
// requires), without an IPv6 zone, or "".
func validIP(s string) string {
	if s == "" {
		return ""
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return ""
	}
	if a.Zone() != "" {
		return a.WithZone("").String()
	}
	return s
}

// transports are the IANA protocol numbers Community ID needs.
var transports = map[string]byte{"tcp": 6, "udp": 17, "sctp": 132}

// communityID is the Community ID v1 flow hash (seed 0) of a TCP, UDP or
// SCTP flow, as Elastic's community_id processor computes it, or "".
func communityID(srcIP, dstIP, srcPort, dstPort, transport string) string {
	proto, ok := transports[strings.ToLower(transport)]
	if !ok || srcIP == "" || dstIP == "" {
		return ""
	}
	sa, err1 := netip.ParseAddr(srcIP)
	da, err2 := netip.ParseAddr(dstIP)
	sp, err3 := strconv.ParseUint(srcPort, 10, 16)
	dp, err4 := strconv.ParseUint(dstPort, 10, 16)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || sa.Is4() != da.Is4() {
		return ""
	}
	sa, da = sa.Unmap(), da.Unmap()
	if c := sa.Compare(da); c > 0 || c == 0 && sp > dp {
		sa, da, sp, dp = da, sa, dp, sp
	}
	var buf [2 + 16 + 16 + 2 + 4]byte
	b := buf[:2] // seed 0
	b = append(b, sa.AsSlice()...)
	b = append(b, da.AsSlice()...)
	b = append(b, proto, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(sp))
	b = binary.BigEndian.AppendUint16(b, uint16(dp))
	sum := sha1.Sum(b)
	return "1:" + base64.StdEncoding.EncodeToString(sum[:])
}

// registeredDomain splits a host name as Elastic's registered_domain
// processor does (ICANN suffixes of the public suffix list): the
// registered domain, the subdomain below it ("" when none) and the
// top-level domain.
func registeredDomain(name string) (registered, sub, tld string, ok bool) {
	name = strings.TrimSuffix(name, ".")
	lower := strings.ToLower(name)
	if len(lower) != len(name) || strings.IndexByte(name, '.') < 0 {
		return "", "", "", false
	}
	suffix, icann := publicsuffix.PublicSuffix(lower)
	for !icann {
		// A private suffix (a hosting provider's): Elastic uses the ICANN one.
		i := strings.IndexByte(suffix, '.')
		if i < 0 {
			return "", "", "", false // not a known top-level domain
		}
		suffix, icann = publicsuffix.PublicSuffix(suffix[i+1:])
	}
	if len(lower) <= len(suffix)+1 {
		return "", "", "", false
	}
	rest := name[:len(name)-len(suffix)-1]
	label := rest
	if i := strings.LastIndexByte(rest, '.'); i >= 0 {
		label, sub = rest[i+1:], rest[:i]
	}
	if label == "" {
		return "", "", "", false
	}
	return name[len(rest)-len(label):], sub, name[len(name)-len(suffix):], true
}
