package parse_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse"
	"github.com/tarian-soc/tarian/internal/parse/sniff"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// kv is a small text format for the pipeline's own tests: "kv: a=1 b=2".
type kv struct{}

func (kv) Parse(p []byte, dst *event.Event) error {
	rest, ok := bytes.CutPrefix(p, []byte("kv: "))
	if !ok {
		return errors.New("no kv: prefix")
	}
	for _, pair := range strings.Fields(string(rest)) {
		k, v, _ := strings.Cut(pair, "=")
		if k == "ts" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return err
			}
			dst.Time = t
			continue
		}
		dst.Fields = append(dst.Fields, event.Field{Name: "kv." + k, Value: v})
	}
	return nil
}

// doc is a JSON format: {"doc": {...}} documents, also in batches.
type doc struct{}

func (doc) Parse(p []byte, dst *event.Event) error {
	if !bytes.Contains(p, []byte(`"doc"`)) {
		return errors.New("not a doc")
	}
	dst.Fields = append(dst.Fields, event.Field{Name: "doc.bytes", Value: string(p)}, event.Field{Name: "event.kind", Value: "event"})
	return nil
}

func splitDocs(p []byte) ([][]byte, error) {
	if !bytes.HasPrefix(p, []byte(`{"records":`)) {
		return [][]byte{p}, nil
	}
	var out [][]byte
	for _, part := range bytes.Split(bytes.TrimSuffix(bytes.TrimPrefix(p, []byte(`{"records":[`)), []byte("]}")), []byte("},{")) {
		part = bytes.TrimPrefix(part, []byte("{"))
		part = bytes.TrimSuffix(part, []byte("}"))
		out = append(out, []byte("{"+string(part)+"}"))
	}
	return out, nil
}

func withFormats(t *testing.T) {
	t.Helper()
	t.Cleanup(parse.AddFormat(&parse.Format{Type: "test-kv", New: func() parse.FormatParser { return kv{} },
		Sniff: func(p []byte) bool { return bytes.HasPrefix(p, []byte("kv: ")) }}))
	t.Cleanup(parse.AddFormat(&parse.Format{Type: "test-doc", JSON: true, New: func() parse.FormatParser { return doc{} },
		SniffJSON: func(j *sniff.JSON) bool { return j.Has("doc") }, Split: splitDocs}))
}

var received = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func parseRecord(t *testing.T, cfg parse.Config, tn, receiver, data string) ([]event.Event, error) {
	t.Helper()
	p, err := parse.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p.NewParser().Parse(tenant.ID(tn), event.Raw{Received: received, Source: receiver, Data: []byte(data)}, nil)
}

func get(ev event.Event, name string) string {
	v, _ := ev.Get(name)
	return v
}

func TestDeclaredTypeOverSyslog(t *testing.T) {
	withFormats(t)
	cfg := parse.Config{Sources: []parse.Source{
		{Name: "fw", Tenant: "cardiff", Receiver: "syslog", Host: "FW*", Type: "test-kv", FieldMap: map[string]string{"kv.src": "source.ip"}, Raw: parse.RawAlways},
	}}
	evs, err := parseRecord(t, cfg, "cardiff", "syslog", "<134>1 2026-11-25T10:00:00Z fw01 kvd - - - kv: src=10.0.0.1 ts=2026-11-25T09:59:00Z")
	if err != nil || len(evs) != 1 {
		t.Fatalf("parse: %v, %d events", err, len(evs))
	}
	ev := evs[0]
	for name, want := range map[string]string{
		"kv.src": "10.0.0.1", "source.ip": "10.0.0.1", "log.syslog.hostname": "fw01",
		parse.FieldType: "test-kv", parse.FieldName: "fw", "@timestamp": "2026-11-25T09:59:00.000Z",
		"event.original": "<134>1 2026-11-25T10:00:00Z fw01 kvd - - - kv: src=10.0.0.1 ts=2026-11-25T09:59:00Z",
	} {
		if got := get(ev, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if _, ok := ev.Get(parse.FieldDetected); ok {
		t.Error("a declared type is marked detected")
	}
	if !ev.Time.Equal(time.Date(2026, 11, 25, 9, 59, 0, 0, time.UTC)) {
		t.Errorf("time %s: the format's time must win over the header's", ev.Time)
	}
	names := map[string]int{}
	for _, f := range ev.Fields {
		names[f.Name]++
		if names[f.Name] > 1 {
			t.Errorf("field %s appears twice", f.Name)
		}
	}
	// Another tenant's identical record is not this source's: detected.
	evs, err = parseRecord(t, cfg, "swansea", "syslog", "<134>1 2026-11-25T10:00:00Z fw01 kvd - - - kv: src=10.0.0.1")
	if err != nil || get(evs[0], parse.FieldDetected) != "true" || get(evs[0], parse.FieldName) != "" {
		t.Fatalf("swansea's record: err %v, fields %v", err, evs[0].Fields)
	}
	// A host the glob does not take is not this source's either.
	evs, _ = parseRecord(t, cfg, "cardiff", "syslog", "<134>1 2026-11-25T10:00:00Z web01 kvd - - - kv: src=10.0.0.1")
	if get(evs[0], parse.FieldName) != "" {
		t.Fatalf("host web01 matched FW*: %v", evs[0].Fields)
	}
}

func TestDeclaredTypeRejectsForeignRecord(t *testing.T) {
	withFormats(t)
	cfg := parse.Config{Sources: []parse.Source{{Tenant: "cardiff", Receiver: "syslog", Type: "test-kv"}}}
	_, err := parseRecord(t, cfg, "cardiff", "syslog", "<134>Nov 25 10:00:00 fw01 kvd: not kv at all")
	if err == nil || !strings.Contains(err.Error(), "test-kv: no kv: prefix") {
		t.Fatalf("err = %v, want the format's reason", err)
	}
	cfg.Sources[0].Type = "test-doc"
	if _, err := parseRecord(t, cfg, "cardiff", "syslog", "<134>Nov 25 10:00:00 fw01 kvd: text"); err == nil || !strings.Contains(err.Error(), "not a JSON object") {
		t.Fatalf("JSON type on text: err = %v", err)
	}
}

func TestDetectionFallsBack(t *testing.T) {
	withFormats(t)
	// Sniffed but rejected: the record is kept as the envelope made it.
	evs, err := parseRecord(t, parse.Config{}, "cardiff", "syslog", "<134>Nov 25 10:00:00 fw01 kvd: kv: ts=broken")
	if err != nil || len(evs) != 1 || get(evs[0], parse.FieldType) != "" || get(evs[0], "message") != "kv: ts=broken" {
		t.Fatalf("err %v, events %v", err, evs)
	}
	// Nothing sniffs: plain JSON.
	evs, err = parseRecord(t, parse.Config{}, "cardiff", "http", `{"a":{"b":1},"message":"hello"}`)
	if err != nil || get(evs[0], "a.b") != "1" || get(evs[0], parse.FieldType) != "" {
		t.Fatalf("plain JSON: %v %v", err, evs)
	}
	// A JSON record whose message is a text format.
	evs, err = parseRecord(t, parse.Config{}, "cardiff", "elasticsearch", `{"message":"kv: user=alice","host":{"name":"h1"}}`)
	if err != nil || get(evs[0], "kv.user") != "alice" || get(evs[0], "host.name") != "h1" || get(evs[0], parse.FieldType) != "test-kv" {
		t.Fatalf("text format inside JSON: %v %v", err, evs)
	}
}

func TestJSONFormatAndBatches(t *testing.T) {
	withFormats(t)
	evs, err := parseRecord(t, parse.Config{Raw: parse.RawAlways}, "cardiff", "http", `{"records":[{"doc":1},{"doc":2}]}`)
	if err != nil || len(evs) != 2 {
		t.Fatalf("batch: err %v, %d events", err, len(evs))
	}
	for i, ev := range evs {
		want := `{"doc":` + string(rune('1'+i)) + `}`
		if get(ev, "doc.bytes") != want || get(ev, "event.original") != want || get(ev, parse.FieldDetected) != "true" {
			t.Errorf("event %d: %v", i, ev.Fields)
		}
		if _, ok := ev.Get("records"); ok {
			t.Errorf("event %d holds the flattened batch: a JSON format maps the document itself", i)
		}
	}
}

func TestParseAs(t *testing.T) {
	withFormats(t)
	p, _ := parse.New(parse.Config{Raw: parse.RawAlways})
	pp := p.NewParser()
	evs, err := pp.ParseAs("test-kv", event.Raw{Received: received, Data: []byte("kv: a=1\n")}, nil)
	if err != nil || get(evs[0], "kv.a") != "1" || get(evs[0], "event.original") != "kv: a=1" {
		t.Fatalf("ParseAs: %v %v", err, evs)
	}
	if _, err := pp.ParseAs("nope", event.Raw{Data: []byte("x")}, nil); !errors.Is(err, parse.ErrUnknownType) {
		t.Fatalf("unknown type: %v", err)
	}
	// Parsing appends: earlier events stay.
	evs, _ = pp.ParseAs("auto", event.Raw{Received: received, Data: []byte("kv: b=2")}, evs)
	if len(evs) != 2 || get(evs[0], "kv.a") != "1" || get(evs[1], "kv.b") != "2" {
		t.Fatalf("append: %v", evs)
	}
}

func TestConfigValidate(t *testing.T) {
	withFormats(t)
	for _, c := range []struct {
		src  parse.Source
		want string
	}{
		{parse.Source{Type: "fortigat"}, `sources[0]: type: unknown type "fortigat"`},
		{parse.Source{Name: "x", Type: "test-kv", Receiver: "smtp"}, `sources[0] (x): receiver: unknown receiver "smtp"`},
		{parse.Source{Type: "test-kv", Tenant: "Bad Tenant"}, `sources[0]: tenant: `},
		{parse.Source{Type: "test-kv", Host: "[x"}, `sources[0]: host: bad pattern`},
		{parse.Source{Tenant: "cardiff"}, `sources[0]: type: required`},
	} {
		err := parse.Config{Sources: []parse.Source{c.src}}.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want %q...", c.src, err, c.want)
		}
	}
}

func TestPlainJSONWithFieldMap(t *testing.T) {
	cfg := parse.Config{Sources: []parse.Source{{Name: "app", Tenant: "swansea", Receiver: "http", Type: "json",
		FieldMap: map[string]string{"src": "source.ip", "who.name": "user.name"}}}}
	evs, err := parseRecord(t, cfg, "swansea", "http", `{"src":"192.0.2.7","who":{"name":"bob"},"time":"2026-11-24T08:00:00Z"}`)
	if err != nil || len(evs) != 1 {
		t.Fatalf("err %v events %d", err, len(evs))
	}
	for name, want := range map[string]string{"source.ip": "192.0.2.7", "user.name": "bob", "src": "192.0.2.7",
		"@timestamp": "2026-11-24T08:00:00.000Z", parse.FieldType: "json", parse.FieldName: "app"} {
		if got := get(evs[0], name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if _, err := parseRecord(t, cfg, "swansea", "http", `not json`); err == nil {
		t.Fatal("a record that is not JSON from a JSON receiver must be refused (dead-lettered)")
	}
}

// TestPlainJSONDetected: a JSON document no format takes and with no
// message is plain JSON (parsed: its fields are all there is, so the
// on_parse_error policy keeps no raw copy); one whose message no format
// parses is unparsed, its record kept.
func TestPlainJSONDetected(t *testing.T) {
	cfg := parse.Config{Raw: parse.RawOnParseError}
	evs, err := parseRecord(t, cfg, "cardiff", "http", `{"@timestamp":"2026-11-24T08:00:00Z","event":{"category":"network"},"source":{"ip":"192.0.2.7"}}`)
	if err != nil || len(evs) != 1 {
		t.Fatalf("err %v events %d", err, len(evs))
	}
	if get(evs[0], parse.FieldType) != "json" || get(evs[0], parse.FieldDetected) != "true" || get(evs[0], "source.ip") != "192.0.2.7" {
		t.Errorf("an ECS document: %v", evs[0].Fields)
	}
	if _, ok := evs[0].Get(event.FieldOriginal); ok {
		t.Errorf("an ECS document kept its raw record under on_parse_error: %v", evs[0].Fields)
	}
	evs, err = parseRecord(t, cfg, "cardiff", "http", `{"@timestamp":"2026-11-24T08:00:00Z","message":"zq7 nothing parses this"}`)
	if err != nil || len(evs) != 1 {
		t.Fatalf("err %v events %d", err, len(evs))
	}
	if get(evs[0], parse.FieldType) != "" || get(evs[0], event.FieldOriginal) == "" {
		t.Errorf("a message no format parses: %v", evs[0].Fields)
	}
}

func TestReceiverTypeHint(t *testing.T) {
	withFormats(t)
	// A poller names its records' type; a plain record of the same bytes
	// would be detected instead.
	evs, err := parseRecord(t, parse.Config{}, "cardiff", "poller/json", `{"doc":1}`)
	if err != nil || get(evs[0], parse.FieldType) != "json" || get(evs[0], parse.FieldDetected) != "" {
		t.Fatalf("hinted: %v %v", err, evs)
	}
	// A configured source for the receiver wins over the hint.
	cfg := parse.Config{Sources: []parse.Source{{Receiver: "poller", Type: "test-doc"}}}
	evs, err = parseRecord(t, cfg, "cardiff", "poller/json", `{"doc":1}`)
	if err != nil || get(evs[0], parse.FieldType) != "test-doc" {
		t.Fatalf("source over hint: %v %v", err, evs)
	}
}

func TestTimestamp(t *testing.T) {
	for in, want := range map[time.Time]string{
		time.Date(2026, 4, 3, 0, 31, 9, 0, time.UTC):                            "2026-04-03T00:31:09.000Z",
		time.Date(2026, 4, 3, 0, 31, 9, 374_000_000, time.FixedZone("x", 3600)): "2026-04-02T23:31:09.374Z",
		time.Date(2026, 4, 3, 0, 31, 9, 374_500_000, time.UTC):                  "2026-04-03T00:31:09.3745Z",
	} {
		if got := parse.Timestamp(in); got != want {
			t.Errorf("Timestamp(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestRawPolicy: the raw record is kept as the policy says (the source's
// own, else the configuration's), and by default only for records no
// format parsed.
func TestRawPolicy(t *testing.T) {
	withFormats(t)
	const parsed, unparsed = "<134>1 2026-11-25T10:00:00Z fw01 kvd - - - kv: src=10.0.0.1", "<134>1 2026-11-25T10:00:00Z fw01 app - - - just words"
	for _, tc := range []struct {
		name        string
		cfg         parse.Config
		tenant      string
		keptParsed  bool
		keptOnError bool
	}{
		{"default", parse.Config{}, "cardiff", false, true},
		{"always", parse.Config{Raw: parse.RawAlways}, "cardiff", true, true},
		{"never", parse.Config{Raw: parse.RawNever}, "cardiff", false, false},
		{"source overrides", parse.Config{Raw: parse.RawNever, Sources: []parse.Source{{Tenant: "cardiff", Type: parse.Auto, Raw: parse.RawAlways}}}, "cardiff", true, true},
		{"other tenant's source", parse.Config{Raw: parse.RawNever, Sources: []parse.Source{{Tenant: "cardiff", Type: parse.Auto, Raw: parse.RawAlways}}}, "swansea", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range []struct {
				data string
				want bool
			}{{parsed, tc.keptParsed}, {unparsed, tc.keptOnError}} {
				evs, err := parseRecord(t, tc.cfg, tc.tenant, "syslog", c.data)
				if err != nil || len(evs) != 1 {
					t.Fatalf("parse %q: %v, %d events", c.data, err, len(evs))
				}
				got, kept := evs[0].Get(event.FieldOriginal)
				if kept != c.want || kept && got != c.data {
					t.Errorf("%q: event.original kept %v (%q), want %v", c.data, kept, got, c.want)
				}
			}
		})
	}
	if err := (parse.Config{Raw: "sometimes"}).Validate(); err == nil || !strings.Contains(err.Error(), "raw") {
		t.Errorf("bad raw policy: %v", err)
	}
	if err := (parse.Config{Sources: []parse.Source{{Type: parse.Auto, Raw: "x"}}}).Validate(); err == nil || !strings.Contains(err.Error(), "sources[0]") {
		t.Errorf("bad source raw policy: %v", err)
	}
}

// TestHostRank: HostRank agrees with the fields Host reads, in order, and
// so finds the same host in one pass.
func TestHostRank(t *testing.T) {
	for i, name := range parse.EventHostFields() {
		if got := parse.HostRank(name); got != i {
			t.Errorf("HostRank(%q) = %d, want %d", name, got, i)
		}
	}
	if parse.HostRank("user.name") != -1 {
		t.Error("user.name ranks as a host field")
	}
}

// TestJSONFormatOfText: a JSON object, or Windows XML, sent as text (a
// syslog message, rsyslog's @cee: records, a shipper's message) is read
// by its JSON format, and an application's JSON that no format knows as
// plain JSON, its fields flattened; the text is not kept again as the
// message (the record is the raw layer's), only the message the record
// itself names. Text that only looks like JSON stays the message.
func TestJSONFormatOfText(t *testing.T) {
	const xml = `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>4625</EventID><Channel>Security</Channel><Computer>FS02</Computer><TimeCreated SystemTime='2026-11-09T06:31:44Z'/></System><EventData><Data Name='TargetUserName'>tomos</Data></EventData></Event>`
	const zeekDNS = `{"ts":1764000000.5,"uid":"C1","id.orig_h":"10.0.0.5","id.orig_p":51000,"id.resp_h":"192.0.2.53","id.resp_p":53,"proto":"udp","query":"evil.example","_path":"dns"}`
	for _, c := range []struct {
		name, receiver, record, typ string
		want                        map[string]string
	}{
		{"Windows XML in a syslog message", "syslog", "<14>Nov  9 06:31:45 wec-relay EventLog: " + xml, "windows",
			map[string]string{"TargetUserName": "tomos", "host.name": "FS02", "message": ""}},
		{"Zeek JSON in a syslog message", "syslog", "<134>1 2026-11-24T16:00:00Z sensor1 zeek - - - " + zeekDNS, "zeek",
			map[string]string{"dns.question.name": "evil.example", "source.ip": "10.0.0.5", "host.name": "sensor1", "message": ""}},
		{"an application's JSON with its own message", "syslog", `<134>Nov 24 16:00:00 web1 portal[12]: {"user":"bob","action":"login","message":"user logged in"}`, "json",
			map[string]string{"user": "bob", "action": "login", "message": "user logged in", "host.name": "web1", "process.name": "portal"}},
		{"an @cee: record", "syslog", `<134>Nov 24 16:00:00 web1 portal[12]: @cee: {"user":"bob","@timestamp":"2026-11-24T15:59:58Z"}`, "json",
			map[string]string{"user": "bob", "message": "", "@timestamp": "2026-11-24T15:59:58.000Z"}},
		{"a shipper's message that is JSON", "http", `{"host":{"name":"web1"},"message":"{\"user\":\"bob\",\"action\":\"login\"}"}`, "json",
			map[string]string{"user": "bob", "action": "login", "host.name": "web1", "message": ""}},
		{"an HEC event that is JSON text", "hec", `{"event":"{\"user\":\"bob\",\"action\":\"login\"}","host":"web1","sourcetype":"portal"}`, "json",
			map[string]string{"user": "bob", "action": "login", "host.name": "web1", "message": ""}},
		{"text that only looks like JSON", "syslog", `<134>Nov 24 16:00:00 web1 portal[12]: {not json}`, "",
			map[string]string{"message": "{not json}", "host.name": "web1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			evs, err := parseRecord(t, parse.Config{Raw: parse.RawOnParseError}, "cardiff", c.receiver, c.record)
			if err != nil || len(evs) != 1 {
				t.Fatalf("err %v, %d events", err, len(evs))
			}
			ev := evs[0]
			if got := get(ev, parse.FieldType); got != c.typ {
				t.Errorf("type %q, want %q: %v", got, c.typ, ev.Fields)
			}
			for name, want := range c.want {
				if got := get(ev, name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			n := 0
			for _, f := range ev.Fields {
				if f.Name == event.FieldMessage {
					n++
				}
			}
			if n > 1 {
				t.Errorf("%d message fields: %v", n, ev.Fields)
			}
		})
	}
}
