package kv

import (
	"strings"
	"time"
)

// Header is a syslog header found in front of a payload.
type Header struct {
	// Priority is the PRI value, or -1 when the line had none.
	Priority int
	// Version is the RFC 5424 version ("1"); empty for other headers.
	Version string
	// Time is the header's time, zero when it had none. An RFC 3164 time
	// has no year and no zone: it is read as UTC in the year that puts it
	// nearest to the reference time given to SplitHeader.
	Time time.Time
	// Host is the host name or address after the time, when there was one.
	Host string
	// App, ProcID and MsgID are the RFC 5424 fields, or the RFC 3164 tag
	// ("app[pid]:"); empty when absent or "-".
	App, ProcID, MsgID string
}

// SplitHeader reads an optional syslog header from the start of s and
// returns it with the rest of s, the payload. It recognises, in order: a
// PRI ("<189>"), an RFC 5424 version and its fields, and otherwise a time
// in RFC 3164 form ("Jan _2 15:04:05", fraction allowed), RFC 3339 form, or
// the "2006 Jan _2 15:04:05" form some relays write, then a host name and
// an RFC 3164 tag. isPayload tells a word that already belongs to the
// payload (for key=value text: one holding '='; for CEF: "CEF:0|...")
// from a host name or tag; it may be nil. ref is the reference time for
// RFC 3164 years (the receive time); zero means now.
//
// Text that does not start with a header comes back whole, with
// Priority -1.
func SplitHeader(s string, ref time.Time, isPayload func(word string) bool) (Header, string) {
	h := Header{Priority: -1}
	if isPayload == nil {
		isPayload = func(string) bool { return false }
	}
	rest := s
	if pri, r, ok := readPRI(rest); ok {
		h.Priority, rest = pri, r
		rest = strings.TrimLeft(rest, " ")
		// RFC 5424: VERSION SP TIMESTAMP SP HOSTNAME SP APP SP PROCID SP MSGID SP SD
		if len(rest) >= 2 && rest[0] >= '1' && rest[0] <= '9' && (rest[1] == ' ' || rest[1] >= '0' && rest[1] <= '9' && len(rest) > 2 && rest[2] == ' ') {
			v, r := word(rest)
			if t, r2, ok := read5424(r, &h); ok {
				h.Version = v
				h.Time = t
				return h, r2
			}
		}
	}
	t, r, ok := readTime(rest, ref)
	if !ok {
		return h, rest
	}
	h.Time, rest = t, strings.TrimLeft(r, " ")
	if w, r := word(rest); w != "" && !isPayload(w) && r != "" {
		if app, pid, ok := tag(w); ok {
			h.App, h.ProcID = app, pid
			return h, strings.TrimLeft(r, " ")
		}
		h.Host, rest = w, strings.TrimLeft(r, " ")
		if w, r := word(rest); w != "" && !isPayload(w) && r != "" {
			if app, pid, ok := tag(w); ok {
				h.App, h.ProcID = app, pid
				rest = strings.TrimLeft(r, " ")
			}
		}
	}
	return h, rest
}

// read5424 reads what follows an RFC 5424 version: TIMESTAMP HOSTNAME
// APP-NAME PROCID MSGID STRUCTURED-DATA, each "-" when nil.
func read5424(s string, h *Header) (time.Time, string, bool) {
	ts, s := word(s)
	var t time.Time
	if ts != "-" {
		var err error
		if t, err = time.Parse(time.RFC3339Nano, ts); err != nil {
			return time.Time{}, "", false
		}
		t = t.UTC()
	}
	var f [4]string
	for i := range f {
		f[i], s = word(s)
	}
	h.Host, h.App, h.ProcID, h.MsgID = nilDash(f[0]), nilDash(f[1]), nilDash(f[2]), nilDash(f[3])
	switch {
	case strings.HasPrefix(s, "- "), s == "-":
		s = s[1:]
	case strings.HasPrefix(s, "["):
		s = skipSD(s)
	}
	return t, strings.TrimLeft(s, " "), true
}

// skipSD skips RFC 5424 structured data: one or more [...] elements whose
// quoted parameter values may hold ']' (escaped or not).
func skipSD(s string) string {
	for len(s) > 0 && s[0] == '[' {
		quoted := false
		i := 1
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
			return ""
		}
		s = s[i+1:]
	}
	return s
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
	for ; i < len(s) && i <= 4 && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
	}
	if i == 1 || i > 4 || i >= len(s) || s[i] != '>' || n > 191 {
		return 0, s, false
	}
	return n, s[i+1:], true
}

// word splits s at its first space; rest keeps what follows the space.
func word(s string) (w, rest string) {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// tag reads an RFC 3164 tag: "app:", "app[pid]:" or "app[pid]".
func tag(w string) (app, pid string, ok bool) {
	if i := strings.IndexByte(w, '['); i > 0 && (strings.HasSuffix(w, "]:") || strings.HasSuffix(w, "]")) {
		end := strings.LastIndexByte(w, ']')
		if end > i {
			return w[:i], w[i+1 : end], true
		}
	}
	if len(w) > 1 && w[len(w)-1] == ':' && strings.IndexByte(w[:len(w)-1], ':') < 0 {
		return w[:len(w)-1], "", true
	}
	return "", "", false
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

// readTime reads a header time at the start of s: RFC 3339, RFC 3164
// ("Mmm dd hh:mm:ss[.frac]") or "yyyy Mmm dd hh:mm:ss".
func readTime(s string, ref time.Time) (time.Time, string, bool) {
	if len(s) > 10 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == 't') {
		w, rest := word(s)
		if t, err := time.Parse(time.RFC3339Nano, w); err == nil {
			return t.UTC(), rest, true
		}
		return time.Time{}, s, false
	}
	year := 0
	if len(s) > 5 && isDigits(s[:4]) && s[4] == ' ' && month(s[5:]) != 0 {
		year = atoi(s[:4])
		s = s[5:]
	}
	m := month(s)
	if m == 0 || len(s) < 4 || s[3] != ' ' {
		return time.Time{}, s, false
	}
	r := strings.TrimLeft(s[4:], " ")
	j := 0
	for j < len(r) && j < 2 && r[j] >= '0' && r[j] <= '9' {
		j++
	}
	if j == 0 || j >= len(r) || r[j] != ' ' {
		return time.Time{}, s, false
	}
	day := atoi(r[:j])
	r = r[j+1:]
	if len(r) < 8 || r[2] != ':' || r[5] != ':' || !isDigits(r[:2]) || !isDigits(r[3:5]) || !isDigits(r[6:8]) {
		return time.Time{}, s, false
	}
	hh, mm, ss := atoi(r[:2]), atoi(r[3:5]), atoi(r[6:8])
	r = r[8:]
	nsec := 0
	if len(r) > 1 && r[0] == '.' {
		k := 1
		for k < len(r) && r[k] >= '0' && r[k] <= '9' {
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
	if day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || (r != "" && r[0] != ' ') {
		return time.Time{}, s, false
	}
	if year != 0 {
		return time.Date(year, m, day, hh, mm, ss, nsec, time.UTC), r, true
	}
	if ref.IsZero() {
		ref = time.Now()
	}
	ref = ref.UTC()
	t := time.Date(ref.Year(), m, day, hh, mm, ss, nsec, time.UTC)
	switch {
	case t.Sub(ref) > 31*24*time.Hour:
		t = t.AddDate(-1, 0, 0)
	case ref.Sub(t) > 334*24*time.Hour:
		t = t.AddDate(1, 0, 0)
	}
	return t, r, true
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

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
