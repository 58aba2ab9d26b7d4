package sophos

import (
	"bytes"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
	"github.com/tarian-soc/tarian/internal/parse/envelope"
	"github.com/tarian-soc/tarian/internal/parse/kv"
	"github.com/tarian-soc/tarian/internal/parse/syslogheader"
)

// Type is the log-source type name used in configuration and `tarian parse --type`.
const Type = "sophos-xg"

// ECSVersion is the Elastic Common Schema version of the fields written.
const ECSVersion = "8.17.0"

// Errors Parse returns; the pipeline dead-letters the record with them.
var (
	ErrNoPairs = errors.New("no key=value pairs")
	ErrNotXG   = errors.New("no log_id, log_type or device_name: not a Sophos XG/SFOS log")
)

const prefix = "sophos.xg."

// maxNames bounds the cache of native field names, so that a stream of
// made-up keys cannot grow it without end.
const maxNames = 4096

// Sniff reports whether payload looks like a Sophos XG/SFOS log: it holds
// log_type= and either log_component=, device_name= or device="SFW". It
// does not allocate. (FortiGate's sniffer also takes these lines: try this
// one first.)
func Sniff(payload []byte) bool {
	return bytes.Contains(payload, []byte("log_type=")) &&
		(bytes.Contains(payload, []byte("log_component=")) || bytes.Contains(payload, []byte("device_name=")) ||
			bytes.Contains(payload, []byte(`device="SFW"`)))
}

// Parser parses Sophos XG / SFOS firewall logs. The zero value is ready;
// it keeps buffers between calls and is not safe for concurrent use.
type Parser struct {
	sc    kv.Scanner
	names map[string]string // key → sophos.xg.key
	val   [numKeys]string   // the values of the keys the ECS mapping reads
	buf   []byte
	dst   *event.Event
}

func (p *Parser) add(name, value string) {
	if value != "" {
		p.dst.Fields = append(p.dst.Fields, event.Field{Name: name, Value: value})
	}
}

// name returns the native field name of key.
func (p *Parser) name(key string) string {
	if n, ok := p.names[key]; ok {
		return n
	}
	n := prefix + key
	if p.names == nil {
		p.names = make(map[string]string, 128)
	}
	if len(p.names) < maxNames {
		p.names[key] = n
	}
	return n
}

// empty are the values Elastic's pipeline drops.
func empty(v string) bool { return v == "" || v == "-" || v == "N/A" }

// Parse reads one Sophos XG log and appends its fields to dst.Fields. It
// sets dst.Time from date, time and timezone (or timestamp) when present.
func (p *Parser) Parse(payload []byte, dst *event.Event) error {
	line := strings.TrimRight(string(payload), "\r\n")
	h, body, _ := syslogheader.Split(line, dst.Time, func(w string) bool { return strings.IndexByte(w, '=') >= 0 })
	if app, ok := dst.Get(envelope.FieldSyslogAppname); ok && strings.IndexByte(app, '=') > 0 && h.Time.IsZero() {
		// An RFC 3164 envelope took the first pair ("device_name="SFW"")
		// for a tag: give it back.
		body = app + " " + body
	}
	p.val = [numKeys]string{}
	first := len(dst.Fields)
	p.dst = dst
	defer func() { p.dst = nil }()

	p.sc.Reset(body)
	pairs := 0
	var seen [4]uint64 // a filter of the keys seen, to find repeated ones cheaply
	for p.sc.Next() {
		k := p.sc.Key()
		if k == "" {
			continue
		}
		pairs++
		v := kv.Unquote(p.sc.Value(), '"')
		if i, ok := keyIndex[k]; ok {
			p.val[i] = v
		}
		h := (len(k)*31 + int(k[0])*7 + int(k[len(k)-1])*13 + int(k[len(k)/2])) & 255
		if seen[h>>6]&(1<<(h&63)) != 0 {
			p.drop(first, k) // a repeated key: the last one holds
		}
		seen[h>>6] |= 1 << (h & 63)
		if empty(v) {
			continue
		}
		p.add(p.name(k), v)
	}
	if pairs == 0 {
		dst.Fields = dst.Fields[:first]
		return ErrNoPairs
	}
	if p.val[kLogID] == "" && p.val[kLogType] == "" && p.val[kDeviceName] == "" && p.val[kDevice] == "" {
		dst.Fields = dst.Fields[:first]
		return ErrNotXG
	}
	envelope.AddPriority(dst, h.Priority)
	if h.Host != "" {
		p.add("host.hostname", h.Host)
	}
	if t, tz, ok := p.time(); ok {
		dst.Time = t
		p.add("event.timezone", tz)
	} else if !h.Time.IsZero() {
		dst.Time = h.Time
	}
	p.ecs()
	return nil
}

// drop removes an earlier native field of key from dst (a key given
// twice keeps its last value, once).
func (p *Parser) drop(first int, key string) {
	n := p.name(key)
	fs := p.dst.Fields
	for i := len(fs) - 1; i >= first; i-- {
		if fs[i].Name == n {
			p.dst.Fields = append(fs[:i], fs[i+1:]...)
			return
		}
	}
}

// time reads the event's time: "timestamp" (SFOS 19+, RFC 3339 with an
// offset) or "date" and "time" in the zone "timezone" names when that is
// an offset ("+08", "+05:30", "-0700") or UTC/GMT; other zone names are
// read as UTC.
func (p *Parser) time() (time.Time, string, bool) {
	if ts := p.val[kTimestamp]; ts != "" {
		if t, err := time.Parse("2006-01-02T15:04:05-0700", ts); err == nil {
			return t.UTC(), t.Format("-07:00"), true
		}
		if t, ok := ecs.ParseTime(ts); ok {
			return t, "UTC", true
		}
	}
	d, c := p.val[kDate], p.val[kTime]
	if d == "" || c == "" {
		return time.Time{}, "", false
	}
	t, ok := dateTime(d, c)
	if !ok {
		return time.Time{}, "", false
	}
	tz := p.val[kTimezone]
	if off, ok := offset(tz); ok {
		return t.Add(-time.Duration(off) * time.Second).UTC(), tz, true
	}
	return t, "UTC", true
}

// dateTime reads "yyyy-mm-dd" and "hh:mm:ss" as UTC.
func dateTime(d, c string) (time.Time, bool) {
	if len(d) != 10 || d[4] != '-' || d[7] != '-' || len(c) != 8 || c[2] != ':' || c[5] != ':' {
		return time.Time{}, false
	}
	y, ok1 := atoi(d[:4])
	mo, ok2 := atoi(d[5:7])
	dd, ok3 := atoi(d[8:10])
	hh, ok4 := atoi(c[:2])
	mm, ok5 := atoi(c[3:5])
	ss, ok6 := atoi(c[6:8])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || mo < 1 || mo > 12 || dd < 1 || dd > 31 || hh > 23 || mm > 59 || ss > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), dd, hh, mm, ss, 0, time.UTC)
	return t, t.Day() == dd
}

func atoi(s string) (int, bool) {
	if !ecs.IsDigits(s) {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// offset reads a zone given as an offset: "+08", "+0530", "-05:30", "UTC".
func offset(tz string) (int, bool) {
	switch tz {
	case "UTC", "GMT", "Z":
		return 0, true
	}
	if len(tz) < 3 || tz[0] != '+' && tz[0] != '-' {
		return 0, false
	}
	digits := strings.ReplaceAll(tz[1:], ":", "")
	if !ecs.IsDigits(digits) || len(digits) != 2 && len(digits) != 4 {
		return 0, false
	}
	hh, _ := strconv.Atoi(digits[:2])
	mm := 0
	if len(digits) == 4 {
		mm, _ = strconv.Atoi(digits[2:])
	}
	if hh > 14 || mm > 59 {
		return 0, false
	}
	off := hh*3600 + mm*60
	if tz[0] == '-' {
		off = -off
	}
	return off, true
}

// ecs writes the Elastic Common Schema fields, as Elastic's sophos
// integration (xg data stream) maps them.
func (p *Parser) ecs() {
	v := &p.val
	p.add("ecs.version", ECSVersion)
	p.add("event.module", "sophos")
	p.add("event.dataset", "sophos.xg")
	p.add("observer.vendor", "Sophos")
	p.add("observer.product", "XG")
	p.add("observer.type", "firewall")
	serial := v[kDeviceID]
	if serial == "" {
		serial = v[kDeviceSerialID]
	}
	p.add("observer.serial_number", serial)
	host := v[kDeviceName]
	p.add("observer.hostname", host)
	p.add("observer.ingress.interface.name", v[kInInterface])
	p.add("observer.egress.interface.name", v[kOutInterface])
	p.add("observer.ingress.zone", v[kSrcZoneType])
	p.add("observer.egress.zone", v[kDstZoneType])

	// log_id: the whole is event.code, its 7th digit the severity, the
	// last five the message id.
	logID := v[kLogID]
	p.add("event.code", logID)
	if len(logID) == 12 && ecs.IsDigits(logID) {
		sev := logID[6:7]
		p.add("event.severity", sev)
		p.add("log.level", levels[sev[0]-'0'])
		p.add(prefix+"message_id", logID[7:])
	} else if sev := v[kSeverity]; sev != "" {
		p.add("log.level", lower(sev))
	}

	// Categorisation by log type.
	typ, sub, status := v[kLogType], v[kLogSubtype], v[kStatus]
	kind, category, types, action, outcome := "event", `["network"]`, "", "", ""
	connevent := v[kConnEvent]
	if connevent == "" {
		connevent = v[kConEvent]
	}
	switch typ {
	case "Firewall":
		action, outcome = lower(sub), successIf(sub != "")
		switch {
		case connevent == "Start" || connevent == "Interim":
			types = `["start","allowed","connection"]`
		case connevent == "Stop":
			types = `["end","allowed","connection"]`
		case status == "Deny" || status == "Drop" || sub == "Denied" || sub == "Dropped":
			types = `["denied","connection"]`
		case status == "Allow" || sub == "Allowed":
			types = `["allowed","connection"]`
		default:
			types = `["connection"]`
		}
	case "Content Filtering":
		action, outcome = lower(sub), successIf(sub != "")
		switch sub {
		case "Denied":
			kind, category, types = "alert", `["malware","network"]`, `["info","denied","connection"]`
		case "Allowed", "Warned":
			types = `["allowed","connection"]`
		}
	case "IDP":
		kind, category, action = "alert", `["intrusion_detection","network"]`, lower(sub)
		types = `["info"]`
		if a := lower(v[kAction]); a == "drop" || a == "reset" || strings.HasPrefix(a, "drop") {
			types = `["denied"]`
		}
	case "ATP":
		kind, category, action = "alert", `["intrusion_detection","network"]`, lower(sub)
		types = `["info"]`
		if lower(v[kAction]) == "drop" {
			types = `["denied"]`
		}
	case "Anti-Virus", "Sandbox":
		kind, category, action, types = "alert", `["malware"]`, lower(sub), `["info"]`
	case "Anti-Spam":
		category, action, types = `["email"]`, lower(sub), `["info"]`
	case "WAF":
		category, action, types = `["web"]`, lower(sub), `["access"]`
	case "System Health":
		category, types = `["host"]`, `["info"]`
	case "Event":
		category, types, outcome = p.eventClass(sub, status, logID)
	}
	if types == "" {
		types = `["info"]`
	}
	p.add("event.kind", kind)
	p.add("event.category", category)
	p.add("event.type", types)
	p.add("event.action", action)
	p.add("event.outcome", outcome)
	p.add(event.FieldMessage, v[kMessage])

	// Ends.
	srcIP := firstIP(v[kSrcIP], v[kSourceIP], v[kRemoteInterfaceIP])
	dstIP := firstIP(v[kDstIP], v[kDestinationIP], v[kLocalInterfaceIP])
	p.add("source.ip", srcIP)
	p.add("destination.ip", dstIP)
	p.add("source.port", number(v[kSrcPort]))
	p.add("destination.port", number(v[kDstPort]))
	natSrc := firstIP(v[kTranSrcIP], v[kSrcTransIP])
	natDst := firstIP(v[kTranDstIP], v[kDstTransIP])
	p.add("source.nat.ip", natSrc)
	p.add("destination.nat.ip", natDst)
	p.add("source.nat.port", nonZero(number(first(v[kTranSrcPort], v[kSrcTransPort]))))
	p.add("destination.nat.port", nonZero(number(first(v[kTranDstPort], v[kDstTransPort]))))
	p.add("source.mac", v[kSrcMAC])
	p.add("destination.mac", v[kDstMAC])
	p.add("source.packets", number(first(v[kSentPkts], v[kPacketsSent])))
	p.add("destination.packets", number(first(v[kRecvPkts], v[kPacketsReceived])))
	p.add("source.bytes", number(first(v[kSentBytes], v[kBytesSent])))
	p.add("destination.bytes", number(first(v[kRecvBytes], v[kBytesReceived])))
	if typ == "Content Filtering" {
		p.add("client.ip", srcIP)
		p.add("server.ip", dstIP)
	}

	// Users.
	user := v[kUserName]
	if v[kName] != "" && typ == "Event" {
		user = v[kName]
	}
	p.add("source.user.name", user)
	p.add("user.name", user)
	p.add("source.user.group.name", first(v[kUserGp], v[kUserGroupName]))

	// Rule and network.
	if typ == "IDP" && v[kSignatureID] != "" {
		p.add("rule.id", v[kSignatureID])
		p.add("rule.name", v[kSignatureMsg])
		p.add("rule.category", v[kClassification])
	} else {
		p.add("rule.id", v[kFwRuleID])
		p.add("rule.name", v[kFwRuleName])
	}
	p.add("rule.ruleset", v[kPolicyType])
	p.add("network.protocol", lower(v[kApplication]))
	p.add("network.transport", lower(v[kProtocol]))
	p.add("network.direction", direction(v[kSrcZoneType], v[kDstZoneType]))

	// Web.
	p.add("url.full", v[kURL])
	p.add("url.domain", v[kDomain])
	p.add("http.request.referrer", v[kReferer])
	p.add("http.response.status_code", number(v[kStatusCode]))
	p.add("user_agent.original", v[kUserAgent])

	// Duration.
	if d := v[kDuration]; d != "" && p.dst != nil {
		if secs, err := strconv.ParseInt(d, 10, 64); err == nil && secs >= 0 && secs < 1<<33 {
			p.add("event.duration", strconv.FormatInt(secs*1e9, 10))
			if !p.dst.Time.IsZero() {
				start := p.dst.Time.UTC()
				p.add("event.start", start.Format(time.RFC3339Nano))
				p.add("event.end", start.Add(time.Duration(secs)*time.Second).Format(time.RFC3339Nano))
			}
		}
	}

	p.add("related.ip", p.jsonSet(srcIP, dstIP, natSrc, natDst))
	p.add("related.user", p.jsonSet(user))
	p.add("related.hosts", p.jsonSet(host))
}

// eventClass classifies the Event log type (authentication, admin, VPN),
// as Elastic's event pipeline does.
func (p *Parser) eventClass(sub, status, logID string) (category, types, outcome string) {
	code := logID
	if len(code) > 5 {
		code = code[len(code)-5:]
	}
	var cats, ts []string
	switch code {
	case "17701", "17704", "17707", "17710", "17713":
		ts = append(ts, "start")
	case "17703", "17706", "17709", "17712", "17715":
		ts = append(ts, "end")
	case "17819":
		ts = append(ts, "info")
		cats = append(cats, "host", "malware")
	}
	switch p.val[kAuthClient] {
	case "SSLVPN", "IPSec", "Thin Client", "Radius SSO":
		ts = append(ts, "connection")
		cats = append(cats, "network")
	}
	switch sub {
	case "Authentication":
		cats = append(cats, "authentication")
		switch status {
		case "Successful":
			outcome = "success"
		case "Failed":
			outcome = "failure"
		}
		if len(ts) == 0 {
			ts = append(ts, "info")
		}
	case "Admin":
		cats = append(cats, "configuration")
		if status == "Successful" {
			outcome = "success"
		} else if status == "Failed" {
			outcome = "failure"
		}
	}
	if len(cats) == 0 {
		cats = append(cats, "host")
	}
	return p.jsonSet(cats...), p.jsonSet(ts...), outcome
}

// direction derives network.direction from the zone types, as Elastic's
// firewall pipeline does.
func direction(in, out string) string {
	internal := func(z string) bool { return z == "LAN" || z == "DMZ" || z == "VPN" || z == "WiFi" }
	switch {
	case internal(out) && in == "WAN":
		return "inbound"
	case internal(in) && out == "WAN":
		return "outbound"
	case internal(in) && internal(out):
		return "internal"
	case in == "WAN" && out == "WAN":
		return "external"
	}
	return ""
}

// levels is log.level by syslog severity digit, as Elastic's pipeline
// names them.
var levels = [10]string{"unknown", "alert", "critical", "error", "warning", "notification", "informational", "debug", "", ""}

func successIf(ok bool) string {
	if ok {
		return "success"
	}
	return ""
}

func first(vs ...string) string {
	for _, v := range vs {
		if !empty(v) {
			return v
		}
	}
	return ""
}

func firstIP(vs ...string) string {
	for _, v := range vs {
		if isIP(v) {
			return v
		}
	}
	return ""
}

func nonZero(s string) string {
	if s == "0" {
		return ""
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

// number returns s as a decimal integer without leading zeros, or "".
func number(s string) string {
	s = strings.TrimSpace(s)
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

func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// jsonSet returns the non-empty, distinct values as a JSON array text, or
// "" when there are none.
func (p *Parser) jsonSet(vs ...string) string {
	b, ok := ecs.AppendJSONSet(p.buf[:0], vs...)
	p.buf = b
	if !ok {
		return ""
	}
	return string(b)
}
