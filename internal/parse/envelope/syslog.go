package envelope

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

// AddPriority adds log.syslog.priority for the PRI of a syslog header a
// format parser read itself (a file's line that kept its header), unless
// pri is -1 (none) or the envelope has set it.
func AddPriority(dst *event.Event, pri int) {
	if pri < 0 {
		return
	}
	if _, ok := dst.Get(FieldSyslogPriority); !ok {
		dst.Fields = append(dst.Fields, event.Field{Name: FieldSyslogPriority, Value: strconv.Itoa(pri)})
	}
}

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
// many syslog fields as the header yields. The header is read by
// syslogheader, as the formats read one in front of their lines.
func (p *Syslog) Parse(raw event.Raw, dst *event.Event) error {
	if len(bytes.TrimSpace(raw.Data)) == 0 {
		return ErrEmpty
	}
	// Every value below is a substring of orig: one allocation for all.
	orig := string(raw.Data)
	dst.Fields = dst.Fields[:0]
	dst.Time = time.Time{}
	line := strings.TrimRight(orig, "\r\n")
	msg := line
	if h, m, ok := syslogheader.Split(line, raw.Received, devicePayload); ok && h.Priority >= 0 {
		if rest := line[strings.IndexByte(line, '>')+1:]; h.Version == "" && !h.Time.IsZero() && !transportTime(rest) {
			// A time no syslog sender or relay writes ("Nov 07 2026
			// 11:02:36 CET:", Cisco's own with its zone): the device's
			// header, which its format reads.
			h, m = syslogheader.Header{Priority: h.Priority}, rest
		}
		fac, sev := h.Priority>>3, h.Priority&7
		dst.Fields = append(dst.Fields,
			event.Field{Name: FieldSyslogPriority, Value: smallInts[h.Priority]},
			event.Field{Name: FieldSyslogFacilityCode, Value: smallInts[fac]},
			event.Field{Name: FieldSyslogFacilityName, Value: facilities[fac]},
			event.Field{Name: FieldSyslogSeverityCode, Value: smallInts[sev]},
			event.Field{Name: FieldSyslogSeverityName, Value: severities[sev]},
		)
		if h.Version != "" {
			dst.Fields = append(dst.Fields, event.Field{Name: FieldSyslogVersion, Value: h.Version})
		}
		dst.Time = h.Time
		msg = m
		if h.Version == "" {
			// RFC 3164: rsyslog's #ooo escapes (see unescape) undone
			// before a tag ended by a tab is looked for.
			msg = p.unescape(msg)
			if h.App == "" && !h.Time.IsZero() {
				h.App, msg = spaceTag(msg)
			}
		}
		p.header(dst, h.Host, h.App, h.ProcID)
		if h.MsgID != "" {
			dst.Fields = append(dst.Fields, event.Field{Name: FieldSyslogMsgID, Value: h.MsgID})
		}
		if h.SD != "" {
			if fields, ok := structuredData(h.SD, dst.Fields); ok {
				dst.Fields = fields
			} else if msg != "" { // keep what is not structured data as the message
				msg = h.SD + " " + msg
			} else {
				msg = h.SD
			}
		}
		if h.Relayed {
			// An RFC 3164 message rsyslog relayed as RFC 5424.
			msg = p.unescape(msg)
		}
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

// transportTime reports whether s starts with a time as syslog senders
// and relays write it: RFC 3164's "Mmm dd hh:mm:ss" (or "Mmm d", unpadded,
// as some devices write it) or RFC 3339's.
func transportTime(s string) bool {
	return len(s) >= 16 && s[3] == ' ' && s[6] == ' ' && s[9] == ':' && s[12] == ':' ||
		len(s) >= 15 && s[3] == ' ' && s[5] == ' ' && s[8] == ':' && s[11] == ':' ||
		len(s) >= 20 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == 't') && s[13] == ':'
}

// spaceTag reads an RFC 3164 TAG ended by a space or tab ("evntslog An
// event", as rsyslog relays an RFC 5424 message in the 3164 format;
// "MSWinEventLog\t1\tSecurity...", as NXLog sends Windows events), which the
// formats' header reader does not take for a tag (a log file's line has
// none); it returns msg unchanged when its first word is not a program
// name.
func spaceTag(msg string) (app, rest string) {
	i := strings.IndexAny(msg, " \t")
	if i <= 0 || i == len(msg)-1 || i > 48 {
		return "", msg
	}
	w := msg[:i]
	if devicePayload(w) || strings.ContainsAny(w, ":[]") {
		return "", msg
	}
	return w, msg[i+1:]
}

// devicePayload reports whether a word after the syslog time is already
// a network device's text, not a host name or program tag: a Cisco
// %ASA-6-302013 tag, a CSV column of PAN-OS, a key=value pair of Sophos or
// FortiGate, a CEF or LEEF header. The whole text is then the message.
func devicePayload(w string) bool {
	return strings.HasPrefix(w, "%") || strings.ContainsAny(w, ",=\"|") ||
		len(w) > 4 && strings.HasPrefix(w, "CEF:") && isDigit(w[4]) ||
		len(w) > 5 && strings.HasPrefix(w, "LEEF:") && isDigit(w[5])
}

// structuredData parses s, one or more SD-ELEMENTs, and appends their
// params; ok is false (and fields unchanged) when s is not well-formed
// structured data.
func structuredData(s string, fields []event.Field) ([]event.Field, bool) {
	n := len(fields)
	for len(s) > 0 && s[0] == '[' {
		s = s[1:]
		i := strings.IndexAny(s, " ]")
		if i <= 0 {
			return fields[:n], false
		}
		id := s[:i]
		s = s[i:]
		for len(s) > 0 && s[0] == ' ' {
			s = s[1:]
			eq := strings.IndexByte(s, '=')
			if eq <= 0 || eq+1 >= len(s) || s[eq+1] != '"' || strings.ContainsAny(s[:eq], " ]\"") {
				return fields[:n], false
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
				return fields[:n], false
			}
			v := s[:end]
			if escaped {
				v = sdUnescape(v)
			}
			fields = append(fields, event.Field{Name: FieldSyslogSD + id + "." + name, Value: v})
			s = s[end+1:]
		}
		if len(s) == 0 || s[0] != ']' {
			return fields[:n], false
		}
		s = s[1:]
	}
	if s != "" {
		return fields[:n], false
	}
	return fields, true
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
		if ecs.IsDigits(procid) {
			dst.Fields = append(dst.Fields, event.Field{Name: "process.pid", Value: procid})
		}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

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
