package auditd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
)

// FuzzParse: no input panics; every input is one of the package's errors
// or an event with a time, a record type, a category and a type.
func FuzzParse(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "auditd.txtar"))
	if err != nil {
		f.Fatal(err)
	}
	s := string(b)
	s = s[strings.Index(s, "-- input --\n")+len("-- input --\n") : strings.Index(s, "-- output --\n")]
	for _, l := range strings.Split(s, "\n") {
		f.Add([]byte(l))
	}
	for _, l := range []string{
		"type=", "type=X msg=audit(", "type=X msg=audit(1:", "type=X msg=audit(1.2:3):", "node= type=X audit(9.9:9): a=",
		"type=EXECVE msg=audit(1.1:1): a9999=1 a1[=2 a1_len=3 a2[0]=zz", "type=X msg=audit(1.1:1): msg='a=b",
		"type=X msg=audit(1.1:1): k=\"unterminated", "type=X msg=audit(1.1:1): \x1dA=\x1d=B= {", "type=X msg=audit(99999999999999.1:1):",
		"type=PATH msg=audit(1.1:1): name=2F name= nametype=CREATE type=PATH msg=audit(1.1:1): name=x",
	} {
		f.Add([]byte(l))
	}
	if dir := os.Getenv("TARIAN_CORPUS"); dir != "" {
		logs, _ := filepath.Glob(filepath.Join(dir, "logs", "otrf-security-datasets", "linux", "*.log"))
		for _, l := range logs {
			b, err := os.ReadFile(l)
			if err != nil {
				f.Fatal(err)
			}
			for _, line := range strings.Split(string(b), "\n") {
				f.Add([]byte(line))
			}
		}
	}
	recv := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, in []byte) {
		var p Parser
		ev := event.Event{Time: recv}
		if err := p.Parse(in, &ev); err != nil {
			if err != ErrEmpty && err != ErrNoRecord && err != ErrBadStamp {
				t.Fatalf("%q: unexpected error %v", in, err)
			}
			return
		}
		for _, name := range []string{"auditd.log.record_type", "event.category", "event.type", "event.action"} {
			if _, ok := ev.Get(name); !ok {
				t.Fatalf("%q: no %s", in, name)
			}
		}
		if ev.Time.IsZero() {
			t.Fatalf("%q: zero time", in)
		}
	})
}
