package ios

import (
	"errors"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

// FuzzParse: no input panics; a payload is either refused with ErrNoTag
// and the event untouched, or becomes an event with its mnemonic as
// event.code and each field once; Sniff agrees with Parse.
func FuzzParse(f *testing.F) {
	a := parsertest.ReadArchive(f, "testdata/golden.txtar")
	for _, file := range a.Files {
		if strings.HasSuffix(file.Name, ".in") {
			f.Add([]byte(strings.TrimSuffix(file.Data, "\n")))
		}
	}
	for _, s := range []string{
		"%A-0-B:", "%A-B-0-C:", "1: x: *Feb 30 99:99:99.9 XYZ: %A-1-B:", ".Jan 1 2026 1:2:3 UTC: %SEC-6-IPACCESSLOGP: list a permitted x ::1( -> 1.2.3.4), z packet",
		"%SEC_LOGIN-5-LOGIN_SUCCESS: [user: ] [Source: [", "%SSH-5-SSH2_USERAUTH: User 'a", "%SYS-5-CONFIG_I: by (", "%PARSER-5-CFGLOG_LOGGEDCMD: User: logged command:",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Parser
		ev := &event.Event{Time: received}
		err := p.Parse(b, ev)
		if err != nil {
			if !errors.Is(err, ErrNoTag) || len(ev.Fields) != 0 || !ev.Time.Equal(received) {
				t.Fatalf("error %v but the event changed", err)
			}
			if len(b) <= tagWindow && Sniff(b) {
				t.Fatalf("sniffed but refused: %v", err)
			}
			return
		}
		parsertest.CheckFields(t, ev, "event.code")
	})
}
