package stix

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tarian-soc/tarian/internal/intel"
)

func BenchmarkParseBundle(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(corpus(b), "intel", "stix", "examples", "threat-reports", "poisonivy.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseBundle(data, intel.ImportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIndicatorObject(b *testing.B) {
	ind := manualIndicator()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := IndicatorObject(ind); err != nil {
			b.Fatal(err)
		}
	}
}
