package asa

import "strings"

// A pattern is a dissect-style template compiled once: literal text and
// captures in turn, "{name}" capturing into a record slot and "{}"
// skipping. A capture runs to the first occurrence of the literal after
// it; the last capture, when no literal follows, takes the rest. Matching
// is one left-to-right pass with no backtracking, as Elastic's dissect
// processor does it.
type pattern struct {
	src    string
	prefix string   // literal before the first capture
	caps   []slot   // captures in order
	lits   []string // lits[i] follows caps[i]; "" only for the last
}

// slot names a field of rec a pattern captures into.
type slot uint8

const (
	sSkip slot = iota
	sDirection
	sTransport
	sProtocol
	sSrcIf
	sDstIf
	sSrc
	sSrcPort
	sDst
	sDstPort
	sNatSrc
	sNatSrcPort
	sNatDst
	sNatDstPort
	sRule
	sOutcome
	sReason
	sSrcUser
	sDstUser
	sServerUser
	sUser
	sEmail
	sSrcGroup
	sIcmpType
	sIcmpCode
	sURL
	sBytes
	sDuration
	sMAC
	sConnID
	sSrcDomain
	sDstDomain
	sConnType
	sDAP
	sThreatLevel
	sThreatCategory
	sNetType
	sGroupPolicy
	sTunnelGroup
	sSessionType
	sEventID
	sClientUser
	sFilePath
	nSlots
)

var slotNames = map[string]slot{
	"": sSkip, "direction": sDirection, "transport": sTransport, "protocol": sProtocol,
	"srcif": sSrcIf, "dstif": sDstIf, "src": sSrc, "sport": sSrcPort, "dst": sDst, "dport": sDstPort,
	"natsrc": sNatSrc, "natsport": sNatSrcPort, "natdst": sNatDst, "natdport": sNatDstPort,
	"rule": sRule, "outcome": sOutcome, "reason": sReason, "srcuser": sSrcUser, "dstuser": sDstUser,
	"serveruser": sServerUser, "user": sUser, "email": sEmail, "srcgroup": sSrcGroup,
	"icmptype": sIcmpType, "icmpcode": sIcmpCode, "url": sURL, "bytes": sBytes,
	"duration": sDuration, "mac": sMAC, "connid": sConnID, "srcdomain": sSrcDomain,
	"dstdomain": sDstDomain, "conntype": sConnType, "dap": sDAP, "threatlevel": sThreatLevel,
	"threatcategory": sThreatCategory, "nettype": sNetType, "grouppolicy": sGroupPolicy,
	"tunnelgroup": sTunnelGroup, "sessiontype": sSessionType, "eventid": sEventID,
	"clientuser": sClientUser, "filepath": sFilePath,
}

// compile turns a template into a pattern. A template that does not
// compile is a programming error, found by the package's tests.
func compile(src string) pattern {
	p := pattern{src: src}
	s := src
	i := strings.IndexByte(s, '{')
	if i < 0 {
		panic("BUG: asa pattern without a capture: " + src)
	}
	p.prefix, s = s[:i], s[i:]
	for s != "" {
		end := strings.IndexByte(s, '}')
		if s[0] != '{' || end < 0 {
			panic("BUG: asa pattern " + src)
		}
		sl, ok := slotNames[s[1:end]]
		if !ok {
			panic("BUG: asa pattern " + src + ": unknown capture " + s[1:end])
		}
		s = s[end+1:]
		next := strings.IndexByte(s, '{')
		if next < 0 {
			next = len(s)
		}
		lit := s[:next]
		if lit == "" && next < len(s) {
			panic("BUG: asa pattern " + src + ": adjacent captures")
		}
		p.caps = append(p.caps, sl)
		p.lits = append(p.lits, lit)
		s = s[next:]
	}
	return p
}

// maxCaps bounds the captures of one pattern.
const maxCaps = 16

// match matches s against p and, when the whole pattern matches, stores
// the captures in r.
func (p *pattern) match(s string, r *rec) bool {
	if !strings.HasPrefix(s, p.prefix) || len(p.caps) > maxCaps {
		return false
	}
	s = s[len(p.prefix):]
	var vals [maxCaps]string
	for i, lit := range p.lits {
		if lit == "" {
			vals[i], s = s, ""
			continue
		}
		j := strings.Index(s, lit)
		if j < 0 {
			return false
		}
		vals[i], s = s[:j], s[j+len(lit):]
	}
	for i, sl := range p.caps {
		r.set(sl, strings.TrimSpace(vals[i]))
	}
	return true
}
