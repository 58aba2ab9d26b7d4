package linuxauth

import (
	"net/netip"
	"strconv"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
)

// ECSVersion is the ECS version the fields follow.
const ECSVersion = "8.17.0"

// Arrays of event.category and event.type, as the compact JSON text the
// event holds.
const (
	catAuth        = `["authentication"]`
	catAuthSession = `["authentication","session"]`
	catAuthProcess = `["authentication","process"]`
	catSession     = `["session"]`
	catProcess     = `["process"]`
	catIAM         = `["iam"]`
	catNetwork     = `["network"]`
	catHost        = `["host"]`

	typeInfo        = `["info"]`
	typeStart       = `["start"]`
	typeEnd         = `["end"]`
	typeChange      = `["change"]`
	typeConnStart   = `["connection","start"]`
	typeConnEnd     = `["connection","end"]`
	typeUserCreate  = `["user","creation"]`
	typeUserDelete  = `["user","deletion"]`
	typeUserChange  = `["user","change"]`
	typeGroupCreate = `["group","creation"]`
	typeGroupDelete = `["group","deletion"]`
	typeGroupChange = `["group","change"]`
)

// out collects the ECS fields of one event whose value several steps may
// decide (the last word wins), and writes them once at the end.
type out struct {
	dst *event.Event

	category, typ, action, outcome, reason string
	dataset                                string

	userName, userID, effName, targetName string
	groupName, groupID                    string
	srcAddr, srcPort                      string
	dropped                               string

	users [6]string
	nuser int
	ips   [3]string
	nip   int

	buf []byte
}

func (o *out) add(name, value string) {
	o.dst.Fields = append(o.dst.Fields, event.Field{Name: name, Value: value})
}

// addNonEmpty adds name when value is not empty.
func (o *out) addNonEmpty(name, value string) {
	if value != "" {
		o.add(name, value)
	}
}

func (o *out) set(category, typ string) {
	o.category, o.typ = category, typ
}

// source records the peer address (an IP or a host name) and port.
func (o *out) source(addr, port string) {
	if addr == "" || addr == "unknown" || addr == "UNKNOWN" || addr == "?" {
		return
	}
	o.srcAddr = addr
	if port != "" && ecs.IsDigits(port) {
		o.srcPort = port
	}
}

// relUser adds a user name to related.user.
func (o *out) relUser(u string) {
	if u == "" || o.nuser == len(o.users) {
		return
	}
	for _, x := range o.users[:o.nuser] {
		if x == u {
			return
		}
	}
	o.users[o.nuser] = u
	o.nuser++
}

func (o *out) relIP(ip string) {
	if ip == "" || o.nip == len(o.ips) {
		return
	}
	for _, x := range o.ips[:o.nip] {
		if x == ip {
			return
		}
	}
	o.ips[o.nip] = ip
	o.nip++
}

// isIP reports whether s is an IPv4 or IPv6 address.
func isIP(s string) bool {
	if s == "" {
		return false
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

// finish writes the collected fields, the event's classification and the
// related arrays.
func (o *out) finish(host string) {
	if o.srcAddr != "" {
		o.add("source.address", o.srcAddr)
		if isIP(o.srcAddr) {
			o.add("source.ip", o.srcAddr)
			o.relIP(o.srcAddr)
		} else {
			o.add("source.domain", o.srcAddr)
		}
		o.addNonEmpty("source.port", o.srcPort)
	}
	if o.dropped != "" && isIP(o.dropped) {
		o.add("system.auth.ssh.dropped_ip", o.dropped)
		if o.srcAddr == "" {
			o.add("source.ip", o.dropped)
			o.addNonEmpty("source.port", o.srcPort)
			o.relIP(o.dropped)
		}
	}
	if o.userName != "" {
		o.add("user.name", o.userName)
		o.relUser(o.userName)
	}
	o.addNonEmpty("user.id", o.userID)
	if o.effName != "" {
		o.add("user.effective.name", o.effName)
		o.relUser(o.effName)
	}
	if o.targetName != "" {
		o.add("user.target.name", o.targetName)
		o.relUser(o.targetName)
	}
	o.addNonEmpty("group.name", o.groupName)
	o.addNonEmpty("group.id", o.groupID)
	if o.category == "" {
		o.category, o.typ = catHost, typeInfo
	}
	o.add("event.kind", "event")
	o.add("event.category", o.category)
	o.add("event.type", o.typ)
	o.addNonEmpty("event.action", o.action)
	o.addNonEmpty("event.outcome", o.outcome)
	o.addNonEmpty("event.reason", o.reason)
	o.add("event.module", "system")
	o.add("event.dataset", o.dataset)
	o.add("ecs.version", ECSVersion)
	if host != "" {
		o.add("related.hosts", o.array(host))
	}
	if o.nuser > 0 {
		o.add("related.user", o.array(o.users[:o.nuser]...))
	}
	if o.nip > 0 {
		o.add("related.ip", o.array(o.ips[:o.nip]...))
	}
}

// array returns vs as a compact JSON array of strings.
func (o *out) array(vs ...string) string {
	b := append(o.buf[:0], '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = ecs.AppendJSONString(b, v)
	}
	b = append(b, ']')
	o.buf = b
	return string(b)
}

// smallInts are the decimal forms of 0..191, so that a syslog priority
// costs no allocation.
var smallInts = func() (s [192]string) {
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()
