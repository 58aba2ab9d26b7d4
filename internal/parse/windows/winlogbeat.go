package windows

import (
	"fmt"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/parse/ecs"
)

// winlogKey maps Winlogbeat's winlog.* keys to a header slot, or (as
// rendered >= 0) to a rendered-name slot.
func winlogKey(k string) (header, rendered int) {
	switch k {
	case "event_id":
		return hEventID, -1
	case "version":
		return hVersion, -1
	case "time_created":
		return hTime, -1
	case "record_id":
		return hRecordID, -1
	case "activity_id":
		return hActivityID, -1
	case "related_activity_id":
		return hRelatedActivityID, -1
	case "channel":
		return hChannel, -1
	case "computer_name":
		return hComputer, -1
	case "provider_name":
		return hProvider, -1
	case "provider_guid":
		return hProviderGUID, -1
	case "event_source":
		return hEventSource, -1
	case "level":
		return -1, rLevel
	case "task":
		return -1, rTask
	case "opcode":
		return -1, rOpcode
	}
	return -1, -1
}

// decodeWinlogbeat reads a Winlogbeat / Elastic Agent document: the
// header in winlog.*, the event data in winlog.event_data (user data in
// winlog.user_data), and the XML rendering in event.original when the
// shipper keeps it. Every other field is kept as it stands.
func (p *Parser) decodeWinlogbeat(root *fastjson.Object) error {
	w, _ := root.Get("winlog").Object()
	w.Visit(func(key []byte, v *fastjson.Value) {
		if h, rd := winlogKey(string(key)); h >= 0 || rd >= 0 {
			switch {
			case v.Type() == fastjson.TypeNull:
			case h >= 0:
				p.raw.setHdr(h, p.putText(v))
			default:
				p.raw.setRend(rd, p.putText(v))
			}
			return
		}
		switch string(key) {
		case "keywords":
			if v.Type() == fastjson.TypeArray {
				p.raw.setRend(rKeywords, p.putText(v))
			} else if v.Type() == fastjson.TypeString {
				off := len(p.buf)
				p.buf = append(p.buf, '[')
				p.buf = ecs.AppendJSONString(p.buf, v.GetStringBytes())
				p.buf = append(p.buf, ']')
				p.raw.setRend(rKeywords, span{off, len(p.buf)})
			}
		case "process":
			if x := v.Get("pid"); x != nil && x.Type() != fastjson.TypeNull {
				p.raw.setHdr(hPID, p.putText(x))
			}
			if x := v.Get("thread", "id"); x != nil && x.Type() != fastjson.TypeNull {
				p.raw.setHdr(hTID, p.putText(x))
			}
		case "user":
			for _, f := range []struct {
				key  string
				slot int
			}{{"name", rUserName}, {"domain", rUserDomain}, {"type", rUserType}} {
				if x := v.Get(f.key); x != nil && x.Type() == fastjson.TypeString {
					p.raw.setRend(f.slot, p.putText(x))
				}
			}
			if x := v.Get("identifier"); x != nil && x.Type() == fastjson.TypeString {
				p.raw.setHdr(hUserID, p.putText(x))
			}
		case "event_data":
			if v.Type() != fastjson.TypeObject {
				return
			}
			eo, _ := v.Object()
			eo.Visit(func(dk []byte, dv *fastjson.Value) {
				if dv.Type() != fastjson.TypeNull && len(dk) > 0 {
					p.raw.data = append(p.raw.data, pair{p.put(dk), p.putText(dv)})
				}
			})
		case "user_data":
			if v.Type() != fastjson.TypeObject {
				return
			}
			uo, _ := v.Object()
			uo.Visit(func(uk []byte, uv *fastjson.Value) {
				if len(uk) == 0 {
					return
				}
				if string(uk) == "xml_name" {
					if uv.Type() == fastjson.TypeString {
						p.raw.userRoot, p.raw.hasRoot = p.putText(uv), true
					}
					return
				}
				p.userValue(p.put(uk), uv, false)
			})
		default:
			// winlog.api, winlog.outcome, ...: kept as they stand.
			p.flattenValue("winlog.", key, v)
		}
	})
	if p.raw.hdrSet&(1<<hEventID) == 0 && p.raw.hdrSet&(1<<hChannel) == 0 {
		return fmt.Errorf("%w: winlog has neither event_id nor channel", ErrNotWindows)
	}
	if x := root.Get("message"); x != nil && x.Type() == fastjson.TypeString {
		p.raw.setRend(rMessage, p.putText(x))
	}
	if x := root.Get("@timestamp"); x != nil && (x.Type() == fastjson.TypeString || x.Type() == fastjson.TypeNumber) {
		p.raw.setRend(rFallbackTime, p.putText(x))
	}
	if x := root.Get("host"); x != nil && x.Get("name") != nil || root.Get("host.name") != nil {
		p.raw.hostSet = true
	}
	p.flatten("", root, "winlog")
	// The XML rendering, when the shipper kept it: its span is shared with
	// the event.original field just flattened.
	for _, f := range p.out.spans {
		if p.out.ev.Fields[f.field].Name == "event.original" {
			if f.v.end > f.v.off && p.buf[f.v.off] == '<' {
				p.raw.setRend(rOriginal, f.v)
			}
			break
		}
	}
	return nil
}
