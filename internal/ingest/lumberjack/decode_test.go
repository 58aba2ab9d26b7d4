package lumberjack

import (
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/ingest"
)

// ackBuf collects a session's ACKs in memory.
type ackBuf struct{ bytes.Buffer }

func (*ackBuf) SetWriteDeadline(time.Time) error { return nil }

// runSession serves data as one connection of tenant alpha would be, and
// returns the ACKs written and the sink.
func runSession(data []byte, maxEvent int) ([]uint32, *memSink) {
	sink := newMemSink()
	r := &Receiver{d: ingest.Deps{Sink: sink, DeadLetters: sink, Metrics: sink, Log: slog.New(slog.DiscardHandler)}, now: time.Now}
	cfg := DefaultConfig()
	cfg.MaxEventBytes = maxEvent
	w := &ackBuf{}
	s := &session{r: r, cfg: &cfg, t: "alpha", log: r.d.Log, dec: newDecoder(bytes.NewReader(data), maxEvent), wait: func(bool) {}}
	s.ack = acker{w: w, timeout: time.Second}
	s.run(context.Background())
	var acks []uint32
	b := w.Bytes()
	for len(b) >= 6 {
		if b[0] != '2' || b[1] != 'A' {
			panic("not an ACK")
		}
		acks = append(acks, binary.BigEndian.Uint32(b[2:6]))
		b = b[6:]
	}
	if len(b) != 0 {
		panic("partial ACK frame")
	}
	return acks, sink
}

func TestSessionWindows(t *testing.T) {
	data := cat(
		windowFrame(2), jsonFrame(1, `{"a":1}`), jsonFrame(2, `{"a":2}`),
		windowFrame(0),
		windowFrame(3), compressedFrame(jsonFrame(1, `{"b":1}`)), jsonFrame(2, `{"b":2}`), compressedFrame(jsonFrame(3, `{"b":3}`)),
		windowFrame(1), jsonFrame(7, `{"c":1}`),
	)
	acks, sink := runSession(data, 1024)
	if want := []uint32{2, 3, 7}; !equal(acks, want) {
		t.Errorf("acks %v, want %v", acks, want)
	}
	got := strings.Join(sink.docs("alpha"), " ")
	if want := `{"a":1} {"a":2} {"b":1} {"b":2} {"b":3} {"c":1}`; got != want {
		t.Errorf("records %s, want %s", got, want)
	}
}

func equal(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzDecode runs a whole session over arbitrary bytes: no input panics;
// only JSON objects become records; ACKs never exceed what was read; a
// malformed frame is counted once, dead-lettered with its reason, and ends
// the session.
func FuzzDecode(f *testing.F) {
	good := cat(windowFrame(2), jsonFrame(1, `{"message":"a"}`), jsonFrame(2, `{"message":"b"}`))
	for _, s := range [][]byte{
		good,
		cat(windowFrame(2), compressedFrame(jsonFrame(1, `{"message":"a"}`), jsonFrame(2, `[1]`))),
		cat(good, windowFrame(1), compressedFrame(jsonFrame(1, strings.Repeat("x", 300)))),
		cat(windowFrame(3), jsonFrame(1, `{}`), []byte("2Xjunk")),
		cat(windowFrame(1), compressedRaw([]byte{0x78, 0x5e, 0xff})),
		cat(windowFrame(2), compressedFrame(jsonFrame(1, `{}`), compressedFrame(jsonFrame(2, `{}`)))),
		[]byte("1W\x00\x00\x00\x01"),
		[]byte("2W\xff\xff\xff\xff2J\x00\x00\x00\x01\xff\xff\xff\xff"),
		{},
	} {
		f.Add(s)
	}
	if dir := os.Getenv("TARIAN_CORPUS"); dir != "" {
		paths, _ := filepath.Glob(filepath.Join(dir, "wire", "clients", "go-lumber-v2-window*.bin"))
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		acks, sink := runSession(data, 256)
		for _, r := range sink.Records("alpha") {
			if bad := checkObject(r.Data); bad != "" {
				t.Fatalf("record %q: %s", r.Data, bad)
			}
			if len(r.Data) > 256 {
				t.Fatalf("record of %d bytes over the limit", len(r.Data))
			}
		}
		malformed := 0
		for _, d := range sink.DeadLetters("alpha") {
			if d.Reason == "" {
				t.Fatal("dead letter without a reason")
			}
			if strings.HasPrefix(d.Reason, "malformed frame: ") {
				malformed++
				if len(d.Data) > maxKept+16 {
					t.Fatalf("malformed frame keeps %d bytes", len(d.Data))
				}
			} else if len(d.Data) > 256 {
				t.Fatalf("dead letter keeps %d bytes", len(d.Data))
			}
		}
		if malformed > 1 {
			t.Fatalf("%d malformed frames dead-lettered in one session", malformed)
		}
		if n := sink.Counted(MetricMalformed, "alpha"); n != malformed {
			t.Fatalf("%s = %d, %d dead-lettered", MetricMalformed, n, malformed)
		}
		// Every frame written was acknowledged, and no more: each ACK
		// closes at least one frame.
		frames := sink.Total() + sink.DeadTotal() - malformed
		if len(acks) > frames {
			t.Fatalf("%d ACKs for %d frames", len(acks), frames)
		}
		if frames > 0 && len(acks) == 0 {
			t.Fatalf("%d frames written, none acknowledged", frames)
		}
	})
}
