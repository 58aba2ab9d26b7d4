package ios

import (
	"net/netip"
	"strings"

	"github.com/tarian-soc/tarian/internal/parse/ecs"
)

// message writes what the text of the messages SOCs read says: ACL
// matches, logins, configuration changes and the commands typed.
func (p *Parser) message(t tag, text string) {
	switch {
	case strings.HasPrefix(t.mnemonic, "IPACCESSLOG") || t.mnemonic == "ACCESSLOGP" || t.mnemonic == "ACCESSLOGDP" || t.mnemonic == "ACCESSLOGNP" || t.mnemonic == "ACCESSLOGSP":
		p.acl(text)
	case t.facility == "SEC_LOGIN" && (t.mnemonic == "LOGIN_SUCCESS" || t.mnemonic == "LOGIN_FAILED" || t.mnemonic == "WEBLOGIN_SUCCESS" || t.mnemonic == "WEBLOGIN_FAILED"):
		p.login(t.mnemonic, text)
	case t.facility == "SSH" && t.mnemonic == "SSH2_USERAUTH":
		p.sshAuth(text)
	case t.facility == "SYS" && (t.mnemonic == "CONFIG_I" || t.mnemonic == "CONFIG_P"):
		p.configured(text)
	case t.facility == "PARSER" && t.mnemonic == "CFGLOG_LOGGEDCMD":
		p.command(text)
	}
}

// acl reads an access list match: "list 101 denied tcp 10.0.0.5(1234) ->
// 192.0.2.1(22), 1 packet", "list OUT permitted icmp 10.0.0.5 -> 192.0.2.1
// (8/0), 3 packets", "list v6/10 denied udp 2001:db8::1(53) (Gi0/0
// 0011.2233.4455) -> 2001:db8::2(53), 1 packet".
func (p *Parser) acl(text string) {
	rest, ok := strings.CutPrefix(text, "list ")
	if !ok {
		return
	}
	f := strings.Fields(rest)
	if len(f) < 5 {
		return
	}
	name, verdict, proto := f[0], f[1], strings.ToLower(f[2])
	var allowed bool
	switch verdict {
	case "permitted":
		allowed = true
	case "denied":
	default:
		return
	}
	src, dst := "", ""
	srcPort, dstPort := "", ""
	arrow := -1
	for i, w := range f[3:] {
		if w == "->" {
			arrow = 3 + i
			break
		}
	}
	if arrow < 0 || arrow+1 >= len(f) {
		return
	}
	src, srcPort = hostPort(f[3])
	dst, dstPort = hostPort(strings.TrimSuffix(f[arrow+1], ","))
	if src == "" || dst == "" {
		return
	}
	p.add("cisco.ios.access_list", name)
	p.add("event.category", `["network"]`)
	p.add("event.action", verdict)
	if allowed {
		p.add("event.type", `["connection","allowed"]`)
		p.add("event.outcome", "success")
	} else {
		p.add("event.type", `["connection","denied"]`)
		p.add("event.outcome", "failure")
	}
	if ecs.IsDigits(proto) {
		p.add("network.iana_number", proto)
	} else {
		p.add("network.transport", proto)
		p.add("network.iana_number", ianaNumbers[proto])
	}
	p.add("source.ip", src)
	p.add("source.port", number(srcPort))
	p.add("destination.ip", dst)
	p.add("destination.port", number(dstPort))
	if i := strings.LastIndex(text, ", "); i >= 0 {
		if n, _, ok := strings.Cut(text[i+2:], " packet"); ok {
			p.add("network.packets", number(n))
		}
	}
	p.add("related.ip", p.jsonSet(src, dst))
}

// ianaNumbers are the protocols ACL lines name.
var ianaNumbers = map[string]string{"icmp": "1", "igmp": "2", "tcp": "6", "udp": "17", "gre": "47", "esp": "50", "ahp": "51", "ipv6": "41", "icmpv6": "58", "eigrp": "88", "ospf": "89", "pim": "103"}

// hostPort reads "10.0.0.5(1234)" or "10.0.0.5": an address and a port.
func hostPort(s string) (ip, port string) {
	host, port, _ := strings.Cut(s, "(")
	port = strings.TrimSuffix(port, ")")
	if _, err := netip.ParseAddr(host); err != nil {
		return "", ""
	}
	return host, port
}

// login reads "Login Success [user: admin] [Source: 10.0.0.2] [localport:
// 22] at ..." and its failure, with "[Reason: ...]".
func (p *Parser) login(mnemonic, text string) {
	user := bracket(text, "user")
	src := bracket(text, "Source")
	p.add("event.category", `["authentication"]`)
	if strings.HasSuffix(mnemonic, "SUCCESS") {
		p.add("event.type", `["start"]`)
		p.add("event.action", "logged-in")
		p.add("event.outcome", "success")
	} else {
		p.add("event.type", `["start"]`)
		p.add("event.action", "logon-failed")
		p.add("event.outcome", "failure")
		p.add("event.reason", bracket(text, "Reason"))
	}
	p.add("user.name", user)
	if _, err := netip.ParseAddr(src); err == nil {
		p.add("source.ip", src)
	}
	p.add("destination.port", number(bracket(text, "localport")))
	p.add("related.user", p.jsonSet(user))
	p.add("related.ip", p.jsonSet(ipOnly(src)))
}

// bracket returns the value of "[key: value]" in text.
func bracket(text, key string) string {
	i := strings.Index(text, "["+key+": ")
	if i < 0 {
		return ""
	}
	v := text[i+len(key)+3:]
	if j := strings.IndexByte(v, ']'); j >= 0 {
		return strings.TrimSpace(v[:j])
	}
	return ""
}

// sshAuth reads "User 'admin' authentication for SSH2 Session from
// 10.0.0.2 (tty = 0) using crypto cipher '...', hmac '...' Succeeded" (or
// Failed).
func (p *Parser) sshAuth(text string) {
	rest, ok := strings.CutPrefix(text, "User '")
	if !ok {
		return
	}
	user, rest, ok := strings.Cut(rest, "'")
	if !ok {
		return
	}
	src := ""
	if _, after, ok := strings.Cut(rest, " from "); ok {
		src, _, _ = strings.Cut(after, " ")
	}
	p.add("event.category", `["authentication"]`)
	p.add("event.type", `["start"]`)
	switch t := strings.TrimSpace(text); {
	case strings.HasSuffix(t, "Succeeded"):
		p.add("event.action", "logged-in")
		p.add("event.outcome", "success")
	case strings.HasSuffix(t, "Failed"):
		p.add("event.action", "logon-failed")
		p.add("event.outcome", "failure")
	}
	p.add("user.name", user)
	p.add("source.ip", ipOnly(src))
	p.add("related.user", p.jsonSet(user))
	p.add("related.ip", p.jsonSet(ipOnly(src)))
}

// configured reads "Configured from console by admin on vty0 (10.0.0.1)"
// (CONFIG_I) and "Configured programmatically by process X from console as
// admin on vty0" (CONFIG_P).
func (p *Parser) configured(text string) {
	user := ""
	if _, after, ok := strings.Cut(text, " as "); ok {
		user, _, _ = strings.Cut(after, " ")
	} else if _, after, ok := strings.Cut(text, " by "); ok {
		user, _, _ = strings.Cut(after, " ")
	}
	if user == "console" || strings.HasPrefix(user, "vty") {
		user = "" // the line, not a user
	}
	src := ""
	if i := strings.LastIndexByte(text, '('); i >= 0 && strings.HasSuffix(text, ")") {
		src = ipOnly(text[i+1 : len(text)-1])
	}
	p.add("event.category", `["configuration"]`)
	p.add("event.type", `["change"]`)
	p.add("user.name", user)
	p.add("source.ip", src)
	p.add("related.user", p.jsonSet(user))
	p.add("related.ip", p.jsonSet(src))
}

// command reads a configuration command the archive logger recorded:
// "User:admin  logged command:no logging buffered".
func (p *Parser) command(text string) {
	rest, ok := strings.CutPrefix(text, "User:")
	if !ok {
		return
	}
	user, cmd, ok := strings.Cut(rest, " logged command:")
	if !ok {
		return
	}
	user = strings.TrimSpace(user)
	p.add("event.category", `["configuration"]`)
	p.add("event.type", `["change"]`)
	p.add("user.name", user)
	p.add("cisco.ios.command", strings.TrimSpace(cmd))
	p.add("related.user", p.jsonSet(user))
}

// ipOnly returns s when it is an IP address.
func ipOnly(s string) string {
	if _, err := netip.ParseAddr(s); err != nil {
		return ""
	}
	return s
}
