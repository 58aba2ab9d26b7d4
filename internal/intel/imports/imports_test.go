package imports

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tarian-soc/tarian/internal/intel"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name, data string
		want       Format
	}{
		{"b.json", `{"type":"bundle","id":"bundle--1b2c3d4e-0000-4000-8000-00000000000a","objects":[]}`, STIXBundle},
		{"o.json", `{"type":"campaign","id":"campaign--1b2c3d4e-0000-4000-8000-00000000000a"}`, STIXObjects},
		{"a.json", ` [{"type":"campaign","id":"campaign--1b2c3d4e-0000-4000-8000-00000000000a"}]`, STIXObjects},
		{"e.json", `{"Event":{"uuid":"x"}}`, MISPEvent},
		{"r.json", `{"response":[]}`, MISPEvent},
		{"bare.json", `{"uuid":"x","info":"y","Attribute":[]}`, MISPEvent},
		{"manifest.json", `{"5721c2e4-05ec-4af3-9264-411b950d210f":{"info":"x","Orgc":{}}}`, MISPManifest},
		{"list.csv", "type,value\nipv4,198.51.100.7\n", CSV},
		{"list.txt", "\ufeffevil.example\n", CSV},
	}
	for _, tt := range tests {
		got, err := Detect(tt.name, []byte(tt.data))
		if err != nil || got != tt.want {
			t.Errorf("%s: %q %v, want %q", tt.name, got, err, tt.want)
		}
	}
	for name, data := range map[string]string{
		"empty":        "  ",
		"json object":  `{"a":1}`,
		"json array":   `[1,2]`,
		"empty array":  `[]`,
		"broken json":  `{"type":`,
		"binary":       "\x00\x01\x02",
		"README.md":    "# Notes\n",
		"invalid utf8": "\xff\xfe",
	} {
		if f, err := Detect(name, []byte(data)); err == nil {
			t.Errorf("%s: detected %q", name, f)
		}
	}
}

func TestParse(t *testing.T) {
	b, err := Parse(CSV, []byte("evil.example\n"), intel.ImportOptions{})
	if err != nil || len(b.Indicators) != 1 {
		t.Errorf("csv: %v %+v", err, b)
	}
	if _, err := Parse(MISPManifest, []byte(`{}`), intel.ImportOptions{}); !errors.Is(err, ErrFeedDir) {
		t.Errorf("manifest: %v", err)
	}
	if _, err := Parse("xml", nil, intel.ImportOptions{}); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("unknown: %v", err)
	}
}

func TestCorpusFiles(t *testing.T) {
	dir := os.Getenv("TARIAN_CORPUS")
	if dir == "" {
		t.Skip("TARIAN_CORPUS is not set: skipping the corpus test (set it to the shared corpus folder)")
	}
	intelDir := filepath.Join(dir, "intel")
	for path, want := range map[string]Format{
		"stix/examples/indicator-for-c2-ip-address.json":                  STIXBundle,
		"stix/examples/interop-objectmarking-test.json":                   STIXObjects,
		"stix/tlp/tlp2-marking-definitions.json":                          STIXObjects,
		"misp/feed-circl-osint/manifest.json":                             MISPManifest,
		"misp/feed-circl-osint/5721c2e4-05ec-4af3-9264-411b950d210f.json": MISPEvent,
		"misp/fixtures/misp-core-tests-event.json":                        MISPEvent,
		"misp/fixtures/event_obj_attr_tag.json":                           MISPEvent,
	} {
		data, err := os.ReadFile(filepath.Join(intelDir, path))
		if err != nil {
			t.Fatal(err)
		}
		f, err := Detect(filepath.Base(path), data)
		if err != nil || f != want {
			t.Errorf("%s: %q %v, want %q", path, f, err, want)
			continue
		}
		if f == MISPManifest {
			continue
		}
		if _, err := ParseFile(filepath.Join(intelDir, path), intel.ImportOptions{}); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	b, err := ParseDir(filepath.Join(intelDir, "misp", "feed-circl-osint"), intel.ImportOptions{})
	if err != nil || len(b.Indicators) == 0 {
		t.Errorf("feed dir: %v, %d indicators", err, len(b.Indicators))
	}
	b, err = ParseDir(filepath.Join(intelDir, "stix", "examples"), intel.ImportOptions{})
	if err != nil || len(b.Objects) == 0 {
		t.Errorf("stix dir: %v, %d objects", err, len(b.Objects))
	}
	for _, s := range b.Skipped {
		t.Logf("stix dir: %s: %s", s.Ref, s.Reason)
	}
}

func FuzzDetect(f *testing.F) {
	f.Add("x.json", []byte(`{"type":"bundle","id":"bundle--1b2c3d4e-0000-4000-8000-00000000000a","objects":[]}`))
	f.Add("x.csv", []byte("type,value\nipv4,198.51.100.7\n"))
	f.Add("m.json", []byte(`{"5721c2e4-05ec-4af3-9264-411b950d210f":{"info":"x"}}`))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		format, err := Detect(name, data)
		if err != nil {
			return
		}
		_, _ = Parse(format, data, intel.ImportOptions{})
	})
}

// TestByteOrderMark: JSON files written with a UTF-8 byte order mark
// (Windows tools) are detected and read, not refused as invalid JSON.
func TestByteOrderMark(t *testing.T) {
	bom := "\ufeff"
	for name, data := range map[string]string{
		"bundle.json":  bom + `{"type":"bundle","id":"bundle--44af6c39-c09b-49c5-9de2-394224b04982","objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--44af6c39-c09b-49c5-9de2-394224b04983","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.3']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}]}`,
		"objects.json": bom + `[{"type":"indicator","spec_version":"2.1","id":"indicator--44af6c39-c09b-49c5-9de2-394224b04983","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.3']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}]`,
		"event.json":   bom + `{"Event":{"uuid":"5f1e3c2a-1b2c-4d5e-8f90-123456789abc","info":"x","Attribute":[{"uuid":"a0000000-0000-4000-8000-000000000001","type":"ip-dst","value":"198.51.100.3","to_ids":true,"timestamp":"1700000000"}]}}`,
		"list.csv":     bom + "198.51.100.3\n",
	} {
		f, err := Detect(name, []byte(data))
		if err != nil {
			t.Errorf("%s: detect: %v", name, err)
			continue
		}
		b, err := Parse(f, []byte(data), intel.ImportOptions{})
		if err != nil || len(b.Indicators) != 1 {
			t.Errorf("%s: %v %+v", name, err, b)
		}
	}
}
