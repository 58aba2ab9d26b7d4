package rawarchive

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"time"
)

// File names in a tenant's day directory.
const (
	recordsFile = "records.zst"
	indexFile   = "index"
	dayLayout   = "2006-01-02"
)

// A frame (one zstd frame in records.zst) decompresses to messages, each:
//
//	uvarint seq | uvarint n | n × (uvarint idx | uvarint len(data) | data)
//
// idx is the record's index in its bus message (tarian.idx before any
// "."); records the policy keeps out of the archive are absent.

// appendMessage appends one message's header to a frame's content.
func appendMessage(buf []byte, seq uint64, n int) []byte {
	buf = binary.AppendUvarint(buf, seq)
	return binary.AppendUvarint(buf, uint64(n))
}

// appendRecord appends one record to a frame's content.
func appendRecord(buf []byte, idx int, data []byte) []byte {
	buf = binary.AppendUvarint(buf, uint64(idx))
	buf = binary.AppendUvarint(buf, uint64(len(data)))
	return append(buf, data...)
}

var errCorrupt = errors.New("corrupt raw archive frame")

// findRecord returns the data of record idx of message seq in a frame's
// content (aliasing it), and whether it is there.
func findRecord(body []byte, seq uint64, idx int) ([]byte, bool, error) {
	next := func() (uint64, error) {
		v, k := binary.Uvarint(body)
		if k <= 0 {
			return 0, errCorrupt
		}
		body = body[k:]
		return v, nil
	}
	for len(body) > 0 {
		s, err := next()
		if err != nil {
			return nil, false, err
		}
		n, err := next()
		if err != nil {
			return nil, false, err
		}
		for range n {
			i, err := next()
			if err != nil {
				return nil, false, err
			}
			size, err := next()
			if err != nil {
				return nil, false, err
			}
			if uint64(len(body)) < size {
				return nil, false, errCorrupt
			}
			if s == seq && i == uint64(idx) {
				return body[:size:size], true, nil
			}
			body = body[size:]
		}
		if s >= seq {
			return nil, false, nil
		}
	}
	return nil, false, nil
}

// An index entry locates one message's frame in records.zst:
//
//	seq uint64 | offset uint64 | length uint32 | CRC-32C of the first 20 bytes
//
// little-endian, entryBytes long, in increasing seq order (several
// messages may share a frame).
const entryBytes = 24

type entry struct {
	seq    uint64
	offset uint64
	length uint32
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (e entry) append(buf []byte) []byte {
	buf = binary.LittleEndian.AppendUint64(buf, e.seq)
	buf = binary.LittleEndian.AppendUint64(buf, e.offset)
	buf = binary.LittleEndian.AppendUint32(buf, e.length)
	return binary.LittleEndian.AppendUint32(buf, crc32.Checksum(buf[len(buf)-20:], castagnoli))
}

var errCorruptIndex = errors.New("corrupt raw archive index entry")

func readEntry(b []byte) (entry, error) {
	if len(b) < entryBytes || crc32.Checksum(b[:20], castagnoli) != binary.LittleEndian.Uint32(b[20:24]) {
		return entry{}, errCorruptIndex
	}
	return entry{
		seq:    binary.LittleEndian.Uint64(b[0:8]),
		offset: binary.LittleEndian.Uint64(b[8:16]),
		length: binary.LittleEndian.Uint32(b[16:20]),
	}, nil
}

// dayOf is the archive day of a record received at t (UTC).
func dayOf(t time.Time) string {
	if t.IsZero() {
		t = time.Now()
	}
	return t.UTC().Format(dayLayout)
}

// validDay reports whether s names a day directory.
func validDay(s string) bool {
	d, err := time.Parse(dayLayout, s)
	return err == nil && d.Format(dayLayout) == s
}
