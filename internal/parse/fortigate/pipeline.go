package fortigate

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/syslogheader"
)

// run maps the pairs to ECS in the order of Elastic's fortinet_fortigate
// ingest pipeline (default.yml, then event.yml, login.yml, traffic.yml,
// utm.yml and logid.yml as it calls them), so that the same conditions see
// the same state. Processors that only enrich (GeoIP, ASN, community ID)
// are left out: they are not parsing.
func (p *Parser) run(h syslogheader.Header, dst *event.Event) {
	if h.Priority >= 0 {
		p.put1(fLogSyslogPriority, smallInt(h.Priority))
		p.put1(fLogSyslogFacility, smallInt(h.Priority>>3))
		p.put1(fLogSyslogSeverity, smallInt(h.Priority&7))
	}

	// Time zone: "-0700", or a human form such as "GMT+5:30".
	tz, haveTZ := p.fw(kTz)
	if haveTZ {
		tz = normalizeTZ(tz)
		p.put1(fEventTimezone, tz)
	}
	loc, locOK := time.UTC, true
	if haveTZ {
		loc, locOK = p.zone(tz)
	}
	date, haveDate := p.fw(kDate)
	clock, haveClock := p.fw(kTime)
	switch {
	case haveDate && haveClock && locOK:
		if t, ok := dateTime(date, clock, loc); ok {
			dst.Time = t.UTC()
		} else if !h.Time.IsZero() {
			dst.Time = h.Time
		}
	case !h.Time.IsZero():
		dst.Time = h.Time
	}
	if et, ok := p.fw(kEventtime); ok {
		if t, ok := eventTime(et); ok {
			start := len(p.scratch)
			p.scratch = t.AppendFormat(p.scratch, "2006-01-02T15:04:05.000Z07:00")
			p.putScratch(fEventStart, start)
		}
	}
	p.rename(kDevname, fObserverName)
	if !p.set[fObserverName] {
		// Elastic names the observer after an RFC 5424 header's host: in
		// the payload, or already parsed by the syslog receiver.
		if h.Version != "" && h.Host != "" {
			p.put1(fObserverName, h.Host)
		} else if v, _ := dst.Get("log.syslog.version"); v != "" {
			if host, _ := dst.Get("log.syslog.hostname"); host != "" {
				p.put1(fObserverName, host)
			}
		}
	}
	if d, ok := p.fw(kDuration); ok {
		if n, err := strconv.ParseInt(d, 10, 64); err == nil && n < math.MaxInt64/int64(time.Second) && n > math.MinInt64/int64(time.Second) {
			start := len(p.scratch)
			p.scratch = strconv.AppendInt(p.scratch, n*1e9, 10)
			p.putScratch(fEventDuration, start)
		}
	}
	p.rename(kDevid, fObserverSerial)
	p.renameIfUnset(kDstintf, fObserverEgress)
	p.renameIfUnset(kSrcintf, fObserverIngress)
	p.rename(kDstInt, fObserverEgress)
	p.rename(kSrcInt, fObserverIngress)
	p.rename(kLevel, fLogLevel)
	p.copyKey(kSubject, fEmailSubject)
	if v, ok := p.fw(kSrcname); ok {
		p.put1(fHostName, strings.ToLower(v))
	}
	p.rename(kMsg, fMessage)
	if v, ok := p.take(kDstmac); ok {
		start := len(p.scratch)
		p.scratch = appendMAC(p.scratch, v, false)
		p.putScratch(fDestinationMac, start)
	}

	typ, _ := p.fw(kType)
	if typ == "event" {
		p.eventPipeline()
	}
	if msg, ok := p.get(fMessage); ok {
		if m := strings.ToLower(msg); strings.Contains(m, "login") || strings.Contains(m, "logged in") {
			p.loginPipeline()
		}
	}
	switch typ {
	case "traffic":
		p.trafficPipeline()
	case "utm", "dns":
		p.utmPipeline()
	}
	if code, ok := p.get(fEventCode); ok && !p.set[fEventAction] {
		if a, ok := logidActions[code]; ok {
			p.put1(fEventAction, a)
		}
	}
	if typ != "event" && typ != "traffic" && typ != "utm" && typ != "dns" {
		p.otherTypes()
	}
	p.legacyAddresses()
	p.renameIfUnset(kEventtype, fEventAction)
	p.renameIfUnset(kReason, fEventReason)
	p.renameIfUnset(kEventsubtype, fEventReason)
	p.renameIfUnset(kDir, fNetworkDirection)
	p.renameIfUnset(kDirection, fNetworkDirection)
	if !p.set[fNetworkDirection] {
		if d, ok := direction(p.out[fSourceIP], p.set[fSourceIP], p.out[fDestinationIP], p.set[fDestinationIP]); ok {
			p.put1(fNetworkDirection, d)
		}
	}
	if d, ok := p.get(fNetworkDirection); ok {
		d = strings.ToLower(d)
		switch d {
		case "outgoing":
			d = "outbound"
		case "incoming":
			d = "inbound"
		case "ingress", "egress", "inbound", "outbound", "internal", "external":
		default:
			d = "unknown"
		}
		p.put1(fNetworkDirection, d)
		switch d {
		case "ingress", "inbound", "internal":
			p.renameIfUnset(kInterface, fObserverIngress)
		case "egress", "outbound", "external":
			p.renameIfUnset(kInterface, fObserverEgress)
		}
	}
	for _, k := range [...]key{kAuditid, kAudittime, kQuotamax, kQuotaused, kSize, kDisklograte, kFazlograte, kLanin, kLanout, kSetuprate, kWanin, kWanout} {
		if v, ok := p.fw(k); ok {
			if n, ok := long(v); ok {
				p.val[k] = n
			}
		}
	}
	p.sum(fSourceBytes, fDestinationBytes, fNetworkBytes)
	p.sum(fSourcePackets, fDestinationPackets, fNetworkPackets)
	if n, ok := p.get(fNetworkIANA); ok {
		if t := ianaTransport(n); t != "" {
			p.put1(fNetworkTransport, t)
		}
	}
	if v, ok := p.get(fSourceMac); ok {
		start := len(p.scratch)
		p.scratch = appendMAC(p.scratch, v, true)
		p.putScratch(fSourceMac, start)
	}
	p.related()
	p.categorize()
	p.drop(kTz, kDate, kDevid, kEventtime, kTime, kDuration)
}

// otherTypes maps the addresses of logs no Elastic sub-pipeline handles
// (FortiOS 5 type=anomaly and other rare types), which Elastic leaves in
// fortinet.firewall.*: an event without its source and destination is of
// little use to detection.
func (p *Parser) otherTypes() {
	p.renameIfUnset(kSrcip, fSourceIP)
	p.renameIfUnset(kDstip, fDestinationIP)
	if !p.set[fSourcePort] {
		p.convertLong(kSrcport, fSourcePort)
	}
	if !p.set[fDestinationPort] {
		p.convertLong(kDstport, fDestinationPort)
	}
	if p.set[fSourcePort] {
		p.drop(kSrcport)
	}
	if p.set[fDestinationPort] {
		p.drop(kDstport)
	}
	p.renameIfUnset(kUser, fSourceUserName)
}

// legacyAddresses maps the FortiOS 4 address keys (src, dst, src_port,
// dst_port), which Elastic's pipeline does not know, when nothing newer
// gave the source and destination.
func (p *Parser) legacyAddresses() {
	for _, m := range [...]struct {
		k string
		f field
	}{{"src", fSourceIP}, {"dst", fDestinationIP}, {"src_port", fSourcePort}, {"dst_port", fDestinationPort}} {
		if p.set[m.f] {
			continue
		}
		var v string
		var ok bool
		if id, numbered := lookup(m.k); numbered {
			v, ok = p.fw(id)
		} else {
			v, ok = p.extraGet(m.k)
		}
		if !ok {
			continue
		}
		if m.f == fSourceIP || m.f == fDestinationIP {
			if _, err := netip.ParseAddr(v); err == nil {
				p.put1(m.f, v)
			}
		} else if n, ok := long(v); ok {
			p.put1(m.f, n)
		}
	}
}

// related fills related.ip, related.user and related.hosts.
func (p *Parser) related() {
	for _, f := range [...]field{fSourceIP, fDestinationIP, fSourceNatIP, fDestinationNatIP} {
		if v, ok := p.get(f); ok {
			p.add(aRelatedIP, v, true)
		}
	}
	for _, k := range [...]key{kIP, kAssignip, kTunnelip} {
		if v, ok := p.fw(k); ok {
			p.add(aRelatedIP, v, true)
		}
	}
	for _, f := range [...]field{fSourceUserName, fDestinationUserName} {
		if v, ok := p.get(f); ok {
			p.add(aRelatedUser, v, true)
		}
	}
	for _, f := range [...]field{fDestinationAddress, fSourceAddress, fHostName, fDNSQuestionName} {
		if v, ok := p.get(f); ok {
			p.add(aRelatedHosts, v, true)
		}
	}
	for i := range len(p.arr[aDNSResolvedIP]) {
		p.add(aRelatedIP, p.arr[aDNSResolvedIP][i], true)
	}
}

// categorize gives every event a kind, category and type. Elastic's
// pipeline leaves some without (system events, anomalies); those get the
// nearest ECS values here, so that every stored event can be filtered by
// category. Where the pipeline set them they are left alone.
func (p *Parser) categorize() {
	if !p.set[fEventKind] {
		p.put1(fEventKind, "event")
	}
	typ, _ := p.fw(kType)
	sub, _ := p.fw(kSubtype)
	act := strings.ToLower(p.val[kAction])
	if !p.has[kAction] {
		act = ""
	}
	if len(p.arr[aEventCategory]) == 0 {
		switch {
		case strings.Contains(act, "login") || strings.Contains(act, "logout") || strings.Contains(act, "logon") || strings.Contains(act, "logoff"):
			p.add(aEventCategory, "authentication", false)
		case typ == "event" && (p.extraHas("cfgpath") || strings.Contains(strings.ToLower(p.out[fRuleDescription]), "configur")):
			p.add(aEventCategory, "configuration", false)
			if len(p.arr[aEventType]) == 0 {
				p.add(aEventType, "change", false)
			}
		case typ == "anomaly" || sub == "ips" || sub == "anomaly":
			p.add(aEventCategory, "intrusion_detection", false)
		case sub == "virus":
			p.add(aEventCategory, "malware", false)
		case typ == "event" && (sub == "system" || sub == "ha" || sub == "update" || sub == "endpoint"):
			p.add(aEventCategory, "host", false)
		default:
			p.add(aEventCategory, "network", false)
		}
	}
	if len(p.arr[aEventType]) == 0 {
		switch {
		case strings.Contains(act, "logout") || strings.Contains(act, "logoff"):
			p.add(aEventType, "end", false)
		case act == "login" || strings.Contains(act, "logon"):
			p.add(aEventType, "start", false)
		case act == "deny" || act == "block" || act == "blocked" || act == "dropped" || act == "drop":
			p.add(aEventType, "denied", false)
		default:
			p.add(aEventType, "info", false)
		}
	}
}

// extraHas reports whether a key that is not numbered is present.
func (p *Parser) extraHas(k string) bool {
	_, ok := p.extraGet(k)
	return ok
}

// extraGet returns the value of a key that is not numbered.
func (p *Parser) extraGet(k string) (string, bool) {
	for i := range p.extra {
		if p.extra[i].live && p.extra[i].key == k {
			return p.extra[i].val, true
		}
	}
	return "", false
}

// sum sets c to a+b when both are integers.
func (p *Parser) sum(a, b, c field) {
	x, ok1 := p.get(a)
	y, ok2 := p.get(b)
	if !ok1 || !ok2 {
		return
	}
	m, err1 := strconv.ParseInt(x, 10, 64)
	n, err2 := strconv.ParseInt(y, 10, 64)
	if err1 == nil && err2 == nil {
		start := len(p.scratch)
		p.scratch = strconv.AppendInt(p.scratch, m+n, 10)
		p.putScratch(c, start)
	}
}

// eventPipeline is event.yml: type=event logs (system, vpn, user, ...).
func (p *Parser) eventPipeline() {
	p.put1(fEventKind, "event")
	action, _ := p.fw(kAction)
	result, _ := p.fw(kResult)
	status, _ := p.fw(kStatus)
	if result == "ERROR" || status == "negotiate_error" {
		p.put1(fEventOutcome, "failure")
	}
	if result == "OK" || action == "FSSO-logon" || action == "auth-logon" || action == "FSSO-logoff" || action == "auth-logout" {
		p.put1(fEventOutcome, "success")
	}
	if !p.set[fEventOutcome] {
		// FortiOS 7.6 VPN failures carry status="failure" and no result;
		// Elastic's current documents say failure for them.
		if status == "failure" || status == "failed" {
			p.put1(fEventOutcome, "failure")
		}
	}
	switch action {
	case "FSSO-logon", "auth-logon":
		p.add(aEventType, "start", false)
	case "FSSO-logoff", "auth-logout":
		p.add(aEventType, "end", false)
	}
	sub, _ := p.fw(kSubtype)
	if sub == "vpn" {
		p.add(aEventType, "connection", false)
		p.add(aEventCategory, "network", false)
	}
	if action == "perf-stats" {
		p.add(aEventType, "info", false)
		p.add(aEventCategory, "host", false)
	}
	if sub == "update" {
		p.add(aEventType, "info", false)
		p.add(aEventCategory, "host", false)
		p.add(aEventCategory, "malware", false)
	}
	if sub == "user" {
		p.add(aEventCategory, "authentication", false)
	}
	p.rename(kDstip, fDestinationIP)
	p.renameIfUnset(kRemip, fDestinationIP)
	p.convertLong(kDstport, fDestinationPort)
	if !p.set[fDestinationPort] {
		p.convertLong(kRemport, fDestinationPort)
	}
	p.convertLong(kRcvdbyte, fDestinationBytes)
	p.rename(kDaddr, fDestinationAddress)
	p.renameIfUnset(kDstHost, fDestinationAddress)
	p.rename(kGroup, fSourceUserGroup)
	p.convertLong(kSentbyte, fSourceBytes)
	p.rename(kSrcip, fSourceIP)
	p.renameIfUnset(kLocip, fSourceIP)
	p.rename(kSrcmac, fSourceMac)
	p.renameIfUnset(kSourceMac, fSourceMac)
	p.convertLong(kSrcport, fSourcePort)
	if !p.set[fSourcePort] {
		p.convertLong(kLocport, fSourcePort)
	}
	p.rename(kUser, fSourceUserName)
	p.rename(kSaddr, fSourceAddress)
	p.rename(kAgent, fUserAgent)
	p.rename(kFile, fFileName)
	p.convertLong(kFilesize, fFileSize)
	p.renameIfUnset(kLogid, fEventCode)
	p.rename(kPolicyid, fRuleID)
	p.rename(kProto, fNetworkIANA)
	if v, ok := p.take(kService); ok {
		p.putLower(fNetworkProtocol, v)
	}
	p.rename(kErrorNum, fErrorCode)
	p.rename(kLogdesc, fRuleDescription)
	if v, ok := p.fw(kAddr); ok && !p.has[kAddrgrp] {
		if _, err := netip.ParseAddr(v); err != nil {
			p.take(kAddr)
			p.put(keyNames[kAddrgrp], v)
		}
	}
	if v, ok := p.take(kURL); ok {
		if !p.uriParts(v) {
			p.put1(fURLOriginal, v)
		}
	}
	if v, ok := p.take(kHostname); ok && v != "" {
		p.put1(fURLDomain, v)
	}
	if !p.set[fEventDuration] {
		p.convertLong(kSessDuration, fEventDuration)
	}
	if v, ok := p.fw(kMem); ok {
		if n, ok := long(v); ok {
			p.val[kMem] = n
		}
	}
	for _, k := range [...]key{kJitter, kLatency} {
		if v, ok := p.fw(k); ok {
			if f, err := strconv.ParseFloat(v, 32); err == nil {
				p.val[k] = strconv.FormatFloat(f, 'g', -1, 32)
			}
		}
	}
	if sub == "vpn" {
		if v, ok := p.fw(kXauthuser); ok {
			p.put1(fSourceUserName, v)
		}
		if v, ok := p.fw(kEapuser); ok {
			p.put1(fSourceUserName, v)
		}
	}
	if v, ok := p.fw(kAdvpnsc); ok {
		p.val[kAdvpnsc] = strconv.FormatBool(v != "0")
	}
	p.drop(kDstport, kRemport, kRcvdbyte, kSentbyte, kSrcport, kLocport, kFilesize, kSessDuration)
	if sub == "vpn" {
		p.swapVPN()
	}
}

// swapVPN makes the remote peer the source and the FortiGate the
// destination, as Elastic does for VPN logs; the user stays with the
// source.
func (p *Parser) swapVPN() {
	for f := fSourceIP; f < fDestinationIP; f++ {
		g := f + (fDestinationIP - fSourceIP)
		p.out[f], p.out[g] = p.out[g], p.out[f]
		p.set[f], p.set[g] = p.set[g], p.set[f]
		p.comp[f], p.comp[g] = p.comp[g], p.comp[f]
		p.bounds[f], p.bounds[g] = p.bounds[g], p.bounds[f]
	}
	srcUser := p.set[fSourceUserName] || p.set[fSourceUserGroup] || len(p.arr[aSourceUserRoles]) > 0
	if srcUser {
		// the old source's user stays; the new destination has none
		p.del(fDestinationUserName)
		return
	}
	// The old destination's user comes with it to the source.
	if v, ok := p.get(fDestinationUserName); ok {
		p.put1(fSourceUserName, v)
		p.del(fDestinationUserName)
	}
}

// loginPipeline is login.yml: messages about logins.
func (p *Parser) loginPipeline() {
	p.put1(fEventKind, "event")
	if !p.set[fEventAction] {
		p.put1(fEventAction, "login")
	}
	p.add(aEventCategory, "authentication", false)
	if v, ok := p.get(fSourceUserName); ok {
		p.put1(fUserName, v)
	}
	if v, ok := p.fw(kAdminprof); ok {
		p.add(aUserRoles, v, false)
		p.add(aSourceUserRoles, v, false)
	}
	if v, ok := p.fw(kUserfrom); ok && strings.HasPrefix(v, "JSON(") {
		if r, ok := dissect(v, "JSON(", ")"); ok {
			p.put1(fSourceIP, r[0])
		}
	}
	msg := p.out[fMessage]
	var role string
	if strings.HasPrefix(msg, "user") {
		if d, ok := p.fw(kDesc); ok {
			if r, ok := dissect(d, "User login/logout ", ""); ok {
				p.put1(fEventOutcome, r[0])
			}
		}
	}
	if strings.HasPrefix(msg, "Login from ssh:") {
		if r, ok := dissect(msg, "Login from ssh: ", " for ", " from ", " port ", ""); ok {
			p.put1(fEventOutcome, r[0])
			p.put1(fUserName, r[1])
			p.put1(fSourceIP, r[2])
			p.put1(fSourcePort, r[3])
		}
	}
	if strings.HasPrefix(msg, "Administrator") {
		if !strings.Contains(strings.ToLower(msg), "logged in") {
			if r, ok := dissect(msg, "", " ", " login ", " from ", "(", ") ", ""); ok {
				role = r[0]
				p.put1(fUserName, r[1])
				p.put1(fEventOutcome, r[2])
				p.put1(fSourceIP, r[4])
			}
		} else if r, ok := dissect(msg, "", " ", " logged in ", " from ", "(", ")"); ok {
			role = r[0]
			p.put1(fUserName, r[1])
			p.put1(fEventOutcome, r[2])
			p.put1(fSourceIP, r[4])
		}
	}
	if o, ok := p.get(fEventOutcome); ok {
		switch lo := strings.ToLower(o); {
		case strings.HasPrefix(lo, "fail"):
			p.put1(fEventOutcome, "failure")
		case strings.HasPrefix(lo, "success"):
			p.put1(fEventOutcome, "success")
		}
	}
	p.rename(kLogID2, fEventID)
	p.rename(kPri, fLogLevel)
	p.rename(kDeviceID, fObserverSerial)
	if role != "" {
		p.add(aUserRoles, role, true)
		p.add(aSourceUserRoles, role, true)
	}
	if v, ok := p.get(fSourcePort); ok {
		if n, ok := long(v); ok {
			p.put1(fSourcePort, n)
		} else {
			p.del(fSourcePort)
		}
	}
	if v, ok := p.fw(kValid); ok {
		if n, ok := long(v); ok {
			p.val[kValid] = n
		}
	}
	p.drop(kAdminprof, kUserfrom, kRemoteIP, kRemotePort, kUI, kStatus)
}

// trafficPipeline is traffic.yml: session logs.
func (p *Parser) trafficPipeline() {
	p.put1(fEventKind, "event")
	action, haveAction := p.fw(kAction)
	if haveAction && action != "" {
		p.put1(fEventAction, action)
	}
	if haveAction {
		p.put1(fEventOutcome, "success")
	}
	p.add(aEventCategory, "network", false)
	p.add(aEventType, "connection", false)
	if action == "start" {
		p.add(aEventType, "start", false)
	}
	if haveAction && action != "start" {
		p.add(aEventType, "end", false)
	}
	utm, haveUTM := p.fw(kUtmaction)
	if p.has[kApp] && action != "deny" {
		p.add(aEventType, "protocol", false)
	}
	if !haveUTM && action != "deny" {
		p.add(aEventType, "allowed", false)
	}
	if utm == "block" || action == "deny" {
		p.add(aEventType, "denied", false)
	}
	p.rename(kDstip, fDestinationIP)
	p.convertIP(kTranip, fDestinationNatIP)
	p.convertLong(kDstport, fDestinationPort)
	p.convertLong(kTranport, fDestinationNatPort)
	p.convertLong(kRcvdbyte, fDestinationBytes)
	p.convertLong(kRcvdpkt, fDestinationPackets)
	if v, ok := p.fw(kDstcollectedemail); ok {
		p.add(aEmailTo, v, false)
	}
	p.rename(kDstname, fDestinationAddress)
	p.rename(kDstunauthuser, fDestinationUserName)
	p.rename(kGroup, fSourceUserGroup)
	p.convertLong(kSentbyte, fSourceBytes)
	p.rename(kSrcdomain, fSourceDomain)
	p.rename(kSrcip, fSourceIP)
	p.rename(kSrcmac, fSourceMac)
	p.convertLong(kSrcport, fSourcePort)
	p.rename(kUnauthuser, fSourceUserName)
	p.renameIfUnset(kUser, fSourceUserName)
	if v, ok := p.fw(kCollectedemail); ok {
		p.add(aEmailFrom, v, false)
	}
	p.convertLong(kSentpkt, fSourcePackets)
	p.convertIP(kTransip, fSourceNatIP)
	p.convertLong(kTransport, fSourceNatPort)
	p.rename(kApp, fNetworkApplication)
	p.rename(kFilename, fFileName)
	p.renameIfUnset(kLogid, fEventCode)
	p.rename(kMsg, fMessage)
	p.rename(kComment, fRuleDescription)
	p.renameIfUnset(kPolicyid, fRuleID)
	p.rename(kPoluuid, fRuleUUID)
	p.rename(kPolicytype, fRuleRuleset)
	p.rename(kPolicyname, fRuleName)
	if v, ok := p.take(kAppcat); ok {
		p.putDashed(fRuleCategory, v)
	}
	p.rename(kProto, fNetworkIANA)
	if v, ok := p.take(kService); ok {
		p.putLower(fNetworkProtocol, v)
	}
	p.rename(kSrcthreatfeed, fThreatFeed)
	if v, ok := p.take(kURL); ok {
		if !p.uriParts(v) {
			p.put1(fURLOriginal, v)
		}
	}
	p.drop(kDstport, kTranport, kRcvdbyte, kRcvdpkt, kSentbyte, kSrcport, kSentpkt, kTransport)
}

// convertIP copies k to f when it is an IP address, and removes k when it
// is not (as the convert processor's on_failure does).
func (p *Parser) convertIP(k key, f field) {
	v, ok := p.fw(k)
	if !ok {
		return
	}
	if _, err := netip.ParseAddr(v); err != nil {
		p.drop(k)
		return
	}
	p.put1(f, v)
}

// utmPipeline is utm.yml: security profile logs (webfilter, ips, virus,
// app-ctrl, dns, ssl, ...).
func (p *Parser) utmPipeline() {
	p.put1(fEventKind, "event")
	action, haveAction := p.fw(kAction)
	if action == "block" || action == "blocked" {
		p.add(aEventType, "denied", false)
	}
	if sub, _ := p.fw(kSubtype); sub == "dns" {
		p.add(aEventType, "info", false)
	}
	if action == "pass" || action == "passthrough" {
		p.add(aEventType, "allowed", false)
	}
	if haveAction {
		p.put1(fEventOutcome, "success")
	}
	p.add(aEventCategory, "network", false)
	p.rename(kDstip, fDestinationIP)
	p.renameIfUnset(kRemip, fDestinationIP)
	p.convertLong(kDstPort2, fDestinationPort)
	if !p.set[fDestinationPort] {
		p.convertLong(kRemport, fDestinationPort)
	}
	if !p.set[fDestinationPort] {
		p.convertLong(kDstport, fDestinationPort)
	}
	p.convertLong(kRcvdbyte, fDestinationBytes)
	if v, ok := p.take(kRecipient); ok {
		p.add(aEmailTo, v, false)
	}
	p.rename(kGroup, fSourceUserGroup)
	p.rename(kLocip, fSourceIP)
	p.convertLong(kLocport, fSourcePort)
	if !p.set[fSourcePort] {
		p.convertLong(kSrcPort2, fSourcePort)
	}
	if !p.set[fSourcePort] {
		p.convertLong(kSrcport, fSourcePort)
	}
	p.convertLong(kSentbyte, fSourceBytes)
	p.rename(kSrcdomain, fSourceDomain)
	p.renameIfUnset(kSrcip, fSourceIP)
	p.rename(kHttpmethod, fHTTPMethod)
	p.rename(kReferralurl, fHTTPReferrer)
	p.rename(kSrcmac, fSourceMac)
	p.rename(kUnauthuser, fSourceUserName)
	p.renameIfUnset(kUser, fSourceUserName)
	if v, ok := p.fw(kSender); ok {
		p.add(aEmailSender, v, false)
	}
	if v, ok := p.fw(kFrom); ok {
		p.add(aEmailFrom, v, false)
	}
	p.rename(kAgent, fUserAgent)
	p.rename(kApp, fNetworkApplication)
	p.rename(kAppcat, fRuleCategory)
	p.rename(kApplist, fRuleRuleset)
	p.renameIfUnset(kCatdesc, fRuleCategory)
	if v, ok := p.get(fRuleCategory); ok {
		p.putDashed(fRuleCategory, v)
	}
	p.rename(kError, fEventMessage)
	p.rename(kErrorcode, fEventCode)
	p.rename(kEventID2, fEventID)
	p.renameIfUnset(kEventid, fEventID)
	p.rename(kFilename, fFileName)
	p.convertLong(kFilesize, fFileSize)
	p.rename(kFiletype, fFileExtension)
	p.renameIfUnset(kInfectedfilename, fFileName)
	p.renameIfUnset(kInfectedfilesize, fFileSize)
	p.renameIfUnset(kInfectedfiletype, fFileExtension)
	p.renameIfUnset(kMatchedfilename, fFileName)
	p.renameIfUnset(kMatchedfiletype, fFileExtension)
	if v, ok := p.take(kIpaddr); ok {
		for _, ip := range strings.Split(v, ", ") {
			p.add(aDNSResolvedIP, ip, false)
		}
	}
	p.rename(kLevel, fLogLevel)
	p.renameIfUnset(kLogid, fEventCode)
	p.rename(kMsg, fMessage)
	p.renameIfUnset(kPolicyID2, fRuleID)
	p.renameIfUnset(kPolicyid, fRuleID)
	p.renameIfUnset(kProfile, fRuleRuleset)
	p.rename(kProto, fNetworkIANA)
	p.rename(kQclass, fDNSQuestionClass)
	p.rename(kQname, fDNSQuestionName)
	p.rename(kQtype, fDNSQuestionType)
	if v, ok := p.take(kService); ok {
		p.putLower(fNetworkProtocol, v)
	}
	if v, ok := p.take(kURL); ok {
		if !p.uriParts(v) {
			p.put1(fURLOriginal, v)
		}
	}
	p.rename(kHostname, fURLDomain)
	p.rename(kXid, fDNSID)
	if v, ok := p.fw(kScertcname); ok {
		p.add(aTLSServerSubjectCN, v, false)
	}
	p.rename(kScertissuer, fTLSServerIssuer)
	if v, ok := p.get(fTLSServerIssuer); ok {
		p.add(aTLSServerIssuerCN, v, false)
	}
	p.rename(kCcertissuer, fTLSClientIssuer)
	if v, ok := p.get(fTLSClientIssuer); ok {
		p.add(aTLSClientIssuerCN, v, false)
	}
	p.rename(kSender, fTLSServerIssuer)
	p.renameIfUnset(kIssuer, fTLSServerIssuer)
	p.rename(kAuthalgo, fTLSServerKeyAlgo)
	p.renameIfUnset(kKeyalgo, fTLSServerKeyAlgo)
	p.renameIfUnset(kNotbefore, fTLSServerNotBefore)
	p.renameIfUnset(kNotafter, fTLSServerNotAfter)
	p.renameIfUnset(kKeysize, fTLSServerKeySize)
	if v, ok := p.get(fTLSServerKeySize); ok {
		if n, ok := long(v); ok {
			p.put1(fTLSServerKeySize, n)
		}
	}
	p.renameIfUnset(kSn, fTLSServerSerial)
	p.renameIfUnset(kCerthash, fTLSServerSHA1)
	if v, ok := p.get(fTLSServerSHA1); ok {
		p.add(aRelatedHash, v, true)
	}
	if v, ok := p.get(fTLSServerNotAfter); ok && v != "" {
		p.put1(fTLSServerX509NotAfter, v)
	}
	if v, ok := p.get(fTLSServerNotBefore); ok && v != "" {
		p.put1(fTLSServerX509NotBefore, v)
	}
	if v, ok := p.fw(kSan); ok {
		for _, n := range strings.Split(v, ";") {
			p.add(aTLSServerAltNames, n, false)
		}
	}
	if v, ok := p.fw(kCn); ok {
		p.add(aTLSServerAltNames, v, true)
	}
	if v, ok := p.get(fTLSServerKeyAlgo); ok && v != "" {
		p.put1(fTLSClientKeyAlgo, v)
	}
	p.rename(kKxcurve, fTLSCurve)
	p.rename(kCipher, fTLSCipher)
	p.rename(kSni, fTLSServerName)
	if v, ok := p.get(fTLSServerName); ok && v != "" && !p.set[fDestinationDomain] {
		p.put1(fDestinationDomain, v)
	}
	if v, _ := p.fw(kHandshake); v == "full" {
		p.put1(fTLSEstablished, "true")
	}
	if v, ok := p.fw(kTlsver); ok {
		v = strings.ToLower(v)
		if i := strings.IndexAny(v, "0123456789"); i >= 0 {
			ver := v[i:]
			if !strings.Contains(ver, ".") {
				ver += ".0"
			}
			p.put1(fTLSVersionProtocol, v[:i])
			p.put1(fTLSVersion, ver)
		}
	}
	if v, ok := p.fw(kDtype); ok {
		p.add(aVulnCategory, v, true)
	}
	p.rename(kRef, fEventReference)
	if v, ok := p.take(kFilehash); ok {
		p.put1(fFileHashCRC32, v)
		p.add(aRelatedHash, v, false)
	}
	if v, ok := p.get(fDNSQuestionName); ok {
		p.registeredDomain(v)
	}
	p.drop(kCn, kSan, kDstPort2, kRemport, kDstport, kRcvdbyte, kLocport, kScertcname, kSrcPort2, kSrcport, kSentbyte, kFilesize, kDtype, kTlsver)
}

// dissect matches s against a pattern of literal delimiters with one
// value between each two and one after the last: dissect("a-b.c", "",
// "-", ".", "") gives ["a", "b", "c"]. The first delimiter is a prefix
// s must start with; an empty last delimiter takes the rest of s, a
// non-empty one ends the match (text after it is ignored), as Elastic's
// dissect processor does.
func dissect(s string, delims ...string) ([]string, bool) {
	if !strings.HasPrefix(s, delims[0]) {
		return nil, false
	}
	pos := len(delims[0])
	out := make([]string, 0, len(delims)-1)
	for _, d := range delims[1:] {
		if d == "" {
			out = append(out, s[pos:])
			pos = len(s)
			continue
		}
		j := strings.Index(s[pos:], d)
		if j < 0 {
			return nil, false
		}
		out = append(out, s[pos:pos+j])
		pos += j + len(d)
	}
	return out, true
}

// ianaTransport names the transport protocols Elastic's pipeline names.
func ianaTransport(n string) string {
	switch n {
	case "0":
		return "hopopt"
	case "1":
		return "icmp"
	case "2":
		return "igmp"
	case "6":
		return "tcp"
	case "8":
		return "egp"
	case "17":
		return "udp"
	case "47":
		return "gre"
	case "50":
		return "esp"
	case "58":
		return "ipv6-icmp"
	case "112":
		return "vrrp"
	case "132":
		return "sctp"
	}
	return ""
}

// direction is Elastic's network_direction processor with the private
// ranges as internal networks (the integration's default).
func direction(src string, haveSrc bool, dst string, haveDst bool) (string, bool) {
	if !haveSrc || !haveDst {
		return "", false
	}
	s, err1 := netip.ParseAddr(src)
	d, err2 := netip.ParseAddr(dst)
	if err1 != nil || err2 != nil {
		return "", false
	}
	si, di := isPrivate(s), isPrivate(d)
	switch {
	case si && di:
		return "internal", true
	case si:
		return "outbound", true
	case di:
		return "inbound", true
	}
	return "external", true
}

// isPrivate is RFC 1918 for IPv4 and RFC 4193 (fc00::/7) for IPv6.
func isPrivate(a netip.Addr) bool {
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		return b[0] == 10 || b[0] == 172 && b[1]&0xf0 == 16 || b[0] == 192 && b[1] == 168
	}
	b := a.As16()
	return b[0]&0xfe == 0xfc
}

// eventTime reads FortiOS eventtime: seconds, or nanoseconds (19 digits)
// cut to milliseconds, as Elastic's pipeline reads it (more than 11 digits
// are milliseconds).
func eventTime(s string) (time.Time, bool) {
	if len(s) > 18 {
		s = s[:len(s)-6]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, false
	}
	var t time.Time
	if len(s) > 11 {
		t = time.UnixMilli(n)
	} else {
		t = time.Unix(n, 0)
	}
	if t.Year() > 9999 {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// appendMAC appends a MAC address uppercase with ':' (and, when dots is
// set, '.') replaced by '-', as Elastic's pipeline writes them.
func appendMAC(b []byte, v string, dots bool) []byte {
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case c == ':', dots && c == '.':
			c = '-'
		}
		b = append(b, c)
	}
	return b
}

// dateTime reads FortiOS date ("2006-01-02") and time ("15:04:05") in
// loc without allocating; other shapes go through time.Parse.
func dateTime(date, clock string, loc *time.Location) (time.Time, bool) {
	if len(date) == 10 && len(clock) == 8 && date[4] == '-' && date[7] == '-' && clock[2] == ':' && clock[5] == ':' {
		y, ok1 := num(date[:4])
		mo, ok2 := num(date[5:7])
		d, ok3 := num(date[8:])
		h, ok4 := num(clock[:2])
		mi, ok5 := num(clock[3:5])
		s, ok6 := num(clock[6:])
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && s < 61 {
			t := time.Date(y, time.Month(mo), d, h, mi, s, 0, loc)
			return t, t.Day() == d
		}
		return time.Time{}, false
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05", date+" "+clock, loc)
	return t, err == nil
}

func num(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

var smallInts = func() (s [192]string) {
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

func smallInt(n int) string {
	if n >= 0 && n < len(smallInts) {
		return smallInts[n]
	}
	return strconv.Itoa(n)
}

// putLower sets f to v in lowercase, writing to scratch only when v has
// uppercase letters.
func (p *Parser) putLower(f field, v string) {
	i := 0
	for i < len(v) && (v[i] < 'A' || v[i] > 'Z') {
		i++
	}
	if i == len(v) {
		p.put1(f, v)
		return
	}
	start := len(p.scratch)
	for j := 0; j < len(v); j++ {
		c := v[j]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		p.scratch = append(p.scratch, c)
	}
	p.putScratch(f, start)
}

// putDashed sets f to v with '.' replaced by '-'.
func (p *Parser) putDashed(f field, v string) {
	if strings.IndexByte(v, '.') < 0 {
		p.put1(f, v)
		return
	}
	start := len(p.scratch)
	for j := 0; j < len(v); j++ {
		c := v[j]
		if c == '.' {
			c = '-'
		}
		p.scratch = append(p.scratch, c)
	}
	p.putScratch(f, start)
}
