package envelope

import (
	"fmt"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
)

// BenchmarkSyslogParse parses a mix of the shapes real relays send: RFC
// 5424 with and without structured data, rsyslog's forward format and
// classic RFC 3164, about 200 bytes each.
func BenchmarkSyslogParse(b *testing.B) {
	recs := make([]event.Raw, 1000)
	for i := range recs {
		var s string
		switch i % 4 {
		case 0:
			s = fmt.Sprintf("<86>1 2026-11-25T17:17:31.%06d+00:00 council-web%02d sshd %d - -  Failed password for invalid user admin%d from 203.0.113.%d port %d ssh2", i, i%20, 4000+i, i, i%250, 40000+i)
		case 1:
			s = fmt.Sprintf(`<165>1 2026-11-25T17:17:31.%06dZ host%d evntslog - ID47 [timeQuality tzKnown="1" isSynced="0"][exampleSDID@32473 iut="3" eventSource="Application" eventID="%d"] An application event log entry %d`, i, i%20, i, i)
		case 2:
			s = fmt.Sprintf("<85>2026-11-25T17:17:31.%06d+00:00 council-web%02d sudo:   jsmith : TTY=pts/%d ; PWD=/home/jsmith ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx", i, i%20, i%9)
		case 3:
			s = fmt.Sprintf("<189>Nov 25 17:17:%02d council-web%02d fortigate: date=2024-05-01 time=10:22:33 devname=\"FGT-COUNCIL\" srcip=10.1.2.%d srcport=%d dstip=198.51.100.7 action=\"deny\"", i%60, i%20, i%250, 40000+i)
		}
		recs[i] = event.Raw{Received: time.Now(), Source: "syslog", Data: []byte(s)}
	}
	var p Syslog
	var ev event.Event
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := p.Parse(recs[i%len(recs)], &ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
