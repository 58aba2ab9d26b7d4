package windows

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
)

// TestStoredOnceLosesNothing parses every golden input as the server does
// (no aliases) and as `tarian parse` does (aliases): the server's event
// holds no winlog.* name that only repeats a value, and every alias it
// leaves out repeats a value the server's event holds.
func TestStoredOnceLosesNothing(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.txtar"))
	if err != nil || len(files) < 10 {
		t.Fatalf("%d golden files, %v", len(files), err)
	}
	var stored, full Parser
	full.SetAliases(true)
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		input, _ := parseTxtar(data).file("input")
		input = bytes.TrimSuffix(input, []byte("\n"))
		var s, f event.Event
		if err := stored.Parse(input, &s); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if err := full.Parse(input, &f); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		have := map[string]bool{}
		values := map[string]bool{}
		for _, x := range s.Fields {
			have[x.Name] = true
			values[x.Value] = true
			if strings.HasPrefix(x.Name, eventDataPrefix) || x.Name == "winlog.event_id" || x.Name == "winlog.channel" {
				t.Errorf("%s: stored event keeps alias %s", filepath.Base(path), x.Name)
			}
		}
		left := 0
		for _, x := range f.Fields {
			if have[x.Name] {
				continue
			}
			left++
			if !strings.HasPrefix(x.Name, "winlog.") && !stored.storedElsewhere(x.Name) {
				t.Errorf("%s: %s is only written with aliases, but it is not an alias", filepath.Base(path), x.Name)
			}
			if !values[x.Value] {
				t.Errorf("%s: alias %s=%q repeats no stored value: information lost", filepath.Base(path), x.Name, x.Value)
			}
		}
		if left == 0 {
			t.Errorf("%s: aliases add nothing; the test no longer tells the layers apart", filepath.Base(path))
		}
		if len(s.Fields) >= len(f.Fields) {
			t.Errorf("%s: stored event has %d fields, with aliases %d", filepath.Base(path), len(s.Fields), len(f.Fields))
		}
	}
}

// TestNativeName: every alias the server leaves out of a golden event
// resolves to a stored name holding the same value.
func TestNativeName(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.txtar"))
	var stored, full Parser
	full.SetAliases(true)
	checked := 0
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		input, _ := parseTxtar(data).file("input")
		input = bytes.TrimSuffix(input, []byte("\n"))
		var s, f event.Event
		if stored.Parse(input, &s) != nil || full.Parse(input, &f) != nil {
			t.Fatalf("%s does not parse", path)
		}
		have := map[string]bool{}
		for _, x := range s.Fields {
			have[x.Name] = true
		}
		for _, x := range f.Fields {
			if have[x.Name] || stored.storedElsewhere(x.Name) {
				// A flat record's own name for a header value (NXLog's
				// SourceName) is not searched for: shippers differ.
				continue
			}
			native, ok := NativeName(x.Name)
			if !ok {
				t.Errorf("%s: no native name for %s", filepath.Base(path), x.Name)
				continue
			}
			if v, _ := s.Get(native); v != x.Value {
				t.Errorf("%s: %s=%q, but %s=%q", filepath.Base(path), x.Name, x.Value, native, v)
			}
			checked++
		}
	}
	if checked < 50 {
		t.Errorf("only %d aliases checked", checked)
	}
	for _, name := range []string{"winlog.opcode", "winlog.logon.type", "Image", "winlog.user_data.xml_name"} {
		if n, ok := NativeName(name); ok {
			t.Errorf("NativeName(%q) = %q; it is stored itself", name, n)
		}
	}
}
