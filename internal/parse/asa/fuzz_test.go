package asa

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

// FuzzParse: no input panics; a payload is either refused with ErrNoTag
// and the event untouched, or becomes an event with its code, its
// classification and each field once.
func FuzzParse(f *testing.F) {
	a := parsertest.ReadArchive(f, "testdata/golden.txtar")
	for _, file := range a.Files {
		if strings.HasSuffix(file.Name, ".in") {
			f.Add([]byte(strings.TrimSuffix(file.Data, "\n")))
		}
	}
	for _, s := range []string{
		"%ASA-6-302013: Built inbound TCP connection 1 for a:b/1 (", "%ASA-6-302014: Teardown TCP connection 1 for a:b/c to d:e/f duration 9999999999999:99 bytes x",
		"%ASA-6-302020: Built inbound ICMP connection for faddr ::1/0 gaddr x laddr", "%ASA-4-106023: Deny tcp src a:(b dst",
		"%ASA-6-113005: AAA user authentication Rejected : reason = ", "%FTD-1-430001: a:b, c: d,,: e",
		"<999>Feb 31 2024 25:00:00 x : %ASA-7-000000:", "%ASA-5-304001: [::1]:http://x", "%ASA-4-733100: [",
		"Oct 10 2018 12:34:56 EST", "%ASA-6-722051: Group <", "%ASA-6-605004: Login denied from /",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Parser
		ev := &event.Event{Time: received}
		err := p.Parse(b, ev)
		if err != nil {
			if len(ev.Fields) != 0 || !ev.Time.Equal(received) {
				t.Fatalf("error %v but the event changed", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, fl := range ev.Fields {
			if seen[fl.Name] {
				t.Fatalf("field %s twice", fl.Name)
			}
			seen[fl.Name] = true
			if strings.HasPrefix(fl.Name, "related.") || fl.Name == "event.category" || fl.Name == "event.type" {
				if !strings.HasPrefix(fl.Value, "[") || !utf8.ValidString(fl.Value) {
					t.Fatalf("%s = %q is not a JSON array", fl.Name, fl.Value)
				}
			}
		}
		for _, k := range []string{"event.code", "event.category", "event.type"} {
			if !seen[k] {
				t.Fatalf("no %s", k)
			}
		}
	})
}
