package netlog

import (
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// received is the receive time the tests give the envelope; it is also
// the reference year for times without one.
var received = time.Date(2026, 4, 3, 12, 0, 0, 0, time.UTC)

// parserFor returns the parser a golden sample names: "squid-...",
// "web-..." or "iptables-...".
func parserFor(name string) interface {
	Parse([]byte, *event.Event) error
} {
	if strings.HasPrefix(name, "squid-") {
		return &Squid{}
	}
	if strings.HasPrefix(name, "web-") {
		return &Web{}
	}
	return &IPTables{}
}

// TestGolden parses our own sample lines (testdata/golden.txtar, one
// "<name>.in" section each) and compares every field with "<name>.out".
func TestGolden(t *testing.T) {
	parsertest.Golden(t, "testdata/golden.txtar", *update, received, func(name string, in []byte, ev *event.Event) error { return parserFor(name).Parse(in, ev) })
}
