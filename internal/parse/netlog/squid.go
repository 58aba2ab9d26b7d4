package netlog

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
	"github.com/tarian-soc/tarian/internal/parse/syslogheader"
)

// TypeSquid is the log-source type of Squid access.log lines.
const TypeSquid = "squid"

// ErrNotSquid is returned for a line that is neither Squid's native
// access.log format nor its common/combined format.
var ErrNotSquid = errors.New("not a Squid access.log line (native, common or combined format)")

// SniffSquid reports whether payload looks like a Squid access.log line:
// native ("1140701044.525 ... TCP_MISS/200 ...") or common/combined with a
// "CODE:HIER" tail. It does not allocate.
func SniffSquid(payload []byte) bool {
	if i := bytes.IndexByte(payload, ' '); i >= 12 {
		t := payload[:i]
		dot := bytes.IndexByte(t, '.')
		if dot >= 9 && ecs.IsDigits(string(t[:dot])) && ecs.IsDigits(string(t[dot+1:])) {
			for _, c := range [...][]byte{[]byte(" TCP_"), []byte(" UDP_"), []byte(" NONE"), []byte(" TAG_NONE")} {
				if bytes.Contains(payload, c) {
					return true
				}
			}
		}
	}
	return bytes.Contains(payload, []byte(`] "`)) && bytes.Contains(payload, []byte(":HIER_"))
}

// Squid parses Squid access.log lines. The zero value is ready; it keeps
// buffers between calls and is not safe for concurrent use.
type Squid struct {
	out
	f [12]string
}

// Parse reads one access.log line and appends its fields to dst.Fields.
// It sets dst.Time from the line's time.
func (p *Squid) Parse(payload []byte, dst *event.Event) error {
	line := strings.TrimRight(string(payload), "\r\n")
	h, body, _ := syslogheader.Split(line, dst.Time, func(w string) bool { return epoch(w) })
	body = strings.TrimLeft(body, " ")
	w, _ := nextToken(body)
	var r squidRecord
	var ok bool
	if epoch(w) {
		ok = p.native(body, &r)
	} else {
		ok = common(body, &r)
	}
	if !ok {
		return ErrNotSquid
	}
	p.begin(dst)
	defer p.end()
	dst.Time = r.time
	p.emit(&r, p.header(h))
	return nil
}

// squidRecord is what a line says, in either format.
type squidRecord struct {
	time                                time.Time
	elapsed                             string // milliseconds (native only)
	client, code, status, bytes         string
	method, url, user, hier, peer, mime string
	version, referrer, userAgent, ident string
}

// epoch reports whether w is a Unix time with a fraction, "1140701044.525".
func epoch(w string) bool {
	dot := strings.IndexByte(w, '.')
	return dot >= 9 && dot <= 11 && ecs.IsDigits(w[:dot]) && ecs.IsDigits(w[dot+1:])
}

// native reads "time elapsed client code/status bytes method URL user hier/peer type".
func (p *Squid) native(s string, r *squidRecord) bool {
	n := 0
	for s != "" && n < len(p.f) {
		var tok string
		tok, s = nextToken(s)
		if tok != "" {
			p.f[n] = tok
			n++
		}
	}
	if n < 7 {
		return false
	}
	f := p.f[:n]
	dot := strings.IndexByte(f[0], '.')
	sec, err1 := strconv.ParseInt(f[0][:dot], 10, 64)
	frac := f[0][dot+1:]
	if len(frac) > 9 {
		frac = frac[:9]
	}
	ns, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || !ecs.IsDigits(f[1]) {
		return false
	}
	for i := len(frac); i < 9; i++ {
		ns *= 10
	}
	r.time = time.Unix(sec, ns).UTC()
	r.elapsed, r.client = f[1], f[2]
	code, status, ok := strings.Cut(f[3], "/")
	if !ok {
		return false
	}
	r.code, r.status = code, status
	r.bytes, r.method, r.url = f[4], f[5], f[6]
	if n > 7 {
		r.user = f[7]
	}
	if n > 8 {
		r.hier, r.peer, _ = strings.Cut(f[8], "/")
	}
	if n > 9 {
		r.mime = f[9]
	}
	return true
}

// common reads `client ident user [dd/Mon/yyyy:hh:mm:ss zone] "METHOD URL HTTP/v" status bytes
// ["referrer" "user agent"] CODE:HIER`.
func common(s string, r *squidRecord) bool {
	client, s := nextToken(s)
	ident, s := nextToken(s)
	user, s := nextToken(s)
	s = strings.TrimLeft(s, " ")
	if !strings.HasPrefix(s, "[") {
		return false
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return false
	}
	t, err := time.Parse("02/Jan/2006:15:04:05 -0700", s[1:end])
	if err != nil {
		return false
	}
	s = strings.TrimLeft(s[end+1:], " ")
	req, s, ok := quoted(s)
	if !ok {
		return false
	}
	method, rest := nextToken(req)
	url, version := nextToken(rest)
	status, s := nextToken(s)
	size, s := nextToken(s)
	if !ecs.IsDigits(status) {
		return false
	}
	s = strings.TrimLeft(s, " ")
	if strings.HasPrefix(s, `"`) {
		r.referrer, s, _ = quoted(s)
		s = strings.TrimLeft(s, " ")
		r.userAgent, s, _ = quoted(s)
	}
	tail, _ := nextToken(s)
	r.code, r.hier, _ = strings.Cut(tail, ":")
	r.time = t.UTC()
	r.client, r.ident, r.user = client, ident, user
	r.method, r.url, r.version = method, url, strings.TrimPrefix(version, "HTTP/")
	r.status, r.bytes = status, size
	return true
}

// quoted reads a double-quoted string at the start of s (backslash
// escapes kept as they are).
func quoted(s string) (v, rest string, ok bool) {
	if !strings.HasPrefix(s, `"`) {
		return "", s, false
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return s[1:i], s[i+1:], true
		}
	}
	return "", s, false
}

// emit writes the record's fields.
func (p *Squid) emit(r *squidRecord, host string) {
	p.add("ecs.version", ECSVersion)
	p.add("event.module", "squid")
	p.add("event.dataset", "squid.access")
	p.add("observer.vendor", "Squid")
	p.add("observer.product", "Squid")
	p.add("observer.type", "proxy")
	p.add("observer.hostname", host)

	code := r.code
	p.add("squid.result_code", dash(code))
	p.add("squid.hierarchy_code", dash(r.hier))
	p.add("squid.peer", dash(r.peer))
	p.add("squid.ident", dash(r.ident))

	status := number(r.status)
	denied := strings.Contains(code, "DENIED") || status == "403" || status == "407"
	p.add("event.kind", "event")
	p.add("event.category", `["network","web"]`)
	if denied {
		p.add("event.type", `["access","denied"]`)
	} else {
		p.add("event.type", `["access"]`)
	}
	p.add("event.action", strings.ToLower(dash(code)))
	if denied {
		p.add("event.outcome", "failure")
	} else {
		p.outcome(status)
	}
	p.duration(r.elapsed)

	// The client.
	clientIP := p.client(r.client)
	user := dash(r.user)
	p.add("user.name", user)
	p.add("source.user.name", user)

	// HTTP.
	p.add("http.request.method", dash(r.method))
	if status != "0" {
		p.add("http.response.status_code", status)
	}
	p.add("http.response.bytes", number(r.bytes))
	p.add("http.response.mime_type", dash(r.mime))
	p.add("http.version", r.version)
	p.add("http.request.referrer", dash(r.referrer))
	p.add("user_agent.original", dash(r.userAgent))

	// The URL, and the server it names.
	domain := p.url(r.method, dash(r.url))

	// The peer the request went to ("DIRECT/93.184.216.34").
	peerIP := ""
	if peer := dash(r.peer); peer != "" {
		p.add("destination.address", peer)
		if isIP(peer) {
			peerIP = peer
			p.add("destination.ip", peer)
		} else {
			p.add("destination.domain", peer)
		}
	} else if domain != "" {
		p.add("destination.domain", domain)
	}
	p.add("related.ip", p.jsonSet(clientIP, peerIP))
	p.add("related.user", p.jsonSet(user))
	p.add("related.hosts", p.jsonSet(domain, host))
}

// url writes url.* for a request URL: absolute ("http://h/p?q"), a
// CONNECT target ("h:443") or a path. It returns the domain.
func (p *Squid) url(method, u string) string {
	if u == "" {
		return ""
	}
	p.add("url.original", u)
	rest, scheme := u, ""
	if s, after, ok := strings.Cut(u, "://"); ok {
		scheme, rest = s, after
	} else if method != "CONNECT" {
		// A path, or a bare word as some clients send.
		if strings.HasPrefix(u, "/") {
			p.urlPath(u)
		}
		return ""
	}
	p.add("url.scheme", scheme)
	hostport, path := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		hostport, path = rest[:i], rest[i:]
	}
	if i := strings.LastIndexByte(hostport, '@'); i >= 0 {
		hostport = hostport[i+1:]
	}
	host, port := hostport, ""
	if strings.HasPrefix(hostport, "[") {
		if i := strings.IndexByte(hostport, ']'); i > 0 {
			host, port = hostport[1:i], strings.TrimPrefix(hostport[i+1:], ":")
		}
	} else if i := strings.LastIndexByte(hostport, ':'); i >= 0 {
		host, port = hostport[:i], hostport[i+1:]
	}
	p.add("url.domain", host)
	p.add("url.port", number(port))
	p.urlPath(path)
	if method == "CONNECT" {
		p.add("destination.port", number(port))
	}
	return host
}

// dash returns "" for Squid's "-" (none).
func dash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}
