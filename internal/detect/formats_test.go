package detect

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse"
	"github.com/tarian-soc/tarian/internal/sigma"
)

// TestWebServerRules: access log lines of Apache, nginx and IIS, through the
// parse stage as the server reads them, against rules written as SigmaHQ's
// webserver rules are (cs-uri-query the whole request target, keywords over
// the line); a proxy rule does not read them. Lines come by syslog or, as
// a file shipper sends them, as JSON with the line in message.
func TestWebServerRules(t *testing.T) {
	rules := map[string]string{
		"traversal": "logsource: {category: webserver}\ndetection:\n  s: {cs-uri-query|contains: '../../../etc/'}\n  condition: s",
		"scanner":   "logsource: {category: webserver}\ndetection:\n  s: {sc-status: 404, cs-user-agent|contains: 'Nikto'}\n  condition: s",
		"owa-query": "logsource: {category: webserver}\ndetection:\n  s: {cs-uri-query|contains: 'logon.aspx?replaceCurrent', cs-method: GET}\n  condition: s",
		"ecp-user":  "logsource: {category: webserver}\ndetection:\n  s: {cs-uri-stem|startswith: '/ecp/', cs-username: bob, c-ip: 198.51.100.7}\n  condition: s",
		"ognl":      "logsource: {category: webserver}\ndetection:\n  keywords: ['${(#a=@']\n  condition: keywords",
		"referrer":  "logsource: {category: webserver}\ndetection:\n  s: {cs-referer|contains: 'evil.example'}\n  condition: s",
		"proxy-get": "logsource: {category: proxy}\ndetection:\n  s: {cs-method: GET}\n  condition: s",
	}
	var rs []*sigma.Rule
	for _, id := range slices.Sorted(maps.Keys(rules)) {
		parsed, err := sigma.Parse(id+".yml", []byte("title: "+id+"\nid: "+id+"\n"+rules[id]+"\n"))
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		rs = append(rs, parsed...)
	}
	e, err := Compile(rs, Options{})
	if err != nil || len(e.Skipped()) != 0 {
		t.Fatalf("compile: %v %+v", err, e.Skipped())
	}
	p, err := parse.New(parse.Config{})
	if err != nil {
		t.Fatal(err)
	}
	pp := p.NewParser()
	received := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		source, line string
		want         []string
	}{
		{"syslog", `<14>Dec  7 10:00:02 web01 nginx: 198.51.100.4 - - [07/Dec/2026:10:00:03 +0100] "GET /cgi-bin/../../../etc/passwd HTTP/1.1" 400 0 "-" "curl/8.0"`, []string{"traversal"}},
		{"http", `203.0.113.9 - - [07/Dec/2026:10:00:02 +0000] "GET /admin.php HTTP/1.1" 404 153 "https://evil.example/x" "Mozilla/5.00 (Nikto/2.5.0)"`, []string{"referrer", "scanner"}},
		{"http", `www.council.gov.uk:443 203.0.113.50 - - [07/Dec/2026:10:01:00 +0000] "GET /index.action?redirect:${(#a=@java.lang.Runtime@getRuntime().exec(%22id%22))} HTTP/1.1" 200 12 "-" "Mozilla/5.0"`, []string{"ognl"}},
		{"http", `2026-12-07 10:00:02 10.0.0.5 GET /owa/auth/logon.aspx replaceCurrent=1&url=https%3a%2f%2fmail 443 - 198.51.100.7 Mozilla/5.0+(Windows+NT+10.0) - 200 0 0 15`, []string{"owa-query"}},
		{"http", `2026-12-07 10:00:05 10.0.0.5 POST /ecp/DDI/DDIService.svc/GetList - 443 CONTOSO\bob 198.51.100.7 python-requests/2.31 302 0 0 31`, []string{"ecp-user"}},
		{"http", `192.168.1.2 - - [07/Dec/2026:10:00:06 +0000] "GET /etc/passwd HTTP/1.1" 200 157 "-" "-"`, nil},
	}
	for i, tc := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			data := []byte(tc.line)
			if tc.source != "syslog" {
				// A file shipper's line: {"message": "..."}.
				data, _ = json.Marshal(map[string]string{"message": tc.line})
			}
			evs, err := pp.Parse("council-a", event.Raw{Received: received, Source: tc.source, Data: data}, nil)
			if err != nil || len(evs) != 1 {
				t.Fatalf("parse: %d events, %v", len(evs), err)
			}
			if typ, _ := evs[0].Get("tarian.source.type"); typ != "web-access" {
				t.Fatalf("detected as %q, want web-access", typ)
			}
			var got []string
			e.EvaluateFields(nil, evs[0].Fields, func(m Match) { got = append(got, m.RuleID) })
			slices.Sort(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nrules fired (-want +got):\n%s", tc.line, diff)
			}
		})
	}
}
