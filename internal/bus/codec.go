package bus

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/tarian-soc/tarian/internal/event"
)

// A message body is a sequence of records, each:
//
//	uvarint len(source) | source | varint received (unix ns) | uvarint len(data) | data
//
// Records are length-prefixed, so data may hold any bytes (syslog frames
// carry raw newlines).

var errCorrupt = errors.New("corrupt message body")

// encode packs records from recs into one message body of about limit bytes
// (always at least one record) and returns the body and how many it took.
func encode(recs []event.Raw, limit int) ([]byte, int) {
	return appendEncoded(nil, recs, limit)
}

// appendEncoded is encode appending the body to dst[:0] (reusing its
// capacity when that is enough).
func appendEncoded(dst []byte, recs []event.Raw, limit int) ([]byte, int) {
	size := 0
	n := 0
	for _, r := range recs {
		sz := len(r.Source) + len(r.Data) + 3*binary.MaxVarintLen64
		if n > 0 && size+sz > limit {
			break
		}
		size += sz
		n++
	}
	buf := dst[:0]
	if cap(buf) < size {
		buf = make([]byte, 0, size)
	}
	for _, r := range recs[:n] {
		buf = binary.AppendUvarint(buf, uint64(len(r.Source)))
		buf = append(buf, r.Source...)
		buf = binary.AppendVarint(buf, r.Received.UnixNano())
		buf = binary.AppendUvarint(buf, uint64(len(r.Data)))
		buf = append(buf, r.Data...)
	}
	return buf, n
}

// decode unpacks a message body. Record data aliases body; records of
// the same source share its name's string.
func decode(body []byte) ([]event.Raw, error) {
	recs := make([]event.Raw, 0, count(body))
	var source string
	for len(body) > 0 {
		var r event.Raw
		n, k := binary.Uvarint(body)
		if k <= 0 || uint64(len(body)-k) < n {
			return nil, errCorrupt
		}
		if src := body[k : k+int(n)]; string(src) == source {
			r.Source = source
		} else {
			r.Source = string(src)
			source = r.Source
		}
		body = body[k+int(n):]
		ts, k := binary.Varint(body)
		if k <= 0 {
			return nil, errCorrupt
		}
		r.Received = time.Unix(0, ts).UTC()
		body = body[k:]
		n, k = binary.Uvarint(body)
		if k <= 0 || uint64(len(body)-k) < n {
			return nil, errCorrupt
		}
		r.Data = body[k : k+int(n) : k+int(n)]
		body = body[k+int(n):]
		recs = append(recs, r)
	}
	return recs, nil
}

// count returns how many records body holds, as far as it can read them:
// decode's capacity, which saves it growing its slice a record at a time.
func count(body []byte) int {
	c := 0
	for len(body) > 0 {
		n, k := binary.Uvarint(body)
		if k <= 0 || uint64(len(body)-k) < n {
			break
		}
		body = body[k+int(n):]
		if _, k = binary.Varint(body); k <= 0 {
			break
		}
		body = body[k:]
		if n, k = binary.Uvarint(body); k <= 0 || uint64(len(body)-k) < n {
			break
		}
		body = body[k+int(n):]
		c++
	}
	return c
}

// Compressed message bodies start with compressedMark and hold one zstd
// frame of the records' encoding. The mark can never begin an uncompressed
// body (a record's first byte is its source name's length, always short),
// so a stream written before compression still reads.
const compressedMark = 0xfe

// Compression names accepted by Config.Compression.
const (
	CompressionZstd = "zstd"
	CompressionNone = "none"
)

// codec compresses and decompresses message bodies; safe for concurrent use.
type codec struct {
	compress bool          // false: bodies are written uncompressed
	enc      *zstd.Encoder // the Go encoder, when there is no C one (zstd_cgo.go)
	dec      *zstd.Decoder
	// bodies are encode buffers (*[]byte) for compressed messages, each
	// about a message long: Write needs one only until it is compressed.
	bodies sync.Pool
}

func newCodec(compression string) (*codec, error) {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxPayload*4))
	if err != nil {
		return nil, fmt.Errorf("zstd decoder: %w", err)
	}
	c := &codec{dec: dec, compress: compression == CompressionZstd}
	if c.compress && !cZstd {
		// The fastest level: ingest pays it on every request, and on
		// log records it already takes bodies to about a seventh.
		c.enc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)))
		if err != nil {
			return nil, fmt.Errorf("zstd encoder: %w", err)
		}
	}
	return c, nil
}

// pack returns body as it goes on the bus.
func (c *codec) pack(body []byte) []byte {
	if !c.compress {
		return body
	}
	out := make([]byte, 1, len(body)/4+64)
	out[0] = compressedMark
	if c.enc == nil {
		return compressC(out, body)
	}
	return c.enc.EncodeAll(body, out)
}

// message packs records from recs into the data of one bus message of
// about limit bytes before compression (at least one record) and returns
// the data and how many records it took.
func (c *codec) message(recs []event.Raw, limit int) ([]byte, int) {
	if !c.compress {
		return encode(recs, limit)
	}
	bp, _ := c.bodies.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	body, n := appendEncoded(*bp, recs, limit)
	data := c.pack(body)
	if cap(body) <= 2*limit+1<<16 {
		// Not one record far larger than a message: keep it.
		*bp = body
		c.bodies.Put(bp)
	}
	return data, n
}

// unpack returns the records' encoding of a bus message's data.
func (c *codec) unpack(data []byte) ([]byte, error) {
	if len(data) == 0 || data[0] != compressedMark {
		return data, nil
	}
	body, err := c.dec.DecodeAll(data[1:], nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errCorrupt, err)
	}
	return body, nil
}

func (c *codec) close() {
	if c.enc != nil {
		c.enc.Close()
	}
	c.dec.Close()
}
