package esbulk

import (
	"bytes"
	"fmt"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/ingest/jsonstr"
)

// The bulk actions Elasticsearch knows.
const (
	actionCreate = "create"
	actionIndex  = "index"
	actionDelete = "delete"
	actionUpdate = "update"
)

// item is one action of a bulk request and, once decided, its outcome.
type item struct {
	action string
	index  string
	id     string
	// line is the 1-based line of the action in the body.
	line int
	// doc is the document to write (create and index), trimmed; nil when
	// the item failed.
	doc []byte
	// status is the HTTP status of the item (201 once written); errType
	// and reason describe a failure.
	status  int
	errType string
	reason  string
	// dead, when not nil, is dead-lettered with reason (deadLine is its line).
	dead     []byte
	deadLine int
}

// requestError is a malformed request that Elasticsearch would refuse
// whole, with status 400.
type requestError struct {
	line    int
	errType string
	reason  string
}

func (e *requestError) Error() string { return e.errType + ": " + e.reason }

// decoder splits bulk bodies; it is not safe for concurrent use.
type decoder struct {
	maxLine int
	p       fastjson.Parser
	// lastIndex interns the index name, which is nearly always the same
	// from one action to the next.
	lastIndex string
	// last is the previous action line and what it said: shippers repeat
	// the same line for every document, so it is parsed once.
	lastLine []byte
	last     item
	lastDef  string
}

// decode splits body into its items. defIndex is the index named in the
// path, used when an action names none. A body Elasticsearch would refuse
// whole (no action at all, an action line that is not an action) is a
// *requestError. Items are appended to items, which is returned.
func (d *decoder) decode(items []item, body []byte, defIndex string) ([]item, error) {
	line := 0
	next := func() ([]byte, bool) {
		for len(body) > 0 {
			var l []byte
			if i := bytes.IndexByte(body, '\n'); i >= 0 {
				l, body = body[:i], body[i+1:]
			} else {
				l, body = body, nil
			}
			line++
			l = bytes.TrimSpace(l)
			if len(l) > 0 {
				return l, true
			}
		}
		return nil, false
	}
	for {
		al, ok := next()
		if !ok {
			break
		}
		it, err := d.action(al, line, defIndex)
		if err != nil {
			return items, err
		}
		switch it.action {
		case actionDelete:
			it.fail(400, "illegal_argument_exception", "Tarian keeps what it is sent: the delete action is not supported")
		case actionUpdate:
			doc, ok := next()
			it.fail(400, "illegal_argument_exception", "Tarian keeps what it is sent: the update action is not supported")
			if ok {
				it.dead, it.deadLine = doc, line
			}
		default:
			doc, ok := next()
			if !ok {
				it.fail(400, "action_request_validation_exception", "Validation Failed: 1: no document after the "+it.action+" action;")
				it.dead, it.deadLine = al, it.line
				break
			}
			it.deadLine = line
			if reason := d.checkDoc(doc); reason != "" {
				it.fail(400, "document_parsing_exception", reason)
				it.dead = doc
				break
			}
			it.doc = doc
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return items, &requestError{errType: "action_request_validation_exception", reason: "Validation Failed: 1: no requests added;"}
	}
	return items, nil
}

func (it *item) fail(status int, typ, reason string) {
	it.status, it.errType, it.reason = status, typ, reason
}

// action reads an action line: {"create":{"_index":"…","_id":"…"}}.
func (d *decoder) action(l []byte, line int, defIndex string) (item, error) {
	if d.lastLine != nil && defIndex == d.lastDef && string(l) == string(d.lastLine) {
		it := d.last
		it.line = line
		return it, nil
	}
	it, err := d.parseAction(l, line, defIndex)
	if err == nil {
		d.lastLine = append(d.lastLine[:0], l...)
		d.last, d.lastDef = it, defIndex
	}
	return it, err
}

func (d *decoder) parseAction(l []byte, line int, defIndex string) (item, error) {
	bad := func(format string, args ...any) (item, error) {
		return item{}, &requestError{line: line, errType: "illegal_argument_exception",
			reason: fmt.Sprintf("Malformed action/metadata line [%d], ", line) + fmt.Sprintf(format, args...)}
	}
	if len(l) > d.maxLine {
		return bad("%d bytes long", len(l))
	}
	v, err := d.p.ParseBytes(l)
	if err != nil {
		return bad("not JSON: %s", ingest.Shorten(err.Error(), 200))
	}
	o, err := v.Object()
	if err != nil {
		return bad("expected START_OBJECT but found [%s]", v.Type())
	}
	if o.Len() != 1 {
		return bad("expected one action but found %d fields", o.Len())
	}
	var it item
	var meta *fastjson.Value
	o.Visit(func(k []byte, v *fastjson.Value) {
		switch string(k) {
		case actionCreate:
			it.action = actionCreate
		case actionIndex:
			it.action = actionIndex
		case actionDelete:
			it.action = actionDelete
		case actionUpdate:
			it.action = actionUpdate
		default:
			it.action = string(k)
		}
		meta = v
	})
	switch it.action {
	case actionCreate, actionIndex, actionDelete, actionUpdate:
	default:
		return bad("expected field [create, delete, index, update] but found [%s]", ingest.Shorten(it.action, 200))
	}
	if meta.Type() != fastjson.TypeObject {
		return bad("expected START_OBJECT but found [%s]", meta.Type())
	}
	it.line = line
	it.index = defIndex
	if x := meta.Get("_index"); x != nil {
		b, err := x.StringBytes()
		if err != nil {
			return bad("_index is not a string")
		}
		if string(b) != d.lastIndex {
			d.lastIndex = string(b)
		}
		it.index = d.lastIndex
	}
	if x := meta.Get("_id"); x != nil {
		b, err := x.StringBytes()
		if err != nil {
			return bad("_id is not a string")
		}
		it.id = string(b)
	}
	return it, nil
}

// checkDoc says why doc cannot be written, or "".
func (d *decoder) checkDoc(doc []byte) string {
	if len(doc) > d.maxLine {
		return fmt.Sprintf("document of %d bytes is over the %d-byte limit", len(doc), d.maxLine)
	}
	if err := fastjson.ValidateBytes(doc); err != nil {
		return "failed to parse: invalid JSON: " + ingest.Shorten(err.Error(), 200)
	}
	if doc[0] != '{' {
		v, _ := d.p.ParseBytes(doc)
		t := "value"
		if v != nil {
			t = v.Type().String()
		}
		return "failed to parse: the document is not a JSON object but " + t
	}
	return ""
}

// appendString appends s as a JSON string (jsonstr.Append).
func appendString(b []byte, s string) []byte {
	b, _ = jsonstr.Append(b, s)
	return b
}
