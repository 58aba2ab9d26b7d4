package asa

import (
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/parse/ecs"
	"github.com/tarian-soc/tarian/internal/parse/syslogheader"
)

// header is what a device or relay put in front of the %ASA tag.
type header struct {
	pri     int // -1 when absent
	time    time.Time
	hasTime bool
	tz      string // the zone the time was read in ("UTC", "EST", "+02:00")
	host    string
	process string
	pid     string
}

// parseHeader reads the text in front of the tag: [<PRI>] [time[:]] [host]
// [process[[pid]]] [:]. A time without a year is dated by syslogheader.Date
// from ref, as every syslog header is.
func parseHeader(s string, ref time.Time) header {
	h := header{pri: -1}
	s = strings.TrimLeft(s, " ")
	if len(s) > 2 && s[0] == '<' {
		if i := strings.IndexByte(s, '>'); i > 1 && i <= 4 {
			if n, ok := atoi(s[1:i]); ok && n <= 191 {
				h.pri = n
				s = strings.TrimLeft(s[i+1:], " ")
			}
		}
	}
	// Some devices put a ':' right after the PRI ("<166>:Nov 07 2026
	// 11:02:35 UTC: %ASA-...", "<166>:%ASA-..."): no host, just a colon.
	s = strings.TrimLeft(strings.TrimPrefix(s, ":"), " ")
	if t, tz, rest, ok := parseTime(s, ref); ok {
		h.time, h.tz, h.hasTime = t, tz, true
		s = strings.TrimLeft(strings.TrimPrefix(rest, ":"), " ")
	}
	// What is left is "host", "host :", "host process[pid]:",
	// "process[pid]:" or nothing.
	s = strings.TrimRight(s, " ")
	s = strings.TrimRight(strings.TrimSuffix(s, ":"), " ")
	if s == "" {
		return h
	}
	first, rest := word(s)
	rest = strings.TrimLeft(rest, " ")
	if rest == "" {
		if proc, pid, ok := procTag(first); ok && pid != "" {
			h.process, h.pid = proc, pid
			return h
		}
		h.host = strings.TrimSuffix(first, ":")
		return h
	}
	h.host = strings.TrimSuffix(first, ":")
	second, _ := word(rest)
	if proc, pid, ok := procTag(strings.TrimSuffix(second, ":")); ok {
		h.process, h.pid = proc, pid
	}
	return h
}

// procTag splits "name[pid]" (pid optional).
func procTag(s string) (name, pid string, ok bool) {
	if s == "" || strings.ContainsAny(s, "%:") {
		return "", "", false
	}
	i := strings.IndexByte(s, '[')
	if i < 0 {
		return s, "", true
	}
	if i == 0 || !strings.HasSuffix(s, "]") {
		return "", "", false
	}
	pid = s[i+1 : len(s)-1]
	if !ecs.IsDigits(pid) {
		return "", "", false
	}
	return s[:i], pid, true
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

var weekdays = [...]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// parseTime reads a time at the start of s: RFC 3339 ("2018-10-10T12:34:56Z",
// 'T' or space, zone optional) or the ASA form "[Day ]Mon dd [yyyy ]hh:mm:ss[.fff][ TZ][:]",
// TZ an abbreviation ecs.Zone knows ("CET", "EST"). A time without a zone
// is UTC; a word after the time that is not a known zone is left in rest
// (a host name).
func parseTime(s string, ref time.Time) (t time.Time, tz, rest string, ok bool) {
	if len(s) >= 19 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == ' ') && s[13] == ':' {
		return isoTime(s)
	}
	if len(s) > 4 && s[3] == ' ' && isWeekday(s[:3]) {
		s = s[4:]
	}
	if len(s) < 3 {
		return
	}
	mon := 0
	for i, m := range months {
		if s[:3] == m {
			mon = i + 1
			break
		}
	}
	if mon == 0 || len(s) < 4 || s[3] != ' ' {
		return
	}
	s = strings.TrimLeft(s[3:], " ")
	d, s, okd := digits(s, 2)
	if !okd || d < 1 || d > 31 || s == "" || s[0] != ' ' {
		return
	}
	s = s[1:]
	year := 0
	if len(s) > 5 && s[4] == ' ' && ecs.IsDigits(s[:4]) {
		year, _ = atoi(s[:4])
		s = s[5:]
	}
	hh, mm, ss, nsec, s, okc := clock(s)
	if !okc {
		return
	}
	tz = "UTC"
	off := 0
	if len(s) > 1 && s[0] == ' ' {
		// The zone, as "CET" or, with the time's colon, "CET:"; the rest
		// keeps the colon for the caller.
		z, _ := word(s[1:])
		name := strings.TrimSuffix(z, ":")
		if o, known := ecs.Zone(name); known {
			tz, off = name, o
			s = s[strings.Index(s, z)+len(name):]
		}
	}
	// The wall clock is read in UTC, then moved by the zone's offset.
	if year == 0 {
		r := ref
		if r.IsZero() {
			r = time.Now()
		}
		r = r.UTC().Add(time.Duration(off) * time.Second) // the device's wall clock
		t = syslogheader.Date(time.Month(mon), d, hh, mm, ss, nsec, r)
	} else {
		t = time.Date(year, time.Month(mon), d, hh, mm, ss, nsec, time.UTC)
	}
	if t.Day() != d { // 31 Feb and the like
		return time.Time{}, "", "", false
	}
	return t.Add(-time.Duration(off) * time.Second), tz, s, true
}

// isoTime reads an RFC 3339 time ('T' or a space between date and time,
// fraction and zone optional).
func isoTime(s string) (t time.Time, tz, rest string, ok bool) {
	y, _, ok1 := digits(s[:4], 4)
	mo, _, ok2 := digits(s[5:7], 2)
	d, _, ok3 := digits(s[8:10], 2)
	if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 || d > 31 {
		return
	}
	hh, mm, ss, nsec, r, okc := clock(s[11:])
	if !okc {
		return
	}
	loc, tz := time.UTC, "UTC"
	switch {
	case strings.HasPrefix(r, "Z"):
		r = r[1:]
	case len(r) >= 3 && (r[0] == '+' || r[0] == '-'):
		zh, r2, okh := digits(r[1:], 2)
		if !okh {
			return
		}
		zm := 0
		r2 = strings.TrimPrefix(r2, ":")
		if len(r2) >= 2 && ecs.IsDigits(r2[:2]) {
			zm, _ = atoi(r2[:2])
			r2 = r2[2:]
		}
		off := zh*3600 + zm*60
		if r[0] == '-' {
			off = -off
		}
		tz = r[:len(r)-len(r2)]
		loc = time.FixedZone(tz, off)
		r = r2
	}
	t = time.Date(y, time.Month(mo), d, hh, mm, ss, nsec, loc)
	if t.Day() != d {
		return time.Time{}, "", "", false
	}
	return t.UTC(), tz, r, true
}

// clock reads "hh:mm:ss[.fraction]".
func clock(s string) (hh, mm, ss, nsec int, rest string, ok bool) {
	if len(s) < 8 || s[2] != ':' || s[5] != ':' {
		return
	}
	var ok1, ok2, ok3 bool
	hh, _, ok1 = digits(s[0:2], 2)
	mm, _, ok2 = digits(s[3:5], 2)
	ss, _, ok3 = digits(s[6:8], 2)
	if !ok1 || !ok2 || !ok3 || hh > 23 || mm > 59 || ss > 60 {
		return
	}
	rest = s[8:]
	if len(rest) > 1 && (rest[0] == '.' || rest[0] == ',') && rest[1] >= '0' && rest[1] <= '9' {
		j, scale := 1, 100000000
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			nsec += int(rest[j]-'0') * scale
			scale /= 10
			j++
		}
		rest = rest[j:]
	}
	if ss == 60 {
		ss = 59
	}
	return hh, mm, ss, nsec, rest, true
}

// digits reads 1 to max decimal digits.
func digits(s string, max int) (n int, rest string, ok bool) {
	i := 0
	for i < len(s) && i < max && s[i] >= '0' && s[i] <= '9' {
		n = n*10 + int(s[i]-'0')
		i++
	}
	return n, s[i:], i > 0
}

func isWeekday(s string) bool {
	for _, w := range weekdays {
		if s == w {
			return true
		}
	}
	return false
}
