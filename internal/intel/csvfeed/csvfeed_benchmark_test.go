package csvfeed

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/intel"
)

func BenchmarkParse(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("type,value,tlp,confidence,tags\n")
	for i := range 10000 {
		fmt.Fprintf(&sb, "domain,host%d.evil.example,amber,70,c2;apt\n", i)
	}
	in := sb.String()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(strings.NewReader(in), intel.ImportOptions{Now: now}); err != nil {
			b.Fatal(err)
		}
	}
}
