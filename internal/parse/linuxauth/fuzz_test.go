package linuxauth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tarian-soc/tarian/internal/event"
)

// seeds are the golden inputs plus hand-made edge cases; with
// TARIAN_CORPUS set, the Wazuh lines too.
func seeds(f *testing.F) [][]byte {
	var out [][]byte
	for _, name := range []string{"linux-auth", "syslog"} {
		b, err := os.ReadFile(filepath.Join("testdata", name+".txtar"))
		if err != nil {
			f.Fatal(err)
		}
		s := string(b)
		s = s[strings.Index(s, "-- input --\n")+len("-- input --\n") : strings.Index(s, "-- output --\n")]
		for _, l := range strings.Split(s, "\n") {
			out = append(out, []byte(l))
		}
	}
	for _, s := range []string{
		"", "<", "<1>", "<191>1 ", "<0>Feb 29 00:00:00 h t[: x", "Feb  3 10:00:00", "Feb  3 10:00:00 ",
		"2026-01-01T00:00:00+99:99 h a: x", "2026-01-01 00:00:00-07 h a: x",
		"Mar  1 08:00:01 h sshd[1]: Accepted  for  from  port  ssh2",
		"Mar  1 08:00:01 h sshd[1]: Failed password for invalid user from",
		"Mar  1 08:00:01 h sshd[1]: Connection closed by authenticating user ",
		"Mar  1 08:00:01 h sudo: a : COMMAND=",
		"Mar  1 08:00:01 h sudo: a :  ; ; TTY=",
		"Mar  1 08:00:01 h gpasswd[1]: user a added by",
		"Mar  1 08:00:01 h useradd[1]: add '",
		"Mar  1 08:00:01 h x(pam_unix)[1]: session opened for user a(uid=) by (uid=",
		"Mar  1 08:00:01 h sshd[1]: message repeated 2 times: [",
		"Mar  1 08:00:01 h sshd[1]: [ID 1",
		"pam_unix(: x", "pam_(a:b): ", "Invalid user ",
	} {
		out = append(out, []byte(s))
	}
	if dir := os.Getenv("TARIAN_CORPUS"); dir != "" {
		for _, name := range []string{"sshd", "sudo", "pam", "syslog"} {
			b, err := os.ReadFile(filepath.Join(dir, "logs", "wazuh-ruleset-tests", name+".ini"))
			if err != nil {
				f.Fatal(err)
			}
			for _, l := range strings.Split(string(b), "\n") {
				if _, v, ok := strings.Cut(l, " = "); ok && strings.HasPrefix(l, "log ") {
					out = append(out, []byte(v))
				}
			}
		}
	}
	return out
}

// checkEvent: an event the parser accepted has a category, a type and, for
// valid UTF-8 input, arrays that are JSON text.
func checkEvent(t *testing.T, in []byte, ev *event.Event) {
	for _, name := range []string{"event.category", "event.type", "event.kind", "message"} {
		if _, ok := ev.Get(name); !ok {
			t.Fatalf("%q: no %s", in, name)
		}
	}
	if ev.Time.IsZero() {
		t.Fatalf("%q: zero time", in)
	}
	for _, f := range ev.Fields {
		if strings.HasPrefix(f.Name, "related.") && (!strings.HasPrefix(f.Value, `["`) || !strings.HasSuffix(f.Value, `"]`)) {
			t.Fatalf("%q: %s = %q is not a JSON array of strings", in, f.Name, f.Value)
		}
		if utf8.Valid(in) && !utf8.ValidString(f.Value) {
			t.Fatalf("%q: %s is not UTF-8", in, f.Name)
		}
	}
}

// FuzzParse: no input panics; every input is an error or an event with a
// category and a type.
func FuzzParse(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	recv := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, in []byte) {
		var p Parser
		ev := event.Event{Time: recv}
		if err := p.Parse(in, &ev); err != nil {
			if err != ErrEmpty && err != ErrNoHeader {
				t.Fatalf("%q: unexpected error %v", in, err)
			}
			return
		}
		checkEvent(t, in, &ev)
	})
}

// FuzzSyslog: the same for the syslog type.
func FuzzSyslog(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	recv := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, in []byte) {
		var p SyslogParser
		ev := event.Event{Time: recv}
		if err := p.Parse(in, &ev); err != nil {
			return
		}
		checkEvent(t, in, &ev)
	})
}
