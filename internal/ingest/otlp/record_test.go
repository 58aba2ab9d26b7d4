package otlp

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/tarian-soc/tarian/internal/ingest"
)

// TestRecordShape pins the event each kind of record becomes.
func TestRecordShape(t *testing.T) {
	for _, tc := range []struct {
		name string
		res  func(pcommon.Map)
		rec  func(plog.LogRecord)
		want string
	}{
		{"string body", nil, func(lr plog.LogRecord) { lr.Body().SetStr("a \"quoted\"\n\tline \x01 é ☃") },
			`{"message":"a \"quoted\"\n\tline \u0001 é ☃"}`},
		{"int body", nil, func(lr plog.LogRecord) { lr.Body().SetInt(-42) }, `{"message":"-42"}`},
		{"double body", nil, func(lr plog.LogRecord) { lr.Body().SetDouble(1.5) }, `{"message":"1.5"}`},
		{"bool body", nil, func(lr plog.LogRecord) { lr.Body().SetBool(true) }, `{"message":"true"}`},
		{"bytes body", nil, func(lr plog.LogRecord) { lr.Body().SetEmptyBytes().FromRaw([]byte{0, 0xff, 'a'}) }, `{"body":"AP9h"}`},
		{"nested map body", nil, func(lr plog.LogRecord) {
			m := lr.Body().SetEmptyMap()
			m.PutEmptyMap("user").PutStr("name", "alice")
			m.PutEmptySlice("tags").AppendEmpty().SetStr("x")
			m.PutEmpty("none")
		}, `{"body":{"user":{"name":"alice"},"tags":["x"],"none":null}}`},
		{"odd doubles", nil, func(lr plog.LogRecord) {
			a := lr.Attributes()
			a.PutDouble("nan", math.NaN())
			a.PutDouble("inf", math.Inf(1))
			a.PutDouble("ninf", math.Inf(-1))
			a.PutDouble("big", 1e300)
			a.PutInt("maxint", math.MaxInt64)
		}, `{"attributes":{"nan":"NaN","inf":"Infinity","ninf":"-Infinity","big":1e+300,"maxint":9223372036854775807}}`},
		{"observed time only", nil, func(lr plog.LogRecord) {
			lr.SetObservedTimestamp(pcommon.Timestamp(1795627671658650993))
			lr.Body().SetStr("x")
		}, `{"@timestamp":"2026-11-25T17:27:51.658650993Z","message":"x"}`},
		{"time past int64", nil, func(lr plog.LogRecord) {
			lr.SetTimestamp(pcommon.Timestamp(math.MaxUint64))
			lr.Body().SetStr("x")
		}, `{"message":"x"}`},
		{"event name", nil, func(lr plog.LogRecord) { lr.SetEventName("user.login"); lr.SetSeverityNumber(plog.SeverityNumberInfo) },
			`{"event.severity":9,"event.name":"user.login"}`},
		{"ECS from resource", func(m pcommon.Map) {
			m.PutStr("service.name", "api")
			m.PutStr("service.version", "2.0")
			m.PutStr("deployment.environment", "old")
			m.PutStr("deployment.environment.name", "prod")
			m.PutStr("host.arch", "amd64")
			m.PutStr("cloud.region", "eu-west-2")
			m.PutInt("host.name", 7) // not a string: not lifted
		}, func(lr plog.LogRecord) { lr.Body().SetStr("x") },
			`{"message":"x","service.name":"api","service.version":"2.0","service.environment":"prod","host.architecture":"amd64","cloud.region":"eu-west-2",` +
				`"resource.attributes":{"service.name":"api","service.version":"2.0","deployment.environment":"old","deployment.environment.name":"prod","host.arch":"amd64","cloud.region":"eu-west-2","host.name":7}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ld := plog.NewLogs()
			rl := ld.ResourceLogs().AppendEmpty()
			if tc.res != nil {
				tc.res(rl.Resource().Attributes())
			}
			tc.rec(rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty())
			var b batch
			b.convert(ld, "alpha", time.Unix(1, 0), 1<<20)
			if len(b.dead) != 0 || len(b.recs) != 1 {
				t.Fatalf("%d records, dead letters %+v", len(b.recs), b.dead)
			}
			got := b.recs[0].Data
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if !json.Valid(got) {
				t.Errorf("not JSON: %s", got)
			}
			if b.recs[0].Source != Source || !b.recs[0].Received.Equal(time.Unix(1, 0)) {
				t.Errorf("record meta %+v", b.recs[0])
			}
		})
	}
}

// TestScopeAttributes: scope attributes are kept; a resource or scope
// string that is not UTF-8 dead-letters its records.
func TestScopeAttributes(t *testing.T) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().Attributes().PutStr("lib", "x")
	sl.LogRecords().AppendEmpty().Body().SetStr("ok")
	bad := ld.ResourceLogs().AppendEmpty()
	bad.Resource().Attributes().PutStr("host.name", "h\xc3")
	bad.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr("fine body")
	badScope := rl.ScopeLogs().AppendEmpty()
	badScope.Scope().SetName("\xff")
	badScope.LogRecords().AppendEmpty().Body().SetStr("fine too")
	var b batch
	b.convert(ld, "alpha", time.Unix(1, 0), 1<<20)
	if len(b.recs) != 1 || string(b.recs[0].Data) != `{"message":"ok","scope.attributes":{"lib":"x"}}` {
		t.Errorf("records: %d %s", len(b.recs), b.recs)
	}
	if len(b.dead) != 2 || !strings.Contains(b.dead[0].Reason, "scope: invalid UTF-8 in scope name") ||
		!strings.Contains(b.dead[1].Reason, "resourceLogs[1].scopeLogs[0].logRecords[0]: resource attributes: invalid UTF-8 in string value (kept as OTLP protobuf)") {
		t.Errorf("dead letters: %+v", b.dead)
	}
}

// TestBufferReuse: records of one request stay intact while later ones
// are appended (the buffer grows under them), and a reused batch starts
// empty.
func TestBufferReuse(t *testing.T) {
	ld := plog.NewLogs()
	sl := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	for i := range 2000 {
		sl.LogRecords().AppendEmpty().Body().SetStr(strings.Repeat(string(rune('a'+i%26)), 100))
	}
	var b batch
	for range 2 {
		b.reset()
		b.convert(ld, "alpha", time.Unix(1, 0), 1<<20)
		if len(b.recs) != 2000 {
			t.Fatalf("%d records", len(b.recs))
		}
		for i, r := range b.recs {
			want := `{"message":"` + strings.Repeat(string(rune('a'+i%26)), 100) + `"}`
			if string(r.Data) != want {
				t.Fatalf("record %d: %s", i, r.Data)
			}
		}
	}
}

// fuzzHandler returns a handler with an empty sink for one fuzz input.
func fuzzHandler(t testing.TB) (http.Handler, *memSink) {
	sink := newMemSink()
	cfg := DefaultConfig()
	cfg.MaxRecordBytes = 4096
	r, err := New(cfg, ingest.Deps{Sink: sink, DeadLetters: sink, Auth: testTokens, Metrics: sink})
	if err != nil {
		t.Fatal(err)
	}
	return r.Handler(), sink
}

// fuzzRequest posts body and checks what any body must come to: 200 with
// every record of the request either an event (a JSON object) or a dead
// letter reported as rejected, or 400 with the body dead-lettered whole.
func fuzzRequest(t *testing.T, contentType string, body []byte) {
	h, sink := fuzzHandler(t)
	req := httptest.NewRequest(http.MethodPost, "/v1/logs", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+tokA)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	recs, dead := sink.Records("alpha"), sink.DeadLetters("alpha")
	switch w.Code {
	case 200:
		ereq := plogotlp.NewExportRequest()
		var err error
		if len(body) > 0 {
			if contentType == typeJSON {
				err = ereq.UnmarshalJSON(body)
			} else {
				err = ereq.UnmarshalProto(body)
			}
		}
		if err != nil {
			t.Fatalf("accepted a body pdata refuses: %v", err)
		}
		if n := ereq.Logs().LogRecordCount(); len(recs)+len(dead) != n {
			t.Fatalf("%d records: %d events + %d dead letters", n, len(recs), len(dead))
		}
		for _, r := range recs {
			var m map[string]any
			if err := json.Unmarshal(r.Data, &m); err != nil {
				t.Fatalf("event is not a JSON object: %v: %q", err, r.Data)
			}
		}
		if len(dead) > 0 {
			resp := plogotlp.NewExportResponse()
			var err error
			if contentType == typeJSON {
				err = resp.UnmarshalJSON(w.Body.Bytes())
			} else {
				err = resp.UnmarshalProto(w.Body.Bytes())
			}
			if err != nil || resp.PartialSuccess().RejectedLogRecords() != int64(len(dead)) {
				t.Fatalf("reply %q does not report %d rejected: %v", w.Body.Bytes(), len(dead), err)
			}
		}
	case 400:
		if len(recs) != 0 || len(dead) != 1 || !bytes.Equal(dead[0].Data, body) || dead[0].Reason == "" {
			t.Fatalf("400 with %d records and dead letters %+v", len(recs), dead)
		}
	default:
		t.Fatalf("status %d: %s", w.Code, w.Body.Bytes())
	}
}

// FuzzHTTPProto feeds OTLP/HTTP protobuf bodies to the handler.
func FuzzHTTPProto(f *testing.F) {
	b, _ := plogotlp.NewExportRequestFromLogs(sampleLogs()).MarshalProto()
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte{})
	f.Add([]byte("\n\x00"))
	ld := plog.NewLogs()
	sl := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	sl.LogRecords().AppendEmpty().Body().SetStr("\xff")
	sl.LogRecords().AppendEmpty()
	b, _ = plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	f.Add(b)
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzRequest(t, typeProto, body)
	})
}

// FuzzHTTPJSON feeds OTLP/HTTP JSON bodies to the handler.
func FuzzHTTPJSON(f *testing.F) {
	b, _ := plogotlp.NewExportRequestFromLogs(sampleLogs()).MarshalJSON()
	f.Add(b)
	f.Add(b[:len(b)/2])
	for _, s := range []string{"", "{}", "null", "[]", `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{}]}]}]}`,
		`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"kvlistValue":{"values":[{"key":"a","value":{"doubleValue":"NaN"}}]}},"timeUnixNano":"18446744073709551615","traceId":"00"}]}]}]}`,
		`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"\ud800"},"attributes":[{"key":"\u0000","value":{"bytesValue":"/w=="}}]}]}]}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzRequest(t, typeJSON, body)
	})
}
