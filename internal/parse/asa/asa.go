package asa

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
	"github.com/tarian-soc/tarian/internal/parse/envelope"
)

// Type is the log-source type name used in configuration and `tarian parse --type`.
const Type = "cisco-asa"

// ECSVersion is the Elastic Common Schema version of the fields written.
const ECSVersion = "8.17.0"

// ErrNoTag is returned for a payload with no %ASA-<severity>-<id> tag.
var ErrNoTag = errors.New("no %ASA-<severity>-<id> tag")

// Sniff reports whether payload holds a Cisco tag (%ASA-, %FTD-, %FWSM-,
// %PIX- followed by a severity digit) in its first 160 bytes.
func Sniff(payload []byte) bool {
	if len(payload) > 160 {
		payload = payload[:160]
	}
	for i := 0; i+6 < len(payload); i++ {
		if payload[i] != '%' {
			continue
		}
		if _, _, _, _, ok := tagAt(string(payload[i:])); ok {
			return true
		}
	}
	return false
}

// tagAt reads "%VENDOR[-SUFFIX]-SEV-ID[:]" at the start of s. It returns
// the vendor ("ASA"), suffix, severity, id and the text after the tag.
func tagAt(s string) (vendor, sev, id, rest string, ok bool) {
	if len(s) < 6 || s[0] != '%' {
		return
	}
	i := 1
	for i < len(s) && s[i] >= 'A' && s[i] <= 'Z' {
		i++
	}
	if i < 3 || i > 9 || i >= len(s) || s[i] != '-' {
		return
	}
	vendor = s[1:i]
	s = s[i+1:]
	// Optional suffix of non-digits ("session-").
	if len(s) > 0 && (s[0] < '0' || s[0] > '9') {
		j := strings.IndexByte(s, '-')
		if j <= 0 || j > 32 {
			return
		}
		s = s[j+1:]
	}
	if len(s) < 3 || s[0] < '0' || s[0] > '7' || s[1] != '-' {
		return
	}
	sev = s[:1]
	s = s[2:]
	j := 0
	for j < len(s) && j < 7 && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j < 6 {
		return
	}
	id, rest = s[:j], s[j:]
	rest = strings.TrimLeft(strings.TrimPrefix(rest, ":"), " ")
	return vendor, sev, id, rest, true
}

// Parser parses Cisco ASA and FTD messages. The zero value is ready; it
// keeps buffers between calls and is not safe for concurrent use.
type Parser struct {
	dst   *event.Event
	ns    *namespace
	msgID string
	r     rec
	extra []event.Field // native and ECS fields the scanners found

	// Values with no slot, set by some scanners.
	srcBytes, dstBytes, serverDomain, userAgent, tlsVersion, dapRecords string
	rules                                                               []string
	secOutcome, secMessage, shaDisposition                              string
	natives                                                             uint64 // the natives in extra, by bit
	mixed                                                               bool   // extra holds free-form names: dedupe

	buf []byte
}

func fieldOf(name, value string) event.Field { return event.Field{Name: name, Value: value} }

// native records a native field under the message's namespace; a second
// value replaces the first.
func (p *Parser) native(n native, v string) {
	if v == "" {
		return
	}
	name := p.ns.names[n]
	if p.natives&(1<<n) != 0 {
		for i := range p.extra {
			if p.extra[i].Name == name {
				p.extra[i].Value = v
				return
			}
		}
	}
	p.natives |= 1 << n
	p.extra = append(p.extra, fieldOf(name, v))
}

func (p *Parser) add(name, value string) {
	if value != "" {
		p.dst.Fields = append(p.dst.Fields, fieldOf(name, value))
	}
}

// Parse reads one ASA/FTD message and appends its fields to dst.Fields.
// It sets dst.Time when the message carries its own time.
func (p *Parser) Parse(payload []byte, dst *event.Event) error {
	line := strings.TrimRight(string(payload), "\r\n")
	start := -1
	var vendor, sev, id, msg string
	for i := strings.IndexByte(line, '%'); i >= 0; {
		var ok bool
		if vendor, sev, id, msg, ok = tagAt(line[i:]); ok {
			start = i
			break
		}
		j := strings.IndexByte(line[i+1:], '%')
		if j < 0 {
			break
		}
		i += j + 1
	}
	prefix := ""
	if start < 0 {
		// An RFC 3164 envelope may have read the tag as the app name
		// ("<166>2018-10-10T12:34:56Z asa %ASA-6-302013: Built ...").
		app, _ := dst.Get(envelope.FieldSyslogAppname)
		var ok bool
		if vendor, sev, id, _, ok = tagAt(app); !ok {
			return ErrNoTag
		}
		msg = strings.TrimLeft(line, " ")
	} else {
		prefix = line[:start]
	}
	p.reset(dst, vendor, id)
	first := len(dst.Fields)
	h := parseHeader(prefix, dst.Time)
	if h.hasTime {
		dst.Time = h.time
	}
	msg = strings.TrimRight(msg, " ")

	if pts, ok := templates[id]; ok {
		for i := range pts {
			if pts[i].match(msg, &p.r) {
				break
			}
		}
	}
	if fn, ok := handlers[id]; ok {
		fn(p, msg)
	}
	p.emit(h, sev, msg)
	if p.mixed {
		dst.Fields = append(dst.Fields[:first], dedupe(dst.Fields[first:])...)
	}
	p.dst = nil
	return nil
}

// dedupe keeps the last field of each name, in order, in place. An FTD
// security event may name a thing twice (a key repeated, two keys for one
// ECS field, a key for a field the header also gives); the contract asks
// each name once.
func dedupe(fs []event.Field) []event.Field {
	out := fs[:0]
	for i, f := range fs {
		dup := false
		for _, g := range fs[i+1:] {
			if len(g.Name) == len(f.Name) && g.Name == f.Name {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, f)
		}
	}
	return out
}

func (p *Parser) reset(dst *event.Event, vendor, id string) {
	p.dst = dst
	p.ns = asaNS
	if vendor == "FTD" {
		p.ns = ftdNS
	}
	p.msgID = id
	p.r = rec{}
	p.extra = p.extra[:0]
	p.srcBytes, p.dstBytes, p.serverDomain, p.userAgent, p.tlsVersion, p.dapRecords = "", "", "", "", "", ""
	p.rules = p.rules[:0]
	p.secOutcome, p.secMessage, p.shaDisposition = "", "", ""
	p.natives, p.mixed = 0, false
}

// emit writes the record as native and ECS fields.
func (p *Parser) emit(h header, sev, msg string) {
	ns, r, id := p.ns, &p.r, p.msgID

	// The device: the tag's header names it, or the syslog envelope did.
	if h.pri >= 0 {
		if _, ok := p.dst.Get(envelope.FieldSyslogPriority); !ok {
			p.add(envelope.FieldSyslogPriority, strconv.Itoa(h.pri))
			p.add(envelope.FieldSyslogFacilityCode, strconv.Itoa(h.pri>>3))
			p.add(envelope.FieldSyslogSeverityCode, strconv.Itoa(h.pri&7))
		}
	}
	host := h.host
	if host != "" {
		p.add("host.hostname", host)
	} else if v, ok := p.dst.Get(envelope.FieldSyslogHostname); ok && v != "-" {
		host = v
	} else if v, ok := p.dst.Get("host.hostname"); ok {
		host = v
	}
	if h.process != "" {
		p.add("process.name", h.process)
		p.add("process.pid", number(h.pid))
	}

	p.add("ecs.version", ECSVersion)
	p.add("event.module", ns.module)
	p.add("event.dataset", ns.dataset)
	p.add("event.code", id)
	p.add(ns.names[nMessageID], id)
	p.add("event.severity", sev)
	if n := int(sev[0] - '0'); n >= 0 && n < len(levels) {
		p.add("log.level", levels[n])
	}
	if h.hasTime {
		p.add("event.timezone", h.tz)
	}
	text := msg
	if p.secMessage != "" {
		text = p.secMessage
	}
	p.add(event.FieldMessage, text)

	// Categorisation.
	c, ok := classes[id]
	if !ok {
		c = unknown
	}
	outcome := lower(r.get(sOutcome))
	if oc, ok := outcomeClasses[id]; ok {
		if cc, ok := oc[outcome]; ok {
			c = cc
		}
	}
	kind := "event"
	category := c.category
	if action, ok := ftdActions[id]; ok {
		c.action = action
		if id == "430005" {
			if p.shaDisposition == "Malware" || p.shaDisposition == "Custom Detection" {
				kind = "alert"
				category = `["network","malware"]`
			} else {
				category = `["network","file"]`
			}
		}
	}
	if p.secOutcome != "" {
		c.outcome = p.secOutcome
	}
	p.add("event.kind", kind)
	p.add("event.category", category)
	p.add("event.type", c.typ)
	p.add("event.outcome", c.outcome)
	p.add("event.action", c.action)

	// Network.
	transport := lower(r.get(sTransport))
	if transport == "protocol" { // Cisco's documentation placeholder
		transport = ""
	}
	iana := ""
	if ecs.IsDigits(transport) {
		iana = number(transport)
		transport = ianaNames[iana]
	} else if transport != "" {
		if transport == "icmpv6" {
			transport = "ipv6-icmp"
		}
		iana = ianaNumbers[transport]
	}
	p.add("network.transport", transport)
	p.add("network.iana_number", iana)
	p.add("network.protocol", lower(r.get(sProtocol)))
	p.add("network.direction", lower(r.get(sDirection)))
	p.add("network.type", lower(r.get(sNetType)))
	p.add("network.bytes", number(r.get(sBytes)))

	// Ends.
	srcIP := p.address("source", r.get(sSrc))
	dstIP := p.address("destination", r.get(sDst))
	p.add("source.port", number(r.get(sSrcPort)))
	p.add("destination.port", number(r.get(sDstPort)))
	p.add("source.bytes", number(p.srcBytes))
	p.add("destination.bytes", number(p.dstBytes))
	p.add("source.mac", r.get(sMAC))
	if d := r.get(sSrcDomain); d != "" && srcIP == "" {
		p.add("source.domain", d)
	}
	if d := r.get(sDstDomain); d != "" && dstIP == "" {
		p.add("destination.domain", d)
	}
	natSrcIP := p.mapped(nMappedSourceIP, nMappedSourcePort, nMappedSourceHost, "source.nat.", r.get(sNatSrc), r.get(sNatSrcPort), srcIP, r.get(sSrcPort))
	natDstIP := p.mapped(nMappedDestinationIP, nMappedDestinationPort, nMappedDestinationHost, "destination.nat.", r.get(sNatDst), r.get(sNatDstPort), dstIP, r.get(sDstPort))
	srcIf, dstIf := strings.TrimRight(r.get(sSrcIf), "."), strings.TrimRight(r.get(sDstIf), ".")
	p.add(ns.names[nSourceInterface], srcIf)
	p.add(ns.names[nDestinationInterface], dstIf)
	p.add(ns.names[nConnectionID], r.get(sConnID))
	p.add(ns.names[nIcmpType], number(r.get(sIcmpType)))
	p.add(ns.names[nIcmpCode], number(r.get(sIcmpCode)))
	p.add(ns.names[nGroupPolicy], r.get(sGroupPolicy))
	p.add(ns.names[nTunnelGroup], r.get(sTunnelGroup))
	p.add(ns.names[nSessionType], r.get(sSessionType))
	if len(p.rules) == 0 && r.get(sRule) != "" {
		p.rules = append(p.rules, r.get(sRule))
	}
	switch len(p.rules) {
	case 0:
	case 1:
		p.add(ns.names[nRuleName], p.rules[0])
	default:
		p.add(ns.names[nRuleName], p.jsonArray(p.rules...))
	}
	if p.dapRecords != "" {
		p.add(ns.names[nDAPRecords], p.splitArray(p.dapRecords, ", "))
	}
	p.dst.Fields = append(p.dst.Fields, p.extra...)

	// Users.
	srcUser, srcUserDomain := p.user("source.user.", r.get(sSrcUser))
	dstUser, dstUserDomain := p.user("destination.user.", r.get(sDstUser))
	p.add("source.user.group.name", r.get(sSrcGroup))
	serverUser := r.get(sServerUser)
	p.add("server.user.name", serverUser)
	p.add("client.user.name", r.get(sClientUser))
	p.add("user.email", r.get(sEmail))
	userName := unquote(r.get(sUser))
	if userName == "" {
		userName = dstUser
	}
	if userName == "" {
		userName = srcUser
	}
	if userName == "" {
		userName = serverUser
	}
	p.add("user.name", userName)

	// Event details.
	p.add("event.reason", r.get(sReason))
	p.add("event.id", r.get(sEventID))
	if d := r.get(sDuration); d != "" {
		if secs, ok := hms(d); ok {
			p.add("event.duration", strconv.FormatInt(secs*1e9, 10))
			if !p.dst.Time.IsZero() {
				end := p.dst.Time.UTC()
				p.add("event.end", end.Format(time.RFC3339Nano))
				p.add("event.start", end.Add(-time.Duration(secs)*time.Second).Format(time.RFC3339Nano))
			}
		}
	}
	p.add("file.path", r.get(sFilePath))
	p.add("user_agent.original", p.userAgent)
	p.add("server.domain", p.serverDomain)
	p.url(r.get(sURL))
	if v := p.tlsVersion; v != "" {
		proto, ver, _ := strings.Cut(v, "v")
		p.add("tls.version_protocol", lower(proto))
		p.add("tls.version", ver)
	}

	// The observer is the firewall.
	p.add("observer.vendor", "Cisco")
	p.add("observer.product", ns.product)
	p.add("observer.type", "firewall")
	p.add("observer.hostname", host)
	p.add("observer.ingress.interface.name", srcIf)
	p.add("observer.egress.interface.name", dstIf)

	// related.*
	p.add("related.ip", p.jsonSet(srcIP, natSrcIP, dstIP, natDstIP))
	p.add("related.user", p.jsonSet(masked(userName), masked(serverUser), masked(srcUser), masked(dstUser)))
	p.add("related.hosts", p.jsonSet(host, r.get(sDstDomain), r.get(sSrcDomain), srcUserDomain, dstUserDomain))
}

func masked(u string) string {
	if strings.Trim(u, "*") == "" {
		return ""
	}
	return u
}

// address writes <side>.address and .ip or .domain, and returns the IP.
func (p *Parser) address(side, a string) string {
	if a == "" {
		return ""
	}
	p.add(side+".address", a)
	if isIP(a) {
		p.add(side+".ip", a)
		return a
	}
	p.add(side+".domain", a)
	return ""
}

// mapped writes a NAT end: the mapped address and port as logged (native)
// and <prefix>ip/port when they differ from the real ones, as Elastic's
// pipeline does. It returns the NAT IP written.
func (p *Parser) mapped(ipN, portN, hostN native, prefix, addr, port, realIP, realPort string) string {
	if addr == "" && port == "" {
		return ""
	}
	port = number(port)
	natIP := ""
	if isIP(addr) {
		p.add(p.ns.names[ipN], addr)
		if addr != realIP {
			natIP = addr
			p.add(prefix+"ip", addr)
		}
	} else {
		p.add(p.ns.names[hostN], addr)
	}
	p.add(p.ns.names[portN], port)
	if port != "" && port != number(realPort) {
		p.add(prefix+"port", port)
	}
	return natIP
}

// user writes <prefix>name and, from "DOMAIN\user", "LOCAL\user" or
// "user@domain", .domain and .email. It returns the name and domain.
func (p *Parser) user(prefix, u string) (name, domain string) {
	u = strings.TrimSpace(unquote(u))
	if u == "" {
		return "", ""
	}
	u = strings.TrimPrefix(u, `LOCAL\`)
	if i := strings.LastIndexByte(u, '\\'); i >= 0 {
		domain, u = u[:i], u[i+1:]
	}
	if i := strings.LastIndexByte(u, '@'); i > 0 && i < len(u)-1 && domain == "" {
		p.add(prefix+"email", u)
		domain = u[i+1:]
		u = u[:i]
	}
	p.add(prefix+"name", u)
	p.add(prefix+"domain", domain)
	return u, domain
}

// url writes url.original and its parts.
func (p *Parser) url(u string) {
	if u == "" {
		return
	}
	p.add("url.original", u)
	rest := u
	scheme, after, ok := strings.Cut(rest, "://")
	if !ok {
		return
	}
	p.add("url.scheme", scheme)
	rest = after
	hostport := rest
	path := ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		hostport, path = rest[:i], rest[i:]
	}
	if i := strings.LastIndexByte(hostport, '@'); i >= 0 {
		hostport = hostport[i+1:]
	}
	host, port := hostport, ""
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.HasSuffix(hostport, "]") {
		host, port = hostport[:i], hostport[i+1:]
	}
	p.add("url.domain", strings.Trim(host, "[]"))
	p.add("url.port", number(port))
	if i := strings.IndexByte(path, '#'); i >= 0 {
		p.add("url.fragment", path[i+1:])
		path = path[:i]
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		p.add("url.query", path[i+1:])
		path = path[:i]
	}
	p.add("url.path", path)
	if i := strings.LastIndexByte(path, '.'); i >= 0 && !strings.Contains(path[i:], "/") && i < len(path)-1 {
		p.add("url.extension", lower(path[i+1:]))
	}
}

// jsonArray returns vs as a JSON array text.
func (p *Parser) jsonArray(vs ...string) string {
	b := append(p.buf[:0], '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = ecs.AppendJSONString(b, v)
	}
	b = append(b, ']')
	p.buf = b
	return string(b)
}

// jsonSet returns the non-empty, distinct values of vs as a JSON array
// text, or "" when there are none.
func (p *Parser) jsonSet(vs ...string) string {
	b, ok := ecs.AppendJSONSet(p.buf[:0], vs...)
	p.buf = b
	if !ok {
		return ""
	}
	return string(b)
}

// splitArray returns s split at sep as a JSON array text.
func (p *Parser) splitArray(s, sep string) string {
	b := append(p.buf[:0], '[')
	for i := 0; s != ""; i++ {
		part, rest, _ := strings.Cut(s, sep)
		if i > 0 {
			b = append(b, ',')
		}
		b = ecs.AppendJSONString(b, strings.TrimSpace(part))
		s = rest
	}
	b = append(b, ']')
	p.buf = b
	return string(b)
}
