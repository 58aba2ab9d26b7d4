package bus

import (
	"bytes"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
)

// BenchmarkMessage packs and unpacks 1,000 records, as Write and a
// consumer do for one request: the realistic benchmark's records
// (TARIAN_BENCH_EVENTS_FILE, bench/README.md) when set, else generated
// ones of about 1.3 KB.
func BenchmarkMessage(b *testing.B) {
	c, err := newCodec(CompressionZstd)
	if err != nil {
		b.Fatal(err)
	}
	defer c.close()
	var lines [][]byte
	if path := os.Getenv("TARIAN_BENCH_EVENTS_FILE"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		lines = bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	} else {
		for i := range 1000 {
			data := []byte(`{"Event":{"System":{"EventID":1,"EventRecordID":` + strconv.Itoa(i) + `,"Computer":"host-` + strconv.Itoa(i%17) + `"},"EventData":{"Image":"C:\\Windows\\System32\\svchost.exe","CommandLine":"svchost.exe -k netsvcs -p -s Schedule"}}}`)
			lines = append(lines, bytes.Repeat(data, 6))
		}
	}
	now := time.Now()
	var reqs [][]event.Raw
	for i := 0; i+1000 <= len(lines) && len(reqs) < 20; i += 1000 {
		recs := make([]event.Raw, 1000)
		for j := range recs {
			recs[j] = event.Raw{Received: now, Source: "http", Data: lines[i+j]}
		}
		reqs = append(reqs, recs)
	}
	b.ReportAllocs()
	packed := 0
	for i := 0; b.Loop(); i++ {
		recs := reqs[i%len(reqs)]
		for start := 0; start < len(recs); {
			data, n := c.message(recs[start:], 1<<20)
			start += n
			packed += len(data)
			body, err := c.unpack(data)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := decode(body); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(packed)/float64(b.N*1000), "packed-B/record")
}
