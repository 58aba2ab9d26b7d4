package auditd

import (
	"bufio"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// corpusLines returns the audit lines of the corpus by file: the "log N
// pass = ..." values of Wazuh's auditd tests and every line of the OTRF
// Linux captures.
func corpusLines(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	ini := parsertest.Corpus(t, "logs", "wazuh-ruleset-tests", "auditd.ini")
	f, err := os.Open(ini)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "log ") {
			if _, v, ok := strings.Cut(l, " = "); ok {
				out["auditd.ini"] = append(out["auditd.ini"], v)
			}
		}
	}
	logs, err := filepath.Glob(parsertest.Corpus(t, "logs", "otrf-security-datasets", "linux", "*.log"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no OTRF Linux logs (%v)", err)
	}
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.TrimSpace(line) != "" {
				out[filepath.Base(l)] = append(out[filepath.Base(l)], line)
			}
		}
	}
	return out
}

var (
	ipRe   = regexp.MustCompile(`\baddr=((?:\d{1,3}\.){3}\d{1,3})\b`)
	userRe = regexp.MustCompile(`(?:^|[\s'])(?:uid|auid|acct)=[^?\s]`)
	pidRe  = regexp.MustCompile(`(?:^|[\s'])pid=\d`)
	exeRe  = regexp.MustCompile(`(?:^|[\s'])exe=[^?\s]`)
	nodeRe = regexp.MustCompile(`(?:^|\s)node=\S`)
)

// TestCorpus parses every audit line of the corpus: none may fail; each
// yields its time, record type, category, type and action, the process
// and user its pairs name, the source address, and the host when the line
// names one (node=). testdata/corpus.golden keeps derived values only.
func TestCorpus(t *testing.T) {
	files := corpusLines(t)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var golden strings.Builder
	for _, name := range names {
		lines := files[name]
		classified, hosts := 0, 0
		for i, line := range lines {
			where := fmt.Sprintf("%s line %d", name, i+1)
			var p Parser
			ev := event.Event{Time: ref}
			if err := p.Parse([]byte(line), &ev); err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			got := parsertest.Fields(&ev)
			if ev.Time.Equal(ref) {
				t.Errorf("%s: the record's time was not read", where)
			}
			for _, k := range []string{"event.category", "event.type", "event.action", "auditd.log.record_type", "auditd.log.sequence"} {
				if got[k] == "" {
					t.Errorf("%s: no %s", where, k)
				}
			}
			if nodeRe.MatchString(line) {
				hosts++
				if got["host.hostname"] == "" {
					t.Errorf("%s: node= but no host.hostname", where)
				}
			}
			if pidRe.MatchString(line) && got["process.pid"] == "" {
				t.Errorf("%s: pid= but no process.pid", where)
			}
			if exeRe.MatchString(line) && got["process.executable"] == "" {
				t.Errorf("%s: exe= but no process.executable", where)
			}
			if userRe.MatchString(line) && got["user.id"] == "" && got["user.audit.id"] == "" && got["user.name"] == "" {
				t.Errorf("%s: a user in the record, none in the event", where)
			}
			if m := ipRe.FindStringSubmatch(line); m != nil && got["source.ip"] != m[1] {
				t.Errorf("%s: source.ip %q, want %q", where, got["source.ip"], m[1])
			}
			if got["event.category"] != cHost {
				classified++
			}
			sum := sha256.Sum256([]byte(line))
			fmt.Fprintf(&golden, "%s:%d line:%x fields:%s %s %s %s action=%s outcome=%s\n", name, i+1, sum[:6], digest(got),
				got["auditd.log.record_type"], got["event.category"], got["event.type"], got["event.action"], got["event.outcome"])
		}
		t.Logf("%s: %d lines, %d parsed (100%%), %d classified beyond a host event, %d naming their host (node=)",
			name, len(lines), len(lines), classified, hosts)
	}
	compareGolden(t, filepath.Join("testdata", "corpus.golden"), golden.String())
}

func digest(fields map[string]string) string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s=%s\n", n, fields[n])
	}
	return fmt.Sprintf("%x", h.Sum(nil)[:6])
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}
