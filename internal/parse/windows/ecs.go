package windows

import (
	"strconv"
	"strings"

	"github.com/tarian-soc/tarian/internal/event"
)

// datasets are event.module and event.dataset per pipeline, as Elastic's
// integrations name them (system for the classic logs, windows for Sysmon
// and PowerShell, winlog for any other channel).
var datasets = [...][2]string{
	kindOther:             {"winlog", "winlog.winlog"},
	kindSysmon:            {"windows", "windows.sysmon_operational"},
	kindSecurity:          {"system", "system.security"},
	kindPowerShell:        {"windows", "windows.powershell_operational"},
	kindPowerShellClassic: {"windows", "windows.powershell"},
	kindSystem:            {"system", "system.system"},
	kindApplication:       {"system", "system.application"},
}

// emitECS writes the Elastic Common Schema layer: what Winlogbeat sets on
// every event, then what the integration's ingest pipeline for the
// channel derives.
func (p *Parser) emitECS() {
	r, o := &p.r, &p.out
	o.add("ecs.version", ECSVersion)
	o.add("event.kind", "event")
	o.add("event.code", r.hdr[hEventID])
	o.add("event.provider", r.hdr[hProvider])
	if t, ok := parseTime(r.hdr[hTime]); ok {
		o.add("event.created", millis(t))
	}
	ds := datasets[r.kind]
	o.add("event.module", ds[0])
	o.add("event.dataset", ds[1])
	o.add("log.level", r.logLevel())
	if !r.hostSet && r.hdr[hComputer] != "" {
		// The event's host is its Computer, whoever relayed it: a host a
		// relay named (a syslog header's, a collector's host.name beside
		// the event) is replaced, host.hostname with host.name (the
		// syslog relay stays log.syslog.hostname). Only a Winlogbeat
		// document keeps its own host (hostSet), as Elastic does.
		o.add("host.name", r.hdr[hComputer])
		if named(o.ev.Fields[:o.start], "host.hostname") || o.has("host.hostname") {
			o.add("host.hostname", r.hdr[hComputer])
		}
	}
	if r.shape != ShapeWinlogbeat {
		o.add("message", r.rend[rMessage])
	}
	p.related.reset()
	start := len(o.ev.Fields)
	switch r.kind {
	case kindSysmon:
		p.sysmon()
	case kindSecurity:
		if out := r.outcome(); out != "" {
			o.add("event.outcome", out)
		}
		p.security()
	case kindPowerShell:
		p.powershell()
	case kindPowerShellClassic:
		p.powershellClassic()
	default:
		if out := r.outcome(); out != "" {
			o.add("event.outcome", out)
		}
		o.add("user.id", r.hdr[hUserID])
	}
	// Elastic's pipelines categorise only the event ids they know; every
	// other event is still a host event, so correlation and the console
	// can count on a category.
	if !named(o.ev.Fields[start:], "event.category") {
		o.add("event.category", `["host"]`)
		if !named(o.ev.Fields[start:], "event.type") {
			o.add("event.type", `["info"]`)
		}
	}
	p.related.emit(p)
}

// named reports whether fs holds a field called name.
func named(fs []event.Field, name string) bool {
	for _, f := range fs {
		if f.Name == name {
			return true
		}
	}
	return false
}

// logLevel is log.level: the rendered level name, lower case, or the
// standard name of the level number.
func (r *rec) logLevel() string {
	if l := r.rend[rLevel]; l != "" {
		return strings.ToLower(l)
	}
	return levelNames[r.hdr[hLevel]]
}

// relatedLists gathers related.* without duplicates.
type relatedLists struct {
	user, ip, hash, hosts []string
}

func (l *relatedLists) reset() {
	l.user, l.ip, l.hash, l.hosts = l.user[:0], l.ip[:0], l.hash[:0], l.hosts[:0]
}

func appendUnique(list []string, s string) []string {
	if s == "" {
		return list
	}
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func (l *relatedLists) emit(p *Parser) {
	for _, f := range []struct {
		name string
		list []string
	}{{"related.user", l.user}, {"related.ip", l.ip}, {"related.hash", l.hash}, {"related.hosts", l.hosts}} {
		if len(f.list) > 0 {
			p.out.add(f.name, p.jsonList(f.list))
		}
	}
}

// baseName is what follows the last backslash of a Windows path, or "".
func baseName(path string) string {
	if i := strings.LastIndexByte(path, '\\'); i >= 0 {
		return path[i+1:]
	}
	return ""
}

// setFile writes file.name, file.directory and file.extension from a
// Windows path as Elastic's "Adds file information" scripts do.
func (p *Parser) setFile(prefix, path string) {
	i := strings.LastIndexByte(path, '\\')
	if len(path) <= 1 || i < 0 {
		return
	}
	p.out.add(prefix+"name", path[i+1:])
	p.out.add(prefix+"directory", path[:i])
	if j := strings.LastIndexByte(path, '.'); j >= 0 {
		p.out.add(prefix+"extension", path[j+1:])
	}
}

// splitUser splits "DOMAIN\name" in exactly two parts.
func splitUser(s string) (domain, name string, ok bool) {
	i := strings.IndexByte(s, '\\')
	if i < 0 || strings.IndexByte(s[i+1:], '\\') >= 0 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// decodeLong reads an integer as Java's Long.decode does: decimal, 0x hex,
// or a leading 0 for octal.
func decodeLong(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := 10
	switch {
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		base, s = 16, s[2:]
	case strings.HasPrefix(s, "#"):
		base, s = 16, s[1:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	n, err := strconv.ParseInt(s, base, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// longText is s as a long in decimal (Elastic's convert to long), or "".
func longText(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if isDigitString(s) && (len(s) == 1 || s[0] != '0') && len(s) < 19 {
		return s
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// decodeText is Long.decode(s) in decimal, or "".
func decodeText(s string) string {
	if isDigitString(s) && (len(s) == 1 || s[0] != '0') && len(s) < 19 {
		return s
	}
	n, ok := decodeLong(s)
	if !ok {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

func isDigitString(s string) bool {
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
