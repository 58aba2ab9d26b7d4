package windows

import (
	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/parse/ecs"
)

// put copies b into the buffer.
func (p *Parser) put(b []byte) span {
	off := len(p.buf)
	p.buf = append(p.buf, b...)
	return span{off, len(p.buf)}
}

// putString copies s into the buffer.
func (p *Parser) putString(s string) span {
	off := len(p.buf)
	p.buf = append(p.buf, s...)
	return span{off, len(p.buf)}
}

// putJoin writes a+sep+b (or b alone when a is empty) into the buffer.
func (p *Parser) putJoin(a span, sep byte, b []byte) span {
	off := len(p.buf)
	if a.end > a.off {
		p.buf = append(p.buf, p.buf[a.off:a.end]...)
		p.buf = append(p.buf, sep)
	}
	p.buf = append(p.buf, b...)
	return span{off, len(p.buf)}
}

// putText copies a JSON value's text: strings unescaped, numbers and
// booleans as written, null as empty, an object with "#text" as that
// text, other objects and arrays as compact JSON.
func (p *Parser) putText(v *fastjson.Value) span {
	off := len(p.buf)
	p.buf = appendText(p.buf, v)
	return span{off, len(p.buf)}
}

func appendText(b []byte, v *fastjson.Value) []byte {
	switch v.Type() {
	case fastjson.TypeString:
		return append(b, v.GetStringBytes()...)
	case fastjson.TypeNumber:
		return v.MarshalTo(b)
	case fastjson.TypeTrue:
		return append(b, "true"...)
	case fastjson.TypeFalse:
		return append(b, "false"...)
	case fastjson.TypeNull:
		return b
	case fastjson.TypeObject:
		if t := v.Get("#text"); t != nil {
			return appendText(b, t)
		}
	}
	return appendJSON(b, v)
}

// appendJSON appends v as compact JSON (fastjson's MarshalTo writes Go
// escapes, which are not all JSON).
func appendJSON(b []byte, v *fastjson.Value) []byte {
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
			b = ecs.AppendJSONString(b, k)
			b = append(b, ':')
			b = appendJSON(b, x)
		})
		return append(b, '}')
	case fastjson.TypeArray:
		a, _ := v.Array()
		b = append(b, '[')
		for i, x := range a {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, x)
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
	}
	return append(b, "null"...)
}

// flatten adds obj's fields to the event as they stand: nested objects as
// dotted names, strings unescaped, numbers, booleans and arrays as their
// JSON text, nulls dropped (envelope.JSON.Flatten's rules). skip names
// top-level keys left out.
func (p *Parser) flatten(prefix string, obj *fastjson.Object, skip ...string) {
	obj.Visit(func(key []byte, v *fastjson.Value) {
		if prefix == "" {
			for _, s := range skip {
				if string(key) == s {
					return
				}
			}
		}
		p.flattenValue(prefix, key, v)
	})
}

func (p *Parser) flattenValue(prefix string, key []byte, v *fastjson.Value) {
	if len(key) == 0 {
		return // a field needs a name
	}
	switch v.Type() {
	case fastjson.TypeNull:
	case fastjson.TypeObject:
		o, _ := v.Object()
		p.flatten(p.names.joinDot(prefix, key), o)
	default:
		p.out.addSpan(p.names.joinBytes(prefix, key), p.putText(v))
	}
}
