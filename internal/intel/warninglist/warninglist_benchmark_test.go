package warninglist

import (
	"path/filepath"
	"testing"

	"github.com/tarian-soc/tarian/internal/intel"
)

func BenchmarkCheck(b *testing.B) {
	s, err := LoadDir(filepath.Join(corpus(b), "intel", "warninglists"))
	if err != nil {
		b.Fatal(err)
	}
	vals := []struct {
		t intel.Type
		v string
	}{
		{intel.TypeIPv4, "81.2.69.142"},
		{intel.TypeDomain, "www.not-listed-anywhere-x7q.info"},
		{intel.TypeURL, "http://www.not-listed.example/a/b?c=d"},
		{intel.TypeSHA256, "375a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"},
		{intel.TypeEmail, "someone@not-listed.example"},
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		x := vals[i%len(vals)]
		s.Check(x.t, x.v)
	}
}

func BenchmarkLoadDir(b *testing.B) {
	dir := filepath.Join(corpus(b), "intel", "warninglists")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LoadDir(dir); err != nil {
			b.Fatal(err)
		}
	}
}
