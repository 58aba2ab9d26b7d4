package lumberjack

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	protocol "github.com/elastic/go-lumber/protocol/v2"
	"github.com/valyala/fastjson"
)

// Frame codes of Lumberjack v2, as go-lumber's protocol package names them.
const (
	codeVersion    = protocol.CodeVersion       // '2', first byte of every frame
	codeWindow     = protocol.CodeWindowSize    // 2W count:u32
	codeJSON       = protocol.CodeJSONDataFrame // 2J seq:u32 len:u32 JSON
	codeCompressed = protocol.CodeCompressed    // 2C len:u32 zlib(frames)
	codeACK        = protocol.CodeACK           // 2A seq:u32
)

// maxKept is how many bytes of a malformed frame are kept for its dead
// letter: what had already arrived, never waited for.
const maxKept = 1024

// arenaBytes is the smallest block event payloads are read into.
const arenaBytes = 64 << 10

// FrameError is a malformed frame: the stream cannot be read past it, so
// the connection is closed. Data is what of the frame could be read.
type FrameError struct {
	Reason string
	Data   []byte
}

func (e *FrameError) Error() string { return "malformed frame: " + e.Reason }

// frame is one data frame of a window: an event, or (bad set) a frame
// that is whole but not an acceptable event, to be dead-lettered.
type frame struct {
	seq  uint32
	data []byte
	bad  string
}

// decoder reads Lumberjack v2 frames from a stream: window frames, JSON
// data frames, and compressed frames that hold data frames. It keeps no
// more than one event in memory besides the arena the events are read
// into, so a window of any size streams through.
type decoder struct {
	maxEvent int
	conn     *bufio.Reader
	in       *bufio.Reader // conn, or inner inside a compressed frame
	// Inside a compressed frame: the frame's payload (lim), inflated (zr),
	// buffered (inner); chdr is the frame's header.
	lim   limitedReader
	zr    io.ReadCloser
	inner *bufio.Reader
	chdr  [6]byte
	left  uint32 // data frames still due in the window
	arena []byte
}

func newDecoder(r io.Reader, maxEvent int) *decoder {
	d := &decoder{maxEvent: maxEvent, conn: bufio.NewReaderSize(r, 64<<10)}
	d.in = d.conn
	return d
}

// limitedReader is io.LimitedReader with ReadByte, so that flate reads a
// compressed payload byte by byte from the connection's buffer rather
// than through a buffer of its own that would read past the frame. err
// keeps the connection's own error, to tell a connection that ended
// inside a compressed frame from a malformed one.
type limitedReader struct {
	r   *bufio.Reader
	n   int64
	err error
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if err != nil {
		l.err = err
	}
	return n, err
}

func (l *limitedReader) ReadByte() (byte, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	b, err := l.r.ReadByte()
	if err != nil {
		l.err = err
		return 0, err
	}
	l.n--
	return b, nil
}

// readHeader reads the n bytes of a frame header (n is small) without
// copying them: they are valid until the next read of r. On an error it
// returns what there was.
func readHeader(r *bufio.Reader, n int) ([]byte, error) {
	b, err := r.Peek(n)
	_, _ = r.Discard(len(b))
	if err != nil && len(b) > 0 && errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return b, err
}

// window reads the next window frame and returns its size. A stream that
// ends before the frame's first byte gives io.EOF.
func (d *decoder) window() (uint32, error) {
	if d.left != 0 || d.in != d.conn {
		panic("BUG: lumberjack window read inside a window")
	}
	h, err := readHeader(d.conn, 2)
	if err != nil {
		if len(h) == 0 && errors.Is(err, io.EOF) {
			return 0, io.EOF
		}
		return 0, d.readErr(err, "a window frame", h)
	}
	if h[0] != codeVersion || h[1] != codeWindow {
		return 0, d.badCode(h, "a window frame (2W)")
	}
	if h, err = readHeader(d.conn, 4); err != nil {
		return 0, d.readErr(err, "a window frame", nil)
	}
	d.left = binary.BigEndian.Uint32(h)
	return d.left, nil
}

// next reads the next data frame of the window, entering and leaving
// compressed frames as they come. An error other than a *FrameError means
// the stream ended or failed.
func (d *decoder) next() (frame, error) {
	if d.left == 0 {
		panic("BUG: lumberjack data frame read outside a window")
	}
	for {
		h, err := readHeader(d.in, 2)
		if err != nil {
			if d.in == d.inner && len(h) == 0 && errors.Is(err, io.EOF) {
				// The compressed frame ended before the window did: more
				// frames follow on the connection.
				if err := d.leaveCompressed(); err != nil {
					return frame{}, err
				}
				continue
			}
			return frame{}, d.readErr(err, "a data frame", h)
		}
		if h[0] != codeVersion {
			return frame{}, d.badCode(h, "a data frame (2J or 2C)")
		}
		switch h[1] {
		case codeJSON:
			f, err := d.json()
			if err != nil {
				return frame{}, err
			}
			d.left--
			if d.left == 0 && d.in == d.inner {
				// The window is whole: its compressed frame must end here
				// (and its checksum hold) before the window is acknowledged.
				if _, err := d.inner.Peek(1); err == nil {
					return frame{}, &FrameError{Reason: "a compressed frame holds more data frames than its window announced", Data: d.kept(d.chdr[:])}
				} else if !errors.Is(err, io.EOF) {
					return frame{}, d.readErr(err, "its zlib stream", nil)
				}
				if err := d.leaveCompressed(); err != nil {
					return frame{}, err
				}
			}
			return f, nil
		case codeCompressed:
			if d.in == d.inner {
				return frame{}, &FrameError{Reason: "a compressed frame inside a compressed frame", Data: d.kept([]byte{codeVersion, codeCompressed})}
			}
			if err := d.enterCompressed(); err != nil {
				return frame{}, err
			}
		default:
			return frame{}, d.badCode(h, "a data frame (2J or 2C)")
		}
	}
}

// json reads the rest of a JSON data frame.
func (d *decoder) json() (frame, error) {
	h, err := readHeader(d.in, 8)
	if err != nil {
		return frame{}, d.readErr(err, "a data frame header", append([]byte{codeVersion, codeJSON}, h...))
	}
	f := frame{seq: binary.BigEndian.Uint32(h[:4])}
	size := int64(binary.BigEndian.Uint32(h[4:]))
	if size > int64(d.maxEvent) {
		f.data = make([]byte, d.maxEvent)
		if _, err := io.ReadFull(d.in, f.data); err != nil {
			return frame{}, d.readErr(err, "a data frame", nil)
		}
		if _, err := d.in.Discard(int(size) - d.maxEvent); err != nil {
			return frame{}, d.readErr(err, "a data frame", nil)
		}
		f.bad = fmt.Sprintf("event of %d bytes is over the %d-byte limit (first %d bytes kept)", size, d.maxEvent, d.maxEvent)
		return f, nil
	}
	buf := d.take(int(size))
	if _, err := io.ReadFull(d.in, buf); err != nil {
		return frame{}, d.readErr(err, "a data frame", nil)
	}
	f.data = bytes.TrimSpace(buf)
	f.bad = checkObject(f.data)
	if f.bad != "" {
		f.data = buf
	}
	return f, nil
}

// checkObject says why data is not one JSON object, or "" if it is.
func checkObject(data []byte) string {
	if err := fastjson.ValidateBytes(data); err != nil {
		return shorten("invalid JSON: " + err.Error())
	}
	switch data[0] {
	case '{':
		return ""
	case '[':
		return "not a JSON object: array"
	case '"':
		return "not a JSON object: string"
	case 't', 'f':
		return "not a JSON object: boolean"
	case 'n':
		return "not a JSON object: null"
	}
	return "not a JSON object: number"
}

func shorten(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// enterCompressed starts reading the data frames of a compressed frame.
func (d *decoder) enterCompressed() error {
	d.chdr[0], d.chdr[1] = codeVersion, codeCompressed
	h, err := readHeader(d.conn, 4)
	if err != nil {
		return d.readErr(err, "a compressed frame header", nil)
	}
	copy(d.chdr[2:], h)
	d.lim = limitedReader{r: d.conn, n: int64(binary.BigEndian.Uint32(d.chdr[2:]))}
	if d.zr == nil {
		d.zr, err = zlib.NewReader(&d.lim)
	} else {
		err = d.zr.(zlib.Resetter).Reset(&d.lim, nil)
	}
	if err != nil {
		return d.compressedErr(err)
	}
	if d.inner == nil {
		d.inner = bufio.NewReaderSize(d.zr, 64<<10)
	} else {
		d.inner.Reset(d.zr)
	}
	d.in = d.inner
	return nil
}

// leaveCompressed finishes a compressed frame whose inflated data ended
// (its checksum verified) and goes back to the connection. Bytes left in
// the frame after the zlib stream are skipped, as go-lumber's server does.
func (d *decoder) leaveCompressed() error {
	if _, err := d.conn.Discard(int(d.lim.n)); err != nil {
		return d.readErr(err, "a compressed frame", nil)
	}
	d.lim.n = 0
	d.in = d.conn
	return nil
}

// compressedErr turns an error of the zlib stream into a malformed frame,
// unless the connection failed under it.
func (d *decoder) compressedErr(err error) error {
	if d.lim.err != nil {
		return d.cut(d.lim.err, "a compressed frame")
	}
	return &FrameError{Reason: "compressed frame: " + err.Error(), Data: append([]byte(nil), d.chdr[:]...)}
}

// readErr classifies a failed read: inside a compressed frame a short or
// corrupt stream is a malformed frame; otherwise the connection ended or
// failed mid-frame.
func (d *decoder) readErr(err error, what string, got []byte) error {
	if d.in == d.inner && d.lim.err == nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return &FrameError{Reason: fmt.Sprintf("compressed frame cut short inside %s (%v)", what, err), Data: append(append([]byte(nil), d.chdr[:]...), got...)}
		}
		return d.compressedErr(err)
	}
	return d.cut(err, what)
}

// cut is the error of a stream that ended or failed inside a frame.
func (d *decoder) cut(err error, what string) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("connection ended inside %s: %w", what, err)
}

// badCode is the error of a frame that does not start as it must.
func (d *decoder) badCode(code []byte, want string) error {
	var reason string
	switch {
	case code[0] == '1':
		reason = fmt.Sprintf("a Lumberjack v1 frame (%q); only v2 is supported", code)
	case code[0] == 0x16 && code[1] == 0x03:
		reason = "a TLS handshake on a plain TCP listener"
	case code[0] == codeVersion:
		reason = fmt.Sprintf("frame type %q where %s was due", code[1], want)
	default:
		reason = fmt.Sprintf("not a Lumberjack v2 frame (starts 0x%02x 0x%02x) where %s was due", code[0], code[1], want)
	}
	return &FrameError{Reason: reason, Data: d.kept(code)}
}

// kept is head followed by what the current reader already holds, up to
// maxKept bytes: what of a malformed frame can be read without waiting.
func (d *decoder) kept(head []byte) []byte {
	out := append([]byte(nil), head...)
	if n := min(d.in.Buffered(), maxKept-len(out)); n > 0 {
		b, _ := d.in.Peek(n)
		out = append(out, b...)
	}
	return out
}

// take returns n bytes of the arena for an event's payload.
func (d *decoder) take(n int) []byte {
	if cap(d.arena)-len(d.arena) < n {
		d.arena = make([]byte, 0, max(arenaBytes, n))
	}
	off := len(d.arena)
	d.arena = d.arena[:off+n]
	return d.arena[off : off+n : off+n]
}

// release forgets the arena: the records written from it may be kept by
// the sink, so its memory is never reused.
func (d *decoder) release() { d.arena = nil }
