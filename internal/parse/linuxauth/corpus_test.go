package linuxauth

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/envelope"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
	"github.com/tarian-soc/tarian/internal/parse/syslogheader"
)

// iniLogs returns the raw log lines of a Wazuh ruleset test file: the
// values of its "log N pass = ..." and "log N fail = ..." keys.
func iniLogs(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, "log ") {
			continue
		}
		if _, v, ok := strings.Cut(l, " = "); ok {
			out = append(out, v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no log lines", path)
	}
	return out
}

var (
	ipv4Re = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`)
	userRe = regexp.MustCompile(`(?i)\buser\b`)
)

// TestCorpus parses every line of the Wazuh sshd, sudo, PAM and syslog
// tests: none may fail, each yields its time, category and type, host, and
// the source address and user the message names. Each line is parsed twice,
// bare and as the message of an envelope that read the header, and both
// must agree. testdata/corpus.golden keeps, per line, a digest of the line
// and of our fields with the classification (no corpus text).
func TestCorpus(t *testing.T) {
	dir := parsertest.Corpus(t, "logs", "wazuh-ruleset-tests")
	var golden strings.Builder
	for _, name := range []string{"sshd", "sudo", "pam", "syslog"} {
		lines := iniLogs(t, filepath.Join(dir, name+".ini"))
		classified := 0
		for i, line := range lines {
			where := fmt.Sprintf("%s.ini line %d", name, i+1)
			var p Parser
			ev := event.Event{Time: ref}
			if err := p.Parse([]byte(line), &ev); err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			got := parsertest.Fields(&ev)
			if ev.Time.Equal(ref) || ev.Time.IsZero() {
				t.Errorf("%s: the line's time was not read", where)
			}
			for _, k := range []string{"event.category", "event.type", "host.hostname", "process.name", "message"} {
				if got[k] == "" {
					t.Errorf("%s: no %s", where, k)
				}
			}
			_, msg, _ := syslogheader.Split(line, ref, nil)
			if ips := ipv4Re.FindAllString(msg, -1); len(ips) > 0 {
				if !contains(ips, got["source.ip"]) {
					t.Errorf("%s: source.ip %q, want one of %v", where, got["source.ip"], ips)
				}
			}
			if userRe.MatchString(msg) && !strings.Contains(msg, "user unknown") {
				if got["user.name"] == "" && got["user.effective.name"] == "" && got["user.target.name"] == "" {
					t.Errorf("%s: the message names a user; the event has none", where)
				}
			}
			if got["event.category"] != catHost {
				classified++
			}
			envelopeAgrees(t, where, line, got)
			sum := sha256.Sum256([]byte(line))
			fmt.Fprintf(&golden, "%s:%d line:%x fields:%s %s %s action=%s outcome=%s dataset=%s\n", name, i+1, sum[:6],
				digest(got), got["event.category"], got["event.type"], got["event.action"], got["event.outcome"], got["event.dataset"])
		}
		t.Logf("%s.ini: %d lines, %d parsed (100%%), %d classified beyond a host event (%.0f%%)",
			name, len(lines), len(lines), classified, 100*float64(classified)/float64(len(lines)))
	}
	compareGolden(t, filepath.Join("testdata", "corpus.golden"), golden.String())
}

// envelopeAgrees parses line as the pipeline would after the syslog
// envelope read its header, and compares with the bare parse.
func envelopeAgrees(t *testing.T, where, line string, bare map[string]string) {
	t.Helper()
	h, msg, _ := syslogheader.Split(line, ref, nil)
	env := []event.Field{{Name: envelope.FieldSyslogHostname, Value: h.Host}, {Name: envelope.FieldSyslogAppname, Value: h.App}}
	if h.Host != "" { // as envelope.Syslog names the host
		env = append(env, event.Field{Name: "host.hostname", Value: h.Host}, event.Field{Name: "host.name", Value: h.Host})
	}
	if h.ProcID != "" {
		env = append(env, event.Field{Name: envelope.FieldSyslogProcID, Value: h.ProcID})
	}
	var p Parser
	ev := event.Event{Time: h.Time, Fields: env}
	if err := p.Parse([]byte(msg), &ev); err != nil {
		t.Errorf("%s as a message: %v", where, err)
		return
	}
	got := parsertest.Fields(&ev)
	for k, v := range bare {
		if strings.HasPrefix(k, "log.syslog.") {
			continue
		}
		if got[k] != v {
			t.Errorf("%s as a message: %s = %q, bare %q", where, k, got[k], v)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// digest is a short hash of an event's fields, in name order.
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

// compareGolden compares got with the golden file, or rewrites it with
// -update.
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
