package windows

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/windows/windowstest"
)

// benchEvents are realistic events of each shape: our own Sysmon process
// creation, Security logon and PowerShell script block events, so the
// benchmark runs without the corpus.
func benchEvents(b *testing.B) map[string][][]byte {
	b.Helper()
	out := map[string][][]byte{}
	for _, e := range sampleEvtx {
		out["evtx"] = append(out["evtx"], []byte(e))
		for name, conv := range map[string]func([]byte) ([]byte, error){
			"xml": windowstest.ToXML, "winlogbeat": windowstest.ToWinlogbeat, "flat": windowstest.ToFlat,
		} {
			x, err := conv([]byte(e))
			if err != nil {
				b.Fatal(err)
			}
			out[name] = append(out[name], x)
		}
	}
	return out
}

func benchParse(b *testing.B, payloads [][]byte) {
	var p Parser
	ev := &event.Event{Fields: make([]event.Field, 0, 256)}
	size := 0
	for _, x := range payloads {
		size += len(x)
	}
	b.SetBytes(int64(size / len(payloads)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev.Fields = ev.Fields[:0]
		if err := p.Parse(payloads[i%len(payloads)], ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkParseWindowsJSON parses Windows JSON events: evtx-style and
// Winlogbeat documents (with the XML in event.original), and flat NXLog
// records.
func BenchmarkParseWindowsJSON(b *testing.B) {
	ev := benchEvents(b)
	for _, shape := range []string{"evtx", "winlogbeat", "flat"} {
		b.Run(shape, func(b *testing.B) { benchParse(b, ev[shape]) })
	}
}

// BenchmarkParseWindowsXML parses the Windows XML rendering.
func BenchmarkParseWindowsXML(b *testing.B) {
	benchParse(b, benchEvents(b)["xml"])
}

// BenchmarkParseCorpus parses the Sysmon XML sample of the corpus.
func BenchmarkParseCorpusSysmonXML(b *testing.B) {
	root := os.Getenv("TARIAN_CORPUS")
	if root == "" {
		b.Skip("TARIAN_CORPUS is not set")
	}
	doc, err := os.ReadFile(filepath.Join(root, "logs", "evtx-samples-omerbenamram", "xml", "sysmon.xml"))
	if err != nil {
		b.Fatal(err)
	}
	evs, err := SplitXML(doc)
	if err != nil {
		b.Fatal(err)
	}
	benchParse(b, evs)
}

// BenchmarkParseCorpusEvents parses the corpus event sets (evtx-style and
// flat JSON, 22,071 events) in turn.
func BenchmarkParseCorpusEvents(b *testing.B) {
	if os.Getenv("TARIAN_CORPUS") == "" {
		b.Skip("TARIAN_CORPUS is not set")
	}
	t := &testing.T{}
	_, events := corpusEvents(t)
	if len(events) == 0 {
		b.Fatal("no corpus events")
	}
	benchParse(b, events)
}
