package envelope

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/syslogheader"
)

// Names of the syslog fields (Elastic Common Schema).
const (
	FieldSyslogPriority     = "log.syslog.priority"
	FieldSyslogFacilityCode = "log.syslog.facility.code"
	FieldSyslogFacilityName = "log.syslog.facility.name"
	FieldSyslogSeverityCode = "log.syslog.severity.code"
	FieldSyslogSeverityName = "log.syslog.severity.name"
	FieldSyslogHostname     = "log.syslog.hostname"
	FieldSyslogAppname      = "log.syslog.appname"
	FieldSyslogProcID       = "log.syslog.procid"
	FieldSyslogMsgID        = "log.syslog.msgid"
	FieldSyslogVersion      = "log.syslog.version"
	// FieldSyslogSD prefixes structured data: <prefix><SD-ID>.<PARAM-NAME>.
	FieldSyslogSD = "log.syslog.structured_data."
)

// ErrEmpty is returned for a record with no bytes but white space: it
// cannot be an event.
var ErrEmpty = errors.New("empty record")

// facilities and severities name the codes of RFC 5424 section 6.2.1, as
// ECS spells them.
var (
	facilities = [24]string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
		"authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
		"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"}
	severities = [8]string{"emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug"}
)

// smallInts are the decimal forms of 0..191 (every priority), so that a
// parse does not allocate for them.
var smallInts = func() (s [192]string) {
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

// Syslog parses records that are one syslog message each, as a syslog
// receiver framed them: RFC 5424 (structured data kept as
// log.syslog.structured_data.<id>.<param>), RFC 3164 and the variants real
// relays send (rsyslog's RSYSLOG_ForwardFormat: a 3164 header with an RFC
// 3339 time; a 3164 message relayed as 5424 with two spaces before MSG;
// control characters escaped as #012 and #011 by an rsyslog relay, read
// in those 3164 messages only: see unescape). A line with no PRI is kept
// whole as the message. A Syslog value is not safe for concurrent use.
type Syslog struct {
	buf      []byte
	ingested Ingested
}

// Parse turns raw into an event, appending its fields to dst.Fields[:0]. It
// fails only for an empty record; anything else becomes an event, with as
// many syslog fields as the header yields.
func (p *Syslog) Parse(raw event.Raw, dst *event.Event) error {
	if len(bytes.TrimSpace(raw.Data)) == 0 {
		return ErrEmpty
	}
	// Every value below is a substring of orig: one allocation for all.
	orig := string(raw.Data)
	dst.Fields = dst.Fields[:0]
	dst.Time = time.Time{}
	line := strings.TrimRight(orig, "\r\n")
	pri, rest, ok := parsePRI(line)
	msg, escaped := line, false
	if ok {
		fac, sev := pri>>3, pri&7
		dst.Fields = append(dst.Fields,
			event.Field{Name: FieldSyslogPriority, Value: smallInts[pri]},
			event.Field{Name: FieldSyslogFacilityCode, Value: smallInts[fac]},
			event.Field{Name: FieldSyslogFacilityName, Value: facilities[fac]},
			event.Field{Name: FieldSyslogSeverityCode, Value: smallInts[sev]},
			event.Field{Name: FieldSyslogSeverityName, Value: severities[sev]},
		)
		if len(rest) >= 2 && rest[0] >= '1' && rest[0] <= '9' && (rest[1] == ' ' || (rest[1] >= '0' && rest[1] <= '9' && len(rest) >= 3 && rest[2] == ' ')) {
			msg, escaped = p.rfc5424(rest, dst)
		} else {
			msg, escaped = p.rfc3164(rest, raw.Received, dst), true
		}
	}
	if escaped {
		msg = p.unescape(msg)
	}
	if dst.Time.IsZero() {
		dst.Time = raw.Received
	}
	dst.Fields = append(dst.Fields,
		event.Field{Name: event.FieldTimestamp, Value: dst.Time.UTC().Format(time.RFC3339Nano)},
		event.Field{Name: event.FieldMessage, Value: msg},
		event.Field{Name: event.FieldOriginal, Value: orig},
		event.Field{Name: event.FieldIngested, Value: p.ingested.Text(raw.Received)},
	)
	return nil
}

// parsePRI reads "<N>" with N in 0..191 and no leading zeros but "<0>".
func parsePRI(s string) (pri int, rest string, ok bool) {
	if len(s) < 3 || s[0] != '<' {
		return 0, s, false
	}
	i := 1
	for ; i < len(s) && i <= 4 && s[i] >= '0' && s[i] <= '9'; i++ {
		pri = pri*10 + int(s[i]-'0')
	}
	if i == 1 || i > 4 || i >= len(s) || s[i] != '>' || pri > 191 || (s[1] == '0' && i > 2) {
		return 0, s, false
	}
	return pri, s[i+1:], true
}

// token splits s at the first space.
func token(s string) (tok, rest string) {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// rfc5424 parses what follows the PRI of an RFC 5424 message and returns
// MSG, and whether rsyslog relayed it from an RFC 3164 sender (two spaces
// before MSG): only such a message may hold rsyslog's #ooo escapes.
func (p *Syslog) rfc5424(s string, dst *event.Event) (string, bool) {
	version, s := token(s)
	dst.Fields = append(dst.Fields, event.Field{Name: FieldSyslogVersion, Value: version})
	ts, s := token(s)
	if ts != "-" {
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			dst.Time = t.UTC()
		}
	}
	var host, app, procid, msgid string
	host, s = token(s)
	app, s = token(s)
	procid, s = token(s)
	msgid, s = token(s)
	p.header(dst, host, app, procid)
	if msgid != "-" && msgid != "" {
		dst.Fields = append(dst.Fields, event.Field{Name: FieldSyslogMsgID, Value: msgid})
	}
	switch {
	case strings.HasPrefix(s, "-"):
		s = s[1:]
	case strings.HasPrefix(s, "["):
		n, rest, ok := structuredData(s, dst.Fields)
		if !ok { // keep what is not structured data as the message
			return s, false
		}
		dst.Fields, s = n, rest
	default:
		return s, false
	}
	s = strings.TrimPrefix(s, " ")
	// A message relayed from a 3164 source keeps the space after its tag
	// (rsyslog): two spaces before MSG. Drop the extra one.
	relayed := strings.HasPrefix(s, " ")
	s = strings.TrimPrefix(s, " ")
	return strings.TrimPrefix(s, "\ufeff"), relayed
}

// structuredData parses one or more SD-ELEMENTs at the start of s and
// appends their params; ok is false (and fields unchanged) when s does not
// hold well-formed structured data.
func structuredData(s string, fields []event.Field) ([]event.Field, string, bool) {
	n := len(fields)
	for len(s) > 0 && s[0] == '[' {
		s = s[1:]
		i := strings.IndexAny(s, " ]")
		if i <= 0 {
			return fields[:n], s, false
		}
		id := s[:i]
		s = s[i:]
		for len(s) > 0 && s[0] == ' ' {
			s = s[1:]
			eq := strings.IndexByte(s, '=')
			if eq <= 0 || eq+1 >= len(s) || s[eq+1] != '"' || strings.ContainsAny(s[:eq], " ]\"") {
				return fields[:n], s, false
			}
			name := s[:eq]
			s = s[eq+2:]
			// The value ends at the first '"' not escaped by '\'.
			end, escaped := -1, false
			for j := 0; j < len(s); j++ {
				if s[j] == '\\' && j+1 < len(s) {
					escaped = true
					j++
					continue
				}
				if s[j] == '"' {
					end = j
					break
				}
			}
			if end < 0 {
				return fields[:n], s, false
			}
			v := s[:end]
			if escaped {
				v = sdUnescape(v)
			}
			fields = append(fields, event.Field{Name: FieldSyslogSD + id + "." + name, Value: v})
			s = s[end+1:]
		}
		if len(s) == 0 || s[0] != ']' {
			return fields[:n], s, false
		}
		s = s[1:]
	}
	return fields, s, true
}

// sdUnescape undoes the escapes of a PARAM-VALUE: \" \\ \].
func sdUnescape(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && (v[i+1] == '"' || v[i+1] == '\\' || v[i+1] == ']') {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// header appends hostname, app-name and process id (nil values "-" skipped).
// The hostname is also host.name, the name Tarian groups and correlates
// events by (and a stream field of the event store), and host.hostname,
// which the format parsers and the receivers' tests read.
func (p *Syslog) header(dst *event.Event, host, app, procid string) {
	if host != "" && host != "-" {
		dst.Fields = append(dst.Fields, event.Field{Name: FieldSyslogHostname, Value: host},
			event.Field{Name: "host.hostname", Value: host}, event.Field{Name: "host.name", Value: host})
	}
	if app != "" && app != "-" {
		dst.Fields = append(dst.Fields, event.Field{Name: FieldSyslogAppname, Value: app}, event.Field{Name: "process.name", Value: app})
	}
	if procid != "" && procid != "-" {
		dst.Fields = append(dst.Fields, event.Field{Name: FieldSyslogProcID, Value: procid})
		if isDigits(procid) {
			dst.Fields = append(dst.Fields, event.Field{Name: "process.pid", Value: procid})
		}
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// months maps the three-letter month names of RFC 3164 timestamps.
var months = map[string]time.Month{
	"Jan": time.January, "Feb": time.February, "Mar": time.March, "Apr": time.April,
	"May": time.May, "Jun": time.June, "Jul": time.July, "Aug": time.August,
	"Sep": time.September, "Oct": time.October, "Nov": time.November, "Dec": time.December,
}

// rfc3164 parses what follows the PRI of a BSD syslog message (RFC 3164,
// or rsyslog's forward format with an RFC 3339 time) and returns its
// content (the message after the tag).
func (p *Syslog) rfc3164(s string, received time.Time, dst *event.Event) string {
	t, rest, ok := time3164(s, received)
	if !ok {
		return s
	}
	dst.Time = t
	s = rest
	// HOSTNAME, unless the next word is already a tag ("sshd[1]:", "su:").
	host := ""
	if w, r := token(s); w != "" && r != "" && !strings.HasSuffix(w, ":") && !strings.HasSuffix(w, "]") {
		host, s = w, r
	}
	app, procid, content, ok := tag(s)
	if !ok {
		p.header(dst, host, "", "")
		return s
	}
	p.header(dst, host, app, procid)
	return content
}

// time3164 reads "Mmm dd hh:mm:ss" (dd padded with a space or zero,
// optional fraction) or an RFC 3339 time, each followed by a space. A
// 3164 time has no year or zone: it is taken as UTC, in the year
// syslogheader.Date gives it (so "Dec 31" received on 1 January is last
// year), as the formats' own header reader dates it.
func time3164(s string, received time.Time) (time.Time, string, bool) {
	if len(s) > 4 && s[4] == '-' && isDigits(s[:4]) { // RFC 3339
		ts, rest := token(s)
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return time.Time{}, s, false
		}
		return t.UTC(), rest, true
	}
	if len(s) < 16 || s[3] != ' ' {
		return time.Time{}, s, false
	}
	mon, ok := months[s[:3]]
	if !ok {
		return time.Time{}, s, false
	}
	d := s[4:6]
	if d[0] == ' ' {
		d = d[1:]
	}
	day, ok1 := atoi(d)
	h, ok2 := atoi(s[7:9])
	m, ok3 := atoi(s[10:12])
	sec, ok4 := atoi(s[13:15])
	if !ok1 || !ok2 || !ok3 || !ok4 || s[6] != ' ' || s[9] != ':' || s[12] != ':' || day < 1 || day > 31 || h > 23 || m > 59 || sec > 60 {
		return time.Time{}, s, false
	}
	rest := s[15:]
	nsec := 0
	if len(rest) > 1 && rest[0] == '.' {
		j := 1
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			if j <= 9 {
				nsec = nsec*10 + int(rest[j]-'0')
			}
			j++
		}
		for k := min(j, 10); k < 10; k++ {
			nsec *= 10
		}
		rest = rest[j:]
	}
	if len(rest) == 0 || rest[0] != ' ' {
		return time.Time{}, s, false
	}
	return syslogheader.Date(mon, day, h, m, sec, nsec, received), rest[1:], true
}

func atoi(s string) (int, bool) {
	if !isDigits(s) {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// tag splits "app[pid]: content", "app: content" or "app content". A
// CEF or LEEF payload ("CEF:0|...") is content, not a tag.
func tag(s string) (app, procid, content string, ok bool) {
	i := 0
	for i < len(s) && i < 48 && s[i] != '[' && s[i] != ':' && s[i] != ' ' {
		i++
	}
	if i == 0 || i >= len(s) {
		return "", "", s, false
	}
	app = s[:i]
	if app[0] == '%' || strings.ContainsAny(app, ",=\"") {
		// Not a program name: a Cisco %ASA-6-302013 tag, the first CSV
		// column of PAN-OS, a key=value pair of Sophos or FortiGate. The
		// whole text is the message.
		return "", "", s, false
	}
	rest := s[i:]
	switch rest[0] {
	case '[':
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			return "", "", s, false
		}
		procid = rest[1:j]
		rest = strings.TrimPrefix(rest[j+1:], ":")
	case ':':
		if (app == "CEF" || app == "LEEF") && len(rest) > 1 && rest[1] >= '0' && rest[1] <= '9' {
			return "", "", s, false
		}
		rest = rest[1:]
	case ' ':
	default:
		return "", "", s, false
	}
	return app, procid, strings.TrimPrefix(rest, " "), true
}

// unescape turns rsyslog's control-character escapes back into the bytes:
// "#012" is LF, "#011" TAB. rsyslog writes them as it receives a message
// ($EscapeControlCharactersOnReceive, on by default): '#' and three octal
// digits, for the bytes below 0x20 and 0x7f only. Tarian is the receiver,
// so escapes arrive only through an rsyslog relay, and only a message of
// the RFC 3164 family is read for them (Parse): an RFC 5424 sender sends
// control characters as they are. A '#' with three octal digits followed
// by a fourth digit ("ticket #0123") is text, as is any other '#'. The
// record itself is kept unchanged (event.original, the raw archive).
func (p *Syslog) unescape(s string) string {
	for i := strings.IndexByte(s, '#'); i >= 0; {
		if _, ok := octalControl(s[i:]); ok {
			return p.decode(s, i)
		}
		j := strings.IndexByte(s[i+1:], '#')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return s
}

// decode copies s with its escapes from i on decoded.
func (p *Syslog) decode(s string, i int) string {
	b := append(p.buf[:0], s[:i]...)
	for j := i; j < len(s); j++ {
		if s[j] == '#' {
			if c, ok := octalControl(s[j:]); ok {
				b = append(b, c)
				j += 3
				continue
			}
		}
		b = append(b, s[j])
	}
	p.buf = b
	return string(b)
}

// octalControl reads "#ooo" at the start of s when it encodes a control
// character and no digit follows it.
func octalControl(s string) (byte, bool) {
	if len(s) < 4 || s[0] != '#' || len(s) > 4 && s[4] >= '0' && s[4] <= '9' {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[1:4]) {
		if c < '0' || c > '7' {
			return 0, false
		}
		v = v*8 + int(c-'0')
	}
	if v < 0x20 || v == 0x7f {
		return byte(v), true
	}
	return 0, false
}
