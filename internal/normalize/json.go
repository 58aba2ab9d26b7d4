// Package normalize turns raw records into events: fields flattened to
// dotted names, the event's own time, and the raw record kept as
// event.original. Per-source parsers (CEF, syslog, Windows) join it here.
package normalize

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
)

// TimeFields are where a JSON record's own time is looked for, in order,
// after flattening.
var TimeFields = []string{
	event.FieldTimestamp,
	"timestamp",
	"time",
	"Event.System.TimeCreated.#attributes.SystemTime",
	"TimeCreated",
	"EventTime",
}

// JSON parses records that are one JSON object each. A JSON value keeps the
// parser's buffers between calls; it is not safe for concurrent use.
type JSON struct {
	p     fastjson.Parser
	names []string
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
			if t, ok := ParseTime(s); ok {
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
	dst.Fields = append(dst.Fields, event.Field{Name: event.FieldIngested, Value: raw.Received.UTC().Format(time.RFC3339Nano)})
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
		case fastjson.TypeString:
			dst = append(dst, event.Field{Name: strings.Join(j.names, "."), Value: string(v.GetStringBytes())})
		default: // numbers, booleans and arrays keep their JSON text
			dst = append(dst, event.Field{Name: strings.Join(j.names, "."), Value: string(v.MarshalTo(nil))})
		}
		j.names = j.names[:len(j.names)-1]
	})
	return dst
}

// ParseTime reads a time as records carry it: RFC 3339 (with or without a
// zone, 'T' or space), or a Unix epoch number in seconds, milliseconds,
// microseconds or nanoseconds (told apart by magnitude).
func ParseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if c := s[0]; c >= '0' && c <= '9' && !strings.ContainsAny(s, "-:T ") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f <= 0 {
			return time.Time{}, false
		}
		switch {
		case f < 1e11:
			sec, frac := math.Modf(f)
			return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
		case f < 1e14:
			return time.UnixMilli(int64(f)).UTC(), true
		case f < 1e17:
			return time.UnixMicro(int64(f)).UTC(), true
		default:
			return time.Unix(0, int64(f)).UTC(), true
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// AppendJSONString appends s to b as a JSON string: quotes, backslashes
// and control characters escaped (\n, \r, \t, else \u00XX), invalid UTF-8
// as U+FFFD, nothing else (no HTML escaping). Format parsers build their
// array-valued fields (event.category, related.ip) with it.
func AppendJSONString[T ~string | ~[]byte](b []byte, s T) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		var rb [utf8.UTFMax]byte
		r, size := utf8.DecodeRune(rb[:copy(rb[:], s[i:])])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"
