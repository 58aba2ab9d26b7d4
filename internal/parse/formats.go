package parse

import (
	"slices"
	"strings"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/sniff"
)

// Auto is the type that detects each record's format.
const Auto = "auto"

// FormatParser is what every format parser does (internal/parse/*): read one
// payload and append its native and ECS fields to dst, setting dst.Time when
// the payload carries the event's own time.
type FormatParser interface {
	Parse(payload []byte, dst *event.Event) error
}

// An Aliaser is a FormatParser that can also write alias layers: names
// that only repeat values the event holds under other names (Winlogbeat's
// winlog.* for Windows events). The server stores each value once and
// leaves them out; `tarian parse` and the agreement tests ask for them.
type Aliaser interface {
	SetAliases(on bool)
}

// Format is one type of record a source may declare.
type Format struct {
	// Type is the name sources and `tarian parse --type` use.
	Type string
	// Title says what it is, for `tarian parse --list`.
	Title string
	// JSON says the payload is the whole JSON record: the parser maps
	// every field itself. Otherwise the payload is the record's text (the
	// syslog message, a JSON record's message field, a raw line).
	JSON bool
	// Text says a JSON format also reads text payloads (Windows events as
	// XML in a syslog message or a file's line).
	Text bool
	// New returns a parser; each goroutine has its own.
	New func() FormatParser
	// Sniff reports whether a text payload looks like this format, for
	// detection; SniffJSON whether a JSON object does, from its strings
	// (read once for every JSON format's sniffer). A format with neither
	// is never detected (declared only).
	Sniff     func(payload []byte) bool
	SniffJSON func(j *sniff.JSON) bool
	// SniffApp, when set, reports whether a text record's syslog app
	// name (log.syslog.appname, from the envelope) names a program of
	// this format: once the envelope has taken the header off, the
	// message alone may not say ("sudo:", "useradd[1]:" are gone).
	SniffApp func(app string) bool
	// Lead, when set, is how every payload of this format and of no other
	// begins (after white space): detection takes such a payload at once,
	// before any sniffer scans it.
	Lead string
	// Split, when set, cuts a payload holding a batch of records (an Event
	// Hub {"records":[...]}, a JSON array) into records.
	Split func(payload []byte) ([][]byte, error)
}

// lookup returns the format called typ, or nil.
func lookup(typ string) *Format {
	for _, f := range formats {
		if f.Type == typ {
			return f
		}
	}
	return nil
}

// Types returns the known type names, sorted.
func Types() []string {
	var ts []string
	for _, f := range formats {
		ts = append(ts, f.Type)
	}
	slices.Sort(ts)
	return ts
}

// Formats returns the known formats, sorted by type.
func Formats() []Format {
	out := make([]Format, 0, len(formats))
	for _, f := range formats {
		out = append(out, *f)
	}
	slices.SortFunc(out, func(a, b Format) int { return strings.Compare(a.Type, b.Type) })
	return out
}
