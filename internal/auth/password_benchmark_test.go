package auth

import "testing"

// BenchmarkPasswordHash is the cost of one login's password check with the
// default parameters; DefaultPasswordParams aims at about 50 ms.
func BenchmarkPasswordHash(b *testing.B) {
	h := HashPassword("correct horse battery staple", DefaultPasswordParams())
	b.ReportAllocs()
	for b.Loop() {
		if ok, _ := VerifyPassword("correct horse battery staple", h); !ok {
			b.Fatal("no match")
		}
	}
}
