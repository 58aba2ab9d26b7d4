package leef

import (
	"bytes"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
	"github.com/tarian-soc/tarian/internal/parse/envelope"
	"github.com/tarian-soc/tarian/internal/parse/syslogheader"
)

// Type is the log-source type name used in configuration and
// `tarian parse --type`.
const Type = "leef"

// ECSVersion is the ECS version the fields follow.
const ECSVersion = "8.17.0"

const attrPrefix = "leef.attributes."

// Errors Parse returns; the pipeline dead-letters the record with them.
var (
	ErrNoHeader  = errors.New("LEEF: no \"LEEF:\" header")
	ErrVersion   = errors.New("LEEF: version is not 1.0 or 2.0")
	ErrDelimiter = errors.New("LEEF: delimiter is not one character or a hex code")
	ErrNoMessage = errors.New("LEEF: JSON record without a message string")
)

// headerError says how many header fields a message has.
type headerError struct{ got, want int }

func (e headerError) Error() string {
	return "LEEF: header has " + strconv.Itoa(e.got) + " of " + strconv.Itoa(e.want) + " fields"
}

// maxNames bounds the cache of attribute field names.
const maxNames = 4096

// Sniff reports whether payload holds a LEEF header ("LEEF:1" or
// "LEEF:2"), at the start or after a syslog header. It does not allocate.
func Sniff(payload []byte) bool {
	i := bytes.Index(payload, []byte("LEEF:"))
	return i >= 0 && i+5 < len(payload) && (payload[i+5] == '1' || payload[i+5] == '2') &&
		bytes.IndexByte(payload[i:], '|') > 0
}

// Parser parses IBM QRadar Log Event Extended Format messages, versions
// 1.0 and 2.0. The zero value is ready; it keeps buffers between calls and
// is not safe for concurrent use.
type Parser struct {
	attrs []attr
	ecs   []event.Field
	names map[string]string
	buf   []byte
	json  fastjson.Parser
	flat  envelope.JSON
}

type attr struct{ key, val string }

// Parse reads one LEEF message and appends its fields to dst.Fields: the
// header as leef.*, every attribute as leef.attributes.<key>, and ECS
// fields for the predefined attributes. It sets dst.Time from devTime
// (read with devTimeFormat), else from a syslog header in front.
func (p *Parser) Parse(payload []byte, dst *event.Event) error {
	s := string(payload)
	n0 := len(dst.Fields)
	if len(s) > 0 && s[0] == '{' {
		msg, err := p.unwrapJSON(payload, dst)
		if err != nil {
			dst.Fields = dst.Fields[:n0]
			return err
		}
		s = msg
	}
	if err := p.parse(s, dst); err != nil {
		dst.Fields = dst.Fields[:n0]
		return err
	}
	return nil
}

func (p *Parser) parse(s string, dst *event.Event) error {
	i := strings.Index(s, "LEEF:")
	if i < 0 {
		return ErrNoHeader
	}
	prefix, s := s[:i], strings.TrimRight(s[i+5:], "\r\n")
	var hdr [6]string
	n, rest := splitHeader(s, hdr[:5])
	version := strings.TrimSpace(hdr[0])
	switch version {
	case "1.0", "1":
		version = "1.0"
	case "2.0", "2":
		version = "2.0"
	default:
		if n == 0 {
			return headerError{0, 5}
		}
		return ErrVersion
	}
	if n < 5 {
		want := 5
		if version == "2.0" {
			want = 6
		}
		return headerError{n, want}
	}
	delim := "\t"
	if version == "2.0" {
		// The delimiter field is optional in practice: a sixth field
		// holding '=' is already the attributes.
		d, r, ok := strings.Cut(rest, "|")
		if ok && !strings.Contains(d, "=") {
			var err error
			if delim, err = delimiter(d); err != nil {
				return err
			}
			rest = r
			hdr[5] = delim
		}
	}
	for j := 1; j < 5; j++ {
		hdr[j] = p.unescapeHeader(hdr[j])
	}
	p.attributes(rest, delim)
	p.emit(dst, version, &hdr, prefix)
	return nil
}

// unwrapJSON reads a JSON record carrying the message in "message"; the
// other fields are kept, flattened.
func (p *Parser) unwrapJSON(payload []byte, dst *event.Event) (string, error) {
	v, err := p.json.ParseBytes(payload)
	if err != nil {
		return "", errors.New("LEEF: invalid JSON: " + err.Error())
	}
	obj, err := v.Object()
	if err != nil {
		return "", ErrNoMessage
	}
	m := obj.Get("message")
	if m == nil || m.Type() != fastjson.TypeString {
		return "", ErrNoMessage
	}
	msg := string(m.GetStringBytes())
	obj.Del("message")
	if e := obj.Get("event"); e != nil && e.Type() == fastjson.TypeObject {
		eo, _ := e.Object()
		eo.Del("original")
	}
	dst.Fields = p.flat.Flatten(dst.Fields, obj)
	return msg, nil
}

// splitHeader splits the header fields at unescaped '|' into hdr and
// returns how many it found and the text after the last one.
func splitHeader(s string, hdr []string) (int, string) {
	n, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			if s[i] == '\\' && i+1 < len(s) {
				i++
				continue
			}
			if s[i] != '|' {
				continue
			}
		}
		hdr[n] = s[start:min(i, len(s))]
		n++
		if n == len(hdr) {
			if i < len(s) {
				return n, s[i+1:]
			}
			return n, ""
		}
		if i == len(s) {
			break
		}
		start = i + 1
	}
	return n, ""
}

// unescapeHeader undoes \| and \\ in a header field.
func (p *Parser) unescapeHeader(v string) string {
	if strings.IndexByte(v, '\\') < 0 {
		return v
	}
	b := p.buf[:0]
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && (v[i+1] == '|' || v[i+1] == '\\') {
			i++
		}
		b = append(b, v[i])
	}
	p.buf = b
	return string(b)
}

// delimiter reads LEEF 2.0's delimiter field: one character, or its code
// in hex written "x09", "0x09" or "X5E" (one to four hex digits).
func delimiter(d string) (string, error) {
	switch {
	case d == "":
		return "\t", nil
	case utf8.RuneCountInString(d) == 1:
		return d, nil
	}
	h := d
	if len(h) > 2 && h[0] == '0' && (h[1] == 'x' || h[1] == 'X') {
		h = h[2:]
	} else if h[0] == 'x' || h[0] == 'X' {
		h = h[1:]
	} else {
		return "", ErrDelimiter
	}
	if len(h) < 1 || len(h) > 4 {
		return "", ErrDelimiter
	}
	n, err := strconv.ParseUint(h, 16, 32)
	if err != nil || n == 0 {
		return "", ErrDelimiter
	}
	return string(rune(n)), nil
}

// attributes splits the attribute text at the delimiter into key=value
// pairs (a value may hold '='). A LEEF 1.0 message without a single tab,
// as some devices send, is split at spaces, a value then running until
// the next space followed by "key=".
func (p *Parser) attributes(s, delim string) {
	p.attrs = p.attrs[:0]
	if delim == "\t" && !strings.Contains(s, "\t") && strings.Contains(s, " ") {
		p.spaceAttributes(s)
		return
	}
	for s != "" {
		var piece string
		piece, s, _ = strings.Cut(s, delim)
		k, v, ok := strings.Cut(piece, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			continue
		}
		p.add(k, v)
	}
}

// spaceAttributes splits space-separated attributes.
func (p *Parser) spaceAttributes(s string) {
	i := 0
	eq := -1
	for i < len(s) {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if eq = keyAt(s, i); eq >= 0 {
			break
		}
		for i < len(s) && s[i] != ' ' {
			i++
		}
	}
	for eq >= 0 {
		k := s[i:eq]
		end, next, nextEq := len(s), -1, -1
		for j := eq + 1; j < len(s); j++ {
			if s[j] != ' ' {
				continue
			}
			w := j
			for w < len(s) && s[w] == ' ' {
				w++
			}
			if e := keyAt(s, w); e >= 0 {
				end, next, nextEq = j, w, e
				break
			}
			j = w - 1
		}
		p.add(k, strings.TrimRight(s[eq+1:end], " "))
		i, eq = next, nextEq
	}
}

// keyAt returns the index of the '=' ending a key that starts at i, or -1.
func keyAt(s string, i int) int {
	j := i
	for j < len(s) {
		c := s[j]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			break
		}
		j++
	}
	if j > i && j < len(s) && s[j] == '=' {
		return j
	}
	return -1
}

// add records an attribute; a later one of the same key replaces it.
func (p *Parser) add(k, v string) {
	for i := range p.attrs {
		if p.attrs[i].key == k {
			p.attrs[i].val = v
			return
		}
	}
	p.attrs = append(p.attrs, attr{k, v})
}

func (p *Parser) attr(k string) (string, bool) {
	for i := range p.attrs {
		if p.attrs[i].key == k {
			return p.attrs[i].val, true
		}
	}
	return "", false
}

// attrName is "leef.attributes.<k>".
func (p *Parser) attrName(k string) string {
	if n, ok := knownNames[k]; ok {
		return n
	}
	if n, ok := p.names[k]; ok {
		return n
	}
	n := attrPrefix + k
	if p.names == nil {
		p.names = make(map[string]string)
	}
	if len(p.names) < maxNames {
		p.names[n[len(attrPrefix):]] = n
	}
	return n
}

// emit appends the header, the attributes and the ECS fields.
func (p *Parser) emit(dst *event.Event, version string, hdr *[6]string, prefix string) {
	f := append(dst.Fields,
		event.Field{Name: "ecs.version", Value: ECSVersion},
		event.Field{Name: "leef.version", Value: version},
	)
	for i, name := range [...]string{"", "leef.device.vendor", "leef.device.product", "leef.device.version", "leef.event_id"} {
		if i > 0 && hdr[i] != "" {
			f = append(f, event.Field{Name: name, Value: hdr[i]})
		}
	}
	if hdr[5] != "" {
		f = append(f, event.Field{Name: "leef.delimiter", Value: hdr[5]})
	}
	for _, a := range p.attrs {
		if a.val != "" {
			f = append(f, event.Field{Name: p.attrName(a.key), Value: a.val})
		}
	}
	dst.Fields = f
	p.ecsFields(dst, hdr, prefix)
}

// ecsFields maps the header and the predefined attributes to ECS.
func (p *Parser) ecsFields(dst *event.Event, hdr *[6]string, prefix string) {
	p.ecs = p.ecs[:0]
	p.set("observer.vendor", hdr[1])
	p.set("observer.product", hdr[2])
	p.set("observer.version", hdr[3])
	p.set("event.code", hdr[4])
	ip := func(ecs string, keys ...string) {
		for _, k := range keys {
			if v, ok := p.attr(k); ok {
				if _, err := netip.ParseAddr(v); err == nil {
					p.set(ecs, v)
					return
				}
			}
		}
	}
	num := func(ecs string, keys ...string) {
		for _, k := range keys {
			if v, ok := p.attr(k); ok {
				if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n >= 0 {
					p.set(ecs, strconv.FormatInt(n, 10))
					return
				}
			}
		}
	}
	str := func(ecs string, keys ...string) {
		for _, k := range keys {
			if v, ok := p.attr(k); ok && v != "" {
				p.set(ecs, v)
				return
			}
		}
	}
	ip("source.ip", "src", "srcPreNAT")
	ip("destination.ip", "dst", "dstPreNAT")
	num("source.port", "srcPort", "srcPreNATPort")
	num("destination.port", "dstPort", "dstPreNATPort")
	ip("source.nat.ip", "srcPostNAT")
	ip("destination.nat.ip", "dstPostNAT")
	num("source.nat.port", "srcPostNATPort")
	num("destination.nat.port", "dstPostNATPort")
	num("source.bytes", "srcBytes")
	num("destination.bytes", "dstBytes")
	num("source.packets", "srcPackets")
	num("destination.packets", "dstPackets")
	num("network.packets", "totalPackets")
	if a, b := p.get("source.bytes"), p.get("destination.bytes"); a != "" && b != "" {
		x, _ := strconv.ParseInt(a, 10, 64)
		y, _ := strconv.ParseInt(b, 10, 64)
		p.set("network.bytes", strconv.FormatInt(x+y, 10))
	}
	for _, m := range [...][2]string{{"srcMAC", "source.mac"}, {"dstMAC", "destination.mac"}, {"identMAC", "host.mac"}} {
		if v, ok := p.attr(m[0]); ok {
			if mac, ok := ecsMAC(v); ok {
				p.set(m[1], mac)
			}
		}
	}
	if v, ok := p.attr("proto"); ok {
		v = strings.TrimSpace(v)
		if t := ianaTransport(v); t != "" {
			p.set("network.iana_number", v)
			p.set("network.transport", t)
		} else if v != "" {
			p.set("network.transport", strings.ToLower(v))
		}
	}
	str("user.name", "usrName", "accountName")
	if u := p.get("user.name"); u != "" {
		p.set("source.user.name", u)
	}
	str("user.domain", "domain")
	str("user.group.name", "identGrpName")
	str("host.hostname", "identHostName")
	ip("host.ip", "identSrc")
	str("url.original", "url")
	str("rule.name", "policy")
	if v, ok := p.attr("role"); ok && v != "" {
		p.set("user.roles", p.jsonArray([]string{v}))
	}
	if v, ok := p.attr("sev"); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			p.set("event.severity", strconv.Itoa(n))
		}
	}
	cat, _ := p.attr("cat")
	switch strings.ToLower(strings.TrimSpace(cat)) {
	case "success", "succeeded", "successful":
		p.set("event.outcome", "success")
	case "failure", "failed", "fail":
		p.set("event.outcome", "failure")
	}
	if t, ok := p.devTime(dst.Time); ok {
		dst.Time = t
	} else if h, _, _ := syslogheader.Split(strings.TrimSpace(prefix)+" ", dst.Time, nil); !h.Time.IsZero() {
		dst.Time = h.Time
	}
	p.related()
	p.categorize(hdr[4], cat)
	dst.Fields = append(dst.Fields, p.ecs...)
}

// related adds related.ip, related.user and related.hosts.
func (p *Parser) related() {
	var ipsA [4]string
	ips := ipsA[:0]
	for _, n := range [...]string{"source.ip", "destination.ip", "source.nat.ip", "destination.nat.ip", "host.ip"} {
		if v := p.get(n); v != "" && !contains(ips, v) {
			ips = append(ips, v)
		}
	}
	if len(ips) > 0 {
		p.set("related.ip", p.jsonArray(ips))
	}
	if u := p.get("user.name"); u != "" {
		p.set("related.user", p.jsonArray([]string{u}))
	}
	if h := p.get("host.hostname"); h != "" {
		p.set("related.hosts", p.jsonArray([]string{h}))
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// categorize sets event.kind, category and type: authentication for
// isLoginEvent/isLogoutEvent (or an event named after a login), network
// when there are addresses, else host; denied or allowed when the event
// ID or cat says so.
func (p *Parser) categorize(eventID, cat string) {
	p.set("event.kind", "event")
	login, _ := p.attr("isLoginEvent")
	logout, _ := p.attr("isLogoutEvent")
	text := strings.ToLower(eventID + " " + cat)
	category, typ := `["host"]`, `["info"]`
	switch {
	case strings.EqualFold(logout, "true") || strings.Contains(text, "logout") || strings.Contains(text, "logoff"):
		category, typ = `["authentication"]`, `["end"]`
	case strings.EqualFold(login, "true") || strings.Contains(text, "login") || strings.Contains(text, "logon"):
		category, typ = `["authentication"]`, `["start"]`
	case p.get("source.ip") != "" || p.get("destination.ip") != "":
		category, typ = `["network"]`, `["connection"]`
	}
	switch {
	case strings.Contains(text, "deny") || strings.Contains(text, "denied") || strings.Contains(text, "block") || strings.Contains(text, "drop") || strings.Contains(text, "reject"):
		typ = `["denied"]`
	case strings.Contains(text, "allow") || strings.Contains(text, "accept") || strings.Contains(text, "permit"):
		typ = `["allowed"]`
	}
	p.set("event.category", category)
	p.set("event.type", typ)
}

func (p *Parser) set(name, v string) {
	if v == "" {
		return
	}
	for i := range p.ecs {
		if p.ecs[i].Name == name {
			p.ecs[i].Value = v
			return
		}
	}
	p.ecs = append(p.ecs, event.Field{Name: name, Value: v})
}

func (p *Parser) get(name string) string {
	for i := range p.ecs {
		if p.ecs[i].Name == name {
			return p.ecs[i].Value
		}
	}
	return ""
}

// ecsMAC writes a MAC address as ECS wants it: uppercase, dash-separated.
func ecsMAC(v string) (string, bool) {
	var hex [16]byte
	n := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= '0' && c <= '9', c >= 'A' && c <= 'F':
		case c >= 'a' && c <= 'f':
			c -= 'a' - 'A'
		case c == ':' || c == '-' || c == '.':
			continue
		default:
			return "", false
		}
		if n == len(hex) {
			return "", false
		}
		hex[n] = c
		n++
	}
	if n != 12 && n != 16 {
		return "", false
	}
	out := make([]byte, 0, n+n/2)
	for i := 0; i < n; i += 2 {
		if i > 0 {
			out = append(out, '-')
		}
		out = append(out, hex[i], hex[i+1])
	}
	return string(out), true
}

// ianaTransport names common IP protocol numbers.
func ianaTransport(n string) string {
	switch n {
	case "1":
		return "icmp"
	case "2":
		return "igmp"
	case "6":
		return "tcp"
	case "17":
		return "udp"
	case "47":
		return "gre"
	case "50":
		return "esp"
	case "58":
		return "ipv6-icmp"
	case "132":
		return "sctp"
	}
	return ""
}

// jsonArray writes strings as a compact JSON array.
func (p *Parser) jsonArray(v []string) string {
	const hex = "0123456789abcdef"
	b := append(p.buf[:0], '[')
	for i, s := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		for j := 0; j < len(s); j++ {
			c := s[j]
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
		}
		b = append(b, '"')
	}
	b = append(b, ']')
	p.buf = b
	return string(b)
}

// knownNames are the attribute field names of the predefined LEEF
// attributes, built once.
var knownNames = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"cat", "devTime", "devTimeFormat", "proto", "sev", "src", "dst", "srcPort", "dstPort",
		"srcPreNAT", "dstPreNAT", "srcPostNAT", "dstPostNAT", "usrName", "srcMAC", "dstMAC", "srcPreNATPort",
		"dstPreNATPort", "srcPostNATPort", "dstPostNATPort", "identSrc", "identHostName", "identNetBios",
		"identGrpName", "identMAC", "vSrc", "vSrcName", "accountName", "srcBytes", "dstBytes", "srcPackets",
		"dstPackets", "totalPackets", "role", "realm", "policy", "resource", "url", "groupID", "domain",
		"isLoginEvent", "isLogoutEvent", "identSecIp", "calLanguage", "AttributeLimits", "calCountryOrRegion"} {
		m[k] = attrPrefix + k
	}
	return m
}()

// devTime reads devTime with devTimeFormat (a Java date pattern), or,
// without a format, as epoch milliseconds or QRadar's default
// "MMM dd yyyy HH:mm:ss".
func (p *Parser) devTime(ref time.Time) (time.Time, bool) {
	v, ok := p.attr("devTime")
	v = strings.TrimSpace(v)
	if !ok || v == "" {
		return time.Time{}, false
	}
	if format, ok := p.attr("devTimeFormat"); ok && strings.TrimSpace(format) != "" {
		if layout, ok := goLayout(strings.TrimSpace(format)); ok {
			if t, ok := parseIn(layout, v); ok {
				return fixYear(t, ref), true
			}
		}
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
		if n < 1e11 {
			return time.Unix(n, 0).UTC(), true
		}
		if n < 1e14 {
			return time.UnixMilli(n).UTC(), true
		}
		return time.Time{}, false
	}
	for _, layout := range defaultLayouts {
		if t, ok := parseIn(layout, v); ok {
			return fixYear(t, ref), true
		}
	}
	return time.Time{}, false
}

// parseIn is time.Parse for a layout that may hold a zone abbreviation
// ("MST", Java's z): Go takes one it does not know, and "+0100", as
// offset zero, so the abbreviation is read with ecs.Zone, and a time with
// one it does not know either is not read (it is not UTC).
func parseIn(layout, v string) (time.Time, bool) {
	t, err := time.Parse(layout, v)
	if err != nil {
		return time.Time{}, false
	}
	if strings.Contains(layout, "MST") {
		return ecs.FixZone(t)
	}
	return t, true
}

var defaultLayouts = []string{
	"Jan _2 2006 15:04:05",
	"Jan _2 2006 15:04:05.000",
	"Jan _2 2006 15:04:05 MST",
	"Jan _2 2006 15:04:05.000 MST",
	"Jan _2 2006 15:04:05 -0700",
	"Jan _2 2006 15:04:05.000 -0700",
	time.RFC3339Nano,
	"2006-01-02 15:04:05",
}

// fixYear gives a time parsed without a year the year of ref (or now).
func fixYear(t, ref time.Time) time.Time {
	if t.Year() == 0 {
		if ref.IsZero() {
			ref = time.Now()
		}
		t = t.AddDate(ref.UTC().Year(), 0, 0)
	}
	return t.UTC()
}
