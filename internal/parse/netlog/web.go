package netlog

import (
	"bytes"
	"errors"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
	"github.com/tarian-soc/tarian/internal/parse/envelope"
	"github.com/tarian-soc/tarian/internal/parse/syslogheader"
)

// TypeWeb is the log-source type of web server access logs.
const TypeWeb = "web-access"

// ErrNotWeb is returned for a line in none of the access log layouts read.
var ErrNotWeb = errors.New("not a web server access log line (common, combined, vhost_combined, or IIS W3C with the default fields)")

// SniffWeb reports whether payload looks like a web server access log
// line: an Apache-style time in brackets followed by a quoted request
// ("[10/Oct/2026:13:55:36 +0100] \"GET"), or an IIS W3C line of default
// fields (date, time, server address, method, path). Squid's common and
// combined lines also pass; Squid's sniffer comes first and takes them by
// their result codes. It does not allocate.
func SniffWeb(payload []byte) bool {
	if i := bytes.Index(payload, []byte(`] "`)); i >= 26 {
		t := payload[i-26 : i]
		return t[2] == '/' && t[6] == '/' && t[11] == ':' && t[20] == ' ' && (t[21] == '+' || t[21] == '-') && bytes.LastIndexByte(payload[:i], '[') == i-27
	}
	_, ok := iisStart(payload)
	return ok
}

// iisStart reports whether s starts with an IIS W3C line's date and time
// ("2026-12-07 10:00:02 "), returning what follows.
func iisStart[T string | []byte](s T) (T, bool) {
	if len(s) < 21 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' || s[19] != ' ' {
		return s, false
	}
	for _, i := range [...]int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		if s[i] < '0' || s[i] > '9' {
			return s, false
		}
	}
	rest := s[20:]
	// The server address, then an upper-case method.
	sp := 0
	for sp < len(rest) && rest[sp] != ' ' {
		sp++
	}
	if sp == 0 || sp+1 >= len(rest) || rest[sp+1] < 'A' || rest[sp+1] > 'Z' {
		return s, false
	}
	return rest, true
}

// Web parses web server access log lines. The zero value is ready; it
// keeps buffers between calls and is not safe for concurrent use.
type Web struct {
	out
	f [maxIISFields + 1]string // one more than any layout: a longer line is none
}

// webRecord is what an access log line says.
type webRecord struct {
	squidRecord
	server         string // the virtual host (vhost_combined), IIS s-ip
	serverPort     string // IIS s-port
	query          string // IIS cs-uri-query
	subStatus      string // IIS sc-substatus
	win32Status    string // IIS sc-win32-status
	requestBytes   string // IIS cs-bytes
	host           string // IIS cs-host
	siteName, comp string // IIS s-sitename, s-computername
	iis            bool
}

// Parse reads one access log line, bare or behind a syslog header, and
// appends its fields to dst.Fields. It sets dst.Time from the line's time.
func (p *Web) Parse(payload []byte, dst *event.Event) error {
	line := strings.TrimRight(string(payload), "\r\n")
	var r webRecord
	var h syslogheader.Header
	h.Priority = -1
	ok := false
	if rest, isIIS := iisStart(line); isIIS {
		// An IIS line's own date would read as a syslog header's time.
		ok = p.iis(line[:19], rest, &r)
	} else {
		var body string
		h, body, _ = syslogheader.Split(line, dst.Time, nil)
		body = strings.TrimLeft(body, " ")
		if rest, isIIS := iisStart(body); isIIS {
			ok = p.iis(body[:19], rest, &r)
		} else {
			ok = webCommon(body, &r)
		}
	}
	if !ok {
		return ErrNotWeb
	}
	p.begin(dst)
	defer p.end()
	dst.Time = r.time
	p.header(h)
	app := h.App
	if app == "" {
		app, _ = dst.Get(envelope.FieldSyslogAppname)
	}
	p.emit(&r, app)
	return nil
}

// webCommon reads the common and combined layouts, optionally behind a
// virtual host ("www.example.org:443 "), with anything after the user
// agent (nginx's X-Forwarded-For, a request time) left in the message.
func webCommon(s string, r *webRecord) bool {
	if strings.HasPrefix(strings.TrimLeft(s, " "), "[") {
		return false
	}
	if !common(s, &r.squidRecord) {
		vhost, rest := nextToken(s)
		if vhost == "" || !common(rest, &r.squidRecord) {
			return false
		}
		r.server = vhost
	}
	r.code, r.hier = "", ""
	if !isMethod(r.method) {
		// Not a request line: "-" (none came), TLS bytes on a plain
		// port ("\x16\x03\x01..."), a scanner's junk. The message keeps it.
		r.method, r.url, r.version = "", "", ""
	}
	return true
}

// isMethod reports whether s can be an HTTP method: a token of letters
// (RFC 9110 allows more, which no server in use sends).
func isMethod(s string) bool {
	if s == "" || len(s) > 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			if s[i] != '-' && s[i] != '_' {
				return false
			}
		}
	}
	return true
}

// iisLayouts are the IIS W3C field lists read, after date and time: IIS
// 7-8's default, IIS 8.5 and later's default (with the referrer), and every
// field IIS offers. Another #Fields list is not read (the line is none of
// them by its number of fields).
var iisLayouts = [][]string{
	{"s-ip", "cs-method", "cs-uri-stem", "cs-uri-query", "s-port", "cs-username", "c-ip", "cs(User-Agent)", "sc-status", "sc-substatus", "sc-win32-status", "time-taken"},
	{"s-ip", "cs-method", "cs-uri-stem", "cs-uri-query", "s-port", "cs-username", "c-ip", "cs(User-Agent)", "cs(Referer)", "sc-status", "sc-substatus", "sc-win32-status", "time-taken"},
	{"s-sitename", "s-computername", "s-ip", "cs-method", "cs-uri-stem", "cs-uri-query", "s-port", "cs-username", "c-ip", "cs-version", "cs(User-Agent)", "cs(Cookie)", "cs(Referer)", "cs-host", "sc-status", "sc-substatus", "sc-win32-status", "sc-bytes", "cs-bytes", "time-taken"},
}

// maxIISFields is the longest of iisLayouts.
const maxIISFields = 20

// iis reads a W3C line of one of iisLayouts after its date and time
// (stamp, "2026-12-07 10:00:02", UTC as IIS writes it).
func (p *Web) iis(stamp, s string, r *webRecord) bool {
	n := 0
	for s != "" && n < len(p.f) {
		var tok string
		tok, s = nextToken(s)
		if tok != "" {
			p.f[n] = tok
			n++
		}
	}
	if s != "" {
		return false
	}
	var layout []string
	for _, l := range iisLayouts {
		if len(l) == n {
			layout = l
		}
	}
	if layout == nil {
		return false
	}
	t, err := time.Parse(time.DateTime, stamp)
	if err != nil {
		return false
	}
	r.time, r.iis = t, true
	for i, name := range layout {
		v := p.f[i]
		if v == "-" {
			continue
		}
		switch name {
		case "s-sitename":
			r.siteName = v
		case "s-computername":
			r.comp = v
		case "s-ip":
			r.server = v
		case "cs-method":
			r.method = v
		case "cs-uri-stem":
			r.url = v
		case "cs-uri-query":
			r.query = v
		case "s-port":
			r.serverPort = v
		case "cs-username":
			r.user = v
		case "c-ip":
			r.client = v
		case "cs-version":
			r.version = strings.TrimPrefix(v, "HTTP/")
		case "cs(User-Agent)":
			r.userAgent = strings.ReplaceAll(v, "+", " ")
		case "cs(Referer)":
			r.referrer = v
		case "cs-host":
			r.host = v
		case "sc-status":
			r.status = v
		case "sc-substatus":
			r.subStatus = v
		case "sc-win32-status":
			r.win32Status = v
		case "sc-bytes":
			r.bytes = v
		case "cs-bytes":
			r.requestBytes = v
		case "time-taken":
			r.elapsed = v
		}
	}
	return r.method != "" && ecs.IsDigits(r.status)
}

// emit writes the record's fields; app is the syslog program that logged
// it, if any ("nginx", "httpd").
func (p *Web) emit(r *webRecord, app string) {
	module := "web"
	switch app = strings.ToLower(app); {
	case r.iis:
		module = "iis"
	case strings.Contains(app, "nginx"):
		module = "nginx"
	case strings.Contains(app, "apache") || strings.Contains(app, "httpd"):
		module = "apache"
	}
	p.add("ecs.version", ECSVersion)
	p.add("event.module", module)
	p.add("event.dataset", module+".access")
	p.add("event.kind", "event")
	p.add("event.category", `["web"]`)
	p.add("event.type", `["access"]`)
	status := number(r.status)
	p.outcome(status)
	p.duration(r.elapsed)

	// The client.
	clientIP := p.client(r.client)
	user := dash(r.user)
	if domain, name, ok := strings.Cut(user, `\`); ok && domain != "" && name != "" {
		// IIS's Windows authentication: DOMAIN\user.
		p.add("user.domain", domain)
		user = name
	}
	p.add("user.name", user)

	// The server.
	serverIP, domain := "", "" // the server's address and name
	if r.iis {
		p.add("destination.address", r.server)
		if isIP(r.server) {
			serverIP = r.server
			p.add("destination.ip", r.server)
		}
		p.add("destination.port", number(r.serverPort))
		domain = r.host
		p.add("iis.access.site_name", r.siteName)
		p.add("iis.access.server_name", r.comp)
		p.add("iis.access.sub_status", number(r.subStatus))
		p.add("iis.access.win32_status", number(r.win32Status))
	} else if r.server != "" {
		// %v:%p, "www.example.org:443".
		host, port := r.server, ""
		if i := strings.LastIndexByte(host, ':'); i > 0 && ecs.IsDigits(host[i+1:]) && !strings.Contains(host[:i], ":") {
			host, port = host[:i], host[i+1:]
		}
		domain = host
		p.add("destination.port", number(port))
	}
	if domain != "" {
		p.add("destination.domain", domain)
		p.add("url.domain", domain)
	}

	// HTTP.
	p.add("http.request.method", dash(r.method))
	p.add("http.version", r.version)
	p.add("http.response.status_code", status)
	p.add("http.response.body.bytes", number(r.bytes))
	p.add("http.request.bytes", number(r.requestBytes))
	p.add("http.request.referrer", dash(r.referrer))
	p.add("user_agent.original", dash(r.userAgent))
	target := dash(r.url)
	if r.query != "" {
		target += "?" + r.query
	}
	if target != "" {
		p.add("url.original", target)
		if strings.HasPrefix(target, "/") {
			p.urlPath(target)
		}
	}
	p.add("related.ip", p.jsonSet(clientIP, serverIP))
	p.add("related.user", p.jsonSet(user))
	p.add("related.hosts", p.jsonSet(domain))
}
