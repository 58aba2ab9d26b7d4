package forward

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vmihailenco/msgpack/v5"
)

func nanValue() float64 { return math.NaN() }

// eventTime is a Fluentd EventTime for the msgpack encoder (extension 0).
type evTime time.Time

var _ msgpack.Marshaler = evTime{}

func (t evTime) MarshalMsgpack() ([]byte, error) {
	tt := time.Time(t)
	return []byte{0xd7, 0x00,
		byte(tt.Unix() >> 24), byte(tt.Unix() >> 16), byte(tt.Unix() >> 8), byte(tt.Unix()),
		byte(tt.Nanosecond() >> 24), byte(tt.Nanosecond() >> 16), byte(tt.Nanosecond() >> 8), byte(tt.Nanosecond())}, nil
}

func gz(t testing.TB, p []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(p)
	w.Close()
	return buf.Bytes()
}

// rawMsg is already-encoded MessagePack.
type rawMsg []byte

func (r rawMsg) MarshalMsgpack() ([]byte, error) { return r, nil }

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestDecode(t *testing.T) {
	ts := time.Date(2024, 5, 1, 10, 22, 33, 123456789, time.UTC)
	entries := pack(t, []any{1714558953, map[string]any{"a": 1}}, []any{evTime(ts), map[string]any{"b": "x"}})
	for _, tc := range []struct {
		name  string
		msg   []byte
		recs  []string
		dead  []string
		chunk string
	}{
		{"message int time", pack(t, []any{"t", 1714558953, map[string]any{"msg": "hi"}}),
			[]string{`{"msg":"hi","@timestamp":"2024-05-01T10:22:33Z","fluent.tag":"t"}`}, nil, ""},
		{"message EventTime + empty option", pack(t, []any{"t", evTime(ts), map[string]any{"msg": "hi"}, map[string]any{}}),
			[]string{`{"msg":"hi","@timestamp":"2024-05-01T10:22:33.123456789Z","fluent.tag":"t"}`}, nil, ""},
		{"message float time", pack(t, []any{"t", 1714558953.5, map[string]any{}}),
			[]string{`{"@timestamp":"2024-05-01T10:22:33.5Z","fluent.tag":"t"}`}, nil, ""},
		{"message nil and zero time = receive time", pack(t, []any{"t", nil, map[string]any{}}, []any{"t", 0, map[string]any{}}),
			[]string{`{"@timestamp":"2026-11-25T12:00:00Z","fluent.tag":"t"}`, `{"@timestamp":"2026-11-25T12:00:00Z","fluent.tag":"t"}`}, nil, ""},
		{"message with chunk", pack(t, []any{"t", 1714558953, map[string]any{"k": "v"}, map[string]any{"chunk": "abc=="}}),
			[]string{`{"k":"v","@timestamp":"2024-05-01T10:22:33Z","fluent.tag":"t"}`}, nil, "abc=="},
		{"forward", pack(t, []any{"f", []any{[]any{1714558953, map[string]any{"a": 1}}, []any{evTime(ts), map[string]any{"b": "x"}}}, map[string]any{"size": 2, "chunk": "c"}}),
			[]string{`{"a":1,"@timestamp":"2024-05-01T10:22:33Z","fluent.tag":"f"}`, `{"b":"x","@timestamp":"2024-05-01T10:22:33.123456789Z","fluent.tag":"f"}`}, nil, "c"},
		{"forward empty", pack(t, []any{"f", []any{}}), nil, nil, ""},
		{"packed forward bin", pack(t, []any{"p", entries}),
			[]string{`{"a":1,"@timestamp":"2024-05-01T10:22:33Z","fluent.tag":"p"}`, `{"b":"x","@timestamp":"2024-05-01T10:22:33.123456789Z","fluent.tag":"p"}`}, nil, ""},
		{"packed forward str, compressed text", pack(t, []any{"p", string(entries), map[string]any{"compressed": "text", "chunk": "k"}}),
			[]string{`{"a":1,"@timestamp":"2024-05-01T10:22:33Z","fluent.tag":"p"}`, `{"b":"x","@timestamp":"2024-05-01T10:22:33.123456789Z","fluent.tag":"p"}`}, nil, "k"},
		{"compressed packed forward", pack(t, []any{"c", gz(t, entries), map[string]any{"compressed": "gzip", "chunk": "z"}}),
			[]string{`{"a":1,"@timestamp":"2024-05-01T10:22:33Z","fluent.tag":"c"}`, `{"b":"x","@timestamp":"2024-05-01T10:22:33.123456789Z","fluent.tag":"c"}`}, nil, "z"},
		{"compressed, two gzip members", pack(t, []any{"c", append(gz(t, entries[:len(entries)/2]), gz(t, entries[len(entries)/2:])...), map[string]any{"compressed": "gzip"}}),
			[]string{`{"a":1,"@timestamp":"2024-05-01T10:22:33Z","fluent.tag":"c"}`, `{"b":"x","@timestamp":"2024-05-01T10:22:33.123456789Z","fluent.tag":"c"}`}, nil, ""},
		{"fluent bit v2+ [time, metadata] in forward", pack(t, []any{"fb", []any{[]any{[]any{evTime(ts), map[string]any{}}, map[string]any{"log": "x"}}, []any{[]any{evTime(ts), map[string]any{"otel": "y"}}, map[string]any{"log": "z"}}}}),
			[]string{`{"log":"x","@timestamp":"2024-05-01T10:22:33.123456789Z","fluent.tag":"fb"}`, `{"log":"z","@timestamp":"2024-05-01T10:22:33.123456789Z","fluent.tag":"fb","fluent.metadata":{"otel":"y"}}`}, nil, ""},
		{"fluent bit [time, metadata] in message mode", pack(t, []any{"fb", []any{evTime(ts), map[string]any{}}, map[string]any{"log": "m"}}),
			[]string{`{"log":"m","@timestamp":"2024-05-01T10:22:33.123456789Z","fluent.tag":"fb"}`}, nil, ""},
		{"values", pack(t, []any{"v", 1714558953, rawMsg(pack(t, map[any]any{1: "int key"})), nil}),
			[]string{`{"1":"int key","@timestamp":"2024-05-01T10:22:33Z","fluent.tag":"v"}`}, nil, ""},
		{"nested, bool, null, negative, float32", pack(t, []any{"v", 1714558953, map[string]any{
			"nested": map[string]any{"arr": []any{true, nil, -5, float32(1.5)}},
		}}), []string{`{"nested":{"arr":[true,null,-5,1.5]},"@timestamp":"2024-05-01T10:22:33Z","fluent.tag":"v"}`}, nil, ""},
		{"bin, escapes, big uint, bad UTF-8, tiny float", pack(t, []any{"v", 1714558953, rawMsg(cat([]byte{0x84},
			pack(t, "bin"), pack(t, []byte("b\x00\"\\\n")),
			pack(t, "u64"), pack(t, uint64(math.MaxUint64)),
			pack(t, "bad"), []byte{0xa4, 'o', 'k', 0xff, 'x'},
			pack(t, "tiny"), pack(t, 1e-9)))}),
			[]string{`{"bin":"b\u0000\"\\\n","u64":18446744073709551615,"bad":"ok\ufffdx","tiny":1e-09,"@timestamp":"2024-05-01T10:22:33Z","fluent.tag":"v"}`}, nil, ""},
		{"record's own @timestamp and fluent.tag kept", pack(t, []any{"t", 1714558953, map[string]any{"@timestamp": "mine", "fluent.tag": "also mine"}}),
			[]string{`{"@timestamp":"mine","fluent.tag":"also mine"}`}, nil, ""},
		{"record time extension", pack(t, []any{"t", 1714558953, map[string]any{"when": time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)}}),
			[]string{`{"when":"2024-01-02T03:04:05.000000006Z","@timestamp":"2024-05-01T10:22:33Z","fluent.tag":"t"}`}, nil, ""},
		{"nil request", []byte{0xc0}, nil, nil, ""},
		{"dead: not a map, bad time, NaN, unknown ext, array key", pack(t, []any{"d", []any{
			[]any{1714558953, []any{1}},
			[]any{-1, map[string]any{}},
			[]any{1714558953, map[string]any{"f": math.Inf(1)}},
			[]any{1714558953, map[string]any{"e": rawMsg{0xd4, 0x05, 0x00}}},
			[]any{1714558953, rawMsg(append([]byte{0x81, 0x91, 0x01}, 0x01))},
			[]any{rawMsg{0xd7, 0x00, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff}, map[string]any{}},
			[]any{1},
			"entry",
		}}), nil, []string{
			"entry 0: record is a array, not a map",
			"entry 1: time: -1 seconds is out of range",
			`entry 2: value of "f": float +Inf cannot be JSON`,
			`entry 3: value of "e": extension type 5 (1 bytes) cannot be JSON`,
			"entry 4: record key 0: a array key cannot be a JSON key",
			"entry 5: time: EventTime with 4294967295 nanoseconds",
			"entry 6: an array of 1 items, not [time, record]",
			"entry 7: not an array, not [time, record]",
		}, ""},
		{"dead: broken packed stream keeps the entries before", pack(t, []any{"p", append(pack(t, []any{1714558953, map[string]any{"a": 1}}), 0x92, 0x01)}),
			[]string{`{"a":1,"@timestamp":"2024-05-01T10:22:33Z","fluent.tag":"p"}`},
			[]string{"entry 1: event stream: truncated MessagePack value (the rest of the stream, 2 bytes, kept here)"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDecoder(DefaultConfig())
			var b batch
			var chunk []byte
			for msg := tc.msg; len(msg) > 0; {
				n := scanAll(t, msg)
				c, err := d.decode(&b, msg[:n], now)
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				chunk, msg = c, msg[n:]
			}
			var recs, dead []string
			for _, r := range b.recs {
				if !json.Valid(r.Data) {
					t.Errorf("not JSON: %s", r.Data)
				}
				if r.Source != Source || !r.Received.Equal(now) {
					t.Errorf("record source %q received %v", r.Source, r.Received)
				}
				recs = append(recs, string(r.Data))
			}
			for _, dl := range b.dead {
				dead = append(dead, dl.Reason)
				if len(dl.Data) == 0 {
					t.Errorf("dead letter %q without data", dl.Reason)
				}
			}
			// Records compare as JSON values: key order is not part of it.
			if diff := cmp.Diff(jsonValues(t, tc.recs), jsonValues(t, recs)); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.dead, dead); diff != "" {
				t.Errorf("dead letters (-want +got):\n%s", diff)
			}
			if string(chunk) != tc.chunk {
				t.Errorf("chunk %q, want %q", chunk, tc.chunk)
			}
		})
	}
}

// cat joins byte slices.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// scanAll frames the first object of msg.
func scanAll(t testing.TB, msg []byte) int {
	t.Helper()
	s := scanner{max: 1 << 30}
	s.reset()
	n, err := s.scan(msg)
	if err != nil || n == 0 {
		t.Fatalf("scan: %d, %v", n, err)
	}
	return n
}

func TestDecodeProtocolErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  []byte
		want string
	}{
		{"map", pack(t, map[string]any{"a": 1}), "message is a map, not an array"},
		{"short array", pack(t, []any{"t"}), "array of 1 items"},
		{"long array", pack(t, []any{"t", 1, 2, 3, 4}), "array of 5 items"},
		{"int tag", pack(t, []any{1, 1714558953, map[string]any{}}), "tag is a integer"},
		{"message mode of two", pack(t, []any{"t", 1714558953}), "Message mode needs"},
		{"forward of four", pack(t, []any{"t", "packed", map[string]any{}, map[string]any{}}), "PackedForward mode has"},
		{"option not a map", pack(t, []any{"t", []any{}, "opt"}), "option is a string"},
		{"chunk not a string", pack(t, []any{"t", []any{}, map[string]any{"chunk": 5}}), "option chunk is a integer"},
		{"chunk too long", pack(t, []any{"t", []any{}, map[string]any{"chunk": strings.Repeat("c", 1025)}}), "option chunk of 1025 bytes"},
		{"unknown compression", pack(t, []any{"t", "x", map[string]any{"compressed": "zstd"}}), `option compressed "zstd" is not gzip`},
		{"gzip on forward", pack(t, []any{"t", []any{}, map[string]any{"compressed": "gzip"}}), "compressed option on a Forward"},
		{"bad gzip", pack(t, []any{"t", "x", map[string]any{"compressed": "gzip"}}), "CompressedPackedForward: gzip"},
		{"bad gzip with a chunk", pack(t, []any{"t", "x", map[string]any{"compressed": "gzip", "chunk": "c9"}}), "CompressedPackedForward: gzip"},
		{"trailing bytes", append(pack(t, []any{"t", []any{}}), 0x01), "1 bytes after its last item"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDecoder(DefaultConfig())
			var b batch
			msg := tc.msg
			if tc.name != "trailing bytes" {
				msg = msg[:scanAll(t, msg)]
			}
			_, err := d.decode(&b, msg, now)
			var pe *ProtocolError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a ProtocolError saying %q", err, tc.want)
			}
			if !b.empty() {
				t.Errorf("a refused message added %d records, %d dead letters, %d acks", len(b.recs), len(b.dead), len(b.acks))
			}
		})
	}
}

// Limits: a record over max_record_bytes and a gzip bomb.
func TestDecodeLimits(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxRecordBytes = 256
	cfg.MaxDecompressedBytes = 4096
	d := newDecoder(cfg)
	var b batch
	msg := pack(t, []any{"t", 1714558953, map[string]any{"big": strings.Repeat("x", 300)}})
	if _, err := d.decode(&b, msg, now); err != nil {
		t.Fatal(err)
	}
	if len(b.recs) != 0 || len(b.dead) != 1 || !strings.Contains(b.dead[0].Reason, "over the 256-byte limit") {
		t.Fatalf("big record: %d records, dead %v", len(b.recs), b.dead)
	}
	if len(b.dead[0].Data) != 256 || !strings.Contains(b.dead[0].Reason, "first 256 of") {
		t.Errorf("dead letter keeps %d bytes: %q", len(b.dead[0].Data), b.dead[0].Reason)
	}
	bomb := pack(t, []any{"t", gz(t, bytes.Repeat(pack(t, []any{1, map[string]any{"a": 1}}), 1000)), map[string]any{"compressed": "gzip", "chunk": "b1"}})
	var bb batch
	if _, err := d.decode(&bb, bomb, now); err == nil || !strings.Contains(err.Error(), "max_decompressed_bytes") {
		t.Fatalf("gzip bomb: %v", err)
	}
	if len(bb.acks) != 0 {
		t.Errorf("the refused gzip bomb is to be acknowledged: %q", bb.acks)
	}
}

// The scanner frames objects fed a byte at a time as it does whole, and
// refuses a declared length over the limit before the bytes arrive.
func TestScanner(t *testing.T) {
	msgs := [][]byte{
		pack(t, []any{"t", 1714558953, map[string]any{"a": []any{1, "two", 3.0, map[string]any{"x": nil}}}}),
		pack(t, []any{"t", strings.Repeat("p", 70000), map[string]any{"chunk": "c"}}),
		pack(t, []any{"t", []any{}}),
		{0xc0},
	}
	for i, m := range msgs {
		s := scanner{max: 1 << 20}
		s.reset()
		for k := 1; k <= len(m); k++ {
			n, err := s.scan(m[:k])
			if err != nil {
				t.Fatalf("msg %d at %d bytes: %v", i, k, err)
			}
			if (n != 0) != (k == len(m)) || (n != 0 && n != len(m)) {
				t.Fatalf("msg %d at %d of %d bytes: scan says %d", i, k, len(m), n)
			}
			if n == 0 && s.need <= k-1 {
				t.Fatalf("msg %d at %d bytes: need %d", i, k, s.need)
			}
		}
	}
	s := scanner{max: 1024}
	s.reset()
	if _, err := s.scan([]byte{0x92, 0xc6, 0, 1, 0, 0}); !errors.Is(err, errTooLarge) {
		t.Errorf("bin32 of 64 KiB under a 1 KiB limit: %v", err)
	}
	s.reset()
	if _, err := s.scan([]byte{0xdd, 0xff, 0xff, 0xff, 0xff}); !errors.Is(err, errTooLarge) {
		t.Errorf("array32 of 4G items: %v", err)
	}
	s.reset()
	if _, err := s.scan(bytes.Repeat([]byte{0x91}, maxDepth+1)); !errors.Is(err, errTooDeep) {
		t.Errorf("deep nesting: %v", err)
	}
}

// FuzzDecode frames and decodes arbitrary bytes as a connection would: no
// input panics, every record is valid JSON with the added keys, and a
// refused message adds nothing.
func FuzzDecode(f *testing.F) {
	ts := time.Date(2024, 5, 1, 10, 22, 33, 5, time.UTC)
	entries := pack(f, []any{1714558953, map[string]any{"a": 1}}, []any{evTime(ts), map[string]any{"b": []byte("x")}})
	for _, seed := range [][]byte{
		pack(f, []any{"t", 1714558953, map[string]any{"msg": "hi"}}),
		pack(f, []any{"t", evTime(ts), map[string]any{"msg": "hi", "n": map[string]any{"x": []any{1.5, nil, true}}}, map[string]any{"chunk": "c"}}),
		pack(f, []any{"f", []any{[]any{1714558953, map[string]any{"a": 1}}, []any{[]any{evTime(ts), map[string]any{"m": 1}}, map[string]any{"b": 2}}}}),
		pack(f, []any{"p", entries, map[string]any{"chunk": "k", "size": 2}}),
		pack(f, []any{"c", gz(f, entries), map[string]any{"compressed": "gzip"}}),
		pack(f, []any{"PING", "client", "salt", "digest", "", ""}),
		{0xc1},
		{0x93, 0xa1, 't', 0xd7, 0x00, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x80},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		cfg := DefaultConfig()
		cfg.MaxRecordBytes = 4096
		cfg.MaxDecompressedBytes = 1 << 20
		d := newDecoder(cfg)
		s := scanner{max: 1 << 20}
		for len(in) > 0 {
			s.reset()
			n, err := s.scan(in)
			if err != nil || n == 0 {
				return // the connection would be closed
			}
			var b batch
			_, err = d.decode(&b, in[:n], now)
			if err != nil && !b.empty() {
				t.Fatalf("refused message added to the batch: %v", err)
			}
			for _, r := range b.recs {
				var m map[string]any
				if err := json.Unmarshal(r.Data, &m); err != nil {
					t.Fatalf("record is not a JSON object: %v: %q", err, r.Data)
				}
				if _, ok := m[KeyTimestamp]; !ok {
					t.Fatalf("record without %s: %s", KeyTimestamp, r.Data)
				}
			}
			for _, dl := range b.dead {
				if dl.Reason == "" {
					t.Fatal("dead letter without a reason")
				}
			}
			in = in[n:]
		}
	})
}

// appendTime writes what time.RFC3339Nano writes, across seconds.
func TestAppendTime(t *testing.T) {
	d := newDecoder(DefaultConfig())
	for _, tm := range []time.Time{
		time.Date(2024, 5, 1, 10, 22, 33, 0, time.UTC),
		time.Date(2024, 5, 1, 10, 22, 33, 123456789, time.UTC),
		time.Date(2024, 5, 1, 10, 22, 33, 100, time.UTC),
		time.Date(2024, 5, 1, 10, 22, 34, 500000000, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
	} {
		if got, want := string(d.appendTime(nil, tm)), tm.Format(time.RFC3339Nano); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

// A buffer full to the limit with an unfinished header is too large, not
// "need more".
func TestScannerLimitInHeader(t *testing.T) {
	s := scanner{max: 8}
	s.reset()
	in := []byte{0x93, 0xa1, 't', 0x01, 0x91, 0x92, 0x93, 0xdd}
	if _, err := s.scan(in); !errors.Is(err, errTooLarge) {
		t.Fatalf("got %v", err)
	}
}

// jsonValues decodes each JSON text, so records compare whatever their key order.
func jsonValues(t *testing.T, texts []string) []any {
	t.Helper()
	var out []any
	for _, s := range texts {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatalf("not JSON: %s", s)
		}
		out = append(out, v)
	}
	return out
}
