// Package syslogheader reads the syslog header in front of a log line: the
// one reader of the syslog receivers' envelope (parse/envelope) and of the
// parsers whose records may carry one (key=value firewalls, PAN-OS, Linux
// programs, mail, auditd, the prefixes of CEF and LEEF).
package syslogheader

import (
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/parse/ecs"
)

// Header is the syslog header found in front of a log line.
type Header struct {
	// Priority is the PRI value, or -1 when the line has none.
	Priority int
	// Version is the RFC 5424 version ("1"); empty for other headers.
	Version string
	// Time is the header's time in UTC; zero when the header has none (a
	// PRI alone, or an RFC 5424 "-").
	Time time.Time
	// Host is the host name or address after the time; empty when the
	// line names none.
	Host string
	// App and ProcID come from the tag ("sshd[123]:", "postfix/smtpd[9]:",
	// "su(pam_unix)[7]:", "kernel:") or the RFC 5424 APP-NAME and PROCID.
	App, ProcID string
	// MsgID is the RFC 5424 MSGID; empty for other headers.
	MsgID string
	// SD is the RFC 5424 STRUCTURED-DATA as sent ("[id k=\"v\"]..."), for
	// a reader that keeps it; empty for "-" and other headers. Split
	// checks only its brackets and quotes.
	SD string
	// Relayed says an RFC 5424 message had two spaces before MSG: rsyslog
	// relaying an RFC 3164 message (whose text may then hold rsyslog's
	// #ooo escapes of control characters).
	Relayed bool
}

// Split reads the syslog header at the start of line and returns it with
// the message that follows. ok is false, and msg is line, when line starts
// with neither a PRI nor a time.
//
// It reads, in order: an optional PRI ("<38>"); then either an RFC 5424
// header (VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA),
// or a time in one of the forms hosts and relays write — RFC 3164
// ("Feb  3 10:00:00", fraction allowed), RFC 3339 ("2013-10-30T14:51:21.9+01:00"),
// ISO 8601 with a space and a numeric zone ("2020-03-23 06:47:42.8-0700"),
// "2015 Nov 13 13:40:01" and "Nov 13 2015 13:40:01" — followed by an
// optional host name and an optional tag. A time without a zone is UTC; a
// time without a year takes the latest year that does not put it more than
// two days after ref (the receive time; zero means now).
//
// isPayload, when not nil, tells a word that already belongs to the
// message (for key=value text: one holding '='; for PAN-OS: one holding
// ','), which is then neither a host name nor a tag.
//
// Split does not allocate: every string it returns is a part of line.
func Split(line string, ref time.Time, isPayload func(word string) bool) (h Header, msg string, ok bool) {
	h.Priority = -1
	s := line
	if pri, rest, found := readPRI(s); found {
		h.Priority, s, ok = pri, rest, true
		if v, r := cutWord(s); len(v) <= 2 && ecs.IsDigits(v) && v[0] != '0' && r != "" {
			if m, found := read5424(r, &h); found {
				h.Version = v
				return h, m, true
			}
		}
	}
	timed := false
	if t, rest, found := readTime(s, ref); found {
		h.Time, s, ok, timed = t, rest, true, true
	}
	if !ok {
		return h, line, false
	}
	s = trimSpaces(s)
	payload := func(w string) bool { return isPayload != nil && isPayload(w) }
	w1, r1 := cutWord(s)
	if payload(w1) {
		return h, s, true
	}
	if app, pid, isTag := tag(w1); isTag {
		h.App, h.ProcID = app, pid
		return h, r1, true
	}
	if !timed || w1 == "" || r1 == "" && !strings.HasSuffix(w1, ":") {
		// A lone word after the time is the message, not a host; without
		// a time (a PRI alone) there is no host either (RFC 3164 4.3.3:
		// the whole text is the content).
		return h, s, true
	}
	h.Host = strings.TrimSuffix(w1, ":")
	r1 = trimSpaces(r1)
	w2, r2 := cutWord(r1)
	if payload(w2) {
		return h, r1, true
	}
	if app, pid, isTag := tag(w2); isTag {
		h.App, h.ProcID = app, pid
		return h, r2, true
	}
	return h, r1, true
}

// Sniff reports whether payload starts with a syslog header: a PRI
// followed by an RFC 3164 time, an RFC 5424 version, or a bare RFC 3164 or
// RFC 3339 time. It is the fallback of fallbacks: detection should try it
// after every other text format (parse/linuxauth reads any syslog line
// for its header).
func Sniff(payload []byte) bool {
	s := payload
	if len(s) > 3 && s[0] == '<' {
		i := 1
		for i < len(s) && i <= 4 && isDigit(s[i]) {
			i++
		}
		if i == 1 || i >= len(s) || s[i] != '>' {
			return false
		}
		s = s[i+1:]
		if len(s) >= 2 && s[0] >= '1' && s[0] <= '9' && s[1] == ' ' {
			return true
		}
	}
	if len(s) >= 16 && s[3] == ' ' && month(string(s[:3])) != 0 && s[9] == ':' || len(s) >= 16 && s[3] == ' ' && month(string(s[:3])) != 0 && s[8] == ':' {
		return true
	}
	if len(s) >= 21 && isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2]) && isDigit(s[3]) && s[4] == ' ' && month(string(s[5:8])) != 0 && s[8] == ' ' {
		return true // "2015 Nov 13 13:40:01 host ...", as some relays write it
	}
	return len(s) >= 20 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == ' ') && s[13] == ':' && s[16] == ':'
}

// read5424 reads what follows an RFC 5424 VERSION and its space.
func read5424(s string, h *Header) (string, bool) {
	ts, s := cutWord(s)
	if ts != "-" {
		t, rest, ok := readISO(ts)
		if !ok || rest != "" {
			return "", false
		}
		h.Time = t
	}
	var f [4]string
	for i := range f {
		f[i], s = cutWord(s)
	}
	h.Host, h.App, h.ProcID, h.MsgID = nilDash(f[0]), nilDash(f[1]), nilDash(f[2]), nilDash(f[3])
	switch {
	case s == "-":
		s = ""
	case strings.HasPrefix(s, "- "):
		s = s[2:]
	case strings.HasPrefix(s, "["):
		if n := sdLen(s); n > 0 && (n == len(s) || s[n] == ' ') {
			h.SD, s = s[:n], strings.TrimPrefix(s[n:], " ")
		}
		// Else the brackets do not close: the text is the message.
	}
	if strings.HasPrefix(s, " ") {
		// rsyslog relaying an RFC 3164 message keeps the space after its
		// tag: two spaces before MSG. Any more belong to MSG.
		h.Relayed, s = true, s[1:]
	}
	return strings.TrimPrefix(s, "\ufeff"), true
}

// sdLen returns the length of the RFC 5424 structured data at the start
// of s ([...] elements whose quoted values may hold escaped quotes and
// brackets), or 0 when an element does not close.
func sdLen(s string) int {
	n := 0
	for n < len(s) && s[n] == '[' {
		quoted := false
		i := n + 1
		for ; i < len(s); i++ {
			c := s[i]
			if c == '\\' {
				i++
				continue
			}
			if c == '"' {
				quoted = !quoted
			}
			if c == ']' && !quoted {
				break
			}
		}
		if i >= len(s) {
			return 0
		}
		n = i + 1
	}
	return n
}

func nilDash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// readPRI reads "<N>" with N in 0..191.
func readPRI(s string) (int, string, bool) {
	if len(s) < 3 || s[0] != '<' {
		return 0, s, false
	}
	n, i := 0, 1
	for ; i < len(s) && i <= 4 && isDigit(s[i]); i++ {
		n = n*10 + int(s[i]-'0')
	}
	if i == 1 || i > 4 || i >= len(s) || s[i] != '>' || n > 191 {
		return 0, s, false
	}
	return n, s[i+1:], true
}

// tag reads an RFC 3164 tag: "app:", "app[pid]:" or "app[pid]". The app
// may hold '/', '.', '-' and parentheses ("su(pam_unix)[7]:").
func tag(w string) (app, pid string, ok bool) {
	if len(w) < 2 {
		return "", "", false
	}
	body := w
	colon := body[len(body)-1] == ':'
	if colon {
		body = body[:len(body)-1]
	}
	if n := len(body); n > 0 && body[n-1] == ']' {
		if i := strings.LastIndexByte(body, '['); i > 0 {
			app, pid = body[:i], body[i+1:n-1]
			if validApp(app) {
				return app, pid, true
			}
		}
		return "", "", false
	}
	if colon && validApp(body) {
		return body, "", true
	}
	return "", "", false
}

// validApp reports whether s can be a program name in a tag: no '=',
// quotes, brackets or colons (which a key=value payload or a time would
// have), and not only digits and dots (an address).
func validApp(s string) bool {
	if s == "" {
		return false
	}
	name := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '=', '"', '\'', '[', ']', ':', '<', '>', '{', '}', ',', ';':
			return false
		default:
			if !isDigit(c) && c != '.' {
				name = true
			}
		}
	}
	return name
}

var months = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func month(s string) time.Month {
	if len(s) < 3 {
		return 0
	}
	for i, m := range months {
		if s[:3] == m {
			return time.Month(i + 1)
		}
	}
	return 0
}

// readTime reads a header time at the start of s and returns it with what
// follows it (the leading space kept).
func readTime(s string, ref time.Time) (time.Time, string, bool) {
	if len(s) >= 19 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == 't' || s[10] == ' ') {
		return readISO(s)
	}
	year := 0
	if len(s) > 5 && ecs.IsDigits(s[:4]) && s[4] == ' ' && month(s[5:]) != 0 {
		year = atoi(s[:4])
		s = s[5:]
	}
	m := month(s)
	if m == 0 || len(s) < 5 || s[3] != ' ' {
		return time.Time{}, s, false
	}
	r := trimSpaces(s[4:])
	j := 0
	for j < len(r) && j < 2 && isDigit(r[j]) {
		j++
	}
	if j == 0 || j >= len(r) || r[j] != ' ' {
		return time.Time{}, s, false
	}
	day := atoi(r[:j])
	r = r[j+1:]
	if year == 0 && len(r) > 5 && ecs.IsDigits(r[:4]) && r[4] == ' ' {
		year = atoi(r[:4]) // "Nov 13 2015 13:40:01"
		r = r[5:]
	}
	hh, mm, ss, nsec, r, ok := clock(r)
	if !ok || day < 1 || day > 31 || r != "" && r[0] != ' ' {
		return time.Time{}, s, false
	}
	if year != 0 {
		return time.Date(year, m, day, hh, mm, ss, nsec, time.UTC), r, true
	}
	return Date(m, day, hh, mm, ss, nsec, ref), r, true
}

// Date dates a header time that names no year (RFC 3164's): in the latest
// of ref's year, the one after and the one before that does not put it
// more than two days after ref, the receive time (so clock skew and time
// zones do not push a line a year back, and a December line read in
// January is last year's). A zero ref is now.
func Date(m time.Month, day, hh, mm, ss, nsec int, ref time.Time) time.Time {
	if ref.IsZero() {
		ref = time.Now()
	}
	ref = ref.UTC()
	limit := ref.Add(48 * time.Hour)
	for y := ref.Year() + 1; ; y-- {
		t := time.Date(y, m, day, hh, mm, ss, nsec, time.UTC)
		if !t.After(limit) || y < ref.Year()-1 {
			return t
		}
	}
}

// readISO reads "yyyy-mm-dd[T ]hh:mm:ss[.frac][Z|±hh:mm|±hhmm|±hh]" and
// returns the time in UTC with the text after it.
func readISO(s string) (time.Time, string, bool) {
	if len(s) < 19 || !ecs.IsDigits(s[:4]) || s[4] != '-' || !ecs.IsDigits(s[5:7]) || s[7] != '-' || !ecs.IsDigits(s[8:10]) {
		return time.Time{}, s, false
	}
	if c := s[10]; c != 'T' && c != 't' && c != ' ' {
		return time.Time{}, s, false
	}
	year, mon, day := atoi(s[:4]), atoi(s[5:7]), atoi(s[8:10])
	hh, mm, ss, nsec, r, ok := clock(s[11:])
	if !ok || mon < 1 || mon > 12 || day < 1 || day > 31 {
		return time.Time{}, s, false
	}
	off := 0
	switch {
	case r == "":
	case r[0] == 'Z' || r[0] == 'z':
		r = r[1:]
	case r[0] == '+' || r[0] == '-':
		sign := 1
		if r[0] == '-' {
			sign = -1
		}
		z := r[1:]
		switch {
		case len(z) >= 5 && ecs.IsDigits(z[:2]) && z[2] == ':' && ecs.IsDigits(z[3:5]):
			off, r = atoi(z[:2])*3600+atoi(z[3:5])*60, z[5:]
		case len(z) >= 4 && ecs.IsDigits(z[:4]):
			off, r = atoi(z[:2])*3600+atoi(z[2:4])*60, z[4:]
		case len(z) >= 2 && ecs.IsDigits(z[:2]):
			off, r = atoi(z[:2])*3600, z[2:]
		default:
			return time.Time{}, s, false
		}
		off *= sign
	}
	if r != "" && r[0] != ' ' {
		return time.Time{}, s, false
	}
	t := time.Date(year, time.Month(mon), day, hh, mm, ss, nsec, time.UTC).Add(-time.Duration(off) * time.Second)
	return t, r, true
}

// clock reads "hh:mm:ss[.frac]" (the fraction's separator may be ','),
// returning what follows.
func clock(r string) (hh, mm, ss, nsec int, rest string, ok bool) {
	if len(r) < 8 || r[2] != ':' || r[5] != ':' || !ecs.IsDigits(r[:2]) || !ecs.IsDigits(r[3:5]) || !ecs.IsDigits(r[6:8]) {
		return 0, 0, 0, 0, r, false
	}
	hh, mm, ss = atoi(r[:2]), atoi(r[3:5]), atoi(r[6:8])
	r = r[8:]
	if len(r) > 1 && (r[0] == '.' || r[0] == ',') && isDigit(r[1]) {
		k := 1
		for k < len(r) && isDigit(r[k]) {
			if k <= 9 {
				nsec = nsec*10 + int(r[k]-'0')
			}
			k++
		}
		for n := min(k, 10); n < 10; n++ {
			nsec *= 10
		}
		r = r[k:]
	}
	if hh > 23 || mm > 59 || ss > 60 {
		return 0, 0, 0, 0, r, false
	}
	return hh, mm, ss, nsec, r, true
}

// cutWord splits s at its first space; rest keeps what follows the space.
func cutWord(s string) (w, rest string) {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

func trimSpaces(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// atoi reads a run of digits that the caller has checked (at most 9).
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
