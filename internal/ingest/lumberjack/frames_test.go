package lumberjack

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"
)

// The test's own Lumberjack v2 writer, for frames a well-behaved client
// never sends.

func windowFrame(n uint32) []byte { return binary.BigEndian.AppendUint32([]byte("2W"), n) }

func jsonFrame(seq uint32, payload string) []byte {
	b := binary.BigEndian.AppendUint32([]byte("2J"), seq)
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	return append(b, payload...)
}

// compressedFrame wraps frames in a 2C frame.
func compressedFrame(frames ...[]byte) []byte {
	var z bytes.Buffer
	w, _ := zlib.NewWriterLevel(&z, 3)
	for _, f := range frames {
		w.Write(f)
	}
	w.Close()
	return compressedRaw(z.Bytes())
}

// compressedRaw is a 2C frame around payload as given.
func compressedRaw(payload []byte) []byte {
	b := binary.BigEndian.AppendUint32([]byte("2C"), uint32(len(payload)))
	return append(b, payload...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// rawConn is a plain TCP connection to a listener that sends frames and
// reads ACKs.
type rawConn struct {
	t testing.TB
	net.Conn
}

func dialRaw(t testing.TB, addr net.Addr) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, Conn: c}
}

func (c *rawConn) send(b []byte) {
	c.t.Helper()
	if _, err := c.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// ack reads the next ACK within d; ok is false on a timeout, err set when
// the connection ended.
func (c *rawConn) ack(d time.Duration) (seq uint32, ok bool, err error) {
	c.t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	var b [6]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		if ne, isNet := err.(net.Error); isNet && ne.Timeout() {
			return 0, false, nil
		}
		return 0, false, err
	}
	if b[0] != '2' || b[1] != 'A' {
		c.t.Fatalf("not an ACK frame: %q", b)
	}
	return binary.BigEndian.Uint32(b[2:]), true, nil
}

// acks reads ACKs until the connection ends or nothing comes for d.
func (c *rawConn) acks(d time.Duration) (seqs []uint32, closed bool) {
	c.t.Helper()
	for {
		seq, ok, err := c.ack(d)
		if err != nil {
			return seqs, true
		}
		if !ok {
			return seqs, false
		}
		seqs = append(seqs, seq)
	}
}
