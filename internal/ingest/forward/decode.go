package forward

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/ingest/jsonstr"
)

// Names of the keys the receiver adds to each record's JSON.
const (
	// KeyTimestamp holds the event time (RFC 3339, UTC, nanoseconds).
	KeyTimestamp = "@timestamp"
	// KeyTag holds the Forward tag.
	KeyTag = "fluent.tag"
	// KeyMetadata holds Fluent Bit's per-event metadata map, when not empty.
	KeyMetadata = "fluent.metadata"
)

// maxChunkBytes bounds the chunk option (an acknowledgement id; clients
// send base64 of 16 random bytes).
const maxChunkBytes = 1024

// lastSecond is 9999-12-31T23:59:59Z: later times have no RFC 3339 form.
const lastSecond = 253402300799

// ProtocolError is a message the receiver cannot take as the Forward
// protocol: the connection is closed after it.
type ProtocolError struct{ Reason string }

func (e *ProtocolError) Error() string { return e.Reason }

func protoErr(format string, args ...any) error {
	return &ProtocolError{Reason: fmt.Sprintf(format, args...)}
}

// batch is what a connection has decoded and not yet written.
type batch struct {
	recs  []event.Raw
	dead  []ingest.DeadLetter
	arena []byte
	// acks are the chunk ids to acknowledge once the batch is durable.
	acks [][]byte
	// chunks are the runs of recs that came in a message with a chunk
	// id: each is written under its own key, so a sender's resend of
	// the chunk (its acknowledgement lost) is stored once.
	chunks []chunkRun
	first  time.Time
}

// chunkRun is recs[start:end], the records of chunk id.
type chunkRun struct {
	start, end int
	id         string
}

func (b *batch) empty() bool { return len(b.recs) == 0 && len(b.dead) == 0 && len(b.acks) == 0 }

// decoder turns Forward messages into records. It keeps buffers between
// messages and is used by one connection at a time.
type decoder struct {
	maxRecord       int
	maxDecompressed int
	gz              *gzip.Reader
	inflated        []byte
	entries         scanner
	// now is the receive time of the message being decoded.
	now time.Time
	// The last second formatted, "2006-01-02T15:04:05", as events of a
	// batch mostly share their second.
	sec    int64
	secFmt []byte
}

func newDecoder(c Config) *decoder {
	return &decoder{maxRecord: c.MaxRecordBytes, maxDecompressed: c.MaxDecompressedBytes}
}

// decode reads one complete Forward message, adds its records and dead
// letters to b, and returns its chunk id (nil without one). A
// *ProtocolError means the message is not the Forward protocol; nothing of
// it was added.
func (d *decoder) decode(b *batch, msg []byte, now time.Time) ([]byte, error) {
	d.now = now
	start := len(b.recs)
	r := reader{b: msg}
	v, err := r.next()
	if err != nil {
		return nil, protoErr("message: %v", err)
	}
	if v.kind == kNil {
		return nil, nil // the grammar allows nil requests
	}
	if v.kind != kArray {
		return nil, protoErr("message is a %s, not an array", v.kind)
	}
	if v.n < 2 || v.n > 4 {
		return nil, protoErr("message is an array of %d items, not 2 to 4", v.n)
	}
	n := v.n
	tv, err := r.next()
	if err != nil {
		return nil, protoErr("tag: %v", err)
	}
	if tv.kind != kStr && tv.kind != kBin {
		return nil, protoErr("tag is a %s, not a string", tv.kind)
	}
	tag := tv.s
	// Where the second item starts, and what it is, decides the mode.
	second := r.p
	sv, err := r.next()
	if err != nil {
		return nil, protoErr("message: %v", err)
	}
	r.p = second
	var mode string
	switch sv.kind {
	case kStr, kBin:
		mode = "PackedForward"
	case kArray:
		// Forward mode's entries, or Fluent Bit's [EventTime, metadata] in
		// Message mode: entries hold arrays, a time does not.
		mode = "Forward"
		if n == 4 {
			mode = "Message"
		} else if n == 3 && sv.n > 0 {
			r.p = second
			r.next() // the array header, read above
			if first, err := r.next(); err == nil && first.kind != kArray {
				mode = "Message"
			}
			r.p = second
		}
	default:
		mode = "Message"
	}
	if mode == "Message" && n < 3 {
		return nil, protoErr("Message mode needs [tag, time, record], got %d items", n)
	}
	if mode != "Message" && n > 3 {
		return nil, protoErr("%s mode has [tag, entries, option], got %d items", mode, n)
	}
	// Find the option (the last item after the entries or the record).
	body := r.p
	skip := 1
	if mode == "Message" {
		skip = 2
	}
	for range skip {
		if err := r.skip(); err != nil {
			return nil, protoErr("message: %v", err)
		}
	}
	bodyEnd := r.p
	var chunk []byte
	compressed := false
	if r.p < len(msg) && n > skip+1 {
		chunk, compressed, err = option(&r)
		if err != nil {
			return nil, err
		}
	}
	if r.p != len(msg) {
		return nil, protoErr("message: %d bytes after its last item", len(msg)-r.p)
	}
	if compressed && mode != "PackedForward" {
		return nil, protoErr("compressed option on a %s mode message", mode)
	}
	switch mode {
	case "Message":
		d.entry(b, tag, msg[body:bodyEnd], msg, 0)
	case "Forward":
		er := reader{b: msg[body:bodyEnd]}
		ev, _ := er.next() // checked above
		for i := range ev.n {
			start := er.p
			if err := er.skip(); err != nil {
				d.dead(b, er.b[start:], fmt.Sprintf("entry %d: %v (the rest of the entries kept here)", i, err))
				break
			}
			e := er.b[start:er.p]
			d.entryArray(b, tag, e, i)
		}
	case "PackedForward":
		sr := reader{b: msg[body:bodyEnd]}
		sv, _ := sr.next()
		stream := sv.s
		if compressed {
			if stream, err = d.inflate(stream); err != nil {
				return nil, protoErr("CompressedPackedForward: %v", err)
			}
		}
		d.stream(b, tag, stream)
	}
	// Only now, once nothing can refuse the message any more: a refused
	// message (a broken or oversized gzip stream) must not be acknowledged,
	// or the sender would drop a chunk only the first bytes of which are
	// dead-lettered.
	if chunk != nil {
		chunk = bytes.Clone(chunk) // msg is the connection's read buffer
		b.acks = append(b.acks, chunk)
		if len(b.recs) > start {
			b.chunks = append(b.chunks, chunkRun{start: start, end: len(b.recs), id: string(chunk)})
		}
	}
	return chunk, nil
}

// option reads the option map: its chunk id and whether the entries are
// gzip-compressed.
func option(r *reader) (chunk []byte, gz bool, err error) {
	v, err := r.next()
	if err != nil {
		return nil, false, protoErr("option: %v", err)
	}
	if v.kind == kNil {
		return nil, false, nil
	}
	if v.kind != kMap {
		return nil, false, protoErr("option is a %s, not a map", v.kind)
	}
	for range v.n {
		k, err := r.next()
		if err != nil {
			return nil, false, protoErr("option: %v", err)
		}
		if k.kind != kStr && k.kind != kBin {
			if err := r.skip(); err != nil {
				return nil, false, protoErr("option: %v", err)
			}
			continue
		}
		switch string(k.s) {
		case "chunk":
			c, err := r.next()
			if err != nil {
				return nil, false, protoErr("option chunk: %v", err)
			}
			if c.kind != kStr && c.kind != kBin {
				return nil, false, protoErr("option chunk is a %s, not a string", c.kind)
			}
			if len(c.s) == 0 || len(c.s) > maxChunkBytes {
				return nil, false, protoErr("option chunk of %d bytes (1 to %d allowed)", len(c.s), maxChunkBytes)
			}
			chunk = c.s
		case "compressed":
			c, err := r.next()
			if err != nil {
				return nil, false, protoErr("option compressed: %v", err)
			}
			switch {
			case c.kind == kNil:
			case (c.kind == kStr || c.kind == kBin) && string(c.s) == "gzip":
				gz = true
			case (c.kind == kStr || c.kind == kBin) && string(c.s) == "text":
				// fluent-logger (npm) says so of uncompressed entries.
			default:
				return nil, false, protoErr("option compressed %q is not gzip", c.s)
			}
		default:
			// size (a count, or a byte size from fluent-logger for node)
			// and anything else: not needed.
			if err := r.skip(); err != nil {
				return nil, false, protoErr("option: %v", err)
			}
		}
	}
	return chunk, gz, nil
}

// inflate gunzips p (one or more gzip members) up to maxDecompressed.
func (d *decoder) inflate(p []byte) ([]byte, error) {
	var err error
	if d.gz == nil {
		d.gz, err = gzip.NewReader(bytes.NewReader(p))
	} else {
		err = d.gz.Reset(bytes.NewReader(p))
	}
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	buf := bytes.NewBuffer(d.inflated[:0])
	n, err := io.Copy(buf, io.LimitReader(d.gz, int64(d.maxDecompressed)+1))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if n > int64(d.maxDecompressed) {
		return nil, fmt.Errorf("inflates to more than max_decompressed_bytes (%d)", d.maxDecompressed)
	}
	d.inflated = buf.Bytes()
	if cap(d.inflated) > 4<<20 {
		// Do not keep a large buffer for the next message.
		out := d.inflated
		d.inflated = nil
		return out, nil
	}
	return d.inflated, nil
}

// stream reads a MessagePack event stream (PackedForward entries one
// after another). A broken stream dead-letters what is left of it.
func (d *decoder) stream(b *batch, tag, s []byte) {
	d.entries.max = len(s)
	for i := 0; len(s) > 0; i++ {
		d.entries.reset()
		n, err := d.entries.scan(s)
		if err == nil && n == 0 {
			err = errShort
		}
		if err != nil {
			d.dead(b, s, fmt.Sprintf("entry %d: event stream: %v (the rest of the stream, %d bytes, kept here)", i, err, len(s)))
			return
		}
		d.entryArray(b, tag, s[:n], i)
		s = s[n:]
	}
}

// entryArray reads one [time, record] entry.
func (d *decoder) entryArray(b *batch, tag, e []byte, i int) {
	r := reader{b: e}
	v, err := r.next()
	if err != nil || v.kind != kArray || v.n != 2 {
		what := "not an array"
		if err != nil {
			what = err.Error()
		} else if v.kind == kArray {
			what = fmt.Sprintf("an array of %d items", v.n)
		}
		d.dead(b, e, fmt.Sprintf("entry %d: %s, not [time, record]", i, what))
		return
	}
	d.entry(b, tag, e[r.p:], e, i)
}

// entry reads time and record from tr and adds the record, or a dead
// letter of raw.
func (d *decoder) entry(b *batch, tag, tr, raw []byte, i int) {
	r := reader{b: tr}
	t, meta, err := d.eventTime(&r)
	if err != nil {
		d.dead(b, raw, fmt.Sprintf("entry %d: time: %v", i, err))
		return
	}
	if b.empty() {
		b.first = d.now
	}
	if cap(b.arena)-len(b.arena) < 4<<10 {
		// Records keep pointing into the old arena; start a new one.
		b.arena = make([]byte, 0, 256<<10)
	}
	off := len(b.arena)
	out, err := d.record(b.arena, &r, tag, t, meta)
	if err == nil && len(out)-off > d.maxRecord {
		err = fmt.Errorf("record of %d bytes as JSON is over the %d-byte limit", len(out)-off, d.maxRecord)
	}
	if err != nil {
		b.arena = out[:off]
		d.dead(b, raw, fmt.Sprintf("entry %d: %v", i, err))
		return
	}
	b.arena = out
	b.recs = append(b.recs, event.Raw{Received: d.now, Source: Source, Data: out[off:len(out):len(out)]})
}

// dead adds raw as a dead letter (its first maxRecord bytes).
func (d *decoder) dead(b *batch, raw []byte, reason string) {
	if b.empty() {
		b.first = d.now
	}
	if len(raw) > d.maxRecord {
		reason += fmt.Sprintf(" (first %d of %d bytes kept)", d.maxRecord, len(raw))
		raw = raw[:d.maxRecord]
	}
	b.dead = append(b.dead, ingest.DeadLetter{Received: d.now, Source: Source, Reason: reason, Data: bytes.Clone(raw)})
}

// eventTime reads a Forward time: seconds (integer, or float), an EventTime
// (extension 0), or Fluent Bit's [EventTime, metadata]. Nil and 0 mean the
// receive time, as Fluentd takes them. It returns the metadata map's bytes
// when there is one with entries.
func (d *decoder) eventTime(r *reader) (time.Time, []byte, error) {
	v, err := r.next()
	if err != nil {
		return time.Time{}, nil, err
	}
	var meta []byte
	if v.kind == kArray {
		if v.n < 1 || v.n > 2 {
			return time.Time{}, nil, fmt.Errorf("an array of %d items, not [time, metadata]", v.n)
		}
		n := v.n
		if v, err = r.next(); err != nil {
			return time.Time{}, nil, err
		}
		if v.kind == kArray {
			return time.Time{}, nil, errors.New("nested time arrays")
		}
		if n == 2 {
			start := r.p
			m, err := r.next()
			if err != nil {
				return time.Time{}, nil, err
			}
			if m.kind != kMap && m.kind != kNil {
				return time.Time{}, nil, fmt.Errorf("metadata is a %s, not a map", m.kind)
			}
			r.p = start
			if err := r.skip(); err != nil {
				return time.Time{}, nil, err
			}
			if m.kind == kMap && m.n > 0 {
				meta = r.b[start:r.p]
			}
		}
	}
	t, err := d.timeOf(v)
	return t, meta, err
}

func (d *decoder) timeOf(v value) (time.Time, error) {
	switch v.kind {
	case kNil:
		return d.now, nil
	case kInt:
		if v.i == 0 {
			return d.now, nil
		}
		if v.i < 0 || v.i > lastSecond {
			return time.Time{}, fmt.Errorf("%d seconds is out of range", v.i)
		}
		return time.Unix(v.i, 0).UTC(), nil
	case kFloat:
		if math.IsNaN(v.f) || v.f < 0 || v.f > lastSecond {
			return time.Time{}, fmt.Errorf("%v seconds is out of range", v.f)
		}
		if v.f == 0 {
			return d.now, nil
		}
		sec, frac := math.Modf(v.f)
		return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
	case kExt:
		if v.ext != 0 || len(v.s) != 8 {
			return time.Time{}, fmt.Errorf("extension type %d of %d bytes is not an EventTime (type 0, 8 bytes)", v.ext, len(v.s))
		}
		return eventTime(v.s)
	}
	return time.Time{}, fmt.Errorf("a %s is not a time", v.kind)
}

// eventTime decodes an EventTime: big-endian seconds and nanoseconds.
func eventTime(p []byte) (time.Time, error) {
	sec, nsec := binary.BigEndian.Uint32(p), binary.BigEndian.Uint32(p[4:])
	if nsec >= 1e9 {
		return time.Time{}, fmt.Errorf("EventTime with %d nanoseconds", nsec)
	}
	return time.Unix(int64(sec), int64(nsec)).UTC(), nil
}

// record appends the record at r as one JSON object: its own keys, then
// @timestamp, fluent.tag and fluent.metadata unless the record has a key
// of that name itself (the record's own value is kept).
func (d *decoder) record(dst []byte, r *reader, tag []byte, t time.Time, meta []byte) ([]byte, error) {
	v, err := r.next()
	if err != nil {
		return dst, fmt.Errorf("record: %w", err)
	}
	if v.kind != kMap {
		return dst, fmt.Errorf("record is a %s, not a map", v.kind)
	}
	dst = append(dst, '{')
	var haveTime, haveTag, haveMeta bool
	for i := range v.n {
		if i > 0 {
			dst = append(dst, ',')
		}
		kstart := len(dst)
		if dst, err = appendKey(dst, r); err != nil {
			return dst, fmt.Errorf("record key %d: %w", i, err)
		}
		switch string(dst[kstart:]) {
		case `"` + KeyTimestamp + `"`:
			haveTime = true
		case `"` + KeyTag + `"`:
			haveTag = true
		case `"` + KeyMetadata + `"`:
			haveMeta = true
		}
		kend := len(dst)
		dst = append(dst, ':')
		if dst, err = appendValue(dst, r, 2); err != nil {
			return dst, fmt.Errorf("value of %s: %w", dst[kstart:kend], err)
		}
	}
	if r.p != len(r.b) {
		return dst, fmt.Errorf("%d bytes after the record", len(r.b)-r.p)
	}
	sep := func() {
		if dst[len(dst)-1] != '{' {
			dst = append(dst, ',')
		}
	}
	if !haveTime {
		sep()
		dst = append(dst, `"`+KeyTimestamp+`":"`...)
		dst = d.appendTime(dst, t)
		dst = append(dst, '"')
	}
	if !haveTag {
		sep()
		dst = append(dst, `"`+KeyTag+`":`...)
		dst = appendString(dst, tag)
	}
	if meta != nil && !haveMeta {
		sep()
		dst = append(dst, `"`+KeyMetadata+`":`...)
		mr := reader{b: meta}
		if dst, err = appendValue(dst, &mr, 2); err != nil {
			return dst, fmt.Errorf("metadata: %w", err)
		}
	}
	return append(dst, '}'), nil
}

// appendTime appends t (UTC) as RFC 3339 with nanoseconds, trailing
// zeros trimmed, as time.RFC3339Nano formats it.
func (d *decoder) appendTime(dst []byte, t time.Time) []byte {
	if sec := t.Unix(); sec != d.sec || d.secFmt == nil {
		d.sec, d.secFmt = sec, t.AppendFormat(d.secFmt[:0], "2006-01-02T15:04:05")
	}
	dst = append(dst, d.secFmt...)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		dst = append(dst, frac[:n]...)
	}
	return append(dst, 'Z')
}

// appendKey appends a map key as a JSON string: strings as they are,
// integers in decimal.
func appendKey(dst []byte, r *reader) ([]byte, error) {
	if s, ok := r.str(); ok {
		return appendString(dst, s), nil
	}
	k, err := r.next()
	if err != nil {
		return dst, err
	}
	switch k.kind {
	case kStr, kBin:
		return appendString(dst, k.s), nil
	case kInt:
		dst = append(dst, '"')
		dst = strconv.AppendInt(dst, k.i, 10)
		return append(dst, '"'), nil
	case kUint:
		dst = append(dst, '"')
		dst = strconv.AppendUint(dst, k.u, 10)
		return append(dst, '"'), nil
	}
	return dst, fmt.Errorf("a %s key cannot be a JSON key", k.kind)
}

// appendValue appends the value at r as JSON.
func appendValue(dst []byte, r *reader, depth int) ([]byte, error) {
	if depth > maxDepth {
		return dst, errTooDeep
	}
	if s, ok := r.str(); ok {
		return appendString(dst, s), nil
	}
	v, err := r.next()
	if err != nil {
		return dst, err
	}
	switch v.kind {
	case kNil:
		return append(dst, "null"...), nil
	case kBool:
		return strconv.AppendBool(dst, v.b), nil
	case kInt:
		return strconv.AppendInt(dst, v.i, 10), nil
	case kUint:
		return strconv.AppendUint(dst, v.u, 10), nil
	case kFloat:
		return appendFloat(dst, v.f, v.bits)
	case kStr, kBin:
		return appendString(dst, v.s), nil
	case kArray:
		dst = append(dst, '[')
		for i := range v.n {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendValue(dst, r, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case kMap:
		dst = append(dst, '{')
		for i := range v.n {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendKey(dst, r); err != nil {
				return dst, err
			}
			dst = append(dst, ':')
			if dst, err = appendValue(dst, r, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case kExt:
		t, ok := extTime(v)
		if !ok {
			return dst, fmt.Errorf("extension type %d (%d bytes) cannot be JSON", v.ext, len(v.s))
		}
		dst = append(dst, '"')
		dst = t.AppendFormat(dst, time.RFC3339Nano)
		return append(dst, '"'), nil
	}
	return dst, fmt.Errorf("BUG: kind %d not handled", v.kind)
}

// extTime reads the time extensions a record may hold: Fluentd's
// EventTime (type 0) and MessagePack's timestamp (type -1).
func extTime(v value) (time.Time, bool) {
	var t time.Time
	switch {
	case v.ext == 0 && len(v.s) == 8:
		var err error
		if t, err = eventTime(v.s); err != nil {
			return t, false
		}
	case v.ext == -1 && len(v.s) == 4:
		t = time.Unix(int64(binary.BigEndian.Uint32(v.s)), 0)
	case v.ext == -1 && len(v.s) == 8:
		x := binary.BigEndian.Uint64(v.s)
		nsec, sec := x>>34, x&(1<<34-1)
		if nsec >= 1e9 {
			return t, false
		}
		t = time.Unix(int64(sec), int64(nsec))
	case v.ext == -1 && len(v.s) == 12:
		nsec, sec := binary.BigEndian.Uint32(v.s), int64(binary.BigEndian.Uint64(v.s[4:]))
		if nsec >= 1e9 {
			return t, false
		}
		t = time.Unix(sec, int64(nsec))
	default:
		return t, false
	}
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return t, false
	}
	return t.UTC(), true
}

// appendFloat appends f as a JSON number, as encoding/json writes it.
func appendFloat(dst []byte, f float64, bits int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, fmt.Errorf("float %v cannot be JSON", f)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		format = 'e'
	}
	return strconv.AppendFloat(dst, f, format, -1, bits), nil
}

// appendString appends s as a JSON string (jsonstr.AppendBytes).
func appendString(dst, s []byte) []byte {
	dst, _ = jsonstr.AppendBytes(dst, s)
	return dst
}
