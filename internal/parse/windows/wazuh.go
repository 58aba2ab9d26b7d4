package windows

import (
	"bytes"
	"fmt"

	"github.com/valyala/fastjson"
)

// wazuhSystem maps the Wazuh agent's win.system keys to header slots.
var wazuhSystem = map[string]int{
	"eventID":           hEventID,
	"version":           hVersion,
	"level":             hLevel,
	"task":              hTask,
	"opcode":            hOpcode,
	"keywords":          hKeywords,
	"systemTime":        hTime,
	"eventRecordID":     hRecordID,
	"processID":         hPID,
	"threadID":          hTID,
	"channel":           hChannel,
	"computer":          hComputer,
	"providerName":      hProvider,
	"providerGuid":      hProviderGUID,
	"securityUserID":    hUserID,
	"activityID":        hActivityID,
	"relatedActivityID": hRelatedActivityID,
}

// decodeWazuh reads the Wazuh agent's eventchannel JSON:
//
//	{"win":{"system":{"providerName":...,"eventID":"1",...},"eventdata":{"image":"C:\\\\Windows\\\\..."}}}
//
// Wazuh lower-cases the first letter of every name and escapes
// backslashes and quotes in event data values; both are undone for the
// native layer. The record's win.* fields are kept as they stand.
func (p *Parser) decodeWazuh(root *fastjson.Object) error {
	w := root.Get("win")
	sys := w.Get("system")
	so, _ := sys.Object()
	so.Visit(func(key []byte, v *fastjson.Value) {
		if v.Type() == fastjson.TypeNull || v.Type() == fastjson.TypeObject {
			return
		}
		if slot, ok := wazuhSystem[string(key)]; ok {
			p.raw.setHdr(slot, p.putText(v))
			return
		}
		switch string(key) {
		case "message":
			p.raw.setRend(rMessage, p.wazuhMessage(v))
		case "severityValue":
			if l := v.GetStringBytes(); levelNumbers[string(bytes.ToLower(l))] != "" {
				p.raw.setRend(rLevel, p.putText(v))
			}
		}
	})
	if ed := w.Get("eventdata"); ed != nil && ed.Type() == fastjson.TypeObject {
		eo, _ := ed.Object()
		eo.Visit(func(key []byte, v *fastjson.Value) {
			if v.Type() == fastjson.TypeNull || len(key) == 0 {
				return
			}
			name := p.put(key)
			if c := p.buf[name.off]; c >= 'a' && c <= 'z' && !isParam(key) {
				p.buf[name.off] = c - ('a' - 'A')
			}
			val := p.putText(v)
			if v.Type() == fastjson.TypeString {
				val = p.unescapeWazuh(val)
			}
			p.raw.data = append(p.raw.data, pair{name, val})
		})
	}
	if p.raw.hdrSet&(1<<hEventID) == 0 {
		return fmt.Errorf("%w: win.system has no eventID", ErrNotWindows)
	}
	p.flatten("", root)
	return nil
}

// isParam reports whether a name is Winlogbeat's and Wazuh's param<N>.
func isParam(name []byte) bool {
	return len(name) > 5 && string(name[:5]) == "param" && isDigits(name[5:])
}

// unescapeWazuh undoes the agent's escaping of a value in place: \\ and
// \" become \ and ".
func (p *Parser) unescapeWazuh(v span) span {
	b := p.buf[v.off:v.end]
	if bytes.IndexByte(b, '\\') < 0 {
		return v
	}
	w := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '\\' && i+1 < len(b) && (b[i+1] == '\\' || b[i+1] == '"') {
			i++
			c = b[i]
		}
		b[w] = c
		w++
	}
	return span{v.off, v.off + w}
}

// wazuhMessage copies the rendered message, which Wazuh wraps in quotes.
func (p *Parser) wazuhMessage(v *fastjson.Value) span {
	m := v.GetStringBytes()
	if len(m) >= 2 && m[0] == '"' && m[len(m)-1] == '"' {
		m = m[1 : len(m)-1]
	}
	return p.put(m)
}
