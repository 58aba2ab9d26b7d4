package cef

import (
	"bytes"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/syslogheader"
)

// ecsFields appends the ECS fields: the header as decode_cef maps it, the
// extensions through the dictionary, then what Elastic's cef integration
// adds (related.*, observer.ip as a list, MAC address format, outcome
// from categoryOutcome), and a kind, category and type for every event.
func (p *Parser) ecsFields(dst *event.Event, hdr *[7]string, prefix string) {
	p.ecs = p.ecs[:0]
	p.set("observer.vendor", hdr[1])
	p.set("observer.product", hdr[2])
	p.set("observer.version", hdr[3])
	p.set("event.code", hdr[4])
	p.set("message", hdr[5])
	if n, ok := severity(hdr[6]); ok {
		p.set("event.severity", n)
	}
	var srcUser, dstUser, act, cat, outcome string
	var have struct{ rt, end bool }
	var rt, end time.Time
	for i := range p.exts {
		e := &p.exts[i]
		if e.key == nil || !e.ok || e.raw == "" {
			if e.name == "categoryOutcome" {
				outcome = e.raw
			}
			continue
		}
		switch e.name {
		case "deviceReceiptTime":
			rt, have.rt = e.t, true
		case "endTime":
			end, have.end = e.t, true
		case "sourceUserName":
			srcUser = e.raw
		case "destinationUserName":
			dstUser = e.raw
		case "deviceAction":
			act = e.raw
		case "deviceEventCategory":
			cat = e.raw
		}
		if e.key.ecs == "" {
			continue
		}
		v := e.val
		if e.key.translate != nil {
			var ok bool
			if v, ok = e.key.translate(v); !ok {
				continue
			}
		}
		switch e.key.ecs {
		case "observer.ip":
			v = "[" + quote(v) + "]"
		case "source.mac", "destination.mac":
			v = ecsMAC(v)
		}
		if e.key.shared {
			p.set(e.key.ecs, v)
		} else if v != "" {
			p.ecs = append(p.ecs, event.Field{Name: e.key.ecs, Value: v})
		}
	}
	switch outcome {
	case "/Success":
		p.set("event.outcome", "success")
	case "/Failure":
		p.set("event.outcome", "failure")
	}
	switch {
	case have.rt:
		dst.Time = rt
	case have.end:
		dst.Time = end
	default:
		if h, _, _ := syslogheader.Split(strings.TrimSpace(prefix)+" ", dst.Time, nil); !h.Time.IsZero() {
			dst.Time = h.Time
		}
	}
	if srcUser != "" {
		p.set("user.name", srcUser)
	} else if dstUser != "" {
		p.set("user.name", dstUser)
	}
	p.related()
	p.categorize(hdr[5], cat, act)
	dst.Fields = append(dst.Fields, p.ecs...)
}

// set records an ECS field; a later value replaces an earlier one. Empty
// values are not stored.
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

// related adds related.ip, related.user, related.hosts and related.hash
// as Elastic's cef integration does.
func (p *Parser) related() {
	var ipsA, usersA, hostsA, hashesA [4]string
	ips, users, hosts, hashes := ipsA[:0], usersA[:0], hostsA[:0], hashesA[:0]
	for _, n := range [...]string{"destination.ip", "destination.nat.ip", "source.ip", "source.nat.ip"} {
		ips = appendNew(ips, p.get(n))
	}
	for _, n := range [...]string{"destination.user.name", "source.user.name"} {
		users = appendNew(users, p.get(n))
	}
	hosts = appendNew(hosts, p.get("observer.hostname"))
	for i := range p.exts {
		if n := p.exts[i].name; n == "fileHash" || n == "oldFileHash" {
			hashes = appendNew(hashes, p.exts[i].raw)
		}
	}
	// One string for the four arrays, sliced.
	b := p.buf[:0]
	var ends [4]int
	for i, list := range [...][]string{ips, users, hosts, hashes} {
		if len(list) > 0 {
			b = appendArray(b, list)
		}
		ends[i] = len(b)
	}
	p.buf = b
	all := string(b)
	start := 0
	for i, name := range [...]string{"related.ip", "related.user", "related.hosts", "related.hash"} {
		if ends[i] > start {
			p.set(name, all[start:ends[i]])
		}
		start = ends[i]
	}
}

func appendNew(list []string, v string) []string {
	if v == "" {
		return list
	}
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// categorize gives every event a kind, a category and a type. decode_cef
// sets none of them (event.kind only from the ArcSight "type" number);
// they are inferred from the name, category and action.
func (p *Parser) categorize(name, cat, act string) {
	if p.get("event.kind") == "" {
		p.set("event.kind", "event")
	}
	// One lowercase copy of name, cat and act to search in.
	b := append(p.low[:0], name...)
	b = append(b, ' ')
	b = append(b, cat...)
	nc := len(b)
	b = append(b, ' ')
	b = append(b, act...)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	p.low = b
	text, action := b[:nc], b[nc:]
	has := func(subs ...string) bool { return containsAny(text, subs...) }
	category := "host"
	switch {
	case has("login", "logon", "logoff", "logout", "log on", "log off", "authenticat", "sign-in", "signin", "password"):
		category = "authentication"
	case has("malware", "virus", "trojan", "worm", "ransomware"):
		category = "malware"
	case has("intrusion", "ids", "ips", "attack", "exploit"):
		category = "intrusion_detection"
	case p.get("source.ip") != "" || p.get("destination.ip") != "":
		category = "network"
	}
	p.set("event.category", categories[category])
	typ := "info"
	switch {
	case containsAny(action, "block", "deny", "denied", "drop", "reject", "quarantin", "delete", "prevent", "reset"):
		typ = "denied"
	case containsAny(action, "allow", "accept", "permit", "pass"):
		typ = "allowed"
	case category == "authentication" && has("logoff", "logout", "log off"):
		typ = "end"
	case category == "authentication":
		typ = "start"
	case category == "network":
		typ = "connection"
	}
	p.set("event.type", types[typ])
}

// categories and types are the one-element arrays categorize writes.
var (
	categories = map[string]string{}
	types      = map[string]string{}
	_          = func() int {
		for _, c := range []string{"host", "authentication", "malware", "intrusion_detection", "network"} {
			categories[c] = `["` + c + `"]`
		}
		for _, t := range []string{"info", "denied", "allowed", "end", "start", "connection"} {
			types[t] = `["` + t + `"]`
		}
		return 0
	}()
)

// containsAny reports whether b holds any of subs.
func containsAny(b []byte, subs ...string) bool {
	for _, sub := range subs {
		if bytes.Contains(b, []byte(sub)) {
			return true
		}
	}
	return false
}

// appendArray appends strings as a compact JSON array.
func appendArray(b []byte, v []string) []byte {
	b = append(b, '[')
	for i, s := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendQuoted(b, s)
	}
	return append(b, ']')
}

// quote writes s as a JSON string.
func quote(s string) string { return string(appendQuoted(nil, s)) }

func appendQuoted(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
