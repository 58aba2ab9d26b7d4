package windows

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

// corpusCheck asserts what every parsed Windows event must yield: a time,
// event.kind/code/provider, host.name, the category and type Elastic's
// pipelines give its channel and id, and the user, source and destination
// its event data carries.
type corpusCheck struct {
	t      *testing.T
	events int
	failed int
	shapes map[Shape]int
}

func (c *corpusCheck) fail(where, format string, args ...any) {
	c.t.Helper()
	c.failed++
	if c.failed <= 20 {
		c.t.Errorf(where+": "+format, args...)
	}
}

func (c *corpusCheck) parse(p *Parser, where string, payload []byte) {
	c.t.Helper()
	c.events++
	ev := &event.Event{}
	shape, err := p.ParseShape(payload, ev)
	c.shapes[shape]++
	if err != nil {
		c.fail(where, "%v", err)
		return
	}
	got := parsertest.Fields(ev)
	if ev.Time.IsZero() {
		c.fail(where, "no event time")
	}
	for _, k := range []string{"event.kind", "event.code", "ecs.version", "event.module", "event.dataset"} {
		if got[k] == "" {
			c.fail(where, "no %s", k)
		}
	}
	if got["EventID"] != got["event.code"] {
		c.fail(where, "EventID %q but event.code %q", got["EventID"], got["event.code"])
	}
	if p.r.hdr[hProvider] != "" && got["event.provider"] != p.r.hdr[hProvider] {
		c.fail(where, "provider %q but event.provider %q", p.r.hdr[hProvider], got["event.provider"])
	}
	if p.r.hdr[hComputer] != "" && got["host.name"] == "" {
		c.fail(where, "computer %q but no host.name", p.r.hdr[hComputer])
	}
	var cat categorization
	known := false
	switch p.r.kind {
	case kindSysmon:
		cat, known = sysmonEvents[p.r.hdr[hEventID]]
	case kindSecurity:
		if prov := p.r.hdr[hProvider]; prov == "Microsoft-Windows-Security-Auditing" || prov == "Microsoft-Windows-Eventlog" {
			cat, known = securityEvents[p.r.hdr[hEventID]]
		}
	case kindPowerShell, kindPowerShellClassic:
		cat, known = categorization{`["process"]`, "x", ""}, true
	}
	if known {
		if cat.category != "" && got["event.category"] != cat.category {
			c.fail(where, "event.category %q, want %q", got["event.category"], cat.category)
		}
		if got["event.type"] == "" {
			c.fail(where, "no event.type")
		}
	}
	// What the event data carries must reach ECS.
	data := func(name string) string { return p.r.get(name) }
	if p.r.kind == kindSysmon {
		if ip := validIP(data("SourceIp")); ip != "" && got["source.ip"] != ip {
			c.fail(where, "SourceIp %q but source.ip %q", ip, got["source.ip"])
		}
		if ip := validIP(data("DestinationIp")); ip != "" && got["destination.ip"] != ip {
			c.fail(where, "DestinationIp %q but destination.ip %q", ip, got["destination.ip"])
		}
		if _, name, ok := splitUser(data("User")); ok && name != "" && got["user.name"] != name {
			c.fail(where, "User %q but user.name %q", data("User"), got["user.name"])
		}
		if img := data("Image"); img != "" && img != "-" && got["process.executable"] == "" {
			c.fail(where, "Image %q but no process.executable", img)
		}
	}
	if p.r.kind == kindSecurity && got["event.action"] != "" {
		code := p.r.hdr[hEventID]
		if codeIn(code, secTargetUser...) || codeIn(code, secSubject...) {
			if (data("TargetUserName") != "" || data("SubjectUserName") != "") && got["user.name"] == "" {
				c.fail(where, "event %s names a user but has no user.name", code)
			}
		}
		if codeIn(code, secCommonAuth...) {
			if ip := validIP(strings.ReplaceAll(data("IpAddress"), "::ffff:", "")); ip != "" && got["source.ip"] != ip {
				c.fail(where, "IpAddress %q but source.ip %q", ip, got["source.ip"])
			}
		}
	}
}

// forLines calls fn with each non-empty line of a file.
func forLines(t *testing.T, path string, fn func(n int, line []byte)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for n := 1; sc.Scan(); n++ {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			fn(n, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestCorpus parses every Windows event of the corpus, in every shape it
// holds: the evtx-style and flat event sets, the OTRF Windows logs (NXLog)
// and Sentinel exports, the Wazuh agent's records in Wazuh's rule tests,
// the XML renderings of the EVTX samples and evtx's own snapshot records.
func TestCorpus(t *testing.T) {
	root := parsertest.Corpus(t)
	c := &corpusCheck{t: t, shapes: map[Shape]int{}}
	p := Parser{aliases: true}

	names, events := corpusEvents(t)
	for i, e := range events {
		c.parse(&p, "events/"+names[i], e)
	}
	otrf, _ := filepath.Glob(filepath.Join(root, "logs", "otrf-security-datasets", "windows", "*.json"))
	otrf = append(otrf, filepath.Join(root, "logs", "otrf-security-datasets", "m365-aad-goldensaml", "WindowsEvents.json"))
	for _, path := range otrf {
		forLines(t, path, func(n int, line []byte) { c.parse(&p, filepath.Base(path)+":"+itoa(n), line) })
	}
	for _, name := range []string{"sysmon_eid_1.ini", "sysmon_eid_3.ini", "powershell.ini", "win_security.ini"} {
		path := filepath.Join(root, "logs", "wazuh-ruleset-tests", name)
		forLines(t, path, func(n int, line []byte) {
			// "log 1 pass = {...}"
			if _, rec, ok := bytes.Cut(line, []byte(" = ")); ok && bytes.HasPrefix(line, []byte("log ")) {
				c.parse(&p, name+":"+itoa(n), rec)
			}
		})
	}
	xmls, _ := filepath.Glob(filepath.Join(root, "logs", "evtx-samples-omerbenamram", "xml", "*.xml"))
	for _, path := range xmls {
		doc, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := SplitXML(doc)
		if err != nil || len(evs) == 0 {
			t.Fatalf("%s: %d events, %v", path, len(evs), err)
		}
		for i, x := range evs {
			c.parse(&p, filepath.Base(path)+"#"+itoa(i+1), x)
		}
	}
	snaps, _ := filepath.Glob(filepath.Join(root, "logs", "evtx-samples-omerbenamram", "snapshots", "*.snap"))
	for _, path := range snaps {
		c.parse(&p, filepath.Base(path), snapshotBody(t, path))
	}
	t.Logf("%d Windows events from the corpus, by shape %v", c.events, c.shapes)
	for _, s := range []Shape{ShapeEvtxJSON, ShapeFlat, ShapeXML, ShapeWazuh} {
		if c.shapes[s] == 0 {
			t.Errorf("no corpus event in the %v shape", s)
		}
	}
	if c.failed > 0 {
		t.Fatalf("%d checks failed", c.failed)
	}
}

// snapshotBody is the record an evtx insta snapshot holds after its
// "---" header.
func snapshotBody(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	parts := bytes.SplitN(b, []byte("\n---\n"), 2)
	if len(parts) != 2 {
		t.Fatalf("%s: no snapshot header", path)
	}
	return bytes.TrimSpace(parts[1])
}

// TestSnapshotPairs parses the evtx crate's XML and JSON snapshots of the
// same records: both renderings must give the same native fields.
func TestSnapshotPairs(t *testing.T) {
	dir := parsertest.Corpus(t, "logs", "evtx-samples-omerbenamram", "snapshots")
	pairs := [][2]string{
		{"event_xml_sample", "event_json_sample"},
		{"event_xml_sample_with_event_data", "event_json_sample_with_event_data"},
		{"event_xml_sample_with_event_data_with_attributes_and_text", "event_json_sample_with_event_data_with_attributes_and_text"},
		{"event_xml_sample_with_entity_ref", "event_json_with_multiple_nodes_same_name"},
		{"event_json_with_multiple_nodes_same_name", "event_json_with_multiple_nodes_same_name_separate"},
		{"event_json_with_multiple_data_elements", "event_json_with_multiple_data_elements-2"},
	}
	p := Parser{aliases: true}
	for _, pair := range pairs {
		a := parseLayers(t, &p, snapshotBody(t, filepath.Join(dir, "test_record_samples__"+pair[0]+".snap")))
		b := parseLayers(t, &p, snapshotBody(t, filepath.Join(dir, "test_record_samples__"+pair[1]+".snap")))
		if len(a.native) < 8 {
			t.Fatalf("%s: only %d native fields", pair[0], len(a.native))
		}
		if d := diff(a.native, b.native, nil); len(d) > 0 {
			t.Errorf("%s and %s disagree:\n  %s", pair[0], pair[1], strings.Join(d, "\n  "))
		}
	}
}
