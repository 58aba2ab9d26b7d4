package bus

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/event"
)

func isBackpressure(err error) bool { return errors.Is(err, ErrBackpressure) }

func TestCodecRoundTrip(t *testing.T) {
	recs := []event.Raw{
		{Received: time.Unix(1, 5).UTC(), Source: "http", Data: []byte(`{"a":1}`)},
		{Received: time.Unix(-1, 0).UTC(), Source: "", Data: []byte("line with\nnewline\x00")},
		{Received: time.Unix(1700000000, 0).UTC(), Source: "syslog", Data: []byte{}},
	}
	body, n := encode(recs, 1<<20)
	if n != len(recs) {
		t.Fatalf("encoded %d of %d", n, len(recs))
	}
	got, err := decode(body)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(recs, got, cmp.Comparer(func(a, b []byte) bool { return string(a) == string(b) })); diff != "" {
		t.Error(diff)
	}
	// A limit smaller than one record still takes one.
	if _, n := encode(recs, 1); n != 1 {
		t.Errorf("encode with tiny limit took %d, want 1", n)
	}
}

func FuzzDecode(f *testing.F) {
	body, _ := encode([]event.Raw{{Source: "http", Data: []byte(`{}`)}}, 1024)
	f.Add(body)
	f.Add([]byte{0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := decode(b)
		if err != nil {
			return
		}
		// Whatever decodes must survive a round trip unchanged.
		body, n := encode(recs, len(b)+1<<20)
		if n != len(recs) {
			t.Fatalf("encoded %d of %d", n, len(recs))
		}
		again, err := decode(body)
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != len(recs) {
			t.Fatalf("round trip gave %d records, want %d", len(again), len(recs))
		}
		for i := range recs {
			if string(again[i].Data) != string(recs[i].Data) || again[i].Source != recs[i].Source || !again[i].Received.Equal(recs[i].Received) {
				t.Fatalf("record %d changed in round trip", i)
			}
		}
	})
}
