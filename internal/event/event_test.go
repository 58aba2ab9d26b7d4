package event

import "testing"

func TestRefRoundTrip(t *testing.T) {
	for _, r := range []Ref{{Seq: 1}, {Seq: 42, Idx: 999}, {Seq: 7, Idx: 3, Sub: 2}} {
		got, err := ParseRef(r.String())
		if err != nil || got != r {
			t.Errorf("ParseRef(%q) = %+v, %v; want %+v", r.String(), got, err, r)
		}
	}
	if s := (Ref{Seq: 5, Idx: 2, Sub: 1}).String(); s != "5:2.1" {
		t.Errorf("String = %q, want 5:2.1", s)
	}
	for _, bad := range []string{"", "5", "x:1", "5:", "5:-1", "5:1.0", "5:1.x"} {
		if _, err := ParseRef(bad); err == nil {
			t.Errorf("ParseRef(%q) succeeded", bad)
		}
	}
}

func TestHash(t *testing.T) {
	// sha256("abc"), first 128 bits.
	if got := Hash([]byte("abc")); got != "ba7816bf8f01cfea414140de5dae2223" {
		t.Errorf("Hash(abc) = %s", got)
	}
}
