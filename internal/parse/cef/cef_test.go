package cef

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// recv stands for the receive time the pipeline puts in the envelope.
var recv = time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)

// parse runs one message through a fresh parser, with the envelope's
// time preset, and returns its fields by name. It fails on an error, an
// empty value or a name emitted twice.
func parse(t *testing.T, line string) (map[string]string, *event.Event) {
	t.Helper()
	var p Parser
	ev := &event.Event{Time: recv}
	if err := p.Parse([]byte(line), ev); err != nil {
		t.Fatalf("Parse(%q): %v", line, err)
	}
	seen := map[string]bool{}
	for _, f := range ev.Fields {
		if seen[f.Name] {
			t.Errorf("field %s emitted twice", f.Name)
		}
		seen[f.Name] = true
		if f.Value == "" && !strings.HasPrefix(f.Name, extPrefix) {
			t.Errorf("field %s emitted empty", f.Name)
		}
	}
	return parsertest.Fields(ev), ev
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name   string
		line   string
		want   map[string]string
		absent []string
		time   string
	}{
		{
			name: "firewall deny with the common keys",
			line: `CEF:0|Acme|EdgeWall|4.2.1|fw-deny|Connection denied|7|rt=1770801242123 src=198.51.100.7 spt=50123 dst=10.20.0.5 dpt=3389 proto=TCP act=blocked suser=eve duser=administrator dvchost=edge-1.example.org dvc=192.0.2.1 in=60 out=0 cs1Label=Rule Name cs1=Block RDP request=https://portal.example.org/login?next=/ fname=payload.bin smac=00-0C-29-AA-BB-CC deviceDirection=0 categoryOutcome=/Failure`,
			time: "2026-02-11T09:14:02.123Z",
			want: map[string]string{
				"cef.version": "0", "cef.device.vendor": "Acme", "cef.device.product": "EdgeWall", "cef.device.version": "4.2.1",
				"cef.device.event_class_id": "fw-deny", "cef.name": "Connection denied", "cef.severity": "7",
				"cef.extensions.deviceReceiptTime": "2026-02-11T09:14:02.123Z", "cef.extensions.sourceAddress": "198.51.100.7",
				"cef.extensions.transportProtocol": "TCP", "cef.extensions.deviceCustomString1": "Block RDP",
				"cef.extensions.deviceCustomString1Label": "Rule Name", "cef.labels.Rule_Name": "Block RDP",
				"cef.extensions.sourceMacAddress": "00:0c:29:aa:bb:cc",
				"observer.vendor":                 "Acme", "observer.product": "EdgeWall", "observer.version": "4.2.1", "observer.hostname": "edge-1.example.org",
				"observer.ip": `["192.0.2.1"]`, "event.code": "fw-deny", "message": "Connection denied", "event.severity": "7",
				"event.action": "blocked", "event.outcome": "failure", "event.kind": "event", "event.category": `["network"]`, "event.type": `["denied"]`,
				"source.ip": "198.51.100.7", "source.port": "50123", "destination.ip": "10.20.0.5", "destination.port": "3389",
				"network.transport": "tcp", "network.direction": "inbound", "source.user.name": "eve", "destination.user.name": "administrator",
				"user.name": "eve", "source.bytes": "60", "destination.bytes": "0", "url.original": "https://portal.example.org/login?next=/",
				"file.name": "payload.bin", "source.mac": "00-0C-29-AA-BB-CC",
				"related.ip": `["10.20.0.5","198.51.100.7"]`, "related.user": `["administrator","eve"]`, "related.hosts": `["edge-1.example.org"]`,
				"ecs.version": "8.17.0",
			},
		},
		{
			name: "syslog header in front, time from the header",
			line: `<134>Feb 11 09:20:00 ids-2 CEF:0|Acme|Sensor|1.0|4001|Port scan|High|src=203.0.113.50 dst=10.0.0.0`,
			time: "2026-02-11T09:20:00Z",
			want: map[string]string{"event.severity": "7", "event.category": `["network"]`, "event.type": `["connection"]`},
		},
		{
			name: "escapes in values: \\= \\\\ \\n \\r, unescaped = and | kept",
			line: `CEF:0|Acme|App|1|1|x|3|query=a\=1&b\=2 path=C:\\Temp\\x.exe msg=line one\nline two\r|end eq=a=b pipe=x|y odd=keep\t`,
			want: map[string]string{
				"cef.extensions.query": "a=1&b=2", "cef.extensions.path": `C:\Temp\x.exe`,
				"message": "line one\nline two\r|end", "cef.extensions.message": "line one\nline two\r|end",
				"cef.extensions.eq": "a=b", "cef.extensions.pipe": "x|y", "cef.extensions.odd": `keep\t`,
			},
		},
		{
			name: "values with spaces run to the next key; trailing spaces dropped",
			line: "CEF:0|Acme|App|1|1|x|3|msg=User signed in from 2001:db8::5  via  VPN   dst=10.1.2.3 fname=a b c.txt   \r\n",
			want: map[string]string{"message": "User signed in from 2001:db8::5  via  VPN", "destination.ip": "10.1.2.3", "file.name": "a b c.txt"},
		},
		{
			name: "real newline inside a value and before a key",
			line: "CEF:0|Acme|App|1|1|x|3|msg=first line\nsecond line\nsrc=10.0.0.1",
			want: map[string]string{"message": "first line\nsecond line", "source.ip": "10.0.0.1"},
		},
		{
			name: "zoneless rt read in dtz",
			line: `CEF:0|Acme|App|1|1|x|Very-High|rt=Jul 19 2017 10:50:21.127 dtz=Europe/Moscow`,
			time: "2017-07-19T07:50:21.127Z",
			want: map[string]string{"event.timezone": "Europe/Moscow", "event.severity": "9", "cef.extensions.deviceReceiptTime": "2017-07-19T07:50:21.127Z"},
		},
		{
			name: "rt with a numeric zone, end and start",
			line: `CEF:0|Acme|App|1|1|x|Low|rt=Feb 11 2026 10:00:00 +0100 start=1770800000000 end=Feb 11 2026 09:05:00 UTC`,
			time: "2026-02-11T09:00:00Z",
			want: map[string]string{"event.start": "2026-02-11T08:53:20.000Z", "event.end": "2026-02-11T09:05:00.000Z", "event.severity": "0"},
		},
		{
			name: "end without rt gives the time",
			line: `CEF:0|Acme|App|1|1|x|5|end=1770801242000`,
			time: "2026-02-11T09:14:02Z",
		},
		{
			name: "invalid typed values stay native, stay out of ECS",
			line: `CEF:0|Acme|App|1|1|x|5|src=not-an-ip spt=http dvc=host.example smac=zz:zz cn1=0x1F cs2=`,
			want: map[string]string{"cef.extensions.sourceAddress": "not-an-ip", "cef.extensions.sourcePort": "http",
				"cef.extensions.deviceAddress": "host.example", "cef.extensions.deviceCustomNumber1": "31", "cef.extensions.deviceCustomString2": ""},
			absent: []string{"source.ip", "source.port", "observer.ip", "source.mac", "related.ip"},
		},
		{
			name: "full names, unknown keys, odd key characters, repeated keys",
			line: `CEF:1|Acme|App|1|1|x|5|junk words sourceAddress=10.0.0.9 DeviceCustomString3=v3 weird.key[2]=w a,b=c src=10.0.0.10`,
			want: map[string]string{"cef.version": "1", "source.ip": "10.0.0.10", "cef.extensions.sourceAddress": "10.0.0.10",
				"cef.extensions.deviceCustomString3": "v3", "cef.extensions.weird.key[2]": "w", "cef.extensions.a,b": "c"},
		},
		{
			name:   "requestContext only when it looks like a URL; deviceDirection 1",
			line:   `CEF:0|Acme|Proxy|1|1|x|5|requestContext=none deviceDirection=1 requestMethod=GET requestClientApplication=curl/8.0 outcome=Success`,
			want:   map[string]string{"network.direction": "outbound", "http.request.method": "GET", "user_agent.original": "curl/8.0", "event.outcome": "Success"},
			absent: []string{"http.request.referrer"},
		},
		{
			name: "header only, trailing pipe missing",
			line: `CEF:0|Acme|App|1|1|x|5`,
			want: map[string]string{"cef.severity": "5", "event.category": `["host"]`, "event.type": `["info"]`},
		},
		{
			name: "JSON record carrying the message",
			line: `{"message":"CEF:0|Acme|App|1|1|x|5|src=10.0.0.1","host":{"hostname":"collector"}}`,
			want: map[string]string{"host.hostname": "collector", "source.ip": "10.0.0.1"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ev := parse(t, c.line)
			for k, want := range c.want {
				if g, ok := got[k]; !ok {
					t.Errorf("%s missing (want %q)", k, want)
				} else if g != want {
					t.Errorf("%s = %q, want %q", k, g, want)
				}
			}
			for _, k := range c.absent {
				if v, ok := got[k]; ok {
					t.Errorf("%s = %q, want it absent", k, v)
				}
			}
			want := recv
			if c.time != "" {
				want, _ = time.Parse(time.RFC3339Nano, c.time)
			}
			if !ev.Time.Equal(want) {
				t.Errorf("time = %s, want %s", ev.Time, want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
	}{
		{"", ErrNoHeader.Error()},
		{"LEEF:1.0|a|b|c|d|", ErrNoHeader.Error()},
		{"CEF:x|a|b|c|d|e|f|", ErrVersion.Error()},
		{"CEF:|a|b|c|d|e|f|", ErrVersion.Error()},
		{"CEF:0|a|b|c|d", "CEF: header has 5 of 7 fields"},
		{"CEF:0", "CEF: header has 1 of 7 fields"},
		{`{"x":1}`, ErrNoMessage.Error()},
		{`{"message":`, "CEF: invalid JSON"},
	} {
		var p Parser
		ev := &event.Event{Fields: []event.Field{{Name: "keep", Value: "me"}}}
		err := p.Parse([]byte(c.in), ev)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, want %q", c.in, err, c.want)
		}
		if len(ev.Fields) != 1 {
			t.Errorf("Parse(%q) changed the envelope's fields: %v", c.in, ev.Fields)
		}
	}
	var he headerError
	if !errors.As(headerError(3), &he) || he != 3 {
		t.Error("headerError is not an error type")
	}
}

func TestSniff(t *testing.T) {
	for in, want := range map[string]bool{
		"CEF:0|a|b|c|d|e|f|":                 true,
		"<13>Jan  1 00:00:00 h CEF:1|a|b|c|": true,
		"CEF: text":                          false,
		"LEEF:1.0|a|b":                       false,
		"":                                   false,
	} {
		if got := Sniff([]byte(in)); got != want {
			t.Errorf("Sniff(%q) = %v, want %v", in, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { Sniff([]byte("CEF:0|a|b|c|d|e|f|")) }); n != 0 {
		t.Errorf("Sniff allocates %v times", n)
	}
}

func TestMAC(t *testing.T) {
	for in, want := range map[string]string{
		"00:0C:29:AA:BB:CC": "00:0c:29:aa:bb:cc", "00-0c-29-aa-bb-cc": "00:0c:29:aa:bb:cc",
		"000c.29aa.bbcc": "00:0c:29:aa:bb:cc", "000C29AABBCC": "00:0c:29:aa:bb:cc",
		"0123456789abcdef": "01:23:45:67:89:ab:cd:ef",
	} {
		if got, ok := mac(in); !ok || got != want {
			t.Errorf("mac(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"zz", "00:11", "00:11:22:33:44:55:66"} {
		if _, ok := mac(in); ok {
			t.Errorf("mac(%q) accepted", in)
		}
	}
}

var goldenLines = []string{
	`CEF:0|Acme|EdgeWall|4.2.1|fw-deny|Connection denied|7|rt=1770801242123 src=198.51.100.7 spt=50123 dst=10.20.0.5 dpt=3389 proto=TCP act=blocked dvchost=edge-1 cs1Label=Rule Name cs1=Block RDP cn1Label=Hits cn1=3`,
	`<134>Feb 11 09:20:00 av-1 CEF:0|Acme|Endpoint AV|9.1|mal-01|Malware quarantined|9|suser=ACME\\jdoe shost=laptop-17 fname=invoice.pdf.exe filePath=C:\\Users\\jdoe\\Downloads\\invoice.pdf.exe fileHash=44d88612fea8a8f36de82e1278abb02f act=quarantined msg=Trojan.Generic found\nand quarantined`,
	`CEF:0|Acme|SSO|2.0|auth-fail|User login failed|5|end=Feb 11 2026 09:30:00 +0000 duser=alice src=203.0.113.9 requestClientApplication=Mozilla/5.0 (Windows NT 10.0) outcome=failure reason=bad password`,
}

func TestGolden(t *testing.T) {
	var b bytes.Buffer
	var p Parser
	for i, line := range goldenLines {
		ev := &event.Event{Time: recv}
		if err := p.Parse([]byte(line), ev); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		fmt.Fprintf(&b, "-- %d --\ninput: %s\ntime: %s\n", i+1, line, ev.Time.Format(time.RFC3339Nano))
		for _, f := range ev.Fields {
			fmt.Fprintf(&b, "%s: %q\n", f.Name, f.Value)
		}
	}
	golden := filepath.Join("testdata", "samples.golden")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("%s (-want +got):\n%s", golden, diff)
	}
}

// FuzzParse: no input panics; an input is refused with a "CEF: " reason
// or becomes an event with a CEF version.
func FuzzParse(f *testing.F) {
	for _, l := range goldenLines {
		f.Add([]byte(l))
	}
	for _, s := range []string{
		"", "CEF:", "CEF:0|", `CEF:0|\|\\|||||`, `CEF:0|a|b|c|d|e|f|k=`, `CEF:0|a|b|c|d|e|f|=v k==v \=x=1`,
		`CEF:0|a|b|c|d|e|f|rt=Feb 30 2026 25:00:00 dtz=Nowhere/Zone cs1=x cs1Label=a.b c`,
		`CEF:0|a|b|c|d|e|f|cfp99Label=x cfp99=1e400 c6a0=::1 smac=00000000000000000`,
		`{"message":"CEF:0|a|b|c|d|e|f|src=1.2.3.4"}`, "x CEF:9999999999999999999999|a|b|c|d|e|f|",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var p Parser
		ev := &event.Event{}
		if err := p.Parse(in, ev); err != nil {
			if !strings.HasPrefix(err.Error(), "CEF: ") {
				t.Fatalf("error without reason prefix: %v", err)
			}
			return
		}
		if _, ok := ev.Get("cef.version"); !ok {
			t.Fatal("no cef.version")
		}
	})
}

// TestReuse checks that a reused parser forgets the previous message.
func TestReuse(t *testing.T) {
	var p Parser
	if err := p.Parse([]byte(`CEF:0|A|B|1|x|login|5|src=10.0.0.1 suser=bob cs1Label=L cs1=v rt=1770801242123 fileHash=abc`), &event.Event{}); err != nil {
		t.Fatal(err)
	}
	ev := &event.Event{Time: recv}
	if err := p.Parse([]byte(`CEF:0|A|B|1|y|other|5|dst=10.0.0.2`), ev); err != nil {
		t.Fatal(err)
	}
	got := parsertest.Fields(ev)
	for _, k := range []string{"source.ip", "user.name", "cef.labels.L", "related.hash", "related.user", "cef.extensions.sourceAddress"} {
		if v, ok := got[k]; ok {
			t.Errorf("%s = %q leaked from the previous message", k, v)
		}
	}
	if !ev.Time.Equal(recv) || got["event.category"] != `["network"]` {
		t.Errorf("time %s, category %s", ev.Time, got["event.category"])
	}
}

// TestTimeZones: rt's zone is read as what it names. Go's time.Parse takes
// an abbreviation it does not know (and "+0100" after an "MST" layout
// element) as offset zero; such a time must not become UTC silently.
func TestTimeZones(t *testing.T) {
	recv := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		ext  string
		want time.Time // the event time
		rt   string    // cef.extensions.deviceReceiptTime
	}{
		{"rt=Nov 13 2026 10:00:00 EST", time.Date(2026, 11, 13, 15, 0, 0, 0, time.UTC), "2026-11-13T15:00:00.000Z"},
		{"rt=Nov 13 2026 10:00:00.000 PDT", time.Date(2026, 11, 13, 17, 0, 0, 0, time.UTC), "2026-11-13T17:00:00.000Z"},
		{"rt=Nov 13 2026 10:00:00 CET", time.Date(2026, 11, 13, 9, 0, 0, 0, time.UTC), "2026-11-13T09:00:00.000Z"},
		{"rt=Nov 13 2026 10:00:00 UTC", time.Date(2026, 11, 13, 10, 0, 0, 0, time.UTC), "2026-11-13T10:00:00.000Z"},
		{"rt=Nov 13 2026 10:00:00 +0100", time.Date(2026, 11, 13, 9, 0, 0, 0, time.UTC), "2026-11-13T09:00:00.000Z"},
		{"rt=Nov 13 2026 10:00:00 -0500", time.Date(2026, 11, 13, 15, 0, 0, 0, time.UTC), "2026-11-13T15:00:00.000Z"},
		{"rt=Jul 13 2026 10:00:00.123 Europe/London", time.Date(2026, 7, 13, 9, 0, 0, 123e6, time.UTC), "2026-07-13T09:00:00.123Z"},
		{"rt=Nov 13 2026 10:00:00 Europe/London", time.Date(2026, 11, 13, 10, 0, 0, 0, time.UTC), "2026-11-13T10:00:00.000Z"},
		// The device's zone (dtz) names its own abbreviations; another is
		// read from the table.
		{"rt=Jul 13 2026 10:00:00 CEST dtz=Europe/Berlin", time.Date(2026, 7, 13, 8, 0, 0, 0, time.UTC), "2026-07-13T08:00:00.000Z"},
		{"rt=Nov 13 2026 10:00:00 EST dtz=Europe/Berlin", time.Date(2026, 11, 13, 15, 0, 0, 0, time.UTC), "2026-11-13T15:00:00.000Z"},
		// Unknown or ambiguous: left unread, the next source of time used.
		{"rt=Nov 13 2026 10:00:00 XYZ end=Nov 13 2026 10:00:00 CET", time.Date(2026, 11, 13, 9, 0, 0, 0, time.UTC), "Nov 13 2026 10:00:00 XYZ"},
		{"rt=Nov 13 2026 10:00:00 IST", recv, "Nov 13 2026 10:00:00 IST"},
		{"rt=Nov 13 2026 10:00:00 Nowhere/Zone", recv, "Nov 13 2026 10:00:00 Nowhere/Zone"},
	}
	var p Parser
	for _, tt := range tests {
		ev := &event.Event{Time: recv}
		if err := p.Parse([]byte("CEF:0|V|P|1|1|n|3|"+tt.ext+" src=192.0.2.1"), ev); err != nil {
			t.Fatalf("%s: %v", tt.ext, err)
		}
		rt, _ := ev.Get("cef.extensions.deviceReceiptTime")
		if !ev.Time.Equal(tt.want) || rt != tt.rt {
			t.Errorf("%s: time %s, rt %q; want %s, %q", tt.ext, ev.Time.UTC(), rt, tt.want, tt.rt)
		}
	}
}
