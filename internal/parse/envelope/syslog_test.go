package envelope

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/ingest/syslog"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestSyslogParse(t *testing.T) {
	recv := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	pri := func(p, fc int, fn string, sc int, sn string) []event.Field {
		return []event.Field{f("log.syslog.priority", strconv.Itoa(p)), f("log.syslog.facility.code", strconv.Itoa(fc)), f("log.syslog.facility.name", fn),
			f("log.syslog.severity.code", strconv.Itoa(sc)), f("log.syslog.severity.name", sn)}
	}
	tail := func(ts, msg, orig string) []event.Field {
		return []event.Field{f("@timestamp", ts), f("message", msg), f("event.original", orig), f("event.ingested", "2026-11-25T18:00:00Z")}
	}
	cat := func(parts ...[]event.Field) []event.Field {
		var out []event.Field
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name   string
		in     string
		recv   time.Time
		time   time.Time
		fields []event.Field
	}{
		{
			name: "RFC 5424 with structured data and escapes in it",
			in:   `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 99 ID47 [exampleSDID@32473 iut="3" eventSource="App\"lication\]"][meta x="1"] ` + "\ufeffAn event",
			time: time.Date(2003, 10, 11, 22, 14, 15, 3e6, time.UTC),
			fields: cat(pri(165, 20, "local4", 5, "notice"), []event.Field{
				f("log.syslog.version", "1"),
				f("log.syslog.hostname", "mymachine.example.com"), f("host.hostname", "mymachine.example.com"), f("host.name", "mymachine.example.com"),
				f("log.syslog.appname", "evntslog"), f("process.name", "evntslog"),
				f("log.syslog.procid", "99"), f("process.pid", "99"), f("log.syslog.msgid", "ID47"),
				f("log.syslog.structured_data.exampleSDID@32473.iut", "3"),
				f("log.syslog.structured_data.exampleSDID@32473.eventSource", `App"lication]`),
				f("log.syslog.structured_data.meta.x", "1"),
			}, tail("2003-10-11T22:14:15.003Z", "An event", `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 99 ID47 [exampleSDID@32473 iut="3" eventSource="App\"lication\]"][meta x="1"] `+"\ufeffAn event")),
		},
		{
			name: "RFC 5424 relayed from 3164 by rsyslog: two spaces, #012 and #011",
			in:   "<12>1 2026-11-25T17:17:31.128336+00:00 council-web01 multiline - - -  first line#012second line#011with tab#0xx#",
			time: time.Date(2026, 11, 25, 17, 17, 31, 128336000, time.UTC),
			fields: cat(pri(12, 1, "user", 4, "warning"), []event.Field{
				f("log.syslog.version", "1"),
				f("log.syslog.hostname", "council-web01"), f("host.hostname", "council-web01"), f("host.name", "council-web01"),
				f("log.syslog.appname", "multiline"), f("process.name", "multiline"),
			}, tail("2026-11-25T17:17:31.128336Z", "first line\nsecond line\twith tab#0xx#", "<12>1 2026-11-25T17:17:31.128336+00:00 council-web01 multiline - - -  first line#012second line#011with tab#0xx#")),
		},
		{
			name: "RFC 5424, all nil, no MSG",
			in:   "<0>1 - - - - - -",
			time: recv,
			fields: cat(pri(0, 0, "kern", 0, "emergency"), []event.Field{f("log.syslog.version", "1")},
				tail("2026-11-25T18:00:00Z", "", "<0>1 - - - - - -")),
		},
		{
			name: "RFC 3164 with pid",
			in:   "<86>Nov 25 17:17:31 council-web01 sshd[4123]: Failed password",
			time: time.Date(2026, 11, 25, 17, 17, 31, 0, time.UTC),
			fields: cat(pri(86, 10, "authpriv", 6, "informational"), []event.Field{
				f("log.syslog.hostname", "council-web01"), f("host.hostname", "council-web01"), f("host.name", "council-web01"),
				f("log.syslog.appname", "sshd"), f("process.name", "sshd"),
				f("log.syslog.procid", "4123"), f("process.pid", "4123"),
			}, tail("2026-11-25T17:17:31Z", "Failed password", "<86>Nov 25 17:17:31 council-web01 sshd[4123]: Failed password")),
		},
		{
			name: "RSYSLOG_ForwardFormat: RFC 3339 time, message keeps its own leading spaces",
			in:   "<85>2026-11-25T17:17:31.102299+00:00 council-web01 sudo:   jsmith : TTY=pts/0",
			time: time.Date(2026, 11, 25, 17, 17, 31, 102299000, time.UTC),
			fields: cat(pri(85, 10, "authpriv", 5, "notice"), []event.Field{
				f("log.syslog.hostname", "council-web01"), f("host.hostname", "council-web01"), f("host.name", "council-web01"),
				f("log.syslog.appname", "sudo"), f("process.name", "sudo"),
			}, tail("2026-11-25T17:17:31.102299Z", "  jsmith : TTY=pts/0", "<85>2026-11-25T17:17:31.102299+00:00 council-web01 sudo:   jsmith : TTY=pts/0")),
		},
		{
			name: "RFC 3164, no tag: CEF payload stays whole",
			in:   "<132>May  1 10:22:33 council-web01 CEF:0|Vendor|FW|1.0|100|denied|5|src=10.1.2.3",
			time: time.Date(2026, 5, 1, 10, 22, 33, 0, time.UTC),
			fields: cat(pri(132, 16, "local0", 4, "warning"), []event.Field{
				f("log.syslog.hostname", "council-web01"), f("host.hostname", "council-web01"), f("host.name", "council-web01"),
			}, tail("2026-05-01T10:22:33Z", "CEF:0|Vendor|FW|1.0|100|denied|5|src=10.1.2.3", "<132>May  1 10:22:33 council-web01 CEF:0|Vendor|FW|1.0|100|denied|5|src=10.1.2.3")),
		},
		{
			name: "RFC 3164, no hostname, fractional seconds",
			in:   "<13>Mar  7 08:09:10.250 su: session opened",
			time: time.Date(2026, 3, 7, 8, 9, 10, 250e6, time.UTC),
			fields: cat(pri(13, 1, "user", 5, "notice"), []event.Field{
				f("log.syslog.appname", "su"), f("process.name", "su"),
			}, tail("2026-03-07T08:09:10.25Z", "session opened", "<13>Mar  7 08:09:10.250 su: session opened")),
		},
		{
			name: "RFC 3164 from December received in January: last year",
			in:   "<13>Dec 31 23:59:58 h app: x",
			recv: time.Date(2027, 1, 1, 0, 0, 5, 0, time.UTC),
			time: time.Date(2026, 12, 31, 23, 59, 58, 0, time.UTC),
			fields: cat(pri(13, 1, "user", 5, "notice"), []event.Field{
				f("log.syslog.hostname", "h"), f("host.hostname", "h"), f("host.name", "h"), f("log.syslog.appname", "app"), f("process.name", "app"),
			}, []event.Field{f("@timestamp", "2026-12-31T23:59:58Z"), f("message", "x"), f("event.original", "<13>Dec 31 23:59:58 h app: x"), f("event.ingested", "2027-01-01T00:00:05Z")}),
		},
		{
			name: "RFC 3164 from a clock already in January, received 31 December: next year",
			in:   "<13>Jan  1 00:00:01 h app: x",
			recv: time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC),
			time: time.Date(2027, 1, 1, 0, 0, 1, 0, time.UTC),
			fields: cat(pri(13, 1, "user", 5, "notice"), []event.Field{
				f("log.syslog.hostname", "h"), f("host.hostname", "h"), f("host.name", "h"), f("log.syslog.appname", "app"), f("process.name", "app"),
			}, []event.Field{f("@timestamp", "2027-01-01T00:00:01Z"), f("message", "x"), f("event.original", "<13>Jan  1 00:00:01 h app: x"), f("event.ingested", "2026-12-31T23:59:59Z")}),
		},
		{
			name: "RFC 3164 from January replayed in December: this year, not next",
			in:   "<13>Jan  2 10:00:00 h app: x",
			recv: time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC),
			time: time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC),
			fields: cat(pri(13, 1, "user", 5, "notice"), []event.Field{
				f("log.syslog.hostname", "h"), f("host.hostname", "h"), f("host.name", "h"), f("log.syslog.appname", "app"), f("process.name", "app"),
			}, []event.Field{f("@timestamp", "2026-01-02T10:00:00Z"), f("message", "x"), f("event.original", "<13>Jan  2 10:00:00 h app: x"), f("event.ingested", "2026-12-07T16:00:00Z")}),
		},
		{
			name:   "not syslog at all: kept whole",
			in:     "date=2024-05-01 time=10:22:33 devname=\"FGT\"",
			time:   recv,
			fields: tail("2026-11-25T18:00:00Z", "date=2024-05-01 time=10:22:33 devname=\"FGT\"", "date=2024-05-01 time=10:22:33 devname=\"FGT\""),
		},
		{
			name:   "PRI out of range: not syslog",
			in:     "<192>Nov 25 17:17:31 h x: y",
			time:   recv,
			fields: tail("2026-11-25T18:00:00Z", "<192>Nov 25 17:17:31 h x: y", "<192>Nov 25 17:17:31 h x: y"),
		},
		{
			name:   "PRI only, no timestamp",
			in:     "<13>just text",
			time:   recv,
			fields: cat(pri(13, 1, "user", 5, "notice"), tail("2026-11-25T18:00:00Z", "just text", "<13>just text")),
		},
		{
			name: "RFC 5424 with bad structured data: the rest is the message",
			in:   "<13>1 - h a - - [x y=unquoted] m",
			time: recv,
			fields: cat(pri(13, 1, "user", 5, "notice"), []event.Field{
				f("log.syslog.version", "1"), f("log.syslog.hostname", "h"), f("host.hostname", "h"), f("host.name", "h"), f("log.syslog.appname", "a"), f("process.name", "a"),
			}, tail("2026-11-25T18:00:00Z", "[x y=unquoted] m", "<13>1 - h a - - [x y=unquoted] m")),
		},
	}
	var p Syslog
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := recv
			if !tt.recv.IsZero() {
				r = tt.recv
			}
			var ev event.Event
			if err := p.Parse(event.Raw{Received: r, Source: "syslog", Data: []byte(tt.in)}, &ev); err != nil {
				t.Fatal(err)
			}
			if !ev.Time.Equal(tt.time) {
				t.Errorf("time = %v, want %v", ev.Time, tt.time)
			}
			if diff := cmp.Diff(tt.fields, ev.Fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
	var ev event.Event
	for _, in := range []string{"", " \r\n"} {
		if err := p.Parse(event.Raw{Received: recv, Data: []byte(in)}, &ev); err != ErrEmpty {
			t.Errorf("Parse(%q) = %v, want ErrEmpty", in, err)
		}
	}
}

// syslogCaptures are the syslog captures under $TARIAN_CORPUS: byte
// streams, and folders of one datagram per file.
var syslogCaptures = []string{
	"wire/rsyslog/rsyslog-rfc5424-tcp-octet.bin",
	"wire/rsyslog/rsyslog-rfc5424-tls-gtls-octet.bin",
	"wire/rsyslog/rsyslog-rfc5424-tls-ossl-octet.bin",
	"wire/rsyslog/rsyslog-forwardformat-tcp-lf.bin",
	"wire/rsyslog/rsyslog-rfc3164-udp",
	"wire/rsyslog/rsyslog-rfc5424-udp",
	"wire/syslog-ng/syslog-ng-rfc5424-tcp-octet.bin",
	"wire/syslog-ng/syslog-ng-rfc5424-tls-octet.bin",
	"wire/syslog-ng/syslog-ng-rfc3164-tcp-lf.bin",
	"wire/clients/node-syslog-client-rfc5424-tcp.bin",
	"wire/clients/node-syslog-client-rfc3164-tcp.bin",
}

// captureMessages returns the messages of one capture, framed as the
// receiver frames them.
func captureMessages(t testing.TB, dir, capture string) [][]byte {
	t.Helper()
	path := filepath.Join(dir, capture)
	var msgs [][]byte
	if strings.HasSuffix(capture, ".bin") {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, fr := range syslog.Split(b, 64<<10) {
			if fr.Bad != "" {
				t.Fatalf("%s: malformed frame: %s", capture, fr.Bad)
			}
			msgs = append(msgs, fr.Msg)
		}
		return msgs
	}
	files, err := filepath.Glob(filepath.Join(path, "*.bin"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no datagrams in %s: %v", capture, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, bytes.TrimSuffix(b, []byte("\n")))
	}
	return msgs
}

// TestSyslogCaptures parses every message of every capture and compares
// the events with testdata/syslog/<capture>.txtar (event.original, the
// input itself, and event.ingested are checked, not stored).
func TestSyslogCaptures(t *testing.T) {
	dir := os.Getenv("TARIAN_CORPUS")
	if dir == "" {
		t.Skip("TARIAN_CORPUS not set: skipping the syslog parser's golden tests on captured messages (set it to ../shared/corpus)")
	}
	recv := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	var p Syslog
	for _, c := range syslogCaptures {
		t.Run(filepath.Base(c), func(t *testing.T) {
			var got bytes.Buffer
			fmt.Fprintf(&got, "capture: %s\nreceived: %s\n", c, recv.Format(time.RFC3339))
			for i, msg := range captureMessages(t, dir, c) {
				var ev event.Event
				if err := p.Parse(event.Raw{Received: recv, Source: "syslog", Data: msg}, &ev); err != nil {
					t.Fatalf("message %d: %v", i+1, err)
				}
				fmt.Fprintf(&got, "-- %d --\ntime: %s\n", i+1, ev.Time.Format(time.RFC3339Nano))
				for _, fl := range ev.Fields {
					switch fl.Name {
					case event.FieldOriginal:
						if fl.Value != string(msg) {
							t.Errorf("message %d: event.original = %q, want the input", i+1, fl.Value)
						}
					case event.FieldIngested:
					case event.FieldMessage:
						// The text itself stays in the corpus; its digest checks it.
						sum := sha256.Sum256([]byte(fl.Value))
						fmt.Fprintf(&got, "%s: %d bytes sha256:%x\n", fl.Name, len(fl.Value), sum[:12])
					default:
						fmt.Fprintf(&got, "%s: %s\n", fl.Name, strconv.Quote(fl.Value))
					}
				}
			}
			golden := filepath.Join("testdata", "syslog", filepath.Base(c)+".txtar")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got.String()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

// FuzzSyslog: no input panics; every non-empty record becomes an event
// that keeps the record whole as event.original.
func FuzzSyslog(f *testing.F) {
	for _, s := range []string{
		"<165>1 2003-10-11T22:14:15.003Z h app 1 ID [a b=\"c\\\"\"][d e=\"\"] \ufeffmsg",
		"<86>Nov 25 17:17:31 council-web01 sshd[4123]: Failed password",
		"<85>2026-11-25T17:17:31.102299+00:00 h sudo:   x",
		"<12>1 - - - - - -  a#012b#011c",
		"<132>May  1 10:22:33 h CEF:0|a|b",
		"<13>Jan  1 00:00:01.123456789123 x",
		"plain", "<", "<1>", "<191>1 ", "<0>Feb 29 00:00:00 h t[: x",
	} {
		f.Add([]byte(s))
	}
	if dir := os.Getenv("TARIAN_CORPUS"); dir != "" {
		for _, c := range syslogCaptures {
			for _, m := range captureMessages(f, dir, c) {
				f.Add(m)
			}
		}
	}
	recv := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, in []byte) {
		var p Syslog
		var ev event.Event
		err := p.Parse(event.Raw{Received: recv, Source: "syslog", Data: in}, &ev)
		if len(bytes.TrimSpace(in)) == 0 {
			if err != ErrEmpty {
				t.Fatalf("empty record: err = %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if o, _ := ev.Get(event.FieldOriginal); o != string(in) {
			t.Fatalf("event.original = %q, want %q", o, in)
		}
		if _, ok := ev.Get(event.FieldMessage); !ok {
			t.Fatal("no message")
		}
		if ev.Time.IsZero() {
			t.Fatal("no time")
		}
		if utf8.Valid(in) {
			for _, fl := range ev.Fields {
				if !utf8.ValidString(fl.Value) && fl.Name != event.FieldMessage {
					t.Fatalf("%s = %q: not UTF-8 from UTF-8 input", fl.Name, fl.Value)
				}
			}
		}
	})
}

// TestSyslogTagIsNotADevicePayload checks that the first word of a
// device's payload is not taken for the program name.
func TestSyslogTagIsNotADevicePayload(t *testing.T) {
	var p Syslog
	for _, msg := range []string{
		"%ASA-6-302013: Built outbound TCP connection 1 for outside:192.0.2.1/443",
		"1,2026/11/25 10:00:00,012801000000,TRAFFIC,end,2561,2026/11/25 10:00:00,10.0.0.1",
		`device="SFW" date=2026-11-25 time=10:00:00 log_id=010101600001`,
		`date=2026-11-25 time=10:00:00 devname="FW01" logid="0100032002"`,
	} {
		var ev event.Event
		if err := p.Parse(event.Raw{Data: []byte("<134>Nov 25 10:00:00 fw01 " + msg)}, &ev); err != nil {
			t.Fatal(err)
		}
		if app, ok := ev.Get(FieldSyslogAppname); ok {
			t.Errorf("%q: app-name %q", msg, app)
		}
		if got, _ := ev.Get(event.FieldMessage); got != msg {
			t.Errorf("message %q, want %q", got, msg)
		}
	}
}

// TestSyslogEscapes: rsyslog's #ooo escapes are decoded only where an
// rsyslog relay can have written them (RFC 3164, and 3164 relayed as 5424)
// and only for control characters; ordinary text is never rewritten.
func TestSyslogEscapes(t *testing.T) {
	tests := []struct{ in, msg string }{
		// RFC 3164: control characters decoded, "#ooo" followed by a digit
		// and non-control codes kept.
		{"<13>Nov 12 01:02:03 helpdesk app: a#012b#011c#015#033[0m", "a\nb\tc\r\x1b[0m"},
		{"<13>Nov 12 01:02:03 helpdesk app: ticket #0123 closed; #040 #377 #08 #", "ticket #0123 closed; #040 #377 #08 #"},
		{"<13>Nov 12 01:02:03 helpdesk app: see #011 and #000 and #177", "see \t and \x00 and \x7f"},
		{"<13>Nov 12 01:02:03 helpdesk app: end#012", "end\n"},
		// RFC 5424 from its own sender: never decoded.
		{"<13>1 2026-11-12T01:02:03Z helpdesk app - - - invoice #012 paid", "invoice #012 paid"},
		{"<13>1 2026-11-12T01:02:03Z helpdesk app - - [a b=\"c\"] x#011y", "x#011y"},
		// RFC 5424 relayed by rsyslog from a 3164 sender (two spaces).
		{"<13>1 2026-11-12T01:02:03Z helpdesk app - - -  x#011y #0123", "x\ty #0123"},
		// No PRI: not a syslog message the relay escaped; kept whole.
		{"Nov 12 01:02:03 helpdesk app: x#011y", "Nov 12 01:02:03 helpdesk app: x#011y"},
	}
	var p Syslog
	for _, tt := range tests {
		var ev event.Event
		if err := p.Parse(event.Raw{Received: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), Data: []byte(tt.in)}, &ev); err != nil {
			t.Fatalf("%q: %v", tt.in, err)
		}
		if got, _ := ev.Get(event.FieldMessage); got != tt.msg {
			t.Errorf("%q: message %q, want %q", tt.in, got, tt.msg)
		}
		if got, _ := ev.Get(event.FieldOriginal); got != tt.in {
			t.Errorf("%q: event.original %q", tt.in, got)
		}
	}
}

// TestSyslogHeaderReader: the envelope reads the header with the formats'
// reader (parse/syslogheader) plus the transport's own rules: a tag may
// end with a space, a PRI alone names no host, and a time no syslog
// sender writes is left to the device's format with the rest of the line.
func TestSyslogHeaderReader(t *testing.T) {
	recv := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	tests := []struct {
		in, host, app, msg string
		time               time.Time
	}{
		{"<13>sshd[5]: x", "", "sshd", "x", recv},
		{"<13>just some text", "", "", "just some text", recv},
		{"<13>Nov 25 10:00:00 vm evntslog An event", "vm", "evntslog", "An event", time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)},
		{"<166>Nov 07 2026 11:02:36 CET: %ASA-6-302013: Built", "", "", "Nov 07 2026 11:02:36 CET: %ASA-6-302013: Built", recv},
		{"<132>May  1 10:22:33 CEF:0|V|FW|1.0|100|port scan|5|src=1.2.3.4", "", "", "CEF:0|V|FW|1.0|100|port scan|5|src=1.2.3.4", time.Date(2026, 5, 1, 10, 22, 33, 0, time.UTC)},
		{"<132>May  1 10:22:33 fw CEF: CEF:0|V|FW|1.0|100|scan|5|", "fw", "CEF", "CEF:0|V|FW|1.0|100|scan|5|", time.Date(2026, 5, 1, 10, 22, 33, 0, time.UTC)},
		{"<13>1 2026-11-25T10:00:00Z h a - - [x@1 k=\"v\"]    indented", "h", "a", "  indented", time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)},
		{"<13>Nov 25 10:00:00 dc01 MSWinEventLog\t1\tSecurity\t4625", "dc01", "MSWinEventLog", "1\tSecurity\t4625", time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)},
		{"<13>Nov 25 10:00:00 dc01 MSWinEventLog#011Security#011Logon", "dc01", "MSWinEventLog", "Security\tLogon", time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)},
		{"<13>Nov 5 10:00:00 h app: unpadded day", "h", "app", "unpadded day", time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)},
	}
	var p Syslog
	for _, tt := range tests {
		var ev event.Event
		if err := p.Parse(event.Raw{Received: recv, Data: []byte(tt.in)}, &ev); err != nil {
			t.Fatal(err)
		}
		host, _ := ev.Get(FieldSyslogHostname)
		app, _ := ev.Get(FieldSyslogAppname)
		msg, _ := ev.Get(event.FieldMessage)
		if host != tt.host || app != tt.app || msg != tt.msg || !ev.Time.Equal(tt.time) {
			t.Errorf("%q: host %q app %q message %q time %v; want %q %q %q %v", tt.in, host, app, msg, ev.Time, tt.host, tt.app, tt.msg, tt.time)
		}
	}
}
