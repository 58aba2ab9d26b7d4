package parse

import (
	"errors"
	"fmt"
	"hash/maphash"
	"path"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/envelope"
	"github.com/tarian-soc/tarian/internal/parse/sniff"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Fields the pipeline adds to every event.
const (
	FieldType     = "tarian.source.type"     // the format the record was parsed as
	FieldName     = "tarian.source.name"     // the configured source, when one matched
	FieldDetected = "tarian.source.detected" // "true" when the type was detected, not declared
)

// Pipeline turns records into events: the receiver's envelope first (a
// syslog header, an HEC envelope, a JSON document), then the source's
// format. It is immutable and shared; each goroutine parses with its own
// Parser.
type Pipeline struct {
	sources  []source
	needHost bool
	raw      string
	aliases  bool
	// archive is Config.RawArchive; bySource is set when a source has
	// its own raw_archive.
	archive, bySource bool
	// next is the pipeline Reload put in this one's place.
	next atomic.Pointer[Pipeline]
}

// source is a Source ready to match.
type source struct {
	Source
	format *Format // nil for auto
}

// New returns the pipeline of cfg, which must be valid.
func New(cfg Config) (*Pipeline, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Pipeline{raw: cfg.Raw, aliases: cfg.Aliases, archive: cfg.RawArchive}
	if p.raw == "" {
		p.raw = RawOnParseError
	}
	for _, s := range cfg.Sources {
		s.Host, s.App = strings.ToLower(s.Host), strings.ToLower(s.App)
		p.sources = append(p.sources, source{Source: s, format: lookup(s.Type)})
		p.needHost = p.needHost || s.Host != ""
		p.bySource = p.bySource || s.RawArchive != nil
	}
	return p, nil
}

// Parser parses records; it keeps buffers and is not safe for concurrent
// use.
type Parser struct {
	p, root *Pipeline // root: the pipeline it was made of (see Reload)
	syslog  envelope.Syslog
	hec     envelope.HEC
	json    envelope.JSON
	js      fastjson.Parser
	parsers map[string]FormatParser
	seen    names // dedupe's
	scratch event.Event
	arch    event.Event // Archived's envelope
	strs    sniff.JSON  // a JSON payload's strings, for the sniffers
	// env is the event holding the envelope fields of the record being
	// parsed, whose syslog app name the sniffers may ask for (appOf).
	env *event.Event
	// hash is the record's event.hash, once computed.
	hash     string
	ingested envelope.Ingested
}

// NewParser returns a parser of p's sources.
func (p *Pipeline) NewParser() *Parser {
	return &Parser{p: p, root: p, parsers: map[string]FormatParser{}}
}

// ErrUnknownType is returned by ParseAs for a type no format has.
var ErrUnknownType = errors.New("unknown type")

// Parse turns one record of tenant t into events, appended to evs (whose
// spare capacity it reuses). Most records are one event; a batch record
// (Event Hub, a JSON array) is several. An error says why the record is not
// an event; the caller dead-letters it.
func (pp *Parser) Parse(t tenant.ID, raw event.Raw, evs []event.Event) ([]event.Event, error) {
	return pp.parse(t, raw, "", false, evs)
}

// ParseAs is Parse with the type given, whatever the sources say, for
// `tarian parse --type`; "auto" detects it. A record that is neither JSON
// nor syslog is a line of text (a file's line), where Parse refuses it.
func (pp *Parser) ParseAs(typ string, raw event.Raw, evs []event.Event) ([]event.Event, error) {
	if typ == "" {
		typ = Auto
	}
	if typ != Auto && lookup(typ) == nil {
		return evs, fmt.Errorf("%w %q (one of %s, or auto)", ErrUnknownType, typ, strings.Join(Types(), ", "))
	}
	return pp.parse("", raw, typ, true, evs)
}

// parse does Parse; typ, when set, overrides the sources; lines takes
// records that are not JSON as lines of text.
func (pp *Parser) parse(t tenant.ID, raw event.Raw, typ string, lines bool, evs []event.Event) ([]event.Event, error) {
	pp.refresh()
	start := len(evs)
	evs = grow(evs)
	ev := &evs[len(evs)-1]
	ev.Fields, ev.Time = ev.Fields[:0], time.Time{}
	pp.env, pp.hash = ev, ""
	var (
		src      *source
		f        *Format
		detected bool
		payload  []byte
		// text says payload is the record's text, its message field (a
		// syslog message, a file's line, a shipper's message).
		text bool
		err  error
	)
	// A receiver that knows its records' type (a cloud poller) names it
	// after a slash: "poller/entra-signin".
	receiver, hint, _ := strings.Cut(raw.Source, "/")
	pick := func(host func() string) {
		switch typ {
		case "":
			src = pp.match(t, receiver, host, ev)
			if src == nil && hint != "" && lookup(hint) != nil {
				src = &source{Source: Source{Type: hint}, format: lookup(hint)}
			}
		case Auto:
		default:
			src = &source{Source: Source{Type: typ}, format: lookup(typ)}
		}
		if src != nil {
			f = src.format
		}
	}
	jsonRecord := receiver != "syslog" && receiver != "hec" && isObject(raw.Data)
	if jsonRecord {
		// Choose the format before flattening: a JSON format maps the
		// whole document itself.
		pick(func() string { return pp.jsonHost(raw.Data) })
		if f == nil {
			f, detected = pp.detect(raw.Data, true), true
		}
		if f != nil && f.JSON {
			payload = raw.Data
		} else {
			if err := pp.json.Parse(raw, ev); err != nil {
				return evs[:start], err
			}
			if receiver == "otlp" {
				envelope.OTLP(ev) // attributes at their ECS names
			}
			payload, text = pp.message(ev), true
			if f == nil {
				f = pp.detect(payload, false)
			}
		}
	} else {
		var isJSON bool
		if payload, isJSON, err = pp.envelope(raw, ev, lines); err != nil {
			return evs[:start], err
		}
		text = !isJSON
		pick(func() string { return pp.host(ev) })
		if f == nil {
			f, detected = pp.detect(payload, isJSON), true
		}
		if f == nil && isJSON {
			if f = pp.detect(pp.message(ev), false); f != nil {
				payload, text = pp.message(ev), true
			}
		}
		switch {
		case f == nil:
		case f.JSON && text && !f.Text:
			if !detected {
				return evs[:start], fmt.Errorf("%s: the record is not a JSON object", f.Type)
			}
			f = nil
		case !f.JSON && !text:
			payload, text = pp.message(ev), true
		}
	}
	if f == nil {
		typ := ""
		if jsonRecord && len(payload) == 0 {
			// A JSON document with no message to parse (a shipper's ECS
			// document, an application's own JSON): its fields, flattened,
			// are all there is; it is plain JSON, not unparsed.
			typ = plainJSONType
		}
		pp.finish(raw, ev, typ, src, typ != "")
		return evs, nil
	}
	if len(payload) == 0 {
		if detected {
			pp.finish(raw, ev, "", src, false)
			return evs, nil
		}
		return evs[:start], fmt.Errorf("%s: the record has no message to parse", f.Type)
	}
	records := [][]byte{payload}
	if f.Split != nil {
		if records, err = f.Split(payload); err != nil {
			return evs[:start], fmt.Errorf("%s: %w", f.Type, err)
		}
	}
	// The envelope's fields start every event of the record.
	env := append(pp.scratch.Fields[:0], ev.Fields...)
	pp.scratch.Fields = env
	envTime := ev.Time
	// A JSON format reading the record's text (JSON in a syslog message,
	// Windows XML in a file's line) maps all of it: the text is not kept
	// again as the message, only the message the record itself names.
	textAt := -1
	if text {
		textAt = slices.IndexFunc(env, func(f event.Field) bool { return f.Name == event.FieldMessage })
	}
	evs = evs[:start]
	for _, rec := range records {
		evs = grow(evs)
		ev := &evs[len(evs)-1]
		ev.Fields, ev.Time = append(ev.Fields[:0], env...), envTime
		pp.env = ev
		rf := f
		err := pp.parser(rf).Parse(rec, ev)
		for err != nil && detected {
			// A guess that does not hold: try the next format that takes
			// the record, and in the end keep the envelope's event.
			ev.Fields, ev.Time = append(ev.Fields[:0], env...), envTime
			if rf = pp.detectAfter(rf, rec); rf == nil {
				break
			}
			err = pp.parser(rf).Parse(rec, ev)
		}
		if err != nil && !detected {
			return evs[:start], fmt.Errorf("%s: %w", f.Type, err)
		}
		if rf == nil {
			pp.finish(raw, ev, "", src, false)
			continue
		}
		if len(records) > 1 {
			ev.Fields = append(ev.Fields, event.Field{Name: event.FieldOriginal, Value: string(rec)})
		}
		if rf.JSON && textAt >= 0 && ev.Fields[textAt].Name == event.FieldMessage {
			ev.Fields = slices.Delete(ev.Fields, textAt, textAt+1)
		}
		pp.finish(raw, ev, rf.Type, src, detected)
	}
	return evs, nil
}

// Archived reports whether record raw of tenant t goes to the raw archive:
// as the source it matches says (raw_archive), else as Config.RawArchive.
// Only when some source has its own raw_archive is the record's envelope
// read to match it.
func (pp *Parser) Archived(t tenant.ID, raw event.Raw) bool {
	pp.refresh()
	if !pp.p.bySource {
		return pp.p.archive
	}
	ev := &pp.arch
	ev.Fields, ev.Time = ev.Fields[:0], time.Time{}
	receiver, _, _ := strings.Cut(raw.Source, "/")
	host := func() string { return pp.jsonHost(raw.Data) }
	if receiver == "syslog" || receiver == "hec" || !isObject(raw.Data) {
		if _, _, err := pp.envelope(raw, ev, false); err != nil {
			return pp.p.archive
		}
		host = func() string { return pp.host(ev) }
	}
	if src := pp.match(t, receiver, host, ev); src != nil && src.RawArchive != nil {
		return *src.RawArchive
	}
	return pp.p.archive
}

// message returns ev's message field, the payload of text formats.
func (pp *Parser) message(ev *event.Event) []byte {
	msg, _ := ev.Get(event.FieldMessage)
	return []byte(msg)
}

func isObject(b []byte) bool {
	i := firstNonSpace(b)
	return i < len(b) && b[i] == '{'
}

// envelope parses the receiver's framing into ev and returns the payload
// a format reads, and whether it is a JSON object.
func (pp *Parser) envelope(raw event.Raw, ev *event.Event, lines bool) ([]byte, bool, error) {
	switch raw.Kind() {
	case event.KindSyslog:
		if err := pp.syslog.Parse(raw, ev); err != nil {
			return nil, false, err
		}
		msg, _ := ev.Get(event.FieldMessage)
		return []byte(msg), false, nil
	case event.KindHEC:
		if err := pp.hec.Parse(raw, ev); err != nil {
			return nil, false, err
		}
		p := pp.hec.Payload()
		return p, len(p) > 0 && p[0] == '{', nil
	}
	data := raw.Data
	if !lines {
		// Every other receiver sends JSON objects; anything else here is
		// not an event.
		if err := pp.json.Parse(raw, ev); err != nil {
			return nil, false, err
		}
		return data, true, nil
	}
	// A raw line (a file given to `tarian parse`, a plain-text receiver).
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil, false, envelope.ErrEmpty
	}
	line := strings.TrimRight(string(data), "\r\n")
	ev.Time = raw.Received
	ev.Fields = append(ev.Fields,
		event.Field{Name: event.FieldMessage, Value: line},
		event.Field{Name: event.FieldOriginal, Value: line},
		event.Field{Name: event.FieldIngested, Value: pp.ingested.Text(raw.Received)})
	return []byte(line), false, nil
}

func firstNonSpace(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// match returns the first source for the record, or nil. host is asked
// only when a source matches on it.
func (pp *Parser) match(t tenant.ID, receiver string, host func() string, ev *event.Event) *source {
	if len(pp.p.sources) == 0 {
		return nil
	}
	h, haveHost := "", false
	app, _ := ev.Get(envelope.FieldSyslogAppname)
	app = strings.ToLower(app)
	for i := range pp.p.sources {
		s := &pp.p.sources[i]
		if s.Tenant != "" && s.Tenant != string(t) || s.Receiver != "" && s.Receiver != receiver {
			continue
		}
		if s.Host != "" {
			if !haveHost {
				h, haveHost = strings.ToLower(host()), true
			}
			if ok, _ := path.Match(s.Host, h); !ok {
				continue
			}
		}
		if s.App != "" {
			if ok, _ := path.Match(s.App, app); !ok {
				continue
			}
		}
		return s
	}
	return nil
}

// hostFields are where a record names its host, in order.
var hostFields = []string{envelope.FieldSyslogHostname, "host.name", "host.hostname", "agent.hostname", "Computer", "Hostname"}

// host returns the host a parsed envelope names.
func (pp *Parser) host(ev *event.Event) string { return firstOf(ev, hostFields) }

// eventHostFields are where a parsed event names the host that sent it:
// the envelope's, then an appliance's own name (a firewall's).
var eventHostFields = append(slices.Clone(hostFields), "observer.hostname", "observer.name")

// Host returns the host a parsed event came from ("" when it names none).
func Host(ev *event.Event) string { return firstOf(ev, eventHostFields) }

// HostRank is field name's place among the fields Host reads, the first
// first (-1: not one of them), for a reader that finds the host in the
// same pass over the fields as other things.
func HostRank(name string) int {
	switch name {
	case envelope.FieldSyslogHostname:
		return 0
	case "host.name":
		return 1
	case "host.hostname":
		return 2
	case "agent.hostname":
		return 3
	case "Computer":
		return 4
	case "Hostname":
		return 5
	case "observer.hostname":
		return 6
	case "observer.name":
		return 7
	}
	return -1
}

func firstOf(ev *event.Event, names []string) string {
	for _, name := range names {
		if h, ok := ev.Get(name); ok && h != "" && h != "-" {
			return h
		}
	}
	return ""
}

// jsonHost returns the host a JSON record names, without flattening it.
func (pp *Parser) jsonHost(data []byte) string {
	v, err := pp.js.ParseBytes(data)
	if err != nil {
		return ""
	}
	for _, name := range hostFields[1:] {
		if h := v.Get(strings.Split(name, ".")...); h != nil && h.Type() == fastjson.TypeString {
			return string(h.GetStringBytes())
		}
		if h := v.Get(name); h != nil && h.Type() == fastjson.TypeString { // a flat dotted key
			return string(h.GetStringBytes())
		}
	}
	if h := v.Get("Event", "System", "Computer"); h != nil {
		return string(h.GetStringBytes())
	}
	return ""
}

// detect returns the format whose lead begins payload, else the first
// format whose sniffer takes it, or nil.
func (pp *Parser) detect(payload []byte, isJSON bool) *Format {
	lead := payload[firstNonSpace(payload):]
	for _, f := range formats {
		if f.Lead != "" && len(lead) >= len(f.Lead) && string(lead[:len(f.Lead)]) == f.Lead && (f.JSON == isJSON || f.Text && !isJSON) {
			return f
		}
	}
	return pp.sniff(nil, payload, isJSON)
}

// detectAfter returns the next format after f, in detection order, whose
// sniffer takes rec as a payload of the same kind (JSON or text), or nil.
func (pp *Parser) detectAfter(f *Format, rec []byte) *Format {
	return pp.sniff(f, rec, isObject(rec))
}

// sniff returns the first format after the format after (nil: from the
// first) whose sniffer takes payload, or nil.
func (pp *Parser) sniff(after *Format, payload []byte, isJSON bool) *Format {
	if isJSON {
		pp.strs.Reset(payload)
	}
	from := 0
	if after != nil {
		if from = slices.Index(formats, after) + 1; from == 0 {
			return nil
		}
	}
	for _, f := range formats[from:] {
		switch {
		case isJSON && f.JSON && f.SniffJSON != nil:
			if f.SniffJSON(&pp.strs) {
				return f
			}
		case !isJSON && (!f.JSON || f.Text):
			if f.Sniff != nil && f.Sniff(payload) || f.SniffApp != nil && f.SniffApp(pp.appOf()) {
				return f
			}
		}
	}
	return nil
}

// appOf returns the syslog app name of the record being parsed (the
// envelope's log.syslog.appname), or "".
func (pp *Parser) appOf() string {
	if pp.env == nil {
		return ""
	}
	app, _ := pp.env.Get(envelope.FieldSyslogAppname)
	return app
}

func (pp *Parser) parser(f *Format) FormatParser {
	p := pp.parsers[f.Type]
	if p == nil {
		p = f.New()
		if a, ok := p.(Aliaser); ok {
			a.SetAliases(pp.p.aliases)
		}
		pp.parsers[f.Type] = p
	}
	return p
}

// finish writes the pipeline's fields: @timestamp from the event time,
// event.original as the raw record policy says, event.hash (the raw
// record's, whatever the policy), event.ingested when the format left it
// out, the source's field map and type; a later field of a name replaces
// an earlier one.
func (pp *Parser) finish(raw event.Raw, ev *event.Event, typ string, src *source, detected bool) {
	if ev.Time.IsZero() {
		ev.Time = raw.Received
	}
	policy := pp.p.raw
	if src != nil && src.Raw != "" {
		policy = src.Raw
	}
	keepRaw := policy == RawAlways || policy == RawOnParseError && typ == ""
	if _, ok := ev.Get(event.FieldOriginal); !ok && keepRaw {
		ev.Fields = append(ev.Fields, event.Field{Name: event.FieldOriginal, Value: string(raw.Data)})
	}
	if _, ok := ev.Get(event.FieldIngested); !ok {
		ev.Fields = append(ev.Fields, event.Field{Name: event.FieldIngested, Value: pp.ingested.Text(raw.Received)})
	}
	ev.Fields = append(ev.Fields, event.Field{Name: event.FieldTimestamp, Value: Timestamp(ev.Time)})
	if typ != "" {
		ev.Fields = append(ev.Fields, event.Field{Name: FieldType, Value: typ})
		if detected {
			ev.Fields = append(ev.Fields, event.Field{Name: FieldDetected, Value: "true"})
		}
	}
	if src != nil {
		if src.Name != "" {
			ev.Fields = append(ev.Fields, event.Field{Name: FieldName, Value: src.Name})
		}
		for from, to := range src.FieldMap {
			if v, ok := ev.Get(from); ok {
				ev.Fields = append(ev.Fields, event.Field{Name: to, Value: v})
			}
		}
	}
	if pp.hash == "" {
		pp.hash = event.Hash(raw.Data) // once for every event of the record
	}
	ev.Fields = append(ev.Fields, event.Field{Name: event.FieldHash, Value: pp.hash})
	pp.dedupe(ev, keepRaw)
}

// dedupe keeps the last field of each name, in the order of the kept ones,
// and event.original only if keepRaw.
func (pp *Parser) dedupe(ev *event.Event, keepRaw bool) {
	fs := ev.Fields
	pp.seen.reset(len(fs) + 1)
	if !keepRaw {
		pp.seen.add(event.FieldOriginal)
	}
	keep := len(fs)
	for i := len(fs) - 1; i >= 0; i-- {
		if pp.seen.add(fs[i].Name) {
			continue
		}
		keep--
		fs[keep] = fs[i]
	}
	ev.Fields = append(fs[:0], fs[keep:]...)
}

// names is a set of field names for dedupe, cheaper than a map for the
// ~100 names of an event: an open-addressed table emptied by moving to
// the next generation instead of clearing it.
type names struct {
	gen   uint32
	slots []nameSlot // a power of two long
}

type nameSlot struct {
	gen  uint32
	name string
}

var namesSeed = maphash.MakeSeed()

// reset empties the set, sized for n names.
func (s *names) reset(n int) {
	s.gen++
	if size := 2 * n; len(s.slots) < size || s.gen == 0 {
		l := 64
		for l < size {
			l *= 2
		}
		s.slots, s.gen = make([]nameSlot, max(l, len(s.slots))), 1
	}
}

// add adds name and reports whether it was there already.
func (s *names) add(name string) bool {
	mask := uint64(len(s.slots) - 1)
	for i := maphash.String(namesSeed, name) & mask; ; i = (i + 1) & mask {
		sl := &s.slots[i]
		if sl.gen != s.gen {
			sl.gen, sl.name = s.gen, name
			return false
		}
		if sl.name == name {
			return true
		}
	}
}

// grow extends evs by one, reusing the field slice of a previous event.
func grow(evs []event.Event) []event.Event {
	if len(evs) < cap(evs) {
		return evs[:len(evs)+1]
	}
	return append(evs, event.Event{})
}

// Timestamp formats an event time as Elasticsearch writes @timestamp:
// UTC with milliseconds ("2026-04-03T00:31:09.000Z"), or with every digit
// when the time is finer than a millisecond.
func Timestamp(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		return t.Format(time.RFC3339Nano)
	}
	return t.Format("2006-01-02T15:04:05.000Z07:00")
}
