package asa

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

// wazuhLogs returns the raw lines of a Wazuh ruleset test file: the text
// after "log N pass = ".
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

// TestCorpus parses every Cisco ASA line of the Wazuh ruleset tests: each
// must parse, carry the classification and observer fields, its own time
// when it has one, and the ends or user its message names when the
// message has a scanner. A digest golden (testdata/corpus.golden) keeps
// the output stable without copying the corpus.
func TestCorpus(t *testing.T) {
	path := parsertest.Corpus(t, "logs", "wazuh-ruleset-tests", "cisco_asa.ini")
	lines := wazuhLogs(t, path)
	var p Parser
	var golden strings.Builder
	parsed, scanned, withEnds, timed := 0, 0, 0, 0
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
		for _, k := range []string{"event.code", "event.category", "event.type", "event.kind", "observer.vendor", "observer.product", "observer.type", "message"} {
			if f[k] == "" {
				t.Errorf("line %d: no %s", i+1, k)
			}
		}
		// A leading "Mon dd yyyy hh:mm:ss" is the device's time.
		if len(in) > 20 && in[0] != '%' {
			if want, err := time.Parse("Jan 02 2006 15:04:05", in[:20]); err == nil {
				timed++
				if !ev.Time.Equal(want) {
					t.Errorf("line %d: time %s, want %s", i+1, ev.Time, want)
				}
			}
		}
		code := f["event.code"]
		_, hasTemplate := templates[code]
		_, hasHandler := handlers[code]
		if hasTemplate || hasHandler {
			scanned++
			if f["source.address"] != "" || f["destination.address"] != "" || f["user.name"] != "" || f["user.email"] != "" || f["cisco.asa.burst.cumulative_count"] != "" {
				withEnds++
			} else {
				t.Errorf("line %d (%s): the scanner found no source, destination or user", i+1, code)
			}
		}
	}
	t.Logf("%s: %d/%d lines parsed (%.1f%%); %d with a scanner, %d of them with ends or a user; %d with a device time",
		filepath.Base(path), parsed, len(lines), 100*float64(parsed)/float64(len(lines)), scanned, withEnds, timed)
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
