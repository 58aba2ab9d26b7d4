package netlog

import (
	"testing"

	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

func bench(b *testing.B, p parser, lines [][]byte) {
	parsertest.Bench(b, received, p.Parse, lines)
}

// BenchmarkParseIPTables parses packet log lines as a syslog receiver
// hands them over (the kernel tag already taken off).
func BenchmarkParseIPTables(b *testing.B) {
	bench(b, &IPTables{}, [][]byte{
		[]byte("[ 3529.289825] [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=203.0.113.9 DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=50 ID=54321 DF PROTO=TCP SPT=51515 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0"),
		[]byte("DROP IN= OUT=wlan0 SRC=192.168.1.102 DST=192.0.2.52 LEN=52 TOS=0x00 PREC=0x00 TTL=64 ID=5394 DF PROTO=UDP SPT=59534 DPT=53 LEN=32"),
	})
}

// BenchmarkParseSquid parses native access.log lines.
func BenchmarkParseSquid(b *testing.B) {
	bench(b, &Squid{}, [][]byte{
		[]byte("1709287200.123     45 10.0.0.5 TCP_MISS/200 5120 GET http://www.example.com/index.html?x=1 alice HIER_DIRECT/192.0.2.34 text/html"),
		[]byte("1709287201.500    120 10.0.0.6 TCP_TUNNEL/200 8812 CONNECT www.example.org:443 - HIER_DIRECT/198.51.100.4 -"),
	})
}

// BenchmarkParseWeb parses combined and IIS W3C access log lines.
func BenchmarkParseWeb(b *testing.B) {
	bench(b, &Web{}, [][]byte{
		[]byte(`203.0.113.9 - - [07/Dec/2026:10:00:02 +0000] "GET /wp-login.php?action=register HTTP/1.1" 404 153 "https://ref.example/" "Mozilla/5.0 (X11; Linux x86_64)"`),
		[]byte("2026-12-07 10:00:02 192.0.2.5 GET /owa/auth/logon.aspx replaceCurrent=1 443 - 198.51.100.7 Mozilla/5.0+(Windows+NT+10.0) - 200 0 0 15"),
	})
}
