package windows

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
)

func TestScratchCorpus(t *testing.T) {
	root := os.Getenv("TARIAN_CORPUS")
	var files []string
	filepath.Walk(root+"/events", func(p string, fi os.FileInfo, err error) error {
		if strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".jsonl") {
			files = append(files, p)
		}
		return nil
	})
	fs, _ := filepath.Glob(root + "/logs/otrf-security-datasets/windows/*.json")
	files = append(files, fs...)
	var p Parser
	n, bad := 0, 0
	shapes := map[Shape]int{}
	for _, f := range files {
		fh, _ := os.Open(f)
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			line := sc.Bytes()
			if len(strings.TrimSpace(string(line))) == 0 {
				continue
			}
			n++
			ev := &event.Event{}
			s, err := p.ParseShape(line, ev)
			shapes[s]++
			if err != nil {
				bad++
				if bad < 10 {
					t.Logf("%s: %v: %.200s", f, err, line)
				}
				continue
			}
			if ev.Time.IsZero() {
				t.Logf("no time %s %.300s", f, line)
			}
		}
		fh.Close()
	}
	t.Logf("%d events, %d errors, %v", n, bad, shapes)
	xs, _ := filepath.Glob(root + "/logs/evtx-samples-omerbenamram/xml/*.xml")
	for _, f := range xs {
		b, _ := os.ReadFile(f)
		evs, err := SplitXML(b)
		if err != nil {
			t.Fatal(err)
		}
		bad := 0
		for _, x := range evs {
			ev := &event.Event{}
			if err := p.Parse(x, ev); err != nil {
				bad++
				if bad < 3 {
					t.Logf("%s: %v %.300s", f, err, x)
				}
			}
		}
		t.Logf("%s: %d events %d bad", f, len(evs), bad)
	}
}
