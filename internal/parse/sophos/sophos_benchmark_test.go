package sophos

import (
	"testing"

	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

// BenchmarkParseSophos parses firewall records (≈50 pairs each), the
// bulk of an XG's volume.
func BenchmarkParseSophos(b *testing.B) {
	var p Parser
	parsertest.Bench(b, received, p.Parse, [][]byte{[]byte(fwAllowed), []byte(sfos19[len("<30>"):])})
}
