package auditd

import (
	"bytes"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
	"github.com/tarian-soc/tarian/internal/parse/syslogheader"
)

// Type is the log-source type name used in configuration and
// `tarian parse --type`.
const Type = "auditd"

// ECSVersion is the ECS version the fields follow.
const ECSVersion = "8.17.0"

// Errors Parse returns; the pipeline dead-letters the record with them.
var (
	ErrEmpty    = errors.New("auditd: empty record")
	ErrNoRecord = errors.New("auditd: no type=... msg=audit(...) record")
	ErrBadStamp = errors.New("auditd: bad audit(seconds.millis:serial) stamp")
)

// Sniff reports whether payload looks like a Linux audit record: it holds
// "type=" and "audit(" (the userspace "msg=audit(" form or the kernel's).
// It does not allocate.
func Sniff(payload []byte) bool {
	i := bytes.Index(payload, []byte("type="))
	return i >= 0 && bytes.Contains(payload[i:], []byte(" audit(")) ||
		i >= 0 && bytes.Contains(payload[i:], []byte("msg=audit("))
}

// Parser parses Linux audit records (auditd's log, audisp's syslog
// plugin, the kernel's "audit:" console lines). The zero value is ready;
// it keeps buffers between calls and is not safe for concurrent use.
type Parser struct {
	kv      []pair   // the records' key=value pairs, first of a key wins
	args    []string // EXECVE arguments by index
	has     []bool
	chunked []bool   // the argument came in hex chunks (aN[i]=...)
	set     []string // ECS names already written
	buf     []byte
	rel     []string
	// names caches p.native(k)ey, so that a field name costs no
	// allocation once seen; bounded against made-up keys.
	names   map[string]string
	actions map[string]string // lower-case record types
}

// maxNames bounds the name cache.
const maxNames = 4096

// native returns the field name of a record key.
func (p *Parser) native(k string) string {
	if n, ok := p.names[k]; ok {
		return n
	}
	n := "auditd.log." + k
	if p.names == nil {
		p.names = make(map[string]string, 64)
	}
	if len(p.names) < maxNames {
		p.names[k] = n
	}
	return n
}

// pair is one key=value of a record, its value decoded.
type pair struct {
	key, val string
	upper    bool // a key of the ENRICHED part (after 0x1d)
}

// record is what the records of one line say beyond their pairs.
type record struct {
	typ, epoch, seq, node string
	text                  string // leading free text of the first record
	path                  string // the first PATH item that is not a PARENT, else the last
	pathFinal             bool
	title                 string
	cmd                   string
	seresult, seperms     string
}

// Parse reads one audit line — one record, or several records of one event
// run together on a line as some forwarders write them — and appends its
// native (auditd.log.*) and ECS fields to dst.Fields.
func (p *Parser) Parse(payload []byte, dst *event.Event) error {
	s := strings.TrimRight(string(payload), "\r\n")
	if strings.TrimSpace(s) == "" {
		return ErrEmpty
	}
	host := ""
	if !startsRecord(s) {
		ref := dst.Time
		if ref.IsZero() {
			ref = time.Now()
		}
		if h, msg, ok := syslogheader.Split(s, ref, nil); ok {
			host, s = h.Host, msg
		}
		s = strings.TrimPrefix(s, "audit: ")
		if !startsRecord(s) {
			i := strings.Index(s, "type=")
			if i < 0 {
				return ErrNoRecord
			}
			if j := strings.LastIndex(s[:i], "node="); j >= 0 && (j == 0 || s[j-1] == ' ') {
				i = j
			}
			if i > 0 && s[i-1] != ' ' {
				return ErrNoRecord
			}
			s = s[i:]
		}
	}
	if host == "" {
		host, _ = dst.Get("log.syslog.hostname")
	}
	p.kv, p.args, p.has, p.chunked, p.set, p.rel = p.kv[:0], p.args[:0], p.has[:0], p.chunked[:0], p.set[:0], p.rel[:0]
	var r record
	first := true
	for s != "" {
		node, typ, epoch, seq, body, ok := readStamp(s)
		if !ok {
			if first {
				if strings.Contains(s, "audit(") {
					return ErrBadStamp
				}
				return ErrNoRecord
			}
			break
		}
		next := nextRecord(body)
		rec := body
		s = ""
		if next >= 0 {
			rec, s = body[:next], body[next+1:]
		}
		if n, ok := numericTypes[typ]; ok {
			typ = n
		}
		if first {
			r.typ, r.epoch, r.seq, r.node = typ, epoch, seq, node
		}
		p.record(&r, typ, rec, first)
		first = false
	}
	t, ok := epochTime(r.epoch)
	if !ok {
		return ErrBadStamp
	}
	dst.Time = t
	if r.node != "" {
		host = r.node
	}
	p.emit(dst, &r, host)
	return nil
}

func startsRecord(s string) bool {
	return strings.HasPrefix(s, "type=") || strings.HasPrefix(s, "node=")
}

// readStamp reads "[node=N ]type=T msg=audit(E:S):" (or the kernel's
// "type=T audit(E:S):") and returns the text after it.
func readStamp(s string) (node, typ, epoch, seq, rest string, ok bool) {
	if strings.HasPrefix(s, "node=") {
		node, s = cut(s[len("node="):], ' ')
		s = strings.TrimLeft(s, " ")
	}
	if !strings.HasPrefix(s, "type=") {
		return "", "", "", "", "", false
	}
	typ, s = cut(s[len("type="):], ' ')
	s = strings.TrimLeft(s, " ")
	switch {
	case strings.HasPrefix(s, "msg=audit("):
		s = s[len("msg=audit("):]
	case strings.HasPrefix(s, "audit("):
		s = s[len("audit("):]
	default:
		return "", "", "", "", "", false
	}
	end := strings.IndexByte(s, ')')
	if end < 0 || typ == "" {
		return "", "", "", "", "", false
	}
	epoch, seq, _ = strings.Cut(s[:end], ":")
	rest = strings.TrimPrefix(s[end+1:], ":")
	return node, typ, epoch, seq, rest, true
}

// nextRecord finds where the next record of a line starts in body (the
// space before "type=T msg=audit(" or "node=N type="), or -1.
func nextRecord(body string) int {
	from := 0
	for {
		i := strings.Index(body[from:], " type=")
		if i < 0 {
			return -1
		}
		i += from
		if _, typ, _, _, _, ok := readStamp(body[i+1:]); ok && typ != "" {
			// A "node=N " right before belongs to the next record.
			if j := strings.LastIndexByte(body[:i], ' '); j >= 0 && strings.HasPrefix(body[j+1:], "node=") {
				return j
			}
			return i
		}
		from = i + 1
	}
}

// epochTime reads "1605000000.123".
func epochTime(e string) (time.Time, bool) {
	secs, frac, _ := strings.Cut(e, ".")
	if !ecs.IsDigits(secs) || len(secs) > 12 || frac != "" && !ecs.IsDigits(frac) {
		return time.Time{}, false
	}
	sec, _ := strconv.ParseInt(secs, 10, 64)
	nsec := 0
	for i := 0; i < 9; i++ {
		nsec *= 10
		if i < len(frac) {
			nsec += int(frac[i] - '0')
		}
	}
	return time.Unix(sec, int64(nsec)).UTC(), true
}

// record reads the body of one record into the parser's pairs.
func (p *Parser) record(r *record, typ, body string, first bool) {
	body = strings.TrimLeft(body, " ")
	// Leading free text: "auditd start, ver=...", "avc:  denied  { write } for  pid=...".
	text := leadingText(body)
	// "user pid=...", "tty pid=...": a word naming the origin, not a message.
	if t := strings.TrimSpace(text); first && t != "" && t != "user" && t != "tty" && t != "kernel" {
		r.text = t
		if strings.HasPrefix(r.text, "avc:") {
			p.avc(r, r.text)
		}
	}
	body = body[len(text):]
	p.pairs(r, typ, body, first)
}

// leadingText returns the words of s before its first key=value word.
func leadingText(s string) string {
	i := 0
	for i < len(s) {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != '=' {
			j++
		}
		if j < len(s) && s[j] == '=' && j > i {
			return s[:i]
		}
		i = j
		for i < len(s) && s[i] != ' ' {
			i++
		}
	}
	return s
}

// avc reads SELinux's "avc:  denied  { read write } for" preamble.
func (p *Parser) avc(r *record, text string) {
	t := strings.TrimSpace(strings.TrimPrefix(text, "avc:"))
	res, rest := cut(t, ' ')
	r.seresult = res
	if a, b := strings.IndexByte(rest, '{'), strings.IndexByte(rest, '}'); a >= 0 && b > a {
		r.seperms = strings.Join(strings.Fields(rest[a+1:b]), ",")
	}
}

// pairs scans key=value words: values are bare, "double-quoted" or
// 'single-quoted' (a nested list of pairs, msg='...'); a 0x1d byte starts
// the ENRICHED part, whose upper-case keys hold interpreted values.
func (p *Parser) pairs(r *record, typ, s string, first bool) {
	upper := false
	for len(s) > 0 {
		c := s[0]
		if c == ' ' || c == '(' || c == ',' {
			s = s[1:]
			continue
		}
		if c == 0x1d {
			upper = true
			s = s[1:]
			continue
		}
		// The key runs to '=' or the end of the word.
		i := 0
		for i < len(s) && s[i] != '=' && s[i] != ' ' && s[i] != 0x1d {
			i++
		}
		if i == len(s) || s[i] != '=' {
			s = s[i:] // a bare word
			continue
		}
		key := s[:i]
		s = s[i+1:]
		var val string
		quoted := false
		switch {
		case len(s) > 0 && s[0] == '"':
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				val, s = s[1:], ""
			} else {
				val, s = s[1:1+end], s[2+end:]
			}
			quoted = true
		case len(s) > 0 && s[0] == '\'':
			end := strings.IndexByte(s[1:], '\'')
			var inner string
			if end < 0 {
				inner, s = s[1:], ""
			} else {
				inner, s = s[1:1+end], s[2+end:]
			}
			if key == "msg" && strings.IndexByte(inner, '=') >= 0 {
				if t := leadingText(inner); strings.TrimSpace(t) != "" && first && r.text == "" {
					r.text = strings.TrimSpace(t)
				}
				p.pairs(r, typ, inner, first)
				continue
			}
			val, quoted = inner, true
		default:
			j := 0
			for j < len(s) && s[j] != ' ' && s[j] != 0x1d {
				j++
			}
			val, s = s[:j], s[j:]
			val = strings.TrimSuffix(val, ",")
			if strings.HasSuffix(val, ")") && !strings.Contains(val, "(") {
				val = val[:len(val)-1]
			}
			if val == "{" || val == "}" {
				continue // SADDR={ saddr_fam=inet ... }: the inner pairs follow
			}
		}
		p.pair(r, typ, key, val, quoted, first, upper)
	}
}

// pair files one key=value of a record.
func (p *Parser) pair(r *record, typ, key, val string, quoted, first, upper bool) {
	if val == "?" || val == "(null)" || val == "" {
		return
	}
	raw := val
	if !quoted && (hexKeys[key] || typ == "EXECVE" && isArgKey(key)) {
		val = p.unhex(val)
	}
	switch typ {
	case "EXECVE":
		if isArgKey(key) {
			p.arg(key, raw, quoted)
			if strings.IndexByte(key, '[') >= 0 || strings.HasSuffix(key, "_len") {
				return
			}
		}
	case "PROCTITLE":
		if key == "proctitle" {
			if r.title == "" {
				r.title = p.plain(raw, quoted)
			}
			return
		}
	case "PATH":
		// A record's name comes before its nametype.
		switch {
		case key == "name" && !r.pathFinal:
			r.path = val
		case key == "nametype" && val != "PARENT" && r.path != "":
			r.pathFinal = true
		}
		if !first {
			return
		}
	}
	if key == "cmd" && r.cmd == "" {
		r.cmd = p.plain(raw, quoted)
	}
	for _, x := range p.kv {
		if x.key == key {
			return
		}
	}
	p.kv = append(p.kv, pair{key: key, val: val, upper: upper})
}

func isArgKey(k string) bool {
	return len(k) > 1 && k[0] == 'a' && k[1] >= '0' && k[1] <= '9'
}

// arg files an EXECVE argument: "aN", "aN_len" (ignored) or the chunk
// "aN[i]" of a long one.
func (p *Parser) arg(key, raw string, quoted bool) {
	name := key[1:]
	chunk := false
	if i := strings.IndexByte(name, '['); i > 0 {
		name, chunk = name[:i], true
	}
	if strings.HasSuffix(name, "_len") || !ecs.IsDigits(name) || len(name) > 4 {
		return
	}
	n, _ := strconv.Atoi(name)
	if n > 4096 {
		return
	}
	for len(p.args) <= n {
		p.args = append(p.args, "")
		p.has = append(p.has, false)
		p.chunked = append(p.chunked, false)
	}
	if chunk {
		// Chunks are hex; join them and decode at the end.
		p.args[n] += raw
		p.chunked[n] = true
	} else {
		p.args[n] = p.plain(raw, quoted)
	}
	p.has[n] = true
}

// plain decodes a hex value fully (NUL and control bytes kept as bytes),
// for process arguments and command lines.
func (p *Parser) plain(raw string, quoted bool) string {
	if quoted || !isHex(raw) {
		return raw
	}
	b := p.buf[:0]
	for i := 0; i+1 < len(raw); i += 2 {
		b = append(b, unhex(raw[i])<<4|unhex(raw[i+1]))
	}
	p.buf = b
	return string(b)
}

// unhex decodes a hex value as Elastic's pipeline does: when the bytes it
// encodes hold a space, a quote or a control byte (what auditd encodes);
// control bytes are written in caret notation ("^@" for NUL). Other hex
// stays as written.
func (p *Parser) unhex(v string) string {
	if !isHex(v) {
		return v
	}
	needed := false
	for i := 0; i+1 < len(v); i += 2 {
		c := unhex(v[i])<<4 | unhex(v[i+1])
		if c < 33 || c == '"' || c == 127 {
			needed = true
			break
		}
	}
	if !needed {
		return v
	}
	b := p.buf[:0]
	for i := 0; i+1 < len(v); i += 2 {
		c := unhex(v[i])<<4 | unhex(v[i+1])
		if c < 32 || c == 127 {
			b = append(b, '^', c^64)
			continue
		}
		b = append(b, c)
	}
	p.buf = b
	return strings.ToValidUTF8(string(b), "\ufffd")
}

func isHex(v string) bool {
	if len(v) == 0 || len(v)%2 != 0 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func cut(s string, sep byte) (string, string) {
	if i := strings.IndexByte(s, sep); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// get returns the value of key among the pairs.
func (p *Parser) get(key string) string {
	for _, x := range p.kv {
		if x.key == key {
			return x.val
		}
	}
	return ""
}

// setECS writes an ECS field unless an earlier step wrote it; it reports
// whether it wrote.
func (p *Parser) setECS(dst *event.Event, name, value string) bool {
	for _, n := range p.set {
		if n == name {
			return false
		}
	}
	p.set = append(p.set, name)
	dst.Fields = append(dst.Fields, event.Field{Name: name, Value: value})
	if strings.HasSuffix(name, ".name") && strings.HasPrefix(name, "user.") && !strings.Contains(name, "group") {
		p.relUser(value)
	}
	return true
}

func (p *Parser) relUser(u string) {
	for _, x := range p.rel {
		if x == u {
			return
		}
	}
	p.rel = append(p.rel, u)
}

func add(dst *event.Event, name, value string) {
	dst.Fields = append(dst.Fields, event.Field{Name: name, Value: value})
}

// emit writes the event: the subject copies of the record type, the pairs
// (renamed to ECS where Elastic's pipeline renames them), the arguments,
// the classification.
func (p *Parser) emit(dst *event.Event, r *record, host string) {
	add(dst, "auditd.log.record_type", r.typ)
	if ecs.IsDigits(r.seq) {
		add(dst, "auditd.log.sequence", r.seq)
	}
	if r.node != "" {
		add(dst, "auditd.log.node", r.node)
	}
	cls, known := kinds[r.typ]
	syscall := ""
	if r.typ == "SYSCALL" {
		syscall = p.syscallName()
		if c, ok := syscalls[syscall]; ok {
			cls, known = c, true
		} else {
			cls, known = class{category: cProcess, typ: tInfo}, true
		}
	}
	p.copies(dst, cls.copy)
	outcome := ""
	for _, x := range p.kv {
		k, v := x.key, x.val
		if x.upper {
			add(dst, p.native(k), v)
			if name, ok := enriched[k]; ok {
				p.setECS(dst, name, v)
			}
			continue
		}
		switch k {
		case "arch":
			if a, ok := arches[strings.ToLower(v)]; ok {
				p.setECS(dst, "host.architecture", a)
			} else {
				p.setECS(dst, "host.architecture", v)
			}
			continue
		case "res", "result":
			outcome = result(v)
			continue
		case "success", "key_enforce":
			b := "false"
			if v == "yes" || v == "1" || v == "true" {
				b = "true"
			}
			add(dst, p.native(k), b)
			if k == "success" && outcome == "" {
				outcome = "failure"
				if b == "true" {
					outcome = "success"
				}
			}
			continue
		case "src", "addr", "saddr_ip":
			if p.setECS(dst, "source.address", v) && isIP(v) {
				p.setECS(dst, "source.ip", v)
			}
			continue
		case "dst":
			if p.setECS(dst, "destination.address", v) && isIP(v) {
				p.setECS(dst, "destination.ip", v)
			}
			continue
		case "hostname":
			add(dst, "auditd.log.hostname", v)
			continue
		case "cmd":
			if args := strings.Fields(r.cmd); len(args) > 0 {
				p.setECS(dst, "process.args", p.array(args))
				p.setECS(dst, "process.args_count", strconv.Itoa(len(args)))
				p.setECS(dst, "process.command_line", r.cmd)
			}
			continue
		case "msg":
			p.setECS(dst, event.FieldMessage, v)
			continue
		}
		if r.typ == "EXECVE" && isArgKey(k) {
			add(dst, p.native(k), v)
			continue
		}
		if target, ok := renames[k]; ok && p.setECS(dst, target, v) {
			continue
		}
		add(dst, p.native(k), v)
	}
	if syscall != "" && syscall != p.get("syscall") {
		add(dst, "auditd.log.syscall_name", syscall)
	}
	if r.seresult != "" {
		add(dst, "auditd.log.seresult", r.seresult)
		if r.seperms != "" {
			add(dst, "auditd.log.seperms", r.seperms)
		}
	}
	p.emitArgs(dst, r)
	if r.title != "" {
		add(dst, "auditd.log.proctitle", p.caret(r.title))
		p.setECS(dst, "process.command_line", strings.TrimRight(strings.ReplaceAll(r.title, "\x00", " "), " "))
	}
	if r.path != "" {
		p.setECS(dst, "file.path", r.path)
	}
	if r.text != "" {
		p.setECS(dst, event.FieldMessage, r.text)
	}
	if host != "" {
		p.setECS(dst, "host.hostname", host)
		add(dst, "related.hosts", p.array([]string{host}))
	}
	action := cls.action
	if action == "" {
		action = p.lower(r.typ)
	}
	category, typ := cls.category, cls.typ
	if !known || category == "" {
		category, typ = fallback(r)
	}
	if r.typ == "ANOM_LOGIN_FAILURES" && outcome == "" {
		outcome = "failure"
	}
	add(dst, "event.kind", "event")
	add(dst, "event.category", category)
	add(dst, "event.type", typ)
	add(dst, "event.action", action)
	if outcome != "" {
		add(dst, "event.outcome", outcome)
	}
	add(dst, "event.module", "auditd")
	add(dst, "event.dataset", "auditd.log")
	add(dst, "ecs.version", ECSVersion)
	if len(p.rel) > 0 {
		add(dst, "related.user", p.array(p.rel))
	}
	for _, name := range []string{"source.ip", "destination.ip"} {
		if v, ok := dst.Get(name); ok && p.isSet(name) {
			add(dst, "related.ip", p.array([]string{v}))
			break
		}
	}
}

// lower returns the lower-case record type (the action of unmapped
// types), cached with the field names.
func (p *Parser) lower(typ string) string {
	if n, ok := p.actions[typ]; ok {
		return n
	}
	n := strings.ToLower(typ)
	if p.actions == nil {
		p.actions = make(map[string]string, 16)
	}
	if len(p.actions) < maxNames {
		p.actions[typ] = n
	}
	return n
}

func (p *Parser) isSet(name string) bool {
	for _, n := range p.set {
		if n == name {
			return true
		}
	}
	return false
}

// syscallName names the record's system call: the ENRICHED SYSCALL value,
// a name already, or an x86_64 number.
func (p *Parser) syscallName() string {
	if v := p.get("SYSCALL"); v != "" {
		return v
	}
	v := p.get("syscall")
	if !ecs.IsDigits(v) {
		return v
	}
	if a := strings.ToLower(p.get("arch")); a == "" || a == "c000003e" {
		if n, ok := x8664[v]; ok {
			return n
		}
	}
	return v
}

// copies writes the record type's subjects, as Elastic's pipeline copies
// them before its renames: a numeric value goes to .id, others to .name.
func (p *Parser) copies(dst *event.Event, rule copyRule) {
	to := func(prefix string, keys ...string) {
		for _, k := range keys {
			if v := p.get(k); v != "" {
				if ecs.IsDigits(v) {
					p.setECS(dst, prefix+".id", v)
				} else {
					p.setECS(dst, prefix+".name", v)
				}
				return
			}
		}
	}
	switch rule {
	case copyEffective:
		to("user", "auid")
		to("user.effective", "acct", "id", "uid")
	case copyTarget:
		to("user", "auid")
		to("user.effective", "uid")
		to("user.target", "id", "acct")
	case copyGroup:
		to("user", "auid")
		to("user.effective", "uid")
		to("group", "id", "acct")
	case copyChauthtok:
		to("user", "auid")
		to("user.effective", "uid")
		to("user.target", "acct", "id", "uid")
	case copyMgmt:
		to("user", "auid")
		to("user.target", "acct", "id", "uid")
		to("user.effective", "uid")
	case copyLogin:
		to("user", "old_auid", "old-auid")
		to("user.effective", "new-auid", "new_auid", "auid")
	}
}

// emitArgs writes an EXECVE record's arguments: process.args (a
// "[... N truncated arguments ...]" first when the record lacks the first
// ones, as Elastic does), process.args_count, process.executable,
// process.command_line.
func (p *Parser) emitArgs(dst *event.Event, r *record) {
	if len(p.args) == 0 {
		return
	}
	args := make([]string, 0, len(p.args)+1)
	firstIdx := -1
	for i, ok := range p.has {
		if !ok {
			continue
		}
		if firstIdx < 0 {
			firstIdx = i
		}
		a := p.args[i]
		if p.chunked[i] {
			a = p.plain(a, false)
		}
		args = append(args, a)
	}
	if len(args) == 0 {
		return
	}
	line := strings.Join(args, " ")
	if firstIdx > 0 {
		args = append([]string{"[... " + strconv.Itoa(firstIdx) + " truncated arguments ...]"}, args...)
	} else {
		p.setECS(dst, "process.executable", args[0])
	}
	p.setECS(dst, "process.args", p.array(args))
	if p.get("argc") == "" {
		p.setECS(dst, "process.args_count", strconv.Itoa(len(args)))
	}
	p.setECS(dst, "process.command_line", line)
}

// caret writes control bytes in caret notation, as Elastic shows decoded
// hex values.
func (p *Parser) caret(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] < 32 || s[i] == 127 {
			clean = false
			break
		}
	}
	if clean {
		return strings.ToValidUTF8(s, "\ufffd")
	}
	b := p.buf[:0]
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 32 || c == 127 {
			b = append(b, '^', c^64)
		} else {
			b = append(b, c)
		}
	}
	p.buf = b
	return strings.ToValidUTF8(string(b), "\ufffd")
}

// result maps res= to event.outcome.
func result(v string) string {
	switch strings.ToLower(v) {
	case "1", "success", "yes":
		return "success"
	case "0", "failed", "fail", "failure", "no":
		return "failure"
	}
	return "unknown"
}

// fallback classifies record types the mapping tables leave without a
// category, so that every event has one.
func fallback(r *record) (category, typ string) {
	t := r.typ
	switch {
	case t == "EXECVE":
		return cProcess, tStart
	case t == "PROCTITLE", t == "CWD", t == "OBJ_PID", t == "BPRM_FCAPS", t == "TTY", t == "USER_TTY":
		return cProcess, tInfo
	case t == "PATH", t == "MMAP", t == "FD_PAIR":
		return cFile, tInfo
	case t == "SOCKADDR", t == "NETFILTER_PKT", t == "SOCKETCALL":
		return cNetwork, tInfo
	case t == "AVC", t == "USER_AVC", t == "SELINUX_ERR", t == "USER_SELINUX_ERR", t == "SECCOMP",
		t == "MAC_CHECK", t == "DAC_CHECK", strings.HasPrefix(t, "APPARMOR"):
		if r.seresult == "denied" || strings.Contains(r.text, "denied") {
			return cIntrusion, tDenied
		}
		return cIntrusion, tInfo
	case strings.HasPrefix(t, "ANOM_LOGIN"):
		return cAuth, tInfo
	case strings.HasPrefix(t, "ANOM_"):
		return cIntrusion, tInfo
	case strings.HasPrefix(t, "USER_"), strings.HasPrefix(t, "CRED_"):
		return cAuth, tInfo
	}
	return cHost, tInfo
}

// array returns vs as a compact JSON array of strings.
func (p *Parser) array(vs []string) string {
	b := append(p.buf[:0], '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = ecs.AppendJSONString(b, v)
	}
	b = append(b, ']')
	p.buf = b
	return string(b)
}
