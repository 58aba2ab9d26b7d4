// Package event holds the data model every stage of the pipeline speaks: a
// Raw record as a receiver accepted it, and an Event parsed from it, ready to
// store, detect on and search.
package event

import "time"

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
