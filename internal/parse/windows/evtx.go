package windows

import (
	"bytes"
	"fmt"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/parse/ecs"
)

// decodeEvtx reads the evtx-style JSON shape (evtx_dump, python-evtx
// conversions, SigmaHQ's regression data):
//
//	{"Event":{"System":{"Provider":{"#attributes":{"Name":"..."}},"EventID":1,...},
//	          "EventData":{"Image":"...", ...}}}
//
// System attributes come as "#attributes" objects or as "<Name>_attributes"
// siblings; EventData as named keys, or Data as text, arrays of text, or
// {"#attributes":{"Name":...},"#text":...} and {"Name":...,"Value":...}
// items; UserData as one element whose children are flattened. Keys
// beside Event are the record's own fields and are kept as they stand.
func (p *Parser) decodeEvtx(root *fastjson.Object) error {
	ev := root.Get("Event")
	o, _ := ev.Object()
	var err error
	o.Visit(func(key []byte, v *fastjson.Value) {
		if err != nil {
			return
		}
		switch string(key) {
		case "System":
			so, _ := v.Object()
			p.evtxSystem(so)
		case "EventData", "ProcessingErrorData", "DebugData":
			p.evtxEventData(v)
		case "UserData":
			if v.Type() == fastjson.TypeObject {
				uo, _ := v.Object()
				p.evtxUserData(uo)
			}
		case "RenderingInfo":
			if v.Type() == fastjson.TypeObject {
				ro, _ := v.Object()
				p.evtxRendering(ro)
			}
		}
	})
	if err != nil {
		return err
	}
	if p.raw.hdrSet == 0 && len(p.raw.sys) == 0 {
		return fmt.Errorf("%w: Event.System is empty", ErrNotWindows)
	}
	p.flatten("", root, "Event", "Event_attributes")
	return nil
}

// evtxSystem reads Event.System into native names: an element's text
// under its name, its attributes as <element>_<attribute>.
func (p *Parser) evtxSystem(o *fastjson.Object) {
	o.Visit(func(key []byte, v *fastjson.Value) {
		if len(key) == 0 {
			return
		}
		if el, ok := bytes.CutSuffix(key, []byte("_attributes")); ok && v.Type() == fastjson.TypeObject {
			ao, _ := v.Object()
			p.evtxAttrs(el, ao)
			return
		}
		switch v.Type() {
		case fastjson.TypeNull:
		case fastjson.TypeObject:
			eo, _ := v.Object()
			eo.Visit(func(k []byte, x *fastjson.Value) {
				switch string(k) {
				case "#attributes":
					if x.Type() == fastjson.TypeObject {
						ao, _ := x.Object()
						p.evtxAttrs(key, ao)
					}
				case "#text":
					if x.Type() != fastjson.TypeNull {
						p.raw.sys = append(p.raw.sys, pair{p.put(key), p.putText(x)})
					}
				}
			})
		default:
			p.raw.sys = append(p.raw.sys, pair{p.put(key), p.putText(v)})
		}
	})
}

// evtxAttrs adds an element's attributes as <element>_<attribute>; empty
// ones (python-evtx writes absent attributes as "") are left out.
func (p *Parser) evtxAttrs(el []byte, ao *fastjson.Object) {
	ao.Visit(func(k []byte, x *fastjson.Value) {
		if len(k) == 0 || x.Type() == fastjson.TypeNull || x.Type() == fastjson.TypeString && len(x.GetStringBytes()) == 0 {
			return
		}
		name := p.put(el)
		name = p.putJoin(name, '_', k)
		p.raw.sys = append(p.raw.sys, pair{name, p.putText(x)})
	})
}

// evtxEventData reads EventData: named values, and Data in its forms.
func (p *Parser) evtxEventData(v *fastjson.Value) {
	switch v.Type() {
	case fastjson.TypeNull:
		return
	case fastjson.TypeObject:
	default:
		p.raw.list = append(p.raw.list, p.putText(v))
		return
	}
	o, _ := v.Object()
	o.Visit(func(key []byte, x *fastjson.Value) {
		switch string(key) {
		case "Data":
			p.evtxData(x, true)
		case "#text":
			p.evtxData(x, false)
		case "#attributes", "Data_attributes":
		case "":
			p.raw.list = append(p.raw.list, p.putText(x)) // a nameless value is unnamed Data
		case "Binary":
			if x.Type() != fastjson.TypeNull && !(x.Type() == fastjson.TypeString && len(x.GetStringBytes()) == 0) {
				p.raw.data = append(p.raw.data, pair{p.put(key), p.putText(x)})
			}
		default:
			p.raw.data = append(p.raw.data, pair{p.put(key), p.putText(x)})
		}
	})
}

// evtxData reads a Data value: text (unnamed), an array of items, or an
// item object. top allows one level of arrays.
func (p *Parser) evtxData(v *fastjson.Value, top bool) {
	switch v.Type() {
	case fastjson.TypeArray:
		a, _ := v.Array()
		for _, el := range a {
			if el.Type() == fastjson.TypeArray && !top {
				p.raw.list = append(p.raw.list, p.putText(el))
				continue
			}
			p.evtxData(el, false)
		}
	case fastjson.TypeObject:
		p.evtxDataItem(v)
	default:
		p.raw.list = append(p.raw.list, p.putText(v))
	}
}

// evtxDataItem reads one Data element written as an object.
func (p *Parser) evtxDataItem(v *fastjson.Value) {
	if a := v.Get("#attributes"); a != nil {
		if n := a.Get("Name"); n != nil && n.Type() == fastjson.TypeString && len(n.GetStringBytes()) > 0 {
			val := span{len(p.buf), len(p.buf)}
			if t := v.Get("#text"); t != nil {
				val = p.putText(t)
			}
			p.raw.data = append(p.raw.data, pair{p.put(n.GetStringBytes()), val})
			return
		}
	}
	if n := v.Get("Name"); n != nil && n.Type() == fastjson.TypeString && len(n.GetStringBytes()) > 0 {
		o, _ := v.Object()
		if o.Len() <= 2 {
			val := span{len(p.buf), len(p.buf)}
			if x := v.Get("Value"); x != nil {
				val = p.putText(x)
			} else if x := v.Get("#text"); x != nil {
				val = p.putText(x)
			}
			p.raw.data = append(p.raw.data, pair{p.put(n.GetStringBytes()), val})
			return
		}
	}
	if t := v.Get("#text"); t != nil {
		p.evtxData(t, false)
		return
	}
	p.raw.list = append(p.raw.list, p.putText(v))
}

// evtxUserData reads UserData: its root element's name, and every value
// below it under its path (children joined with '.', attributes with '_').
func (p *Parser) evtxUserData(o *fastjson.Object) {
	o.Visit(func(key []byte, v *fastjson.Value) {
		if len(key) == 0 || key[0] == '#' || bytes.HasSuffix(key, []byte("_attributes")) {
			return // the root's own attributes: namespace declarations
		}
		if !p.raw.hasRoot {
			p.raw.userRoot, p.raw.hasRoot = p.put(key), true
		}
		p.userValue(span{}, v, true)
	})
}

// userValue adds the values of a UserData element whose path is name.
func (p *Parser) userValue(name span, v *fastjson.Value, root bool) {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		o.Visit(func(k []byte, x *fastjson.Value) {
			switch {
			case len(k) == 0:
			case string(k) == "#attributes":
				if root || x.Type() != fastjson.TypeObject {
					return
				}
				ao, _ := x.Object()
				p.userAttrs(name, ao)
			case string(k) == "#text":
				if x.Type() != fastjson.TypeNull {
					p.raw.user = append(p.raw.user, pair{name, p.putText(x)})
				}
			case bytes.HasPrefix(k, []byte("xmlns")):
				// A namespace declaration written as a key.
			case bytes.HasSuffix(k, []byte("_attributes")):
				if x.Type() != fastjson.TypeObject {
					return
				}
				ao, _ := x.Object()
				p.userAttrs(p.putJoin(name, '.', k[:len(k)-len("_attributes")]), ao)
			default:
				p.userValue(p.putJoin(name, '.', k), x, false)
			}
		})
	default:
		if !root {
			p.raw.user = append(p.raw.user, pair{name, p.putText(v)})
		}
	}
}

func (p *Parser) userAttrs(el span, ao *fastjson.Object) {
	ao.Visit(func(k []byte, x *fastjson.Value) {
		if len(k) == 0 || bytes.HasPrefix(k, []byte("xmlns")) {
			return
		}
		p.raw.user = append(p.raw.user, pair{p.putJoin(el, '_', k), p.putText(x)})
	})
}

// evtxRendering reads RenderingInfo: the rendered message and names.
func (p *Parser) evtxRendering(o *fastjson.Object) {
	for _, f := range []struct {
		key  string
		slot int
	}{{"Message", rMessage}, {"Level", rLevel}, {"Task", rTask}, {"Opcode", rOpcode}} {
		if v := o.Get(f.key); v != nil && v.Type() != fastjson.TypeNull {
			p.raw.setRend(f.slot, p.putText(v))
		}
	}
	if k := o.Get("Keywords"); k != nil {
		if kw := k.Get("Keyword"); kw != nil {
			off := len(p.buf)
			p.buf = append(p.buf, '[')
			if kw.Type() == fastjson.TypeArray {
				a, _ := kw.Array()
				for i, x := range a {
					if i > 0 {
						p.buf = append(p.buf, ',')
					}
					p.buf = ecs.AppendJSONString(p.buf, x.GetStringBytes())
				}
			} else {
				p.buf = ecs.AppendJSONString(p.buf, kw.GetStringBytes())
			}
			p.buf = append(p.buf, ']')
			p.raw.setRend(rKeywords, span{off, len(p.buf)})
		}
	}
}
