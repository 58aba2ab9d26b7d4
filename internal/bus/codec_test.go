package bus

import (
	"bytes"
	"errors"
	"strconv"
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

func TestCodecCompresses(t *testing.T) {
	recs := make([]event.Raw, 500)
	for i := range recs {
		recs[i] = event.Raw{Source: "http", Received: time.Unix(1700000000, int64(i)).UTC(),
			Data: []byte(`{"Event":{"System":{"Provider":"Microsoft-Windows-Sysmon","EventID":1,"Computer":"ws-` + strconv.Itoa(i%7) + `"},"EventData":{"Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"cmd /c whoami ` + strconv.Itoa(i) + `"}}}`)}
	}
	body, n := encode(recs, 1<<20)
	if n != len(recs) {
		t.Fatalf("encoded %d of %d", n, len(recs))
	}
	zc, err := newCodec(CompressionZstd)
	if err != nil {
		t.Fatal(err)
	}
	defer zc.close()
	packed := zc.pack(body)
	if len(packed)*4 > len(body) {
		t.Errorf("zstd body is %d bytes for %d: less than 4x smaller", len(packed), len(body))
	}
	plain, err := newCodec(CompressionNone)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.close()
	if got := plain.pack(body); !bytes.Equal(got, body) {
		t.Error("compression none changed the body")
	}
	// Either codec reads both forms: a stream written before (or without)
	// compression stays readable.
	for _, c := range []*codec{zc, plain} {
		for _, data := range [][]byte{packed, body} {
			got, err := c.unpack(data)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, body) {
				t.Fatal("unpacked body differs")
			}
		}
	}
	if _, err := zc.unpack([]byte{compressedMark, 1, 2, 3}); !errors.Is(err, errCorrupt) {
		t.Errorf("corrupt zstd body: err = %v, want errCorrupt", err)
	}
}
