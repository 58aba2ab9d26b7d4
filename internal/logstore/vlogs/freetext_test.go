package vlogs

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// TestSearchText searches a store as Search does, with the text fields:
// a Windows event has no message, an OTLP one its text in attributes.
func TestSearchText(t *testing.T) {
	s := openStore(t, testConfig(t.TempDir()))
	at := time.Now().Add(-time.Minute)
	mustAdd(t, s, "council-a",
		ev(at, "EventID", "1", "Channel", "Microsoft-Windows-Sysmon/Operational", "Computer", "WS01",
			"Image", `C:\Users\bob\AppData\Local\Temp\mimikatz.exe`, "CommandLine", `mimikatz.exe "sekurlsa::logonpasswords" exit`,
			"process.command_line", `mimikatz.exe "sekurlsa::logonpasswords" exit`, "host.name", "WS01", "user.name", "bob"),
		ev(at.Add(time.Second), "message", "Failed password for root from 203.0.113.9 port 22 ssh2",
			"host.name", "fw01", "process.name", "sshd", "source.ip", "203.0.113.9"),
		ev(at.Add(2*time.Second), "message", "GET /admin", "url.full", "https://intranet.example/admin?q=mimikatz", "user.name", "carol"),
		ev(at.Add(3*time.Second), "event.code", "4625", "TargetUserName", "root", "IpAddress", "203.0.113.9", "host.name", "DC01"),
	)
	s.Refresh()
	tests := []struct {
		q    string
		want []string // host.name or user.name of the events found, newest first
	}{
		{`mimikatz`, []string{"carol", "WS01"}},
		{`"sekurlsa::logonpasswords"`, []string{"WS01"}},
		{`mimi*`, []string{"carol", "WS01"}},
		{`i(MIMIKATZ)`, []string{"carol", "WS01"}},
		{`mimikatz -carol`, []string{"WS01"}},
		{`mimikatz user.name:bob`, []string{"WS01"}},
		{`203.0.113.9`, []string{"DC01", "fw01"}},
		{`root -"Failed password"`, []string{"DC01"}},
		{`root | stats count() as n`, nil},
		{`_msg:mimikatz`, nil},
		{`message:password`, []string{"fw01"}},
		{`sshd`, []string{"fw01"}},
		{`nowhere`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			rows := search(t, s, logstore.Query{Tenants: []tenant.ID{"council-a"}, LogsQL: tt.q})
			var got []string
			for _, r := range rows {
				if n, ok := rowValue(r, "n"); ok {
					got = append(got, "n="+n)
					continue
				}
				if h, ok := rowValue(r, "host.name"); ok {
					got = append(got, h)
				} else if u, ok := rowValue(r, "user.name"); ok {
					got = append(got, u)
				}
			}
			want := tt.want
			if strings.Contains(tt.q, "stats") {
				want = []string{"n=2"}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: found %v, want %v", tt.q, got, want)
			}
		})
	}
	// LogsQL's own meaning, for comparison: the message alone.
	var n int
	err := s.search(t.Context(), logstore.Query{Tenants: []tenant.ID{"council-a"}, LogsQL: "mimikatz"}, nil, func(logstore.Row) error { n++; return nil })
	if err != nil || n != 0 {
		t.Errorf("mimikatz in the message alone: %d events, %v; want none", n, err)
	}
}

func rowValue(r logstore.Row, name string) (string, bool) {
	for _, f := range r.Fields {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}
