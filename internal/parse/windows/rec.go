package windows

import (
	"strconv"
	"strings"

	"github.com/tarian-soc/tarian/internal/event"
)

// Header slots: the System fields every shape carries in some form. Their
// native names are the ones Sigma rules and internal/detect's mapping use
// for evtx events (Provider.Name → Provider_Name, ...).
const (
	hEventID = iota
	hQualifiers
	hVersion
	hLevel
	hTask
	hOpcode
	hKeywords
	hTime
	hRecordID
	hActivityID
	hRelatedActivityID
	hPID
	hTID
	hChannel
	hComputer
	hUserID
	hProvider
	hProviderGUID
	hEventSource
	nHdr
)

// hdrNames are the native names of the header slots.
var hdrNames = [nHdr]string{
	hEventID:           "EventID",
	hQualifiers:        "EventID_Qualifiers",
	hVersion:           "Version",
	hLevel:             "Level",
	hTask:              "Task",
	hOpcode:            "Opcode",
	hKeywords:          "Keywords",
	hTime:              "TimeCreated_SystemTime",
	hRecordID:          "EventRecordID",
	hActivityID:        "Correlation_ActivityID",
	hRelatedActivityID: "Correlation_RelatedActivityID",
	hPID:               "Execution_ProcessID",
	hTID:               "Execution_ThreadID",
	hChannel:           "Channel",
	hComputer:          "Computer",
	hUserID:            "Security_UserID",
	hProvider:          "Provider_Name",
	hProviderGUID:      "Provider_Guid",
	hEventSource:       "Provider_EventSourceName",
}

// hdrSlot returns the slot of a native System name, or -1.
func hdrSlot(name string) int {
	switch name {
	case "EventID":
		return hEventID
	case "EventID_Qualifiers":
		return hQualifiers
	case "Version":
		return hVersion
	case "Level":
		return hLevel
	case "Task":
		return hTask
	case "Opcode":
		return hOpcode
	case "Keywords":
		return hKeywords
	case "TimeCreated_SystemTime":
		return hTime
	case "EventRecordID":
		return hRecordID
	case "Correlation_ActivityID":
		return hActivityID
	case "Correlation_RelatedActivityID":
		return hRelatedActivityID
	case "Execution_ProcessID":
		return hPID
	case "Execution_ThreadID":
		return hTID
	case "Channel":
		return hChannel
	case "Computer":
		return hComputer
	case "Security_UserID":
		return hUserID
	case "Provider_Name":
		return hProvider
	case "Provider_Guid":
		return hProviderGUID
	case "Provider_EventSourceName":
		return hEventSource
	}
	return -1
}

// Rendered slots: text a shipper rendered from the provider's metadata
// (Winlogbeat's winlog.level/task/opcode/keywords, RenderingInfo, NXLog's
// Category), and other values some shapes carry.
const (
	rLevel = iota
	rTask
	rOpcode
	rKeywords // a JSON array of keyword names
	rMessage
	rUserName
	rUserDomain
	rUserType
	rFallbackTime // a shipper's own time when the event has no TimeCreated
	rOriginal     // the XML rendering a Winlogbeat record carries in event.original
	nRend
)

// span is a value in Parser.buf.
type span struct{ off, end int }

// pair is a named value in Parser.buf.
type pair struct{ name, value span }

// raw is a decoded event as spans of the parser's buffer, before the one
// conversion to a string.
type raw struct {
	hdr      [nHdr]span
	hdrSet   uint32
	verbatim uint32 // flat shape: header slots the record holds under their native name, unchanged
	sys      []pair // System fields under native names (evtx, XML), slotted on resolve
	rend     [nRend]span
	rendSet  uint32
	data     []pair // named EventData
	list     []span // unnamed EventData Data
	user     []pair // UserData below its root element
	userRoot span
	hasRoot  bool
	hostSet  bool // the record holds host.name itself
}

func (r *raw) reset() {
	r.hdrSet, r.rendSet, r.verbatim = 0, 0, 0
	r.sys = r.sys[:0]
	r.data = r.data[:0]
	r.list = r.list[:0]
	r.user = r.user[:0]
	r.hasRoot, r.hostSet = false, false
}

func (r *raw) setHdr(slot int, v span) {
	r.hdr[slot] = v
	r.hdrSet |= 1 << slot
}

func (r *raw) setRend(slot int, v span) {
	r.rend[slot] = v
	r.rendSet |= 1 << slot
}

// kv is a named value.
type kv struct{ name, value string }

// rec is a decoded event as strings, whatever its shape: what the layers
// are built from.
type rec struct {
	shape    Shape
	hdr      [nHdr]string
	verbatim uint32
	sysExtra []kv // other System attributes (Execution_ProcessorID, ...)
	rend     [nRend]string
	data     []kv
	list     []string
	user     []kv
	userRoot string
	hostSet  bool

	fallbackTime string
	kind         channelKind
}

func (r *rec) reset() {
	*r = rec{sysExtra: r.sysExtra[:0], data: r.data[:0], list: r.list[:0], user: r.user[:0]}
}

// get returns the EventData (or, failing that, UserData) value called
// name, or "".
func (r *rec) get(name string) string {
	for i := range r.data {
		if r.data[i].name == name {
			return r.data[i].value
		}
	}
	for i := range r.user {
		if r.user[i].name == name {
			return r.user[i].value
		}
	}
	return ""
}

// lookup is get that also reports whether the name is there.
func (r *rec) lookup(name string) (string, bool) {
	for i := range r.data {
		if r.data[i].name == name {
			return r.data[i].value, true
		}
	}
	for i := range r.user {
		if r.user[i].name == name {
			return r.user[i].value, true
		}
	}
	return "", false
}

// channelKind is which of Elastic's pipelines an event goes through.
type channelKind int

const (
	kindOther channelKind = iota
	kindSysmon
	kindSecurity
	kindPowerShell        // Microsoft-Windows-PowerShell/Operational, PowerShellCore/Operational
	kindPowerShellClassic // Windows PowerShell
	kindSystem
	kindApplication
)

func (r *rec) sysmon() bool { return r.kind == kindSysmon }

// classify sets r.kind from the channel and provider.
func (r *rec) classify() {
	ch, prov := r.hdr[hChannel], r.hdr[hProvider]
	switch {
	case strings.EqualFold(ch, "Microsoft-Windows-Sysmon/Operational") || prov == "Microsoft-Windows-Sysmon":
		r.kind = kindSysmon
	case strings.EqualFold(ch, "Security"):
		r.kind = kindSecurity
	case strings.EqualFold(ch, "Microsoft-Windows-PowerShell/Operational") || strings.EqualFold(ch, "PowerShellCore/Operational"):
		r.kind = kindPowerShell
	case strings.EqualFold(ch, "Windows PowerShell"):
		r.kind = kindPowerShellClassic
	case strings.EqualFold(ch, "System"):
		r.kind = kindSystem
	case strings.EqualFold(ch, "Application"):
		r.kind = kindApplication
	}
}

// resolve turns p.raw into p.r: the buffer becomes one string, every span
// a substring of it, and the record's own fields already in dst get their
// values.
func (p *Parser) resolve(shape Shape) {
	s := string(p.buf)
	p.out.resolve(s)
	at := func(sp span) string { return s[sp.off:sp.end] }
	r, w := &p.r, &p.raw
	r.shape = shape
	r.verbatim = w.verbatim
	r.hostSet = w.hostSet
	for i := 0; i < nHdr; i++ {
		if w.hdrSet&(1<<i) != 0 {
			r.hdr[i] = at(w.hdr[i])
		}
	}
	for _, kvp := range w.sys {
		name, value := at(kvp.name), at(kvp.value)
		if slot := hdrSlot(name); slot >= 0 {
			r.hdr[slot] = value
			continue
		}
		r.sysExtra = append(r.sysExtra, kv{name, value})
	}
	for i := 0; i < nRend; i++ {
		if w.rendSet&(1<<i) != 0 {
			r.rend[i] = at(w.rend[i])
		}
	}
	for _, kvp := range w.data {
		r.data = append(r.data, kv{at(kvp.name), at(kvp.value)})
	}
	for _, v := range w.list {
		r.list = append(r.list, at(v))
	}
	for _, kvp := range w.user {
		r.user = append(r.user, kv{at(kvp.name), at(kvp.value)})
	}
	if w.hasRoot {
		r.userRoot = at(w.userRoot)
	}
	if shape == ShapeWinlogbeat && r.rend[rOriginal] != "" {
		r.fillFromXML(r.rend[rOriginal])
	}
	r.normalizeHeader()
	r.fallbackTime = r.rend[rFallbackTime]
	r.classify()
}

// normalizeHeader fills header slots a shape carries only as rendered
// names (Winlogbeat's level, keywords) and brings numbers to the form
// evtx uses (Keywords in hex).
func (r *rec) normalizeHeader() {
	if r.hdr[hLevel] == "" && r.rend[rLevel] != "" {
		if n, ok := levelNumbers[strings.ToLower(r.rend[rLevel])]; ok {
			r.hdr[hLevel] = n
		}
	}
	if k := r.hdr[hKeywords]; k != "" && !strings.HasPrefix(k, "0x") && !strings.HasPrefix(k, "0X") {
		// NXLog writes the keywords mask as a signed decimal.
		if n, err := strconv.ParseInt(k, 10, 64); err == nil {
			r.hdr[hKeywords] = "0x" + strconv.FormatUint(uint64(n), 16)
			r.verbatim &^= 1 << hKeywords
		} else if u, err := strconv.ParseUint(k, 10, 64); err == nil {
			r.hdr[hKeywords] = "0x" + strconv.FormatUint(u, 16)
			r.verbatim &^= 1 << hKeywords
		}
	}
	if r.hdr[hKeywords] == "" && r.rend[rKeywords] != "" {
		r.hdr[hKeywords] = keywordsMask(r.rend[rKeywords], r.hdr[hChannel])
	}
}

// fillFromXML takes the numeric header fields that Winlogbeat renders as
// names (level, task, opcode, keywords, the event id's qualifiers) from
// the XML rendering the record carries, in one pass over <System>.
func (r *rec) fillFromXML(x string) {
	const wanted = 1<<hLevel | 1<<hTask | 1<<hOpcode | 1<<hKeywords | 1<<hVersion
	have := 0
	for _, slot := range []int{hLevel, hTask, hOpcode, hKeywords, hVersion} {
		if r.hdr[slot] != "" {
			have |= 1 << slot
		}
	}
	for i := 0; i < len(x) && have != wanted; {
		j := strings.IndexByte(x[i:], '<')
		if j < 0 {
			return
		}
		i += j + 1
		end := i
		for end < len(x) && x[end] != '>' && x[end] != ' ' && x[end] != '/' {
			end++
		}
		if end >= len(x) {
			return
		}
		slot := -1
		switch x[i:end] {
		case "/System":
			return
		case "Level":
			slot = hLevel
		case "Task":
			slot = hTask
		case "Opcode":
			slot = hOpcode
		case "Keywords":
			slot = hKeywords
		case "Version":
			slot = hVersion
		case "EventID":
			if x[end] == ' ' && r.hdr[hQualifiers] == "" {
				if v, ok := xmlAttr(x[i-1:], "Qualifiers"); ok && v != "" {
					r.hdr[hQualifiers] = v
				}
			}
		}
		if slot < 0 || r.hdr[slot] != "" || x[end] != '>' {
			i = end
			continue
		}
		k := strings.IndexByte(x[end+1:], '<')
		if k < 0 {
			return
		}
		if v := x[end+1 : end+1+k]; strings.IndexByte(v, '&') < 0 {
			r.hdr[slot] = v
			have |= 1 << slot
		}
		i = end + 1 + k
	}
}

// xmlAttr returns the value of attribute name in the start tag at the
// head of x when it needs no unescaping.
func xmlAttr(x, name string) (string, bool) {
	gt := strings.IndexByte(x, '>')
	if gt < 0 {
		return "", false
	}
	tag := x[:gt]
	i := strings.Index(tag, " "+name+"=")
	if i < 0 || i+len(name)+3 > len(tag) {
		return "", false
	}
	rest := tag[i+len(name)+2:]
	q := rest[0]
	if q != '"' && q != '\'' {
		return "", false
	}
	j := strings.IndexByte(rest[1:], q)
	if j < 0 || strings.IndexByte(rest[1:1+j], '&') >= 0 {
		return "", false
	}
	return rest[1 : 1+j], true
}

// out appends fields to an event. Values decoded into the parser's buffer
// are resolved all at once, so they cost one allocation together.
type out struct {
	ev    *event.Event
	start int
	spans []fieldSpan
}

type fieldSpan struct {
	field int
	v     span
}

func (o *out) reset(ev *event.Event) {
	o.ev = ev
	o.start = len(ev.Fields)
	o.spans = o.spans[:0]
}

// rollback removes what this event appended.
func (o *out) rollback() {
	o.ev.Fields = o.ev.Fields[:o.start]
	o.spans = o.spans[:0]
}

// addSpan adds a field whose value is a span of the buffer.
func (o *out) addSpan(name string, v span) {
	o.spans = append(o.spans, fieldSpan{len(o.ev.Fields), v})
	o.ev.Fields = append(o.ev.Fields, event.Field{Name: name})
}

func (o *out) resolve(s string) {
	for _, f := range o.spans {
		o.ev.Fields[f.field].Value = s[f.v.off:f.v.end]
	}
	o.spans = o.spans[:0]
}

// has reports whether this event already has a field called name.
func (o *out) has(name string) bool {
	for _, f := range o.ev.Fields[o.start:] {
		if f.Name == name {
			return true
		}
	}
	return false
}

// add adds a field when its value is not empty.
func (o *out) add(name, value string) {
	if value != "" {
		o.ev.Fields = append(o.ev.Fields, event.Field{Name: name, Value: value})
	}
}

// nameCache interns built field names (prefix + key), so an event's names
// cost no allocation once seen. Records from one shipper have their keys
// in the same order, so joinBytes first tries the name it gave at the same
// position of the previous record.
type nameCache struct {
	m   map[string]string
	b   []byte
	seq []seqName
	pos int
}

type seqName struct{ prefix, full string }

// restart starts a record: joinBytes positions count from 0.
func (c *nameCache) restart() { c.pos = 0 }

// maxNames bounds the cache; it is cleared when full.
const maxNames = 8192

func (c *nameCache) joinBytes(prefix string, key []byte) string {
	if c.pos < len(c.seq) {
		if e := c.seq[c.pos]; e.prefix == prefix && len(e.full) == len(prefix)+len(key) && e.full[len(prefix):] == string(key) {
			c.pos++
			return e.full
		}
	}
	c.b = append(append(c.b[:0], prefix...), key...)
	full := c.intern()
	switch {
	case c.pos < len(c.seq):
		c.seq[c.pos] = seqName{prefix, full}
	case c.pos < 512:
		c.seq = append(c.seq, seqName{prefix, full})
	}
	c.pos++
	return full
}

// joinDot is joinBytes with a '.' after key: the prefix of key's children.
func (c *nameCache) joinDot(prefix string, key []byte) string {
	c.b = append(append(append(c.b[:0], prefix...), key...), '.')
	return c.intern()
}

func (c *nameCache) join(prefix, key string) string {
	c.b = append(append(c.b[:0], prefix...), key...)
	return c.intern()
}

func (c *nameCache) intern() string {
	if s, ok := c.m[string(c.b)]; ok {
		return s
	}
	if c.m == nil {
		c.m = make(map[string]string, 256)
	} else if len(c.m) >= maxNames {
		clear(c.m)
	}
	s := string(c.b)
	c.m[s] = s
	return s
}
