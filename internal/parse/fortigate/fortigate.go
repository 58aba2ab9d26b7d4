package fortigate

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
	"github.com/tarian-soc/tarian/internal/parse/envelope"
	"github.com/tarian-soc/tarian/internal/parse/kv"
	"github.com/tarian-soc/tarian/internal/parse/syslogheader"
)

// Type is the log-source type name used in configuration and
// `tarian parse --type`.
const Type = "fortigate"

// ECSVersion is the ECS version the fields follow.
const ECSVersion = "8.17.0"

// Errors Parse returns; the pipeline dead-letters the record with them.
var (
	ErrNoPairs    = errors.New("FortiGate: no key=value pairs")
	ErrNotFortiOS = errors.New("FortiGate: none of date, logid, type, devid or devname")
	ErrNoMessage  = errors.New("FortiGate: JSON record without a message string")
)

// maxNames bounds the cache of native field names, so that a stream of
// made-up keys cannot grow it without end.
const maxNames = 4096

// Sniff reports whether payload looks like a FortiOS key=value log: it
// holds "logid=" (or the FortiOS 4 "log_id=") and "type=". It does not
// allocate.
func Sniff(payload []byte) bool {
	return (bytes.Contains(payload, []byte("logid=")) || bytes.Contains(payload, []byte("log_id="))) &&
		bytes.Contains(payload, []byte("type="))
}

// Parser parses FortiGate (FortiOS 4 to 7) key=value logs, bare or with a
// syslog header in front, and JSON records that carry such a log in their
// "message" field. The zero value is ready; it keeps buffers between calls
// and is not safe for concurrent use.
type Parser struct {
	// The pairs of the current log: numbered keys by number, others in
	// extra; order is the order to emit the native fields in (>= 0 a
	// numbered key, < 0 the extra pair -(i+1)).
	val   [numKeys]string
	has   [numKeys]bool
	ord   [numKeys]bool // in order already
	order []int32
	extra []pair

	// ECS fields and arrays being built. A value computed here (a sum, a
	// time, a MAC address) is written to scratch, and out holds its bounds
	// until emit turns scratch into one string.
	out     [numFields]string
	set     [numFields]bool
	comp    [numFields]bool
	bounds  [numFields][2]int32
	arr     [numArrays][]string
	scratch []byte

	names map[string]string // fortinet.firewall.<key> for keys not numbered
	buf   []byte
	json  fastjson.Parser
	flat  envelope.JSON
	zones map[string]*time.Location
}

type pair struct {
	key, val string
	live     bool
}

// Parse reads one FortiGate log and appends its fields to dst.Fields:
// fortinet.firewall.* for the device's keys that no ECS field took, and
// the ECS fields Elastic's fortinet_fortigate integration writes. It sets
// dst.Time from date, time and tz (or, lacking them, from a syslog header
// in front of the log).
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
	s = strings.TrimRight(s, "\r\n")
	h, body, _ := syslogheader.Split(s, dst.Time, hasAssign)
	body = p.stripControl(body)
	p.reset()
	var sc kv.Scanner
	sc.Reset(body)
	n := 0
	for sc.Next() {
		k, v, ok := elasticPair(&sc)
		if !ok {
			continue
		}
		n++
		p.put(k, v)
	}
	if n == 0 {
		dst.Fields = dst.Fields[:n0]
		return ErrNoPairs
	}
	if !p.has[kDate] && !p.has[kLogid] && !p.has[kType] && !p.has[kDevid] && !p.has[kDevname] && !p.has[kLogID2] {
		dst.Fields = dst.Fields[:n0]
		return ErrNotFortiOS
	}
	p.run(h, dst)
	p.emit(dst)
	return nil
}

// hasAssign tells a word of the key=value body from a syslog host name.
func hasAssign(w string) bool { return strings.IndexByte(w, '=') >= 0 }

// unwrapJSON reads a JSON record that carries the log in "message": its
// other fields are kept, flattened, and the message returned.
func (p *Parser) unwrapJSON(payload []byte, dst *event.Event) (string, error) {
	v, err := p.json.ParseBytes(payload)
	if err != nil {
		return "", errors.New("FortiGate: invalid JSON: " + err.Error())
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
		eo.Del("original") // the pipeline keeps the record as event.original
	}
	dst.Fields = p.flat.Flatten(dst.Fields, obj)
	return msg, nil
}

// stripControl removes control characters, as Elastic's pipeline does
// before it splits the pairs (a tab inside a value disappears).
func (p *Parser) stripControl(s string) string {
	i := firstControl(s)
	if i < 0 {
		return s
	}
	b := append(p.buf[:0], s[:i]...)
	for ; i < len(s); i++ {
		if s[i] >= 0x20 && s[i] != 0x7f {
			b = append(b, s[i])
		}
	}
	p.buf = b
	return string(b)
}

// firstControl returns the index of the first byte below 0x20 or 0x7f,
// or -1; it tests eight bytes at a time.
func firstControl(s string) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
		del := w ^ (0x7f * lo)
		if (w-0x20*lo)&^w&hi != 0 || (del-lo)&^del&hi != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return i
		}
	}
	return -1
}

// elasticPair turns a scanned token into a key and a value the way
// Elastic's pipeline does: the token splits at its unquoted '=' into
// parts, empty parts dropped, and only a token of exactly two parts is a
// pair; the value loses one quote at each end. Keys holding anything but
// letters, digits and '_' are dropped.
func elasticPair(sc *kv.Scanner) (k, v string, ok bool) {
	if sc.Assigns() == 1 {
		k, v = sc.Key(), sc.Value()
	} else {
		var parts [2]string
		n := 0
		tok := sc.Token()
		quoted := false
		start := 0
		for i := 0; ; i++ {
			end := i >= len(tok)
			if !end {
				switch c := tok[i]; {
				case c == '\\':
					i++
					continue
				case c == '"':
					quoted = !quoted
					continue
				case c != '=' || quoted:
					continue
				}
			}
			if part := tok[start:min(i, len(tok))]; part != "" {
				if n == 2 {
					return "", "", false
				}
				parts[n] = part
				n++
			}
			if end {
				break
			}
			start = i + 1
		}
		if n != 2 {
			return "", "", false
		}
		k, v = parts[0], parts[1]
	}
	if k == "" || v == "" || !isWord(k) {
		return "", "", false
	}
	return k, kv.Unquote(v, '"'), true
}

func isWord(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func (p *Parser) reset() {
	p.has = [numKeys]bool{}
	p.ord = [numKeys]bool{}
	p.set = [numFields]bool{}
	p.comp = [numFields]bool{}
	p.scratch = p.scratch[:0]
	for i := range p.arr {
		p.arr[i] = p.arr[i][:0]
	}
	p.order = p.order[:0]
	p.extra = p.extra[:0]
}

// put records a pair; a later pair of the same key replaces the earlier,
// and "N/A" removes the key, as in Elastic's pipeline.
func (p *Parser) put(k, v string) {
	if id, ok := lookup(k); ok {
		if v == "N/A" {
			p.has[id] = false
			return
		}
		if !p.ord[id] {
			p.ord[id] = true
			p.order = append(p.order, int32(id))
		}
		p.val[id], p.has[id] = v, true
		return
	}
	for i := range p.extra {
		if p.extra[i].key == k {
			p.extra[i].val, p.extra[i].live = v, v != "N/A"
			return
		}
	}
	if v == "N/A" {
		return
	}
	p.extra = append(p.extra, pair{key: k, val: v, live: true})
	p.order = append(p.order, -int32(len(p.extra)))
}

// fw returns the value of a numbered key that is present, "" otherwise.
func (p *Parser) fw(k key) (string, bool) {
	if p.has[k] {
		return p.val[k], true
	}
	return "", false
}

// take returns a numbered key's value and removes the key (a rename).
func (p *Parser) take(k key) (string, bool) {
	v, ok := p.fw(k)
	p.has[k] = false
	return v, ok
}

func (p *Parser) drop(ks ...key) {
	for _, k := range ks {
		p.has[k] = false
	}
}

func (p *Parser) get(f field) (string, bool) {
	if p.comp[f] && p.set[f] {
		b := p.bounds[f]
		return string(p.scratch[b[0]:b[1]]), true
	}
	return p.out[f], p.set[f]
}

func (p *Parser) put1(f field, v string) { p.out[f], p.set[f], p.comp[f] = v, true, false }

// putScratch sets f to the bytes appended to scratch since start.
func (p *Parser) putScratch(f field, start int) {
	p.set[f], p.comp[f] = true, true
	p.bounds[f] = [2]int32{int32(start), int32(len(p.scratch))}
}

func (p *Parser) del(f field) { p.set[f], p.comp[f] = false, false }

// rename moves key k to field f when k is present.
func (p *Parser) rename(k key, f field) {
	if v, ok := p.take(k); ok {
		p.put1(f, v)
	}
}

// renameIfUnset moves k to f only when f is not set yet.
func (p *Parser) renameIfUnset(k key, f field) {
	if !p.set[f] {
		p.rename(k, f)
	}
}

// copyKey copies k to f, leaving k.
func (p *Parser) copyKey(k key, f field) {
	if v, ok := p.fw(k); ok {
		p.put1(f, v)
	}
}

// convertLong copies k to f as an integer when it is one (the convert
// processor with ignore_failure).
func (p *Parser) convertLong(k key, f field) {
	if v, ok := p.fw(k); ok {
		if n, ok := long(v); ok {
			p.put1(f, n)
		}
	}
}

// add appends v to an array, skipping duplicates when dedupe is set.
func (p *Parser) add(a array, v string, dedupe bool) {
	if dedupe {
		for _, x := range p.arr[a] {
			if x == v {
				return
			}
		}
	}
	p.arr[a] = append(p.arr[a], v)
}

// long reads a decimal (or 0x hexadecimal) integer and returns its
// canonical decimal text.
func long(s string) (string, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
			if n, err = strconv.ParseInt(s[2:], 16, 64); err != nil {
				return "", false
			}
		} else {
			return "", false
		}
	}
	if canonical(s) {
		return s, true
	}
	return strconv.FormatInt(n, 10), true
}

// emit appends the built fields to dst.
func (p *Parser) emit(dst *event.Event) {
	// The arrays go to scratch too; then one string holds every value
	// computed here.
	var arrBounds [numArrays][2]int32
	for i := range p.arr {
		start := len(p.scratch)
		if p.appendArray(p.arr[i]) {
			arrBounds[i] = [2]int32{int32(start), int32(len(p.scratch))}
		}
	}
	all := string(p.scratch)
	f := dst.Fields
	f = append(f,
		event.Field{Name: "ecs.version", Value: ECSVersion},
		event.Field{Name: "observer.vendor", Value: "Fortinet"},
		event.Field{Name: "observer.product", Value: "Fortigate"},
		event.Field{Name: "observer.type", Value: "firewall"},
	)
	for i := range p.out {
		if !p.set[i] {
			continue
		}
		v := p.out[i]
		if p.comp[i] {
			v = all[p.bounds[i][0]:p.bounds[i][1]]
		}
		if v != "" {
			f = append(f, event.Field{Name: fieldNames[i], Value: v})
		}
	}
	for i, b := range arrBounds {
		if b[1] > b[0] {
			f = append(f, event.Field{Name: arrayNames[i], Value: all[b[0]:b[1]]})
		}
	}
	for _, o := range p.order {
		if o >= 0 {
			if p.has[o] && p.val[o] != "" {
				f = append(f, event.Field{Name: knownNames[o], Value: p.val[o]})
			}
			continue
		}
		e := &p.extra[-o-1]
		if e.live && e.val != "" {
			f = append(f, event.Field{Name: p.nativeName(e.key), Value: e.val})
		}
	}
	dst.Fields = f
}

// nativeName is fortinet.firewall.<k>, cached.
func (p *Parser) nativeName(k string) string {
	if n, ok := p.names[k]; ok {
		return n
	}
	n := nativePrefix + k
	if p.names == nil {
		p.names = make(map[string]string)
	}
	if len(p.names) < maxNames {
		p.names[n[len(nativePrefix):]] = n
	}
	return n
}

// appendArray appends the non-empty elements of v to scratch as a
// compact JSON array; it reports false, appending nothing, when none is
// left.
func (p *Parser) appendArray(v []string) bool {
	n := 0
	start := len(p.scratch)
	b := append(p.scratch, '[')
	for _, s := range v {
		if s == "" {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = ecs.AppendJSONString(b, s)
		n++
	}
	if n == 0 {
		p.scratch = b[:start]
		return false
	}
	p.scratch = append(b, ']')
	return true
}

// canonical reports whether a decimal integer is written as FormatInt
// would write it: no sign but a minus, no leading zero.
func canonical(s string) bool {
	if s == "" || s[0] == '+' {
		return false
	}
	d := s
	if d[0] == '-' {
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
