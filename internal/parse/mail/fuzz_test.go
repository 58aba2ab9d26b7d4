package mail

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
)

// known are the errors the parsers return; anything else is a bug.
var known = []error{ErrEmpty, ErrNotPostfix, ErrNotMailScanner, ErrNoPairs, ErrNotFortiMail, ErrExchangeHeader, ErrExchangeLayout}

// fuzz runs every parser type over the input: no panic; an error is one
// of the package's; an event has a category, a type and a time.
func fuzz(f *testing.F, typ string, extra ...string) {
	_, lines, _ := goldenInput(f, typ)
	for _, l := range append(lines, extra...) {
		f.Add([]byte(l))
	}
	if dir := os.Getenv("TARIAN_CORPUS"); dir != "" {
		b, err := os.ReadFile(filepath.Join(dir, "logs", "wazuh-ruleset-tests", typ+".ini"))
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if _, v, ok := strings.Cut(l, " = "); ok && strings.HasPrefix(l, "log ") {
				f.Add([]byte(v))
			}
		}
	}
	recv := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, in []byte) {
		ev := event.Event{Time: recv}
		if err := parsers()[typ](in, &ev); err != nil {
			for _, k := range known {
				if errors.Is(err, k) {
					return
				}
			}
			t.Fatalf("%q: unexpected error %v", in, err)
		}
		for _, name := range []string{"event.category", "event.type", "event.kind"} {
			if _, ok := ev.Get(name); !ok {
				t.Fatalf("%q: no %s", in, name)
			}
		}
		if ev.Time.IsZero() {
			t.Fatalf("%q: zero time", in)
		}
	})
}

func FuzzPostfix(f *testing.F) {
	fuzz(f, TypePostfix, "NOQUEUE: reject: ", "A1B2C3D4E5: to=<", "A1B2C3D4E5: to=<a>, relay=[", "reject: RCPT from [", "x: from=<a> (", "CONNECT from [1.2.3.4]:")
}

func FuzzFortiMail(f *testing.F) {
	fuzz(f, TypeFortiMail, `date="`, `a="\`, `date=2026-01-01,time=1`, `<1>date=x time=`, `type=kevent ui=(`, `type=encrypt msg="sent from: 'a`)
}

func FuzzMailScanner(f *testing.F) {
	fuzz(f, TypeMailScanner, "Message ", "Message x from ", "Message x from 1.2.3.4 (", "Infected message  came from ", ">>> Virus '")
}

func FuzzExchange(f *testing.F) {
	fuzz(f, TypeExchange, "2026-01-01T00:00:00Z,\"", `2026-01-01T00:00:00Z,h,ECP.R,"'S:CMD=''`, "2026-01-01T00:00:00Z"+strings.Repeat(",", 40))
}
