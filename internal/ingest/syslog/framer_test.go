package syslog

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// corpus returns $TARIAN_CORPUS or skips the test, saying why.
func corpus(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("TARIAN_CORPUS")
	if dir == "" {
		t.Skip("TARIAN_CORPUS not set: skipping the tests on captured syslog bytes (set it to ../shared/corpus)")
	}
	return dir
}

// splitAll frames stream fed in chunks of size n (0: whole), as a
// connection reading a slow sender would.
func splitAll(stream []byte, max, n int) []Frame {
	if n <= 0 {
		return Split(stream, max)
	}
	f := framer{max: max}
	buf := make([]byte, 0, bufSize(max))
	var out []Frame
	for fed := 0; ; {
		atEOF := fed == len(stream)
		for {
			used, fr, ok := f.next(buf, atEOF)
			if ok {
				out = append(out, Frame{Msg: append([]byte(nil), fr.msg...), Bad: fr.bad})
			}
			buf = buf[:copy(buf, buf[used:])]
			if !ok {
				break
			}
			if fr.fatal {
				return out
			}
		}
		if atEOF {
			return out
		}
		k := min(n, len(stream)-fed, cap(buf)-len(buf))
		if k == 0 {
			panic("BUG: framer made no progress on a full buffer")
		}
		buf = append(buf, stream[fed:fed+k]...)
		fed += k
	}
}

func TestFramer(t *testing.T) {
	const max = 480
	long := strings.Repeat("x", max+20)
	tests := []struct {
		name string
		in   string
		want []Frame
	}{
		{"octet, rsyslog trailing LF", "11 <13>1 - hi\n11 <13>1 - ho\n", []Frame{{Msg: []byte("<13>1 - hi")}, {Msg: []byte("<13>1 - ho")}}},
		{"octet, no trailing LF", "10 <13>1 - hi10 <13>1 - ho", []Frame{{Msg: []byte("<13>1 - hi")}, {Msg: []byte("<13>1 - ho")}}},
		{"octet, raw newline inside (syslog-ng)", "17 <12>1 - a\nsecond\n", []Frame{{Msg: []byte("<12>1 - a\nsecond")}}},
		{"octet, bad length closes", "5 <13>x\nzz <13>y", []Frame{{Msg: []byte("<13>x")}, {Msg: []byte("\n"), Bad: `octet-counted framing: bad frame length "\n"`}}},
		{"octet, count too long", "1 a12345678901 x", []Frame{{Msg: []byte("a")}, {Msg: []byte("12345678901"), Bad: `octet-counted framing: bad frame length "12345678901"`}}},
		{"first line of 11 digits is newline framing", "12345678901 x\n", []Frame{{Msg: []byte("12345678901 x")}}},
		{"octet, truncated at EOF", "20 <13>short", []Frame{{Msg: []byte("<13>short"), Bad: "octet-counted frame truncated: 9 of 20 bytes before the connection closed"}}},
		{"octet, over max kept and skipped", fmt.Sprintf("%d %s3 abc", len(long), long), []Frame{{Msg: []byte(long[:max]), Bad: "frame of 500 bytes is over the 480-byte limit (first 480 bytes kept)"}, {Msg: []byte("abc")}}},
		{"octet, empty frame", "0 1 a", []Frame{{Bad: "empty octet-counted frame"}, {Msg: []byte("a")}}},
		{"lf", "<13>a\n<13>b\n", []Frame{{Msg: []byte("<13>a")}, {Msg: []byte("<13>b")}}},
		{"lf, CRLF, blank lines, last line without LF", "<13>a\r\n\n  \n<13>b", []Frame{{Msg: []byte("<13>a")}, {Msg: []byte("<13>b")}}},
		{"lf, first byte a digit but no count", "2024-05-01 plain\n", []Frame{{Msg: []byte("2024-05-01 plain")}}},
		{"lf, over max then resync", long + "\n<13>next\n", []Frame{{Msg: []byte(long[:max]), Bad: "line is over the 480-byte limit (first 480 bytes kept)"}, {Msg: []byte("<13>next")}}},
		{"lf, syslog-ng raw newline splits", "<12>a first\nsecond\n", []Frame{{Msg: []byte("<12>a first")}, {Msg: []byte("second")}}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, chunk := range []int{0, 1, 3, 64} {
				got := splitAll([]byte(tt.in), max, chunk)
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("chunks of %d: frames (-want +got):\n%s", chunk, diff)
				}
			}
		})
	}
}

// FuzzFramer: no input panics, and feeding the stream in pieces frames it
// as feeding it whole does.
func FuzzFramer(f *testing.F) {
	f.Add([]byte("11 <13>1 - hi\n11 <13>1 - ho\n"), uint8(1))
	f.Add([]byte("<13>a\r\n\n<13>b"), uint8(2))
	f.Add([]byte("99999999999 x"), uint8(3))
	f.Add([]byte("0 0 0 "), uint8(0))
	f.Add([]byte(strings.Repeat("y", 1000)+"\nz"), uint8(7))
	if dir := os.Getenv("TARIAN_CORPUS"); dir != "" {
		for _, c := range streamCaptures {
			if b, err := os.ReadFile(filepath.Join(dir, c)); err == nil {
				f.Add(b, uint8(5))
			}
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		const max = 480
		whole := splitAll(in, max, 0)
		parts := splitAll(in, max, int(chunk)+1)
		for _, fr := range whole {
			if len(fr.Msg) > max {
				t.Fatalf("frame of %d bytes over the limit", len(fr.Msg))
			}
		}
		if diff := cmp.Diff(whole, parts); diff != "" {
			t.Fatalf("chunks of %d frame differently (-whole +chunked):\n%s", int(chunk)+1, diff)
		}
	})
}

// streamCaptures are the TCP and TLS byte streams under $TARIAN_CORPUS.
var streamCaptures = []string{
	"wire/rsyslog/rsyslog-rfc5424-tcp-octet.bin",
	"wire/rsyslog/rsyslog-rfc5424-tls-gtls-octet.bin",
	"wire/rsyslog/rsyslog-rfc5424-tls-ossl-octet.bin",
	"wire/rsyslog/rsyslog-forwardformat-tcp-lf.bin",
	"wire/syslog-ng/syslog-ng-rfc5424-tcp-octet.bin",
	"wire/syslog-ng/syslog-ng-rfc5424-tls-octet.bin",
	"wire/syslog-ng/syslog-ng-rfc3164-tcp-lf.bin",
	"wire/clients/node-syslog-client-rfc5424-tcp.bin",
	"wire/clients/node-syslog-client-rfc3164-tcp.bin",
}

// datagramCaptures are the UDP captures: a folder of one file per datagram.
var datagramCaptures = []string{
	"wire/rsyslog/rsyslog-rfc3164-udp",
	"wire/rsyslog/rsyslog-rfc5424-udp",
}

// TestCaptures replays every syslog capture through the framer (streams)
// or as datagrams, and compares the records with testdata/wire/*.txtar.
func TestCaptures(t *testing.T) {
	dir := corpus(t)
	check := func(t *testing.T, capture string, frames []Frame) {
		var got bytes.Buffer
		fmt.Fprintf(&got, "capture: %s\nframes: %d\n-- frames --\n", capture, len(frames))
		for _, fr := range frames {
			if fr.Bad != "" {
				fmt.Fprintf(&got, "BAD %s: %s\n", strconv.Quote(fr.Bad), digest(fr.Msg))
				continue
			}
			fmt.Fprintf(&got, "%s\n", digest(fr.Msg))
		}
		golden := filepath.Join("testdata", "wire", filepath.Base(capture)+".txtar")
		if *update {
			if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if diff := cmp.Diff(string(want), got.String()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", golden, diff)
		}
	}
	for _, c := range streamCaptures {
		t.Run(filepath.Base(c), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, c))
			if err != nil {
				t.Fatal(err)
			}
			frames := Split(b, DefaultConfig().MaxMessageBytes)
			for _, chunk := range []int{1, 7, 512} {
				if diff := cmp.Diff(frames, splitAll(b, DefaultConfig().MaxMessageBytes, chunk)); diff != "" {
					t.Errorf("chunks of %d (-whole +chunked):\n%s", chunk, diff)
				}
			}
			check(t, c, frames)
		})
	}
	for _, c := range datagramCaptures {
		t.Run(filepath.Base(c), func(t *testing.T) {
			files, err := filepath.Glob(filepath.Join(dir, c, "*.bin"))
			if err != nil || len(files) == 0 {
				t.Fatalf("no datagrams in %s: %v", c, err)
			}
			var frames []Frame
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				frames = append(frames, Frame{Msg: trimTrailer(b)})
			}
			check(t, c, frames)
		})
	}
}

// digest stands for a message in golden files: its length and hash, so the
// golden checks every byte without copying the corpus into the repository.
func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return fmt.Sprintf("%d bytes sha256:%x", len(b), sum[:12])
}
