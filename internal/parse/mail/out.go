package mail

import (
	"net/netip"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
	"github.com/tarian-soc/tarian/internal/parse/syslogheader"
)

// ECSVersion is the ECS version the fields follow.
const ECSVersion = "8.17.0"

// Arrays of event.category and event.type as compact JSON text.
const (
	catEmail        = `["email"]`
	catEmailNetwork = `["email","network"]`
	catEmailAuth    = `["email","authentication"]`
	catEmailMalware = `["email","malware"]`
	catAuth         = `["authentication"]`
	catConfig       = `["configuration"]`
	catHost         = `["host"]`
	catWeb          = `["web"]`

	typeInfo      = `["info"]`
	typeConnStart = `["connection","start"]`
	typeConnEnd   = `["connection","end"]`
	typeAccess    = `["access"]`
	typeChange    = `["change"]`
	typeDeletion  = `["deletion"]`
	typeEnd       = `["end"]`
	typeEndInfo   = `["end","info"]`
)

// out collects one event's fields. ECS fields that several steps may set
// are kept in slots and written once by finish.
type out struct {
	dst *event.Event

	category, typ, action, outcome, reason string
	module, dataset                        string

	users [8]string
	nuser int
	ips   [4]string
	nip   int

	buf []byte
}

func (o *out) reset(dst *event.Event) {
	buf := o.buf
	*o = out{dst: dst, buf: buf}
}

func (o *out) add(name, value string) {
	o.dst.Fields = append(o.dst.Fields, event.Field{Name: name, Value: value})
}

func (o *out) addNonEmpty(name, value string) {
	if value != "" {
		o.add(name, value)
	}
}

func (o *out) set(category, typ string) { o.category, o.typ = category, typ }

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

// Names of the endpoint fields.
var (
	sourceNames      = [3]string{"source.ip", "source.domain", "source.port"}
	destinationNames = [3]string{"destination.ip", "destination.domain", "destination.port"}
)

// endpoint writes an address as <prefix>.ip (and related.ip) when it is
// one, else <prefix>.domain; and the port.
func (o *out) endpoint(names *[3]string, addr, port string) {
	if addr == "" || addr == "unknown" || addr == "none" {
		return
	}
	if isIP(addr) {
		o.add(names[0], addr)
		o.relIP(addr)
	} else {
		o.add(names[1], addr)
	}
	if port != "" && ecs.IsDigits(port) {
		o.add(names[2], port)
	}
}

// finish writes the classification and the related arrays.
func (o *out) finish() {
	if o.category == "" {
		o.category, o.typ = catEmail, typeInfo
	}
	o.add("event.kind", "event")
	o.add("event.category", o.category)
	o.add("event.type", o.typ)
	o.addNonEmpty("event.action", o.action)
	o.addNonEmpty("event.outcome", o.outcome)
	o.addNonEmpty("event.reason", o.reason)
	o.add("event.module", o.module)
	o.add("event.dataset", o.dataset)
	o.add("ecs.version", ECSVersion)
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

func isIP(s string) bool {
	if s == "" {
		return false
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

// syslogLine is a payload split into its syslog header and message, or a
// message with its host and program from the envelope's fields.
type syslogLine struct {
	host, app, pid, msg string
	hasHdr              bool
}

// splitSyslog reads the payload's syslog header if it has one; otherwise
// the host and program come from the envelope (log.syslog.*). kv marks a
// key=value format, whose first pair a header reader must not take for a
// host name.
func splitSyslog(s string, dst *event.Event, kv bool) syslogLine {
	ref := dst.Time
	if ref.IsZero() {
		ref = time.Now()
	}
	var l syslogLine
	if h, msg, ok := syslogheader.Split(s, ref, nil); ok {
		if kv && strings.IndexByte(h.Host, '=') >= 0 {
			// "<189>date=..." or "2021-... date=...": the "host" is the
			// first pair.
			msg = s[strings.Index(s, h.Host):]
			h.Host = ""
		}
		if !h.Time.IsZero() {
			dst.Time = h.Time
		}
		return syslogLine{host: h.Host, app: h.App, pid: h.ProcID, msg: msg, hasHdr: true}
	}
	l.msg = s
	for _, f := range dst.Fields {
		switch f.Name {
		case "log.syslog.hostname":
			l.host = f.Value
		case "log.syslog.appname":
			l.app = f.Value
		case "log.syslog.procid":
			l.pid = f.Value
		}
	}
	return l
}

// header writes the fields of the syslog line's header.
func (o *out) header(l *syslogLine) {
	o.addNonEmpty("host.hostname", l.host)
	o.addNonEmpty("process.name", l.app)
	if ecs.IsDigits(l.pid) {
		o.add("process.pid", l.pid)
	}
	if l.host != "" {
		o.add("related.hosts", o.array(l.host))
	}
}
