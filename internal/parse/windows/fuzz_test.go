package windows

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/windows/windowstest"
)

// fuzzParse parses data and checks what must hold for any input: no
// panic; an error leaves the event as it was, with a one-line reason; a
// success appends fields with names.
func fuzzParse(t *testing.T, data []byte) {
	p := Parser{aliases: true}
	ev := &event.Event{Fields: []event.Field{{Name: "envelope", Value: "x"}}}
	err := p.Parse(data, ev)
	if err != nil {
		if len(ev.Fields) != 1 || ev.Fields[0].Name != "envelope" {
			t.Fatalf("error %v but the event changed: %d fields", err, len(ev.Fields))
		}
		if err.Error() == "" || strings.Contains(err.Error(), "\n") {
			t.Fatalf("bad reason %q", err)
		}
		return
	}
	if ev.Fields[0].Name != "envelope" || len(ev.Fields) < 2 {
		t.Fatalf("fields not appended: %v", ev.Fields)
	}
	for _, f := range ev.Fields {
		if f.Name == "" {
			t.Fatalf("a field without a name (value %q)", f.Value)
		}
	}
	// The parser is reused: a second parse of the same input agrees.
	ev2 := &event.Event{Fields: []event.Field{{Name: "envelope", Value: "x"}}}
	if err := p.Parse(data, ev2); err != nil || len(ev2.Fields) != len(ev.Fields) {
		t.Fatalf("second parse: %v, %d fields, first %d", err, len(ev2.Fields), len(ev.Fields))
	}
}

func seedConverted(f *testing.F, conv func([]byte) ([]byte, error)) {
	for _, s := range sampleEvtx {
		b, err := conv([]byte(s))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func seedGolden(f *testing.F, prefix string) {
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", prefix+"*.txtar"))
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if in, ok := parseTxtar(data).file("input"); ok {
			f.Add([]byte(strings.TrimSuffix(string(in), "\n")))
		}
	}
}

func FuzzParseEvtxJSON(f *testing.F) {
	for _, s := range sampleEvtx {
		f.Add([]byte(s))
	}
	seedGolden(f, "evtx-")
	f.Add([]byte(`{"Event":{"System":{"EventID":{"#text":[1,2]}},"EventData":{"Data":[[{"Name":1}],null,{"#text":{"a":[]}}]},"UserData":{"A":{"B":[{"#attributes":{"x":null}}],"C_attributes":{"d":"e"}}}}}`))
	f.Add([]byte(`{"Event":{"System":null}}`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, data) })
}

func FuzzParseWinlogbeat(f *testing.F) {
	seedConverted(f, windowstest.ToWinlogbeat)
	seedGolden(f, "winlogbeat-")
	f.Add([]byte(`{"winlog":{"event_id":1,"keywords":"x","process":[],"user_data":{"xml_name":1,"a":{"b":null}}},"event":{"original":"<Event><System><Level>4"}}`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, data) })
}

func FuzzParseFlat(f *testing.F) {
	seedConverted(f, windowstest.ToFlat)
	seedGolden(f, "flat-")
	seedGolden(f, "wazuh-")
	f.Add([]byte(`{"host":{"name":"relay"},"message":"<Event><System><EventID>1</EventID></System></Event>"}`))
	f.Add([]byte(`{"EventID":1,"Keywords":"18446744073709551615","SeverityValue":9,"SourceModuleType":"x","EventSourceName":"y","TenantId":"t","EventData":"<EventData><Data Name='a'>&amp;</Data>","EventData_dynamic":"[1,\"x\"]"}`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, data) })
}

func FuzzParseXML(f *testing.F) {
	seedConverted(f, windowstest.ToXML)
	seedGolden(f, "xml-")
	f.Add([]byte(`<Event><System><EventID>1</EventID></System><EventData><Data Name="a">&#x10FFFF;&#0;</Data><![CDATA[x]]></EventData><UserData><R><a><b c="d">e</b><b/></a></R></UserData><RenderingInfo><Keywords><Keyword>k</Keyword></Keywords></RenderingInfo></Event>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, data)
		_, _ = SplitXML(data)
	})
}

// FuzzShapesAgree builds an event with one EventData value, sends it in
// every shape, and checks the parser reads the same value back from each.
func FuzzShapesAgree(f *testing.F) {
	f.Add("CommandLine", `cmd /c "a & b" <x> 'y'`)
	f.Add("Image", `C:\Windows\System32\cmd.exe`)
	f.Add("Details", "line1\r\nline2\ttab ]]> &amp;")
	f.Add("x y", "")
	f.Add("ünïcödé", "✓ \u2028")
	f.Fuzz(func(t *testing.T, name, value string) {
		if !utf8.ValidString(name) || !utf8.ValidString(value) || name == "" || hdrSlot(name) >= 0 ||
			windowstest.FlatReserved[name] || strings.HasPrefix(name, "#") || strings.HasSuffix(name, "_attributes") ||
			name == "Data" || name == "Binary" || strings.HasPrefix(name, "param") || strings.ContainsRune(name+value, 0) {
			t.Skip()
		}
		if strings.TrimLeft(value, " \t\r\n") == "" && strings.Contains(value, "\n") {
			t.Skip() // white space with a line break is what a pretty-printer leaves in an empty element
		}
		evtx, err := json.Marshal(map[string]any{"Event": map[string]any{
			"System": map[string]any{
				"Provider": map[string]any{"#attributes": map[string]any{"Name": "Fuzz"}},
				"EventID":  1, "Channel": "Application", "Computer": "c",
				"TimeCreated": map[string]any{"#attributes": map[string]any{"SystemTime": "2026-01-01T00:00:00Z"}},
			},
			"EventData": map[string]any{name: value},
		}})
		if err != nil {
			t.Fatal(err)
		}
		for shape, conv := range map[string]func([]byte) ([]byte, error){
			"evtx":       func(b []byte) ([]byte, error) { return b, nil },
			"xml":        windowstest.ToXML,
			"winlogbeat": windowstest.ToWinlogbeat,
			"flat":       windowstest.ToFlat,
		} {
			payload, err := conv(evtx)
			if err != nil {
				t.Fatalf("%s: %v", shape, err)
			}
			p := Parser{aliases: true}
			ev := &event.Event{}
			if err := p.Parse(payload, ev); err != nil {
				t.Fatalf("%s: %v\n%s", shape, err, payload)
			}
			got, ok := ev.Get("winlog.event_data." + name)
			if !ok || got != value {
				t.Fatalf("%s: winlog.event_data.%s = %q (present %v), want %q\n%s", shape, name, got, ok, value, payload)
			}
		}
	})
}
