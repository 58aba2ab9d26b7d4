package mail

import (
	"bytes"
	"errors"
	"strings"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
)

// Type names used in configuration and `tarian parse --type`.
const (
	TypePostfix     = "postfix"
	TypeFortiMail   = "fortimail"
	TypeMailScanner = "mailscanner"
	TypeExchange    = "exchange"
)

// Errors Parse returns; the pipeline dead-letters the record with them.
var (
	ErrEmpty          = errors.New("empty message")
	ErrNotPostfix     = errors.New("postfix: no syslog header or program name, and not a Postfix message")
	ErrNotMailScanner = errors.New("mailscanner: no syslog header or program name")
)

// SniffPostfix reports whether payload looks like a Postfix log line: its
// tag names a Postfix daemon ("postfix/smtpd[1]:"), or it is a NOQUEUE
// rejection. It does not allocate.
func SniffPostfix(payload []byte) bool {
	return bytes.Contains(payload, []byte(" postfix/")) || bytes.HasPrefix(payload, []byte("postfix/")) ||
		bytes.Contains(payload, []byte(" postfix-")) && bytes.Contains(payload, []byte("/smtp")) ||
		bytes.HasPrefix(payload, []byte("NOQUEUE: reject: "))
}

// PostfixParser parses Postfix's syslog lines (smtpd, postscreen, cleanup,
// qmgr, smtp, lmtp, local, pickup, bounce, ...). The zero value is ready;
// it keeps buffers between calls and is not safe for concurrent use.
type PostfixParser struct {
	o out
}

// Parse reads one Postfix line, or the message of one whose syslog header
// the envelope read, and appends its postfix.* and ECS fields to
// dst.Fields.
func (p *PostfixParser) Parse(payload []byte, dst *event.Event) error {
	s := strings.TrimRight(string(payload), "\r\n")
	if strings.TrimSpace(s) == "" {
		return ErrEmpty
	}
	l := splitSyslog(s, dst, false)
	o := &p.o
	o.reset(dst)
	o.module, o.dataset = "postfix", "postfix.log"
	component := ""
	if strings.HasPrefix(l.app, "postfix") {
		component = l.app[strings.LastIndexByte(l.app, '/')+1:]
	}
	known := o.postfix(component, strings.TrimSpace(l.msg))
	if !known && !l.hasHdr && l.app == "" {
		return ErrNotPostfix
	}
	o.addNonEmpty("postfix.component", component)
	o.header(&l)
	o.add(event.FieldMessage, l.msg)
	if !known {
		o.set(catHost, typeInfo)
	}
	o.finish()
	return nil
}

// postfix reads a Postfix message; it reports whether it knew its shape.
func (o *out) postfix(component, m string) bool {
	qid := ""
	switch {
	case strings.HasPrefix(m, "NOQUEUE: "):
		m = m[len("NOQUEUE: "):]
	default:
		if w, rest, ok := strings.Cut(m, ": "); ok && isQueueID(w) {
			qid, m = w, rest
		}
	}
	if qid != "" {
		o.add("postfix.queue_id", qid)
	}
	switch {
	case strings.HasPrefix(m, "client="):
		o.client(m[len("client="):])
	case strings.HasPrefix(m, "message-id="):
		id := strings.TrimSpace(m[len("message-id="):])
		o.add("email.message_id", strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">"))
	case strings.HasPrefix(m, "from=<"):
		o.pairs(m)
	case strings.HasPrefix(m, "to=<"):
		o.pairs(m)
	case strings.HasPrefix(m, "uid=") && strings.Contains(m, " from=<"):
		// pickup: "uid=0 from=<root>"
		uid, rest, _ := strings.Cut(m, " ")
		o.add("user.id", uid[len("uid="):])
		o.pairs(rest)
	case m == "removed":
		o.action = "removed"
	case strings.HasPrefix(m, "sender non-delivery notification: "):
		o.add("postfix.bounce_queue_id", strings.TrimSpace(m[len("sender non-delivery notification: "):]))
		o.action = "bounce-notification"
	case strings.HasPrefix(m, "connect from "):
		o.clientAt(m[len("connect from "):])
		o.set(catEmailNetwork, typeConnStart)
		o.action = "connect"
	case strings.HasPrefix(m, "disconnect from "):
		o.clientAt(m[len("disconnect from "):])
		o.set(catEmailNetwork, typeConnEnd)
		o.action = "disconnect"
	case strings.HasPrefix(m, "lost connection after "), strings.HasPrefix(m, "timeout after "):
		if i := strings.Index(m, " from "); i > 0 {
			o.clientAt(m[i+len(" from "):])
			o.reason = m[:i]
		}
		o.set(catEmailNetwork, typeConnEnd)
	case strings.HasPrefix(m, "warning: ") && strings.Contains(m, ": SASL ") && strings.Contains(m, " authentication failed"):
		// "warning: unknown[192.0.2.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"
		rest := m[len("warning: "):]
		client, text, _ := strings.Cut(rest, ": SASL ")
		o.clientAt(client)
		method, _, _ := strings.Cut(text, " ")
		o.add("postfix.sasl_method", method)
		o.set(catEmailAuth, typeInfo)
		o.action, o.outcome = "sasl-authentication", "failure"
		if _, r, ok := strings.Cut(text, "authentication failed"); ok {
			o.reason = "authentication failed" + r
		}
	case isVerdict(m):
		o.verdict(m)
	case component == "postscreen" || isPostscreen(m):
		o.postscreen(m)
	default:
		if qid == "" {
			if ip, port := bracketIP(m); ip != "" {
				o.endpoint(&sourceNames, ip, port)
				return true
			}
			return false
		}
	}
	return true
}

// isQueueID reports whether w is a Postfix queue ID: the short form (hex)
// or the long one (base 52 with a 'z' separator); a lower-case word
// ("warning", "statistics") is not one.
func isQueueID(w string) bool {
	if len(w) < 5 || len(w) > 20 {
		return false
	}
	upperOrDigit := false
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c >= '0' && c <= '9', c >= 'A' && c <= 'Z':
			upperOrDigit = true
		case c >= 'a' && c <= 'z':
		default:
			return false
		}
	}
	return upperOrDigit
}

// verdicts are the actions of Postfix's access and content checks.
var verdicts = [...]string{"reject: ", "milter-reject: ", "reject_warning: ", "discard: ", "hold: ", "filter: ",
	"redirect: ", "replace: ", "prepend: ", "warning: header ", "warning: body ", "info: header "}

func isVerdict(m string) bool {
	for _, v := range verdicts {
		if strings.HasPrefix(m, v) {
			return true
		}
	}
	return false
}

// verdict reads "reject: RCPT from host[ip]:port: 550 5.7.1 <rcpt>: text;
// from=<a> to=<b> proto=ESMTP helo=<h>" and the other check results
// (milter-reject, discard, hold, warning: header Subject: ...).
func (o *out) verdict(m string) {
	verb, rest, _ := strings.Cut(m, ": ")
	if strings.HasPrefix(verb, "warning") || strings.HasPrefix(verb, "info") {
		verb, rest = "warning", m[strings.IndexByte(m, ' ')+1:]
	}
	o.add("postfix.action", verb)
	o.action = verb
	switch verb {
	case "reject", "milter-reject", "discard":
		o.outcome = "failure"
	}
	// "header Subject: text from host[ip]; from=<> ..." (header_checks)
	if strings.HasPrefix(rest, "header ") || strings.HasPrefix(rest, "body ") {
		kind, r, _ := strings.Cut(rest, " ")
		name, val, _ := strings.Cut(r, ": ")
		if kind == "header" && strings.EqualFold(name, "Subject") {
			if i := strings.LastIndex(val, " from "); i >= 0 {
				val = val[:i]
			}
			o.add("email.subject", val)
		}
		if i := strings.LastIndex(rest, " from "); i >= 0 {
			o.clientAt(rest[i+len(" from "):])
		}
	} else {
		// "STAGE from CLIENT: CODE DSN TEXT"
		stage, r, ok := strings.Cut(rest, " from ")
		if ok && strings.IndexByte(stage, ' ') < 0 {
			o.add("postfix.stage", stage)
			client, reply, _ := strings.Cut(r, ": ")
			o.clientAt(client)
			rest = reply
		}
		if code, r := cutWord(rest); len(code) == 3 && ecs.IsDigits(code) {
			o.add("postfix.response_code", code)
			rest = r
		}
		if dsn, r := cutWord(rest); isDSN(dsn) {
			o.add("postfix.dsn", dsn)
			rest = r
		}
		text := rest
		if i := strings.Index(text, "; from=<"); i >= 0 {
			text = text[:i]
		}
		o.reason = text
	}
	if i := strings.Index(m, "; from=<"); i >= 0 {
		o.pairs(m[i+2:])
	}
}

// pairs reads "key=value" pairs separated by ", " or " " (from=<a>,
// size=1, nrcpt=1 (queue active); to=<b>, relay=..., status=sent (250 ok);
// from=<a> to=<b> proto=ESMTP helo=<h>).
func (o *out) pairs(s string) {
	for s != "" {
		s = strings.TrimLeft(s, " ,")
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return
		}
		key := s[:eq]
		if strings.IndexByte(key, ' ') >= 0 {
			// free text between pairs: skip a word
			_, s = cutWord(s)
			continue
		}
		s = s[eq+1:]
		var val string
		if strings.HasPrefix(s, "<") {
			end := strings.IndexByte(s, '>')
			if end < 0 {
				val, s = s[1:], ""
			} else {
				val, s = s[1:end], s[end+1:]
			}
		} else {
			end := strings.IndexAny(s, ", ")
			if end < 0 {
				val, s = s, ""
			} else {
				val, s = s[:end], s[end:]
			}
		}
		// A parenthesised comment follows status= and nrcpt= ("(250 2.0.0 Ok)").
		comment := ""
		if t := strings.TrimLeft(s, " "); strings.HasPrefix(t, "(") {
			if end := strings.LastIndexByte(t, ')'); end > 0 {
				comment, s = t[1:end], t[end+1:]
			}
		}
		o.postfixPair(key, val, comment)
	}
}

// postfixPair files one pair of a Postfix message.
func (o *out) postfixPair(key, val, comment string) {
	switch key {
	case "from":
		if val != "" {
			o.add("email.from.address", val)
			o.relUser(val)
		}
	case "to":
		if val != "" {
			o.add("email.to.address", val)
			o.relUser(val)
		}
	case "orig_to":
		o.add("postfix.orig_to", val)
	case "relay":
		o.add("postfix.relay", val)
		host, ip, port := splitClient(val)
		if ip == "" && host != "none" && host != "local" && strings.IndexByte(host, '/') < 0 {
			o.endpoint(&destinationNames, host, port)
		} else if ip != "" {
			o.endpoint(&destinationNames, ip, port)
			if host != "" && host != "unknown" {
				o.add("destination.domain", host)
			}
		}
	case "status":
		o.add("postfix.status", val)
		o.action = val
		switch val {
		case "sent":
			o.outcome = "success"
		case "bounced", "expired", "undeliverable":
			o.outcome = "failure"
		default:
			o.outcome = "unknown"
		}
		if comment != "" {
			o.add("postfix.response", comment)
			if val != "sent" {
				o.reason = comment
			}
		}
	case "size":
		o.add("postfix.size", val)
	case "nrcpt":
		o.add("postfix.nrcpt", val)
	case "delay":
		o.add("postfix.delay", val)
	case "delays":
		o.add("postfix.delays", val)
	case "dsn":
		o.add("postfix.dsn", val)
	case "proto":
		o.add("postfix.proto", val)
	case "helo":
		o.add("postfix.helo", val)
	case "conn_use":
		o.add("postfix.conn_use", val)
	case "sasl_method":
		o.add("postfix.sasl_method", val)
	case "sasl_username":
		o.add("user.name", val)
		o.relUser(val)
	}
}

// client reads qmgr's and smtpd's "client=host[ip]:port, sasl_method=...".
func (o *out) client(s string) {
	addr, rest, _ := strings.Cut(s, ", ")
	o.clientAt(addr)
	o.pairs(rest)
}

// clientAt writes the client of "host[ip]:port" or "[ip]:port".
func (o *out) clientAt(s string) {
	w, _ := cutWord(strings.TrimSpace(s))
	w = strings.TrimSuffix(w, ":")
	host, ip, port := splitClient(w)
	if ip != "" {
		o.endpoint(&sourceNames, ip, port)
		if host != "" && host != "unknown" {
			o.add("source.domain", host)
		}
	} else if host != "" {
		o.endpoint(&sourceNames, host, port)
	}
}

// splitClient splits "host[ip]:port" (host and port optional).
func splitClient(s string) (host, ip, port string) {
	i := strings.IndexByte(s, '[')
	j := strings.LastIndexByte(s, ']')
	if i < 0 || j < i {
		h, p, _ := strings.Cut(s, ":")
		if isIP(s) {
			return "", s, ""
		}
		return h, "", p
	}
	host, ip = s[:i], s[i+1:j]
	ip = strings.TrimPrefix(ip, "IPv6:")
	if rest := s[j+1:]; strings.HasPrefix(rest, ":") {
		port = rest[1:]
	}
	return host, ip, port
}

// postscreens are the verbs postscreen starts its messages with.
var postscreens = [...]string{"CONNECT from ", "PASS NEW ", "PASS OLD ", "DISCONNECT ", "PREGREET ", "DNSBL rank ",
	"HANGUP ", "WHITELISTED ", "ALLOWLISTED ", "BLACKLISTED ", "DENYLISTED ", "COMMAND PIPELINING ",
	"BARE NEWLINE ", "NON-SMTP COMMAND ", "COMMAND TIME LIMIT ", "COMMAND COUNT LIMIT ", "COMMAND LENGTH LIMIT "}

func isPostscreen(m string) bool {
	for _, v := range postscreens {
		if strings.HasPrefix(m, v) {
			return true
		}
	}
	return false
}

// postscreen reads postscreen's verdicts: "CONNECT from [ip]:port to
// [ip]:25", "PASS NEW [ip]:port", "DNSBL rank 3 for [ip]:port", ...
func (o *out) postscreen(m string) {
	switch {
	case strings.HasPrefix(m, "CONNECT from "):
		rest := m[len("CONNECT from "):]
		client, server, _ := strings.Cut(rest, " to ")
		o.clientAt(client)
		_, ip, port := splitClient(strings.TrimSpace(server))
		o.endpoint(&destinationNames, ip, port)
		o.set(catEmailNetwork, typeConnStart)
		o.action = "connect"
		return
	case strings.HasPrefix(m, "DISCONNECT "), strings.HasPrefix(m, "HANGUP "):
		o.set(catEmailNetwork, typeConnEnd)
		o.action = "disconnect"
	case strings.HasPrefix(m, "BLACKLISTED "), strings.HasPrefix(m, "DENYLISTED "):
		o.action, o.outcome = "denylisted", "failure"
	case strings.HasPrefix(m, "PASS "):
		o.action = "pass"
	case strings.HasPrefix(m, "DNSBL rank "):
		o.action = "dnsbl"
	case strings.HasPrefix(m, "PREGREET "):
		o.action = "pregreet"
	}
	if ip, port := bracketIP(m); ip != "" {
		o.endpoint(&sourceNames, ip, port)
	}
}

// bracketIP returns the first "[address]" of m that holds an IP address,
// with the port of a "[address]:port".
func bracketIP(m string) (ip, port string) {
	for {
		i := strings.IndexByte(m, '[')
		if i < 0 {
			return "", ""
		}
		j := strings.IndexByte(m[i:], ']')
		if j < 0 {
			return "", ""
		}
		ip = strings.TrimPrefix(m[i+1:i+j], "IPv6:")
		m = m[i+j+1:]
		if isIP(ip) {
			if strings.HasPrefix(m, ":") {
				k := 1
				for k < len(m) && m[k] >= '0' && m[k] <= '9' {
					k++
				}
				port = m[1:k]
			}
			return ip, port
		}
	}
}

// isDSN reports whether s is an enhanced status code ("5.7.1").
func isDSN(s string) bool {
	a, rest, ok1 := strings.Cut(s, ".")
	b, c, ok2 := strings.Cut(rest, ".")
	return ok1 && ok2 && ecs.IsDigits(a) && ecs.IsDigits(b) && ecs.IsDigits(c)
}

func cutWord(s string) (string, string) {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}
