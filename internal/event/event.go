// Package event holds the data model every stage of the pipeline speaks: a
// Raw record as a receiver accepted it, and an Event parsed from it, ready to
// store, detect on and search.
package event

import (
	"crypto/sha256"
	"encoding/hex"
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
	// Source is the receiver's Kind, then, for a receiver that knows its
	// records' type (a cloud poller), a slash and the type:
	// "syslog", "poller/entra-signin".
	Source string
	// Data is the record's bytes: for JSON receivers one JSON object.
	Data []byte
}

// Kind is the receiver a record came through, and so how its bytes are
// framed: a syslog message, an HEC envelope, or (every other kind) one
// JSON object. Each receiver sets its own on its records (Raw.Source);
// log sources name it (sources[].receiver).
type Kind string

// The receivers' kinds.
const (
	KindHTTP          Kind = "http"
	KindSyslog        Kind = "syslog"
	KindHEC           Kind = "hec"
	KindElasticsearch Kind = "elasticsearch"
	KindOTLP          Kind = "otlp"
	KindLumberjack    Kind = "lumberjack"
	KindForward       Kind = "forward"
	KindPoller        Kind = "poller"
)

// Kinds lists every kind.
func Kinds() []Kind {
	return []Kind{KindHTTP, KindSyslog, KindHEC, KindElasticsearch, KindOTLP, KindLumberjack, KindForward, KindPoller}
}

// Kind is the kind of receiver r came through: Source up to a slash.
func (r Raw) Kind() Kind {
	k, _, _ := strings.Cut(r.Source, "/")
	return Kind(k)
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
	// FieldHash is the hash of the raw record the event came from (see
	// Hash), kept on every event whether or not the record itself is.
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

// Hash is event.hash of a raw record: its SHA-256 truncated to 128 bits
// (as NIST SP 800-107 allows), in hex — what `sha256sum | cut -c1-32`
// prints. 128 bits keep forging a record with the same hash out of reach
// (second preimage) at half the store's cost of the whole digest, which is
// incompressible and on every event.
func Hash(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:16])
}
