package cef

import (
	"bufio"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

// check is one upstream assertion of logstash-codec-cef's spec, in our
// field names: want "" means the field must be absent (the codec's empty
// string; Elastic's decode_cef omits empty header fields), and a field
// named "~name" compares as a number.
type check struct{ field, want string }

// validate is the spec's validate(e) for the common test header, in ECS
// mode: [cef][version], [observer][version], [event][code], [cef][name],
// [event][severity].
var validate = []check{
	{"cef.version", "0"}, {"observer.version", "1.0"}, {"event.code", "100"},
	{"cef.name", "trojan successfully stopped"}, {"event.severity", "10"},
}

var srcDstSpt = []check{{"source.ip", "10.0.0.192"}, {"destination.ip", "12.121.122.82"}, {"source.port", "1232"}}

func with(lists ...[]check) []check {
	var out []check
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// logstashChecks maps each case of cef-edgecases.jsonl, by its spec line,
// to the assertions the upstream spec makes about it. The codec's ECS
// names and ours agree ([source][ip] is source.ip, [observer][hostname]
// is observer.hostname, ...); where they differ it is said below.
var logstashChecks = map[int][]check{
	// "should parse the cef headers" and "the cef body".
	476: with(validate, []check{{"observer.vendor", "security"}, {"observer.product", "threatmanager"}}, srcDstSpt),
	// A second message decoded by the same codec: its own header values.
	// (This case's assertions are not in the stored spec version; the
	// header and body checks of the first message are applied.)
	489: with([]check{{"observer.vendor", "fun"}, {"observer.product", "whimsy"}}, srcDstSpt),
	// Extension text without any key=value: the header still decodes and
	// no extension is invented. (Assertions not in the stored spec version.)
	574: validate,
	643: with(validate, []check{{"observer.vendor", ""}, {"observer.product", ""}}),
	652: validate,
	659: {{"cef.extensions.moo", `this\|has an escaped pipe`}},
	666: {{"cef.extensions.moo", "this|has an pipe"}},
	674: {{"cef.extensions.moo", "this =has = equals="}},
	// The codec keeps the unconvertible severity in [event][severity]; we
	// keep it in cef.severity and leave event.severity unset.
	792: {{"cef.version", "0"}, {"observer.vendor", `secu\rity`}, {"observer.product", `threat\manager`}, {"observer.version", `1.\0`},
		{"event.code", `10\0`}, {"cef.name", `tro\jan successfully stopped`}, {"cef.severity", `\10`}},
	805: with(validate, []check{{"observer.vendor", `security\|`}, {"observer.product", `threatmanager\`}}),
	814: {{"cef.version", "0"}, {"observer.vendor", "secu|rity"}, {"observer.product", "threatmanager|"}, {"observer.version", "1.|0"},
		{"event.code", "10|0"}, {"cef.name", "tro|jan successfully stopped"}, {"cef.severity", "|10"}},
	827: {{"cef.extensions.moo", `this \has \ backslashs\`}},
	834: with(validate, []check{{"observer.product", "threatmanager=equal"}}),
	842: with(validate, srcDstSpt),
	852: {{"observer.hostname", "loghost"}, {"cef.extensions.ad.nn", "TEST"}, {"source.ip", "192.168.0.1"}, {"destination.port", "53"}},
	862: with(validate, srcDstSpt, []check{{"destination.process.name", "InternetExplorer x.x.x.x"}}),
	// [ad.field][0] is the key "ad.field[0]" kept whole.
	873: with(validate, []check{{"source.ip", "10.0.0.192"}, {"destination.ip", "12.121.122.82"}, {"cef.extensions.ad.field[0]", "field0"},
		{"cef.extensions.ad.name[1]", "new_name"}, {"cef.extensions.ad.Authentification", "MICROSOFT_AUTHENTICATION_PACKAGE_V1_0"},
		{"cef.extensions.ad.Error_,Code", "3221225578"}, {"cef.extensions.additional.dotfieldName", "new_value"}}),
	887: with(validate, []check{{"source.ip", "10.0.0.192"}, {"destination.ip", "12.121.122.82"}, {"cef.extensions.ad.field[0]", "field0"},
		{"cef.extensions.ad.foo.name[1]", "new_name"}, {"cef.extensions.ad.Authentification", "MICROSOFT_AUTHENTICATION_PACKAGE_V1_0"},
		{"cef.extensions.ad.Error_,Code", "3221225578"}, {"cef.extensions.additional.dotfieldName", "new_value"}}),
	// [cef][device_custom_string_4][value] is cef.extensions.deviceCustomString4.
	901: with(validate, []check{{"source.ip", "10.0.0.192"}, {"destination.ip", "12.121.122.82"}, {"cef.extensions.ad.field[0]", "field0"},
		{"cef.extensions.ad.name[1]", "new_name"}, {"cef.extensions.ad.Authentification", "MICROSOFT_AUTHENTICATION_PACKAGE_V1_0"},
		{"cef.extensions.ad.Error_,Code", "3221225578"}, {"cef.extensions.additional.dotfieldName", "new_value"},
		{"cef.extensions.deviceCustomString4", "401 random.user Admin 0 23041A10181C0000  23041810181C0000  /CN=random.user/OU=User Login End-Entity  /CN=TEST/OU=Login CA TEST 34"}}),
	916: with(validate, []check{{"source.ip", "10.0.0.192"}, {"destination.ip", "12.121.122.82"}, {"cef.extensions.new_key_by_device", "new_values here"}}),
	// The codec keeps [network][transport] as sent ("TCP"); Elastic's
	// decode_cef, which we follow, lowercases it. The sent value stays in
	// cef.extensions.transportProtocol.
	926: with(validate, []check{{"source.ip", "10.0.0.192"}, {"destination.ip", "12.121.122.82"}, {"cef.extensions.transportProtocol", "TCP"},
		{"network.transport", "tcp"}, {"source.domain", "source.host.name"}, {"destination.domain", "destination.host.name"},
		{"source.port", "11024"}, {"destination.port", "9200"}, {"event.outcome", "Success"}, {"agent.mac", "00:80:48:1c:24:91"}}),
	// The codec also stores the text before "CEF:" as
	// [log][syslog][header]; that is not an ECS field and "Syslogdate
	// Sysloghost" is no syslog header, so we only check that it does not
	// disturb the message.
	942: with(validate, srcDstSpt),
	// [file][hash]: decode_cef keeps fileHash as cef.extensions.fileHash
	// and Elastic's integration adds it to related.hash.
	950: with(validate, []check{{"cef.extensions.fileHash", "1bad1dea"}, {"related.hash", `["1bad1dea"]`}}),
	958: with(validate, []check{{"cef.extensions.deviceCustomFloatingPoint15", "3.1415926"}, {"cef.extensions.deviceCustomFloatingPoint15Label", "pi"},
		{"cef.extensions.deviceCustomIPv6Address12", "::1"}, {"cef.extensions.deviceCustomIPv6Address12Label", "localhost"},
		{"cef.extensions.deviceCustomNumber7", "8191"}, {"cef.extensions.deviceCustomNumber7Label", "mersenne"},
		{"cef.extensions.deviceCustomString4", "silly"}, {"cef.extensions.deviceCustomString4Label", "theory"},
		{"cef.labels.pi", "3.1415926"}, {"cef.labels.theory", "silly"}}),
	974:  with(validate, []check{{"cef.extensions.target", "aaaaaああああaaaa"}}),
	1023: {{"~destination.geo.location.lon", "-73.614830"}, {"~destination.geo.location.lat", "45.505918"}, {"~source.geo.location.lon", "45.4628328"}, {"~source.geo.location.lat", "9.1076927"}},
}

// TestLogstashEdgeCases decodes every case of logstash-codec-cef's spec
// (taken from the corpus) and checks the spec's assertions.
func TestLogstashEdgeCases(t *testing.T) {
	path := parsertest.Corpus(t, "logs", "cef-edgecases-logstash-codec-cef", "cef-edgecases.jsonl")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n, checks := 0, 0
	seen := map[int]bool{}
	for sc.Scan() {
		var c struct {
			Name     string `json:"name"`
			SpecLine int    `json:"spec_line"`
			Line     string `json:"line"`
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		n++
		seen[c.SpecLine] = true
		want, ok := logstashChecks[c.SpecLine]
		if !ok {
			t.Errorf("%s (spec line %d): no assertions recorded", c.Name, c.SpecLine)
			continue
		}
		var p Parser
		ev := &event.Event{Time: recv}
		if err := p.Parse([]byte(c.Line), ev); err != nil {
			t.Errorf("%s (spec line %d): %v", c.Name, c.SpecLine, err)
			continue
		}
		got := parsertest.Fields(ev)
		for _, w := range want {
			checks++
			name, numeric := strings.CutPrefix(w.field, "~")
			g, present := got[name]
			switch {
			case w.want == "":
				if present && g != "" {
					t.Errorf("%s: %s = %q, want it empty or absent", c.Name, name, g)
				}
			case !present:
				t.Errorf("%s: %s missing (want %q)", c.Name, name, w.want)
			case numeric:
				a, err1 := strconv.ParseFloat(g, 64)
				b, err2 := strconv.ParseFloat(w.want, 64)
				if err1 != nil || err2 != nil || a != b {
					t.Errorf("%s: %s = %q, want the number %s", c.Name, name, g, w.want)
				}
			case g != w.want:
				t.Errorf("%s: %s = %q, want %q", c.Name, name, g, w.want)
			}
		}
		if c.SpecLine == 574 {
			for k := range got {
				if strings.HasPrefix(k, extPrefix) {
					t.Errorf("%s: invented extension %s", c.Name, k)
				}
			}
		}
		checkContract(t, c.Name, ev)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 26 || len(seen) != len(logstashChecks) {
		t.Errorf("%d cases (%d spec lines), want 26 covering the %d recorded", n, len(seen), len(logstashChecks))
	}
	t.Logf("%d cases, %d assertions checked", n, checks)
}

// checkContract asserts what every parsed event must hold: a time, a kind,
// category and type, and the observer when the header names it.
func checkContract(t *testing.T, name string, ev *event.Event) {
	t.Helper()
	if ev.Time.IsZero() {
		t.Errorf("%s: no time", name)
	}
	got := parsertest.Fields(ev)
	for _, k := range []string{"event.kind", "event.category", "event.type", "cef.version"} {
		if got[k] == "" {
			t.Errorf("%s: no %s", name, k)
		}
	}
	if got["cef.device.vendor"] != "" && got["observer.vendor"] == "" {
		t.Errorf("%s: no observer.vendor", name)
	}
}
