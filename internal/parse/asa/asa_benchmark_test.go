package asa

import (
	"testing"

	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

// benchLines are typical messages, as a syslog receiver hands them over
// (header parsed by the envelope), plus one with the ASA's own header.
var benchLines = [][]byte{
	[]byte("%ASA-6-302013: Built inbound TCP connection 11757 for outside:192.0.2.5/80 (198.51.100.5/8080) to inside:10.1.1.2/1772 (10.1.1.2/1772)"),
	[]byte("%ASA-6-302014: Teardown TCP connection 11757 for outside:192.0.2.5/80 to inside:10.1.1.2/1772 duration 0:01:00 bytes 38110 TCP FINs"),
	[]byte("%ASA-4-106023: Deny udp src dmz:192.0.2.9/5353 dst outside:198.51.100.1/53 by access-group \"dmz_in\" [0x0, 0x0]"),
	[]byte("Oct 10 2018 12:34:56 asa-edge : %ASA-6-113005: AAA user authentication Rejected : reason = Invalid password : server = 10.10.1.2 : user = bob : user IP = 203.0.113.50"),
}

func BenchmarkParseASA(b *testing.B) {
	var p Parser
	parsertest.Bench(b, received, p.Parse, benchLines)
}
