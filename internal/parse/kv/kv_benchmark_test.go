package kv

import "testing"

// BenchmarkScanner scans a FortiOS traffic log of 40 pairs.
func BenchmarkScanner(b *testing.B) {
	line := `date=2026-02-11 time=09:14:02 devname="fw-hq" devid="FGT60F0000000001" eventtime=1770801242123456789 tz="+0000" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.20.0.15 srcport=51234 srcintf="internal" srcintfrole="lan" dstip=203.0.113.9 dstport=443 dstintf="wan1" dstintfrole="wan" srccountry="Reserved" dstcountry="United States" sessionid=88123 proto=6 action="close" policyid=12 policytype="policy" poluuid="11111111-2222-3333-4444-555555555555" policyname="LAN out" service="HTTPS" trandisp="snat" transip=198.51.100.7 transport=40111 appid=40568 app="HTTPS.BROWSER" duration=31 sentbyte=4200 rcvdbyte=91000 sentpkt=40 rcvdpkt=80`
	var s Scanner
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	n := 0
	for b.Loop() {
		s.Reset(line)
		for s.Next() {
			n += len(s.Key()) + len(Unquote(s.Value(), '"'))
		}
	}
	if n == 0 {
		b.Fatal("no pairs")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
