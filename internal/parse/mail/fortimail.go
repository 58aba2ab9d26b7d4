package mail

import (
	"bytes"
	"errors"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
)

// Errors of the FortiMail parser.
var (
	ErrNoPairs      = errors.New("fortimail: no key=value pairs")
	ErrNotFortiMail = errors.New("fortimail: none of date, log_id, device_id or type")
)

// SniffFortiMail reports whether payload looks like a FortiMail log: it
// holds "log_id=" and a FortiMail serial number (device_id=FE...) or one of
// FortiMail's own log types. It does not allocate.
func SniffFortiMail(payload []byte) bool {
	if !bytes.Contains(payload, []byte("log_id=")) {
		return false
	}
	if bytes.Contains(payload, []byte("device_id=FE")) || bytes.Contains(payload, []byte(`device_id="FE`)) {
		return true
	}
	for _, t := range [...]string{"type=statistics", "type=kevent", "type=spam", "type=encrypt"} {
		if bytes.Contains(payload, []byte(t)) {
			return true
		}
	}
	return false
}

// FortiMailParser parses FortiMail key=value logs (space- or
// comma-separated, values optionally quoted), bare or behind a syslog
// header. The zero value is ready; it keeps buffers between calls and is
// not safe for concurrent use.
type FortiMailParser struct {
	o     out
	kv    []kvPair
	names map[string]string
}

type kvPair struct{ key, val string }

// maxNames bounds the cache of native field names.
const maxNames = 4096

const fortimailPrefix = "fortinet_fortimail.log."

func (p *FortiMailParser) native(k string) string {
	if n, ok := p.names[k]; ok {
		return n
	}
	n := fortimailPrefix + k
	if p.names == nil {
		p.names = make(map[string]string, 64)
	}
	if len(p.names) < maxNames {
		p.names[k] = n
	}
	return n
}

// Parse reads one FortiMail log and appends its fortinet_fortimail.log.*
// and ECS fields to dst.Fields, as Elastic's fortinet_fortimail
// integration maps them.
func (p *FortiMailParser) Parse(payload []byte, dst *event.Event) error {
	s := strings.TrimRight(string(payload), "\r\n")
	if strings.TrimSpace(s) == "" {
		return ErrEmpty
	}
	l := splitSyslog(s, dst, true)
	p.kv = scanKV(p.kv[:0], l.msg)
	if len(p.kv) == 0 {
		return ErrNoPairs
	}
	var date, clock, typ, subtype, msg, status, resolved string
	for _, x := range p.kv {
		switch x.key {
		case "date":
			date = x.val
		case "time":
			clock = x.val
		case "type":
			typ = strings.ToLower(x.val)
		case "subtype":
			subtype = x.val
		case "msg":
			msg = x.val
		case "status":
			status = strings.ToLower(x.val)
		case "resolved":
			resolved = strings.ToLower(x.val)
		}
	}
	if date == "" && typ == "" && p.get("log_id") == "" && p.get("device_id") == "" {
		return ErrNotFortiMail
	}
	if t, ok := dateTime(date, clock); ok {
		dst.Time = t
	}
	o := &p.o
	o.reset(dst)
	o.module, o.dataset = "fortinet_fortimail", "fortinet_fortimail.log"
	o.add("observer.vendor", "Fortinet")
	o.add("observer.product", "FortiMail")
	o.add("observer.type", "firewall")
	if l.host != "" {
		if isIP(l.host) {
			o.add("observer.ip", l.host)
		} else {
			o.add("observer.hostname", l.host)
		}
	}
	for _, x := range p.kv {
		p.pair(x.key, x.val)
	}
	if p.get("client_ip") == "" && p.get("src") == "" {
		// client_name="[192.0.2.1]": the client had no name, only its address.
		if ip, _ := bracketIP(p.get("client_name")); ip != "" {
			o.add("source.ip", ip)
			o.relIP(ip)
		}
	}
	if msg != "" {
		o.add(event.FieldMessage, msg)
		p.fromMessage(typ, msg)
	}
	p.classify(typ, subtype, msg, status, resolved)
	o.finish()
	return nil
}

func (p *FortiMailParser) get(k string) string {
	for _, x := range p.kv {
		if x.key == k {
			return x.val
		}
	}
	return ""
}

// pair files one key=value.
func (p *FortiMailParser) pair(k, v string) {
	o := &p.o
	if v == "" {
		return
	}
	switch k {
	case "device_id":
		o.add("observer.serial_number", v)
	case "log_id":
		o.add("event.code", v)
	case "subtype":
		o.add(fortimailPrefix+"sub_type", v)
	case "pri":
		o.add("log.level", v)
	case "subject":
		o.add("email.subject", v)
	case "msg":
	case "client_ip":
		if isIP(v) {
			o.add("source.ip", v)
			o.relIP(v)
		}
	case "client_name":
		o.add("source.user.name", v)
		o.relUser(v)
	case "client_cc":
		o.add(fortimailPrefix+"client.cc", v)
	case "dst_ip":
		if isIP(v) {
			o.add("destination.ip", v)
			o.relIP(v)
		}
	case "src":
		if isIP(v) {
			o.add("source.ip", v)
			o.relIP(v)
		}
	case "from":
		o.add("email.from.address", v)
		o.relUser(v)
	case "to":
		o.add("email.to.address", v)
		o.relUser(v)
	case "polid":
		o.add(fortimailPrefix+"policy_id", v)
	case "mailer":
		o.add("email.x_mailer", v)
	case "src_type":
		o.add(fortimailPrefix+"source.type", v)
	case "srcfolder":
		o.add(fortimailPrefix+"source.folder", v)
	case "direction":
		o.add("email.direction", v)
	case "message_id":
		o.add(p.native(k), v)
		o.add("email.message_id", v)
	case "user":
		o.add(fortimailPrefix+"user", v)
		o.add("user.name", v)
		o.relUser(v)
	case "action":
		o.add("event.action", v)
	case "submodule":
		o.add(fortimailPrefix+"sub_module", v)
	case "ui":
		o.add(fortimailPrefix+"ui", v)
		p.ui(v)
	default:
		o.add(p.native(k), v)
	}
}

// ui reads the interface an administrator used: "GUI(172.20.120.26)",
// "ssh(10.0.0.1)", "telnet ( 10.0.0.2 )".
func (p *FortiMailParser) ui(v string) {
	i, j := strings.IndexByte(v, '('), strings.LastIndexByte(v, ')')
	if i < 0 || j < i {
		return
	}
	ip := strings.TrimSpace(v[i+1 : j])
	if !isIP(ip) {
		return
	}
	o := &p.o
	o.add(fortimailPrefix+"ui_ip", ip)
	o.add("source.ip", ip)
	o.relIP(ip)
	switch proto := strings.ToLower(strings.TrimSpace(v[:i])); proto {
	case "ssh", "telnet", "http":
		o.add("network.protocol", proto)
	}
}

// fromMessage reads what Elastic's pipeline greps from the message text:
// the user ("User admin login ...", "login for 'x'"), an address, and the
// sender and subject of encryption logs.
func (p *FortiMailParser) fromMessage(typ, msg string) {
	o := &p.o
	if typ != "kevent" && typ != "event" && typ != "encrypt" {
		return
	}
	if p.get("user") == "" {
		if i := indexFold(msg, "user "); i >= 0 {
			u, _ := cutWord(msg[i+len("user "):])
			u = strings.TrimRight(u, ",")
			if u != "" {
				o.add(fortimailPrefix+"user", u)
				o.add("user.name", u)
				o.relUser(u)
			}
		}
	}
	if ip, _ := firstIPv4(msg); ip != "" {
		o.add(fortimailPrefix+"ip", ip)
		o.relIP(ip)
	}
	if typ == "encrypt" {
		// "..., sent from: 'a@b', subject: 'x'"
		if _, r, ok := strings.Cut(msg, "sent from: '"); ok {
			if from, r2, ok := strings.Cut(r, "'"); ok {
				o.add(fortimailPrefix+"sent_from", from)
				o.add("email.from.address", from)
				o.relUser(from)
				if _, r3, ok := strings.Cut(r2, "subject: '"); ok {
					o.add("email.subject", strings.TrimSuffix(r3, "'"))
				}
			}
		}
	}
}

// classify sets the event's category, type and outcome as Elastic's
// sub-pipelines do, with a category for the log types they leave without
// one.
func (p *FortiMailParser) classify(typ, subtype, msg, status, resolved string) {
	o := &p.o
	lmsg := strings.ToLower(msg)
	switch typ {
	case "event":
		o.set(catEmail, typeInfo)
		if subtype == "webmail" {
			o.set(catEmailAuth, typeEndInfo)
			o.outcome = statusOutcome(status)
		}
	case "kevent":
		o.outcome = "unknown"
		switch subtype {
		case "admin":
			if status == "success" || status == "failure" {
				o.outcome = statusOutcome(status)
			}
			if strings.Contains(lmsg, "login") || strings.Contains(lmsg, "logged") {
				o.set(catAuth, typeEndInfo)
			}
		case "config":
			o.set(catConfig, typeChange)
			if strings.Contains(lmsg, "delet") {
				o.typ = typeDeletion
			}
		case "system", "update":
			switch {
			case strings.Contains(lmsg, "change") || subtype == "update" && strings.Contains(lmsg, "update"):
				o.set(catConfig, typeChange)
			case subtype == "system" && strings.Contains(lmsg, "shutdown"):
				o.set(catHost, typeEnd)
			default:
				o.set(catHost, typeInfo)
			}
		}
		if o.category == "" {
			o.set(catHost, typeInfo)
		}
	case "statistics":
		o.set(catEmail, typeInfo)
		switch resolved {
		case "ok":
			o.outcome = "success"
		case "fail":
			o.outcome = "failure"
		default:
			o.outcome = "unknown"
		}
	case "virus":
		o.set(catEmailMalware, typeInfo)
	default:
		o.set(catEmail, typeInfo)
	}
}

func statusOutcome(s string) string {
	switch s {
	case "success":
		return "success"
	case "failure", "failed":
		return "failure"
	}
	return "unknown"
}

// dateTime reads FortiMail's date=2012-08-17 time=12:26:41[.846] (UTC: the
// log names no zone).
func dateTime(date, clock string) (time.Time, bool) {
	if len(date) != 10 || date[4] != '-' || date[7] != '-' || len(clock) < 8 {
		return time.Time{}, false
	}
	layout := "2006-01-02T15:04:05"
	if len(clock) > 8 {
		layout = "2006-01-02T15:04:05.999999999"
	}
	t, err := time.Parse(layout, date+"T"+clock)
	if err != nil || t.Year() < 1970 {
		return time.Time{}, false
	}
	return t, true
}

// scanKV reads key=value pairs: values bare or "double-quoted" (a
// backslash escapes a quote); pairs separated by spaces, or by commas when
// the first pair ends with one. Words without '=' are skipped.
func scanKV(dst []kvPair, s string) []kvPair {
	sep := byte(0)
	for len(s) > 0 {
		for len(s) > 0 && (s[0] == ' ' || s[0] == ',' || s[0] == '\t') {
			s = s[1:]
		}
		i := 0
		for i < len(s) && s[i] != '=' && s[i] != ' ' && s[i] != ',' {
			i++
		}
		if i == len(s) || s[i] != '=' || i == 0 {
			// A word that is no pair.
			for i < len(s) && s[i] != ' ' && s[i] != ',' {
				i++
			}
			s = s[i:]
			continue
		}
		key := s[:i]
		s = s[i+1:]
		var val string
		if len(s) > 0 && s[0] == '"' {
			j := 1
			esc := false
			for ; j < len(s); j++ {
				if s[j] == '\\' {
					esc = true
					j++
					continue
				}
				if s[j] == '"' {
					break
				}
			}
			if j > len(s) {
				j = len(s)
			}
			val = s[1:min(j, len(s))]
			if esc {
				val = strings.ReplaceAll(val, `\"`, `"`)
			}
			s = s[min(j+1, len(s)):]
		} else {
			if sep == 0 {
				// The first bare value tells the separator.
				j := strings.IndexAny(s, " ,")
				if j >= 0 && s[j] == ',' && strings.IndexByte(s[:j], ' ') < 0 {
					sep = ','
				} else {
					sep = ' '
				}
			}
			j := strings.IndexByte(s, sep)
			if j < 0 {
				j = len(s)
			}
			val, s = strings.TrimRight(s[:j], " "), s[j:]
		}
		if sep == 0 && len(s) > 0 {
			if s[0] == ',' {
				sep = ','
			} else {
				sep = ' '
			}
		}
		dst = append(dst, kvPair{key, val})
	}
	return dst
}

// indexFold is strings.Index, ignoring ASCII case.
func indexFold(s, sub string) int {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], sub) {
			return i
		}
	}
	return -1
}

// firstIPv4 returns the first dotted-quad address in s.
func firstIPv4(s string) (string, int) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' || i > 0 && (s[i-1] >= '0' && s[i-1] <= '9' || s[i-1] == '.') {
			continue
		}
		j := i
		for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
			j++
		}
		if c := s[i:j]; strings.Count(c, ".") == 3 && isIP(c) {
			return c, i
		}
		i = j
	}
	return "", -1
}
