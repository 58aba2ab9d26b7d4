package ios

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
	"github.com/tarian-soc/tarian/internal/parse/envelope"
	"github.com/tarian-soc/tarian/internal/parse/syslogheader"
)

// Type is the log-source type name used in configuration and `tarian parse --type`.
const Type = "cisco-ios"

// ECSVersion is the Elastic Common Schema version of the fields written.
const ECSVersion = "8.17.0"

// ErrNoTag is returned for a payload with no %FACILITY-SEVERITY-MNEMONIC tag.
var ErrNoTag = errors.New("no %FACILITY-SEVERITY-MNEMONIC tag (Cisco IOS, IOS XE, NX-OS)")

// tagWindow is how far into a payload the tag may start: after a syslog
// header, a sequence number, a host name and a time.
const tagWindow = 160

// Sniff reports whether payload holds a Cisco IOS message tag
// ("%SYS-5-CONFIG_I:") in its first bytes. ASA and FTD tags, whose
// mnemonics are numbers ("%ASA-6-302013"), are not IOS's.
func Sniff(payload []byte) bool {
	_, _, ok := findTag(string(payload[:min(len(payload), tagWindow)]))
	return ok
}

// tag is a message's %FACILITY-SEVERITY-MNEMONIC.
type tag struct {
	facility, severity, mnemonic string
}

// findTag returns the first IOS tag in s, and where it starts.
func findTag(s string) (tag, int, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		if t, ok := tagAt(s[i:]); ok {
			return t, i, true
		}
	}
	return tag{}, 0, false
}

// tagAt reads "%FACILITY[-SUBFACILITY]-SEVERITY-MNEMONIC:" at the start of
// s: a facility of capitals, digits and underscores ("SEC_LOGIN",
// "IOSXE_INFRA", "DOT1X"), a severity 0-7, a mnemonic starting with a
// capital ("CONFIG_I", "IPACCESSLOGP").
func tagAt(s string) (tag, bool) {
	var t tag
	i := 1
	for i < len(s) && isTagByte(s[i]) {
		i++
	}
	if i < 2 || i > 33 || i >= len(s) || s[i] != '-' {
		return t, false
	}
	t.facility = s[1:i]
	s = s[i+1:]
	if len(s) > 0 && (s[0] < '0' || s[0] > '9') {
		// IOS XE's sub-facility ("%PLATFORM-ENVMON-3-...") joins it.
		j := 0
		for j < len(s) && isTagByte(s[j]) {
			j++
		}
		if j == 0 || j > 32 || j >= len(s) || s[j] != '-' {
			return t, false
		}
		t.facility += "-" + s[:j]
		s = s[j+1:]
	}
	if len(s) < 4 || s[0] < '0' || s[0] > '7' || s[1] != '-' || s[2] < 'A' || s[2] > 'Z' {
		return t, false
	}
	t.severity = s[:1]
	s = s[2:]
	j := 0
	for j < len(s) && isTagByte(s[j]) {
		j++
	}
	if j > 48 || j >= len(s) || s[j] != ':' {
		return t, false
	}
	t.mnemonic = s[:j]
	return t, true
}

func isTagByte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// severityNames are syslog's severity keywords, as IOS names its levels.
var severityNames = [...]string{"emergency", "alert", "critical", "error", "warning", "notification", "informational", "debugging"}

// Parser parses Cisco IOS, IOS XE and NX-OS syslog messages. The zero value
// is ready; it keeps buffers between calls and is not safe for concurrent
// use.
type Parser struct {
	dst *event.Event
	buf []byte
}

// Parse reads one message, bare or behind a syslog header, and appends its
// fields to dst.Fields. It sets dst.Time from the device's own time stamp
// when that is a date the device's clock vouches for.
func (p *Parser) Parse(payload []byte, dst *event.Event) error {
	line := strings.TrimRight(string(payload), "\r\n")
	h, body, _ := syslogheader.Split(line, dst.Time, nil)
	t, at, ok := findTag(body[:min(len(body), tagWindow)])
	if !ok {
		// The header reader took the tag for a program's
		// ("host %SYS-5-CONFIG_I: ..."): the message starts with it.
		if t, at, ok = findTag(line[:min(len(line), tagWindow)]); !ok {
			return ErrNoTag
		}
		h.App, body, at = "", line[at:], 0
	}
	text := strings.TrimLeft(body[at+len(t.facility)+len(t.severity)+len(t.mnemonic)+4:], " ")
	p.dst = dst
	defer func() { p.dst = nil }()

	// What comes before the tag: "SEQ: HOST: *TIME: ", each part optional.
	var seq, host string
	var stamp time.Time
	if ecs.IsDigits(h.App) {
		seq = h.App // a relay read the sequence number as the syslog tag
	} else if h.App != "" && h.ProcID == "" {
		host = h.App // or the host name (logging origin-id)
	}
	for _, part := range strings.Split(body[:at], ": ") {
		part = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(part), ":"))
		switch {
		case part == "":
		case ecs.IsDigits(part):
			seq = part
		case isUptime(part):
			// service timestamps log uptime: no date.
		case strings.IndexByte(part, ' ') < 0 && strings.IndexByte(part, ':') < 0:
			host = part
		default:
			if ts, ok := deviceTime(part, dst.Time); ok {
				stamp = ts
			}
		}
	}
	switch {
	case !stamp.IsZero():
		dst.Time = stamp
	case !h.Time.IsZero():
		dst.Time = h.Time // a relay's header, read here on a file's line
	}
	envelope.AddPriority(dst, h.Priority)
	if h.Host != "" {
		p.add("host.hostname", h.Host)
	}
	p.add("ecs.version", ECSVersion)
	p.add("event.module", "cisco_ios")
	p.add("event.dataset", "cisco_ios.log")
	p.add("observer.vendor", "Cisco")
	p.add("observer.product", "IOS")
	p.add("observer.hostname", host)
	p.add("cisco.ios.sequence", number(seq))
	p.add("cisco.ios.facility", t.facility)
	p.add("event.code", t.mnemonic)
	p.add("event.severity", t.severity)
	p.add("log.level", severityNames[t.severity[0]-'0'])
	p.add("event.kind", "event")
	p.message(t, text)
	return nil
}

// deviceTime reads an IOS time stamp ("*Mar  1 00:02:37.315 UTC", ".Dec 7
// 2026 10:00:00.123 CET"): month, day, optional year, time with optional
// milliseconds, optional zone. A leading '*' says the clock was never set
// (the time is not taken); a zone it cannot name is not either. Uptime
// stamps ("1d02h") are no time.
func deviceTime(s string, ref time.Time) (time.Time, bool) {
	if strings.HasPrefix(s, "*") {
		return time.Time{}, false
	}
	f := strings.Fields(strings.TrimPrefix(s, "."))
	if len(f) < 3 {
		return time.Time{}, false
	}
	m, ok := months[f[0]]
	day, err := strconv.Atoi(f[1])
	if !ok || err != nil || day < 1 || day > 31 {
		return time.Time{}, false
	}
	f = f[2:]
	year := 0
	if y, err := strconv.Atoi(f[0]); err == nil && len(f[0]) == 4 && len(f) > 1 {
		year, f = y, f[1:]
	}
	clock, err := time.Parse("15:04:05.999999999", f[0])
	if err != nil {
		return time.Time{}, false
	}
	offset := 0
	if len(f) > 1 {
		if offset, ok = ecs.Zone(f[1]); !ok {
			return time.Time{}, false
		}
	}
	hh, mm, ss := clock.Clock()
	var t time.Time
	if year != 0 {
		t = time.Date(year, m, day, hh, mm, ss, clock.Nanosecond(), time.UTC)
	} else {
		t = syslogheader.Date(m, day, hh, mm, ss, clock.Nanosecond(), ref.Add(time.Duration(offset)*time.Second))
	}
	return t.Add(-time.Duration(offset) * time.Second), true
}

// isUptime reports whether s is an uptime stamp: "1d02h", "2w3d", "1y4w".
func isUptime(s string) bool {
	s = strings.TrimLeft(s, "*.")
	units := 0
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i || j == len(s) || strings.IndexByte("ywdhms", s[j]) < 0 {
			return false
		}
		units++
		i = j + 1
	}
	return units > 0
}

var months = map[string]time.Month{
	"Jan": time.January, "Feb": time.February, "Mar": time.March, "Apr": time.April, "May": time.May, "Jun": time.June,
	"Jul": time.July, "Aug": time.August, "Sep": time.September, "Oct": time.October, "Nov": time.November, "Dec": time.December,
}

func (p *Parser) add(name, value string) {
	if value != "" {
		p.dst.Fields = append(p.dst.Fields, event.Field{Name: name, Value: value})
	}
}

// number returns s when it is a decimal number of at most 19 digits.
func number(s string) string {
	if !ecs.IsDigits(s) || len(s) > 19 {
		return ""
	}
	return s
}

// jsonSet returns the non-empty values as a JSON array text, each once,
// or "" when there are none.
func (p *Parser) jsonSet(vs ...string) string {
	b, ok := ecs.AppendJSONSet(p.buf[:0], vs...)
	p.buf = b
	if !ok {
		return ""
	}
	return string(b)
}
