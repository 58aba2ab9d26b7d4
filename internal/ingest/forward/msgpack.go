package forward

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// This file is a small MessagePack reader, written for the Forward
// protocol's needs: a resumable scanner that finds where one object ends in
// a byte stream (so a message is framed before it is decoded, and every
// length is checked against the limits before anything is buffered for
// it), and a pull reader over a complete object.

// maxDepth bounds nesting: the message array, an entry, a record and 60
// levels of nested maps and arrays inside the record.
const maxDepth = 64

// Scanner errors.
var (
	errTooDeep  = fmt.Errorf("nested more than %d levels", maxDepth)
	errBadCode  = errors.New("byte 0xc1 is never used in MessagePack")
	errTooLarge = errors.New("too large")
)

// scanner finds the end of one MessagePack object. It keeps its place
// between calls, so a message that arrives in many reads is scanned once.
type scanner struct {
	// max is the largest object accepted, in bytes.
	max   int
	pos   int
	stack []int // items still to read in each open container
	// need is the size the object is known to reach, at least.
	need int
}

// reset prepares s for the next object.
func (s *scanner) reset() {
	s.pos, s.need = 0, 0
	s.stack = append(s.stack[:0], 1)
}

// scan looks at b, the object's bytes from its first so far, and returns
// the object's length once b holds all of it (0 while it does not). An
// object over s.max or malformed is an error as soon as that is known.
func (s *scanner) scan(b []byte) (int, error) {
	if len(s.stack) == 0 && s.pos == 0 {
		s.reset()
	}
	for len(s.stack) > 0 {
		top := len(s.stack) - 1
		if s.stack[top] == 0 {
			s.stack = s.stack[:top]
			continue
		}
		h, body, children, err := head(b[s.pos:])
		if err != nil {
			return 0, err
		}
		if h == 0 { // the header is not all here
			if len(b) >= s.max {
				return 0, fmt.Errorf("%w: over the %d-byte limit", errTooLarge, s.max)
			}
			s.need = len(b) + 1
			return 0, nil
		}
		total := uint64(s.pos) + uint64(h) + body
		if total > uint64(s.max) {
			return 0, fmt.Errorf("%w: over the %d-byte limit (at least %d bytes)", errTooLarge, s.max, total)
		}
		if children > uint64(s.max-int(total)) {
			// Every item takes at least one byte.
			return 0, fmt.Errorf("%w: a container of %d items cannot fit in the %d-byte limit", errTooLarge, children, s.max)
		}
		if int(total) > len(b) {
			s.need = int(total)
			return 0, nil
		}
		s.pos = int(total)
		s.stack[top]--
		if children > 0 {
			if len(s.stack) >= maxDepth {
				return 0, errTooDeep
			}
			s.stack = append(s.stack, int(children))
		}
	}
	n := s.pos
	s.pos, s.need = 0, 0
	return n, nil
}

// head reads the header at the start of b: its length (0 when b is too
// short to hold it), the length of the payload after it, and how many
// items follow inside it (a map counts keys and values).
func head(b []byte) (h int, body, children uint64, err error) {
	if len(b) == 0 {
		return 0, 0, 0, nil
	}
	c := b[0]
	switch {
	case c <= 0x7f || c >= 0xe0:
		return 1, 0, 0, nil
	case c <= 0x8f:
		return 1, 0, 2 * uint64(c&0x0f), nil
	case c <= 0x9f:
		return 1, 0, uint64(c & 0x0f), nil
	case c <= 0xbf:
		return 1, uint64(c & 0x1f), 0, nil
	}
	// size returns the n-byte big-endian length after the code.
	size := func(n int) (uint64, bool) {
		if len(b) < 1+n {
			return 0, false
		}
		switch n {
		case 1:
			return uint64(b[1]), true
		case 2:
			return uint64(binary.BigEndian.Uint16(b[1:])), true
		default:
			return uint64(binary.BigEndian.Uint32(b[1:])), true
		}
	}
	switch c {
	case 0xc0, 0xc2, 0xc3:
		return 1, 0, 0, nil
	case 0xc1:
		return 0, 0, 0, errBadCode
	case 0xc4, 0xd9: // bin8, str8
		n, ok := size(1)
		return cond(ok, 2), n, 0, nil
	case 0xc5, 0xda:
		n, ok := size(2)
		return cond(ok, 3), n, 0, nil
	case 0xc6, 0xdb:
		n, ok := size(4)
		return cond(ok, 5), n, 0, nil
	case 0xc7: // ext8: length, type, data
		n, ok := size(1)
		return cond(ok && len(b) >= 3, 3), n, 0, nil
	case 0xc8:
		n, ok := size(2)
		return cond(ok && len(b) >= 4, 4), n, 0, nil
	case 0xc9:
		n, ok := size(4)
		return cond(ok && len(b) >= 6, 6), n, 0, nil
	case 0xca:
		return 1, 4, 0, nil
	case 0xcb:
		return 1, 8, 0, nil
	case 0xcc, 0xd0:
		return 1, 1, 0, nil
	case 0xcd, 0xd1:
		return 1, 2, 0, nil
	case 0xce, 0xd2:
		return 1, 4, 0, nil
	case 0xcf, 0xd3:
		return 1, 8, 0, nil
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1, 2, 4, 8, 16: type, data
		return 2, 1 << (c - 0xd4), 0, nil
	case 0xdc:
		n, ok := size(2)
		return cond(ok, 3), 0, n, nil
	case 0xdd:
		n, ok := size(4)
		return cond(ok, 5), 0, n, nil
	case 0xde:
		n, ok := size(2)
		return cond(ok, 3), 0, 2 * n, nil
	case 0xdf:
		n, ok := size(4)
		return cond(ok, 5), 0, 2 * n, nil
	}
	return 0, 0, 0, fmt.Errorf("BUG: msgpack code 0x%02x not handled", c)
}

func cond(ok bool, n int) int {
	if ok {
		return n
	}
	return 0
}

// kind is the type of one MessagePack value.
type kind uint8

const (
	kNil kind = iota
	kBool
	kInt   // i
	kUint  // u, above math.MaxInt64 only
	kFloat // f (bits says 32 or 64)
	kStr   // s
	kBin   // s
	kArray // n items follow
	kMap   // n pairs follow
	kExt   // ext type, s
)

var kindNames = [...]string{"nil", "boolean", "integer", "integer", "float", "string", "binary", "array", "map", "extension"}

func (k kind) String() string { return kindNames[k] }

// value is one MessagePack value; containers carry their length and their
// items follow in the reader.
type value struct {
	kind kind
	b    bool
	i    int64
	u    uint64
	f    float64
	bits int
	n    int
	ext  int8
	s    []byte
}

// reader reads values from a complete object.
type reader struct {
	b []byte
	p int
}

var errShort = errors.New("truncated MessagePack value")

func (r *reader) take(n uint64) ([]byte, error) {
	if n > uint64(len(r.b)-r.p) {
		return nil, errShort
	}
	s := r.b[r.p : r.p+int(n)]
	r.p += int(n)
	return s, nil
}

func (r *reader) uint(n int) (uint64, error) {
	s, err := r.take(uint64(n))
	if err != nil {
		return 0, err
	}
	switch n {
	case 1:
		return uint64(s[0]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(s)), nil
	case 4:
		return uint64(binary.BigEndian.Uint32(s)), nil
	}
	return binary.BigEndian.Uint64(s), nil
}

// next reads one value (a container's header only).
func (r *reader) next() (value, error) {
	if r.p >= len(r.b) {
		return value{}, errShort
	}
	c := r.b[r.p]
	r.p++
	switch {
	case c <= 0x7f:
		return value{kind: kInt, i: int64(c)}, nil
	case c >= 0xe0:
		return value{kind: kInt, i: int64(int8(c))}, nil
	case c <= 0x8f:
		return r.container(kMap, uint64(c&0x0f))
	case c <= 0x9f:
		return r.container(kArray, uint64(c&0x0f))
	case c <= 0xbf:
		s, err := r.take(uint64(c & 0x1f))
		return value{kind: kStr, s: s}, err
	}
	switch c {
	case 0xc0:
		return value{kind: kNil}, nil
	case 0xc2, 0xc3:
		return value{kind: kBool, b: c == 0xc3}, nil
	case 0xc4, 0xc5, 0xc6, 0xd9, 0xda, 0xdb:
		width := 1
		switch c {
		case 0xc5, 0xda:
			width = 2
		case 0xc6, 0xdb:
			width = 4
		}
		n, err := r.uint(width)
		if err != nil {
			return value{}, err
		}
		s, err := r.take(n)
		k := kBin
		if c >= 0xd9 {
			k = kStr
		}
		return value{kind: k, s: s}, err
	case 0xc7, 0xc8, 0xc9:
		n, err := r.uint(1 << (c - 0xc7))
		if err != nil {
			return value{}, err
		}
		return r.extension(n)
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		return r.extension(1 << (c - 0xd4))
	case 0xca:
		u, err := r.uint(4)
		return value{kind: kFloat, f: float64(math.Float32frombits(uint32(u))), bits: 32}, err
	case 0xcb:
		u, err := r.uint(8)
		return value{kind: kFloat, f: math.Float64frombits(u), bits: 64}, err
	case 0xcc, 0xcd, 0xce, 0xcf:
		u, err := r.uint(1 << (c - 0xcc))
		if u > math.MaxInt64 {
			return value{kind: kUint, u: u}, err
		}
		return value{kind: kInt, i: int64(u)}, err
	case 0xd0:
		u, err := r.uint(1)
		return value{kind: kInt, i: int64(int8(u))}, err
	case 0xd1:
		u, err := r.uint(2)
		return value{kind: kInt, i: int64(int16(u))}, err
	case 0xd2:
		u, err := r.uint(4)
		return value{kind: kInt, i: int64(int32(u))}, err
	case 0xd3:
		u, err := r.uint(8)
		return value{kind: kInt, i: int64(u)}, err
	case 0xdc:
		n, err := r.uint(2)
		if err != nil {
			return value{}, err
		}
		return r.container(kArray, n)
	case 0xdd:
		n, err := r.uint(4)
		if err != nil {
			return value{}, err
		}
		return r.container(kArray, n)
	case 0xde:
		n, err := r.uint(2)
		if err != nil {
			return value{}, err
		}
		return r.container(kMap, n)
	case 0xdf:
		n, err := r.uint(4)
		if err != nil {
			return value{}, err
		}
		return r.container(kMap, n)
	}
	return value{}, errBadCode
}

// str reads a fixstr or str8 (the common case, without the generality of
// next); ok is false, and nothing read, for anything else.
func (r *reader) str() ([]byte, bool) {
	if r.p >= len(r.b) {
		return nil, false
	}
	c := r.b[r.p]
	var n, h int
	switch {
	case c >= 0xa0 && c <= 0xbf:
		n, h = int(c&0x1f), 1
	case c == 0xd9 && r.p+1 < len(r.b):
		n, h = int(r.b[r.p+1]), 2
	default:
		return nil, false
	}
	if n > len(r.b)-r.p-h {
		return nil, false
	}
	s := r.b[r.p+h : r.p+h+n]
	r.p += h + n
	return s, true
}

// container checks a container's claimed length against the bytes left:
// each item takes one byte at least.
func (r *reader) container(k kind, n uint64) (value, error) {
	items := n
	if k == kMap {
		items = 2 * n
	}
	if items > uint64(len(r.b)-r.p) {
		return value{}, errShort
	}
	return value{kind: k, n: int(n)}, nil
}

func (r *reader) extension(n uint64) (value, error) {
	t, err := r.take(1)
	if err != nil {
		return value{}, err
	}
	s, err := r.take(n)
	return value{kind: kExt, ext: int8(t[0]), s: s}, err
}

// skip reads past one whole value, containers included, without
// recursion.
func (r *reader) skip() error {
	for items := uint64(1); items > 0; items-- {
		h, body, children, err := head(r.b[r.p:])
		if err != nil {
			return err
		}
		left := uint64(len(r.b) - r.p)
		if h == 0 || uint64(h)+body > left {
			return errShort
		}
		r.p += h + int(body)
		if children > left {
			return errShort
		}
		items += children
	}
	return nil
}
