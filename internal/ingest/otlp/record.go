package otlp

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/ingest/jsonstr"
)

// Source is the event.Raw source of every record this receiver writes.
const Source = string(event.KindOTLP)

// ecsResource maps resource attributes whose OpenTelemetry semantic
// convention has a direct Elastic Common Schema counterpart to that field.
// Only string values are lifted; everything stays in resource.attributes.
var ecsResource = []struct{ otel, ecs string }{
	{"service.name", "service.name"},
	{"service.version", "service.version"},
	{"deployment.environment.name", "service.environment"},
	{"deployment.environment", "service.environment"},
	{"host.name", "host.name"},
	{"host.id", "host.id"},
	{"host.arch", "host.architecture"},
	{"container.id", "container.id"},
	{"container.name", "container.name"},
	{"container.image.name", "container.image.name"},
	{"cloud.provider", "cloud.provider"},
	{"cloud.region", "cloud.region"},
	{"cloud.availability_zone", "cloud.availability_zone"},
	{"cloud.account.id", "cloud.account.id"},
}

// tenantAttribute is the resource attribute some shippers set to name a
// tenant. It never chooses one; a value other than the token's tenant is
// counted.
const tenantAttribute = "tenant.id"

// batch is what one request becomes: the records to write, the ones that
// could not become events (with why) and how many resources named another
// tenant in tenant.id.
type batch struct {
	recs       []event.Raw
	dead       []ingest.DeadLetter
	mismatched int
	// buf holds every record's Data, one after another; spans are where.
	buf   []byte
	spans []span
}

// span is where one record's Data lies in batch.buf.
type span struct{ start, end int }

// reset empties b for reuse, keeping its buffers.
func (b *batch) reset() {
	clear(b.recs)
	clear(b.dead)
	b.recs, b.dead, b.buf, b.spans, b.mismatched = b.recs[:0], b.dead[:0], b.buf[:0], b.spans[:0], 0
}

// convert turns every log record of ld into one JSON object (see the
// package doc for the fields) for tenant tn. A record that cannot be an
// event (invalid UTF-8, empty, over maxRecord bytes) becomes a dead letter
// holding the record alone as an OTLP request.
func (b *batch) convert(ld plog.Logs, tn string, received time.Time, maxRecord int) {
	var res, scope []byte
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		rattrs := rl.Resource().Attributes()
		if v, ok := rattrs.Get(tenantAttribute); ok && v.Str() != tn {
			b.mismatched++
		}
		var resBad string
		res, resBad = appendResource(res[:0], rattrs)
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			var scopeBad string
			scope, scopeBad = appendScope(scope[:0], sl.Scope())
			lrs := sl.LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				start := len(b.buf)
				var bad string
				b.buf, bad = appendRecord(b.buf, lr, res, scope)
				switch {
				case resBad != "":
					bad = "resource attributes: " + resBad
				case scopeBad != "":
					bad = "scope: " + scopeBad
				case bad != "":
				case emptyRecord(lr):
					bad = "empty log record: no body, attributes or event name"
				case len(b.buf)-start > maxRecord:
					bad = fmt.Sprintf("the record as an event is %d bytes, over the %d-byte max_record_bytes", len(b.buf)-start, maxRecord)
				}
				if bad != "" {
					b.buf = b.buf[:start]
					b.dead = append(b.dead, deadRecord(rl, sl, lr, fmt.Sprintf("resourceLogs[%d].scopeLogs[%d].logRecords[%d]", i, j, k), bad, received))
					continue
				}
				b.spans = append(b.spans, span{start, len(b.buf)})
			}
		}
	}
	// The buffer has stopped growing: the records may now point into it.
	for _, s := range b.spans {
		b.recs = append(b.recs, event.Raw{Received: received, Source: Source, Data: b.buf[s.start:s.end:s.end]})
	}
}

// deadRecord keeps one record with its resource and scope as an OTLP
// request: OTLP/JSON when every string in it is UTF-8, else OTLP protobuf,
// so the bytes the shipper sent are never lost to a replacement character.
func deadRecord(rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord, at, why string, received time.Time) ingest.DeadLetter {
	one := plog.NewLogs()
	orl := one.ResourceLogs().AppendEmpty()
	rl.Resource().CopyTo(orl.Resource())
	orl.SetSchemaUrl(rl.SchemaUrl())
	osl := orl.ScopeLogs().AppendEmpty()
	sl.Scope().CopyTo(osl.Scope())
	osl.SetSchemaUrl(sl.SchemaUrl())
	lr.CopyTo(osl.LogRecords().AppendEmpty())
	req := plogotlp.NewExportRequestFromLogs(one)
	var data []byte
	var err error
	kept := "OTLP/JSON"
	if utf8Logs(one) {
		data, err = req.MarshalJSON()
	}
	if !utf8Logs(one) || err != nil {
		kept = "OTLP protobuf"
		data, _ = req.MarshalProto() // never fails
	}
	return ingest.DeadLetter{Received: received, Source: Source,
		Reason: "otlp log record " + at + ": " + why + " (kept as " + kept + ")", Data: data}
}

// utf8Logs reports whether every string of ld is valid UTF-8.
func utf8Logs(ld plog.Logs) bool {
	_, bad := appendRecord(nil, ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0), nil, nil)
	if bad != "" {
		return false
	}
	if _, bad = appendResource(nil, ld.ResourceLogs().At(0).Resource().Attributes()); bad != "" {
		return false
	}
	_, bad = appendScope(nil, ld.ResourceLogs().At(0).ScopeLogs().At(0).Scope())
	return bad == ""
}

// appendResource appends the resource's part of every event of it:
// the ECS fields (`,"service.name":"…"`) and `,"resource.attributes":{…}`.
func appendResource(b []byte, attrs pcommon.Map) ([]byte, string) {
	var bad string
	seen := map[string]bool{}
	for _, m := range ecsResource {
		v, ok := attrs.Get(m.otel)
		if !ok || v.Type() != pcommon.ValueTypeStr || v.Str() == "" || seen[m.ecs] {
			continue
		}
		seen[m.ecs] = true
		b = append(b, ',')
		b, _ = jsonstr.Append(b, m.ecs)
		b = append(b, ':')
		b, _ = jsonstr.Append(b, v.Str()) // checked with the attributes below
	}
	if attrs.Len() > 0 {
		b = append(b, `,"resource.attributes":`...)
		b, bad = appendMap(b, attrs, bad)
	}
	return b, bad
}

// appendScope appends `,"scope.name":…,"scope.version":…,"scope.attributes":{…}`.
func appendScope(b []byte, s pcommon.InstrumentationScope) ([]byte, string) {
	var bad string
	if s.Name() != "" {
		b = append(b, `,"scope.name":`...)
		b, bad = appendStringChecked(b, s.Name(), bad, "scope name")
	}
	if s.Version() != "" {
		b = append(b, `,"scope.version":`...)
		b, bad = appendStringChecked(b, s.Version(), bad, "scope version")
	}
	if s.Attributes().Len() > 0 {
		b = append(b, `,"scope.attributes":`...)
		b, bad = appendMap(b, s.Attributes(), bad)
	}
	return b, bad
}

// appendRecord appends lr as one JSON object with the resource's and the
// scope's parts. It returns why the record cannot be written as it was
// sent (a string that is not UTF-8), or "".
func appendRecord(b []byte, lr plog.LogRecord, res, scope []byte) ([]byte, string) {
	var bad string
	body := lr.Body()
	b = append(b, '{')
	sep := func() {
		if b[len(b)-1] != '{' {
			b = append(b, ',')
		}
	}
	ts := lr.Timestamp()
	if ts == 0 || ts > math.MaxInt64 {
		ts = lr.ObservedTimestamp()
	}
	if ts != 0 && ts <= math.MaxInt64 {
		b = append(b, `"@timestamp":"`...)
		b = time.Unix(0, int64(ts)).UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	switch body.Type() {
	case pcommon.ValueTypeEmpty:
	case pcommon.ValueTypeStr:
		if s := body.Str(); s != "" {
			sep()
			b = append(b, `"message":`...)
			b, bad = appendStringChecked(b, s, bad, "body")
		}
	case pcommon.ValueTypeInt, pcommon.ValueTypeDouble, pcommon.ValueTypeBool:
		sep()
		b = append(b, `"message":"`...)
		b = append(b, body.AsString()...) // digits, letters, '.', '+', '-'
		b = append(b, '"')
	default: // map, array, bytes
		sep()
		b = append(b, `"body":`...)
		b, bad = appendValue(b, body, bad)
	}
	if s := lr.SeverityText(); s != "" {
		sep()
		b = append(b, `"log.level":`...)
		b, bad = appendStringChecked(b, s, bad, "severity_text")
	}
	if n := lr.SeverityNumber(); n != plog.SeverityNumberUnspecified {
		sep()
		b = append(b, `"event.severity":`...)
		b = strconv.AppendInt(b, int64(n), 10)
	}
	if s := lr.EventName(); s != "" {
		sep()
		b = append(b, `"event.name":`...)
		b, bad = appendStringChecked(b, s, bad, "event_name")
	}
	if id := lr.TraceID(); !id.IsEmpty() {
		sep()
		b = append(b, `"trace.id":"`...)
		b = hex.AppendEncode(b, id[:])
		b = append(b, '"')
	}
	if id := lr.SpanID(); !id.IsEmpty() {
		sep()
		b = append(b, `"span.id":"`...)
		b = hex.AppendEncode(b, id[:])
		b = append(b, '"')
	}
	if attrs := lr.Attributes(); attrs.Len() > 0 {
		sep()
		b = append(b, `"attributes":`...)
		b, bad = appendMap(b, attrs, bad)
	}
	for _, part := range [][]byte{res, scope} {
		if len(part) == 0 {
			continue
		}
		if b[len(b)-1] == '{' {
			part = part[1:] // its leading comma
		}
		b = append(b, part...)
	}
	return append(b, '}'), bad
}

// emptyRecord reports whether lr says nothing an event could hold: no
// body, no attributes, no event name.
func emptyRecord(lr plog.LogRecord) bool {
	body := lr.Body()
	return lr.Attributes().Len() == 0 && lr.EventName() == "" &&
		(body.Type() == pcommon.ValueTypeEmpty || body.Type() == pcommon.ValueTypeStr && body.Str() == "")
}

// appendMap appends attrs as a JSON object; bad keeps the first reason the
// map cannot be written as it was sent.
func appendMap(b []byte, attrs pcommon.Map, bad string) ([]byte, string) {
	b = append(b, '{')
	first := true
	for k, v := range attrs.All() {
		if !first {
			b = append(b, ',')
		}
		first = false
		b, bad = appendStringChecked(b, k, bad, "attribute key")
		b = append(b, ':')
		b, bad = appendValue(b, v, bad)
	}
	return append(b, '}'), bad
}

// appendValue appends an OTLP AnyValue as JSON: strings, numbers and
// booleans as themselves (NaN and infinities as strings), bytes as base64,
// maps as objects, arrays as arrays, an empty value as null.
func appendValue(b []byte, v pcommon.Value, bad string) ([]byte, string) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return appendStringChecked(b, v.Str(), bad, "string value")
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(b, v.Int(), 10), bad
	case pcommon.ValueTypeDouble:
		f := v.Double()
		switch {
		case math.IsNaN(f):
			return append(b, `"NaN"`...), bad
		case math.IsInf(f, 1):
			return append(b, `"Infinity"`...), bad
		case math.IsInf(f, -1):
			return append(b, `"-Infinity"`...), bad
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64), bad
	case pcommon.ValueTypeBool:
		return strconv.AppendBool(b, v.Bool()), bad
	case pcommon.ValueTypeBytes:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, v.Bytes().AsRaw())
		return append(b, '"'), bad
	case pcommon.ValueTypeMap:
		return appendMap(b, v.Map(), bad)
	case pcommon.ValueTypeSlice:
		b = append(b, '[')
		s := v.Slice()
		for i := 0; i < s.Len(); i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b, bad = appendValue(b, s.At(i), bad)
		}
		return append(b, ']'), bad
	}
	return append(b, "null"...), bad
}

// appendStringChecked appends s quoted; if s is not UTF-8 and bad is
// still empty, bad becomes a reason naming what.
func appendStringChecked(b []byte, s string, bad, what string) ([]byte, string) {
	b, ok := jsonstr.Append(b, s)
	if !ok && bad == "" {
		bad = "invalid UTF-8 in " + what
	}
	return b, bad
}
