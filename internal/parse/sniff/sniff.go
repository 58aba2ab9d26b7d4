// Package sniff reads a JSON record's strings once, for format detection.
//
// Each JSON format tells its records by the keys and values they carry
// ("signInActivity", "EventID" with "Channel", ...). Asking the record for
// each of them with bytes.Contains scans it once per question, about
// fifteen scans of a 1 KB record before a Windows event is known as one;
// a JSON's strings are read here once, and each question is answered from
// that list.
package sniff

import "bytes"

// JSON is the strings of one JSON text, keys and values alike, as written
// between their quotes (escapes are not decoded). The zero value is empty;
// Reset reuses its memory.
type JSON struct {
	b    []byte
	strs []span
}

// span is one string: b[start:end], and its length and first byte packed
// as a key that rejects most others at once.
type span struct {
	start, end int32
	key        uint32
}

func spanKey(n int, first byte) uint32 { return uint32(n)<<8 | uint32(first) }

// Reset reads the strings of b, which must not change while j is used.
// Text that is not JSON is read as far as it goes: an unterminated string
// runs to the end.
func (j *JSON) Reset(b []byte) {
	j.b, j.strs = b, j.strs[:0]
	for i := 0; i < len(b); {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			break
		}
		start := i + q + 1
		end := closing(b, start)
		var first byte
		if end > start {
			first = b[start]
		}
		j.strs = append(j.strs, span{start: int32(start), end: int32(end), key: spanKey(end-start, first)})
		i = end + 1
	}
}

// Of returns the strings of b (tests and one-off callers; a detector
// reuses one JSON with Reset).
func Of(b []byte) *JSON {
	var j JSON
	j.Reset(b)
	return &j
}

// closing returns the index of the quote that ends the string starting
// at start, or len(b).
func closing(b []byte, start int) int {
	for i := start; i < len(b); {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return len(b)
		}
		end := i + q
		// Escaped when an odd number of backslashes precede it.
		n := 0
		for k := end - 1; k >= start && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return end
		}
		i = end + 1
	}
	return len(b)
}

// Has reports whether one of the strings is s.
func (j *JSON) Has(s string) bool {
	if s == "" {
		return false
	}
	k := spanKey(len(s), s[0])
	for _, sp := range j.strs {
		if sp.key == k && string(j.b[sp.start:sp.end]) == s {
			return true
		}
	}
	return false
}

// HasPrefix reports whether one of the strings begins with p.
func (j *JSON) HasPrefix(p string) bool {
	for _, sp := range j.strs {
		if int(sp.end-sp.start) >= len(p) && string(j.b[sp.start:int(sp.start)+len(p)]) == p {
			return true
		}
	}
	return false
}

// HasSuffix reports whether one of the strings ends with s.
func (j *JSON) HasSuffix(s string) bool {
	for _, sp := range j.strs {
		if int(sp.end-sp.start) >= len(s) && string(j.b[int(sp.end)-len(s):sp.end]) == s {
			return true
		}
	}
	return false
}

// Text reports whether a text payload (a syslog message, a file shipper's
// line sent as text) is a JSON object that sniffJSON takes: how a JSON
// format also recognises its records sent as text.
func Text(payload []byte, sniffJSON func(*JSON) bool) bool {
	i := 0
	for i < len(payload) && (payload[i] == ' ' || payload[i] == '\t') {
		i++
	}
	return i < len(payload) && payload[i] == '{' && sniffJSON(Of(payload))
}
