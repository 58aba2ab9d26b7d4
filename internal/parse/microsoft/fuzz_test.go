package microsoft

import (
	"bytes"
	"testing"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
)

var seeds = []string{
	signInMonitor, signInFailure, signInServicePrincipal, signInGraph, signInSentinel,
	auditMonitor, auditGraph, auditSentinel,
	m365Record, m365Exchange, m365SharePoint, m365AADUser, m365DLP, m365Teams, m365Wazuh, m365Sentinel,
	defenderStreamed, defenderNetwork, defenderLogon, defenderAlert,
	windowsRow, windowsSysmon,
	`{"records":[` + signInFailure + `]}`,
	`{"records":[1,2]}`, `[]`, `{}`, `null`, `"x"`, `{"properties":{}}`, `{"category":"SignInLogs","properties":[]}`,
	`{"category":"SignInLogs","properties":{"status":"x","location":1,"authenticationProcessingDetails":[1,{"key":2}]}}`,
	`{"Type":"SecurityEvent","EventID":{}}`, `{"CreationTime":1,"ClientIP":"[::ffff:1.2.3.4]:0"}`,
	`{"operationName":"A/B","resourceId":"/subscriptions/x","identity":{"claims":{"upn":7}},"durationMs":"x"}`,
	`{"Type":"AzureActivity","OperationNameValue":"","Properties":"{\"a\":[{}]}","ResourceId":1,"_ResourceId":"/providers/p"}`,
}

// fuzzParser checks that p never panics, refuses a payload without
// touching the event, and on success gives fields with names, JSON arrays
// that parse, and valid UTF-8 where the payload was valid.
func fuzzParser(f *testing.F, newParser func() parser) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		p := newParser()
		ev := event.Event{Fields: []event.Field{{Name: "envelope", Value: "kept"}}}
		err := p.Parse(payload, &ev)
		if ev.Fields[0] != (event.Field{Name: "envelope", Value: "kept"}) {
			t.Fatalf("the envelope field changed: %v", ev.Fields[0])
		}
		if err != nil {
			if len(ev.Fields) != 1 {
				t.Fatalf("refused (%v) but left %d fields", err, len(ev.Fields)-1)
			}
			return
		}
		for _, fl := range ev.Fields {
			if fl.Name == "" {
				t.Fatalf("a field without a name: %q", fl.Value)
			}
			if isListField(fl.Name) {
				if err := fastjson.Validate(fl.Value); err != nil {
					t.Fatalf("%s = %q is not JSON: %v", fl.Name, fl.Value, err)
				}
			}
			if utf8.Valid(payload) && bytes.IndexByte(payload, '\\') < 0 && !utf8.ValidString(fl.Value) {
				t.Fatalf("%s = %q is not UTF-8", fl.Name, fl.Value)
			}
		}
		// A second parse with the same parser gives the same fields: no
		// state leaks between calls.
		again := event.Event{Fields: []event.Field{{Name: "envelope", Value: "kept"}}}
		if err := p.Parse(payload, &again); err != nil || len(again.Fields) != len(ev.Fields) {
			t.Fatalf("second parse: %v, %d fields, want %d", err, len(again.Fields), len(ev.Fields))
		}
	})
}

func isListField(name string) bool {
	switch name {
	case "event.category", "event.type", "related.ip", "related.user", "related.entity", "related.hash", "related.hosts":
		return true
	}
	return false
}

func FuzzSignIn(f *testing.F)   { fuzzParser(f, func() parser { return &SignIn{} }) }
func FuzzAudit(f *testing.F)    { fuzzParser(f, func() parser { return &Audit{} }) }
func FuzzM365(f *testing.F)     { fuzzParser(f, func() parser { return &M365{} }) }
func FuzzDefender(f *testing.F) { fuzzParser(f, func() parser { return &Defender{} }) }
func FuzzSentinel(f *testing.F) { fuzzParser(f, func() parser { return &Sentinel{} }) }
func FuzzActivity(f *testing.F) { fuzzParser(f, func() parser { return &Activity{} }) }

// FuzzSplit checks that Split never panics, and that each record it
// returns is a slice of the payload that is valid JSON.
func FuzzSplit(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"value":[{"a":"]"},{"b":"\"}"}],"@odata.context":"x"}`))
	f.Add([]byte(` [ {"a":1} , [2] , "x" ] `))
	f.Fuzz(func(t *testing.T, payload []byte) {
		recs, err := Split(payload)
		if err != nil {
			return
		}
		for _, r := range recs {
			if err := fastjson.ValidateBytes(r); err != nil {
				t.Fatalf("record %q of %q is not JSON: %v", r, payload, err)
			}
			if !bytes.Contains(payload, r) {
				t.Fatalf("record %q is not part of the payload", r)
			}
		}
	})
}
