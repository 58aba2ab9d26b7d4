package misp

import (
	"testing"

	"github.com/tarian-soc/tarian/internal/intel"
)

func FuzzParseEvent(f *testing.F) {
	f.Add(mkEvent([]map[string]any{attr(1, "domain|ip", "a.example|198.51.100.1", map[string]any{"Sighting": []map[string]any{{"type": "0", "date_sighting": "1700000000"}}})}, map[string]any{"distribution": "4"}))
	f.Add(mkEvent([]map[string]any{attr(2, "filename|md5", "a|44d88612fea8a8f36de82e1278abb02f", map[string]any{"to_ids": "0"})}, map[string]any{"Tag": []map[string]any{{"name": "tlp:red"}}}))
	f.Add([]byte(`{"response":[{"Event":{"Object":[{"deleted":1,"Attribute":[{"type":"ip-src","value":"::1"}]}]}}]}`))
	f.Add([]byte(`{"Event":{"Attribute":[{"type":"md5","value":"x","to_ids":2}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseEvent(data, intel.ImportOptions{})
		if err != nil {
			return
		}
		for _, i := range b.Indicators {
			if err := i.Validate(); err != nil {
				t.Fatalf("imported an invalid indicator %+v: %v", i, err)
			}
		}
		if _, err := TypeCounts(data); err != nil {
			t.Fatalf("ParseEvent read it, TypeCounts did not: %v", err)
		}
	})
}
