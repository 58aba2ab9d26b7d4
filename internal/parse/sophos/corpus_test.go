package sophos

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

// pairValue returns the value of key in a line, quotes stripped; a test
// helper independent of the parser's scanner.
func pairValue(line, key string) string {
	i := strings.Index(" "+line, " "+key+"=")
	if i < 0 {
		return ""
	}
	v := line[i+len(key)+1:]
	if strings.HasPrefix(v, `"`) {
		v = v[1:]
		if j := strings.IndexByte(v, '"'); j >= 0 {
			return v[:j]
		}
		return v
	}
	if j := strings.IndexByte(v, ' '); j >= 0 {
		return v[:j]
	}
	return v
}

// TestCorpus parses every Sophos line of the Wazuh ruleset tests: each
// must parse, carry the classification and observer fields, take its date
// and time in its zone, and carry its ends.
func TestCorpus(t *testing.T) {
	path := parsertest.Corpus(t, "logs", "wazuh-ruleset-tests", "sophos_fw.ini")
	lines := wazuhLogs(t, path)
	var p Parser
	var golden strings.Builder
	parsed := 0
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
		for _, k := range []string{"event.category", "event.type", "event.kind", "event.code", "observer.vendor", "observer.product", "observer.hostname", "observer.serial_number"} {
			if f[k] == "" {
				t.Errorf("line %d: no %s", i+1, k)
			}
		}
		local, err := time.Parse("2006-01-02 15:04:05", pairValue(in, "date")+" "+pairValue(in, "time"))
		if err != nil {
			t.Fatalf("line %d: the test cannot read its date: %v", i+1, err)
		}
		zone, err := time.Parse("-07", pairValue(in, "timezone"))
		if err != nil {
			t.Fatalf("line %d: the test cannot read its zone: %v", i+1, err)
		}
		_, off := zone.Zone()
		if want := local.Add(-time.Duration(off) * time.Second); !ev.Time.Equal(want) {
			t.Errorf("line %d: time %s, want %s", i+1, ev.Time, want)
		}
		for k, key := range map[string]string{"source.ip": "src_ip", "destination.ip": "dst_ip", "source.port": "src_port", "destination.port": "dst_port", "event.code": "log_id"} {
			if f[k] != pairValue(in, key) {
				t.Errorf("line %d: %s = %q, want %q", i+1, k, f[k], pairValue(in, key))
			}
		}
		if f["event.action"] != strings.ToLower(pairValue(in, "log_subtype")) {
			t.Errorf("line %d: event.action %q", i+1, f["event.action"])
		}
	}
	t.Logf("%s: %d/%d lines parsed (%.1f%%)", filepath.Base(path), parsed, len(lines), 100*float64(parsed)/float64(len(lines)))
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
