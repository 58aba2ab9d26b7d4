package netlog

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
	"github.com/tarian-soc/tarian/internal/parse/envelope"
	"github.com/tarian-soc/tarian/internal/parse/syslogheader"
)

// ECSVersion is the Elastic Common Schema version of the fields written.
const ECSVersion = "8.17.0"

// out writes fields to the event being parsed.
type out struct {
	dst *event.Event
	buf []byte
}

func (o *out) begin(dst *event.Event) { o.dst = dst }
func (o *out) end()                   { o.dst = nil }

func (o *out) add(name, value string) {
	if value != "" {
		o.dst.Fields = append(o.dst.Fields, event.Field{Name: name, Value: value})
	}
}

// jsonSet returns the non-empty, distinct values as a JSON array text, or
// "" when there are none.
func (o *out) jsonSet(vs ...string) string {
	b, ok := ecs.AppendJSONSet(o.buf[:0], vs...)
	o.buf = b
	if !ok {
		return ""
	}
	return string(b)
}

// jsonList returns vs as a JSON array text.
func (o *out) jsonList(vs []string) string {
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
	if s == "" || len(s) > 64 {
		return false
	}
	_, err := netip.ParseAddr(s)
	return err == nil
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

// urlPath writes url.path, query, fragment and extension.
func (o *out) urlPath(path string) {
	if i := strings.IndexByte(path, '#'); i >= 0 {
		o.add("url.fragment", path[i+1:])
		path = path[:i]
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		o.add("url.query", path[i+1:])
		path = path[:i]
	}
	o.add("url.path", path)
	if i := strings.LastIndexByte(path, '.'); i >= 0 && i < len(path)-1 && !strings.Contains(path[i:], "/") {
		o.add("url.extension", strings.ToLower(path[i+1:]))
	}
}

// header writes what a syslog header before the line says: its PRI, unless
// the envelope has, and the host that logged. It returns that host, or the
// envelope's.
func (o *out) header(h syslogheader.Header) string {
	envelope.AddPriority(o.dst, h.Priority)
	if h.Host != "" {
		o.add("host.hostname", h.Host)
		return h.Host
	}
	if v, ok := o.dst.Get(envelope.FieldSyslogHostname); ok && v != "-" {
		return v
	}
	return ""
}

// client writes source.ip, or source.domain, and source.address for an
// HTTP client's address ("-": none); it returns the IP, if it is one.
func (o *out) client(addr string) string {
	ip := ""
	if isIP(addr) {
		ip = addr
		o.add("source.ip", addr)
	} else {
		o.add("source.domain", dash(addr))
	}
	o.add("source.address", dash(addr))
	return ip
}

// outcome writes event.outcome for an HTTP status: success below 400,
// failure from it; nothing for a status that is not one.
func (o *out) outcome(status string) {
	switch {
	case len(status) != 3:
	case status[0] >= '1' && status[0] <= '3':
		o.add("event.outcome", "success")
	default:
		o.add("event.outcome", "failure")
	}
}

// duration writes event.duration for a time in milliseconds.
func (o *out) duration(ms string) {
	if n, err := strconv.ParseInt(ms, 10, 64); err == nil && n >= 0 && n < 1<<40 {
		o.add("event.duration", strconv.FormatInt(n*1e6, 10))
	}
}
