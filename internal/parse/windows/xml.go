package windows

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/tarian-soc/tarian/internal/parse/ecs"
)

// The Windows XML rendering of an event (wevtutil, Get-WinEvent's ToXml,
// Event Forwarding, Winlogbeat's event.original, python-evtx):
//
//	<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>
//	  <System><Provider Name='...' Guid='{...}'/><EventID>4688</EventID>...</System>
//	  <EventData><Data Name='NewProcessName'>C:\...</Data>...</EventData>
//	</Event>
//
// is read by a single-pass scanner rather than encoding/xml (several times
// faster, no allocation per element). It handles the five predefined and
// numeric character references, CDATA, comments, processing instructions,
// namespace prefixes, single or double quotes, self-closing elements,
// unnamed Data, UserData of any depth and RenderingInfo. DTDs are refused.

// xml element contexts.
const (
	xIgnore    = iota
	xEvent     // the root
	xSystem    // Event/System
	xSysElem   // a System child: text and attributes are native fields
	xEventData // Event/EventData (ProcessingErrorData, DebugData)
	xData      // an EventData child
	xUserData  // Event/UserData
	xUserElem  // below UserData; the first level is the root element
	xRendering // Event/RenderingInfo
	xRendElem
	xKeywords // RenderingInfo/Keywords
)

// maxXMLDepth bounds element nesting.
const maxXMLDepth = 64

type xmlFrame struct {
	qname    []byte // as written, to match the end tag
	local    []byte // without a namespace prefix
	ctx      int
	path     span // UserData: the element's field name; Data: its Name
	named    bool // Data: has a Name attribute
	attrs    bool // has attributes (other than namespace declarations)
	children bool
	textOff  int // the element's text starts here in the buffer
	textEnd  int
	root     bool // UserData: the root element
}

type sibling struct {
	depth int
	name  []byte
	count int
}

type xmlDecoder struct {
	p     *Parser
	b     []byte
	i     int
	stack []xmlFrame
	sibs  []sibling
	kw    []byte // the RenderingInfo keyword list being built (JSON)
	done  bool
}

func xmlErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrXML}, args...)...)
}

// decode reads one <Event> element into p.raw.
func (x *xmlDecoder) decode(p *Parser, b []byte) error {
	x.p, x.b, x.i = p, b, 0
	x.stack = x.stack[:0]
	x.sibs = x.sibs[:0]
	x.kw = x.kw[:0]
	x.done = false
	for x.i < len(x.b) {
		c := x.b[x.i]
		if c != '<' {
			j := bytes.IndexByte(x.b[x.i:], '<')
			if j < 0 {
				j = len(x.b) - x.i
			}
			if err := x.text(x.b[x.i : x.i+j]); err != nil {
				return err
			}
			x.i += j
			continue
		}
		rest := x.b[x.i:]
		var err error
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			j := bytes.Index(rest[4:], []byte("-->"))
			if j < 0 {
				return xmlErr("unterminated comment")
			}
			x.i += 4 + j + 3
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			j := bytes.Index(rest[9:], []byte("]]>"))
			if j < 0 {
				return xmlErr("unterminated CDATA section")
			}
			if len(x.stack) == 0 {
				return xmlErr("character data outside the root element")
			}
			x.rawText(rest[9 : 9+j])
			x.i += 9 + j + 3
		case bytes.HasPrefix(rest, []byte("<?")):
			j := bytes.Index(rest[2:], []byte("?>"))
			if j < 0 {
				return xmlErr("unterminated processing instruction")
			}
			x.i += 2 + j + 2
		case bytes.HasPrefix(rest, []byte("<!")):
			return xmlErr("DTDs and declarations are not supported")
		case bytes.HasPrefix(rest, []byte("</")):
			err = x.endTag()
		default:
			err = x.startTag()
		}
		if err != nil {
			return err
		}
	}
	if len(x.stack) > 0 {
		return xmlErr("unexpected end inside <%s>", x.stack[len(x.stack)-1].qname)
	}
	if !x.done {
		return xmlErr("no <Event> element")
	}
	if p.raw.hdrSet == 0 && len(p.raw.sys) == 0 {
		return xmlErr("<Event> has no <System>")
	}
	return nil
}

// decodeFragment reads the <EventData> element found in b (Microsoft
// Sentinel keeps one inside a <DataItem>) into p.raw's event data.
func (x *xmlDecoder) decodeFragment(p *Parser, b []byte) error {
	i := bytes.Index(b, []byte("<EventData"))
	j := bytes.LastIndex(b, []byte("</EventData>"))
	if i < 0 || j < i {
		return xmlErr("no <EventData> element")
	}
	x.p, x.b, x.i = p, b[i:j+len("</EventData>")], 0
	x.stack = append(x.stack[:0], xmlFrame{qname: []byte("Event"), local: []byte("Event"), ctx: xEvent})
	x.sibs = x.sibs[:0]
	x.kw = x.kw[:0]
	x.done = false
	for x.i < len(x.b) {
		if x.b[x.i] != '<' {
			j := bytes.IndexByte(x.b[x.i:], '<')
			if j < 0 {
				j = len(x.b) - x.i
			}
			if err := x.text(x.b[x.i : x.i+j]); err != nil {
				return err
			}
			x.i += j
			continue
		}
		var err error
		switch rest := x.b[x.i:]; {
		case bytes.HasPrefix(rest, []byte("</")):
			err = x.endTag()
		case bytes.HasPrefix(rest, []byte("<!")) || bytes.HasPrefix(rest, []byte("<?")):
			return xmlErr("markup in an EventData fragment")
		default:
			err = x.startTag()
		}
		if err != nil {
			return err
		}
		if len(x.stack) == 1 {
			return nil // EventData closed
		}
	}
	return xmlErr("unterminated EventData fragment")
}

// name reads an XML name at x.i.
func (x *xmlDecoder) name() []byte {
	start := x.i
	for x.i < len(x.b) {
		c := x.b[x.i]
		if isSpace(c) || c == '/' || c == '>' || c == '=' || c == '<' || c == '"' || c == '\'' {
			break
		}
		x.i++
	}
	return x.b[start:x.i]
}

func (x *xmlDecoder) skipSpace() {
	for x.i < len(x.b) && isSpace(x.b[x.i]) {
		x.i++
	}
}

func localName(q []byte) []byte {
	if i := bytes.LastIndexByte(q, ':'); i >= 0 {
		return q[i+1:]
	}
	return q
}

// startTag reads "<name attr='v' ...>" or ".../>".
func (x *xmlDecoder) startTag() error {
	x.i++ // '<'
	q := x.name()
	if len(q) == 0 {
		return xmlErr("malformed start tag at offset %d", x.i)
	}
	if x.done {
		return xmlErr("content after the <Event> element")
	}
	if len(x.stack) == 0 && string(localName(q)) != "Event" {
		return xmlErr("the root element is <%s>, not <Event> (SplitXML cuts a document of several events)", q)
	}
	if len(x.stack) >= maxXMLDepth {
		return xmlErr("elements nested deeper than %d", maxXMLDepth)
	}
	f := xmlFrame{qname: q, local: localName(q)}
	x.open(&f)
	for {
		x.skipSpace()
		if x.i >= len(x.b) {
			return xmlErr("unterminated start tag <%s>", q)
		}
		switch x.b[x.i] {
		case '>':
			x.i++
			f.textOff, f.textEnd = len(x.p.buf), len(x.p.buf)
			x.stack = append(x.stack, f)
			return nil
		case '/':
			if x.i+1 >= len(x.b) || x.b[x.i+1] != '>' {
				return xmlErr("malformed empty-element tag <%s>", q)
			}
			x.i += 2
			f.textOff, f.textEnd = len(x.p.buf), len(x.p.buf)
			x.stack = append(x.stack, f)
			x.close()
			return nil
		}
		an := x.name()
		if len(an) == 0 {
			return xmlErr("malformed attribute in <%s>", q)
		}
		x.skipSpace()
		if x.i >= len(x.b) || x.b[x.i] != '=' {
			return xmlErr("attribute %s in <%s> has no value", an, q)
		}
		x.i++
		x.skipSpace()
		if x.i >= len(x.b) || x.b[x.i] != '"' && x.b[x.i] != '\'' {
			return xmlErr("attribute %s in <%s> is not quoted", an, q)
		}
		quote := x.b[x.i]
		x.i++
		j := bytes.IndexByte(x.b[x.i:], quote)
		if j < 0 {
			return xmlErr("unterminated attribute %s in <%s>", an, q)
		}
		v := x.b[x.i : x.i+j]
		x.i += j + 1
		if bytes.IndexByte(v, '<') >= 0 {
			return xmlErr("'<' in attribute %s of <%s>", an, q)
		}
		if err := x.attr(&f, an, v); err != nil {
			return err
		}
	}
}

// open sets a new element's context from its parent's.
func (x *xmlDecoder) open(f *xmlFrame) {
	if len(x.stack) == 0 {
		f.ctx = xEvent
		return
	}
	parent := &x.stack[len(x.stack)-1]
	parent.children = true
	switch parent.ctx {
	case xEvent:
		switch string(f.local) {
		case "System":
			f.ctx = xSystem
		case "EventData", "ProcessingErrorData", "DebugData":
			f.ctx = xEventData
		case "UserData":
			f.ctx = xUserData
		case "RenderingInfo":
			f.ctx = xRendering
		}
	case xSystem:
		f.ctx = xSysElem
	case xEventData:
		f.ctx = xData
		if string(f.local) != "Data" {
			f.path, f.named = x.p.put(f.local), true
		}
	case xUserData:
		f.ctx, f.root = xUserElem, true
		if !x.p.raw.hasRoot {
			x.p.raw.userRoot, x.p.raw.hasRoot = x.p.put(f.local), true
		}
	case xUserElem:
		f.ctx = xUserElem
		f.path = x.p.putJoin(parent.path, '.', f.local)
		if n := x.sibling(len(x.stack), f.local); n > 0 {
			x.p.buf = append(x.p.buf, '_')
			x.p.buf = appendInt(x.p.buf, n)
			f.path.end = len(x.p.buf)
		}
	case xRendering:
		f.ctx = xRendElem
		if string(f.local) == "Keywords" {
			f.ctx = xKeywords
		}
	case xKeywords:
		f.ctx = xRendElem
	}
}

// sibling counts an element among its earlier siblings of the same name:
// 0 for the first, then 1, 2 ... (evtx_dump names repeats Name_1, Name_2).
func (x *xmlDecoder) sibling(depth int, name []byte) int {
	for i := range x.sibs {
		s := &x.sibs[i]
		if s.depth == depth && bytes.Equal(s.name, name) {
			s.count++
			return s.count
		}
	}
	x.sibs = append(x.sibs, sibling{depth, name, 0})
	return 0
}

// attr handles one attribute of the element being opened.
func (x *xmlDecoder) attr(f *xmlFrame, name, v []byte) error {
	p := x.p
	if bytes.HasPrefix(name, []byte("xmlns")) {
		return nil
	}
	local := localName(name)
	switch f.ctx {
	case xSysElem:
		if len(v) == 0 {
			return nil // python-evtx writes absent attributes as ""
		}
		n := p.put(f.local)
		n = p.putJoin(n, '_', local)
		val, err := x.unescape(v)
		if err != nil {
			return err
		}
		p.raw.sys = append(p.raw.sys, pair{n, val})
	case xData:
		if string(local) == "Name" {
			val, err := x.unescape(v)
			if err != nil {
				return err
			}
			f.path, f.named = val, val.end > val.off // Name='' is unnamed Data
		}
	case xUserElem:
		if f.root {
			return nil
		}
		f.attrs = true
		n := p.putJoin(f.path, '_', local)
		val, err := x.unescape(v)
		if err != nil {
			return err
		}
		p.raw.user = append(p.raw.user, pair{n, val})
	}
	return nil
}

// wantsText reports whether an element's text is a value.
func wantsText(ctx int) bool {
	switch ctx {
	case xSysElem, xData, xUserElem, xRendElem:
		return true
	}
	return false
}

// text handles character data (with references) at x.i.
func (x *xmlDecoder) text(t []byte) error {
	if len(x.stack) == 0 {
		if len(bytes.TrimLeft(t, " \t\r\n")) > 0 {
			if x.done {
				return xmlErr("content after the <Event> element")
			}
			return xmlErr("character data outside the root element")
		}
		return nil
	}
	f := &x.stack[len(x.stack)-1]
	if !wantsText(f.ctx) || f.children || f.textEnd != len(x.p.buf) {
		return x.check(t)
	}
	var err error
	x.p.buf, err = appendUnescaped(x.p.buf, t)
	f.textEnd = len(x.p.buf)
	return err
}

// rawText handles a CDATA section's content.
func (x *xmlDecoder) rawText(t []byte) {
	f := &x.stack[len(x.stack)-1]
	if !wantsText(f.ctx) || f.children || f.textEnd != len(x.p.buf) {
		return
	}
	x.p.buf = append(x.p.buf, t...)
	f.textEnd = len(x.p.buf)
}

// check validates the references in text that is not kept.
func (x *xmlDecoder) check(t []byte) error {
	for {
		i := bytes.IndexByte(t, '&')
		if i < 0 {
			return nil
		}
		t = t[i:]
		j := bytes.IndexByte(t, ';')
		if j < 0 || j > 12 {
			return xmlErr("malformed reference %.12q", t)
		}
		switch ref := t[1:j]; string(ref) {
		case "lt", "gt", "amp", "quot", "apos":
		default:
			if _, ok := charRef(ref); !ok {
				return xmlErr("unknown reference &%s;", ref)
			}
		}
		t = t[j+1:]
	}
}

// unescape copies an attribute value into the buffer, resolving references.
func (x *xmlDecoder) unescape(v []byte) (span, error) {
	off := len(x.p.buf)
	var err error
	x.p.buf, err = appendUnescaped(x.p.buf, v)
	return span{off, len(x.p.buf)}, err
}

// endTag reads "</name>".
func (x *xmlDecoder) endTag() error {
	x.i += 2
	q := x.name()
	x.skipSpace()
	if x.i >= len(x.b) || x.b[x.i] != '>' {
		return xmlErr("malformed end tag </%s>", q)
	}
	x.i++
	if len(x.stack) == 0 {
		return xmlErr("end tag </%s> without a start tag", q)
	}
	if top := x.stack[len(x.stack)-1].qname; !bytes.Equal(top, q) {
		return xmlErr("end tag </%s> does not match <%s>", q, top)
	}
	x.close()
	return nil
}

// close finishes the innermost element.
func (x *xmlDecoder) close() {
	p := x.p
	f := x.stack[len(x.stack)-1]
	x.stack = x.stack[:len(x.stack)-1]
	depth := len(x.stack)
	// Forget the sibling counts of this element's children.
	for i := len(x.sibs) - 1; i >= 0; i-- {
		if x.sibs[i].depth > depth {
			x.sibs = x.sibs[:i]
		}
	}
	text := span{f.textOff, f.textEnd}
	if f.children {
		text = span{f.textOff, f.textOff}
	}
	switch f.ctx {
	case xEvent:
		if depth == 0 {
			x.done = true
		}
	case xSysElem:
		if !f.children && !blank(p.buf[text.off:text.end]) {
			p.raw.sys = append(p.raw.sys, pair{p.put(f.local), text})
		}
	case xData:
		if f.children {
			return
		}
		text = prettyEmpty(p.buf, text)
		if f.named {
			if text.end == text.off && string(f.local) == "Binary" {
				return // no binary data (evtx_dump writes null)
			}
			p.raw.data = append(p.raw.data, pair{f.path, text})
		} else {
			p.raw.list = append(p.raw.list, text)
		}
	case xUserElem:
		if f.root || f.children {
			return
		}
		text = prettyEmpty(p.buf, text)
		if text.end > text.off || !f.attrs {
			p.raw.user = append(p.raw.user, pair{f.path, text})
		}
	case xRendElem:
		if f.children {
			return
		}
		parent := x.stack[len(x.stack)-1]
		if parent.ctx == xKeywords {
			if string(f.local) == "Keyword" {
				x.keyword(text)
			}
			return
		}
		slot := -1
		switch string(f.local) {
		case "Message":
			slot = rMessage
		case "Level":
			slot = rLevel
		case "Task":
			slot = rTask
		case "Opcode":
			slot = rOpcode
		}
		if slot >= 0 && text.end > text.off {
			p.raw.setRend(slot, text)
		}
	case xKeywords:
		if len(x.kw) > 0 {
			x.kw = append(x.kw, ']')
			p.raw.setRend(rKeywords, p.put(x.kw))
			x.kw = x.kw[:0]
		}
	}
}

// keyword adds a RenderingInfo keyword to the list being built.
func (x *xmlDecoder) keyword(t span) {
	if len(x.kw) == 0 {
		x.kw = append(x.kw, '[')
	} else {
		x.kw = append(x.kw, ',')
	}
	x.kw = ecs.AppendJSONString(x.kw, x.p.buf[t.off:t.end])
}

// blank reports whether b is only white space.
func blank(b []byte) bool {
	for _, c := range b {
		if !isSpace(c) {
			return false
		}
	}
	return true
}

// prettyEmpty treats the white space a pretty-printer puts inside an empty
// element ("<Data>\n    </Data>") as no text; other white space stays.
func prettyEmpty(buf []byte, t span) span {
	b := buf[t.off:t.end]
	if len(b) > 0 && blank(b) && bytes.IndexByte(b, '\n') >= 0 {
		return span{t.off, t.off}
	}
	return t
}

// appendUnescaped appends text with its character and entity references
// resolved.
func appendUnescaped(dst, t []byte) ([]byte, error) {
	for {
		i := bytes.IndexByte(t, '&')
		if i < 0 {
			return append(dst, t...), nil
		}
		dst = append(dst, t[:i]...)
		t = t[i:]
		j := bytes.IndexByte(t, ';')
		if j < 0 || j > 12 {
			return dst, xmlErr("malformed reference %.12q", t)
		}
		ref := t[1:j]
		t = t[j+1:]
		switch string(ref) {
		case "lt":
			dst = append(dst, '<')
		case "gt":
			dst = append(dst, '>')
		case "amp":
			dst = append(dst, '&')
		case "quot":
			dst = append(dst, '"')
		case "apos":
			dst = append(dst, '\'')
		default:
			r, ok := charRef(ref)
			if !ok {
				return dst, xmlErr("unknown reference &%s;", ref)
			}
			dst = utf8.AppendRune(dst, r)
		}
	}
}

// charRef decodes "#123" or "#x1F".
func charRef(ref []byte) (rune, bool) {
	if len(ref) < 2 || ref[0] != '#' {
		return 0, false
	}
	base, digits := 10, ref[1:]
	if digits[0] == 'x' {
		base, digits = 16, digits[1:]
	}
	if len(digits) == 0 || len(digits) > 8 {
		return 0, false
	}
	var n rune
	for _, c := range digits {
		var d rune
		switch {
		case c >= '0' && c <= '9':
			d = rune(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = rune(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = rune(c-'A') + 10
		default:
			return 0, false
		}
		n = n*rune(base) + d
	}
	if n == 0 || n > utf8.MaxRune || n >= 0xD800 && n < 0xE000 {
		return 0, false
	}
	return n, true
}

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// SplitXML cuts a document or stream holding several Windows XML events
// (an <Events> wrapper, or <Event> elements one after another, as
// wevtutil and python-evtx write them) into one payload per <Event>. Text
// between events is dropped.
func SplitXML(doc []byte) ([][]byte, error) {
	var out [][]byte
	rest := doc
	for {
		i := indexEventStart(rest)
		if i < 0 {
			return out, nil
		}
		rest = rest[i:]
		end := bytes.Index(rest, []byte("</Event>"))
		if end < 0 {
			return out, xmlErr("unterminated <Event> after %d events", len(out))
		}
		out = append(out, rest[:end+len("</Event>")])
		rest = rest[end+len("</Event>"):]
	}
}

// indexEventStart finds "<Event" followed by space or '>'.
func indexEventStart(b []byte) int {
	off := 0
	for {
		i := bytes.Index(b[off:], []byte("<Event"))
		if i < 0 {
			return -1
		}
		j := off + i + len("<Event")
		if j < len(b) && (b[j] == '>' || isSpace(b[j])) {
			return off + i
		}
		off = j
	}
}
