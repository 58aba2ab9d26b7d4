// Package windowstest converts Windows events between the shapes
// shippers send them in, so tests can feed the same event to Tarian as
// evtx-style JSON, Windows XML, a Winlogbeat document or a flat NXLog
// record, and check that nothing downstream (parsing, detection) depends
// on the shape. Only tests import it.
//
// Every converter reads an evtx-style JSON event (evtx_dump's
// {"Event":{"System":{...},"EventData":{...}}}, with attributes as
// "#attributes" objects or "<Element>_attributes" siblings) and is written
// independently of the windows parser, with encoding/json.
package windowstest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Event is an evtx-style event taken apart: what every shape carries.
type Event struct {
	// System holds the header elements in document order.
	System []Element
	// Data holds EventData: named values, and unnamed ones (Name "").
	Data []Data
	// HasEventData is set when the event has an EventData element.
	HasEventData bool
	// DataElement names the element holding Data: EventData, or
	// ProcessingErrorData when Windows could not render the event.
	DataElement string
	// UserData is the root element below UserData, or nil.
	UserData *Element
}

// Element is an XML element: attributes, and text or children.
type Element struct {
	Name     string
	Attrs    []Attr
	Text     string
	HasText  bool
	Children []Element
}

// Attr is an attribute.
type Attr struct{ Name, Value string }

// Data is one EventData value; Name is empty for unnamed Data, "Binary"
// with Binary set for the Binary element.
type Data struct {
	Name   string
	Value  string
	Binary bool
}

// Parse reads an evtx-style JSON event.
func Parse(evtx []byte) (*Event, error) {
	root, err := decode(evtx)
	if err != nil {
		return nil, err
	}
	ev := root.get("Event")
	if ev == nil || ev.kind != kObject {
		return nil, errors.New("windowstest: no Event object")
	}
	sys := ev.get("System")
	if sys == nil || sys.kind != kObject {
		return nil, errors.New("windowstest: no Event.System object")
	}
	out := &Event{System: elementsOf(sys), DataElement: "EventData"}
	for _, el := range []string{"EventData", "ProcessingErrorData"} {
		if ed := ev.get(el); ed != nil {
			out.HasEventData, out.DataElement = true, el
			out.Data = eventData(ed)
			break
		}
	}
	if ud := ev.get("UserData"); ud != nil && ud.kind == kObject {
		for _, m := range ud.obj {
			if strings.HasPrefix(m.key, "#") || strings.HasSuffix(m.key, "_attributes") {
				continue
			}
			el := element(m.key, m.val, ud)
			out.UserData = &el
			break
		}
	}
	return out, nil
}

// elementsOf turns an object's members into elements, joining
// "<Name>_attributes" siblings to their element.
func elementsOf(o *node) []Element {
	var out []Element
	for _, m := range o.obj {
		if strings.HasPrefix(m.key, "#") || strings.HasSuffix(m.key, "_attributes") {
			continue
		}
		out = append(out, element(m.key, m.val, o))
	}
	// Attributes whose element is absent (evtx_dump writes Provider_attributes
	// with no Provider key).
	for _, m := range o.obj {
		name, ok := strings.CutSuffix(m.key, "_attributes")
		if !ok || o.get(name) != nil || m.val.kind != kObject {
			continue
		}
		el := Element{Name: name}
		for _, a := range m.val.obj {
			el.Attrs = append(el.Attrs, Attr{a.key, a.val.text()})
		}
		out = append(out, el)
	}
	return out
}

// element converts one member; parent supplies "<name>_attributes".
func element(name string, v *node, parent *node) Element {
	el := Element{Name: name}
	if sep := parent.get(name + "_attributes"); sep != nil && sep.kind == kObject {
		for _, a := range sep.obj {
			el.Attrs = append(el.Attrs, Attr{a.key, a.val.text()})
		}
	}
	switch v.kind {
	case kNull:
		el.HasText = true
	case kObject:
		for _, m := range v.obj {
			switch {
			case m.key == "#attributes":
				for _, a := range m.val.obj {
					el.Attrs = append(el.Attrs, Attr{a.key, a.val.text()})
				}
			case m.key == "#text":
				el.Text, el.HasText = m.val.text(), m.val.kind != kNull
			case strings.HasSuffix(m.key, "_attributes"):
			case strings.HasPrefix(m.key, "xmlns"):
				// A namespace declaration some converters write as a key.
				el.Attrs = append(el.Attrs, Attr{m.key, m.val.text()})
			default:
				el.Children = append(el.Children, element(m.key, m.val, v))
			}
		}
	default:
		el.Text, el.HasText = v.text(), true
	}
	return el
}

// eventData reads EventData in evtx_dump's forms.
func eventData(ed *node) []Data {
	var out []Data
	var item func(v *node)
	item = func(v *node) {
		switch v.kind {
		case kArray:
			for _, x := range v.arr {
				item(x)
			}
		case kObject:
			if a := v.get("#attributes"); a != nil && a.get("Name") != nil {
				val := ""
				if t := v.get("#text"); t != nil {
					val = t.text()
				}
				out = append(out, Data{Name: a.get("Name").text(), Value: val})
				return
			}
			if n := v.get("Name"); n != nil && n.kind == kString && len(v.obj) <= 2 {
				val := ""
				if x := v.get("Value"); x != nil {
					val = x.text()
				} else if x := v.get("#text"); x != nil {
					val = x.text()
				}
				out = append(out, Data{Name: n.s, Value: val})
				return
			}
			if t := v.get("#text"); t != nil {
				item(t)
				return
			}
			out = append(out, Data{Value: v.text()})
		default:
			out = append(out, Data{Value: v.text()})
		}
	}
	switch ed.kind {
	case kNull:
		return nil
	case kObject:
	default:
		return []Data{{Value: ed.text()}}
	}
	for _, m := range ed.obj {
		switch m.key {
		case "Data", "#text":
			item(m.val)
		case "#attributes", "Data_attributes":
		case "Binary":
			if m.val.kind != kNull && m.val.text() != "" {
				out = append(out, Data{Name: "Binary", Value: m.val.text(), Binary: true})
			}
		default:
			out = append(out, Data{Name: m.key, Value: m.val.text()})
		}
	}
	return out
}

// sys returns a System element's text and attribute.
func (e *Event) sys(name, attr string) string {
	for _, el := range e.System {
		if el.Name != name {
			continue
		}
		if attr == "" {
			return el.Text
		}
		for _, a := range el.Attrs {
			if a.Name == attr {
				return a.Value
			}
		}
	}
	return ""
}

// ToXML renders an evtx-style JSON event as Windows renders events in XML.
func ToXML(evtx []byte) ([]byte, error) {
	ev, err := Parse(evtx)
	if err != nil {
		return nil, err
	}
	return ev.XML(), nil
}

// XML renders the event as Windows XML.
func (e *Event) XML() []byte {
	var b bytes.Buffer
	b.WriteString(`<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>`)
	for _, el := range e.System {
		writeElement(&b, el, false)
	}
	b.WriteString(`</System>`)
	if e.HasEventData {
		if len(e.Data) == 0 {
			b.WriteString(`<` + e.DataElement + `/>`)
		} else {
			b.WriteString(`<` + e.DataElement + `>`)
			for _, d := range e.Data {
				switch {
				case d.Binary || e.DataElement != "EventData" && d.Name != "":
					// <Binary>, and ProcessingErrorData's named children.
					b.WriteString(`<` + d.Name + `>`)
					b.WriteString(escape(d.Value, false))
					b.WriteString(`</` + d.Name + `>`)
				case d.Name == "":
					b.WriteString(`<Data>`)
					b.WriteString(escape(d.Value, false))
					b.WriteString(`</Data>`)
				default:
					b.WriteString(`<Data Name='`)
					b.WriteString(escape(d.Name, true))
					b.WriteString(`'>`)
					b.WriteString(escape(d.Value, false))
					b.WriteString(`</Data>`)
				}
			}
			b.WriteString(`</` + e.DataElement + `>`)
		}
	}
	if e.UserData != nil {
		b.WriteString(`<UserData>`)
		writeElement(&b, *e.UserData, true)
		b.WriteString(`</UserData>`)
	}
	b.WriteString(`</Event>`)
	return b.Bytes()
}

// repeated matches evtx_dump's names for repeated elements: Header_1.
var repeated = regexp.MustCompile(`^(.+)_([0-9]+)$`)

func writeElement(b *bytes.Buffer, el Element, user bool) {
	b.WriteByte('<')
	b.WriteString(el.Name)
	for _, a := range el.Attrs {
		fmt.Fprintf(b, " %s='%s'", a.Name, escape(a.Value, true))
	}
	if !el.HasText && len(el.Children) == 0 {
		b.WriteString("/>")
		return
	}
	b.WriteByte('>')
	b.WriteString(escape(el.Text, false))
	names := map[string]bool{}
	for _, c := range el.Children {
		names[c.Name] = true
	}
	for _, c := range el.Children {
		if m := repeated.FindStringSubmatch(c.Name); user && m != nil && names[m[1]] {
			c.Name = m[1] // evtx_dump's Header_1 is the second <Header>
		}
		writeElement(b, c, user)
	}
	b.WriteString("</")
	b.WriteString(el.Name)
	b.WriteByte('>')
}

func escape(s string, attr bool) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	if attr {
		r = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&apos;", `"`, "&quot;")
	}
	return r.Replace(s)
}

// userData flattens UserData below its root as the parser names it:
// children joined with '.', attributes with '_', repeated elements keep
// evtx_dump's _1, _2 suffixes.
func userData(el *Element) [][2]string {
	var out [][2]string
	var walk func(prefix string, e Element)
	walk = func(prefix string, e Element) {
		for _, a := range e.Attrs {
			if strings.HasPrefix(a.Name, "xmlns") {
				continue
			}
			out = append(out, [2]string{prefix + "_" + a.Name, a.Value})
		}
		if len(e.Children) == 0 {
			if e.HasText && (e.Text != "" || len(e.Attrs) == 0) {
				out = append(out, [2]string{prefix, e.Text})
			}
			return
		}
		for _, c := range e.Children {
			walk(prefix+"."+c.Name, c)
		}
	}
	for _, c := range el.Children {
		walk(c.Name, c)
	}
	return out
}

// paramName is Winlogbeat's name of the i'th (0-based) unnamed Data.
func paramName(i int) string { return "param" + strconv.Itoa(i+1) }

// levelNames are Winlogbeat's rendered levels.
var levelNames = map[string]string{"0": "information", "1": "critical", "2": "error", "3": "warning", "4": "information", "5": "verbose"}

// ToWinlogbeat renders an evtx-style JSON event as Elastic Agent's winlog
// input sends it (winlog.*, event.code/kind/provider, log.level), with the
// XML rendering in event.original as the integration's
// preserve_original_event option keeps it.
func ToWinlogbeat(evtx []byte) ([]byte, error) {
	return toWinlogbeat(evtx, true)
}

// ToWinlogbeatBare is ToWinlogbeat without event.original: the level,
// task, opcode and keywords numbers then exist only as Winlogbeat's
// rendered names.
func ToWinlogbeatBare(evtx []byte) ([]byte, error) {
	return toWinlogbeat(evtx, false)
}

func toWinlogbeat(evtx []byte, original bool) ([]byte, error) {
	ev, err := Parse(evtx)
	if err != nil {
		return nil, err
	}
	w := obj{}
	add := func(k, v string) {
		if v != "" {
			w.set(k, v)
		}
	}
	num := func(k, v string) {
		if v == "" {
			return
		}
		if _, err := strconv.ParseInt(v, 10, 64); err == nil {
			w.set(k, json.Number(v))
		} else {
			w.set(k, v)
		}
	}
	add("channel", ev.sys("Channel", ""))
	add("event_id", ev.sys("EventID", ""))
	add("provider_name", ev.sys("Provider", "Name"))
	add("provider_guid", ev.sys("Provider", "Guid"))
	add("event_source", ev.sys("Provider", "EventSourceName"))
	add("computer_name", ev.sys("Computer", ""))
	num("record_id", ev.sys("EventRecordID", ""))
	num("version", ev.sys("Version", ""))
	add("level", levelNames[ev.sys("Level", "")])
	if op := ev.sys("Opcode", ""); op == "0" {
		add("opcode", "Info")
	}
	switch k := ev.sys("Keywords", ""); {
	case k == "":
	case strings.HasPrefix(k, "0x8020"):
		w.set("keywords", []any{"Audit Success"})
	case strings.HasPrefix(k, "0x8010"):
		w.set("keywords", []any{"Audit Failure"})
	}
	add("time_created", ev.sys("TimeCreated", "SystemTime"))
	add("activity_id", ev.sys("Correlation", "ActivityID"))
	add("related_activity_id", ev.sys("Correlation", "RelatedActivityID"))
	proc := obj{}
	if pid := ev.sys("Execution", "ProcessID"); pid != "" {
		proc.set("pid", json.Number(pid))
	}
	if tid := ev.sys("Execution", "ThreadID"); tid != "" {
		proc.set("thread", obj{{"id", json.Number(tid)}})
	}
	if len(proc) > 0 {
		w.set("process", proc)
	}
	if uid := ev.sys("Security", "UserID"); uid != "" {
		w.set("user", obj{{"identifier", uid}})
	}
	data := obj{}
	unnamed := 0
	for _, d := range ev.Data {
		if d.Name == "" {
			data.set(paramName(unnamed), d.Value)
			unnamed++
			continue
		}
		data.set(d.Name, d.Value)
	}
	if len(data) > 0 {
		w.set("event_data", data)
	}
	if ev.UserData != nil {
		ud := obj{{"xml_name", ev.UserData.Name}}
		for _, kv := range userData(ev.UserData) {
			ud.set(kv[0], kv[1])
		}
		w.set("user_data", ud)
	}
	evf := obj{{"kind", "event"}}
	if id := ev.sys("EventID", ""); id != "" {
		evf.set("code", id)
	}
	if p := ev.sys("Provider", "Name"); p != "" {
		evf.set("provider", p)
	}
	if original {
		evf.set("original", string(ev.XML()))
	}
	doc := obj{}
	if t := ev.sys("TimeCreated", "SystemTime"); t != "" {
		doc.set("@timestamp", t)
	}
	doc.set("agent", obj{{"type", "filebeat"}, {"name", "windowstest"}})
	doc.set("ecs", obj{{"version", "8.0.0"}})
	doc.set("event", evf)
	if l := levelNames[ev.sys("Level", "")]; l != "" {
		doc.set("log", obj{{"level", l}})
	}
	doc.set("winlog", w)
	return marshal(doc)
}

// FlatReserved are the keys a flat (NXLog im_msvistalog) record uses for
// its header and metadata: an EventData value under one of these names
// cannot be told from the header in that shape, so ToFlat leaves it out.
var FlatReserved = map[string]bool{
	"EventID": true, "SourceName": true, "ProviderGuid": true, "Hostname": true, "Channel": true,
	"Level": true, "Task": true, "OpcodeValue": true, "Opcode": true, "Keywords": true, "Version": true,
	"RecordNumber": true, "ExecutionProcessID": true, "ThreadID": true, "UserID": true, "TimeCreated": true,
	"ActivityID": true, "RelatedActivityID": true, "Qualifiers": true, "EventSourceName": true,
	"Message": true, "Category": true, "AccountName": true, "Domain": true, "AccountType": true,
	"@timestamp": true, "EventTime": true, "EventReceivedTime": true, "SourceModuleName": true,
	"SourceModuleType": true, "Severity": true, "SeverityValue": true, "EventTypeOrignal": true,
	"@version": true, "host": true, "port": true, "tags": true, "type": true, "TenantId": true,
	"TimeGenerated": true, "Computer": true, "ComputerName": true,
	"Provider_Name": true, "Provider_Guid": true, "EventRecordID": true, "EventRecordId": true,
	"ExecutionThreadID": true, "EventId": true,
}

// ToFlat renders an evtx-style JSON event as NXLog's im_msvistalog module
// ships it (the OTRF datasets' form): header keys SourceName, Hostname,
// RecordNumber, ExecutionProcessID, ThreadID, UserID, OpcodeValue,
// Keywords as a signed decimal, the System time as TimeCreated, every
// EventData and UserData value at the top level (unnamed Data as param1,
// param2 ...; names in FlatReserved left out).
func ToFlat(evtx []byte) ([]byte, error) {
	ev, err := Parse(evtx)
	if err != nil {
		return nil, err
	}
	doc := obj{}
	str := func(k, v string) {
		if v != "" {
			doc.set(k, v)
		}
	}
	num := func(k, v string) {
		if v == "" {
			return
		}
		if _, err := strconv.ParseInt(v, 10, 64); err == nil {
			doc.set(k, json.Number(v))
		} else {
			doc.set(k, v)
		}
	}
	num("EventID", ev.sys("EventID", ""))
	str("Qualifiers", ev.sys("EventID", "Qualifiers"))
	str("SourceName", ev.sys("Provider", "Name"))
	str("ProviderGuid", ev.sys("Provider", "Guid"))
	str("EventSourceName", ev.sys("Provider", "EventSourceName"))
	str("Hostname", ev.sys("Computer", ""))
	str("Channel", ev.sys("Channel", ""))
	num("Version", ev.sys("Version", ""))
	num("Level", ev.sys("Level", ""))
	num("Task", ev.sys("Task", ""))
	num("OpcodeValue", ev.sys("Opcode", ""))
	if k := ev.sys("Keywords", ""); k != "" {
		if u, err := strconv.ParseUint(strings.TrimPrefix(k, "0x"), 16, 64); err == nil && strings.HasPrefix(k, "0x") {
			doc.set("Keywords", json.Number(strconv.FormatInt(int64(u), 10)))
		} else {
			doc.set("Keywords", k)
		}
	}
	str("TimeCreated", ev.sys("TimeCreated", "SystemTime"))
	num("RecordNumber", ev.sys("EventRecordID", ""))
	str("ActivityID", ev.sys("Correlation", "ActivityID"))
	str("RelatedActivityID", ev.sys("Correlation", "RelatedActivityID"))
	num("ExecutionProcessID", ev.sys("Execution", "ProcessID"))
	num("ThreadID", ev.sys("Execution", "ThreadID"))
	str("UserID", ev.sys("Security", "UserID"))
	doc.set("SourceModuleName", "eventlog")
	doc.set("SourceModuleType", "im_msvistalog")
	unnamed := 0
	for _, d := range ev.Data {
		name := d.Name
		if name == "" {
			name = paramName(unnamed)
			unnamed++
		}
		if !FlatReserved[name] && !doc.has(name) {
			doc.set(name, d.Value)
		}
	}
	if ev.UserData != nil {
		for _, kv := range userData(ev.UserData) {
			if !FlatReserved[kv[0]] && !doc.has(kv[0]) {
				doc.set(kv[0], kv[1])
			}
		}
	}
	return marshal(doc)
}

// marshal encodes v without escaping <, > and & (as shippers write JSON).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// obj is a JSON object that keeps its keys in order.
type obj []member

type member struct {
	k string
	v any
}

func (o *obj) set(k string, v any) {
	for i := range *o {
		if (*o)[i].k == k {
			(*o)[i].v = v
			return
		}
	}
	*o = append(*o, member{k, v})
}

func (o obj) has(k string) bool {
	for _, m := range o {
		if m.k == k {
			return true
		}
	}
	return false
}

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(m.k)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		// Beats do not escape <, > and & as encoding/json does by default.
		var v bytes.Buffer
		enc := json.NewEncoder(&v)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m.v); err != nil {
			return nil, err
		}
		b.Write(bytes.TrimSuffix(v.Bytes(), []byte("\n")))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
