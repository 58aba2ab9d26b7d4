package opencanary

import (
	"testing"

	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

// BenchmarkParse parses a login attempt and a port scan as the canary's
// JSON file holds them.
func BenchmarkParse(b *testing.B) {
	var p Parser
	parsertest.Bench(b, received, p.Parse, [][]byte{
		[]byte(`{"dst_host":"10.20.9.9","dst_port":21,"local_time":"2026-12-07 09:15:02.123456","local_time_adjusted":"2026-12-07 09:15:02.123456","logdata":{"PASSWORD":"Winter2026!","USERNAME":"admin"},"logtype":2000,"node_id":"canary-1","src_host":"10.20.1.77","src_port":51514,"utc_time":"2026-12-07 08:15:02.123456"}`),
		[]byte(`{"dst_host":"10.20.9.9","dst_port":3389,"local_time":"2026-12-07 08:17:00.500000","logdata":{"ID":"54321","IN":"eth0","LEN":"44","PROTO":"TCP","SYN":"","TTL":"44","WINDOW":"1024"},"logtype":5001,"node_id":"canary-1","src_host":"198.51.100.8","src_port":40000,"utc_time":"2026-12-07 08:17:00.500000"}`),
	})
}
