package linuxauth

import (
	"bytes"
	"errors"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
	"github.com/tarian-soc/tarian/internal/parse/syslogheader"
)

// Type names used in configuration and `tarian parse --type`.
const (
	// TypeAuth is Linux authentication logs (auth.log, secure): sshd,
	// sudo, su, PAM, user and group management, logind, cron; lines of
	// other programs become plain syslog events.
	TypeAuth = "linux-auth"
	// TypeSyslog is any syslog line, read for its header only.
	TypeSyslog = "syslog"
)

// Errors Parse returns; the pipeline dead-letters the record with them.
var (
	ErrEmpty    = errors.New("empty message")
	ErrNoHeader = errors.New("no syslog header, no program name from the envelope, and not an auth message")
)

// Names of the syslog header fields the envelope (envelope.Syslog) sets;
// a payload without a header takes its host and program from them.
const (
	fieldHostname = "log.syslog.hostname"
	fieldAppname  = "log.syslog.appname"
	fieldProcID   = "log.syslog.procid"
)

// Sniff reports whether payload looks like a Linux authentication log
// line: a syslog line whose tag names an authentication program (" sshd[",
// " sudo:", "pam_unix(" ...), or a message that starts the way sshd, sudo
// or PAM messages do. It reads payload once, however many programs it
// knows (most records sniffed are not auth lines), and does not allocate.
func Sniff(payload []byte) bool {
	for _, p := range sniffPrefixes {
		if bytes.HasPrefix(payload, p) {
			return true
		}
	}
	for s := payload; ; {
		i := bytes.Index(s, pamUnix)
		if i < 0 {
			break
		}
		after := s[i+len(pamUnix):]
		if len(after) > 0 && after[0] == '(' || i > 0 && s[i-1] == '(' && len(after) > 0 && after[0] == ')' {
			return true // "pam_unix(" or "(pam_unix)"
		}
		s = after
	}
	// Every other marker is a space, a program's name and '[' or ':'.
	for i := bytes.IndexByte(payload, ' '); i >= 0; {
		rest := payload[i+1:]
		n := 0
		for n < len(rest) && n <= maxTagName && isNameByte(rest[n]) {
			n++
		}
		if n > 0 && n < len(rest) && (rest[n] == '[' || rest[n] == ':') {
			if ends, ok := sniffTags[string(rest[:n])]; ok && strings.IndexByte(ends, rest[n]) >= 0 {
				return true
			}
		}
		j := bytes.IndexByte(rest[n:], ' ')
		if j < 0 {
			return false
		}
		i += 1 + n + j
	}
	return false
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

var (
	// sniffTags are the programs whose tag marks an auth line, with the
	// bytes that may end the name in it.
	sniffTags = map[string]string{
		"sshd": "[:", "sudo": "[:", "su": "[:", "systemd-logind": "[", "useradd": "[", "userdel": "[",
		"usermod": "[", "groupadd": "[", "groupdel": "[", "passwd": "[", "CRON": "[",
		"crond": "[", "login": "[", "gpasswd": "[", "chpasswd": "[",
	}
	// maxTagName is the longest name in sniffTags.
	maxTagName    = len("systemd-logind")
	pamUnix       = []byte("pam_unix")
	sniffPrefixes = [][]byte{
		[]byte("Accepted "), []byte("Failed password "), []byte("Failed publickey "), []byte("Invalid user "),
		[]byte("Disconnected from "), []byte("Connection closed by "), []byte("Received disconnect from "),
		[]byte("pam_"), []byte("session opened for user "), []byte("session closed for user "),
	}
)

// SniffApp reports whether app, the program a syslog header names (the
// envelope's log.syslog.appname, when the payload is the message alone),
// is one whose lines belong to the auth log: sshd, sudo, su, login, PAM's
// users, the shadow utilities, systemd-logind, cron, polkitd (a path or a
// "(pam_unix)" suffix allowed, as Parse reads them). It does not allocate.
func SniffApp(app string) bool {
	return app != "" && authPrograms[program(app)]
}

// Parser parses Linux authentication log lines (TypeAuth). The zero value
// is ready; it keeps buffers between calls and is not safe for concurrent
// use.
type Parser struct {
	o out
}

// SyslogParser parses any syslog line for its header (TypeSyslog): host,
// program, pid and message. The zero value is ready; it is not safe for
// concurrent use.
type SyslogParser struct {
	o out
}

// line is one payload split into its parts.
type line struct {
	host, app, pid string
	msg            string
	hdr            syslogheader.Header
	hasHdr         bool
}

// split reads the payload's header, or takes host and program from the
// envelope's fields when the payload is the bare message.
func split(payload []byte, dst *event.Event) (line, error) {
	s := strings.TrimRight(string(payload), "\r\n")
	if strings.TrimSpace(s) == "" {
		return line{}, ErrEmpty
	}
	var l line
	ref := dst.Time
	if ref.IsZero() {
		ref = time.Now()
	}
	h, msg, ok := syslogheader.Split(s, ref, nil)
	if ok {
		l.hdr, l.hasHdr = h, true
		// A message starts at its first word: sudo pads its text
		// ("sudo:   eve : TTY=..."), which a header reader keeps.
		l.host, l.app, l.pid, l.msg = h.Host, h.App, h.ProcID, trimSpaces(msg)
		if !h.Time.IsZero() {
			dst.Time = h.Time
		}
		return l, nil
	}
	l.msg = trimSpaces(s)
	for _, f := range dst.Fields {
		switch f.Name {
		case fieldHostname:
			l.host = nilDash(f.Value)
		case fieldAppname:
			l.app = nilDash(f.Value)
		case fieldProcID:
			l.pid = nilDash(f.Value)
		}
	}
	return l, nil
}

// header writes the fields every event of a syslog line has.
func (o *out) header(l *line) {
	if l.hasHdr {
		if p := l.hdr.Priority; p >= 0 {
			o.add("log.syslog.priority", smallInts[p])
			o.add("log.syslog.facility.code", smallInts[p>>3])
			o.add("log.syslog.severity.code", smallInts[p&7])
		}
		o.addNonEmpty(fieldHostname, l.host)
		o.addNonEmpty(fieldAppname, l.app)
		o.addNonEmpty(fieldProcID, l.pid)
	}
	o.addNonEmpty("host.hostname", l.host)
	if l.hasHdr && l.host != "" && !has(o.dst, "host.name") {
		// The line's own header named the host (a line with no PRI, which
		// the syslog envelope keeps whole, or a file's line): it is the
		// host.name the envelope gives any other syslog record. A
		// shipper's host.name (Filebeat's) stays.
		o.add("host.name", l.host)
	}
	o.addNonEmpty("process.name", l.app)
	if ecs.IsDigits(l.pid) {
		o.add("process.pid", l.pid)
	}
	o.add(event.FieldMessage, l.msg)
}

// has reports whether dst already holds a field called name.
func has(dst *event.Event, name string) bool {
	for i := range dst.Fields {
		if dst.Fields[i].Name == name {
			return true
		}
	}
	return false
}

func (o *out) reset(dst *event.Event) {
	buf := o.buf
	*o = out{dst: dst, buf: buf}
}

// Parse reads one syslog line (or the message of one whose header the
// envelope already read) and appends its fields to dst.Fields.
func (p *SyslogParser) Parse(payload []byte, dst *event.Event) error {
	l, err := split(payload, dst)
	if err != nil {
		return err
	}
	if !l.hasHdr && l.app == "" && l.host == "" {
		return ErrNoHeader
	}
	o := &p.o
	o.reset(dst)
	o.header(&l)
	o.dataset = "system.syslog"
	o.finish(l.host)
	return nil
}

// Parse reads one authentication log line (or the message of one whose
// header the envelope already read) and appends its native
// (system.auth.*) and ECS fields to dst.Fields.
func (p *Parser) Parse(payload []byte, dst *event.Event) error {
	l, err := split(payload, dst)
	if err != nil {
		return err
	}
	o := &p.o
	o.reset(dst)
	m := body(l.msg)
	prog := program(l.app)
	o.dataset = "system.syslog"
	known := false
	if i := strings.Index(l.app, "(pam_"); i > 0 && strings.HasSuffix(l.app, ")") {
		// An old PAM tag: "su(pam_unix)[7]: authentication failure; ...".
		known = o.pam(l.app[i+1:len(l.app)-1], l.app[:i], "", m)
	} else if strings.HasPrefix(m, "pam_") {
		known = o.pamPrefixed(m)
	}
	if !known {
		switch prog {
		case "sshd":
			known = o.sshd(m)
		case "sudo":
			known = o.sudo(m)
		case "su":
			known = o.su(m)
		case "login":
			known = o.login(m)
		case "systemd-logind":
			known = o.logind(m)
		case "cron", "CRON", "crond":
			known = o.cron(m)
		case "useradd", "userdel", "usermod", "groupadd", "groupdel", "groupmod", "gpasswd", "passwd", "chpasswd", "chage":
			known = o.iam(prog, m)
		case "":
			// A bare message: recognise it by its content.
			known = o.sshd(m) || o.sudo(m)
		}
	}
	if !known && !l.hasHdr && l.app == "" && l.host == "" {
		return ErrNoHeader
	}
	if known || authPrograms[prog] {
		o.dataset = "system.auth"
	}
	o.header(&l)
	o.finish(l.host)
	return nil
}

// authPrograms are the programs whose lines belong to the auth log even
// when their message is not one Parse knows.
var authPrograms = map[string]bool{
	"sshd": true, "sudo": true, "su": true, "login": true, "systemd-logind": true, "cron": true, "CRON": true,
	"crond": true, "useradd": true, "userdel": true, "usermod": true, "groupadd": true, "groupdel": true,
	"groupmod": true, "gpasswd": true, "passwd": true, "chpasswd": true, "chage": true, "polkitd": true,
	"unix_chkpwd": true, "sshd-session": true,
}

// program returns the program name of a tag's app: the last path element,
// without a "(pam_unix)" suffix; "sshd-session" (OpenSSH 9.8) reads as sshd.
func program(app string) string {
	if i := strings.IndexByte(app, '('); i > 0 {
		app = app[:i]
	}
	if i := strings.LastIndexByte(app, '/'); i >= 0 {
		app = app[i+1:]
	}
	if app == "sshd-session" || app == "sshd-auth" {
		return "sshd"
	}
	return app
}

// body strips what relays and old systems wrap a message in: a Solaris
// "[ID 800047 auth.notice] " prefix and rsyslog's "message repeated N
// times: [ ... ]".
func body(m string) string {
	if strings.HasPrefix(m, "[ID ") {
		if i := strings.IndexByte(m, ']'); i > 0 {
			m = trimSpaces(m[i+1:])
		}
	}
	if strings.HasPrefix(m, "message repeated ") {
		if i := strings.Index(m, " times: ["); i > 0 {
			m = strings.TrimSuffix(trimSpaces(m[i+len(" times: ["):]), "]")
		}
	}
	return m
}
