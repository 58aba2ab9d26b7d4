package leef

import (
	"bytes"
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

var recv = time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)

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
		if f.Value == "" {
			t.Errorf("field %s emitted empty", f.Name)
		}
	}
	return parsertest.Fields(ev), ev
}

// Our own LEEF lines, written after the examples of IBM's LEEF guide.
func TestParse(t *testing.T) {
	for _, c := range []struct {
		name   string
		line   string
		want   map[string]string
		absent []string
		time   string
	}{
		{
			name: "LEEF 1.0, tab-separated",
			line: "LEEF:1.0|Acme|MailGate|3.1|auth-fail|cat=Failed\tsrc=198.51.100.23\tdst=10.0.0.25\tsrcPort=51515\tdstPort=25\tusrName=alice@example.org\tsev=6\tproto=TCP\tdevTime=1770801242123\tisLoginEvent=true",
			time: "2026-02-11T09:14:02.123Z",
			want: map[string]string{
				"leef.version": "1.0", "leef.device.vendor": "Acme", "leef.device.product": "MailGate", "leef.device.version": "3.1",
				"leef.event_id": "auth-fail", "leef.attributes.cat": "Failed", "leef.attributes.usrName": "alice@example.org",
				"observer.vendor": "Acme", "observer.product": "MailGate", "observer.version": "3.1", "event.code": "auth-fail",
				"source.ip": "198.51.100.23", "destination.ip": "10.0.0.25", "source.port": "51515", "destination.port": "25",
				"user.name": "alice@example.org", "source.user.name": "alice@example.org", "event.severity": "6",
				"network.transport": "tcp", "event.outcome": "failure", "event.kind": "event",
				"event.category": `["authentication"]`, "event.type": `["start"]`,
				"related.ip": `["198.51.100.23","10.0.0.25"]`, "related.user": `["alice@example.org"]`, "ecs.version": "8.17.0",
			},
			absent: []string{"leef.delimiter"},
		},
		{
			name: "LEEF 2.0 with a caret delimiter",
			line: "LEEF:2.0|Acme|FlowSensor|2.4|77|^|src=10.1.8.8^dst=10.1.0.5^sev=5^srcPort=8181^dstPort=21^proto=6^srcBytes=1200^dstBytes=800",
			want: map[string]string{"leef.version": "2.0", "leef.delimiter": "^", "source.ip": "10.1.8.8", "destination.port": "21",
				"network.transport": "tcp", "network.iana_number": "6", "source.bytes": "1200", "destination.bytes": "800", "network.bytes": "2000",
				"event.category": `["network"]`, "event.type": `["connection"]`},
		},
		{
			name: "LEEF 2.0 with a hex delimiter, devTimeFormat",
			line: "LEEF:2.0|Acme|Proxy|5|block|x7C|devTime=Feb 11 2026 10:15:30.250 +0100|devTimeFormat=MMM dd yyyy HH:mm:ss.SSS Z|src=10.2.0.9|url=https://bad.example.net/x?y=1|policy=Block malware|usrName=bob",
			time: "2026-02-11T09:15:30.25Z",
			want: map[string]string{"leef.delimiter": "|", "url.original": "https://bad.example.net/x?y=1", "rule.name": "Block malware", "user.name": "bob"},
		},
		{
			name: "delimiter written 0x09; NAT and MAC attributes",
			line: "LEEF:2.0|Acme|FW|1|nat|0x09|srcPreNAT=10.3.0.4\tsrcPostNAT=203.0.113.4\tsrcPreNATPort=4444\tsrcPostNATPort=60001\tdstPostNAT=10.9.9.9\tdst=198.51.100.80\tsrcMAC=00:0c:29:aa:bb:cc\tdstMAC=000C29DDEEFF",
			want: map[string]string{"source.ip": "10.3.0.4", "source.nat.ip": "203.0.113.4", "source.port": "4444", "source.nat.port": "60001",
				"destination.nat.ip": "10.9.9.9", "destination.ip": "198.51.100.80", "source.mac": "00-0C-29-AA-BB-CC", "destination.mac": "00-0C-29-DD-EE-FF"},
		},
		{
			name: "LEEF 2.0 without the delimiter field",
			line: "LEEF:2.0|Acme|App|1|evt|src=10.0.0.1\tdst=10.0.0.2",
			want: map[string]string{"source.ip": "10.0.0.1", "destination.ip": "10.0.0.2"},
		},
		{
			name: "LEEF 1.0 separated by spaces, values with spaces and '='",
			line: "LEEF:1.0|Acme|Exchange|2019|4625|src=10.50.1.1  dst=10.20.20.20  usrName=CORP\\jdoe  reason=bad pass = x  identHostName=mail-01",
			want: map[string]string{"source.ip": "10.50.1.1", "destination.ip": "10.20.20.20", "user.name": `CORP\jdoe`,
				"leef.attributes.reason": "bad pass = x", "host.hostname": "mail-01", "related.hosts": `["mail-01"]`},
		},
		{
			name: "syslog header, escaped pipe in the header, logout",
			line: "<13>Feb 11 11:00:00 relay LEEF:1.0|Acme|Port\\|al|1|user-logout|isLogoutEvent=true\tusrName=carol\taccountName=ignored",
			time: "2026-02-11T11:00:00Z",
			want: map[string]string{"leef.device.product": "Port|al", "event.category": `["authentication"]`, "event.type": `["end"]`, "user.name": "carol"},
		},
		{
			name:   "default devTime format, empty and repeated attributes, invalid values kept native only",
			line:   "LEEF:1.0|Acme|App|1|x|devTime=Feb 11 2026 12:00:00\tempty=\tsrc=not-ip\tsrcPort=-5\tsev=high\tk=1\tk=2\t=orphan",
			time:   "2026-02-11T12:00:00Z",
			want:   map[string]string{"leef.attributes.src": "not-ip", "leef.attributes.k": "2", "leef.attributes.sev": "high", "event.category": `["host"]`},
			absent: []string{"leef.attributes.empty", "source.ip", "source.port", "event.severity"},
		},
		{
			name: "JSON record carrying the message",
			line: `{"message":"LEEF:1.0|Acme|App|1|x|src=10.0.0.1","observer":{"name":"qradar-fw"}}`,
			want: map[string]string{"observer.name": "qradar-fw", "source.ip": "10.0.0.1"},
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
	for _, c := range []struct{ in, want string }{
		{"", ErrNoHeader.Error()},
		{"CEF:0|a|b|c|d|e|f|", ErrNoHeader.Error()},
		{"LEEF:3.0|a|b|c|d|", ErrVersion.Error()},
		{"LEEF:1.0|a|b", "LEEF: header has 3 of 5 fields"},
		{"LEEF:2.0|a|b|c", "LEEF: header has 4 of 6 fields"},
		{"LEEF:2.0|a|b|c|d|xZZ|k=v", ErrDelimiter.Error()},
		{"LEEF:2.0|a|b|c|d|ab|k=v", ErrDelimiter.Error()},
		{`{"m":1}`, ErrNoMessage.Error()},
		{`{"message":`, "LEEF: invalid JSON"},
	} {
		var p Parser
		ev := &event.Event{Fields: []event.Field{{Name: "keep", Value: "me"}}}
		err := p.Parse([]byte(c.in), ev)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, want %q", c.in, err, c.want)
		}
		if len(ev.Fields) != 1 {
			t.Errorf("Parse(%q) changed the envelope's fields", c.in)
		}
	}
}

func TestDelimiter(t *testing.T) {
	for in, want := range map[string]string{"": "\t", "^": "^", "x09": "\t", "0x5E": "^", "X7c": "|", "x2603": "☃", "§": "§"} {
		if got, err := delimiter(in); err != nil || got != want {
			t.Errorf("delimiter(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"ab", "0x", "x12345", "xzz", "x0"} {
		if _, err := delimiter(in); err == nil {
			t.Errorf("delimiter(%q) accepted", in)
		}
	}
}

func TestGoLayout(t *testing.T) {
	for _, c := range []struct{ java, value, want string }{
		{"MMM dd yyyy HH:mm:ss", "Feb 11 2026 09:14:02", "2026-02-11T09:14:02Z"},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSZ", "2026-02-11T09:14:02.123+0100", "2026-02-11T08:14:02.123Z"},
		{"dd/MM/yy hh:mm:ss a", "11/02/26 09:14:02 PM", "2026-02-11T21:14:02Z"},
		{"EEE, d MMMM yyyy HH:mm:ss XXX", "Wed, 11 February 2026 09:14:02 -05:00", "2026-02-11T14:14:02Z"},
		{"yyyy-MM-dd HH:mm:ss,SSS", "2026-02-11 09:14:02,500", "2026-02-11T09:14:02.5Z"},
	} {
		layout, ok := goLayout(c.java)
		if !ok {
			t.Errorf("goLayout(%q) refused", c.java)
			continue
		}
		tm, err := time.Parse(layout, c.value)
		if err != nil {
			t.Errorf("%q → %q: %v", c.java, layout, err)
			continue
		}
		if got := tm.UTC().Format(time.RFC3339Nano); got != c.want {
			t.Errorf("%q on %q = %s, want %s", c.java, c.value, got, c.want)
		}
	}
	for _, java := range []string{"HH:mm:ss:SSS", "yyyy'1'", "QQ yyyy", "HH 2"} {
		if l, ok := goLayout(java); ok {
			t.Errorf("goLayout(%q) = %q, want refused", java, l)
		}
	}
}

func TestSniff(t *testing.T) {
	for in, want := range map[string]bool{
		"LEEF:1.0|a|b|c|d|":           true,
		"<13>Jan 1 h LEEF:2.0|a|b|c|": true,
		"LEEF:x":                      false,
		"CEF:0|a|":                    false,
	} {
		if got := Sniff([]byte(in)); got != want {
			t.Errorf("Sniff(%q) = %v, want %v", in, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { Sniff([]byte("LEEF:1.0|a|b|c|d|")) }); n != 0 {
		t.Errorf("Sniff allocates %v times", n)
	}
}

var goldenLines = []string{
	"LEEF:1.0|Acme|MailGate|3.1|auth-fail|cat=Failed\tsrc=198.51.100.23\tdst=10.0.0.25\tusrName=alice@example.org\tsev=6\tdevTime=1770801242123\tisLoginEvent=true",
	"<134>Feb 11 09:20:00 fw-2 LEEF:2.0|Acme|FW|7.1|deny|^|src=10.1.8.8^dst=203.0.113.5^srcPort=50000^dstPort=443^proto=TCP^srcBytes=100^dstBytes=0^policy=Default deny^cat=Traffic",
}

func TestGolden(t *testing.T) {
	var b bytes.Buffer
	var p Parser
	for i, line := range goldenLines {
		ev := &event.Event{Time: recv}
		if err := p.Parse([]byte(line), ev); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		fmt.Fprintf(&b, "-- %d --\ninput: %q\ntime: %s\n", i+1, line, ev.Time.Format(time.RFC3339Nano))
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

// FuzzParse: no input panics; an input is refused with a "LEEF: " reason
// or becomes an event with a LEEF version.
func FuzzParse(f *testing.F) {
	for _, l := range goldenLines {
		f.Add([]byte(l))
	}
	for _, s := range []string{
		"", "LEEF:", "LEEF:1.0|", "LEEF:2.0|a|b|c|d|x0|", "LEEF:2.0|a|b|c|d|xFFFF|k=v", "LEEF:1.0|a|b|c|d|=\t=\t",
		"LEEF:1.0|a|b|c|d|devTime=x\tdevTimeFormat=SSS yyyy", "LEEF:1.0|a|b|c|d|k=v k2=v2 =x",
		`{"message":"LEEF:1.0|a|b|c|d|src=1.2.3.4"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var p Parser
		ev := &event.Event{}
		if err := p.Parse(in, ev); err != nil {
			if !strings.HasPrefix(err.Error(), "LEEF: ") {
				t.Fatalf("error without reason prefix: %v", err)
			}
			return
		}
		if _, ok := ev.Get("leef.version"); !ok {
			t.Fatal("no leef.version")
		}
	})
}

// TestReuse checks that a reused parser forgets the previous message.
func TestReuse(t *testing.T) {
	var p Parser
	if err := p.Parse([]byte("LEEF:1.0|A|B|1|login|src=10.0.0.1\tusrName=bob\tdevTime=1770801242123\tisLoginEvent=true"), &event.Event{}); err != nil {
		t.Fatal(err)
	}
	ev := &event.Event{Time: recv}
	if err := p.Parse([]byte("LEEF:1.0|A|B|1|x|dst=10.0.0.2"), ev); err != nil {
		t.Fatal(err)
	}
	got := parsertest.Fields(ev)
	for _, k := range []string{"source.ip", "user.name", "related.user", "leef.attributes.src"} {
		if v, ok := got[k]; ok {
			t.Errorf("%s = %q leaked from the previous message", k, v)
		}
	}
	if !ev.Time.Equal(recv) || got["event.category"] != `["network"]` {
		t.Errorf("time %s, category %s", ev.Time, got["event.category"])
	}
}

// TestDevTimeZones: devTime's zone abbreviation is read as what it names,
// never silently as UTC.
func TestDevTimeZones(t *testing.T) {
	recv := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		attrs string
		want  time.Time
	}{
		{"devTime=Nov 13 2026 10:00:00 EST^devTimeFormat=MMM dd yyyy HH:mm:ss z", time.Date(2026, 11, 13, 15, 0, 0, 0, time.UTC)},
		{"devTime=Nov 13 2026 10:00:00 EST", time.Date(2026, 11, 13, 15, 0, 0, 0, time.UTC)},
		{"devTime=Nov 13 2026 10:00:00.000 PDT", time.Date(2026, 11, 13, 17, 0, 0, 0, time.UTC)},
		{"devTime=Nov 13 2026 10:00:00 CET^devTimeFormat=MMM dd yyyy HH:mm:ss zzz", time.Date(2026, 11, 13, 9, 0, 0, 0, time.UTC)},
		{"devTime=Nov 13 2026 10:00:00 GMT", time.Date(2026, 11, 13, 10, 0, 0, 0, time.UTC)},
		// Without a format, "+0100" is an offset, not an unknown name.
		{"devTime=Nov 13 2026 10:00:00 +0100", time.Date(2026, 11, 13, 9, 0, 0, 0, time.UTC)},
		{"devTime=Nov 13 2026 10:00:00.000 +0100^devTimeFormat=MMM dd yyyy HH:mm:ss.SSS Z", time.Date(2026, 11, 13, 9, 0, 0, 0, time.UTC)},
		// Unknown: not read, so the receive time stays.
		{"devTime=Nov 13 2026 10:00:00 XYZ^devTimeFormat=MMM dd yyyy HH:mm:ss z", recv},
		{"devTime=Nov 13 2026 10:00:00 IST", recv},
	}
	var p Parser
	for _, tt := range tests {
		ev := &event.Event{Time: recv}
		if err := p.Parse([]byte("LEEF:2.0|V|P|1|E|^|src=192.0.2.2^"+tt.attrs), ev); err != nil {
			t.Fatalf("%s: %v", tt.attrs, err)
		}
		if !ev.Time.Equal(tt.want) {
			t.Errorf("%s: time %s, want %s", tt.attrs, ev.Time.UTC(), tt.want)
		}
	}
}
