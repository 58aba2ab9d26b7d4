package microsoft

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
)

// out appends one event's fields to an event. Values copied from the
// payload are gathered in one buffer that becomes a single string when the
// event is finished, so all of an event's values cost one allocation.
type out struct {
	ev    *event.Event
	vbuf  []byte
	spans []span
}

// span is a field whose value is vbuf[start:end].
type span struct{ field, start, end int }

func (o *out) reset(ev *event.Event) {
	o.ev = ev
	o.vbuf = o.vbuf[:0]
	o.spans = o.spans[:0]
}

// lit adds a field with a constant value.
func (o *out) lit(name, value string) {
	o.ev.Fields = append(o.ev.Fields, event.Field{Name: name, Value: value})
}

// addString adds a field whose value is copied from s.
func (o *out) addString(name, s string) {
	start := len(o.vbuf)
	o.vbuf = append(o.vbuf, s...)
	o.mark(name, start)
}

// int adds a field holding n.
func (o *out) int(name string, n int64) {
	start := len(o.vbuf)
	o.vbuf = strconv.AppendInt(o.vbuf, n, 10)
	o.mark(name, start)
}

// mark adds a field whose value was appended to vbuf from start.
func (o *out) mark(name string, start int) {
	o.spans = append(o.spans, span{len(o.ev.Fields), start, len(o.vbuf)})
	o.ev.Fields = append(o.ev.Fields, event.Field{Name: name})
}

// value adds a field holding v as text: strings bare, numbers as Elastic
// prints them, booleans, arrays and objects as compact JSON.
func (o *out) value(name string, v *fastjson.Value) {
	start := len(o.vbuf)
	o.vbuf = appendText(o.vbuf, v, false)
	o.mark(name, start)
}

// azure writes the fields every Azure record's event ends with: the
// module, its data stream, the product that logged it.
func (o *out) azure(dataset, product string) {
	o.lit("event.module", "azure")
	o.lit("event.dataset", dataset)
	o.lit("observer.vendor", "Microsoft")
	o.lit("observer.product", product)
	o.lit("cloud.provider", "azure")
	o.lit("ecs.version", ecsVersion)
}

// finish resolves the copied values.
func (o *out) finish() {
	s := string(o.vbuf)
	for _, sp := range o.spans {
		o.ev.Fields[sp.field].Value = s[sp.start:sp.end]
	}
}

// list builds a JSON array of distinct strings (related.ip, related.user).
type list struct {
	items []string
}

func (l *list) reset() { l.items = l.items[:0] }

func (l *list) add(s string) {
	if s == "" {
		return
	}
	for _, x := range l.items {
		if x == s {
			return
		}
	}
	l.items = append(l.items, s)
}

// emit adds the list as a field when it is not empty.
func (l *list) emit(o *out, name string) {
	if len(l.items) == 0 {
		return
	}
	start := len(o.vbuf)
	o.vbuf = append(o.vbuf, '[')
	for i, s := range l.items {
		if i > 0 {
			o.vbuf = append(o.vbuf, ',')
		}
		o.vbuf = ecs.AppendJSONString(o.vbuf, s)
	}
	o.vbuf = append(o.vbuf, ']')
	o.mark(name, start)
}

// appendText appends v's text: strings unquoted, others as JSON. Keys of
// objects inside arrays are snake_cased when snake is set (Elastic's azure
// pipelines do so).
func appendText(b []byte, v *fastjson.Value, snake bool) []byte {
	switch v.Type() {
	case fastjson.TypeString:
		return append(b, v.GetStringBytes()...)
	case fastjson.TypeNumber:
		return appendNumber(b, v)
	case fastjson.TypeTrue:
		return append(b, "true"...)
	case fastjson.TypeFalse:
		return append(b, "false"...)
	case fastjson.TypeNull:
		return b
	default:
		return appendJSON(b, v, snake)
	}
}

// appendJSON appends v as compact JSON.
func appendJSON(b []byte, v *fastjson.Value, snake bool) []byte {
	var scratch [64]byte
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		b = append(b, '{')
		first := true
		o.Visit(func(k []byte, x *fastjson.Value) {
			if !first {
				b = append(b, ',')
			}
			first = false
			if snake {
				b = ecs.AppendJSONString(b, appendSnake(scratch[:0], k))
			} else {
				b = ecs.AppendJSONString(b, k)
			}
			b = append(b, ':')
			b = appendJSON(b, x, snake)
		})
		return append(b, '}')
	case fastjson.TypeArray:
		a, _ := v.Array()
		b = append(b, '[')
		for i, x := range a {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, x, snake)
		}
		return append(b, ']')
	case fastjson.TypeString:
		return ecs.AppendJSONString(b, v.GetStringBytes())
	case fastjson.TypeNumber:
		return v.MarshalTo(b)
	case fastjson.TypeTrue:
		return append(b, "true"...)
	case fastjson.TypeFalse:
		return append(b, "false"...)
	default:
		return append(b, "null"...)
	}
}

// appendNumber appends a JSON number as Elastic's documents print it once
// read back: integers as written, others as the shortest float64 text
// (encoding/json's format), so 78.376632690429688 becomes
// 78.37663269042969.
func appendNumber(b []byte, v *fastjson.Value) []byte {
	start := len(b)
	b = v.MarshalTo(b)
	if !bytes.ContainsAny(b[start:], ".eE") {
		return b
	}
	f, err := v.Float64()
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return b
	}
	return appendFloat(b[:start], f)
}

// appendFloat formats f as encoding/json does.
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 → e-9, as encoding/json prints it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// snakeCase converts a key as Elastic's azure pipelines do: the regex
// ([a-z])([A-Z]+) replaced by $1_$2, then lower case. So
// "riskEventTypes_v2" → "risk_event_types_v2", "IPAddress" → "ipaddress",
// "isCAEToken" → "is_caetoken".
func snakeCase(k []byte) string {
	return string(appendSnake(nil, k))
}

func appendSnake(dst []byte, k []byte) []byte {
	start := len(dst)
	ascii := true
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c >= utf8.RuneSelf {
			ascii = false
		}
		if c >= 'a' && c <= 'z' && i+1 < len(k) && k[i+1] >= 'A' && k[i+1] <= 'Z' {
			dst = append(dst, c, '_')
			for i++; i < len(k) && k[i] >= 'A' && k[i] <= 'Z'; i++ {
				dst = append(dst, k[i]+('a'-'A'))
			}
			i--
			continue
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	if !ascii {
		low := strings.ToLower(string(dst[start:]))
		dst = append(dst[:start], low...)
	}
	return dst
}

// names caches field names built from a prefix and a record's key, so the
// names of a known schema are built once.
type names struct {
	m   map[string]string
	key []byte
}

// maxNames bounds the cache: records with ever-new keys cannot grow it
// without limit.
const maxNames = 8192

// join returns prefix+key, with key snake_cased when snake is set.
func (n *names) join(prefix string, key []byte, snake bool) string {
	n.key = append(n.key[:0], prefix...)
	if snake {
		n.key = append(n.key, 1)
	} else {
		n.key = append(n.key, 0)
	}
	n.key = append(n.key, key...)
	if s, ok := n.m[string(n.key)]; ok {
		return s
	}
	b := make([]byte, 0, len(prefix)+len(key)+4)
	b = append(b, prefix...)
	if snake {
		b = appendSnake(b, key)
	} else {
		b = append(b, key...)
	}
	s := string(b)
	if n.m == nil || len(n.m) >= maxNames {
		n.m = make(map[string]string, 256)
	}
	n.m[string(n.key)] = s
	return s
}

// dot returns name+".", cached.
func (n *names) dot(name string) string {
	return n.join(name, []byte{'.'}, false)
}

// walk adds every leaf of obj under prefix: nested objects as dotted names,
// nulls dropped, arrays as JSON (their objects' keys snake_cased too when
// snake is set).
func (n *names) walk(o *out, prefix string, obj *fastjson.Object, snake bool) {
	obj.Visit(func(k []byte, v *fastjson.Value) {
		n.walkValue(o, n.join(prefix, k, snake), v, snake)
	})
}

// walkValue adds v under name (an object's leaves under name.*).
func (n *names) walkValue(o *out, name string, v *fastjson.Value, snake bool) {
	switch v.Type() {
	case fastjson.TypeNull:
	case fastjson.TypeObject:
		obj, _ := v.Object()
		n.walk(o, n.dot(name), obj, snake)
	case fastjson.TypeArray:
		start := len(o.vbuf)
		o.vbuf = appendJSON(o.vbuf, v, snake)
		o.mark(name, start)
	default:
		o.value(name, v)
	}
}

// str returns v's string, or "" when v is not a string.
func str(v *fastjson.Value) string {
	if v == nil || v.Type() != fastjson.TypeString {
		return ""
	}
	return string(v.GetStringBytes())
}

// view returns v's string without copying it. The result is valid only
// until the parser's next call: it may be compared, or copied into the
// event (add, addString, a list), never kept (lit) or returned.
func view(v *fastjson.Value) string {
	if v == nil || v.Type() != fastjson.TypeString {
		return ""
	}
	b := v.GetStringBytes()
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// viewText is text without copying strings; as view, valid only until
// the parser's next call.
func viewText(v *fastjson.Value) string {
	if v != nil && v.Type() == fastjson.TypeString {
		return view(v)
	}
	return text(v)
}

// text returns v's text for strings, numbers and booleans; "" otherwise.
func text(v *fastjson.Value) string {
	if v == nil {
		return ""
	}
	switch v.Type() {
	case fastjson.TypeString:
		return string(v.GetStringBytes())
	case fastjson.TypeNumber:
		return string(appendNumber(nil, v))
	case fastjson.TypeTrue:
		return "true"
	case fastjson.TypeFalse:
		return "false"
	}
	return ""
}

// jsonArray formats strings as a compact JSON array.
func jsonArray(items ...string) string {
	b := []byte{'['}
	for i, s := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = ecs.AppendJSONString(b, s)
	}
	return string(append(b, ']'))
}
