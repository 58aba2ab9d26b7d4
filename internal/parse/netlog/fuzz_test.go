package netlog

import (
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

// fuzzOne checks one parse: refused with the event untouched, or an event
// with its classification and each field once.
func fuzzOne(t *testing.T, p parser, b []byte) {
	ev := &event.Event{Time: received}
	if err := p.Parse(b, ev); err != nil {
		if len(ev.Fields) != 0 || !ev.Time.Equal(received) {
			t.Fatalf("error %v but the event changed", err)
		}
		return
	}
	parsertest.CheckFields(t, ev, "event.category", "event.type")
}

func seeds(f *testing.F, prefix string, extra ...string) {
	a := parsertest.ReadArchive(f, "testdata/golden.txtar")
	for _, file := range a.Files {
		if strings.HasPrefix(file.Name, prefix) && strings.HasSuffix(file.Name, ".in") {
			f.Add([]byte(strings.TrimSuffix(file.Data, "\n")))
		}
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

// FuzzIPTables: no input panics the netfilter parser.
func FuzzIPTables(f *testing.F) {
	seeds(f, "iptables-", "IN= OUT= MAC=:", "[x-y-z]IN= OUT= PROTO=1 ID= SEQ=", "a IN=x OUT=y INCOMPLETE [", "IN= OUT= MAC=00:00:00:00:00:00:00:00:00:00:00:00:zz:zz")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzOne(t, &IPTables{}, b) })
}

// FuzzSquid: no input panics the access.log parser.
func FuzzSquid(f *testing.F) {
	seeds(f, "squid-", "9999999999.999999999999 1 a b/c 1 CONNECT [::1]:x", `a b c [01/Jan/2024:00:00:00 +0000] "GET`, "1234567890.1 1 a TCP_X/ 1 GET http://@/#")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzOne(t, &Squid{}, b) })
}

// FuzzWeb: no input panics the web server access log parser.
func FuzzWeb(f *testing.F) {
	seeds(f, "web-", `a [01/Jan/2024:00:00:00 +0000] "GET`, "2026-12-07 10:00:02 a GET", `v:1 a b c [01/Jan/2024:00:00:00 +0000] "- -" x`, "2026-12-07 10:00:02 a B c d e f g h i j k l")
	f.Fuzz(func(t *testing.T, b []byte) {
		SniffWeb(b)
		fuzzOne(t, &Web{}, b)
	})
}
