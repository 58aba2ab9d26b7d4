package misp

import (
	"path/filepath"
	"testing"

	"github.com/tarian-soc/tarian/internal/intel"
)

func BenchmarkParseFeed(b *testing.B) {
	dir := filepath.Join(corpus(b), "intel", "misp", "feed-circl-osint")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseFeed(dir, intel.ImportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
