package envelope

import (
	"errors"
	"fmt"
	"time"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
)

// HEC parses records from the Splunk HTTP Event Collector receiver: one
// HEC envelope each ({"event":..., "time":..., "host":..., ...}). The
// event's own fields come out as for JSON (an object event is flattened; a
// string event is the message); the envelope's metadata takes ECS names:
// time → @timestamp, host → host.name, source → log.file.path,
// sourcetype → event.dataset, index → splunk.index, fields.* → labels.*.
type HEC struct {
	json     JSON
	p        fastjson.Parser
	payload  []byte
	ingested Ingested
}

// Payload returns the event of the envelope Parse read last: an object
// event as JSON, a string event as its text. It is valid until the next
// Parse; format parsers read it.
func (h *HEC) Payload() []byte { return h.payload }

// ErrNoEvent is returned for an envelope without an event.
var ErrNoEvent = errors.New("HEC envelope has no event")

// Parse turns raw into an event, appending its fields to dst.Fields[:0].
func (h *HEC) Parse(raw event.Raw, dst *event.Event) error {
	v, err := h.p.ParseBytes(raw.Data)
	if err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	env, err := v.Object()
	if err != nil {
		return ErrNotObject
	}
	ev := env.Get("event")
	if ev == nil {
		return ErrNoEvent
	}
	dst.Fields = dst.Fields[:0]
	switch ev.Type() {
	case fastjson.TypeObject:
		h.payload = ev.MarshalTo(h.payload[:0])
		o, _ := ev.Object()
		h.json.names = h.json.names[:0]
		dst.Fields = h.json.Flatten(dst.Fields, o)
	case fastjson.TypeString:
		h.payload = append(h.payload[:0], ev.GetStringBytes()...)
		dst.Fields = append(dst.Fields, event.Field{Name: event.FieldMessage, Value: string(h.payload)})
	default:
		h.payload = ev.MarshalTo(h.payload[:0])
		dst.Fields = append(dst.Fields, event.Field{Name: event.FieldMessage, Value: string(h.payload)})
	}
	for _, m := range []struct{ key, field string }{
		{"host", "host.name"}, {"source", "log.file.path"}, {"sourcetype", "event.dataset"}, {"index", "splunk.index"}, {"channel", "splunk.channel"},
	} {
		if s := env.Get(m.key); s != nil && s.Type() == fastjson.TypeString {
			dst.Fields = append(dst.Fields, event.Field{Name: m.field, Value: string(s.GetStringBytes())})
		}
	}
	if fs := env.Get("fields"); fs != nil && fs.Type() == fastjson.TypeObject {
		o, _ := fs.Object()
		o.Visit(func(k []byte, v *fastjson.Value) {
			val := string(v.GetStringBytes())
			if v.Type() != fastjson.TypeString {
				val = string(v.MarshalTo(nil))
			}
			dst.Fields = append(dst.Fields, event.Field{Name: "labels." + string(k), Value: val})
		})
	}
	dst.Time = time.Time{}
	if t := env.Get("time"); t != nil {
		if ts, ok := epoch(t); ok {
			dst.Time = ts
		}
	}
	if dst.Time.IsZero() {
		for _, name := range TimeFields {
			if s, ok := dst.Get(name); ok {
				if t, ok := ecs.ParseTime(s); ok {
					dst.Time = t
					break
				}
			}
		}
	}
	if dst.Time.IsZero() {
		dst.Time = raw.Received
	}
	dst.Fields = append(dst.Fields,
		event.Field{Name: event.FieldOriginal, Value: string(raw.Data)},
		event.Field{Name: event.FieldIngested, Value: h.ingested.Text(raw.Received)})
	return nil
}

// epoch reads HEC's time, a number or a numeric string: epoch seconds as
// HEC defines it, or the milliseconds (and finer) some shippers send,
// told apart by magnitude (ecs.Epoch).
func epoch(v *fastjson.Value) (time.Time, bool) {
	switch v.Type() {
	case fastjson.TypeNumber:
		return ecs.Epoch(v.String())
	case fastjson.TypeString:
		return ecs.Epoch(string(v.GetStringBytes()))
	}
	return time.Time{}, false
}
