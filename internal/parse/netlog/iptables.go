package netlog

import (
	"bytes"
	"errors"
	"strconv"
	"strings"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
	"github.com/tarian-soc/tarian/internal/parse/envelope"
	"github.com/tarian-soc/tarian/internal/parse/syslogheader"
)

// TypeIPTables is the log-source type of Linux netfilter (iptables,
// nftables, UFW, ulogd) packet log lines.
const TypeIPTables = "iptables"

// ErrNotNetfilter is returned for a payload without the IN= and OUT=
// fields of a netfilter packet log.
var ErrNotNetfilter = errors.New("no IN= and OUT= fields: not a netfilter packet log")

// SniffIPTables reports whether payload looks like a netfilter packet
// log: it holds "IN=", " OUT=" and " SRC=" or " MAC=". It does not
// allocate.
func SniffIPTables(payload []byte) bool {
	return bytes.Contains(payload, []byte("IN=")) && bytes.Contains(payload, []byte(" OUT=")) &&
		(bytes.Contains(payload, []byte(" SRC=")) || bytes.Contains(payload, []byte(" MAC=")))
}

// IPTables parses netfilter packet log lines. The zero value is ready; it
// keeps buffers between calls and is not safe for concurrent use.
type IPTables struct {
	out
}

// Parse reads one packet log line and appends its fields to dst.Fields.
// It sets dst.Time when the line carries a syslog header time.
func (p *IPTables) Parse(payload []byte, dst *event.Event) error {
	line := strings.TrimRight(string(payload), "\r\n")
	h, body, _ := syslogheader.Split(line, dst.Time, func(w string) bool {
		return strings.HasPrefix(w, "[") || strings.Contains(w, "IN=")
	})
	in := inField(body)
	if in < 0 || !strings.Contains(body[in:], " OUT=") {
		return ErrNotNetfilter
	}
	p.begin(dst)
	defer p.end()

	envelope.AddPriority(dst, h.Priority)
	if !h.Time.IsZero() {
		dst.Time = h.Time
	}
	host := h.Host
	if host != "" {
		p.add("host.hostname", host)
	} else if v, ok := dst.Get(envelope.FieldSyslogHostname); ok && v != "-" {
		host = v
	}
	if h.App != "" {
		p.add("process.name", h.App)
	}

	// The log prefix: what the rule's --log-prefix wrote, after the
	// kernel's "[uptime]" stamp.
	prefix := logPrefix(body[:in])
	action, verdict := "", ""
	if rs, rn, ra, ok := ubiquiti(prefix); ok {
		p.add("iptables.ubiquiti.rule_set", rs)
		p.add("iptables.ubiquiti.rule_number", rn)
		p.add("rule.name", rs)
		p.add("rule.id", rn)
		in, out, ok := strings.Cut(rs, "-")
		if !ok { // EdgeOS names rule sets WAN_LOCAL, LAN_IN
			in, out, ok = strings.Cut(rs, "_")
		}
		if ok {
			p.add("iptables.ubiquiti.input_zone", in)
			p.add("iptables.ubiquiti.output_zone", out)
			p.add("observer.ingress.zone", in)
			p.add("observer.egress.zone", out)
		}
		switch strings.ToLower(ra) {
		case "a":
			action = "accept"
		case "d":
			action = "drop"
		default:
			action = strings.ToLower(ra)
		}
	} else {
		action = prefixAction(prefix)
	}
	switch action {
	case "drop", "deny", "block", "reject", "drop_input":
		verdict = "denied"
	case "accept", "allow":
		verdict = "allowed"
	}
	p.add("iptables.log_prefix", prefix)

	p.add("ecs.version", ECSVersion)
	p.add("event.module", "iptables")
	p.add("event.dataset", "iptables.log")
	p.add("event.kind", "event")
	p.add("event.category", `["network"]`)
	p.add("event.action", action)
	p.add("observer.type", "firewall")
	p.add("observer.product", "netfilter")
	p.add("observer.name", host)
	p.add("observer.hostname", host)

	src, dst6 := p.fields(body[in:])
	switch {
	case verdict != "" && src != "" && dst6 != "":
		p.add("event.type", p.jsonSet("connection", verdict))
	case verdict != "":
		p.add("event.type", p.jsonSet(verdict))
	case src != "" && dst6 != "":
		p.add("event.type", `["connection"]`)
	default:
		p.add("event.type", `["info"]`)
	}
	switch verdict {
	case "denied":
		p.add("event.outcome", "failure")
	case "allowed":
		p.add("event.outcome", "success")
	}
	p.add("related.ip", p.jsonSet(src, dst6))
	return nil
}

// inField returns the offset of the "IN=" field: at the start, after a
// space, or glued to a log prefix ("DROP(src wan)IN=eth0"); -1 when absent.
func inField(s string) int {
	for i := 0; i+3 <= len(s); {
		j := strings.Index(s[i:], "IN=")
		if j < 0 {
			return -1
		}
		k := i + j
		if k == 0 || !isWordByte(s[k-1]) {
			return k
		}
		i = k + 3
	}
	return -1
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// logPrefix strips the kernel's "[uptime]" stamp and spaces from the text
// before IN=.
func logPrefix(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		if i := strings.IndexByte(s, ']'); i > 0 && isUptime(strings.TrimSpace(s[1:i])) {
			s = strings.TrimSpace(s[i+1:])
		}
	}
	return s
}

func isUptime(s string) bool {
	dot := strings.IndexByte(s, '.')
	return dot > 0 && ecs.IsDigits(s[:dot]) && ecs.IsDigits(s[dot+1:])
}

// ubiquiti reads a Ubiquiti EdgeOS prefix "[RULESET-NUMBER-ACTION]".
func ubiquiti(prefix string) (set, number, action string, ok bool) {
	if !strings.HasPrefix(prefix, "[") || !strings.HasSuffix(prefix, "]") {
		return
	}
	s := prefix[1 : len(prefix)-1]
	a := strings.LastIndexByte(s, '-')
	if a <= 0 {
		return
	}
	n := strings.LastIndexByte(s[:a], '-')
	if n <= 0 {
		return
	}
	set, number, action = s[:n], s[n+1:a], s[a+1:]
	if number != "default" && !ecs.IsDigits(number) || action == "" || strings.ContainsAny(s, " ") {
		return "", "", "", false
	}
	return set, number, action, true
}

// prefixAction reads a verdict word from a free-form log prefix
// ("[UFW BLOCK]", "FIREWALL_DROP", "DROP(src wan)", "iptables ACCEPT:").
func prefixAction(prefix string) string {
	l := strings.ToLower(prefix)
	for _, w := range [...]string{"drop", "reject", "block", "deny", "accept", "allow"} {
		if strings.Contains(l, w) {
			return w
		}
	}
	return ""
}

// fields reads the netfilter fields from IN= on and returns the source and
// destination addresses.
func (p *IPTables) fields(s string) (src, dst string) {
	proto := ""
	var tcpFlags, fragFlags []string
	// A key seen again (a relay's duplicate, a mangled line) is ignored:
	// the first one holds. seen has one bit per key and section.
	var seen uint64
	first := func(bit uint) bool {
		if seen&(1<<bit) != 0 {
			return false
		}
		seen |= 1 << bit
		return true
	}
	for s != "" {
		var tok string
		tok, s = nextToken(s)
		if tok == "" {
			continue
		}
		if tok[0] == '[' && tok != "[" {
			// The packet an ICMP error quotes: "[SRC=... DST=... PROTO=UDP ...]".
			break
		}
		k, v, hasValue := strings.Cut(tok, "=")
		if !hasValue {
			switch tok {
			case "DF", "MF", "CE":
				if proto == "" {
					fragFlags = append(fragFlags, tok)
				}
			case "CWR", "ECE", "URG", "ACK", "PSH", "RST", "SYN", "FIN":
				tcpFlags = append(tcpFlags, tok)
			case "INCOMPLETE":
				// "INCOMPLETE [65535 bytes]"
				if rest, ok := strings.CutPrefix(s, "["); ok {
					in, after, _ := strings.Cut(rest, "]")
					n, _, _ := strings.Cut(in, " ")
					p.add("iptables.incomplete_bytes", number(n))
					s = after
				}
			}
			continue
		}
		switch k {
		case "IN":
			if !first(0) {
				continue
			}
			p.add("iptables.input_device", v)
			p.add("observer.ingress.interface.name", v)
		case "OUT":
			if !first(1) {
				continue
			}
			p.add("iptables.output_device", v)
			p.add("observer.egress.interface.name", v)
		case "PHYSIN":
			if !first(2) {
				continue
			}
			p.add("iptables.physical_input_device", v)
		case "PHYSOUT":
			if !first(3) {
				continue
			}
			p.add("iptables.physical_output_device", v)
		case "MAC":
			if !first(4) {
				continue
			}
			p.mac(v)
		case "SRC":
			if !first(5) {
				continue
			}
			if isIP(v) {
				src = v
				p.add("source.ip", v)
			}
		case "DST":
			if !first(6) {
				continue
			}
			if isIP(v) {
				dst = v
				p.add("destination.ip", v)
			}
		case "LEN":
			if !first(bitIn(proto, 29, 30)) {
				continue
			}
			if proto == "" {
				p.add("iptables.length", number(v))
			} else if proto == "udp" || proto == "udplite" {
				p.add("iptables.udp.length", number(v))
			}
		case "TOS", "TC":
			if !first(8) {
				continue
			}
			p.add("iptables.tos", hexOrDec(v))
		case "PREC":
			if !first(9) {
				continue
			}
			p.add("iptables.precedence_bits", hexOrDec(v))
		case "TTL", "HOPLIMIT":
			if !first(10) {
				continue
			}
			p.add("iptables.ttl", number(v))
		case "FLOWLBL":
			if !first(11) {
				continue
			}
			p.add("iptables.flow_label", number(v))
		case "ID":
			if !first(bitIn(proto, 31, 32)) {
				continue
			}
			if proto == "" {
				p.add("iptables.id", number(v))
			} else if strings.HasPrefix(proto, "icmp") {
				p.add("iptables.icmp.id", number(v))
			}
		case "FRAG":
			if !first(13) {
				continue
			}
			p.add("iptables.fragment_offset", number(v))
		case "PROTO":
			if !first(14) {
				continue
			}
			proto = strings.ToLower(v)
			switch {
			case ecs.IsDigits(proto):
				p.add("network.iana_number", proto)
			case proto == "icmpv6":
				p.add("network.transport", "ipv6-icmp")
			default:
				p.add("network.transport", proto)
			}
			if n := ianaNumbers[proto]; n != "" {
				p.add("network.iana_number", n)
			}
		case "SPT":
			if !first(15) {
				continue
			}
			p.add("source.port", number(v))
		case "DPT":
			if !first(16) {
				continue
			}
			p.add("destination.port", number(v))
		case "SEQ":
			if !first(17) {
				continue
			}
			if proto == "tcp" {
				p.add("iptables.tcp.seq", number(v))
			} else {
				p.add("iptables.icmp.seq", number(v))
			}
		case "ACK":
			if !first(18) {
				continue
			}
			p.add("iptables.tcp.ack", number(v))
		case "WINDOW":
			if !first(19) {
				continue
			}
			p.add("iptables.tcp.window", number(v))
		case "RES":
			if !first(20) {
				continue
			}
			p.add("iptables.tcp.reserved_bits", hexOrDec(v))
		case "URGP":
			if !first(21) {
				continue
			}
			p.add("iptables.tcp.urgent_pointer", number(v))
		case "TYPE":
			if !first(22) {
				continue
			}
			p.add("iptables.icmp.type", number(v))
		case "CODE":
			if !first(23) {
				continue
			}
			p.add("iptables.icmp.code", number(v))
		case "PARAMETER":
			if !first(24) {
				continue
			}
			p.add("iptables.icmp.parameter", number(v))
		case "GATEWAY":
			if !first(25) {
				continue
			}
			p.add("iptables.icmp.redirect", v)
		case "MARK":
			if !first(26) {
				continue
			}
			p.add("iptables.mark", v)
		case "UID":
			if !first(27) {
				continue
			}
			p.add("iptables.uid", number(v))
			p.add("user.id", number(v))
		case "GID":
			if !first(28) {
				continue
			}
			p.add("iptables.gid", number(v))
			p.add("group.id", number(v))
		}
	}
	if len(tcpFlags) > 0 {
		p.add("iptables.tcp.flags", p.jsonList(tcpFlags))
	}
	if len(fragFlags) > 0 {
		p.add("iptables.fragment_flags", p.jsonList(fragFlags))
	}
	return src, dst
}

// bitIn picks the seen-bit of a key that the IP header and the protocol
// header both use (LEN, ID).
func bitIn(proto string, ip, inner uint) uint {
	if proto == "" {
		return ip
	}
	return inner
}

// nextToken returns the first space-separated token of s and the rest.
func nextToken(s string) (string, string) {
	s = strings.TrimLeft(s, " ")
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// mac reads MAC=dst:src:type (14 bytes), or a bare address.
func (p *IPTables) mac(v string) {
	parts := strings.Count(v, ":") + 1
	if parts >= 12 && len(v) >= 35 {
		p.add("destination.mac", macDash(v[:17]))
		p.add("source.mac", macDash(v[18:35]))
		if len(v) >= 41 && v[35] == ':' {
			et := v[36:41] // "08:00"
			if n, err := strconv.ParseUint(et[:2]+et[3:], 16, 16); err == nil && et[2] == ':' {
				p.add("iptables.ether_type", strconv.FormatUint(n, 10))
				switch et {
				case "08:00":
					p.add("network.type", "ipv4")
				case "86:dd":
					p.add("network.type", "ipv6")
				}
			}
		}
		return
	}
	if len(v) >= 17 {
		p.add("destination.mac", macDash(v[:17]))
	}
}

// macDash writes a MAC address as ECS does: upper case, '-' separated.
func macDash(v string) string {
	b := make([]byte, len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == ':':
			c = '-'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 'A'
		}
		b[i] = c
	}
	return string(b)
}

// hexOrDec reads "0x10" as 16 and "16" as 16, as Elastic's pipeline
// converts the bit fields.
func hexOrDec(v string) string {
	if h, ok := strings.CutPrefix(strings.ToLower(v), "0x"); ok {
		n, err := strconv.ParseUint(h, 16, 64)
		if err != nil {
			return ""
		}
		return strconv.FormatUint(n, 10)
	}
	return number(v)
}

// ianaNumbers maps protocol names to IANA numbers.
var ianaNumbers = map[string]string{
	"icmp": "1", "igmp": "2", "tcp": "6", "udp": "17", "gre": "47", "esp": "50", "ah": "51",
	"icmpv6": "58", "ipv6-icmp": "58", "sctp": "132", "udplite": "136",
}
