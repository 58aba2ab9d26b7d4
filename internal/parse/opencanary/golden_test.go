package opencanary

import (
	"flag"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// received is the receive time the tests give the envelope.
var received = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

// TestGolden parses our own sample records (testdata/golden.txtar, one
// "<name>.in" section each) and compares every field with "<name>.out".
func TestGolden(t *testing.T) {
	var p Parser
	parsertest.Golden(t, "testdata/golden.txtar", *update, received, func(_ string, in []byte, ev *event.Event) error { return p.Parse(in, ev) })
}
