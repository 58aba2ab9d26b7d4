package fortigate

import (
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
)

// BenchmarkParseFortiGate parses a FortiOS 7 traffic log, the most common
// kind, with a syslog PRI in front.
func BenchmarkParseFortiGate(b *testing.B) {
	line := []byte(`<189>date=2026-02-11 time=09:14:02 devname="fw-hq" devid="FGT60F0000000001" eventtime=1770801242123456789 tz="+0000" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.20.0.15 srcport=51234 srcintf="internal" srcintfrole="lan" dstip=203.0.113.9 dstport=443 dstintf="wan1" dstintfrole="wan" srccountry="Reserved" dstcountry="United States" sessionid=88123 proto=6 action="close" policyid=12 policytype="policy" poluuid="11111111-2222-3333-4444-555555555555" policyname="LAN out" service="HTTPS" trandisp="snat" transip=198.51.100.7 transport=40111 appid=40568 app="HTTPS.BROWSER" appcat="Web.Client" apprisk="medium" duration=31 sentbyte=4200 rcvdbyte=91000 sentpkt=40 rcvdpkt=80 vwlid=0 srcmac="00:0c:29:aa:bb:cc" mastersrcmac="00:0c:29:aa:bb:cc" srcserver=0`)
	var p Parser
	ev := &event.Event{Fields: make([]event.Field, 0, 128)}
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		ev.Fields = ev.Fields[:0]
		if err := p.Parse(line, ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
