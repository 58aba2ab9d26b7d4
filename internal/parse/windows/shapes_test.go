package windows

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
	"github.com/tarian-soc/tarian/internal/parse/windows/windowstest"
)

// layers is one parse of a payload, split into the layers.
type layers struct {
	shape  Shape
	time   time.Time
	native map[string]string // the names Sigma rules use
	ecs    map[string]string // winlog.* and ECS, as Parse computes them
	record map[string]string // the record's own fields, as they stand
}

// parseLayers parses payload and tells its layers apart.
func parseLayers(t *testing.T, p *Parser, payload []byte) layers {
	t.Helper()
	ev := &event.Event{}
	shape, err := p.decode(payload, ev)
	if err != nil {
		t.Fatalf("%v\n%s", err, payload)
	}
	p.resolve(shape)
	l := layers{shape: shape, native: map[string]string{}, ecs: map[string]string{}, record: map[string]string{}}
	for _, f := range ev.Fields {
		l.record[f.Name] = f.Value
	}
	if shape == ShapeFlat {
		for k, v := range l.record {
			l.native[k] = v // a flat record's keys are its native fields
		}
	}
	n := len(ev.Fields)
	p.emitNative()
	for _, f := range ev.Fields[n:] {
		l.native[f.Name] = f.Value // a later field of a name wins, as in the stored event
	}
	n = len(ev.Fields)
	p.emitWinlog()
	p.emitECS()
	for _, f := range ev.Fields[n:] {
		l.ecs[f.Name] = f.Value
	}
	l.time, _ = p.r.eventTime()
	return l
}

// diff lists the differences between two field maps, ignoring names for
// which skip returns true.
func diff(want, got map[string]string, skip func(string) bool) []string {
	var out []string
	for k, v := range want {
		if skip != nil && skip(k) {
			continue
		}
		if g, ok := got[k]; !ok {
			out = append(out, "missing "+k+"="+v)
		} else if g != v {
			out = append(out, "wrong "+k+": got "+g+", want "+v)
		}
	}
	for k, v := range got {
		if skip != nil && skip(k) {
			continue
		}
		if _, ok := want[k]; !ok {
			out = append(out, "extra "+k+"="+v)
		}
	}
	sort.Strings(out)
	return out
}

// corpusEvents reads every event of $TARIAN_CORPUS/events.
func corpusEvents(t *testing.T) (names []string, events [][]byte) {
	t.Helper()
	root := parsertest.Corpus(t, "events")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".jsonl")) {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 16<<20)
		for i := 1; sc.Scan(); i++ {
			if len(strings.TrimSpace(sc.Text())) == 0 {
				continue
			}
			rel, _ := filepath.Rel(root, path)
			names = append(names, rel+":"+itoa(i))
			events = append(events, append([]byte(nil), sc.Bytes()...))
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) < 20000 {
		t.Fatalf("only %d corpus events", len(events))
	}
	return names, events
}

func itoa(i int) string { return string(appendInt(nil, i)) }

// ecsFields are the ECS names compared across shapes (those Parse derives
// from the event itself, whatever the record carried beside it).
func ecsCompared(name string) bool {
	for _, p := range []string{"event.", "process.", "file.", "dll.", "user.", "source.", "destination.",
		"network.", "dns.", "registry.", "related.", "powershell.", "group.", "log.", "rule.", "sysmon.", "error."} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// TestShapesAgree converts every corpus event (evtx-style JSON) to Windows
// XML, Winlogbeat and flat NXLog records and checks that the parser gives
// each the same native layer, the same ECS layer and the same time.
func TestShapesAgree(t *testing.T) {
	names, events := corpusEvents(t)
	checkShapes(t, names, events)
}

// TestShapesAgreeSamples is TestShapesAgree on our own sample events, so
// it runs without the corpus.
func TestShapesAgreeSamples(t *testing.T) {
	var names []string
	var events [][]byte
	for i, s := range sampleEvtx {
		names = append(names, "sample "+itoa(i))
		events = append(events, []byte(s))
	}
	for _, name := range []string{"evtx-system7045-service", "evtx-security4624-logon"} {
		data, err := os.ReadFile(filepath.Join("testdata", "golden", name+".txtar"))
		if err != nil {
			t.Fatal(err)
		}
		in, _ := parseTxtar(data).file("input")
		names = append(names, name)
		events = append(events, []byte(strings.TrimSpace(string(in))))
	}
	events = append(events, []byte(`{"Event":{"System":{"Provider":{"#attributes":{"Name":"MSSQLSERVER"}},"EventID":{"#attributes":{"Qualifiers":16384},"#text":15457},"Level":4,"Channel":"Application","Computer":"sql1","Keywords":"0x80000000000000","TimeCreated":{"#attributes":{"SystemTime":"2026-01-01T00:00:00Z"}}},"EventData":{"Data":["xp_cmdshell","0","1"],"Binary":"A13C0000"}}}`),
		[]byte(`{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Eventlog"}},"EventID":1102,"Channel":"Security","Computer":"dc","Keywords":"0x4020000000000000","TimeCreated":{"#attributes":{"SystemTime":"2026-01-01T00:00:00Z"}}},"UserData":{"LogFileCleared":{"#attributes":{"xmlns":"http://manifests.microsoft.com/win/2004/08/windows/eventlog"},"SubjectUserSid":"S-1-5-21-1-500","SubjectUserName":"admin","SubjectDomainName":"CORP","SubjectLogonId":"0x7b186"}}}}`))
	names = append(names, "unnamed data", "user data")
	checkShapes(t, names, events)
}

// checkShapes converts each evtx-style event to the other shapes and
// compares the layers the parser gives each.
func checkShapes(t *testing.T, names []string, events [][]byte) {
	t.Helper()
	p := Parser{aliases: true}
	failures := 0
	fail := func(name, shape string, d []string) {
		t.Helper()
		failures++
		if failures <= 10 {
			t.Errorf("%s as %s:\n  %s", name, shape, strings.Join(d, "\n  "))
		}
	}
	var converted, flatCompared, withUserData, withList int
	for i, payload := range events {
		name := names[i]
		if shapeOf(payload) != ShapeEvtxJSON {
			continue // the OTRF files are flat already
		}
		converted++
		base := parseLayers(t, &p, payload)
		if base.shape != ShapeEvtxJSON {
			t.Fatalf("%s: shape %v", name, base.shape)
		}
		if _, ok := base.native["Data"]; ok {
			withList++
		}
		if base.native["winlog.user_data.xml_name"] != "" || base.ecs["winlog.user_data.xml_name"] != "" {
			withUserData++
		}

		x, err := windowstest.ToXML(payload)
		if err != nil {
			t.Fatalf("%s: ToXML: %v", name, err)
		}
		xl := parseLayers(t, &p, x)
		if d := diff(base.native, xl.native, nil); len(d) > 0 {
			fail(name, "XML", d)
		}
		if d := diff(base.ecs, xl.ecs, nil); len(d) > 0 {
			fail(name, "XML (ECS)", d)
		}
		if !xl.time.Equal(base.time) {
			fail(name, "XML (time)", []string{xl.time.String() + " != " + base.time.String()})
		}

		wb, err := windowstest.ToWinlogbeat(payload)
		if err != nil {
			t.Fatalf("%s: ToWinlogbeat: %v", name, err)
		}
		wl := parseLayers(t, &p, wb)
		if d := diff(base.native, wl.native, nil); len(d) > 0 {
			fail(name, "Winlogbeat", d)
		}
		if d := diff(base.ecs, wl.ecs, func(n string) bool { return !ecsCompared(n) }); len(d) > 0 {
			fail(name, "Winlogbeat (ECS)", d)
		}
		if !wl.time.Equal(base.time) {
			fail(name, "Winlogbeat (time)", []string{wl.time.String() + " != " + base.time.String()})
		}

		// Without event.original the numbers Winlogbeat renders as names
		// (level, task, opcode, keywords) cannot all come back.
		bare, err := windowstest.ToWinlogbeatBare(payload)
		if err != nil {
			t.Fatal(err)
		}
		bl := parseLayers(t, &p, bare)
		rendered := func(n string) bool {
			return n == "Level" || n == "Task" || n == "Opcode" || n == "Keywords" || n == "EventID_Qualifiers"
		}
		if d := diff(base.native, bl.native, rendered); len(d) > 0 {
			fail(name, "Winlogbeat without event.original", d)
		}

		fl, err := windowstest.ToFlat(payload)
		if err != nil {
			t.Fatal(err)
		}
		ll := parseLayers(t, &p, fl)
		// The flat record keeps its own header keys (SourceName, Hostname
		// ...) beside the native names; EventData under those names cannot
		// travel in that shape.
		dropped := false
		skip := func(n string) bool {
			if _, inBase := base.native[n]; !inBase {
				return windowstest.FlatReserved[n] || n == "SourceModuleName" || n == "SourceModuleType"
			}
			if windowstest.FlatReserved[n] && hdrSlot(n) < 0 {
				dropped = true
				return true
			}
			return false
		}
		if d := diff(base.native, ll.native, skip); len(d) > 0 {
			fail(name, "flat", d)
		}
		if !dropped {
			flatCompared++
			if d := diff(base.ecs, ll.ecs, func(n string) bool { return !ecsCompared(n) }); len(d) > 0 {
				fail(name, "flat (ECS)", d)
			}
		}
		if !ll.time.Equal(base.time) {
			fail(name, "flat (time)", []string{ll.time.String() + " != " + base.time.String()})
		}
	}
	if failures > 0 {
		t.Fatalf("%d shape conversions disagree", failures)
	}
	t.Logf("%d events agree in 5 shapes (%d with unnamed Data, %d with UserData; ECS compared for %d flat records)",
		converted, withList, withUserData, flatCompared)
	if withList == 0 || withUserData == 0 {
		t.Fatalf("the corpus no longer exercises unnamed Data (%d) or UserData (%d)", withList, withUserData)
	}
}

// shapeOf tells the JSON shapes apart for the tests.
func shapeOf(payload []byte) Shape {
	p := Parser{aliases: true}
	ev := &event.Event{}
	s, _ := p.ParseShape(payload, ev)
	return s
}
