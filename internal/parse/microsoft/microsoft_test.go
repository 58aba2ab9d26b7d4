package microsoft

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
	"github.com/tarian-soc/tarian/internal/parse/sniff"
)

// parser is what every parser of the package does.
type parser interface {
	Parse(payload []byte, dst *event.Event) error
}

// parse parses payload and returns the fields by name, failing the test on
// an error or a name emitted twice.
func parse(t *testing.T, p parser, payload string) (map[string]string, time.Time) {
	t.Helper()
	ev := event.Event{Fields: []event.Field{{Name: "log.syslog.hostname", Value: "relay"}}}
	if err := p.Parse([]byte(payload), &ev); err != nil {
		t.Fatalf("Parse: %v", err)
	}
	seen := map[string]bool{}
	for _, f := range ev.Fields {
		if seen[f.Name] {
			t.Errorf("field %s emitted twice", f.Name)
		}
		seen[f.Name] = true
	}
	if ev.Fields[0].Name != "log.syslog.hostname" {
		t.Errorf("the envelope's fields were not kept: %v", ev.Fields[0])
	}
	return parsertest.Fields(&ev), ev.Time
}

// want checks that got holds each field of want with an equal value; a
// value "-" means the field must be absent.
func want(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for name, w := range want {
		g, ok := got[name]
		switch {
		case w == "-" && ok:
			t.Errorf("%s = %q, want it absent", name, g)
		case w == "-":
		case !ok:
			t.Errorf("%s missing, want %q", name, w)
		case !parsertest.Equal(g, w):
			t.Errorf("%s = %q, want %q", name, g, w)
		}
	}
}

func TestSplit(t *testing.T) {
	for _, c := range []struct {
		name, payload string
		want          []string
		err           bool
	}{
		{"one record", `{"a":1}`, []string{`{"a":1}`}, false},
		{"event hub batch", `{"records": [ {"a":1} , {"b":"x,]}"} ]}`, []string{`{"a":1}`, `{"b":"x,]}"}`}, false},
		{"array", ` [{"a":[1,2]},{"b":{"c":"\"]"}}]`, []string{`{"a":[1,2]}`, `{"b":{"c":"\"]"}}`}, false},
		{"graph page", `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns","value":[{"id":"1"},{"id":"2"}],"@odata.nextLink":"x"}`, []string{`{"id":"1"}`, `{"id":"2"}`}, false},
		{"value field of a record", `{"value":[1],"name":"x"}`, []string{`{"value":[1],"name":"x"}`}, false},
		{"records beside other keys", `{"records":[{"a":1}],"time":"x"}`, []string{`{"records":[{"a":1}],"time":"x"}`}, false},
		{"empty batch", `{"records":[]}`, nil, false},
		{"empty array", `[]`, nil, false},
		{"not JSON", `hello`, nil, true},
		{"broken JSON", `[{"a":1}`, nil, true},
		{"empty", `  `, nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			recs, err := Split([]byte(c.payload))
			if (err != nil) != c.err {
				t.Fatalf("err = %v, want error %v", err, c.err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, string(r))
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSniff(t *testing.T) {
	for _, c := range []struct {
		payload string
		sniff   func(*sniff.JSON) bool
		want    bool
	}{
		{signInMonitor, SniffSignIn, true},
		{signInGraph, SniffSignIn, true},
		{signInSentinel, SniffSignIn, true},
		{auditMonitor, SniffSignIn, false},
		{auditMonitor, SniffAudit, true},
		{auditGraph, SniffAudit, true},
		{signInMonitor, SniffAudit, false},
		{m365Record, SniffM365, true},
		{m365Sentinel, SniffM365, true},
		{signInMonitor, SniffM365, false},
		{defenderStreamed, SniffDefender, true},
		{defenderAlert, SniffDefender, true},
		{m365Record, SniffDefender, false},
		{windowsRow, SniffSentinel, true},
		{signInMonitor, SniffSentinel, false},
	} {
		if got := c.sniff(sniff.Of([]byte(c.payload))); got != c.want {
			t.Errorf("sniff %.60s = %v, want %v", c.payload, got, c.want)
		}
	}
	strs := sniff.Of([]byte(m365Record))
	if n := testing.AllocsPerRun(100, func() { SniffSignIn(strs) }); n != 0 {
		t.Errorf("SniffSignIn allocates %v times", n)
	}
}

func TestSnakeCase(t *testing.T) {
	for in, out := range map[string]string{
		"riskEventTypes_v2":               "risk_event_types_v2",
		"IPAddress":                       "ipaddress",
		"isCAEToken":                      "is_caetoken",
		"StatusSequence":                  "status_sequence",
		"processingTimeInMilliseconds":    "processing_time_in_milliseconds",
		"aBcD":                            "a_bc_d",
		"Level":                           "level",
		"Ünïcode":                         "ünïcode",
		"InitiatingProcessSHA256":         "initiating_process_sha256",
		"servicePrincipalCredentialKeyId": "service_principal_credential_key_id",
	} {
		if got := snakeCase([]byte(in)); got != out {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, out)
		}
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2007, 1, 9, 9, 41, 0, 0, time.UTC)
	for in, w := range map[string]time.Time{
		"01/09/2007 09:41:00":               want,
		"1/9/2007 09:41:00":                 want,
		"01/09/2007 09:41:00 AM":            want,
		"1/9/2007 9:41:00 AM":               want,
		"1/9/2007 10:41:00 AM +01:00":       want,
		"2007-01-09T09:41:00":               want,
		"2007-01-09T11:41:00+02:00":         want,
		"2007-01-09T09:41:00.6816663Z":      want.Add(681 * time.Millisecond),
		"2007-01-09T09:41:00.992099+00:00":  want.Add(992 * time.Millisecond),
		"2019-10-18T04:45:48.0729893-05:00": time.Date(2019, 10, 18, 9, 45, 48, 72e6, time.UTC),
	} {
		got, ok := parseTime(in)
		if !ok || !got.Equal(w) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", in, got, ok, w)
		}
	}
	for _, bad := range []string{"", "yesterday", "13/45/2007 99:00:00", "2007-13-45T00:00:00Z"} {
		if got, ok := parseTime(bad); ok {
			t.Errorf("parseTime(%q) = %v, want failure", bad, got)
		}
	}
}

func TestResource(t *testing.T) {
	for _, c := range []struct {
		id   string
		want map[string]string
	}{
		{"/tenants/8a4de8b5-095c-47d0-a96f-a75130c61d53/providers/Microsoft.aadiam", map[string]string{
			"azure.resource.provider": "Microsoft.aadiam", "azure.subscription_id": "-",
		}},
		{"/subscriptions/3f2b5e52-8d4d-4a1e-9b8e-0123456789ab/resourceGroups/rg-soc/providers/Microsoft.Compute/virtualMachines/vm01", map[string]string{
			"azure.subscription_id": "3f2b5e52-8d4d-4a1e-9b8e-0123456789ab", "azure.resource.group": "rg-soc",
			"azure.resource.provider": "Microsoft.Compute/virtualMachines", "azure.resource.name": "vm01",
		}},
		{"/SUBSCRIPTIONS/3F2B5E52-8D4D-4A1E-9B8E-0123456789AB/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.EVENTHUB/NAMESPACES/NS1/AUTHORIZATIONRULES/RULE1", map[string]string{
			"azure.resource.group": "RG", "azure.resource.provider": "MICROSOFT.EVENTHUB",
			"azure.resource.namespace": "NS1", "azure.resource.authorization_rule": "RULE1",
		}},
		{"/subscriptions/3f2b5e52-8d4d-4a1e-9b8e-0123456789ab/providers/Microsoft.Insights/diagnosticSettings", map[string]string{
			"azure.resource.provider": "Microsoft.Insights/diagnosticSettings", "azure.resource.group": "-",
		}},
	} {
		var o out
		o.reset(&event.Event{})
		resource(&o, c.id)
		o.finish()
		got := parsertest.Fields(o.ev)
		if got["azure.resource.id"] != c.id {
			t.Errorf("%s: azure.resource.id = %q", c.id, got["azure.resource.id"])
		}
		want(t, got, c.want)
	}
}

func TestClientAddress(t *testing.T) {
	for _, c := range []struct{ in, addr, domain, port string }{
		{"81.2.69.144", "81.2.69.144", "", ""},
		{"81.2.69.144:5060", "81.2.69.144", "", "5060"},
		{"[2001:db8::1]:443", "2001:db8::1", "", "443"},
		{"[2001:db8::1]", "2001:db8::1", "", ""},
		{"2001:db8::1", "2001:db8::1", "", ""},
		{"::ffff:10.1.2.3", "10.1.2.3", "", ""},
		{"[::ffff:10.1.2.3]:12345", "10.1.2.3", "", "12345"},
		{"sanitized", "", "sanitized", ""},
		{"MAIL01 (10.0.0.5)", "10.0.0.5", "MAIL01", ""},
		{"not an address at all", "not an address at all", "", ""},
	} {
		addr, domain, port := clientAddress(c.in)
		if addr != c.addr || domain != c.domain || port != c.port {
			t.Errorf("clientAddress(%q) = %q, %q, %q; want %q, %q, %q", c.in, addr, domain, port, c.addr, c.domain, c.port)
		}
	}
}

func TestUserAgent(t *testing.T) {
	for _, c := range []struct {
		ua   string
		want map[string]string
	}{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/97.0.4692.99 Safari/537.36 Edg/97.0.1072.69", map[string]string{
			"user_agent.name": "Edge", "user_agent.version": "97.0.1072.69", "user_agent.os.name": "Windows",
			"user_agent.os.version": "10", "user_agent.os.full": "Windows 10", "user_agent.device.name": "Other",
		}},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.14; rv:72.0) Gecko/20100101 Firefox/72.0", map[string]string{
			"user_agent.name": "Firefox", "user_agent.version": "72.0.", "user_agent.os.name": "Mac OS X",
			"user_agent.os.version": "10.14", "user_agent.os.full": "Mac OS X 10.14", "user_agent.device.name": "Mac",
		}},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.5 Mobile/15E148 Safari/604.1", map[string]string{
			"user_agent.name": "Mobile Safari", "user_agent.version": "16.5", "user_agent.os.name": "iOS",
			"user_agent.os.version": "16.5", "user_agent.device.name": "iPhone",
		}},
		{"", map[string]string{"user_agent.name": "Other", "user_agent.device.name": "Other", "user_agent.version": "-", "user_agent.os.name": "-"}},
		{"Microsoft Azure Graph Client Library 2.1.17-internal", map[string]string{"user_agent.name": "Other", "user_agent.os.name": "-"}},
	} {
		var o out
		o.reset(&event.Event{})
		userAgent(&o, c.ua)
		o.finish()
		got := parsertest.Fields(o.ev)
		if got["user_agent.original"] != c.ua {
			t.Errorf("user_agent.original = %q", got["user_agent.original"])
		}
		want(t, got, c.want)
	}
}

func TestAppendJSONString(t *testing.T) {
	for in, out := range map[string]string{
		"plain":           `"plain"`,
		"q\"b\\":          `"q\"b\\"`,
		"tab\tnl\ncr\r":   `"tab\tnl\ncr\r"`,
		"\x01":            `"\u0001"`,
		"é€":              `"é€"`,
		"bad\xffutf8":     `"bad\ufffdutf8"`,
		"cut\xe2\x82":     `"cut\ufffd\ufffd"`,
		"":                `""`,
		"<tag> & 'quote'": `"<tag> & 'quote'"`,
	} {
		if got := string(ecs.AppendJSONString(nil, in)); got != out {
			t.Errorf("ecs.AppendJSONString(%q) = %s, want %s", in, got, out)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		name    string
		p       parser
		payload string
		want    error
		text    string
	}{
		{"signin: not JSON", &SignIn{}, `{"category":`, nil, "invalid JSON"},
		{"signin: array", &SignIn{}, `[1,2]`, ErrNotObject, ""},
		{"signin: batch of two", &SignIn{}, `{"records":[` + signInMonitor + `,` + signInMonitor + `]}`, ErrBatch, ""},
		{"signin: audit record", &SignIn{}, auditMonitor, nil, `category "AuditLogs" is not a sign-in log`},
		{"signin: other JSON", &SignIn{}, `{"hello":"world"}`, nil, "not a sign-in record"},
		{"audit: sign-in record", &Audit{}, signInMonitor, nil, `category "SignInLogs" is not AuditLogs`},
		{"audit: other JSON", &Audit{}, `{"hello":"world"}`, nil, "not an audit record"},
		{"m365: other JSON", &M365{}, `{"hello":"world"}`, nil, "not a unified audit record"},
		{"defender: other JSON", &Defender{}, `{"hello":"world"}`, nil, "not a Defender record"},
		{"sentinel: unknown table", &Sentinel{}, `{"Type":"Heartbeat","TimeGenerated":"2024-01-01T00:00:00Z"}`, nil, `table "Heartbeat"`},
		{"sentinel: no table", &Sentinel{}, `{"TimeGenerated":"2024-01-01T00:00:00Z"}`, nil, "no Type column"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ev := event.Event{Fields: []event.Field{{Name: "message", Value: "kept"}}}
			err := c.p.Parse([]byte(c.payload), &ev)
			switch {
			case err == nil:
				t.Fatal("no error")
			case c.want != nil && !errors.Is(err, c.want):
				t.Errorf("err = %v, want %v", err, c.want)
			case c.text != "" && !strings.Contains(err.Error(), c.text):
				t.Errorf("err = %v, want it to say %q", err, c.text)
			}
			if len(ev.Fields) != 1 || ev.Fields[0].Value != "kept" {
				t.Errorf("a refused payload changed the event: %v", ev.Fields)
			}
		})
	}
}
