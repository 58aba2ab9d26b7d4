package indicators

import (
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/intel/stixpattern"
)

// TestPatternFieldsAreObserved: every event field patternFields lists for
// a path is one observed reads for it, so a pattern comparing that path
// matches an event holding the value there (a search of those fields then
// finds what the live matcher matches).
func TestPatternFieldsAreObserved(t *testing.T) {
	const sha256 = "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"
	sample := map[string]struct{ lit, val string }{
		"ipv4-addr:value":               {"'198.51.100.7'", "198.51.100.7"},
		"ipv6-addr:value":               {"'2001:db8::7'", "2001:db8::7"},
		"network-traffic:src_ref.value": {"'198.51.100.7'", "198.51.100.7"},
		"network-traffic:dst_ref.value": {"'198.51.100.7'", "198.51.100.7"},
		"network-traffic:src_port":      {"4444", "4444"},
		"network-traffic:dst_port":      {"4444", "4444"},
		"network-traffic:protocols[*]":  {"'tcp'", "TCP"},
		"domain-name:value":             {"'c2.example'", "C2.example"},
		"url:value":                     {"'http://c2.example/a'", "http://c2.example/a"},
		"file:hashes.MD5":               {"'" + sha256[:32] + "'", strings.ToUpper(sha256[:32])},
		"file:hashes.SHA-1":             {"'" + sha256[:40] + "'", sha256[:40]},
		"file:hashes.SHA-256":           {"'" + sha256 + "'", sha256},
		"file:name":                     {"'evil.exe'", "evil.exe"},
		"file:size":                     {"1234", "1234"},
		"process:command_line":          {"'evil.exe -x'", "evil.exe -x"},
		"process:pid":                   {"42", "42"},
		"email-addr:value":              {"'a@b.example'", "A@b.example"},
		"email-message:from_ref.value":  {"'a@b.example'", "a@b.example"},
		"email-message:subject":         {"'invoice'", "invoice"},
		"user-account:account_login":    {"'bob'", "bob"},
		"user-account:user_id":          {"'bob'", "bob"},
	}
	hashName := map[string]string{"file:hashes.MD5": "MD5", "file:hashes.SHA-1": "SHA1", "file:hashes.SHA-256": "SHA256"}
	for path, pf := range patternFields {
		s, ok := sample[path]
		if !ok {
			t.Errorf("%s: no sample value in this test", path)
			continue
		}
		typ, prop, _ := strings.Cut(path, ":")
		prop = strings.Replace(prop, "hashes.SHA-", "hashes.'SHA-", 1)
		if strings.Contains(prop, "'SHA-") {
			prop += "'"
		}
		src := "[" + typ + ":" + prop + " = " + s.lit + "]"
		p, err := stixpattern.Parse(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		canonical(p.Root)
		for _, f := range pf.fields {
			v := s.val
			if f == "Hashes" || f == "Hash" {
				v = "IMPHASH=00," + hashName[path] + "=" + v
			}
			fs := []event.Field{{Name: f, Value: v}}
			if typ == "network-traffic" && !strings.HasSuffix(path, "_ref.value") {
				// observed makes the traffic object of events with an
				// address only.
				fs = append(fs, event.Field{Name: "destination.ip", Value: "192.0.2.1"}, event.Field{Name: "source.ip", Value: "192.0.2.2"})
			}
			od := observed(fs, time.Now())
			if ok, err := p.Match([]stixpattern.ObservedData{od}); err != nil || !ok {
				t.Errorf("%s does not match an event with %s=%q (%v): a search of %s would find what the matcher does not", src, f, v, err, f)
			}
		}
		q, err := patternHunt(src)
		if err != nil || !strings.Contains(q, pf.fields[0]) {
			t.Errorf("%s: query %q, %v", src, q, err)
		}
	}
}

func TestPatternHunt(t *testing.T) {
	tests := []struct {
		pattern, want, err string
	}{
		{`[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 4444]`,
			`(destination.ip:i("198.51.100.7") OR DestinationIp:i("198.51.100.7") OR server.ip:i("198.51.100.7")) AND (destination.port:i("4444") OR DestinationPort:i("4444"))`, ""},
		// One side of an AND is enough to find every candidate.
		{`[domain-name:value = 'C2.Example' AND x509-certificate:issuer = 'x']`,
			`dns.question.name:i("c2.example") OR destination.domain:i("c2.example") OR url.domain:i("c2.example") OR QueryName:i("c2.example") OR DestinationHostname:i("c2.example")`, ""},
		{`[file:name = 'a.exe' AND process:command_line MATCHES 'x']`, `file.name:i("a.exe")`, ""},
		{`[file:name IN ('a.exe', 'b.exe')] OR [file:hashes.SHA256 = 'ABCD']`,
			`(file.name:i("a.exe") OR file.name:i("b.exe")) OR (file.hash.sha256:i("abcd") OR process.hash.sha256:i("abcd") OR Hashes:i("abcd") OR Hash:i("abcd"))`, ""},
		{`[ipv4-addr:value ISSUBSET '198.51.100.0/24']`, `source.ip:ipv4_range(198.51.100.0/24) OR SourceIp:ipv4_range(198.51.100.0/24) OR client.ip:ipv4_range(198.51.100.0/24) OR destination.ip:ipv4_range(198.51.100.0/24) OR DestinationIp:ipv4_range(198.51.100.0/24) OR server.ip:ipv4_range(198.51.100.0/24)`, ""},
		{`([file:name = 'a.exe'] OR [file:name = 'b.exe']) WITHIN 60 SECONDS`, `(file.name:i("a.exe")) OR (file.name:i("b.exe"))`, ""},
		// Several events: matched neither live nor by a hunt.
		{`[file:name = 'a.exe'] FOLLOWEDBY [file:name = 'b.exe'] WITHIN 60 SECONDS`, "", "observations joined by FOLLOWEDBY need an event each"},
		{`[file:name = 'a.exe'] AND [domain-name:value = 'c2.example']`, "", "observations joined by AND need an event each"},
		{`[file:name = 'a.exe'] REPEATS 3 TIMES`, "", "REPEATS 3 TIMES needs several events"},
		// An OR needs both sides.
		{`[file:name = 'a.exe'] OR [process:command_line MATCHES 'x']`, "", "process:command_line MATCHES cannot be searched"},
		{`[process:command_line LIKE '%evil%']`, "", "process:command_line LIKE cannot be searched"},
		{`[file:name != 'a.exe']`, "", "file:name != cannot be searched"},
		{`[x509-certificate:issuer = 'x']`, "", "x509-certificate:issuer is not a property Tarian's events carry"},
		{`[file:name = '']`, "", "empty value"},
	}
	for _, tt := range tests {
		got, err := patternHunt(tt.pattern)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: error %v, want %q", tt.pattern, err, tt.err)
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("%s:\n got %q, %v\nwant %q", tt.pattern, got, err, tt.want)
		}
	}
}

func TestPatternKey(t *testing.T) {
	const h = "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"
	tests := []struct {
		pattern string
		fields  []event.Field
		want    string
	}{
		{`[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 4444]`,
			[]event.Field{{Name: "destination.ip", Value: "198.51.100.7"}, {Name: "destination.port", Value: "4444"}}, "ipv4:198.51.100.7"},
		{`[file:name = 'x.exe' AND file:hashes.SHA256 = '` + strings.ToUpper(h) + `']`,
			[]event.Field{{Name: "Hashes", Value: "MD5=00,SHA256=" + strings.ToUpper(h)}}, "sha256:" + h},
		{`[process:pid = 4 AND domain-name:value = 'C2.example']`, []event.Field{{Name: "dns.question.name", Value: "c2.example"}}, "domain:c2.example"},
		{`[process:command_line = 'x']`, []event.Field{{Name: "CommandLine", Value: "x"}}, ""},
	}
	for _, tt := range tests {
		if got := patternKey(tt.pattern, tt.fields); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.pattern, got, tt.want)
		}
	}
}
