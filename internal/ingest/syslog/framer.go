package syslog

import (
	"bytes"
	"fmt"
)

// framing is how a stream separates messages (RFC 6587).
type framing uint8

const (
	framingUnknown framing = iota
	// framingOctet is octet counting: "LEN SP MSG".
	framingOctet
	// framingLF is non-transparent framing: MSG LF (CR LF tolerated).
	framingLF
)

func (f framing) String() string {
	switch f {
	case framingOctet:
		return "octet-counted"
	case framingLF:
		return "newline"
	}
	return "unknown"
}

// maxLenDigits is the longest octet count read before a frame is
// malformed.
const maxLenDigits = 10

// frame is one unit split from a stream: a message, or a malformed frame
// to dead-letter.
type frame struct {
	// msg is the message without its framing (aliasing the buffer).
	msg []byte
	// bad, when not empty, is why msg is dead-lettered instead.
	bad string
	// fatal says the stream cannot be resynchronised and must be closed.
	fatal bool
}

// framer splits a stream into syslog messages. It detects the framing on
// the stream's first bytes: digits then a space mean octet counting,
// anything else newlines. It keeps no reference to the data it is given.
type framer struct {
	max  int
	mode framing
	// skip is how many bytes of an over-long octet frame remain to discard;
	// skipLine says an over-long line is being discarded up to its LF.
	skip     int
	skipLine bool
}

// bufSize is the read buffer a framer with max needs to see a whole frame.
func bufSize(max int) int { return max + maxLenDigits + 3 }

// next splits the next frame off data. It returns how many bytes it used
// and ok=false when it needs more data (at EOF, when nothing is left).
// At EOF, a final line without LF is a message, and an incomplete octet
// frame is a malformed one. data must be able to hold bufSize(max) bytes
// for next to make progress.
func (f *framer) next(data []byte, atEOF bool) (n int, fr frame, ok bool) {
	for {
		if f.skip > 0 {
			k := min(f.skip, len(data))
			f.skip -= k
			n += k
			data = data[k:]
			if f.skip > 0 {
				return n, frame{}, false
			}
		}
		if f.skipLine {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				return n + len(data), frame{}, false
			}
			f.skipLine = false
			n += i + 1
			data = data[i+1:]
		}
		if len(data) == 0 {
			return n, frame{}, false
		}
		if f.mode == framingUnknown {
			m, decided := detect(data, atEOF)
			if !decided {
				return n, frame{}, false
			}
			f.mode = m
		}
		var used int
		if f.mode == framingOctet {
			used, fr, ok = f.octet(data, atEOF)
		} else {
			used, fr, ok = f.line(data, atEOF)
		}
		n += used
		if ok || used == 0 {
			return n, fr, ok
		}
		data = data[used:] // skipped an empty line: go on
	}
}

// detect decides the framing from a stream's first bytes.
func detect(data []byte, atEOF bool) (framing, bool) {
	for i := 0; i < len(data) && i <= maxLenDigits; i++ {
		c := data[i]
		switch {
		case c >= '0' && c <= '9':
			continue
		case c == ' ' && i > 0:
			return framingOctet, true
		default:
			return framingLF, true
		}
	}
	if len(data) > maxLenDigits || atEOF {
		return framingLF, true
	}
	return framingUnknown, false
}

// octet reads "LEN SP MSG". One trailing LF of MSG is dropped: rsyslog and
// syslog-ng count it in LEN. Newlines inside MSG are kept.
func (f *framer) octet(data []byte, atEOF bool) (int, frame, bool) {
	length, i := 0, 0
	for ; i < len(data) && i < maxLenDigits && data[i] >= '0' && data[i] <= '9'; i++ {
		length = length*10 + int(data[i]-'0')
	}
	switch {
	case i == len(data) && !atEOF:
		return 0, frame{}, false
	case i == 0 || i == len(data) || data[i] != ' ' || (data[0] == '0' && i > 1):
		head := data[:min(len(data), i+1)]
		return len(data), frame{msg: head, bad: fmt.Sprintf("octet-counted framing: bad frame length %q", head), fatal: true}, true
	}
	body := data[i+1:]
	if length > f.max {
		if len(body) < f.max && !atEOF {
			return 0, frame{}, false
		}
		kept := body[:min(len(body), f.max)]
		f.skip = length - len(kept)
		return i + 1 + len(kept), frame{msg: kept, bad: fmt.Sprintf("frame of %d bytes is over the %d-byte limit (first %d bytes kept)", length, f.max, len(kept))}, true
	}
	if len(body) < length {
		if !atEOF {
			return 0, frame{}, false
		}
		return len(data), frame{msg: body, bad: fmt.Sprintf("octet-counted frame truncated: %d of %d bytes before the connection closed", len(body), length), fatal: true}, true
	}
	msg := body[:length]
	if l := len(msg); l > 0 && msg[l-1] == '\n' {
		msg = msg[:l-1]
	}
	if len(msg) == 0 {
		return i + 1 + length, frame{bad: "empty octet-counted frame"}, true
	}
	return i + 1 + length, frame{msg: msg}, true
}

// line reads MSG LF, dropping a CR before the LF. Empty lines are skipped
// (ok false, used > 0).
func (f *framer) line(data []byte, atEOF bool) (int, frame, bool) {
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		if len(data) > f.max+1 || (atEOF && len(data) > f.max) {
			f.skipLine = !atEOF // discard up to the LF still to come
			return len(data), frame{msg: data[:f.max], bad: fmt.Sprintf("line is over the %d-byte limit (first %d bytes kept)", f.max, f.max)}, true
		}
		if !atEOF {
			return 0, frame{}, false
		}
		i = len(data) // a last line without LF
	}
	used := min(i+1, len(data))
	msg := data[:i]
	if l := len(msg); l > 0 && msg[l-1] == '\r' {
		msg = msg[:l-1]
	}
	if len(msg) > f.max {
		return used, frame{msg: msg[:f.max], bad: fmt.Sprintf("line is over the %d-byte limit (first %d bytes kept)", f.max, f.max)}, true
	}
	if len(bytes.TrimSpace(msg)) == 0 {
		return used, frame{}, false
	}
	return used, frame{msg: msg}, true
}

// Frame is one unit of a captured stream, as Split found it.
type Frame struct {
	// Msg is the message, or for a malformed frame the bytes kept.
	Msg []byte
	// Bad is why the frame is malformed; empty for a message.
	Bad string
}

// Split frames a whole TCP stream (a capture, a replay) as a connection
// would: framing detected on its first bytes, malformed frames reported
// with their reason. It stops after a frame that would close the
// connection.
func Split(stream []byte, maxMessageBytes int) []Frame {
	f := framer{max: maxMessageBytes}
	var out []Frame
	for {
		n, fr, ok := f.next(stream, true)
		stream = stream[n:]
		if !ok {
			return out
		}
		out = append(out, Frame{Msg: append([]byte(nil), fr.msg...), Bad: fr.bad})
		if fr.fatal {
			return out
		}
	}
}
