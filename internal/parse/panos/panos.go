package panos

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
	"github.com/tarian-soc/tarian/internal/parse/envelope"
	"github.com/tarian-soc/tarian/internal/parse/syslogheader"
)

// Type is the log-source type name used in configuration and `tarian parse --type`.
const Type = "panos"

// ECSVersion is the Elastic Common Schema version of the fields written.
const ECSVersion = "8.17.0"

// ErrNotPANOS is returned for a payload that is not a PAN-OS CSV log.
var ErrNotPANOS = errors.New("not a PAN-OS CSV log (want FUTURE_USE,receive time,serial,type,...)")

const prefix = "panw.panos."

// kind says how a column's value is read.
type kind uint8

const (
	kSkip    kind = iota // FUTURE_USE
	kSpecial             // read for ECS only ('_' names)
	kPlain
	kNumber
	kDate
	kIP
	kMAC
	kPcap
	kList
)

// spec is one column of a log type.
type spec struct {
	name, full string // "source.ip", "panw.panos.source.ip"
	kind       kind
}

// specs holds, per log type, its columns after the generated time, and
// index their offsets by name.
var specs, index = func() (map[string][]spec, map[string]map[string]int) {
	sm := make(map[string][]spec, len(columns))
	im := make(map[string]map[string]int, len(columns))
	for typ, cols := range columns {
		ss := make([]spec, len(cols))
		idx := make(map[string]int, len(cols))
		for i, c := range cols {
			s := spec{name: c}
			switch {
			case c == "":
				s.kind = kSkip
			case c[0] == '_':
				s.kind = kSpecial
			case numeric[c]:
				s.kind = kNumber
			case dates[c]:
				s.kind = kDate
			case strings.HasSuffix(c, ".ip"):
				s.kind = kIP
			case c == "src.mac" || c == "dst.mac" || c == "machine.mac_address":
				s.kind = kMAC
			case c == "network.pcap_id":
				s.kind = kPcap
			case c == "url_category_list":
				s.kind = kList
			default:
				s.kind = kPlain
			}
			if s.kind != kSkip && s.kind != kSpecial {
				s.full = prefix + c
			}
			ss[i] = s
			if c != "" {
				idx[c] = i
			}
		}
		sm[typ], im[typ] = ss, idx
	}
	return sm, im
}()

// Sniff reports whether payload looks like a PAN-OS syslog CSV record:
// "<anything>,yyyy/mm/dd hh:mm:ss,<serial>,<TYPE>," within its first
// 200 bytes.
func Sniff(payload []byte) bool {
	if len(payload) > 200 {
		payload = payload[:200]
	}
	i := 0
	for i < len(payload) && payload[i] != ',' {
		i++
	}
	rest := payload[min(i+1, len(payload)):]
	if i == len(payload) || len(rest) < 20 || !dateShaped(string(rest[:19])) || rest[19] != ',' {
		return false
	}
	rest = rest[20:]
	j := 0
	for j < len(rest) && rest[j] != ',' {
		j++
	}
	if j == 0 || j == len(rest) {
		return false
	}
	rest = rest[j+1:]
	k := 0
	for k < len(rest) && (rest[k] >= 'A' && rest[k] <= 'Z' || rest[k] == '-') {
		k++
	}
	return k >= 4 && k < len(rest) && rest[k] == ','
}

// dateShaped reports whether s is "dddd/dd/dd dd:dd:dd", valid or not
// (anonymised logs hold "2020/00/00 00:00:00").
func dateShaped(s string) bool {
	if len(s) != 19 {
		return false
	}
	for i := 0; i < 19; i++ {
		c := s[i]
		switch i {
		case 4, 7:
			if c != '/' {
				return false
			}
		case 10:
			if c != ' ' {
				return false
			}
		case 13, 16:
			if c != ':' {
				return false
			}
		default:
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

// Parser parses PAN-OS syslog CSV records. The zero value is ready; it
// keeps buffers between calls and is not safe for concurrent use.
type Parser struct {
	dst      *event.Event
	cols     []string
	buf      []byte
	vals     []string       // the columns after the generated time, as read
	idx      map[string]int // their offsets by name, for the log type
	natSrcIP string         // GlobalProtect's NAT address, IPv4 or IPv6
}

// g returns the value read from the column called name, or "".
func (p *Parser) g(name string) string {
	if name == "source.nat.ip" && p.natSrcIP != "" {
		return p.natSrcIP
	}
	if i, ok := p.idx[name]; ok && i < len(p.vals) {
		return p.vals[i]
	}
	return ""
}

func (p *Parser) add(name, value string) {
	if value != "" {
		p.dst.Fields = append(p.dst.Fields, event.Field{Name: name, Value: value})
	}
}

// Parse reads one PAN-OS record and appends its fields to dst.Fields. It
// sets dst.Time from the generated time when the record has a valid one.
func (p *Parser) Parse(payload []byte, dst *event.Event) error {
	line := strings.TrimRight(string(payload), "\r\n")
	h, body, _ := syslogheader.Split(line, dst.Time, func(w string) bool { return strings.IndexByte(w, ',') >= 0 })
	p.cols = splitCSV(p.cols[:0], body, &p.buf)
	cols := p.cols
	if len(cols) < 5 || !dateShaped(cols[1]) {
		// An RFC 3164 envelope reads "1,2018/11/30" as the tag and keeps
		// "16:09:07,..." as the message: put the record back together.
		app, _ := dst.Get(envelope.FieldSyslogAppname)
		if strings.IndexByte(app, ',') < 0 || h.Priority >= 0 || !h.Time.IsZero() {
			return ErrNotPANOS
		}
		body = app + " " + body
		p.cols = splitCSV(p.cols[:0], body, &p.buf)
		cols = p.cols
		if len(cols) < 5 || !dateShaped(cols[1]) {
			return ErrNotPANOS
		}
	}
	typ := cols[3]
	if typ == "" || strings.Trim(typ, "ABCDEFGHIJKLMNOPQRSTUVWXYZ-") != "" {
		return ErrNotPANOS
	}
	p.dst = dst
	p.vals, p.idx, p.natSrcIP = p.vals[:0], nil, ""
	p.emit(h, body, cols)
	p.dst = nil
	return nil
}

// emit writes the record's fields.
func (p *Parser) emit(h syslogheader.Header, body string, cols []string) {
	typ := cols[3]
	set := typeAliases[typ]
	subtype := cols[4]

	envelope.AddPriority(p.dst, h.Priority)
	if h.Host != "" {
		p.add("host.hostname", h.Host)
	}

	p.add("ecs.version", ECSVersion)
	p.add("event.module", "panw")
	p.add("event.dataset", "panw.panos")
	p.add("observer.vendor", "Palo Alto Networks")
	p.add("observer.product", "PAN-OS")
	p.add("observer.type", "firewall")
	p.add("observer.serial_number", cols[2])
	p.add(prefix+"observer.serial_number", cols[2])
	p.add(prefix+"type", typ)
	p.add(prefix+"sub_type", subtype)
	if len(cols) > 5 && set == "DECRYPTION" {
		p.add(prefix+"config_version", cols[5])
	}
	// The event's time is the generated time; failing that the receive
	// time (management plane), failing that the syslog header's.
	timed := false
	if t, ok := panTime(cols[1]); ok {
		p.add("event.created", t.Format(time.RFC3339Nano))
		p.add(prefix+"received_time", t.Format(time.RFC3339Nano))
		p.dst.Time, timed = t, true
	}
	if !timed && !h.Time.IsZero() {
		p.dst.Time = h.Time
	}
	if len(cols) > 6 {
		if t, ok := panTime(cols[6]); ok {
			p.dst.Time = t
			p.add(prefix+"generated_time", t.Format(time.RFC3339Nano))
		}
		// Elastic keeps the columns after the generated time as message.
		if i := nthComma(body, 7); i >= 0 {
			p.add(event.FieldMessage, body[i:])
		}
	}

	// Native columns.
	ss := specs[set]
	p.idx = index[set]
	for i := 7; i < len(cols) && i-7 < len(ss); i++ {
		v, sc := cols[i], ss[i-7]
		if sc.kind == kSkip || strings.TrimSpace(v) == "" {
			p.vals = append(p.vals, "")
			continue
		}
		switch sc.kind {
		case kNumber:
			v = number(v)
		case kDate:
			if t, ok := panTime(v); ok {
				v = t.Format(time.RFC3339Nano)
			} else {
				v = ""
			}
		case kIP:
			if !isIP(v) {
				v = ""
			}
		case kMAC:
			v = mac(v)
		case kPcap:
			if v == "0" {
				v = ""
			}
		}
		p.vals = append(p.vals, v)
		switch sc.kind {
		case kSpecial:
		case kList:
			p.add(sc.full, p.splitList(strings.TrimSpace(v)))
		default:
			p.add(sc.full, v)
		}
	}
	p.ecs(set, subtype)
}

// ecs writes the Elastic Common Schema fields from the columns read.
func (p *Parser) ecs(set, subtype string) {
	g := p.g

	// Categorisation.
	kind, category := "event", `["network"]`
	switch set {
	case "THREAT":
		kind, category = "alert", `["intrusion_detection","threat","network"]`
	case "SYSTEM", "CONFIG":
		category = `["configuration"]`
	case "USERID":
		category = `["network","iam"]`
	case "AUTHENTICATION":
		category = `["authentication"]`
	case "GLOBALPROTECT":
		category = p.gpCategory(g("event.id"))
	}
	p.add("event.kind", kind)
	p.add("event.category", category)

	action := g("action")
	switch action {
	case "drop icmp", "drop ICMP":
		action = "drop-icmp"
	case "reset both":
		action = "reset-both"
	case "reset client":
		action = "reset-client"
	case "reset server":
		action = "reset-server"
	}
	var types []string
	switch action {
	case "alert", "allow", "continue":
		types = append(types, "allowed")
	case "deny", "drop", "reset-client", "reset-server", "reset-both", "block-url", "block-ip", "random-drop", "sinkhole", "block":
		types = append(types, "denied")
	}
	evAction := subtypeActions[subtype]
	if set != "TRAFFIC" && set != "THREAT" {
		evAction = ""
	}
	switch subtype {
	case "start":
		types = append(types, "start", "connection")
	case "end":
		types = append(types, "end", "connection")
	case "drop", "deny":
		if set == "TRAFFIC" {
			types = append(types, "denied", "connection")
		}
	}
	if set == "CONFIG" {
		evAction = configActions[g("cmd")]
		types = append(types, "change")
	}
	if set == "GLOBALPROTECT" {
		types = append(types, p.gpType(g("event.id"))...)
	}
	if len(types) == 0 {
		types = append(types, "info")
	}
	p.add("event.type", p.jsonSet(types...))
	p.add("event.action", evAction)

	// Outcome.
	switch set {
	case "TRAFFIC":
		p.add("event.outcome", outcome(action == "allow"))
	case "THREAT":
		p.add("event.outcome", outcome(action == "alert" || action == "allow" || action == "continue"))
	case "CONFIG":
		switch g("result") {
		case "Succeeded":
			p.add("event.outcome", "success")
		case "Failed":
			p.add("event.outcome", "failure")
		default:
			p.add("event.outcome", "unknown")
		}
	case "AUTHENTICATION":
		p.add("event.outcome", "success")
	case "DECRYPTION":
		p.add("event.outcome", outcome(g("error_message") == ""))
	case "GLOBALPROTECT":
		p.add("event.outcome", lower(g("event.status")))
	}

	// Severity.
	if sev := lower(g("severity")); sev != "" {
		p.add("log.level", sev)
		p.add("event.severity", severities[sev])
	}

	// Ends.
	srcIP, dstIP := g("source.ip"), g("destination.ip")
	switch set {
	case "GLOBALPROTECT":
		srcIP = g("private.ip")
		if v := g("_private_ipv6"); (srcIP == "" || srcIP == "0.0.0.0") && isIP(v) && v != "0.0.0.0" {
			srcIP = v
		}
		p.add("host.ip", srcIP)
		natIP := g("public.ip")
		if v := g("_public_ipv6"); (natIP == "" || natIP == "0.0.0.0") && isIP(v) && v != "0.0.0.0" {
			natIP = v
		}
		p.natSrcIP = natIP
		p.add(prefix+"public.ipv6", g("_public_ipv6"))
		p.add(prefix+"private.ipv6", g("_private_ipv6"))
	case "HIPMATCH":
		if v := g("_source_ipv6"); isIP(v) && v != "0.0.0.0" {
			srcIP = v
			p.add(prefix+"source.ipv6", v)
		}
	case "CONFIG":
		p.add("host.ip", g("host.ip"))
	}
	p.add("source.ip", srcIP)
	p.add("destination.ip", dstIP)
	srcPort, dstPort := g("source.port"), g("destination.port")
	p.add("source.port", srcPort)
	p.add("destination.port", dstPort)
	natSrc, natSrcPort := g("source.nat.ip"), g("source.nat.port")
	if natSrc == "0.0.0.0" && (natSrcPort == "" || natSrcPort == "0") {
		natSrc, natSrcPort = "", ""
	}
	natDst, natDstPort := g("destination.nat.ip"), g("destination.nat.port")
	if natDst == "0.0.0.0" && (natDstPort == "" || natDstPort == "0") {
		natDst, natDstPort = "", ""
	}
	p.add("source.nat.ip", natSrc)
	p.add("source.nat.port", natSrcPort)
	p.add("destination.nat.ip", natDst)
	p.add("destination.nat.port", natDstPort)
	p.add("source.bytes", g("bytes_sent"))
	p.add("destination.bytes", g("bytes_received"))
	p.add("source.packets", g("packets_sent"))
	p.add("destination.packets", g("packets_received"))
	if v := g("_srcloc"); v != "" {
		p.add("source.geo.name", v)
		p.add(prefix+"source.location", v)
	}
	if v := g("_dstloc"); v != "" {
		p.add("destination.geo.name", v)
		p.add(prefix+"destination.location", v)
	}
	switch {
	case strings.Contains(srcIP, "."):
		p.add("network.type", "ipv4")
	case strings.Contains(srcIP, ":"):
		p.add("network.type", "ipv6")
	}

	// Network.
	p.add("network.application", lower(g("network.application")))
	p.add("network.transport", lower(g("protocol")))
	p.add("network.bytes", g("network.bytes"))
	p.add("network.packets", g("network.packets"))
	if set == "THREAT" {
		dir := "unknown"
		switch g("_direction") {
		case "0", "client-to-server":
			dir = "inbound"
		case "1", "server-to-client":
			dir = "outbound"
		}
		p.add("network.direction", dir)
		p.add(prefix+"network.direction", g("_direction"))
		if v := g("_forwarded_ip"); isIP(v) {
			p.add("network.forwarded_ip", v)
			p.add(prefix+"forwarded_ip", v)
		} else {
			p.add(prefix+"x_forwarded_for", v)
		}
	}
	if v := g("http2_connection"); v != "" && v != "0" {
		p.add("http.version", "2")
	}

	// The observer.
	host := g("device_name")
	p.add("observer.hostname", host)
	p.add("observer.ingress.zone", g("source.zone"))
	p.add("observer.egress.zone", g("destination.zone"))
	p.add("observer.ingress.interface.name", g("inbound_interface"))
	p.add("observer.egress.interface.name", g("outbound_interface"))
	if set == "GLOBALPROTECT" {
		p.add("observer.geo.name", g("location"))
	}

	// Rule.
	p.add("rule.name", g("ruleset"))
	p.add("rule.uuid", g("rule_uuid"))

	// Times.
	start := g("start_time")
	p.add("event.start", start)
	dur := g("elapsed_time")
	if set == "GLOBALPROTECT" {
		dur = g("login_duration")
	}
	if dur != "" {
		if secs, err := strconv.ParseInt(dur, 10, 64); err == nil && secs < 1<<33 {
			p.add("event.duration", strconv.FormatInt(secs*1e9, 10))
			if st, err := time.Parse(time.RFC3339Nano, start); err == nil {
				p.add("event.end", st.Add(time.Duration(secs)*time.Second).UTC().Format(time.RFC3339Nano))
			}
		}
	}
	if v := g("_high_res_timestamp"); v != "" {
		if t, ok := panTime(v); ok {
			p.add(prefix+"high_resolution_timestamp", t.Format(time.RFC3339Nano))
		}
	}
	if v := g("_logged_time"); v != "" {
		if t, ok := panTime(v); ok {
			p.add(prefix+"logged_time", t.Format(time.RFC3339Nano))
		}
	}

	// Flags.
	if v := g("_labels"); v != "" {
		if n, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(v, "0x"), "0X"), 16, 64); err == nil && strings.HasPrefix(lower(v), "0x") {
			for _, fl := range flagLabels {
				if n&fl.bit != 0 {
					p.add(fl.name, "true")
				}
			}
		} else if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			for _, fl := range flagLabels {
				if n&fl.bit != 0 {
					p.add(fl.name, "true")
				}
			}
		}
	}

	// Users.
	srcUser, srcDomain := p.user("source.user.", g("_srcuser"))
	dstUser, dstDomain := p.user("destination.user.", g("_dstuser"))
	var authUsers []string
	switch set {
	case "USERID":
		if v := g("user_by_source"); v != "" && srcUser == "" {
			srcUser = v
			p.add("source.user.name", v)
		}
	case "AUTHENTICATION":
		u, nu := g("_user"), g("normalize_user")
		p.add(prefix+"user", u)
		if u != "" || nu != "" {
			authUsers = append(authUsers, u, nu)
			p.add("source.user.name", p.jsonSetOrOne(authUsers...))
			srcUser = u
			if srcUser == "" {
				srcUser = nu
			}
		}
	case "CONFIG":
		if a := g("admin"); a != "" {
			srcUser = a
			p.add("user.name", a)
		}
	}
	if set != "CONFIG" {
		p.add("user.name", srcUser)
		p.add("user.domain", srcDomain)
	}
	p.add(prefix+"source.user", srcUser)
	p.add(prefix+"destination.user", dstUser)
	if set == "THREAT" {
		p.add("source.user.email", g("sender"))
		p.add("destination.user.email", g("recipient"))
	}

	// Hosts (GlobalProtect, HIP match).
	switch set {
	case "GLOBALPROTECT":
		p.add("event.code", g("event.id"))
		p.add("event.reason", g("event.reason"))
		p.add("host.id", g("host.id"))
		p.add("host.name", g("machine.name"))
		p.add("host.os.family", g("client.os"))
		p.add("host.os.full", g("client.os_version"))
	case "HIPMATCH":
		p.add("host.id", g("host.id"))
		p.add("host.mac", g("machine.mac_address"))
		p.add("host.name", lower(g("machine.name")))
		p.add("host.os.full", g("machine.os"))
	case "SYSTEM", "USERID":
		p.add("event.code", g("event.id"))
	}

	// Threat details.
	if set == "THREAT" {
		p.threat(subtype)
	}
	if set == "DECRYPTION" {
		p.decryption()
	}

	// related.*
	p.add("related.ip", p.jsonSet(routable(srcIP), routable(dstIP), routable(natSrc), routable(natDst),
		routable(g("host.ip")), routable(g("xff.ip")), routable(g("network.forwarded_ip"))))
	users := []string{srcUser, dstUser}
	users = append(users, authUsers...)
	p.add("related.user", p.jsonSet(users...))
	hosts := []string{host, g("src.host"), g("dst.host")}
	if set == "GLOBALPROTECT" {
		hosts = append(hosts, g("machine.name"))
	}
	if set == "HIPMATCH" {
		hosts = append(hosts, lower(g("machine.name")))
	}
	hosts = append(hosts, srcDomain, dstDomain)
	p.add("related.hosts", p.jsonSet(hosts...))
	p.add("related.hash", p.jsonSet(g("file.hash")))
}

// threat writes the THREAT fields: the threat name and id, the URL or file
// in the misc column, HTTP details.
func (p *Parser) threat(subtype string) {
	g := p.g
	if name := g("threat.name"); strings.HasSuffix(name, ")") {
		if i := strings.LastIndexByte(name, '('); i >= 0 {
			id := strings.TrimSpace(name[i+1 : len(name)-1])
			if ecs.IsDigits(id) {
				n := strings.TrimSpace(name[:i])
				if id == "9999" {
					n = "URL-filtering"
				}
				p.add(prefix+"threat.id", id)
				p.replace(prefix+"threat.name", n)
			}
		}
	}
	p.add("file.type", g("file.type"))
	p.add("http.request.method", g("http_method"))
	p.add("http.request.referrer", g("referrer"))
	p.add("user_agent.original", g("_user_agent"))
	p.add(prefix+"user_agent", g("_user_agent"))
	misc := g("misc")
	if misc == "" {
		return
	}
	switch {
	case subtype == "url" || (subtype == "virus" || subtype == "vulnerability") && strings.Contains(misc, "/"):
		if subtype == "vulnerability" && !strings.Contains(misc, "/") {
			break
		}
		p.schemelessURL(misc)
	case subtype == "file" && strings.ContainsAny(misc, `/\`):
		p.add("file.path", misc)
		i := strings.LastIndexByte(misc, '/')
		if i < 0 {
			i = strings.LastIndexByte(misc, '\\')
		}
		p.add("file.name", misc[i+1:])
	}
	if (subtype == "file" || subtype == "virus" || subtype == "vulnerability") && !strings.ContainsAny(misc, `/\`) {
		p.add("file.name", misc)
	}
}

// schemelessURL writes url.* for the misc column's URL, which has no
// scheme ("www.example.com/path?q").
func (p *Parser) schemelessURL(u string) {
	p.add("url.original", u)
	hostport, path, query := u, "", ""
	if i := strings.IndexByte(u, '/'); i >= 0 {
		hostport, path = u[:i], u[i:]
		if j := strings.IndexByte(path, '?'); j >= 0 {
			path, query = path[:j], path[j+1:]
		}
	} else if j := strings.IndexByte(u, '?'); j >= 0 {
		hostport, query = u[:j], u[j+1:]
	}
	if i := strings.IndexByte(hostport, ':'); i >= 0 {
		p.add("url.domain", hostport[:i])
		p.add("url.port", number(hostport[i+1:]))
	} else {
		p.add("url.domain", hostport)
		p.add("destination.domain", hostport)
	}
	p.add("url.path", path)
	p.add("url.query", query)
	if i := strings.LastIndexByte(path, '.'); i >= 0 && i < len(path)-1 {
		p.add("url.extension", path[i+1:])
	}
}

// decryption writes the TLS fields of a DECRYPTION record.
func (p *Parser) decryption() {
	g := p.g
	if h := g("_hash"); h != "" {
		p.add(prefix+"hash", h)
		switch len(h) {
		case 32:
			p.add("tls.client.hash.md5", h)
		case 40:
			p.add("tls.client.hash.sha1", h)
		case 64:
			p.add("tls.client.hash.sha256", h)
		}
	}
	if v := g("_tls"); v != "" {
		p.add(prefix+"tls.version", v)
		if len(v) >= 6 {
			p.add("tls.version_protocol", lower(v[:3]))
			p.add("tls.version", v[3:6])
		}
	}
	p.add("tls.cipher", g("tls.encryption"))
	p.add("tls.curve", g("elliptic_curve"))
	p.add("tls.client.server_name", g("server_name_indication.value"))
	p.add("tls.client.not_after", g("certificate.not_after"))
	p.add("tls.client.not_before", g("certificate.not_before"))
	p.add("tls.client.x509.serial_number", g("certificate.serial_number"))
	p.add("tls.client.x509.version_number", g("certificate.version"))
	p.add("tls.client.x509.public_key_size", g("certificate.size"))
	if v := g("subject_common_name.value"); v != "" {
		p.add("tls.client.x509.subject.common_name", p.jsonSet(v))
	}
	if v := g("issuer_common_name.value"); v != "" {
		p.add("tls.client.x509.issuer.common_name", p.jsonSet(v))
	}
}

// gpCategory and gpType classify GlobalProtect events by their id
// (Tarian's: Elastic's pipeline sets only ["network"]).
func (p *Parser) gpCategory(id string) string {
	switch {
	case strings.HasSuffix(id, "-auth") || strings.HasSuffix(id, "-prelogin"):
		return `["authentication","network"]`
	case id == "gateway-connected" || id == "gateway-logout" || id == "gateway-switch-to-ssl":
		return `["network","session"]`
	}
	return `["network"]`
}

func (p *Parser) gpType(id string) []string {
	switch id {
	case "gateway-connected":
		return []string{"start"}
	case "gateway-logout":
		return []string{"end"}
	}
	return nil
}

// routable drops the unspecified addresses PAN-OS writes for "none".
func routable(ip string) string {
	if ip == "0.0.0.0" || ip == "::" {
		return ""
	}
	return ip
}

func outcome(ok bool) string {
	if ok {
		return "success"
	}
	return "failure"
}

// user writes <prefix>name and .domain from "DOMAIN\user",
// "DOMAIN\\user" or "user@domain", as Elastic's pipeline splits them.
func (p *Parser) user(pfx, u string) (name, domain string) {
	if u == "" {
		return "", ""
	}
	switch {
	case strings.Contains(u, `\`):
		i := strings.IndexByte(u, '\\')
		domain, name = u[:i], strings.TrimLeft(u[i:], `\`)
	case strings.Contains(u, "@"):
		i := strings.LastIndexByte(u, '@')
		name, domain = u[:i], u[i+1:]
	default:
		name = u
	}
	p.add(pfx+"name", name)
	p.add(pfx+"domain", domain)
	return name, domain
}

// replace sets the value of the last field called name.
func (p *Parser) replace(name, value string) {
	fs := p.dst.Fields
	for i := len(fs) - 1; i >= 0; i-- {
		if fs[i].Name == name {
			fs[i].Value = value
			return
		}
	}
	p.add(name, value)
}

// panTime reads "yyyy/mm/dd hh:mm:ss" (UTC, as Elastic reads it without a
// configured zone) or an RFC 3339 time.
func panTime(s string) (time.Time, bool) {
	if dateShaped(s) {
		t, err := time.Parse("2006/01/02 15:04:05", s)
		if err != nil {
			return time.Time{}, false
		}
		return t, true
	}
	if len(s) >= 19 && s[4] == '-' {
		return ecs.ParseTime(s)
	}
	return time.Time{}, false
}

// nthComma returns the offset just after the n-th unquoted comma of s, or -1.
func nthComma(s string, n int) int {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				n--
				if n == 0 {
					return i + 1
				}
			}
		}
	}
	return -1
}

// number returns s as a decimal integer without leading zeros, or "".
func number(s string) string {
	if !ecs.IsDigits(s) || len(s) > 19 {
		return ""
	}
	if len(s) > 1 && s[0] == '0' {
		s = strings.TrimLeft(s, "0")
		if s == "" {
			return "0"
		}
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

func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
