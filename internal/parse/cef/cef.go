package cef

import (
	"bytes"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/envelope"
)

// Type is the log-source type name used in configuration and
// `tarian parse --type`.
const Type = "cef"

// ECSVersion is the ECS version the fields follow.
const ECSVersion = "8.17.0"

const extPrefix = "cef.extensions."

// Errors Parse returns; the pipeline dead-letters the record with them.
var (
	ErrNoHeader  = errors.New("CEF: no \"CEF:\" header")
	ErrVersion   = errors.New("CEF: version is not a number")
	ErrNoMessage = errors.New("CEF: JSON record without a message string")
)

// headerError says how many of the seven header fields a message has.
type headerError int

func (e headerError) Error() string {
	return "CEF: header has " + strconv.Itoa(int(e)) + " of 7 fields"
}

// maxNames bounds the cache of extension field names.
const maxNames = 4096

// Sniff reports whether payload holds a CEF header ("CEF:" and a digit),
// at the start or after a syslog header. It does not allocate.
func Sniff(payload []byte) bool {
	i := bytes.Index(payload, []byte("CEF:"))
	return i >= 0 && i+4 < len(payload) && payload[i+4] >= '0' && payload[i+4] <= '9' &&
		bytes.IndexByte(payload[i:], '|') > 0
}

// Parser parses ArcSight Common Event Format messages. The zero value is
// ready; it keeps buffers between calls and is not safe for concurrent
// use.
type Parser struct {
	exts  []ext
	ecs   []event.Field
	names map[string]string
	buf   []byte
	low   []byte
	json  fastjson.Parser
	flat  envelope.JSON
	zones map[string]*time.Location
}

// ext is one extension pair after the dictionary lookup.
type ext struct {
	name string // full name
	raw  string // value, unescaped
	val  string // value as stored (typed values normalized)
	key  *key   // nil for keys outside the dictionary
	ok   bool   // the value has the key's type
	t    time.Time
}

// Parse reads one CEF message and appends its fields to dst.Fields: the
// header as cef.*, the extensions as cef.extensions.<full name>, custom
// labelled values as cef.labels.<label>, and the ECS fields Elastic's
// decode_cef processor and cef integration write. It sets dst.Time from
// rt (deviceReceiptTime), else end, else a syslog header's time.
func (p *Parser) Parse(payload []byte, dst *event.Event) error {
	s := string(payload)
	n0 := len(dst.Fields)
	if len(s) > 0 && s[0] == '{' {
		msg, err := p.unwrapJSON(payload, dst)
		if err != nil {
			dst.Fields = dst.Fields[:n0]
			return err
		}
		s = msg
	}
	i := strings.Index(s, "CEF:")
	if i < 0 {
		dst.Fields = dst.Fields[:n0]
		return ErrNoHeader
	}
	prefix, s := s[:i], strings.TrimRight(s[i+4:], "\r\n")
	var hdr [7]string
	n, rest, err := splitHeader(s, &hdr)
	if err != nil {
		dst.Fields = dst.Fields[:n0]
		return err
	}
	if n < 7 {
		dst.Fields = dst.Fields[:n0]
		return headerError(n)
	}
	for j := 1; j < 7; j++ {
		hdr[j] = p.unescapeHeader(hdr[j])
	}
	p.extensions(rest)
	p.emit(dst, &hdr, prefix)
	return nil
}

// unwrapJSON reads a JSON record carrying the message in "message"; the
// other fields are kept, flattened.
func (p *Parser) unwrapJSON(payload []byte, dst *event.Event) (string, error) {
	v, err := p.json.ParseBytes(payload)
	if err != nil {
		return "", errors.New("CEF: invalid JSON: " + err.Error())
	}
	obj, err := v.Object()
	if err != nil {
		return "", ErrNoMessage
	}
	m := obj.Get("message")
	if m == nil || m.Type() != fastjson.TypeString {
		return "", ErrNoMessage
	}
	msg := string(m.GetStringBytes())
	obj.Del("message")
	if e := obj.Get("event"); e != nil && e.Type() == fastjson.TypeObject {
		eo, _ := e.Object()
		eo.Del("original")
	}
	dst.Fields = p.flat.Flatten(dst.Fields, obj)
	return msg, nil
}

// splitHeader reads "Version|Vendor|Product|Version|ClassID|Name|Severity|"
// (s starts after "CEF:") into hdr, raw (escapes kept), and returns how
// many fields it found and the extension text after the seventh '|'. A
// '|' preceded by an odd number of backslashes is escaped.
func splitHeader(s string, hdr *[7]string) (int, string, error) {
	n, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			c := s[i]
			if c == '\\' && i+1 < len(s) {
				i++
				continue
			}
			if c != '|' {
				continue
			}
		}
		hdr[n] = s[start:min(i, len(s))]
		n++
		if n == 1 {
			v := strings.TrimSpace(hdr[0])
			if v == "" || strings.TrimLeft(v, "0123456789") != "" {
				return 0, "", ErrVersion
			}
			hdr[0] = v
		}
		if n == 7 {
			if i < len(s) {
				return n, s[i+1:], nil
			}
			return n, "", nil
		}
		start = i + 1
	}
	return n, "", nil
}

// unescapeHeader undoes the header escapes: \| and \\. Other backslashes
// are kept.
func (p *Parser) unescapeHeader(v string) string {
	if strings.IndexByte(v, '\\') < 0 {
		return v
	}
	b := p.buf[:0]
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && (v[i+1] == '|' || v[i+1] == '\\') {
			i++
		}
		b = append(b, v[i])
	}
	p.buf = b
	return string(b)
}

// unescapeValue undoes the extension escapes: \= \\ \n \r. Other
// backslashes are kept, as the logstash codec keeps them ("a\|b").
func (p *Parser) unescapeValue(v string) string {
	if strings.IndexByte(v, '\\') < 0 {
		return v
	}
	b := p.buf[:0]
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\\' && i+1 < len(v) {
			switch v[i+1] {
			case '=', '\\':
				i++
				c = v[i]
			case 'n':
				i++
				c = '\n'
			case 'r':
				i++
				c = '\r'
			}
		}
		b = append(b, c)
	}
	p.buf = b
	return string(b)
}

// isKeyStart and isKeyChar are the characters of an extension key: the
// standard's letters and digits, and the '_', '.', ',', '[' and ']' that
// devices use in practice.
func isKeyStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func isKeyChar(c byte) bool {
	return isKeyStart(c) || c == '.' || c == ',' || c == '[' || c == ']'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// keyAt returns the end of a key starting at i (the index of its '='),
// or -1 when no "key=" starts there.
func keyAt(s string, i int) int {
	if i >= len(s) || !isKeyStart(s[i]) {
		return -1
	}
	j := i + 1
	for j < len(s) && isKeyChar(s[j]) {
		j++
	}
	if j < len(s) && s[j] == '=' {
		return j
	}
	return -1
}

// extensions splits the extension text: a value runs until the next
// white space followed by "key=", so values may hold spaces, unescaped
// '=' and '|'; trailing white space is not part of a value.
func (p *Parser) extensions(s string) {
	p.exts = p.exts[:0]
	// The first key: at the start, or after white space.
	i, eq := 0, -1
	for i < len(s) {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if eq = keyAt(s, i); eq >= 0 {
			break
		}
		for i < len(s) && !isSpace(s[i]) {
			i++
		}
	}
	for eq >= 0 {
		k := s[i:eq]
		v := eq + 1
		// Find the next " key=".
		end, next, nextEq := len(s), -1, -1
		for j := v; j < len(s); j++ {
			if s[j] == '\\' {
				j++
				continue
			}
			if !isSpace(s[j]) {
				continue
			}
			w := j
			for w < len(s) && isSpace(s[w]) {
				w++
			}
			if e := keyAt(s, w); e >= 0 {
				end, next, nextEq = j, w, e
				break
			}
			j = w - 1
		}
		val := s[v:end]
		for len(val) > 0 && isSpace(val[len(val)-1]) {
			val = val[:len(val)-1]
		}
		p.add(k, p.unescapeValue(val))
		i, eq = next, nextEq
	}
}

// add records one extension; a later key of the same full name replaces
// an earlier one.
func (p *Parser) add(k, v string) {
	e := ext{name: k, raw: v, val: v}
	if d := lookup(k); d != nil {
		e.key, e.name = d, d.full
	} else if full, ok := customName(k); ok {
		e.name = full
	}
	if e.key != nil {
		e.val, e.ok = typed(v, e.key.kind)
	}
	for i := range p.exts {
		if p.exts[i].name == e.name {
			p.exts[i] = e
			return
		}
	}
	p.exts = append(p.exts, e)
}

// customName gives the full name of a custom key numbered beyond the
// standard's range ("cs7", "cfp15Label"), as the logstash codec does.
func customName(k string) (string, bool) {
	for _, c := range [...]struct{ short, full string }{
		{"cfp", "deviceCustomFloatingPoint"}, {"c6a", "deviceCustomIPv6Address"},
		{"cs", "deviceCustomString"}, {"cn", "deviceCustomNumber"},
	} {
		if !strings.HasPrefix(k, c.short) {
			continue
		}
		r := k[len(c.short):]
		label := strings.HasSuffix(r, "Label")
		r = strings.TrimSuffix(r, "Label")
		if r == "" || strings.TrimLeft(r, "0123456789") != "" {
			return "", false
		}
		if label {
			return c.full + r + "Label", true
		}
		return c.full + r, true
	}
	return "", false
}

// typed checks and normalizes a value of a typed key, as decode_cef
// converts it: integers in decimal, MAC addresses as lowercase
// colon-separated, times as RFC 3339 UTC with milliseconds. Floating-point
// values are kept as written.
func typed(v string, k kind) (string, bool) {
	switch k {
	case kInteger, kLong:
		n, err := strconv.ParseInt(v, 0, 64)
		if err != nil || k == kInteger && (n > 1<<31-1 || n < -1<<31) {
			return v, false
		}
		if canonical(v) {
			return v, true
		}
		return strconv.FormatInt(n, 10), true
	case kFloat, kDouble:
		_, err := strconv.ParseFloat(v, 64)
		return v, err == nil
	case kIP:
		_, err := netip.ParseAddr(v)
		return v, err == nil
	case kMAC:
		return mac(v)
	}
	return v, true
}

// mac normalizes a MAC address written with ':', '-' or '.' separators,
// or none.
func mac(v string) (string, bool) {
	var hex []byte
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
			hex = append(hex, c)
		case c >= 'A' && c <= 'F':
			hex = append(hex, c+'a'-'A')
		case c == ':' || c == '-' || c == '.':
		default:
			return v, false
		}
	}
	if len(hex) != 12 && len(hex) != 16 {
		return v, false
	}
	out := make([]byte, 0, len(hex)+len(hex)/2)
	for i := 0; i < len(hex); i += 2 {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, hex[i], hex[i+1])
	}
	return string(out), true
}

// severity turns the CEF severity into a number: 0-10, or Low (0),
// Medium (4), High (7), Very-High (9).
func severity(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "low":
		return "0", true
	case "medium":
		return "4", true
	case "high":
		return "7", true
	case "very-high":
		return "9", true
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return "", false
	}
	return strconv.Itoa(n), true
}

// extName is "cef.extensions.<name>".
func (p *Parser) extName(e *ext) string {
	if e.key != nil {
		return e.key.field
	}
	name := e.name
	if n, ok := p.names[name]; ok {
		return n
	}
	n := extPrefix + name
	if p.names == nil {
		p.names = make(map[string]string)
	}
	if len(p.names) < maxNames {
		p.names[n[len(extPrefix):]] = n
	}
	return n
}

// emit appends the header, the extensions and the ECS fields.
func (p *Parser) emit(dst *event.Event, hdr *[7]string, prefix string) {
	f := dst.Fields
	f = append(f, event.Field{Name: "ecs.version", Value: ECSVersion}, event.Field{Name: "cef.version", Value: hdr[0]})
	for i, name := range [...]string{"", "cef.device.vendor", "cef.device.product", "cef.device.version", "cef.device.event_class_id", "cef.name", "cef.severity"} {
		if i > 0 && hdr[i] != "" {
			f = append(f, event.Field{Name: name, Value: hdr[i]})
		}
	}
	loc := p.deviceZone()
	for i := range p.exts {
		e := &p.exts[i]
		if e.key != nil && e.key.kind == kTime {
			if t, ok := p.parseTime(e.raw, loc, dst.Time); ok {
				e.val, e.ok, e.t = formatTime(t), true, t
			} else {
				// Unread (an unknown zone, not a time): its text stays
				// in cef.extensions, and the next time source is used.
				e.ok = false
			}
		}
		f = append(f, event.Field{Name: p.extName(e), Value: e.val})
	}
	for i := range p.exts {
		e := &p.exts[i]
		if l := labelOf(e); l != "" && e.raw != "" {
			for j := range p.exts {
				if p.exts[j].name == l && p.exts[j].raw != "" {
					f = append(f, event.Field{Name: "cef.labels." + labelField(p.exts[j].raw), Value: e.val})
					break
				}
			}
		}
	}
	dst.Fields = f
	p.ecsFields(dst, hdr, prefix)
}

// labelField makes a label usable as the last part of a field name: dots
// and white space become '_'.
func labelField(l string) string {
	l = strings.TrimSpace(l)
	if !strings.ContainsAny(l, ". \t") {
		return l
	}
	b := []byte(l)
	for i, c := range b {
		if c == '.' || c == ' ' || c == '\t' {
			b[i] = '_'
		}
	}
	return string(b)
}

// canonical reports whether a decimal integer is written as FormatInt
// would write it: no sign but a minus, no leading zero.
func canonical(s string) bool {
	d := s
	if d != "" && d[0] == '-' {
		d = d[1:]
		if d == "0" {
			return false
		}
	}
	if d == "" || len(d) > 1 && d[0] == '0' {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}

// ecsMAC writes a normalized (lowercase, colon) MAC address as Elastic's
// integration stores source.mac and destination.mac: uppercase with
// dashes.
func ecsMAC(v string) string {
	b := make([]byte, len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case c == ':' || c == '.':
			c = '-'
		}
		b[i] = c
	}
	return string(b)
}
