package panos

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

func wazuhLogs(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, "log ") {
			continue
		}
		if _, raw, ok := strings.Cut(l, " pass = "); ok {
			lines = append(lines, raw)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(lines) == 0 {
		t.Fatalf("%s: no log lines", path)
	}
	return lines
}

// TestCorpus parses every Palo Alto line of the Wazuh ruleset tests
// (PAN-OS 8–10 records, some cut short or anonymised): each must parse,
// carry the classification and observer fields, take its generated time
// when that is a valid date, and carry the ends its columns hold.
func TestCorpus(t *testing.T) {
	path := parsertest.Corpus(t, "logs", "wazuh-ruleset-tests", "paloalto.ini")
	lines := wazuhLogs(t, path)
	var p Parser
	var golden strings.Builder
	parsed, timed, ends := 0, 0, 0
	for i, in := range lines {
		ev := &event.Event{Time: received}
		err := p.Parse([]byte(in), ev)
		golden.WriteString(parsertest.CorpusLine(in, ev, err))
		if err != nil {
			t.Errorf("line %d: %v", i+1, err)
			continue
		}
		parsed++
		checkUnique(t, ev)
		f := parsertest.Fields(ev)
		for _, k := range []string{"event.category", "event.type", "event.kind", "observer.vendor", "observer.product", "observer.type", "panw.panos.type"} {
			if f[k] == "" {
				t.Errorf("line %d: no %s", i+1, k)
			}
		}
		cols := strings.Split(in[strings.IndexByte(in, ',')+1:], ",")
		// cols[5] is the generated time, cols[6] and cols[7] the ends of
		// TRAFFIC and THREAT records.
		if len(cols) > 5 {
			if want, err := time.Parse("2006/01/02 15:04:05", cols[5]); err == nil {
				timed++
				if !ev.Time.Equal(want) {
					t.Errorf("line %d: time %s, want %s", i+1, ev.Time, want)
				}
			}
		}
		if typ := f["panw.panos.type"]; (typ == "TRAFFIC" || typ == "THREAT") && len(cols) > 7 {
			if _, err := time.Parse("2006/01/02 15:04:05", cols[5]); err == nil {
				ends++
				if f["source.ip"] != cols[6] || f["destination.ip"] != cols[7] {
					t.Errorf("line %d: source.ip %q destination.ip %q, want %q %q", i+1, f["source.ip"], f["destination.ip"], cols[6], cols[7])
				}
			}
		}
	}
	t.Logf("%s: %d/%d lines parsed (%.1f%%); %d with a valid generated time; %d traffic/threat records checked for their ends",
		filepath.Base(path), parsed, len(lines), 100*float64(parsed)/float64(len(lines)), timed, ends)
	if parsed != len(lines) {
		t.Errorf("parsed %d of %d lines", parsed, len(lines))
	}
	gp := filepath.Join("testdata", "corpus.golden")
	if *update {
		if err := os.WriteFile(gp, []byte(golden.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(gp)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), golden.String()); diff != "" {
		t.Errorf("%s (-want +got):\n%s", gp, diff)
	}
}
