package ios

import (
	"testing"

	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

// BenchmarkParse parses an access list match and a configuration command
// as a syslog receiver hands them over.
func BenchmarkParse(b *testing.B) {
	var p Parser
	parsertest.Bench(b, received, p.Parse, [][]byte{
		[]byte("1234: Dec  7 10:00:00.123 UTC: %SEC-6-IPACCESSLOGP: list 101 denied tcp 198.51.100.5(51234) -> 192.0.2.1(22), 1 packet"),
		[]byte("2001: rtr1: .Dec  7 10:00:02.001 CET: %PARSER-5-CFGLOG_LOGGEDCMD: User:netadmin  logged command:no logging buffered"),
	})
}
