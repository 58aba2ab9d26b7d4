package mail

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
		if l := sc.Text(); strings.HasPrefix(l, "log ") {
			if _, v, ok := strings.Cut(l, " = "); ok {
				out = append(out, v)
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no log lines", path)
	}
	return out
}

var (
	ipv4Re  = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`)
	emailRe = regexp.MustCompile(`[\w.+-]+@[\w-]+(?:\.[\w-]+)+`)
)

// TestCorpus parses every line of the Wazuh postfix, FortiMail,
// MailScanner and Exchange tests with the parser of its type: none may
// fail; each yields its time, category and type, a host or observer, the
// addresses it names (a source or destination IP among the line's
// addresses, other than the relay's) and the mailboxes it names.
// testdata/corpus.golden keeps derived values only.
func TestCorpus(t *testing.T) {
	dir := parsertest.Corpus(t, "logs", "wazuh-ruleset-tests")
	var golden strings.Builder
	for _, typ := range []string{TypePostfix, TypeFortiMail, TypeMailScanner, TypeExchange} {
		lines := iniLogs(t, filepath.Join(dir, typ+".ini"))
		classified := 0
		for i, line := range lines {
			where := fmt.Sprintf("%s.ini line %d", typ, i+1)
			ev := event.Event{Time: ref}
			if err := parsers()[typ]([]byte(line), &ev); err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			got := parsertest.Fields(&ev)
			if ev.Time.Equal(ref) {
				t.Errorf("%s: the line's time was not read", where)
			}
			for _, k := range []string{"event.category", "event.type", "event.kind"} {
				if got[k] == "" {
					t.Errorf("%s: no %s", where, k)
				}
			}
			if got["host.hostname"] == "" && got["observer.hostname"] == "" && got["observer.ip"] == "" && got["observer.serial_number"] == "" {
				t.Errorf("%s: neither host nor observer", where)
			}
			var ips []string
			for _, ip := range ipv4Re.FindAllString(line, -1) {
				if isIP(ip) && ip != got["observer.ip"] && ip != got["host.hostname"] {
					ips = append(ips, ip)
				}
			}
			if len(ips) > 0 && !contains(ips, got["source.ip"]) && !contains(ips, got["destination.ip"]) {
				t.Errorf("%s: source.ip %q destination.ip %q, want one of %v", where, got["source.ip"], got["destination.ip"], ips)
			}
			if mails := emailRe.FindAllString(line, -1); len(mails) > 0 {
				if !strings.Contains(got["related.user"], mails[0]) {
					t.Errorf("%s: related.user %q lacks %q", where, got["related.user"], mails[0])
				}
				if got["email.from.address"] == "" && got["email.to.address"] == "" && got["user.name"] == "" {
					t.Errorf("%s: mailboxes in the line, none in email.* or user.name", where)
				}
			}
			if got["event.category"] != catHost {
				classified++
			}
			sum := sha256.Sum256([]byte(line))
			fmt.Fprintf(&golden, "%s:%d line:%x fields:%s %s %s action=%s outcome=%s dataset=%s\n", typ, i+1, sum[:6], digest(got),
				got["event.category"], got["event.type"], got["event.action"], got["event.outcome"], got["event.dataset"])
		}
		t.Logf("%s.ini: %d lines, %d parsed (100%%), %d classified beyond a host event", typ, len(lines), len(lines), classified)
	}
	compareGolden(t, filepath.Join("testdata", "corpus.golden"), golden.String())
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
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
