package panos

import (
	"testing"

	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

// BenchmarkParsePANOS parses TRAFFIC and THREAT records, the bulk of a
// firewall's volume, as a syslog receiver hands them over.
func BenchmarkParsePANOS(b *testing.B) {
	var p Parser
	parsertest.Bench(b, received, p.Parse, [][]byte{[]byte(trafficEnd[len("<14>Nov 30 16:09:08 PA-220 "):]), []byte(threatURL), []byte(threatFile)})
}
