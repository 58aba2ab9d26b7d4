package asa

import (
	"strings"

	"github.com/tarian-soc/tarian/internal/parse/ecs"
)

// templates are the messages a fixed template reads, by message id, tried
// in order. They follow Elastic's cisco_asa pipeline (its dissect patterns)
// and Cisco's syslog message guide.
var templates = func() map[string][]pattern {
	src := map[string][]string{
		"106001": {"{direction} {transport} connection denied from {src}/{sport} to {dst}/{dport} flags {} on interface {srcif}"},
		"106002": {"{transport} Connection denied by {direction} list {rule} src {src} dest {dst}"},
		"106006": {"Deny {direction} {transport} from {src}/{sport} to {dst}/{dport} on interface {srcif}"},
		"106007": {"Deny {direction} {transport} from {src}/{sport} to {dst}/{dport} due to {protocol} {}"},
		"106012": {"Deny IP from {src} to {dst}, {reason}"},
		"106013": {"Dropping echo request from {src} to PAT address {dst}"},
		"106015": {"Deny {transport} (no connection) from {src}/{sport} to {dst}/{dport} flags {} on interface {srcif}"},
		"106016": {"Deny IP spoof from ({src}) to {dst} on interface {srcif}"},
		"106017": {"Deny IP due to Land Attack from {src} to {dst}"},
		"106018": {"{transport} packet type {icmptype} denied by {direction} list {rule} src {src} dest {dst}"},
		"106020": {"Deny IP teardrop fragment (size = {}, offset = {}) from {src} to {dst}"},
		"106021": {"Deny {transport} reverse path check from {src} to {dst} on interface {srcif}"},
		"106022": {"Deny {transport} connection spoof from {src} to {dst} on interface {srcif}"},
		"106027": {"{} Deny src {src} dst {dst} by access-group \"{rule}\""},
		"110002": {"{reason} for {transport} from {srcif}:{src}/{sport} to {dst}/{dport}"},
		"111002": {"Begin configuration: {src} {}"},
		"111003": {"{src} Erase configuration"},
		"111004": {"{src} end configuration: {outcome}"},
		"111005": {"{src} end configuration: {outcome}"},
		"111007": {"Begin configuration: {src} {}"},
		"113008": {"AAA transaction status ACCEPT : user = {srcuser}", "AAA transaction status ACCEPT: user = {srcuser}"},
		"113009": {"AAA retrieved default group policy ({grouppolicy}) for user = {srcuser}", "AAA retrieved default group policy {grouppolicy} for user {srcuser}"},
		"113019": {"Group = {srcgroup}, Username = {srcuser}, IP = {dst}, Session disconnected. Session Type: {sessiontype}, Duration: {duration}, Bytes xmt: {}, Bytes rcv: {}, Reason: {reason}"},
		"113006": {"User {srcuser} locked out on exceeding {}"},
		"113021": {"Attempted console login failed. User {srcuser} did NOT have appropriate Admin Rights."},
		"113022": {"AAA Marking {protocol} server {dst} in aaa-server group {}"},
		"113023": {"AAA Marking {protocol} server {dst} in aaa-server group {}"},
		"108004": {"{}: Dropped connection for {protocol} Request from {srcif}:{src}/{sport} to {dstif}:{dst}/{dport}; {reason}"},
		"202010": {"{reason}. Unable to create {transport} connection from {srcif}:{src}/{sport} to {dstif}:{dst}/{dport}"},
		"209005": {"Discard IP fragment set with more than {} elements:{}src = {src}, dest = {dst}, proto = {transport}, id = {}"},
		"302010": {"{} in use, {} most used"},
		"302022": {"Built {} stub {transport} connection for {srcif}:{src}/{sport} {} to {dstif}:{dst}/{dport} {}"},
		"302023": {"Teardown stub {transport} connection for {srcif}:{src}/{sport} to {dstif}:{dst}/{dport} duration {duration} forwarded bytes {bytes} {reason}"},
		"303002": {"{protocol} connection from {srcif}:{src}/{sport} to {dstif}:{dst}/{dport}, user {clientuser} {} file {filepath}"},
		"304002": {"Access denied URL {url} SRC {src} {}EST {dst} on interface {srcif}"},
		"308001": {"{} enable password incorrect for {} (from {src})"},
		"313001": {"Denied {transport} type={icmptype}, code={icmpcode} from {src} on interface {srcif}"},
		"313004": {"Denied {transport} type={icmptype}, from{}addr {src} on interface {srcif} to {dst}: no matching session"},
		"313008": {"Denied {transport} type={icmptype}, code={icmpcode} from {src} on interface {srcif}"},
		"313009": {"Denied invalid {transport} code {icmpcode}, for {srcif}:{src}/{sport} ({natsrc}/{natsport}) to {dstif}:{dst}/{dport} ({natdst}/{natdport}){}"},
		"315011": {"SSH session from {src} on interface {srcif} for user {srcuser} disconnected by SSH server, reason: {reason}"},
		"322001": {"Deny MAC address {mac}, possible spoof attempt on interface {srcif}"},
		"338301": {"Intercepted DNS reply for domain {srcdomain} from {srcif}:{src}/{sport} to {dstif}:{dst}/{dport}, matched {rule}"},
		"401004": {"Shunned packet: {src} = {dst} on interface {srcif}", "Shunned packet: {src} ==> {dst} on interface {srcif}"},
		"405001": {"Received ARP {} collision from {src}/{mac} on interface {srcif} with existing ARP entry {}"},
		"405003": {"IP address collision detected between host {src} at {mac} and interface {srcif}, {}"},
		"409023": {"Attempting AAA Fallback method {} for {} request for user {srcuser} : {reason}"},
		"410001": {"Dropped {transport} DNS {} from {srcif}:{src}/{sport} to {dstif}:{dst}/{dport}; {reason}"},
		"418001": {"{reason}: {transport} src {srcif}:{src}/{sport} dst {dstif}:{dst}/{dport}", "{reason}: {transport} src {srcif}:{src} dst {dstif}:{dst}"},
		"420002": {"IPS requested to drop {transport} packet from {srcif}:{src}/{sport} to {dstif}:{dst}/{dport}"},
		"421001": {"{transport} flow from {srcif}:{src}/{sport} to {dstif}:{dst}/{dport} is dropped because {reason}"},
		"421002": {"{transport} flow from {srcif}:{src}/{sport} to {dstif}:{dst}/{dport} bypassed application checking because {reason}"},
		"421007": {"{transport} flow from {srcif}:{src}/{sport} to {dstif}:{dst}/{dport} is skipped because {reason}"},
		"434002": {"SFR requested to drop {transport} packet from {srcif}:{src}/{sport} to {dstif}:{dst}/{dport}"},
		"434004": {"SFR requested {} to bypass further packet redirection and process {transport} flow from {srcif}:{src}/{sport} to {dstif}:{dst}/{dport} locally"},
		"500003": {"Bad TCP hdr length (hdrlen={}, pktlen={}) from {src}/{sport} to {dst}/{dport}, flags: {}, on interface {srcif}"},
		"500004": {"Invalid transport field for protocol={transport}, from {src}/{sport} to {dst}/{dport}"},
		"502101": {"New user added to local dbase: Uname: {serveruser} Priv: {} Encpass: {}"},
		"502102": {"User deleted from local dbase: Uname: {serveruser} Priv: {} Encpass: {}"},
		"507003": {"{transport} flow from {srcif}:{src}/{sport} to {dstif}:{dst}/{dport} terminated by inspection engine, reason - {reason}"},
		"603108": {"Built {} Tunnel at {srcif}, tunnel-id = {}, remote-peer = {src}, virtual-interface = {}, client-dynamic-ip = {}, username = {user}, {}"},
		"603109": {"Teardown {} Tunnel at {srcif}, tunnel-id = {}, remote-peer = {src}"},
		"605004": {"Login {} from {src}/{sport} to {dstif}:{dst}/{protocol} for user \"{srcuser}\""},
		"605005": {"Login {} from {src}/{sport} to {dstif}:{dst}/{protocol} for user \"{srcuser}\""},
		"609001": {"Built local-host {srcif}:{src}"},
		"609002": {"Teardown local-host {srcif}:{src} duration {duration}"},
		"611101": {"User authentication {}: IP address: {src}, Uname: {serveruser}"},
		"611102": {"User authentication {}: IP address: {src}, Uname: {serveruser}"},
		"611103": {"User logged out: Uname: {user}"},
		"710003": {"{transport} access denied by ACL from {src}/{sport} to {dstif}:{dst}/{dport}"},
		"710004": {"{transport} connection limit exceeded from {src}/{sport} to {dstif}:{dst}/{dport} {}"},
		"710005": {"{transport} request discarded from {src}/{sport} to {dstif}:{dst}/{dport}"},
		"710006": {"{transport} request discarded from {src} to {dstif}:{dst}"},
		"713120": {"Group = {}, IP = {src}, {reason} (msgid={eventid})"},
		"713202": {"IP = {src}, {reason}. {} packet."},
		"721016": {"({}) WebVPN session for client user {srcuser}, IP {dst} has been created.", "({}) WebVPN session for client user {srcuser}, IP: {dst} has been created."},
		"721018": {"({}) WebVPN session for client user {srcuser}, IP {dst} has been deleted.", "({}) WebVPN session for client user {srcuser}, IP: {dst} has been deleted."},
		"750002": {"Local:{src}:{sport} Remote:{dst}:{dport} Username:{user} {reason}"},
		"750003": {"Local:{src}:{sport} Remote:{dst}:{dport} Username:{user} {reason}"},
		"805001": {"Offloaded {transport} Flow for connection {connid} from {srcif}:{src}/{sport} ({natsrc}/{natsport}) to {dstif}:{dst}/{dport} ({natdst}/{natdport})"},
		"805002": {"{transport} Flow is no longer offloaded for connection {connid} from {srcif}:{src}/{sport} ({natsrc}/{natsport}) to {dstif}:{dst}/{dport} ({natdst}/{natdport})"},
	}
	m := make(map[string][]pattern, len(src))
	for id, ts := range src {
		for _, t := range ts {
			m[id] = append(m[id], compile(t))
		}
	}
	return m
}()

// handlers read the messages whose shape varies (optional parts, user or
// security-group tags, swapped ends).
var handlers = map[string]func(p *Parser, msg string){
	"106010": (*Parser).deny10623,
	"106014": (*Parser).deny10623,
	"106023": (*Parser).deny10623,
	"106100": (*Parser).accessList,
	"106102": (*Parser).accessList,
	"106103": (*Parser).accessList,
	"111008": (*Parser).command,
	"111009": (*Parser).command,
	"111010": (*Parser).command,
	"113004": (*Parser).aaa,
	"113005": (*Parser).aaa,
	"113012": (*Parser).aaa,
	"113015": (*Parser).aaa,
	"113019": (*Parser).vpnDisconnect,
	"113029": (*Parser).groupUserIP,
	"113030": (*Parser).groupUserIP,
	"113031": (*Parser).groupUserIP,
	"113032": (*Parser).groupUserIP,
	"113033": (*Parser).groupUserIP,
	"113034": (*Parser).groupUserIP,
	"113035": (*Parser).groupUserIP,
	"113036": (*Parser).groupUserIP,
	"113038": (*Parser).groupUserIP,
	"113039": (*Parser).groupUserIP,
	"113040": (*Parser).groupUserIP,
	"302013": (*Parser).built,
	"302015": (*Parser).built,
	"302014": (*Parser).teardown,
	"302016": (*Parser).teardown,
	"302018": (*Parser).teardown,
	"302021": (*Parser).teardown,
	"302036": (*Parser).teardown,
	"302304": (*Parser).teardown,
	"302306": (*Parser).teardown,
	"302020": (*Parser).icmpBuilt,
	"304001": (*Parser).urlAccessed,
	"305011": (*Parser).translation,
	"305012": (*Parser).translation,
	"313005": (*Parser).icmpNoConnection,
	"338001": (*Parser).dynamicFilter, "338002": (*Parser).dynamicFilter, "338003": (*Parser).dynamicFilter,
	"338004": (*Parser).dynamicFilter, "338005": (*Parser).dynamicFilter, "338006": (*Parser).dynamicFilter,
	"338007": (*Parser).dynamicFilter, "338008": (*Parser).dynamicFilter, "338101": (*Parser).dynamicFilter,
	"338102": (*Parser).dynamicFilter, "338103": (*Parser).dynamicFilter, "338104": (*Parser).dynamicFilter,
	"338201": (*Parser).dynamicFilter, "338202": (*Parser).dynamicFilter, "338203": (*Parser).dynamicFilter,
	"338204": (*Parser).dynamicFilter,
	"419002": (*Parser).duplicateSYN,
	"502103": (*Parser).privilege,
	"602303": (*Parser).ipsecSA,
	"602304": (*Parser).ipsecSA,
	"716001": (*Parser).webVPN,
	"716002": (*Parser).webVPN,
	"716003": (*Parser).webVPN,
	"716039": (*Parser).webVPN,
	"716058": (*Parser).webVPN,
	"716059": (*Parser).webVPN,
	"722011": (*Parser).svc, "722022": (*Parser).svc, "722023": (*Parser).svc, "722028": (*Parser).svc,
	"722032": (*Parser).svc, "722033": (*Parser).svc, "722034": (*Parser).svc, "722037": (*Parser).svc,
	"722051": (*Parser).svc, "722055": (*Parser).svc,
	"725001": (*Parser).ssl, "725002": (*Parser).ssl, "725007": (*Parser).ssl, "725016": (*Parser).ssl,
	"733100": (*Parser).burst,
	"734001": (*Parser).dap,
	"430001": (*Parser).security, "430002": (*Parser).security, "430003": (*Parser).security,
	"430004": (*Parser).security, "430005": (*Parser).security,
}

// endUser reads the "(user)" or "(user, sgt)" a 302xxx end may carry,
// or the mapped "(addr/port)".
func (p *Parser) endTrailer(s string, natA, natP slot, userN native) string {
	for {
		s = strings.TrimLeft(s, " ")
		in, rest, ok := parenthesised(s)
		if !ok {
			return s
		}
		if a, port := addrPort(in); port != "" && ecs.IsDigits(port) && !strings.ContainsAny(a, " ,\\") {
			if p.r.get(natA) == "" {
				p.r.set(natA, a)
				p.r.set(natP, port)
			}
		} else if in != "" {
			p.userOrSGT(in, userN)
		}
		s = rest
	}
}

// userOrSGT stores "DOMAIN\user", "user, 12" or "12:Name" (a security
// group tag) as a source or destination user name.
func (p *Parser) userOrSGT(s string, n native) {
	user := s
	if i := strings.IndexByte(user, ','); i >= 0 {
		user = user[:i]
	}
	user = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(user), "$"))
	if user == "" || ecs.IsDigits(user) || strings.IndexByte(user, ':') > 0 && ecs.IsDigits(user[:strings.IndexByte(user, ':')]) {
		return
	}
	p.native(n, user)
	if n == nSourceUsername {
		p.r.set(sSrcUser, user)
	} else {
		p.r.set(sDstUser, user)
	}
}

// built reads 302013 and 302015: "Built inbound|outbound TCP connection
// ID for IF:ADDR/PORT (MAPPED/PORT)[(user)] to IF:ADDR/PORT (MAPPED/PORT)[(user)]".
// For outbound connections the first end is the destination.
func (p *Parser) built(msg string) {
	s, ok := strings.CutPrefix(msg, "Built ")
	if !ok {
		return
	}
	dir, s := word(s)
	transport, s := word(s)
	s = strings.TrimPrefix(strings.TrimLeft(s, " "), "connection ")
	id, s := word(s)
	s, ok = strings.CutPrefix(strings.TrimLeft(s, " "), "for ")
	if !ok {
		return
	}
	first, s := word(s)
	outbound := lower(dir) == "outbound"
	a, b := [5]slot{sSrcIf, sSrc, sSrcPort, sNatSrc, sNatSrcPort}, [5]slot{sDstIf, sDst, sDstPort, sNatDst, sNatDstPort}
	ua, ub := nSourceUsername, nDestinationUsername
	if outbound {
		a, b = b, a
		ua, ub = ub, ua
	}
	p.r.setEnd(a[0], a[1], a[2], first)
	s = p.endTrailer(s, a[3], a[4], ua)
	s, ok = strings.CutPrefix(s, "to ")
	if !ok {
		return
	}
	second, s := word(s)
	p.r.setEnd(b[0], b[1], b[2], second)
	p.endTrailer(s, b[3], b[4], ub)
	p.r.set(sDirection, dir)
	p.r.set(sTransport, transport)
	p.r.set(sConnID, id)
}

// teardown reads 302014/16/18/21/36, 302304/06: "Teardown TCP [state-bypass ]connection ID
// for|from IF:ADDR/PORT[ (user)] to IF:ADDR/PORT[ (user)] [duration H:MM:SS bytes N]
// [reason][ from initiator][ (user)]", and the ICMP "for faddr/gaddr/laddr" form.
func (p *Parser) teardown(msg string) {
	s, ok := strings.CutPrefix(msg, "Teardown ")
	if !ok {
		return
	}
	transport, s := word(s)
	p.r.set(sTransport, transport)
	s = strings.TrimPrefix(strings.TrimLeft(s, " "), "state-bypass ")
	s, ok = strings.CutPrefix(s, "connection ")
	if !ok {
		return
	}
	if rest, ok := strings.CutPrefix(s, "for faddr "); ok {
		p.faddr(rest, false)
		return
	}
	id, s := word(s)
	p.r.set(sConnID, id)
	kw, s := word(s)
	if kw != "for" && kw != "from" {
		return
	}
	first, s := word(s)
	p.r.setEnd(sSrcIf, sSrc, sSrcPort, first)
	s = p.endTrailer(s, sNatSrc, sNatSrcPort, nSourceUsername)
	s, ok = strings.CutPrefix(s, "to ")
	if !ok {
		return
	}
	second, s := word(s)
	p.r.setEnd(sDstIf, sDst, sDstPort, second)
	s = p.endTrailer(s, sNatDst, sNatDstPort, nDestinationUsername)
	s, ok = strings.CutPrefix(s, "duration ")
	if !ok {
		return
	}
	dur, s := word(s)
	p.r.set(sDuration, dur)
	if rest, ok := strings.CutPrefix(strings.TrimLeft(s, " "), "bytes "); ok {
		var n string
		n, s = word(rest)
		p.r.set(sBytes, n)
	}
	s = strings.TrimSpace(s)
	// What is left: [reason][ from initiator][ (user)].
	if strings.HasSuffix(s, ")") {
		if i := strings.LastIndex(s, " ("); i >= 0 || strings.HasPrefix(s, "(") {
			u := s[i+2 : len(s)-1]
			if i < 0 {
				u, i = s[1:len(s)-1], 0
			}
			p.native(nTerminationUser, u)
			s = strings.TrimSpace(s[:max(i, 0)])
		}
	}
	if i := strings.LastIndex(s, " from "); i >= 0 {
		p.native(nTerminationInitiator, strings.TrimSpace(s[i+6:]))
		s = s[:i]
	}
	p.r.set(sReason, s)
}

// faddr reads "faddr [IF:]ADDR/N[ (user)] gaddr [IF:]ADDR/N laddr [IF:]ADDR/N[ (user)][ type T code C]"
// (302020, 302021). gaddr is the mapped address of laddr. Inbound: the
// foreign end is the source; outbound: the local end is.
func (p *Parser) faddr(s string, outbound bool) {
	f, s := word(s)
	s = p.skipParens(s)
	s, ok := strings.CutPrefix(s, "gaddr ")
	if !ok {
		return
	}
	g, s := word(s)
	s, ok = strings.CutPrefix(strings.TrimLeft(s, " "), "laddr ")
	if !ok {
		return
	}
	l, s := word(s)
	s = p.skipParens(s)
	fif, faddr := optIfaceAddr(f)
	faddr, _ = addrPort(faddr)
	_, gaddr := optIfaceAddr(g)
	gaddr, _ = addrPort(gaddr)
	lif, laddr := optIfaceAddr(l)
	laddr, _ = addrPort(laddr)
	if outbound {
		p.r.set(sSrcIf, lif)
		p.r.set(sSrc, laddr)
		p.r.set(sDstIf, fif)
		p.r.set(sDst, faddr)
		p.r.set(sNatSrc, gaddr)
	} else {
		p.r.set(sSrcIf, fif)
		p.r.set(sSrc, faddr)
		p.r.set(sDstIf, lif)
		p.r.set(sDst, laddr)
		p.r.set(sNatDst, gaddr)
	}
	if rest, ok := strings.CutPrefix(strings.TrimLeft(s, " "), "type "); ok {
		t, rest := word(rest)
		p.r.set(sIcmpType, t)
		if rest, ok := strings.CutPrefix(strings.TrimLeft(rest, " "), "code "); ok {
			c, _ := word(rest)
			p.r.set(sIcmpCode, c)
		}
	}
}

// skipParens skips "(...)" groups (user names, tags) and spaces.
func (p *Parser) skipParens(s string) string {
	for {
		s = strings.TrimLeft(s, " ")
		_, rest, ok := parenthesised(s)
		if !ok {
			return s
		}
		s = rest
	}
}

// icmpBuilt reads 302020 "Built inbound|outbound ICMP connection for faddr ...".
func (p *Parser) icmpBuilt(msg string) {
	s, ok := strings.CutPrefix(msg, "Built ")
	if !ok {
		return
	}
	dir, s := word(s)
	typ, s := word(s)
	s, ok = strings.CutPrefix(strings.TrimLeft(s, " "), "connection for faddr ")
	if !ok {
		return
	}
	p.r.set(sDirection, dir)
	p.r.set(sNetType, typ)
	p.r.set(sTransport, typ)
	p.faddr(s, lower(dir) == "outbound")
}

// deny10623 reads 106010, 106014 and 106023: "Deny [direction] tcp|protocol N
// src IF:ADDR[/PORT][ (user)] dst IF:ADDR[/PORT][ (type T, code C)][ by access-group "ACL"]".
func (p *Parser) deny10623(msg string) {
	s, ok := strings.CutPrefix(msg, "Deny ")
	if !ok {
		return
	}
	w, s := word(s)
	if w == "inbound" || w == "outbound" {
		p.r.set(sDirection, w)
		w, s = word(s)
	}
	if w == "protocol" {
		var n string
		n, s = word(s)
		p.r.set(sTransport, n)
	} else {
		p.r.set(sTransport, w)
	}
	s, ok = strings.CutPrefix(strings.TrimLeft(s, " "), "src ")
	if !ok {
		return
	}
	i := strings.Index(s, " dst ")
	if i < 0 {
		return
	}
	src := strings.TrimSpace(s[:i])
	s = s[i+5:]
	// The source may carry a user or security group tag in parentheses.
	if j := strings.IndexByte(src, '('); j > 0 {
		if in, _, ok := parenthesised(strings.TrimLeft(src[j:], " ")); ok {
			p.userOrSGT(strings.Trim(in, "()"), nSourceUsername)
		}
		src = strings.TrimSpace(src[:j])
	}
	iface, addr := ifaceAddr(src)
	addr, port := addrPort(addr)
	p.r.set(sSrcIf, iface)
	p.r.set(sSrc, addr)
	p.r.set(sSrcPort, port)
	dst, s := word(s)
	if j := strings.IndexByte(dst, '('); j > 0 {
		dst = dst[:j]
	}
	iface, addr = ifaceAddr(dst)
	addr, port = addrPort(addr)
	p.r.set(sDstIf, iface)
	p.r.set(sDst, addr)
	p.r.set(sDstPort, port)
	if in, _, ok := parenthesised(strings.TrimLeft(s, " ")); ok {
		// "(type 3, code 2)"
		if t, ok := strings.CutPrefix(in, "type "); ok {
			t, c, _ := strings.Cut(t, ",")
			p.r.set(sIcmpType, strings.TrimSpace(t))
			p.r.set(sIcmpCode, strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(c), "code ")))
		}
	}
	if _, acl, ok := strings.Cut(s, "access-group \""); ok {
		if j := strings.IndexByte(acl, '"'); j >= 0 {
			p.r.set(sRule, acl[:j])
		}
	}
}

// accessList reads 106100, 106102 and 106103: "access-list ACL permitted|denied|est-allowed
// tcp IF/ADDR(PORT) [for user U ]-> IF/ADDR(PORT) hit-cnt N ...".
func (p *Parser) accessList(msg string) {
	s, ok := strings.CutPrefix(msg, "access-list ")
	if !ok {
		return
	}
	acl, s := word(s)
	outcome, s := word(s)
	transport, s := word(s)
	p.r.set(sRule, acl)
	p.r.set(sOutcome, outcome)
	p.r.set(sTransport, transport)
	if rest, ok := strings.CutPrefix(strings.TrimLeft(s, " "), "for user "); ok {
		u, r := word(rest)
		p.r.set(sSrcUser, u)
		s = r
	}
	src, s, ok := strings.Cut(s, "->")
	if !ok {
		return
	}
	p.slashEnd(strings.TrimSpace(src), sSrcIf, sSrc, sSrcPort)
	dst, _ := word(s)
	p.slashEnd(dst, sDstIf, sDst, sDstPort)
}

// slashEnd reads the access-list end "IF/ADDR(PORT)".
func (p *Parser) slashEnd(s string, ifs, as, ps slot) {
	// The user name form puts "for user U" before the source in 106102.
	i := strings.IndexByte(s, '/')
	if i < 0 {
		return
	}
	p.r.set(ifs, s[:i])
	rest := s[i+1:]
	if j := strings.IndexByte(rest, '('); j >= 0 {
		p.r.set(as, rest[:j])
		if k := strings.IndexByte(rest[j:], ')'); k > 0 {
			p.r.set(ps, rest[j+1:j+k])
		}
		return
	}
	p.r.set(as, rest)
}

// command reads the command accounting messages: 111008 "User 'U' executed the 'CMD' command.",
// 111009 "User 'U' executed cmd: CMD", 111010 "User 'U', running 'APP' from IP A, executed 'CMD'".
func (p *Parser) command(msg string) {
	s, ok := strings.CutPrefix(msg, "User ")
	if !ok {
		return
	}
	var user string
	if strings.HasPrefix(s, "'") {
		end := strings.IndexByte(s[1:], '\'')
		if end < 0 {
			return
		}
		user, s = s[1:end+1], s[end+2:]
	} else {
		user, s = word(s)
		user = strings.TrimSuffix(user, ",")
	}
	p.r.set(sServerUser, user)
	if _, rest, ok := strings.Cut(s, "from IP "); ok {
		ip, _ := word(rest)
		p.r.set(sSrc, strings.TrimSuffix(ip, ","))
	}
	_, cmd, ok := strings.Cut(s, "executed ")
	if !ok {
		return
	}
	cmd = strings.TrimSpace(cmd)
	switch {
	case strings.HasPrefix(cmd, "the "):
		cmd = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(cmd, "the "), "."), " command")
	case strings.HasPrefix(cmd, "cmd:"):
		cmd = strings.TrimSuffix(strings.TrimSpace(cmd[4:]), ".")
	}
	p.native(nCommandLineArguments, unquote(strings.TrimSpace(cmd)))
}

// aaa reads the AAA messages: "AAA user TYPE Successful : server = A : user = U",
// "AAA user authentication Rejected : reason = R : server = A : user = U : user IP = I"
// and their local-database forms; separators are " : ", ": " or ", " as
// ASA versions vary.
func (p *Parser) aaa(msg string) {
	s, ok := strings.CutPrefix(msg, "AAA user ")
	if !ok {
		return
	}
	if i := strings.Index(s, " Successful"); i >= 0 {
		p.native(nAAAType, s[:i])
	} else if i := strings.Index(s, " Rejected"); i >= 0 {
		p.native(nAAAType, s[:i])
	}
	if v, ok := aaaValue(s, "reason = "); ok {
		p.native(nRejectionReason, v)
	}
	if v, ok := aaaValue(s, "server = "); ok {
		p.r.set(sDst, v)
	}
	if v, ok := aaaValue(s, "ser = "); ok { // "user = " and "User = "
		p.r.set(sSrcUser, v)
	}
	if v, ok := aaaValue(s, "ser IP = "); ok && v != "None" {
		p.r.set(sSrc, v)
	}
}

// aaaValue returns the value after key, up to the next separator.
func aaaValue(s, key string) (string, bool) {
	i := strings.Index(s, key)
	if i < 0 {
		return "", false
	}
	// "user IP = " must not be read as "user = ".
	v := s[i+len(key):]
	end := len(v)
	for _, sep := range [...]string{" : ", ": ", ", ", " ,"} {
		if j := strings.Index(v, sep); j >= 0 && j < end {
			end = j
		}
	}
	v = strings.TrimSpace(v[:end])
	return v, v != ""
}

// vpnDisconnect reads 113019.
func (p *Parser) vpnDisconnect(msg string) {
	// The template read the rest.
	if _, rest, ok := strings.Cut(msg, "Bytes xmt: "); ok {
		n, _, _ := strings.Cut(rest, ",")
		p.srcBytes = strings.TrimSpace(n)
	}
	if _, rest, ok := strings.Cut(msg, "Bytes rcv: "); ok {
		n, _, _ := strings.Cut(rest, ",")
		p.dstBytes = strings.TrimSpace(n)
	}
}

// groupUserIPFields reads "Group <G> User <U> IP <A> REST" or "Group G User U IP A REST".
func groupUserIPFields(s string) (group, user, ip, rest string, ok bool) {
	s, ok = strings.CutPrefix(s, "Group ")
	if !ok {
		return
	}
	if strings.HasPrefix(s, "<") {
		var g, u, a string
		if g, s, ok = angled(s); !ok {
			return
		}
		if s, ok = strings.CutPrefix(s, " User "); !ok {
			// 716059 may have no user: "Group <G> IP <A> ...".
			if s2, ok2 := strings.CutPrefix(s, " IP "); ok2 {
				a, s, ok = angled(s2)
				return g, "", a, strings.TrimSpace(s), ok
			}
			return
		}
		if u, s, ok = angled(s); !ok {
			return
		}
		if s, ok = strings.CutPrefix(s, " IP "); !ok {
			return g, u, "", strings.TrimSpace(s), true
		}
		if a, s, ok = angled(s); !ok {
			return
		}
		return g, u, a, strings.TrimSpace(s), true
	}
	group, s = word(s)
	if s, ok = strings.CutPrefix(s, "User "); !ok {
		return
	}
	user, s = word(s)
	if rest, ok2 := strings.CutPrefix(s, "IP "); ok2 {
		ip, s = word(rest)
	}
	return group, user, ip, strings.TrimSpace(s), true
}

// angled reads "<value>" at the start of s.
func angled(s string) (v, rest string, ok bool) {
	if !strings.HasPrefix(s, "<") {
		return "", s, false
	}
	i := strings.IndexByte(s, '>')
	if i < 0 {
		return "", s, false
	}
	return s[1:i], s[i+1:], true
}

// groupUserIP reads the 1130xx VPN messages that start with Group/User/IP.
func (p *Parser) groupUserIP(msg string) {
	if g, u, a, _, ok := groupUserIPFields(msg); ok {
		p.r.set(sSrcGroup, g)
		p.r.set(sSrcUser, u)
		p.r.set(sSrc, a)
		return
	}
	// 113040 without a group: "Terminating the VPN connection attempt from G. Reason: ..."
	if rest, ok := strings.CutPrefix(msg, "Terminating the VPN connection attempt from "); ok {
		g, _, _ := strings.Cut(rest, ". Reason")
		p.r.set(sSrcGroup, g)
	}
}

// webVPN reads 7160xx: Group/User/IP followed by the session's news.
func (p *Parser) webVPN(msg string) {
	if rest, ok := strings.CutPrefix(msg, "Authentication: rejected, group = "); ok { // 716039
		g, rest := word(rest)
		p.r.set(sSrcGroup, g)
		if rest, ok := strings.CutPrefix(strings.TrimLeft(rest, " "), "user = "); ok {
			u, rest := word(rest)
			p.r.set(sSrcUser, u)
			if _, t, ok := strings.Cut(rest, "Session Type: "); ok {
				p.r.set(sSessionType, strings.TrimSuffix(strings.TrimSpace(t), "."))
			}
		}
		return
	}
	g, u, a, rest, ok := groupUserIPFields(msg)
	if !ok {
		return
	}
	p.native(nWebVPNGroupName, g)
	p.r.set(sSrcUser, u)
	switch p.msgID {
	case "716059": // "... IP <dst> AnyConnect session resumed connection from IP <src>."
		p.r.set(sDst, a)
		if i := strings.LastIndex(rest, "from "); i >= 0 {
			src := strings.TrimSuffix(strings.TrimSpace(rest[i+5:]), ".")
			src = strings.TrimPrefix(src, "IP ")
			p.r.set(sSrc, strings.Trim(src, "<>"))
		}
		return
	case "716039":
		if _, t, ok := strings.Cut(rest, "Session Type: "); ok {
			p.r.set(sSessionType, strings.TrimSuffix(strings.TrimSpace(t), "."))
		}
	case "716002":
		if r, ok := strings.CutPrefix(rest, "WebVPN session terminated: "); ok {
			p.r.set(sReason, strings.TrimSuffix(r, "."))
		}
	case "716003":
		if r, ok := strings.CutPrefix(rest, "WebVPN access GRANTED: "); ok {
			p.r.set(sURL, strings.Trim(r, "\""))
		}
	}
	p.r.set(sSrc, a)
}

// svc reads the AnyConnect (SVC) 7220xx messages.
func (p *Parser) svc(msg string) {
	g, u, a, rest, ok := groupUserIPFields(msg)
	if !ok {
		return
	}
	p.r.set(sSrcGroup, g)
	p.r.set(sSrcUser, u)
	p.r.set(sSrc, a)
	switch p.msgID {
	case "722055":
		if ua, ok := strings.CutPrefix(rest, "Client Type: "); ok {
			p.userAgent = ua
			return
		}
	case "722033":
		if t, ok := strings.CutPrefix(rest, "First "); ok {
			tr, _ := word(t)
			p.r.set(sTransport, tr)
		}
	case "722034":
		if t, ok := strings.CutPrefix(rest, "New "); ok {
			tr, _ := word(t)
			p.r.set(sTransport, tr)
		}
	case "722051":
		if ip, ok := strings.CutPrefix(rest, "IPv4 Address <"); ok {
			if i := strings.IndexByte(ip, '>'); i >= 0 {
				p.native(nAssignedIP, ip[:i])
			}
		}
	}
	p.r.set(sReason, rest)
}

// urlAccessed reads 304001 "[USER@]SRC[(...)] Accessed URL DST:URL".
func (p *Parser) urlAccessed(msg string) {
	src, s := word(msg)
	if i := strings.IndexByte(src, '('); i > 0 {
		src = src[:i]
	}
	if i := strings.LastIndexByte(src, '@'); i >= 0 {
		p.r.set(sSrcUser, src[:i])
		src = src[i+1:]
	}
	p.r.set(sSrc, src)
	i := strings.Index(s, "URL ")
	if i < 0 {
		return
	}
	s = s[i+4:]
	if at := strings.IndexByte(s, '@'); at >= 0 && at < strings.IndexByte(s, ':') {
		s = s[at+1:]
	}
	// The destination is an address or host up to the colon before the URL.
	j := strings.Index(s, ":")
	if strings.HasPrefix(s, "[") { // [IPv6]:
		if k := strings.Index(s, "]:"); k > 0 {
			p.r.set(sDst, s[1:k])
			p.r.set(sURL, s[k+2:])
			return
		}
	}
	if j < 0 {
		return
	}
	dst, url := s[:j], s[j+1:]
	if strings.Count(s, ":") > 2 && !strings.Contains(url, "//") {
		// An IPv6 destination: the URL starts after the last ':' before "http".
		if k := strings.Index(s, ":http"); k > 0 {
			dst, url = s[:k], s[k+1:]
		}
	}
	p.r.set(sDst, dst)
	p.r.set(sURL, url)
}

// translation reads 305011 "Built dynamic TCP translation from IF:ADDR/PORT[(user)] to IF:ADDR/PORT"
// and 305012 "Teardown dynamic TCP translation from ... duration H:MM:SS".
func (p *Parser) translation(msg string) {
	_, s := word(msg) // Built | Teardown
	_, s = word(s)    // dynamic | static
	transport, s := word(s)
	s, ok := strings.CutPrefix(strings.TrimLeft(s, " "), "translation from ")
	if !ok {
		return
	}
	src, s := word(s)
	if i := strings.IndexByte(src, '('); i > 0 {
		if in, _, ok := parenthesised(src[i:]); ok {
			p.r.set(sSrcUser, in)
			p.native(nSourceUsername, in)
		}
		src = src[:i]
	}
	s = p.skipParens(s)
	s, ok = strings.CutPrefix(s, "to ")
	if !ok {
		return
	}
	p.r.set(sTransport, transport)
	p.r.setEnd(sSrcIf, sSrc, sSrcPort, src)
	dst, s := word(s)
	p.r.setEnd(sDstIf, sDst, sDstPort, dst)
	if rest, ok := strings.CutPrefix(strings.TrimLeft(s, " "), "duration "); ok {
		d, _ := word(rest)
		p.r.set(sDuration, d)
	}
}

// icmpNoConnection reads 313005: "No matching connection for ICMP error message:
// icmp src IF:A dst IF:B (type T, code C) on IF interface.  Original IP payload: udp src A/P dst B/P."
// The ends are those of the original packet, as in Elastic's pipeline.
func (p *Parser) icmpNoConnection(msg string) {
	s, ok := strings.CutPrefix(msg, "No matching connection for ICMP error message: ")
	if !ok {
		return
	}
	transport, s := word(s)
	p.r.set(sTransport, transport)
	s, ok = strings.CutPrefix(s, "src ")
	if !ok {
		return
	}
	src, s := word(s)
	srcIf, _ := ifaceAddr(src)
	p.r.set(sSrcIf, srcIf)
	s, ok = strings.CutPrefix(p.skipParensAfter(s), "dst ")
	if !ok {
		return
	}
	dst, s := word(s)
	dstIf, _ := ifaceAddr(dst)
	p.r.set(sDstIf, dstIf)
	if in, _, ok := parenthesised(strings.TrimLeft(s, " ")); ok {
		if t, ok := strings.CutPrefix(in, "type "); ok {
			t, c, _ := strings.Cut(t, ",")
			p.r.set(sIcmpType, strings.TrimSpace(t))
			p.r.set(sIcmpCode, strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(c), "code ")))
		}
	}
	_, orig, ok := strings.Cut(s, "Original IP payload: ")
	if !ok {
		return
	}
	proto, orig := word(orig)
	if proto == "protocol" {
		var n string
		n, orig = word(orig)
		p.native(nOriginalIANANumber, number(n))
	}
	if rest, ok := strings.CutPrefix(strings.TrimLeft(orig, " "), "src "); ok {
		a, rest := word(rest)
		addr, port := addrPort(a)
		p.r.set(sSrc, addr)
		p.r.set(sSrcPort, port)
		if rest, ok := strings.CutPrefix(strings.TrimLeft(rest, " "), "dst "); ok {
			b, _ := word(rest)
			addr, port := addrPort(strings.TrimSuffix(b, "."))
			p.r.set(sDst, addr)
			p.r.set(sDstPort, port)
		}
	}
}

// skipParensAfter drops a "(...)" glued to the previous word, then spaces.
func (p *Parser) skipParensAfter(s string) string { return p.skipParens(s) }

// dynamicFilter reads the botnet traffic filter messages 3380xx-3382xx:
// "Dynamic Filter ACTION black|white|greylisted TCP traffic from IF:A/P (MA/MP) to IF:B/P (MB/MP),
// source|destination X resolved from LIST list: DOMAIN[, threat-level: L, category: C]".
func (p *Parser) dynamicFilter(msg string) {
	s, ok := strings.CutPrefix(msg, "Dynamic ")
	if !ok {
		return
	}
	i := strings.Index(s, "listed ")
	if i < 0 {
		return
	}
	s = s[i+7:]
	transport, s := word(s)
	s, ok = strings.CutPrefix(strings.TrimLeft(s, " "), "traffic from ")
	if !ok {
		return
	}
	p.r.set(sTransport, transport)
	src, s := word(s)
	p.r.setEnd(sSrcIf, sSrc, sSrcPort, src)
	s = p.endTrailer(s, sNatSrc, sNatSrcPort, nSourceUsername)
	s, ok = strings.CutPrefix(s, "to ")
	if !ok {
		return
	}
	dst, s := word(s)
	p.r.setEnd(sDstIf, sDst, sDstPort, strings.TrimSuffix(dst, ","))
	s = p.endTrailer(s, sNatDst, sNatDstPort, nDestinationUsername)
	s = strings.TrimLeft(strings.TrimPrefix(s, ","), " ")
	side, s := word(s)
	_, s, ok = strings.Cut(s, "resolved from ")
	if !ok {
		return
	}
	list, s := word(s)
	p.r.set(sRule, list)
	s = strings.TrimPrefix(strings.TrimLeft(s, " "), "list: ")
	domain, s, _ := strings.Cut(s, ", threat-level: ")
	domain = strings.TrimSpace(domain)
	if domain != "" && !strings.Contains(domain, "/") && !isIP(domain) {
		if side == "source" {
			p.r.set(sSrcDomain, domain)
		} else {
			p.r.set(sDstDomain, domain)
		}
		p.serverDomain = domain
	}
	if s != "" {
		lvl, cat, _ := strings.Cut(s, ", category: ")
		p.native(nThreatLevel, strings.TrimSpace(lvl))
		p.native(nThreatCategory, strings.TrimSpace(cat))
	}
}

// duplicateSYN reads 419002 "Duplicate TCP SYN from IF:A/P to IF:B/P with different initial sequence number".
func (p *Parser) duplicateSYN(msg string) {
	before, s, ok := strings.Cut(msg, "from ")
	if !ok {
		return
	}
	src, s := word(s)
	s, ok = strings.CutPrefix(strings.TrimLeft(s, " "), "to ")
	if !ok {
		return
	}
	dst, s := word(s)
	p.r.setEnd(sSrcIf, sSrc, sSrcPort, src)
	p.r.setEnd(sDstIf, sDst, sDstPort, dst)
	p.r.set(sTransport, "tcp")
	p.r.set(sReason, before+strings.TrimSpace(s))
}

// privilege reads 502103 "User priv level changed: Uname: U From: N To: M".
func (p *Parser) privilege(msg string) {
	s, ok := strings.CutPrefix(msg, "User priv level changed: Uname: ")
	if !ok {
		return
	}
	u, s, _ := strings.Cut(s, " From: ")
	from, to, _ := strings.Cut(s, " To: ")
	p.r.set(sServerUser, strings.TrimSpace(u))
	p.native(nPrivilegeOld, strings.TrimSpace(from))
	p.native(nPrivilegeNew, strings.TrimSpace(to))
}

// ipsecSA reads 602303/602304 "IPSEC: An inbound|outbound TYPE SA (SPI= X) between A and B (user= U) has been created|deleted."
func (p *Parser) ipsecSA(msg string) {
	typ, s, ok := strings.Cut(msg, ": An ")
	if !ok {
		return
	}
	p.r.set(sNetType, typ)
	dir, s := word(s)
	p.r.set(sDirection, dir)
	tun, s := word(s)
	p.native(nTunnelType, tun)
	_, s, ok = strings.Cut(s, "between ")
	if !ok {
		return
	}
	a, s := word(s)
	s = strings.TrimPrefix(strings.TrimLeft(s, " "), "and ")
	b, s := word(s)
	p.r.set(sSrc, a)
	p.r.set(sDst, b)
	if _, u, ok := strings.Cut(s, "(user= "); ok {
		u, _, _ = strings.Cut(u, ")")
		p.r.set(sUser, u)
	}
}

// ssl reads the TLS handshake messages 725001/2/7/16.
func (p *Parser) ssl(msg string) {
	var s string
	var ok bool
	switch p.msgID {
	case "725001":
		s, ok = strings.CutPrefix(msg, "Starting SSL handshake with ")
	case "725002":
		s, ok = strings.CutPrefix(msg, "Device completed SSL handshake with ")
	case "725007":
		s, ok = strings.CutPrefix(msg, "SSL session with ")
	case "725016":
		var tp string
		tp, s, ok = strings.Cut(strings.TrimPrefix(msg, "Device selects trust-point "), " for ")
		p.native(nTrustpoint, tp)
	}
	if !ok {
		return
	}
	peer, s := word(s)
	p.native(nPeerType, peer)
	src, s := word(s)
	p.r.setEnd(sSrcIf, sSrc, sSrcPort, src)
	if rest, ok := strings.CutPrefix(strings.TrimLeft(s, " "), "to "); ok {
		dst, r := word(rest)
		addr, port := addrPort(dst)
		p.r.set(sDst, addr)
		p.r.set(sDstPort, port)
		s = r
	}
	if rest, ok := strings.CutPrefix(strings.TrimLeft(s, " "), "for "); ok {
		v, _ := word(rest)
		p.tlsVersion = v
	}
}

// burst reads 733100 "[ OBJECT] drop ID exceeded. Current burst rate is N per second, max
// configured rate is N; Current average rate is N per second, max configured rate is N;
// Cumulative total count is N".
func (p *Parser) burst(msg string) {
	s := msg
	if in, rest, ok := strings.Cut(s, "]"); ok && strings.HasPrefix(s, "[") {
		p.native(nBurstObject, strings.TrimSpace(in[1:]))
		s = strings.TrimLeft(rest, " ")
		if r, ok := strings.CutPrefix(s, "drop "); ok {
			id, _ := word(r)
			p.native(nBurstID, id)
		}
	}
	num := func(key string) string {
		_, r, ok := strings.Cut(s, key)
		if !ok {
			return ""
		}
		n, _ := word(r)
		return number(strings.TrimSuffix(n, ";"))
	}
	p.native(nBurstCurrentRate, num("Current burst rate is "))
	if _, r, ok := strings.Cut(s, "Current burst rate is "); ok {
		if _, r2, ok := strings.Cut(r, "max configured rate is "); ok {
			n, _ := word(r2)
			p.native(nBurstConfiguredRate, number(strings.TrimSuffix(n, ";")))
		}
	}
	p.native(nBurstAvgRate, num("Current average rate is "))
	if _, r, ok := strings.Cut(s, "Current average rate is "); ok {
		if _, r2, ok := strings.Cut(r, "max configured rate is "); ok {
			n, _ := word(r2)
			p.native(nBurstConfiguredAvgRate, number(strings.TrimSuffix(n, ";")))
		}
	}
	p.native(nBurstCumulativeCount, num("Cumulative total count is "))
}

// dap reads 734001 "DAP: User U, Addr A, Connection T: The following DAP records were selected
// for this connection: R1, R2".
func (p *Parser) dap(msg string) {
	s, ok := strings.CutPrefix(msg, "DAP: User ")
	if !ok {
		return
	}
	u, s, ok := strings.Cut(s, ", Addr ")
	if !ok {
		return
	}
	a, s, ok := strings.Cut(s, ", Connection ")
	if !ok {
		return
	}
	t, s, _ := strings.Cut(s, ": ")
	p.r.set(sEmail, u)
	p.r.set(sSrc, a)
	p.native(nConnectionType, t)
	if _, recs, ok := strings.Cut(s, "selected for this connection: "); ok {
		p.dapRecords = strings.TrimSpace(recs)
	}
}
