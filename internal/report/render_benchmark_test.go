package report_test

import (
	"bytes"
	"testing"

	"github.com/tarian-soc/tarian/internal/report"
)

// BenchmarkRender renders the seeded month's Welsh report (the longer).
func BenchmarkRender(b *testing.B) {
	r := gathered(b)
	b.Run("html", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.HTML(report.Welsh); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pdf", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := r.PDF(&bytes.Buffer{}, report.Welsh); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGather gathers the seeded month from the SQLite store.
func BenchmarkGather(b *testing.B) {
	ds := seed(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := report.Gather(b.Context(), ds.deps, "gwynedd", at("2026-11-01 00:00:00")); err != nil {
			b.Fatal(err)
		}
	}
}
