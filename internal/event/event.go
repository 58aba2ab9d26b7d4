// Package event holds the data model every stage of the pipeline speaks: a
// Raw record as a receiver accepted it, and an Event parsed from it, ready to
// store, detect on and search.
package event

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Raw is one record as a receiver accepted it, before any parsing. Receivers
// do framing and authentication only; parsing happens after the bus.
type Raw struct {
	// Received is when the receiver accepted the record.
	Received time.Time
	// Source names the receiver and log source, e.g. "http".
	Source string
	// Data is the record's bytes: for JSON receivers one JSON object.
	Data []byte
}

// Field is one named value of an event. Names are flat and dotted
// ("user.name"); nested objects are flattened on parse.
type Field struct {
	Name  string
	Value string
}

// Names of fields with a fixed meaning in every stored event (Elastic Common
// Schema names).
const (
	FieldTimestamp = "@timestamp"
	FieldMessage   = "message"
	FieldOriginal  = "event.original"
	FieldIngested  = "event.ingested"
	// FieldHash is the SHA-256 (hex) of the raw record the event came
	// from, kept on every event whether or not the record itself is.
	FieldHash = "event.hash"
	// FieldSeq and FieldIdx are the event's bus position (Ref.Seq and
	// Ref.Index), which makes the store idempotent and alerts traceable.
	FieldSeq = "tarian.seq"
	FieldIdx = "tarian.idx"
)

// Event is one parsed event.
type Event struct {
	// Time is the event's own time (@timestamp), or the receive time when
	// the record carries none.
	Time time.Time
	// Fields holds every other field, message and event.original included.
	Fields []Field
}

// Get returns the value of the first field called name.
func (e *Event) Get(name string) (string, bool) {
	for _, f := range e.Fields {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

// Ref is an event's position on the bus: the stream sequence of its
// message, the record's index in the message, and, for a record that holds
// several events (a batch record), the event's index in the record.
type Ref struct {
	Seq uint64
	Idx int
	Sub int
}

// Index is the record and event part of r: "3", or "3.1" for the second
// event of record 3.
func (r Ref) Index() string {
	s := strconv.Itoa(r.Idx)
	if r.Sub > 0 {
		s += "." + strconv.Itoa(r.Sub)
	}
	return s
}

// String is r as alerts name their event: "SEQ:INDEX".
func (r Ref) String() string { return strconv.FormatUint(r.Seq, 10) + ":" + r.Index() }

// ParseRef reads a reference written by String.
func ParseRef(s string) (Ref, error) {
	seq, idx, ok := strings.Cut(s, ":")
	if !ok {
		return Ref{}, fmt.Errorf("event reference %q: want SEQ:INDEX", s)
	}
	var r Ref
	var err error
	if r.Seq, err = strconv.ParseUint(seq, 10, 64); err != nil {
		return Ref{}, fmt.Errorf("event reference %q: bad sequence", s)
	}
	if r.Idx, r.Sub, err = ParseIndex(idx); err != nil {
		return Ref{}, fmt.Errorf("event reference %q: %w", s, err)
	}
	return r, nil
}

// ParseIndex reads an index written by Ref.Index.
func ParseIndex(s string) (idx, sub int, err error) {
	i, j, batch := strings.Cut(s, ".")
	if idx, err = strconv.Atoi(i); err != nil || idx < 0 {
		return 0, 0, fmt.Errorf("bad record index %q", s)
	}
	if batch {
		if sub, err = strconv.Atoi(j); err != nil || sub < 1 {
			return 0, 0, fmt.Errorf("bad event index %q", s)
		}
	}
	return idx, sub, nil
}
