package windows

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
	"github.com/tarian-soc/tarian/internal/parse/sniff"
)

// Type is the log-source type name used in configuration and
// `tarian parse --type`.
const Type = "windows"

// Shape is the form a Windows event arrived in.
type Shape int

// The shapes Parse tells apart, record by record.
const (
	ShapeUnknown    Shape = iota
	ShapeEvtxJSON         // {"Event":{"System":{...},"EventData":{...}}} (evtx_dump, SigmaHQ's regression data)
	ShapeFlat             // {"EventID":4688,"Channel":"Security","Hostname":...} (NXLog, OTRF datasets)
	ShapeWinlogbeat       // {"winlog":{"event_id":...,"event_data":{...}}} (Winlogbeat, Elastic Agent)
	ShapeXML              // <Event xmlns=...><System>...</System><EventData>...</EventData></Event>
	ShapeWazuh            // {"win":{"system":{"eventID":...},"eventdata":{...}}} (the Wazuh agent)
)

var shapeNames = [...]string{"unknown", "evtx-json", "flat", "winlogbeat", "xml", "wazuh"}

func (s Shape) String() string {
	if int(s) < len(shapeNames) {
		return shapeNames[s]
	}
	return "unknown"
}

// Errors Parse returns (wrapped with detail).
var (
	ErrNotWindows = errors.New("windows: not a Windows event")
	ErrXML        = errors.New("windows XML")
)

// EvtxLead begins every evtx-style JSON event (evtx_dump, python-evtx,
// Velociraptor) and no record of another format.
const EvtxLead = `{"Event":{`

// SniffJSON reports whether a JSON object looks like a Windows event: an
// evtx-style Event with its System, a Winlogbeat winlog object, or flat
// EventID and Channel/SourceName keys. (Windows XML is SniffXML's.)
func SniffJSON(j *sniff.JSON) bool {
	return j.Has("Event") && j.Has("System") || j.Has("winlog") ||
		j.Has("win") && j.Has("eventID") ||
		j.Has("EventID") && (j.Has("Channel") || j.Has("SourceName"))
}

// SniffXML reports whether payload is a Windows XML event: an <Event>
// element, after an optional BOM, XML declaration and white space.
func SniffXML(payload []byte) bool {
	b := skipProlog(trimLeft(payload))
	return len(b) > 6 && string(b[:6]) == "<Event" && (b[6] == '>' || isSpace(b[6]))
}

// trimLeft drops a UTF-8 byte order mark and white space.
func trimLeft(b []byte) []byte {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	return b
}

// skipProlog drops an XML declaration, comments and white space before the
// root element, without checking them.
func skipProlog(b []byte) []byte {
	for {
		switch {
		case bytes.HasPrefix(b, []byte("<?")):
			i := bytes.Index(b, []byte("?>"))
			if i < 0 {
				return nil
			}
			b = b[i+2:]
		case bytes.HasPrefix(b, []byte("<!--")):
			i := bytes.Index(b[4:], []byte("-->"))
			if i < 0 {
				return nil
			}
			b = b[4+i+3:]
		default:
			return b
		}
		for len(b) > 0 && isSpace(b[0]) {
			b = b[1:]
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// Parser parses Windows events in any shape. The zero value is ready; it
// keeps buffers between calls and is not safe for concurrent use.
type Parser struct {
	js    fastjson.Parser
	buf   []byte // values (and built names) of the event being decoded
	raw   raw    // the decoded event as spans of buf
	r     rec    // the decoded event as strings
	x     xmlDecoder
	names nameCache
	// memo holds the winlog.event_data names of the last event of each id.
	memo map[string][]string
	out  out
	// scratch for the ECS layer
	related relatedLists
	tmp     []byte
	strs    []string
	// aliases: also write winlog.* names that repeat native values.
	aliases bool
}

// Parse reads one Windows event (evtx-style JSON, flat JSON, Winlogbeat
// JSON or Windows XML, detected per record) and appends its fields to
// dst.Fields: the record's own fields as they stand, the native Windows
// fields under the names Sigma rules use, winlog.* as Winlogbeat names
// them, and the Elastic Common Schema fields Elastic's Windows pipelines
// derive. It sets dst.Time from the event's time (Sysmon's UtcTime, else
// the System TimeCreated).
func (p *Parser) Parse(payload []byte, dst *event.Event) error {
	shape, err := p.decode(payload, dst)
	if err != nil {
		return err
	}
	p.resolve(shape)
	p.emit(dst)
	return nil
}

// ParseShape is Parse, and also reports the shape the payload had.
func (p *Parser) ParseShape(payload []byte, dst *event.Event) (Shape, error) {
	shape, err := p.decode(payload, dst)
	if err != nil {
		return shape, err
	}
	p.resolve(shape)
	p.emit(dst)
	return shape, nil
}

// decode reads payload into p.raw (and the record's unmapped fields into
// dst through p.out), telling the shape apart.
func (p *Parser) decode(payload []byte, dst *event.Event) (Shape, error) {
	b := trimLeft(payload)
	p.reset(dst)
	if len(b) == 0 {
		return ShapeUnknown, fmt.Errorf("%w: empty payload", ErrNotWindows)
	}
	if b[0] == '<' {
		if err := p.x.decode(p, b); err != nil {
			p.out.rollback()
			return ShapeXML, err
		}
		return ShapeXML, nil
	}
	if b[0] != '{' {
		return ShapeUnknown, fmt.Errorf("%w: neither a JSON object nor an XML <Event>", ErrNotWindows)
	}
	v, err := p.js.ParseBytes(b)
	if err != nil {
		return ShapeUnknown, fmt.Errorf("windows: invalid JSON: %v", err)
	}
	o, _ := v.Object()
	shape := jsonShape(o)
	switch shape {
	case ShapeEvtxJSON:
		err = p.decodeEvtx(o)
	case ShapeWinlogbeat:
		err = p.decodeWinlogbeat(o)
	case ShapeFlat:
		err = p.decodeFlat(o)
	case ShapeWazuh:
		err = p.decodeWazuh(o)
	default:
		// A JSON record carrying the XML rendering as its text (Fluent Bit's
		// winevtlog with Render_Event_As_XML, an HEC event, a relay's
		// {"message": ...}): the event is the XML, the record's other
		// fields are kept.
		if x := embeddedXML(o); x != nil {
			if err = p.x.decode(p, x); err == nil {
				p.flattenExcept(o, x)
				return ShapeXML, nil
			}
			break
		}
		err = fmt.Errorf("%w: a JSON object with neither Event.System, winlog, win.system, EventID nor an XML <Event> in message", ErrNotWindows)
	}
	if err != nil {
		p.out.rollback()
	}
	return shape, err
}

// embeddedXML returns the Windows XML a record carries as its message,
// or nil.
func embeddedXML(o *fastjson.Object) []byte {
	for _, k := range []string{"message", "Message", "log", "event", "xml", "Xml", "EventXML"} {
		v := o.Get(k)
		if v == nil || v.Type() != fastjson.TypeString {
			continue
		}
		if b := v.GetStringBytes(); SniffXML(b) {
			return b
		}
	}
	return nil
}

// flattenExcept keeps a record's fields as they stand, except the one
// holding the XML already parsed (it is the event, kept as
// event.original by the pipeline).
func (p *Parser) flattenExcept(o *fastjson.Object, x []byte) {
	o.Visit(func(key []byte, v *fastjson.Value) {
		if v.Type() == fastjson.TypeString && len(v.GetStringBytes()) == len(x) && &v.GetStringBytes()[0] == &x[0] {
			return
		}
		p.flattenValue("", key, v)
	})
}

// jsonShape tells the JSON shapes apart by their top-level keys.
func jsonShape(o *fastjson.Object) Shape {
	if ev := o.Get("Event"); ev != nil && ev.Type() == fastjson.TypeObject {
		if s := ev.Get("System"); s != nil && s.Type() == fastjson.TypeObject {
			return ShapeEvtxJSON
		}
	}
	if w := o.Get("winlog"); w != nil && w.Type() == fastjson.TypeObject {
		return ShapeWinlogbeat
	}
	if w := o.Get("win"); w != nil && w.Type() == fastjson.TypeObject {
		if s := w.Get("system"); s != nil && s.Type() == fastjson.TypeObject {
			return ShapeWazuh
		}
	}
	if o.Get("EventID") != nil || o.Get("EventId") != nil || o.Get("EventLog") != nil && o.Get("Source") != nil {
		return ShapeFlat // Sentinel's Event table has Source and EventLog
	}
	return ShapeUnknown
}

// reset readies the parser for an event appended to dst.
func (p *Parser) reset(dst *event.Event) {
	p.buf = p.buf[:0]
	p.names.restart()
	p.raw.reset()
	p.r.reset()
	p.out.reset(dst)
}

// eventTime is the event's own time: Sysmon's UtcTime, else the System
// TimeCreated, else a time the record holds beside the event (the
// shipper's: see timeRank; as the generic JSON path reads it, RFC 3339 or
// an epoch number), else a UtcTime of any channel.
func (r *rec) eventTime() (time.Time, bool) {
	if r.sysmon() {
		if t, ok := parseTime(r.get("UtcTime")); ok {
			return t, true
		}
	}
	if t, ok := parseTime(r.hdr[hTime]); ok {
		return t, true
	}
	if t, ok := parseTime(r.fallbackTime); ok {
		return t, true
	}
	if t, ok := ecs.ParseTime(r.fallbackTime); ok {
		return t, true
	}
	if !r.sysmon() {
		if t, ok := parseTime(r.get("UtcTime")); ok {
			return t, true
		}
	}
	return time.Time{}, false
}
