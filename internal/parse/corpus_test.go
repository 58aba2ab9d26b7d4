package parse_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse"
	"github.com/tarian-soc/tarian/internal/parse/windows"
)

// corpusFile is one sample file of $TARIAN_CORPUS/logs and the types its
// records may be detected as.
type corpusFile struct {
	glob  string
	read  func(t testing.TB, path string) [][]byte
	types []string
}

var corpusFiles = []corpusFile{
	{"elastic-integrations/windows-sysmon_operational/test-image-loaded-failed-signature.json", eventsArray, []string{"windows"}},
	{"elastic-integrations/fortinet_fortigate/*.log", lines, []string{"fortigate"}},
	{"elastic-integrations/azure-signinlogs/*.log", lines, []string{"entra-signin"}},
	{"evtx-samples-omerbenamram/xml/*.xml", xmlEvents, []string{"windows"}},
	{"otrf-security-datasets/linux/*.log", lines, []string{"auditd"}},
	{"otrf-security-datasets/windows/*.json", lines, []string{"windows"}},
	{"otrf-security-datasets/m365-aad-goldensaml/AADAuditEvents.json", lines, []string{"entra-audit"}},
	{"otrf-security-datasets/m365-aad-goldensaml/OfficeActivityEvents.json", lines, []string{"m365-audit"}},
	{"otrf-security-datasets/m365-aad-goldensaml/Microsoft365DefenderEvents.json", lines, []string{"m365-defender"}},
	{"otrf-security-datasets/m365-aad-goldensaml/WindowsEvents.json", lines, []string{"windows", "sentinel"}},
	{"cef-edgecases-logstash-codec-cef/cef-edgecases.jsonl", cefLines, []string{"cef"}},
	{"wazuh-ruleset-tests/auditd.ini", wazuh, []string{"auditd"}},
	{"wazuh-ruleset-tests/cisco_asa.ini", wazuh, []string{"cisco-asa"}},
	{"wazuh-ruleset-tests/exchange.ini", wazuh, []string{"exchange"}},
	{"wazuh-ruleset-tests/fortigate.ini", wazuh, []string{"fortigate"}},
	{"wazuh-ruleset-tests/fortimail.ini", wazuh, []string{"fortimail"}},
	{"wazuh-ruleset-tests/iptables.ini", wazuh, []string{"iptables"}},
	// MailScanner's updater logs plain syslog lines beside its verdicts.
	{"wazuh-ruleset-tests/mailscanner.ini", wazuh, []string{"mailscanner", "syslog"}},
	{"wazuh-ruleset-tests/ms-graph.ini", wazuh, []string{"m365-defender"}},
	{"wazuh-ruleset-tests/office365.ini", wazuh, []string{"m365-audit"}},
	{"wazuh-ruleset-tests/paloalto.ini", wazuh, []string{"panos"}},
	{"wazuh-ruleset-tests/pam.ini", wazuh, []string{"linux-auth"}},
	{"wazuh-ruleset-tests/postfix.ini", wazuh, []string{"postfix"}},
	{"wazuh-ruleset-tests/powershell.ini", wazuh, []string{"windows"}},
	{"wazuh-ruleset-tests/sophos_fw.ini", wazuh, []string{"sophos-xg"}},
	{"wazuh-ruleset-tests/squid_rules.ini", wazuh, []string{"squid"}},
	{"wazuh-ruleset-tests/sshd.ini", wazuh, []string{"linux-auth", "syslog"}},
	{"wazuh-ruleset-tests/sudo.ini", wazuh, []string{"linux-auth"}},
	{"wazuh-ruleset-tests/syslog.ini", wazuh, []string{"linux-auth", "syslog"}},
	{"wazuh-ruleset-tests/sysmon_eid_1.ini", wazuh, []string{"windows"}},
	{"wazuh-ruleset-tests/sysmon_eid_3.ini", wazuh, []string{"windows"}},
	{"wazuh-ruleset-tests/win_security.ini", wazuh, []string{"windows"}},
}

// notRecords are sample lines that are not a record of their file's
// format, by file and record number, with why and the type they are
// detected as instead.
var notRecords = map[string]map[int]struct{ why, typ string }{
	"wazuh-ruleset-tests/office365.ini": {101: {"a status message of Wazuh's office365 module (actor, tenant_id, subscription_name), not an audit record", "json"}},
}

// TestCorpusDetection sends every record of every sample file in
// $TARIAN_CORPUS/logs through the pipeline with no source declared: each
// must be detected as its format, parse without a dead letter, and carry
// @timestamp, event.kind, event.category and event.type. The shares of
// events with a time of their own (not the receive time: many sample lines
// carry none) and with a host or observer (raw audit.log lines without
// node= name no host) are logged per file.
func TestCorpusDetection(t *testing.T) {
	root := corpus(t)
	p, err := parse.New(parse.Config{})
	if err != nil {
		t.Fatal(err)
	}
	pp := p.NewParser()
	received := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	total := 0
	for _, cf := range corpusFiles {
		paths, _ := filepath.Glob(filepath.Join(root, "logs", cf.glob))
		if len(paths) == 0 {
			t.Errorf("%s: no file", cf.glob)
		}
		for _, path := range paths {
			rel, _ := filepath.Rel(filepath.Join(root, "logs"), path)
			seen[rel] = true
			recs := cf.read(t, path)
			if len(recs) == 0 {
				t.Errorf("%s: no record", rel)
			}
			var n, categorised, located, timed int
			for i, rec := range recs {
				source := "file"
				if len(rec) > 1 && rec[0] == '<' && rec[1] >= '0' && rec[1] <= '9' {
					source = "syslog"
				}
				evs, err := pp.ParseAs(parse.Auto, event.Raw{Received: received, Source: source, Data: rec}, nil)
				if err != nil {
					t.Errorf("%s record %d: %v", rel, i+1, err)
					continue
				}
				for _, ev := range evs {
					n++
					typ, _ := ev.Get(parse.FieldType)
					if nr, ok := notRecords[rel][i+1]; ok {
						if typ != nr.typ {
							t.Errorf("%s record %d (%s): detected as %q, want %q", rel, i+1, nr.why, typ, nr.typ)
						}
						continue
					}
					if !slices.Contains(cf.types, typ) {
						t.Errorf("%s record %d: detected as %q, want one of %v: %.200s", rel, i+1, typ, cf.types, rec)
					}
					if _, ok := ev.Get(event.FieldTimestamp); !ok {
						t.Errorf("%s record %d: no @timestamp", rel, i+1)
					}
					if !ev.Time.Equal(received) {
						timed++
					}
					_, kind := ev.Get("event.kind")
					_, cat := ev.Get("event.category")
					_, etype := ev.Get("event.type")
					if !kind || !cat || !etype {
						t.Errorf("%s record %d: event.kind %v, event.category %v, event.type %v: want all three", rel, i+1, kind, cat, etype)
					} else {
						categorised++
					}
					if has(ev, "host.name", "host.hostname", "observer.name", "observer.hostname", "observer.vendor", "observer.product", "cloud.provider") {
						located++
					}
				}
			}
			total += n
			t.Logf("%-62s %4d events  own time %5.1f%%  category+type %5.1f%%  host/observer %5.1f%%", rel, n, pct(timed, n), pct(categorised, n), pct(located, n))
		}
	}
	if total < 1000 {
		t.Fatalf("only %d events: the corpus files were not read", total)
	}
	// Every sample file is covered (binary .evtx files are read through
	// their XML renderings; snapshots and expected documents are not input).
	_ = filepath.WalkDir(filepath.Join(root, "logs"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join(root, "logs"), path)
		base := filepath.Base(rel)
		switch {
		case seen[rel], strings.HasSuffix(base, ".md"), strings.HasPrefix(base, "LICENSE"), strings.HasSuffix(base, ".evtx"),
			strings.HasSuffix(base, "-expected.json"), strings.HasSuffix(base, ".snap"):
			return nil
		}
		t.Errorf("sample file %s is not in this test", rel)
		return nil
	})
}

func corpus(t *testing.T) string {
	t.Helper()
	root := os.Getenv("TARIAN_CORPUS")
	if root == "" {
		t.Skip("TARIAN_CORPUS is not set: skipping the corpus test (.ci/run sets it)")
	}
	return root
}

func has(ev event.Event, names ...string) bool {
	for _, n := range names {
		if v, ok := ev.Get(n); ok && v != "" {
			return true
		}
	}
	return false
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func read(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func lines(t testing.TB, path string) [][]byte {
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(read(t, path)))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 {
			out = append(out, append([]byte(nil), l...))
		}
	}
	return out
}

// eventsArray reads Elastic's pipeline test input: {"events":[...]}.
func eventsArray(t testing.TB, path string) [][]byte {
	var doc struct{ Events []json.RawMessage }
	if err := json.Unmarshal(read(t, path), &doc); err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, e := range doc.Events {
		out = append(out, e)
	}
	return out
}

func xmlEvents(t testing.TB, path string) [][]byte {
	recs, err := windows.SplitXML(read(t, path))
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// cefLines reads the raw CEF input of each logstash codec case.
func cefLines(t testing.TB, path string) [][]byte {
	var out [][]byte
	for _, l := range lines(t, path) {
		var c struct{ Line string }
		if err := json.Unmarshal(l, &c); err != nil {
			t.Fatal(err)
		}
		out = append(out, []byte(c.Line))
	}
	return out
}

var wazuhLog = regexp.MustCompile(`^log \d+ (?:pass|fail) = (.*)$`)

// wazuh reads the raw logs of a Wazuh ruleset test file.
func wazuh(t testing.TB, path string) [][]byte {
	var out [][]byte
	for _, l := range lines(t, path) {
		if m := wazuhLog.FindSubmatch(l); m != nil {
			out = append(out, m[1])
		}
	}
	return out
}

// BenchmarkParseCorpus parses records with no source declared, each
// detected by its format, and reports the time a record:
// TARIAN_BENCH_EVENTS_FILE's lines when set (e.g. the realistic
// benchmark's events, bench/README.md), else every record of the sample
// files TestCorpusDetection reads.
func BenchmarkParseCorpus(b *testing.B) {
	var recs [][]byte
	if path := os.Getenv("TARIAN_BENCH_EVENTS_FILE"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		recs = bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	} else {
		root := os.Getenv("TARIAN_CORPUS")
		if root == "" {
			b.Skip("TARIAN_CORPUS not set: skipping the parse benchmark over the corpus' sample logs (.ci/run sets it)")
		}
		for _, cf := range corpusFiles {
			paths, _ := filepath.Glob(filepath.Join(root, "logs", cf.glob))
			for _, path := range paths {
				recs = append(recs, cf.read(b, path)...)
			}
		}
	}
	p, err := parse.New(parse.Config{})
	if err != nil {
		b.Fatal(err)
	}
	pp := p.NewParser()
	var evs []event.Event
	received := time.Now()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if evs, err = pp.ParseAs(parse.Auto, event.Raw{Received: received, Source: "file", Data: recs[i%len(recs)]}, evs[:0]); err != nil {
			b.Fatal(err)
		}
	}
}
