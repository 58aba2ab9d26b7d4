package zeek

import (
	"testing"

	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

// BenchmarkParse parses a dns.log, a conn.log and an http.log record as a
// shipper sends them.
func BenchmarkParse(b *testing.B) {
	var p Parser
	parsertest.Bench(b, received, p.Parse, [][]byte{
		[]byte(`{"ts":1796631302.123071,"uid":"CHFRflzsgM15k9et4","id.orig_h":"10.20.1.15","id.orig_p":58506,"id.resp_h":"10.20.0.2","id.resp_p":53,"proto":"udp","trans_id":50763,"rtt":0.0226,"query":"pool.example.com","qclass":1,"qclass_name":"C_INTERNET","qtype":1,"qtype_name":"A","rcode":0,"rcode_name":"NOERROR","AA":false,"TC":false,"RD":true,"RA":true,"Z":0,"answers":["192.0.2.7"],"TTLs":[300.0],"rejected":false}`),
		[]byte(`{"ts":1796631318.0,"uid":"Cc1","id.orig_h":"198.51.100.23","id.orig_p":51000,"id.resp_h":"10.20.0.30","id.resp_p":3389,"proto":"tcp","service":"rdp","duration":3.2,"orig_bytes":1450,"resp_bytes":3020,"conn_state":"SF","local_orig":false,"local_resp":true,"missed_bytes":0,"history":"ShADadFf","orig_pkts":12,"orig_ip_bytes":2090,"resp_pkts":10,"resp_ip_bytes":3550}`),
		[]byte(`{"ts":1796631310.5,"uid":"Cw1","id.orig_h":"10.20.1.15","id.orig_p":49712,"id.resp_h":"203.0.113.80","id.resp_p":80,"trans_depth":1,"method":"GET","host":"www.example.org","uri":"/index.html","version":"1.1","user_agent":"Mozilla/5.0","request_body_len":0,"response_body_len":5120,"status_code":200,"status_msg":"OK","tags":[],"resp_mime_types":["text/html"]}`),
	})
}
