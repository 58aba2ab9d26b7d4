// Package envelope reads the receivers' envelopes (a JSON document, a
// syslog header, a Splunk HEC envelope) into events: fields flattened to
// dotted names, the event's own time, and the raw record kept as
// event.original. Per-source parsers (CEF, syslog, Windows) join it here.
package envelope

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
)

// TimeFields are where a JSON record's own time is looked for, in order,
// after flattening.
var TimeFields = []string{
	event.FieldTimestamp,
	"timestamp",
	"time",
	"eventTime",                // AWS CloudTrail
	"published",                // Okta System Log
	"requestReceivedTimestamp", // Kubernetes audit
	"created_at",               // GitHub audit (a number), OneLogin
	"Event.System.TimeCreated.#attributes.SystemTime",
	"TimeCreated",
	"EventTime",
	"utc_time", // OpenCanary
	"ts",       // Zeek (epoch seconds, or ISO 8601)
}

// JSON parses records that are one JSON object each. A JSON value keeps the
// parser's buffers between calls; it is not safe for concurrent use.
type JSON struct {
	p        fastjson.Parser
	names    []string
	ingested Ingested
}

// ErrNotObject is returned for a record that is not a JSON object.
var ErrNotObject = errors.New("not a JSON object")

// Parse turns raw into an event, appending its fields to dst.Fields[:0].
// Nested objects become dotted names; arrays are kept as JSON text; nulls
// are dropped.
func (j *JSON) Parse(raw event.Raw, dst *event.Event) error {
	v, err := j.p.ParseBytes(raw.Data)
	if err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	obj, err := v.Object()
	if err != nil {
		return ErrNotObject
	}
	dst.Fields = dst.Fields[:0]
	j.names = j.names[:0]
	dst.Fields = j.Flatten(dst.Fields, obj)
	haveOriginal := false
	dst.Time = time.Time{}
	for _, f := range dst.Fields {
		if f.Name == event.FieldOriginal {
			haveOriginal = true
		}
	}
	for _, name := range TimeFields {
		if s, ok := dst.Get(name); ok {
			if t, ok := ecs.ParseTime(s); ok {
				dst.Time = t
				break
			}
		}
	}
	if dst.Time.IsZero() {
		dst.Time = raw.Received
	}
	if !haveOriginal {
		dst.Fields = append(dst.Fields, event.Field{Name: event.FieldOriginal, Value: string(raw.Data)})
	}
	dst.Fields = append(dst.Fields, event.Field{Name: event.FieldIngested, Value: j.ingested.Text(raw.Received)})
	return nil
}

// Flatten appends obj's fields to dst as Parse does: dotted names, arrays,
// numbers and booleans as JSON text, nulls dropped. Format parsers that
// read JSON records use it for the fields they do not map themselves.
func (j *JSON) Flatten(dst []event.Field, obj *fastjson.Object) []event.Field {
	obj.Visit(func(key []byte, v *fastjson.Value) {
		j.names = append(j.names, string(key))
		switch v.Type() {
		case fastjson.TypeObject:
			o, _ := v.Object()
			dst = j.Flatten(dst, o)
		case fastjson.TypeNull:
		default:
			dst = append(dst, event.Field{Name: strings.Join(j.names, "."), Value: Text(v)})
		}
		j.names = j.names[:len(j.names)-1]
	})
	return dst
}

// FlattenUnder is Flatten with every name under prefix ("zeek.dns"), keys
// without a name left out.
func (j *JSON) FlattenUnder(dst []event.Field, prefix string, obj *fastjson.Object) []event.Field {
	n := len(dst)
	j.names = append(j.names[:0], prefix)
	dst = j.Flatten(dst, obj)
	j.names = j.names[:0]
	out := dst[:n]
	for _, f := range dst[n:] {
		if !strings.HasSuffix(f.Name, ".") && !strings.Contains(f.Name, "..") {
			out = append(out, f)
		}
	}
	return out
}

// Text is a JSON value as a field holds it: a string's text, anything
// else (numbers, booleans, arrays, objects) its JSON; null is "".
func Text(v *fastjson.Value) string {
	switch v.Type() {
	case fastjson.TypeString:
		return string(v.GetStringBytes())
	case fastjson.TypeNull:
		return ""
	}
	return string(v.MarshalTo(nil))
}
