package netlog

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
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

// token returns the value of KEY= in a netfilter line; a test helper
// independent of the parser.
func token(line, key string) string {
	for _, w := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(w, key+"="); ok {
			return v
		}
	}
	return ""
}

// checkGolden compares a corpus digest golden, or rewrites it.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	gp := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(gp, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(gp)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", gp, diff)
	}
}

// TestCorpusIPTables parses every netfilter line of the Wazuh ruleset
// tests: each must parse, take its syslog time, carry the classification,
// observer and both ends with their ports.
func TestCorpusIPTables(t *testing.T) {
	path := parsertest.Corpus(t, "logs", "wazuh-ruleset-tests", "iptables.ini")
	lines := wazuhLogs(t, path)
	var p IPTables
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
		for _, k := range []string{"event.category", "event.type", "event.kind", "observer.hostname", "observer.type", "network.transport"} {
			if f[k] == "" {
				t.Errorf("line %d: no %s", i+1, k)
			}
		}
		if want, err := time.Parse(time.Stamp, in[:15]); err == nil {
			if ev.Time.Format(time.Stamp) != want.Format(time.Stamp) {
				t.Errorf("line %d: time %s, want %s", i+1, ev.Time.Format(time.Stamp), in[:15])
			}
		} else {
			t.Errorf("line %d: the test cannot read its time: %v", i+1, err)
		}
		for k, key := range map[string]string{"source.ip": "SRC", "destination.ip": "DST", "source.port": "SPT", "destination.port": "DPT"} {
			if want := token(in, key); f[k] != want {
				t.Errorf("line %d: %s = %q, want %q", i+1, k, f[k], want)
			}
		}
	}
	t.Logf("%s: %d/%d lines parsed (%.1f%%)", filepath.Base(path), parsed, len(lines), 100*float64(parsed)/float64(len(lines)))
	if parsed != len(lines) {
		t.Errorf("parsed %d of %d lines", parsed, len(lines))
	}
	checkGolden(t, "corpus-iptables.golden", golden.String())
}

// TestCorpusSquid parses every Squid line of the Wazuh ruleset tests: each
// must parse, take its Unix time, and carry the client, method, status and
// result code.
func TestCorpusSquid(t *testing.T) {
	path := parsertest.Corpus(t, "logs", "wazuh-ruleset-tests", "squid_rules.ini")
	lines := wazuhLogs(t, path)
	var p Squid
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
		for _, k := range []string{"event.category", "event.type", "event.kind", "observer.type", "observer.product"} {
			if f[k] == "" {
				t.Errorf("line %d: no %s", i+1, k)
			}
		}
		w := strings.Fields(in)
		secs, err := strconv.ParseFloat(w[0], 64)
		if err != nil {
			t.Fatalf("line %d: the test cannot read its time: %v", i+1, err)
		}
		if d := ev.Time.Sub(time.UnixMilli(int64(secs*1000 + 0.5))); d != 0 {
			t.Errorf("line %d: time %s is %s off", i+1, ev.Time, d)
		}
		code, status, _ := strings.Cut(w[3], "/")
		want := map[string]string{"source.ip": w[2], "squid.result_code": code, "http.response.status_code": status, "http.request.method": w[5], "url.original": w[6]}
		if w[7] != "-" {
			want["user.name"] = w[7]
		}
		for k, v := range want {
			if f[k] != v {
				t.Errorf("line %d: %s = %q, want %q", i+1, k, f[k], v)
			}
		}
	}
	t.Logf("%s: %d/%d lines parsed (%.1f%%)", filepath.Base(path), parsed, len(lines), 100*float64(parsed)/float64(len(lines)))
	if parsed != len(lines) {
		t.Errorf("parsed %d of %d lines", parsed, len(lines))
	}
	checkGolden(t, "corpus-squid.golden", golden.String())
}
