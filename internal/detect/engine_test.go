package detect

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/sigma"
)

// compileOne compiles one process_creation rule with the given detection.
func compileOne(t *testing.T, detection string, opts Options) *Engine {
	t.Helper()
	return compileRules(t, "title: t\nid: r1\nlogsource: {product: windows, category: process_creation}\ndetection:\n"+detection, opts)
}

// compileRules parses and compiles the rules of src, failing the test when
// one does not parse, compile or is skipped.
func compileRules(t testing.TB, src string, opts Options) *Engine {
	t.Helper()
	rules, err := sigma.Parse("t.yml", []byte(src))
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	e, err := Compile(rules, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Skipped()) > 0 {
		t.Fatalf("skipped: %+v", e.Skipped()[0].Reason)
	}
	return e
}

func fires(t *testing.T, e *Engine, event string) bool {
	t.Helper()
	n := 0
	if err := e.Evaluate([]byte(event), func(Match) { n++ }); err != nil {
		t.Fatalf("evaluate %s: %v", event, err)
	}
	return n > 0
}

// ev builds a flat Sysmon process-creation event with extra fields.
func ev(fields string) string {
	if fields != "" {
		fields = "," + fields
	}
	return `{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1` + fields + `}`
}

func TestModifiersAndConditions(t *testing.T) {
	tests := []struct {
		name      string
		detection string
		event     string
		want      bool
	}{
		// Default: case-insensitive exact match with wildcards.
		{"exact", "  s: {Image: 'C:\\Windows\\cmd.exe'}\n  condition: s", ev(`"Image":"c:\\windows\\CMD.EXE"`), true},
		{"exact no substring", "  s: {Image: 'cmd.exe'}\n  condition: s", ev(`"Image":"c:\\windows\\cmd.exe"`), false},
		{"star", "  s: {Image: '*\\cmd.*'}\n  condition: s", ev(`"Image":"c:\\windows\\cmd.exe"`), true},
		{"question", "  s: {Image: 'c?d.exe'}\n  condition: s", ev(`"Image":"cmd.exe"`), true},
		{"question one char", "  s: {Image: 'c?d.exe'}\n  condition: s", ev(`"Image":"cmmd.exe"`), false},
		{"escaped star literal", "  s: {Image: 'a\\*b'}\n  condition: s", ev(`"Image":"a*b"`), true},
		{"escaped star not wildcard", "  s: {Image: 'a\\*b'}\n  condition: s", ev(`"Image":"axxb"`), false},
		{"backslash before star", "  s: {Image: 'C:\\\\*'}\n  condition: s", ev(`"Image":"C:\\temp"`), true},
		{"plain backslash", "  s: {Image: 'C:\\temp'}\n  condition: s", ev(`"Image":"c:\\TEMP"`), true},
		{"contains", "  s: {CommandLine|contains: 'ENC'}\n  condition: s", ev(`"CommandLine":"powershell -enc AAA"`), true},
		{"startswith", "  s: {CommandLine|startswith: 'power'}\n  condition: s", ev(`"CommandLine":"PowerShell -x"`), true},
		{"startswith no", "  s: {CommandLine|startswith: 'shell'}\n  condition: s", ev(`"CommandLine":"PowerShell -x"`), false},
		{"endswith", "  s: {Image|endswith: '\\cmd.exe'}\n  condition: s", ev(`"Image":"c:\\x\\cmd.exe"`), true},
		{"contains all yes", "  s: {CommandLine|contains|all: [a1, b2]}\n  condition: s", ev(`"CommandLine":"x b2 a1"`), true},
		{"contains all no", "  s: {CommandLine|contains|all: [a1, b2]}\n  condition: s", ev(`"CommandLine":"x a1"`), false},
		{"list is or", "  s: {Image|endswith: [a.exe, b.exe]}\n  condition: s", ev(`"Image":"x\\b.exe"`), true},
		{"cased yes", "  s: {CommandLine|cased: 'ABC'}\n  condition: s", ev(`"CommandLine":"ABC"`), true},
		{"cased no", "  s: {CommandLine|cased: 'ABC'}\n  condition: s", ev(`"CommandLine":"abc"`), false},
		{"cased contains", "  s: {CommandLine|contains|cased: 'Mimi'}\n  condition: s", ev(`"CommandLine":"x mimikatz"`), false},
		// windash: -, /, en dash, em dash, horizontal bar.
		{"windash dash", "  s: {CommandLine|contains|windash: ' -enc '}\n  condition: s", ev(`"CommandLine":"ps -enc x"`), true},
		{"windash slash", "  s: {CommandLine|contains|windash: ' -enc '}\n  condition: s", ev(`"CommandLine":"ps /enc x"`), true},
		{"windash en dash", "  s: {CommandLine|contains|windash: ' -enc '}\n  condition: s", ev(`"CommandLine":"ps \u2013enc x"`), true},
		{"windash em dash", "  s: {CommandLine|contains|windash: ' -enc '}\n  condition: s", ev(`"CommandLine":"ps \u2014enc x"`), true},
		{"windash bar", "  s: {CommandLine|contains|windash: ' -enc '}\n  condition: s", ev(`"CommandLine":"ps \u2015enc x"`), true},
		{"windash all", "  s: {CommandLine|contains|all|windash: [' -a', ' -b']}\n  condition: s", ev(`"CommandLine":"x /a –b"`), true},
		{"windash all one missing", "  s: {CommandLine|contains|all|windash: [' -a', ' -b']}\n  condition: s", ev(`"CommandLine":"x /a /a"`), false},
		{"windash other", "  s: {CommandLine|contains|windash: ' -enc '}\n  condition: s", ev(`"CommandLine":"ps +enc x"`), false},
		// base64 and base64offset: "ping" at each of the three offsets.
		{"base64", "  s: {CommandLine|base64: 'ping'}\n  condition: s", ev(`"CommandLine":"cGluZw=="`), true},
		{"base64offset 0", "  s: {CommandLine|base64offset|contains: 'ping'}\n  condition: s", ev(`"CommandLine":"x cGluZyBsb2NhbGhvc3Q="`), true},
		{"base64offset 1", "  s: {CommandLine|base64offset|contains: 'ping'}\n  condition: s", ev(`"CommandLine":"x YXBpbmcgbG9jYWxob3N0"`), true},
		{"base64offset 2", "  s: {CommandLine|base64offset|contains: 'ping'}\n  condition: s", ev(`"CommandLine":"x YWFwaW5nIGxvY2FsaG9zdA=="`), true},
		{"base64offset none", "  s: {CommandLine|base64offset|contains: 'ping'}\n  condition: s", ev(`"CommandLine":"x cG9uZw=="`), false},
		// wide + base64offset: UTF-16LE "ab" as PowerShell -enc would carry it.
		{"wide base64offset", "  s: {CommandLine|wide|base64offset|contains: 'ab'}\n  condition: s", ev(`"CommandLine":"-enc YQBiAA=="`), true},
		{"utf16le", "  s: {Data|utf16le|contains: 'a'}\n  condition: s", ev(`"Data":"xa\u0000"`), true},
		// re: case-sensitive unless |i; unanchored.
		{"re", "  s: {CommandLine|re: 'a+b'}\n  condition: s", ev(`"CommandLine":"xaaab"`), true},
		{"re cased", "  s: {CommandLine|re: 'AB'}\n  condition: s", ev(`"CommandLine":"ab"`), false},
		{"re i", "  s: {CommandLine|re|i: 'AB'}\n  condition: s", ev(`"CommandLine":"ab"`), true},
		{"re s", "  s: {CommandLine|re|s: 'a.b'}\n  condition: s", ev(`"CommandLine":"a\nb"`), true},
		{"re without s", "  s: {CommandLine|re: 'a.b'}\n  condition: s", ev(`"CommandLine":"a\nb"`), false},
		{"re m", "  s: {CommandLine|re|m: '^b$'}\n  condition: s", ev(`"CommandLine":"a\nb"`), true},
		// cidr
		{"cidr v4", "  s: {DestinationIp|cidr: '10.0.0.0/8'}\n  condition: s", ev(`"DestinationIp":"10.1.2.3"`), true},
		{"cidr v4 no", "  s: {DestinationIp|cidr: '10.0.0.0/8'}\n  condition: s", ev(`"DestinationIp":"11.1.2.3"`), false},
		{"cidr v6", "  s: {DestinationIp|cidr: 'fe80::/10'}\n  condition: s", ev(`"DestinationIp":"fe80::1"`), true},
		{"cidr garbage", "  s: {DestinationIp|cidr: '10.0.0.0/8'}\n  condition: s", ev(`"DestinationIp":"host"`), false},
		// exists, null, empty, missing
		{"exists true", "  s: {User|exists: true}\n  condition: s", ev(`"User":"x"`), true},
		{"exists true missing", "  s: {User|exists: true}\n  condition: s", ev(``), false},
		{"exists false missing", "  s: {User|exists: false}\n  condition: s", ev(``), true},
		{"exists false present", "  s: {User|exists: false}\n  condition: s", ev(`"User":""`), false},
		{"null matches missing", "  s: {User: null}\n  condition: s", ev(``), true},
		{"null matches json null", "  s: {User: null}\n  condition: s", ev(`"User":null`), true},
		{"null not empty", "  s: {User: null}\n  condition: s", ev(`"User":""`), false},
		{"empty matches empty", "  s: {User: ''}\n  condition: s", ev(`"User":""`), true},
		{"empty not missing", "  s: {User: ''}\n  condition: s", ev(``), false},
		{"empty not value", "  s: {User: ''}\n  condition: s", ev(`"User":"x"`), false},
		// numbers vs strings
		{"int vs number", "  s: {LogonType: 3}\n  condition: s", ev(`"LogonType":3`), true},
		{"int vs string", "  s: {LogonType: 3}\n  condition: s", ev(`"LogonType":"3"`), true},
		{"string vs number", "  s: {LogonType: '3'}\n  condition: s", ev(`"LogonType":3`), true},
		{"int no", "  s: {LogonType: 3}\n  condition: s", ev(`"LogonType":"30"`), false},
		{"gt", "  s: {Count|gt: 5}\n  condition: s", ev(`"Count":"6"`), true},
		{"gt equal", "  s: {Count|gt: 5}\n  condition: s", ev(`"Count":5`), false},
		{"gte", "  s: {Count|gte: 5}\n  condition: s", ev(`"Count":5`), true},
		{"lt", "  s: {Count|lt: 5}\n  condition: s", ev(`"Count":4.5`), true},
		{"lte no", "  s: {Count|lte: 5}\n  condition: s", ev(`"Count":6`), false},
		{"gt non numeric", "  s: {Count|gt: 5}\n  condition: s", ev(`"Count":"many"`), false},
		// Numbers are decimal: hexadecimal, octal and binary text is not a
		// number for comparisons, as it is not for equality.
		{"gt hex text", "  s: {Count|gt: 10}\n  condition: s", ev(`"Count":"0x20"`), false},
		{"lt hex text", "  s: {Count|lt: 100}\n  condition: s", ev(`"Count":"0x20"`), false},
		{"gt octal text", "  s: {Count|gt: 10}\n  condition: s", ev(`"Count":"0o20"`), false},
		{"gt binary text", "  s: {Count|gt: 1}\n  condition: s", ev(`"Count":"0b11"`), false},
		{"gt hex float text", "  s: {Count|gt: 1}\n  condition: s", ev(`"Count":"0x1p4"`), false},
		{"gt digit separators", "  s: {Count|gt: 10}\n  condition: s", ev(`"Count":"1_000"`), false},
		{"gt infinity text", "  s: {Count|gt: 10}\n  condition: s", ev(`"Count":"Inf"`), false},
		{"lt nan text", "  s: {Count|lt: 10}\n  condition: s", ev(`"Count":"NaN"`), false},
		{"eq hex text", "  s: {Count: 32}\n  condition: s", ev(`"Count":"0x20"`), false},
		{"gt leading zero is decimal", "  s: {Count|gt: 10}\n  condition: s", ev(`"Count":"020"`), true},
		{"gt decimal text with spaces", "  s: {Count|gt: 10}\n  condition: s", ev(`"Count":" 20 "`), true},
		{"gt negative", "  s: {Count|gt: -10}\n  condition: s", ev(`"Count":"-2.5"`), true},
		{"gt exponent", "  s: {Count|gt: 999}\n  condition: s", ev(`"Count":1e3`), true},
		{"lte fraction only", "  s: {Count|lte: 1}\n  condition: s", ev(`"Count":".5"`), true},
		{"neq", "  s: {User|neq: 'admin'}\n  condition: s", ev(`"User":"bob"`), true},
		{"neq equal", "  s: {User|neq: 'admin'}\n  condition: s", ev(`"User":"ADMIN"`), false},
		// fieldref
		{"fieldref", "  s: {Image|fieldref: ParentImage}\n  condition: s", ev(`"Image":"a.exe","ParentImage":"A.EXE"`), true},
		{"fieldref no", "  s: {Image|fieldref: ParentImage}\n  condition: s", ev(`"Image":"a.exe","ParentImage":"b.exe"`), false},
		{"fieldref endswith", "  s: {Image|fieldref|endswith: Name}\n  condition: s", ev(`"Image":"c:\\a.exe","Name":"a.exe"`), true},
		// time parts
		{"hour", "  s: {UtcTime|hour: 3}\n  condition: s", ev(`"UtcTime":"2024-05-06 03:04:05.000"`), true},
		{"hour gte", "  s: {UtcTime|hour|gte: 22}\n  condition: s", ev(`"UtcTime":"2024-05-06T23:00:00Z"`), true},
		{"month", "  s: {UtcTime|month: 5}\n  condition: s", ev(`"UtcTime":"2024-05-06T23:00:00Z"`), true},
		{"year no", "  s: {UtcTime|year: 2023}\n  condition: s", ev(`"UtcTime":"2024-05-06T23:00:00Z"`), false},
		// keywords
		{"keyword", "  k: [mimikatz]\n  condition: k", ev(`"CommandLine":"run MimiKatz now"`), true},
		{"keyword no", "  k: [mimikatz]\n  condition: k", ev(`"CommandLine":"run"`), false},
		{"keyword all", "  k:\n    '|all': [foo, bar]\n  condition: k", ev(`"A":"foo","B":"bar"`), true},
		{"keyword all no", "  k:\n    '|all': [foo, bar]\n  condition: k", ev(`"A":"foo"`), false},
		// conditions
		{"and not", "  a: {Image|endswith: x.exe}\n  f: {User: sys}\n  condition: a and not f", ev(`"Image":"x.exe","User":"bob"`), true},
		{"and not filtered", "  a: {Image|endswith: x.exe}\n  f: {User: sys}\n  condition: a and not f", ev(`"Image":"x.exe","User":"SYS"`), false},
		{"or parens", "  a: {A: 1}\n  b: {B: 1}\n  c: {C: 1}\n  condition: (a or b) and c", ev(`"B":1,"C":1`), true},
		{"precedence", "  a: {A: 1}\n  b: {B: 1}\n  c: {C: 1}\n  condition: a or b and c", ev(`"A":1`), true},
		{"1 of", "  sel_a: {A: 1}\n  sel_b: {B: 1}\n  condition: 1 of sel_*", ev(`"B":1`), true},
		{"all of", "  sel_a: {A: 1}\n  sel_b: {B: 1}\n  condition: all of sel_*", ev(`"B":1`), false},
		{"all of yes", "  sel_a: {A: 1}\n  sel_b: {B: 1}\n  condition: all of sel_*", ev(`"A":1,"B":1`), true},
		{"1 of them", "  x: {A: 1}\n  y: {B: 1}\n  condition: 1 of them", ev(`"B":1`), true},
		{"all of them", "  x: {A: 1}\n  y: {B: 1}\n  condition: all of them", ev(`"B":1`), false},
		{"list of maps", "  s:\n    - {A: 1}\n    - {B: 1}\n  condition: s", ev(`"B":1`), true},
		{"condition list", "  a: {A: 1}\n  b: {B: 1}\n  condition: [a, b]", ev(`"B":1`), true},
		{"array field", "  s: {Data|contains: evil}\n  condition: s", ev(`"Data":["ok","EVIL!"]`), true},
	}
	for _, naive := range []bool{false, true} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/naive=%v", tt.name, naive), func(t *testing.T) {
				e := compileOne(t, tt.detection, Options{Naive: naive})
				if got := fires(t, e, tt.event); got != tt.want {
					t.Errorf("fires = %v, want %v\ndetection:\n%s\nevent: %s", got, tt.want, tt.detection, tt.event)
				}
			})
		}
	}
}

func TestEventShapes(t *testing.T) {
	e := compileOne(t, "  s:\n    Image|endswith: '\\whoami.exe'\n    Provider_Name: Microsoft-Windows-Sysmon\n  condition: s", Options{})
	shapes := map[string]string{
		"evtx":                `{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational"},"EventData":{"Image":"C:\\whoami.exe"}}}`,
		"evtx EventID object": `{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":{"#attributes":{"Qualifiers":0},"#text":1},"Channel":"Microsoft-Windows-Sysmon/Operational"},"EventData":{"Image":"C:\\whoami.exe"}}}`,
		"winlogbeat":          `{"@timestamp":"2024-01-01T00:00:00Z","winlog":{"event_id":"1","channel":"Microsoft-Windows-Sysmon/Operational","provider_name":"Microsoft-Windows-Sysmon","event_data":{"Image":"C:\\whoami.exe"}}}`,
		"flat":                `{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","SourceName":"Microsoft-Windows-Sysmon","Image":"C:\\whoami.exe"}`,
	}
	for name, event := range shapes {
		if !fires(t, e, event) {
			t.Errorf("%s: rule did not fire on %s", name, event)
		}
	}
	// Security 4688 stands for process_creation with its field names.
	if !fires(t, e, `{"EventID":4688,"Channel":"Security","NewProcessName":"C:\\whoami.exe","Provider_Name":"Microsoft-Windows-Sysmon"}`) {
		t.Error("4688 rename: rule did not fire")
	}
	// Wrong log source: never tried.
	if fires(t, e, `{"EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","SourceName":"Microsoft-Windows-Sysmon","Image":"C:\\whoami.exe"}`) {
		t.Error("fired on a network_connection event")
	}
	if err := e.Evaluate([]byte(`[1,2]`), func(Match) {}); !errors.Is(err, ErrEvent) {
		t.Errorf("array event: err %v, want ErrEvent", err)
	}
}

func TestMatchContent(t *testing.T) {
	src := `title: Whoami
id: 4e5f
author: A. Author
level: high
tags: [attack.discovery, attack.t1033]
fields: [ParentImage, Image]
logsource: {product: windows, category: process_creation}
detection:
  s:
    Image|endswith: '\whoami.exe'
    User|exists: true
  condition: s
`
	e := compileRules(t, src, Options{})
	var got []Match
	err := e.Evaluate([]byte(`{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Image":"C:\\whoami.exe","ParentImage":"C:\\cmd.exe","User":"bob","UtcTime":"2024-01-02 03:04:05.000"}`), func(m Match) { got = append(got, m) })
	if err != nil || len(got) != 1 {
		t.Fatalf("got %d matches, err %v", len(got), err)
	}
	m := got[0]
	if m.RuleID != "4e5f" || m.Author != "A. Author" || m.Level != "high" || m.Title != "Whoami" || len(m.Tags) != 2 {
		t.Errorf("match = %+v", m)
	}
	if diff := cmp.Diff([]Field{{"Image", `C:\whoami.exe`}, {"User", "bob"}, {"ParentImage", `C:\cmd.exe`}}, m.Fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if !m.Time.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("time = %v", m.Time)
	}
}

func TestExpandAndFilters(t *testing.T) {
	src := `title: dc
id: base
name: base_rule
logsource: {product: windows, category: process_creation}
detection:
  s:
    Computer|expand: '%dc%'
  condition: s
---
title: lab exclusion
logsource: {product: windows, category: process_creation}
filter:
  rules: [base_rule]
  lab:
    User|startswith: lab
  condition: not lab
`
	e := compileRules(t, src, Options{Placeholders: map[string][]string{"dc": {"DC1", "DC2"}}})
	for _, tc := range []struct {
		event string
		want  bool
	}{
		{ev(`"Computer":"dc2","User":"bob"`), true},
		{ev(`"Computer":"dc3","User":"bob"`), false},
		{ev(`"Computer":"dc1","User":"lab-7"`), false},
	} {
		if got := fires(t, e, tc.event); got != tc.want {
			t.Errorf("%s: fires %v, want %v", tc.event, got, tc.want)
		}
	}
	// Without the placeholder configured the value never matches.
	rules, err := sigma.Parse("x.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	e2, err := Compile(rules, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if fires(t, e2, ev(`"Computer":"%dc%"`)) {
		t.Error("unresolved placeholder matched")
	}
}

// TestExpandEscapedPercent: in an |expand value \% is a plain percent
// sign, so \%plain%admins% is the text "%plain" followed by the values of
// the placeholder admins (the Sigma specification's example).
func TestExpandEscapedPercent(t *testing.T) {
	tests := []struct {
		value string
		event string
		want  bool
	}{
		{`'\%plain%admins%'`, `"User":"%plainalice"`, true},
		{`'\%plain%admins%'`, `"User":"%PLAINbob"`, true},
		{`'\%plain%admins%'`, `"User":"%plain%admins%"`, false},
		{`'\%plain%admins%'`, `"User":"plainalice"`, false},
		{`'\%plain%admins%'`, `"User":"carol"`, false},
		// %plain% is not a placeholder, so the value does not depend on it.
		{`'%admins%@\%corp%'`, `"User":"alice@%corp%"`, true},
		{`'%admins%@\%corp%'`, `"User":"alice@corp"`, false},
		// A backslash before a placeholder is written \\.
		{`'CORP\\%admins%'`, `"User":"corp\\bob"`, true},
		{`'CORP\\%admins%'`, `"User":"corp%admins%"`, false},
		{`'%admins%*'`, `"User":"alice-adm"`, true},
		{`'%a%%b%'`, `"User":"xy"`, true},
		{`'*%empty%*'`, `"User":"anything"`, true},
	}
	for _, naive := range []bool{false, true} {
		for _, tt := range tests {
			src := "title: t\nlogsource: {product: windows}\ndetection:\n  s:\n    User|expand: " + tt.value + "\n  condition: s\n"
			e := compileRules(t, src, Options{Naive: naive, Placeholders: map[string][]string{
				"admins": {"alice", "bob"}, "plain": {"WRONG"}, "corp": {"WRONG"}, "a": {"x"}, "b": {"y"}, "empty": {""},
			}})
			if got := fires(t, e, ev(tt.event)); got != tt.want {
				t.Errorf("User|expand: %s on %s (naive=%v): fires %v, want %v", tt.value, tt.event, naive, got, tt.want)
			}
		}
	}
}

func TestCorrelation(t *testing.T) {
	logon := func(id int, ip, user, ts string) string {
		return fmt.Sprintf(`{"EventID":%d,"Channel":"Security","IpAddress":%q,"TargetUserName":%q,"@timestamp":%q}`, id, ip, user, ts)
	}
	tests := []struct {
		name   string
		corr   string
		events []string
		want   []string // rule ids of the matches, in order
	}{
		{
			name: "event_count",
			corr: "type: event_count\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 5m\n  condition: {gte: 3}",
			events: []string{
				logon(4625, "a", "u", "2024-01-01T00:00:00Z"),
				logon(4625, "b", "u", "2024-01-01T00:01:00Z"),
				logon(4625, "a", "u", "2024-01-01T00:02:00Z"),
				logon(4625, "a", "u", "2024-01-01T00:03:00Z"),
			},
			want: []string{"c"},
		},
		{
			name: "event_count window expires",
			corr: "type: event_count\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 1m\n  condition: {gte: 2}",
			events: []string{
				logon(4625, "a", "u", "2024-01-01T00:00:00Z"),
				logon(4625, "a", "u", "2024-01-01T00:05:00Z"),
			},
			want: nil,
		},
		{
			name: "value_count",
			corr: "type: value_count\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 5m\n  condition: {field: TargetUserName, gte: 2}",
			events: []string{
				logon(4625, "a", "u1", "2024-01-01T00:00:00Z"),
				logon(4625, "a", "u1", "2024-01-01T00:01:00Z"),
				logon(4625, "a", "u2", "2024-01-01T00:02:00Z"),
			},
			want: []string{"c"},
		},
		{
			name: "temporal",
			corr: "type: temporal\n  rules: [failed, success]\n  group-by: [IpAddress]\n  timespan: 5m",
			events: []string{
				logon(4624, "a", "u", "2024-01-01T00:00:00Z"),
				logon(4625, "b", "u", "2024-01-01T00:01:00Z"),
				logon(4625, "a", "u", "2024-01-01T00:02:00Z"),
			},
			want: []string{"c"},
		},
		{
			name: "temporal_ordered wrong order",
			corr: "type: temporal_ordered\n  rules: [failed, success]\n  group-by: [IpAddress]\n  timespan: 5m",
			events: []string{
				logon(4624, "a", "u", "2024-01-01T00:00:00Z"),
				logon(4625, "a", "u", "2024-01-01T00:01:00Z"),
			},
			want: nil,
		},
		{
			name: "temporal_ordered",
			corr: "type: temporal_ordered\n  rules: [failed, success]\n  group-by: [IpAddress]\n  timespan: 5m\n  generate: true",
			events: []string{
				logon(4625, "a", "u", "2024-01-01T00:00:00Z"),
				logon(4624, "a", "u", "2024-01-01T00:01:00Z"),
			},
			want: []string{"f1", "s1", "c"},
		},
		{
			name: "temporal with aliases",
			corr: "type: temporal\n  rules: [failed, success]\n  group-by: [who]\n  timespan: 5m\n  aliases:\n    who:\n      failed: TargetUserName\n      success: IpAddress",
			events: []string{
				logon(4625, "x", "carol", "2024-01-01T00:00:00Z"),
				logon(4624, "dave", "y", "2024-01-01T00:01:00Z"),
				logon(4624, "carol", "y", "2024-01-01T00:02:00Z"),
			},
			want: []string{"c"},
		},
		{
			name: "value_percentile",
			corr: "type: value_percentile\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 5m\n  condition: {field: TargetUserName, percentile: 50, gte: 7}",
			events: []string{
				logon(4625, "a", "1", "2024-01-01T00:00:00Z"),
				logon(4625, "a", "9", "2024-01-01T00:01:00Z"),
				logon(4625, "a", "8", "2024-01-01T00:02:00Z"),
				logon(4624, "z", "u", "2024-01-01T00:10:00Z"), // closes the window: median 8
			},
			want: []string{"c", "s1"},
		},
		{
			name: "event_count lt judged at close",
			corr: "type: event_count\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 5m\n  condition: {lt: 3}",
			events: []string{
				logon(4625, "a", "u", "2024-01-01T00:00:00Z"),
				logon(4625, "a", "u", "2024-01-01T00:01:00Z"),
				logon(4625, "b", "u", "2024-01-01T00:02:00Z"),
				logon(4625, "b", "u", "2024-01-01T00:03:00Z"),
				logon(4625, "b", "u", "2024-01-01T00:04:00Z"),
				logon(4624, "z", "u", "2024-01-01T00:10:00Z"), // closes both windows
			},
			want: []string{"c", "s1"}, // a had 2 (< 3), b had 3; then the success logon itself
		},
		{
			name: "value_sum",
			corr: "type: value_sum\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 5m\n  condition: {field: TargetUserName, gt: 10}",
			events: []string{
				logon(4625, "a", "6", "2024-01-01T00:00:00Z"),
				logon(4625, "a", "5", "2024-01-01T00:01:00Z"),
			},
			want: []string{"c"},
		},
		{
			name: "value_avg",
			corr: "type: value_avg\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 5m\n  condition: {field: TargetUserName, gte: 4}",
			events: []string{
				logon(4625, "a", "2", "2024-01-01T00:00:00Z"),
				logon(4625, "a", "6", "2024-01-01T00:01:00Z"),
				logon(4624, "z", "u", "2024-01-01T00:10:00Z"), // closes the window: average 4
			},
			want: []string{"c", "s1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := rangeBase + "---\ntitle: corr\nid: c\ncorrelation:\n  " + tt.corr + "\n"
			e := compileRules(t, src, Options{})
			st := NewState()
			var got []string
			for i, evt := range tt.events {
				// Snapshot and restore the state between events: windows must survive.
				snap, err := st.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				st = NewState()
				if err := st.UnmarshalBinary(snap); err != nil {
					t.Fatalf("event %d: restore: %v", i, err)
				}
				if err := e.EvaluateWith(st, []byte(evt), func(m Match) { got = append(got, m.RuleID) }); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("matches (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMappingMerge(t *testing.T) {
	extra, err := ParseMapping([]byte(`
fields:
  rename:
    proc.cmd: CommandLine
logsources:
  - {product: linux, category: process_creation, when: [{source: auditd}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	m := DefaultMapping()
	m.Merge(extra)
	e := compileRules(t, "title: l\nlogsource: {product: linux, category: process_creation}\ndetection:\n  s: {CommandLine|contains: 'nc -e'}\n  condition: s\n", Options{Mapping: m})
	if !fires(t, e, `{"source":"auditd","proc":{"cmd":"nc -e /bin/sh"}}`) {
		t.Error("merged mapping: rule did not fire")
	}
	if fires(t, e, `{"source":"other","proc":{"cmd":"nc -e /bin/sh"}}`) {
		t.Error("merged mapping: fired outside its log source")
	}
	if _, err := ParseMapping([]byte("logsources:\n  - {product: x}\n")); !errors.Is(err, ErrMapping) {
		t.Errorf("entry without when: err %v", err)
	}
	if !strings.Contains(string(defaultMappingYAML), "process_creation") {
		t.Error("embedded mapping lacks process_creation")
	}
}

func FuzzEvaluate(f *testing.F) {
	e := compileRules(f, "title: f\nlogsource: {product: windows}\ndetection:\n  s:\n    CommandLine|contains: 'x'\n  k: [evil]\n  condition: s or k\n", Options{})
	f.Add([]byte(`{"Channel":"Security","CommandLine":"x"}`))
	f.Add([]byte(`{"Event":{"System":{"Channel":"Security","Provider":{"#attributes":{"Name":"p"}}},"EventData":{"Data":["a",{"b":null}]}}}`))
	f.Add([]byte(`{"winlog":{"channel":"Security","event_data":{"CommandLine":"\u00c9X"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = e.Evaluate(data, func(Match) {})
	})
}

// FuzzEvaluateFields: flat fields with any value (JSON arrays, arrays of
// objects, nested ones) never break the engine, whether rules read under
// the field's name or keywords read every value.
func FuzzEvaluateFields(f *testing.F) {
	e := compileRules(f, "title: f\nlogsource: {product: windows}\ndetection:\n  s:\n    t.x.y|contains: 'x'\n  k: [evil]\n  condition: s or k\n", Options{})
	f.Add(`[{"x":{"y":"x"}},{"x":[{"y":null},{"y":1}]}]`)
	f.Add(`["evil",{"x":[]}]`)
	f.Add(`[{}]`)
	f.Fuzz(func(t *testing.T, value string) {
		e.EvaluateFields(nil, []event.Field{{Name: "Channel", Value: "Security"}, {Name: "t", Value: value}, {Name: "t.x", Value: value}}, func(Match) {})
	})
}

func TestWithFiltersPerTenant(t *testing.T) {
	base := compileRules(t, "title: whoami\nid: w1\nlogsource: {product: windows, category: process_creation}\ndetection:\n  s: {Image|endswith: '\\whoami.exe'}\n  condition: s\n", Options{})
	filters, err := sigma.Parse("f.yml", []byte("title: admins\nlogsource: {product: windows}\nfilter:\n  rules: [w1]\n  adm:\n    User|endswith: '\\admin'\n  keyword_also: ['ignore-me']\n  condition: not adm and not keyword_also\n"))
	if err != nil {
		t.Fatal(err)
	}
	tenantA := base.WithFilters(filters)
	if len(tenantA.Skipped()) != 0 {
		t.Fatalf("skipped: %+v", tenantA.Skipped())
	}
	admin := ev(`"Image":"C:\\whoami.exe","User":"CORP\\admin"`)
	user := ev(`"Image":"C:\\whoami.exe","User":"CORP\\bob"`)
	if !fires(t, base, admin) || !fires(t, base, user) {
		t.Error("base engine must fire for both")
	}
	if fires(t, tenantA, admin) {
		t.Error("tenant filter did not exclude the admin")
	}
	if !fires(t, tenantA, user) {
		t.Error("tenant filter excluded too much")
	}
	if fires(t, tenantA, ev(`"Image":"C:\\whoami.exe","User":"bob","Note":"ignore-me"`)) {
		t.Error("keyword filter added by WithFilters did not apply")
	}
}

func TestConcurrentEvaluate(t *testing.T) {
	src := "title: a\nname: a\nid: a\nlogsource: {product: windows, category: process_creation}\ndetection:\n  s: {CommandLine|contains: evil}\n  condition: s\n---\ntitle: c\nid: c\ncorrelation: {type: event_count, rules: [a], group-by: [User], timespan: 1h, condition: {gte: 50}, generate: true}\n"
	e := compileRules(t, src, Options{})
	st := NewState()
	done := make(chan int)
	for g := 0; g < 4; g++ {
		go func() {
			n := 0
			for i := 0; i < 100; i++ {
				evt := ev(fmt.Sprintf(`"CommandLine":"evil %d","User":"u","UtcTime":"2024-01-01 00:00:%02d.000"`, i, i%60))
				_ = e.EvaluateWith(st, []byte(evt), func(m Match) { n++ })
			}
			done <- n
		}()
	}
	total := 0
	for g := 0; g < 4; g++ {
		total += <-done
	}
	// 400 base matches, and the correlation fires every 50 of them.
	if total != 400+8 {
		t.Errorf("got %d matches, want 408", total)
	}
}

func TestCorrelationStateSweep(t *testing.T) {
	src := "title: a\nname: a\nlogsource: {product: windows, category: process_creation}\ndetection:\n  s: {CommandLine|contains: evil}\n  condition: s\n---\ntitle: c\nid: c\ncorrelation: {type: event_count, rules: [a], group-by: [User], timespan: 1m, condition: {gte: 1000}}\n"
	e := compileRules(t, src, Options{})
	st := NewState()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 3*sweepEvery; i++ {
		ts := start.Add(time.Duration(i) * time.Second).Format(time.RFC3339)
		evt := ev(fmt.Sprintf(`"CommandLine":"evil","User":"u%d","UtcTime":%q`, i, ts))
		if err := e.EvaluateWith(st, []byte(evt), func(Match) {}); err != nil {
			t.Fatal(err)
		}
	}
	// Each user matched once; only the last minute's groups may remain.
	if n := st.Groups(); n > sweepEvery+61 {
		t.Errorf("%d groups kept, want expired ones swept", n)
	}
}

func TestCloudTrailMapping(t *testing.T) {
	src := "title: ct\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  s:\n    eventSource: iam.amazonaws.com\n    eventName: CreateAccessKey\n    requestParameters.userName|exists: true\n  condition: s\n"
	e := compileRules(t, src, Options{})
	if !fires(t, e, `{"eventVersion":"1.08","eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","requestParameters":{"userName":"bob"}}`) {
		t.Error("CloudTrail record did not match")
	}
	if fires(t, e, `{"eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","requestParameters":{"userName":"bob"}}`) {
		t.Error("matched a record that is not CloudTrail")
	}
}

// FuzzCompile feeds arbitrary rule files through Parse, Compile and one
// evaluation: bad input gives errors or skipped rules, never a panic.
func FuzzCompile(f *testing.F) {
	f.Add([]byte("title: t\nlogsource: {product: windows, category: process_creation}\ndetection:\n  s:\n    CommandLine|contains|windash: ' -x'\n    Image|re: '(a|b)+c'\n    DestinationIp|cidr: '::ffff:10.0.0.0/104'\n  k: ['x*y']\n  condition: 1 of them\n"))
	f.Add([]byte("title: a\nname: a\nlogsource: {product: windows}\ndetection: {s: {A|gte: 1}, condition: s}\n---\ntitle: c\ncorrelation: {type: value_percentile, rules: [a], timespan: 1m, condition: {field: A, percentile: 99, gt: 1}}\n"))
	f.Add([]byte("title: a\nname: a\nlogsource: {product: windows}\ndetection: {s: {A: 5}, condition: s}\n---\ntitle: b\nname: b\ncorrelation: {type: event_count, rules: [a], group-by: [A], timespan: 1s, condition: {lt: 2}}\n---\ntitle: c\ncorrelation: {type: temporal, rules: [b, a], group-by: [A], timespan: 1h}\n"))
	f.Add([]byte("title: a\nname: a\nlogsource: {product: windows}\ndetection: {s: {A: 5}, condition: s}\n---\ntitle: b\nname: b\ncorrelation: {type: event_count, rules: [a], group-by: [A], timespan: 5s, condition: {gt: 1, lte: 3}}\n---\ntitle: c\ncorrelation: {type: value_count, rules: [b], timespan: 1h, condition: {field: A, gte: 1, lt: 2}}\n"))
	f.Add([]byte("title: a\nname: a\nlogsource: {product: windows}\ndetection: {s: {A|expand: '\\%x%%x%*'}, condition: s}\n---\ntitle: c\ncorrelation: {type: value_count, rules: [a], group-by: [A], timespan: 5s, condition: {field: [A, CommandLine], neq: 2}}\n"))
	f.Add([]byte("title: a\nname: a\nlogsource: {product: windows}\ndetection: {s: {A: 5}, condition: s}\n---\ntitle: c\ncorrelation: {type: value_avg, rules: [a], timespan: 2s, condition: {field: A, eq: 5}}\n"))
	events := [][]byte{
		[]byte(ev(`"CommandLine":"a /x","Image":"abc","DestinationIp":"10.1.1.1","A":"5","UtcTime":"2024-01-01 00:00:00"`)),
		[]byte(`{"Channel":"Security","A":[1,"2",null,{"b":true}]}`),
		[]byte(ev(`"A":5,"UtcTime":"2024-01-01 00:00:09"`)),
	}
	m := DefaultMapping()
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, _ := sigma.Parse("f.yml", data)
		e, err := Compile(rules, Options{Mapping: m, Placeholders: map[string][]string{"x": {"1"}}})
		if err != nil {
			return
		}
		st := NewState()
		for _, evt := range events {
			_ = e.EvaluateWith(st, evt, func(Match) {})
		}
		e.CloseWindows(st, func(Match) {})
	})
}
