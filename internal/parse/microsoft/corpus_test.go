package microsoft

import (
	"bufio"
	"bytes"
	"os"
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

// corpusLines returns the JSON records of a $TARIAN_CORPUS/logs file: one
// a line, or the "log N pass = {...}" lines of a Wazuh ruleset test.
func corpusLines(t *testing.T, elem ...string) [][]byte {
	t.Helper()
	path := parsertest.Corpus(t, append([]string{"logs"}, elem...)...)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if i := bytes.Index(line, []byte(" pass = ")); i >= 0 && bytes.HasPrefix(line, []byte("log ")) {
			line = bytes.TrimSpace(line[i+len(" pass = "):])
		}
		if len(line) > 0 && line[0] == '{' {
			out = append(out, append([]byte(nil), line...))
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s holds no records", path)
	}
	return out
}

// TestCorpus parses every record of the Microsoft sample files: no record
// is refused, and each has its own time, event.category and event.type,
// host or observer, and the user and source fields its record carries.
func TestCorpus(t *testing.T) {
	const goldensaml = "otrf-security-datasets/m365-aad-goldensaml/"
	for _, c := range []struct {
		file string
		typ  string
		p    func() parser
		// needs lists the fields every event of the file must have, beyond
		// the common ones.
		needs []string
	}{
		{"elastic-integrations/azure-signinlogs/test-signinlogs-raw.log", TypeSignIn, func() parser { return &SignIn{} },
			[]string{"user.name", "user.id", "source.ip", "event.outcome", "azure.signinlogs.properties.user_principal_name"}},
		{goldensaml + "AADAuditEvents.json", TypeAudit, func() parser { return &Audit{} },
			[]string{"user.name", "user.email", "event.action", "event.outcome", "azure.auditlogs.properties.initiated_by.user.userPrincipalName"}},
		{goldensaml + "OfficeActivityEvents.json", TypeM365, func() parser { return &M365{} },
			[]string{"user.name", "source.ip", "event.action", "event.code", "organization.id"}},
		{"wazuh-ruleset-tests/office365.ini", TypeM365, func() parser { return &M365{} }, nil},
		{goldensaml + "Microsoft365DefenderEvents.json", TypeDefender, func() parser { return &Defender{} },
			[]string{"event.action", "user.id"}},
		// ms-graph.ini holds Microsoft Graph security alerts (alerts_v2), not
		// sign-ins: they are Defender alerts (two of the three without
		// evidence, so without host or user).
		{"wazuh-ruleset-tests/ms-graph.ini", TypeDefender, func() parser { return &Defender{} },
			[]string{"event.kind", "rule.name", "event.severity"}},
		{goldensaml + "WindowsEvents.json", TypeSentinel, func() parser { return &Sentinel{} },
			[]string{"host.name", "event.code", "EventID", "winlog.event_id"}},
		{goldensaml + "AADAuditEvents.json", TypeSentinel, func() parser { return &Sentinel{} }, []string{"user.name"}},
		{goldensaml + "OfficeActivityEvents.json", TypeSentinel, func() parser { return &Sentinel{} }, []string{"user.name"}},
		{goldensaml + "Microsoft365DefenderEvents.json", TypeSentinel, func() parser { return &Sentinel{} }, []string{"event.action"}},
	} {
		t.Run(c.typ+"/"+c.file, func(t *testing.T) {
			lines := corpusLines(t, c.file)
			p := c.p()
			users, sources := 0, 0
			for i, line := range lines {
				ev := event.Event{}
				if err := p.Parse(line, &ev); err != nil {
					t.Errorf("record %d refused: %v", i+1, err)
					continue
				}
				f := parsertest.Fields(&ev)
				if len(f) != len(ev.Fields) {
					t.Errorf("record %d: %d fields under %d names: a name emitted twice", i+1, len(ev.Fields), len(f))
				}
				if ev.Time.IsZero() && !isWazuhModuleMessage(f) {
					t.Errorf("record %d: no time", i+1)
				}
				for _, name := range append([]string{"event.kind", "event.category", "event.type"}, c.needs...) {
					if f[name] == "" {
						t.Errorf("record %d: no %s", i+1, name)
					}
				}
				if f["host.name"] == "" && f["host.id"] == "" && f["observer.product"] == "" {
					t.Errorf("record %d: neither host nor observer", i+1)
				}
				if f["user.name"] != "" || f["user.id"] != "" {
					users++
				}
				if f["source.ip"] != "" {
					sources++
				}
			}
			t.Logf("%d records: %d with a user, %d with a source address", len(lines), users, sources)
		})
	}
}

// isWazuhModuleMessage reports the one record of Wazuh's office365.ini that
// is a message of Wazuh's own module (a failed subscription), not an audit
// record: it has no time of its own.
func isWazuhModuleMessage(f map[string]string) bool {
	return f["o365.audit.subscription_name"] != "" && f["o365.audit.CreationTime"] == ""
}

// TestCorpusSplit reads the sign-in fixture as Event Hub would deliver it,
// in one {"records":[...]} batch, and as a JSON array: Split returns each
// record, and each parses as when read alone.
func TestCorpusSplit(t *testing.T) {
	lines := corpusLines(t, "elastic-integrations", "azure-signinlogs", "test-signinlogs-raw.log")
	batch := append([]byte(`{"records":[`), bytes.Join(lines, []byte(",\n"))...)
	batch = append(batch, "]}"...)
	array := append(append([]byte("[\n"), bytes.Join(lines, []byte(" , "))...), ']')
	for name, payload := range map[string][]byte{"event hub": batch, "array": array} {
		recs, err := Split(payload)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(recs) != len(lines) {
			t.Fatalf("%s: %d records, want %d", name, len(recs), len(lines))
		}
		var p SignIn
		for i, r := range recs {
			if !bytes.Equal(r, lines[i]) {
				t.Errorf("%s record %d differs from the line", name, i+1)
			}
			var alone, split event.Event
			if err := p.Parse(lines[i], &alone); err != nil {
				t.Fatal(err)
			}
			if err := p.Parse(r, &split); err != nil {
				t.Fatal(err)
			}
			if a, b := parsertest.Fields(&alone), parsertest.Fields(&split); len(a) != len(b) || a["azure.signinlogs.category"] != b["azure.signinlogs.category"] {
				t.Errorf("%s record %d parses differently", name, i+1)
			}
		}
	}
}
