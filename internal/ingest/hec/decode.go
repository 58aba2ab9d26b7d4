package hec

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/ingest/jsonstr"
)

// Source is the event.Raw source of every record this receiver accepts.
const Source = string(event.KindHEC)

// invalid says why a request was rejected: the HEC status, the 0-based
// number of the offending event (-1 when none) and a reason for the dead
// letter.
type invalid struct {
	st     status
	n      int
	reason string
}

func (e *invalid) Error() string { return e.reason }

// isSpace is JSON whitespace.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// objectEnd returns the length of the JSON object at the start of b (b[0]
// is '{'), found by matching brackets outside strings, or -1 if b ends
// first. It does not validate: the object is parsed afterwards.
func objectEnd(b []byte) int {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			// Skip the string: to the next quote preceded by an even
			// number of backslashes.
			for {
				j := bytes.IndexByte(b[i+1:], '"')
				if j < 0 {
					return -1
				}
				i += 1 + j
				k := i - 1
				for b[k] == '\\' {
					k--
				}
				if (i-1-k)%2 == 0 {
					break
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// decodeEvents splits an /event body into its envelopes: JSON objects one
// after another, with any JSON whitespace between them (not an array). It
// appends one record per envelope, whose Data is the envelope's bytes as
// sent (a sub-slice of body), and rejects the whole body at the first
// invalid one.
func decodeEvents(p *fastjson.Parser, body []byte, maxEvent int, received time.Time, recs []event.Raw) ([]event.Raw, *invalid) {
	n := 0
	for i := 0; ; n++ {
		for i < len(body) && isSpace(body[i]) {
			i++
		}
		if i == len(body) {
			break
		}
		if body[i] != '{' {
			return recs, &invalid{stInvalidFormat, n, fmt.Sprintf("event %d at byte %d: not a JSON object (HEC takes objects one after another, not an array)", n, i)}
		}
		end := objectEnd(body[i:])
		if end < 0 {
			return recs, &invalid{stInvalidFormat, n, fmt.Sprintf("event %d at byte %d: unterminated JSON object", n, i)}
		}
		obj := body[i : i+end]
		i += end
		if len(obj) > maxEvent {
			return recs, &invalid{stInvalidFormat, n, fmt.Sprintf("event %d: %d bytes is over the max_event_bytes limit of %d", n, len(obj), maxEvent)}
		}
		if bad := checkEnvelope(p, obj); bad != nil {
			bad.n = n
			bad.reason = fmt.Sprintf("event %d: %s", n, bad.reason)
			return recs, bad
		}
		recs = append(recs, event.Raw{Received: received, Source: Source, Data: obj[:len(obj):len(obj)]})
	}
	if n == 0 {
		return recs, &invalid{stNoData, -1, "no event in the body"}
	}
	return recs, nil
}

// checkEnvelope validates one HEC event envelope as Splunk does.
func checkEnvelope(p *fastjson.Parser, obj []byte) *invalid {
	v, err := p.ParseBytes(obj)
	if err != nil {
		return &invalid{st: stInvalidFormat, reason: "invalid JSON: " + err.Error()}
	}
	o, err := v.Object()
	if err != nil {
		return &invalid{st: stInvalidFormat, reason: "not a JSON object"}
	}
	var bad *invalid
	hasEvent := false
	o.Visit(func(k []byte, v *fastjson.Value) {
		if bad != nil {
			return
		}
		switch string(k) {
		case "event":
			switch v.Type() {
			case fastjson.TypeNull:
				return
			case fastjson.TypeString:
				if len(v.GetStringBytes()) == 0 {
					bad = &invalid{st: stEventBlank, reason: `"event" is blank`}
					return
				}
			}
			hasEvent = true
		case "time":
			if !validTime(v) {
				bad = &invalid{st: stInvalidFormat, reason: `"time" is not epoch seconds: ` + ingest.Shorten(v.String(), 64)}
			}
		case "host", "source", "sourcetype", "index":
			if t := v.Type(); t != fastjson.TypeString && t != fastjson.TypeNull {
				bad = &invalid{st: stInvalidFormat, reason: fmt.Sprintf("%q is a %s, not a string", k, t)}
			}
		case "fields":
			if !validFields(v) {
				bad = &invalid{st: stBadFields, reason: `"fields" must be an object of strings, numbers or arrays of them`}
			}
		}
	})
	if bad != nil {
		return bad
	}
	if !hasEvent {
		return &invalid{st: stEventRequired, reason: `no "event" field`}
	}
	return nil
}

// validTime accepts epoch seconds as a number or a numeric string (Splunk's
// Node library sends "1795627447.417").
func validTime(v *fastjson.Value) bool {
	switch v.Type() {
	case fastjson.TypeNumber, fastjson.TypeNull:
		return true
	case fastjson.TypeString:
		f, err := strconv.ParseFloat(string(v.GetStringBytes()), 64)
		return err == nil && f >= 0
	}
	return false
}

// validFields is Splunk's rule for indexed fields: flat values.
func validFields(v *fastjson.Value) bool {
	o, err := v.Object()
	if err != nil {
		return false
	}
	ok := true
	o.Visit(func(_ []byte, v *fastjson.Value) {
		switch v.Type() {
		case fastjson.TypeObject:
			ok = false
		case fastjson.TypeArray:
			for _, e := range v.GetArray() {
				if t := e.Type(); t == fastjson.TypeObject || t == fastjson.TypeArray {
					ok = false
				}
			}
		}
	})
	return ok
}

// rawMeta is the metadata of a /raw request, from its query string.
type rawMeta struct {
	channel, host, source, sourcetype, index, time string
}

// decodeRaw splits a /raw body into lines (LF, CRLF tolerated; blank lines
// skipped) and appends one record per line whose Data is an envelope
// {"event":LINE,"channel":…,"host":…,"source":…,"sourcetype":…,
// "index":…,"time":…} with only the metadata given. A line that is not
// valid UTF-8 keeps its exact bytes in "event_base64" beside the lossy
// "event".
func decodeRaw(body []byte, maxEvent int, m rawMeta, received time.Time, recs []event.Raw) ([]event.Raw, *invalid) {
	var tail []byte // the metadata, the same for every line
	for _, kv := range [...][2]string{{"channel", m.channel}, {"host", m.host}, {"source", m.source}, {"sourcetype", m.sourcetype}, {"index", m.index}, {"time", m.time}} {
		if kv[1] != "" {
			tail = append(tail, ',', '"')
			tail = append(tail, kv[0]...)
			tail = append(tail, '"', ':')
			tail, _ = jsonstr.Append(tail, kv[1])
		}
	}
	tail = append(tail, '}')
	arena := make([]byte, 0, min(len(body)+64*(1+len(body)/128), 1<<20))
	n := 0
	for line := 1; len(body) > 0; line++ {
		var data []byte
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			data, body = body[:i], body[i+1:]
		} else {
			data, body = body, nil
		}
		data = bytes.TrimSuffix(data, []byte("\r"))
		if len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		if len(data) > maxEvent {
			return recs, &invalid{stInvalidFormat, n, fmt.Sprintf("line %d: %d bytes is over the max_event_bytes limit of %d", line, len(data), maxEvent)}
		}
		need := 2*len(data) + len(tail) + 32
		if cap(arena)-len(arena) < need {
			// Records keep pointing into the old arena; start a new one.
			arena = make([]byte, 0, max(1<<20, need))
		}
		off := len(arena)
		arena = append(arena, `{"event":`...)
		var valid bool
		arena, valid = jsonstr.AppendBytes(arena, data)
		if !valid {
			arena = append(arena, `,"event_base64":"`...)
			arena = base64.StdEncoding.AppendEncode(arena, data)
			arena = append(arena, '"')
		}
		arena = append(arena, tail...)
		recs = append(recs, event.Raw{Received: received, Source: Source, Data: arena[off:len(arena):len(arena)]})
		n++
	}
	if n == 0 {
		return recs, &invalid{stNoData, -1, "no line in the body"}
	}
	return recs, nil
}
