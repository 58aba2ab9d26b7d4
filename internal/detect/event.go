package detect

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
)

// ErrEvent marks an event that is not a JSON object.
var ErrEvent = errors.New("invalid event")

// pathNode is one level of the compiled field mapping.
type pathNode struct {
	children map[string]*pathNode
	any      *pathNode // a "*" segment
	payload  bool      // keys below are field names as they stand
	rename   string    // a scalar here is this field
	path     string    // dotted path, for naming unmapped keys
}

func (n *pathNode) child(seg string, create bool) *pathNode {
	if seg == "*" {
		if n.any == nil && create {
			n.any = &pathNode{path: n.join("*")}
		}
		return n.any
	}
	c := n.children[seg]
	if c == nil && create {
		if n.children == nil {
			n.children = map[string]*pathNode{}
		}
		c = &pathNode{path: n.join(seg)}
		n.children[seg] = c
	}
	return c
}

func (n *pathNode) join(seg string) string {
	if n.path == "" {
		return seg
	}
	return n.path + "." + seg
}

func buildPathTree(fm FieldMapping) *pathNode {
	root := &pathNode{payload: true}
	for _, p := range fm.Payload {
		n := root
		for _, seg := range strings.Split(p, ".") {
			n = n.child(seg, true)
		}
		n.payload = true
	}
	for p, name := range fm.Rename {
		n := root
		for _, seg := range strings.Split(p, ".") {
			n = n.child(seg, true)
		}
		n.rename = name
	}
	return root
}

// evVal is one value of one field in the event being evaluated.
type evVal struct {
	raw     []byte
	lower   []byte
	next    int32 // next value of the same field, -1 at the end
	null    bool
	lowered bool
}

// evState is the scratch space of one evaluation. It is reused across
// events (from a sync.Pool), so evaluation allocates almost nothing.
type evState struct {
	e       *Engine
	parser  fastjson.Parser
	head    []int32 // per field id: first value, or -1
	touched []int32
	vals    []evVal
	all     []int32 // every leaf value, for keyword searches
	arena   []byte
	name    []byte
	tmp     []byte
	mark    []uint32 // per rule: candidate stamp
	fired   []uint32 // per rule: fired stamp
	stamp   uint32
	cands   []int32
	renamed []int32 // fields the current alternative's renames filled
	timeSet bool
	evTime  time.Time
	flat    map[string]*target // flat field name -> where its values go (loadFields)
	named   map[string]*target // mapped field name -> where its values go (load)
	off     map[string]bool    // rules switched off (State.SetDisabled)
	// ref is the event's position, for correlations' evidence
	// (EvaluateEvent); the zero Ref when unknown.
	ref event.Ref
}

func newEvState(e *Engine) *evState {
	st := &evState{e: e, head: make([]int32, len(e.fieldNames)), mark: make([]uint32, len(e.rules)), fired: make([]uint32, len(e.rules))}
	for i := range st.head {
		st.head[i] = -1
	}
	st.arena = make([]byte, 0, 16<<10)
	return st
}

func (st *evState) reset() {
	for _, id := range st.touched {
		st.head[id] = -1
	}
	st.touched = st.touched[:0]
	st.vals = st.vals[:0]
	st.all = st.all[:0]
	st.arena = st.arena[:0]
	st.timeSet = false
	st.stamp++
	if st.stamp == 0 { // wrapped: clear the stamps
		clear(st.mark)
		clear(st.fired)
		st.stamp = 1
	}
}

// load decodes one JSON event into the field table.
func (st *evState) load(raw []byte) error {
	st.reset()
	v, err := st.parser.ParseBytes(raw)
	if err != nil {
		return fmt.Errorf("decode event: %v: %w", err, ErrEvent)
	}
	o, err := v.Object()
	if err != nil {
		return fmt.Errorf("decode event: not a JSON object: %w", ErrEvent)
	}
	st.name = st.name[:0]
	st.walk(o, st.e.paths, 0, 0, false)
	return nil
}

// loadFields fills the field table from flat, dotted fields. A value is
// not copied: the event's fields outlive its evaluation and strings do
// not change.
func (st *evState) loadFields(fields []event.Field) {
	st.reset()
	if st.flat == nil {
		st.flat = map[string]*target{}
	}
	for _, f := range fields {
		t := st.flatTarget(f.Name)
		array := len(f.Value) > 1 && f.Value[0] == '[' && f.Value[len(f.Value)-1] == ']'
		if len(t.ops) == 0 && !st.e.needAll && !(array && st.readUnder(t) && strings.Contains(f.Value, "{")) {
			continue
		}
		if array {
			if v, err := st.parser.Parse(f.Value); err == nil && v.Type() == fastjson.TypeArray {
				// Elements are copied: the parser's memory is reused.
				arr, _ := v.Array()
				for _, el := range arr {
					switch el.Type() {
					case fastjson.TypeString:
						st.put(t, st.keep(el.GetStringBytes()))
					case fastjson.TypeNull:
					case fastjson.TypeObject:
						// An array of objects (Okta's target): each key
						// is a field under the array's name, as in a JSON
						// event.
						st.put(t, st.keep(el.MarshalTo(st.tmp[:0])))
						if st.readUnder(t) {
							obj, _ := el.Object()
							st.putObject(f.Name, obj)
						}
					default:
						st.put(t, st.keep(el.MarshalTo(st.tmp[:0])))
					}
				}
				continue
			}
		}
		st.put(t, evVal{raw: unsafe.Slice(unsafe.StringData(f.Value), len(f.Value))})
	}
}

// flatTarget returns where the values of the flat field name go, through
// the state's cache.
func (st *evState) flatTarget(name string) *target {
	t, ok := st.flat[name]
	if !ok {
		if len(st.flat) >= maxNameCache {
			clear(st.flat)
		}
		st.name = append(st.name[:0], st.e.flatName(name)...)
		t = st.resolve(st.name)
		t.name = string(st.name)
		st.flat[name] = t
	}
	return t
}

// readUnder reports whether a rule reads a field under t's name (Okta's
// target.displayName under target), worked out once per name.
func (st *evState) readUnder(t *target) bool {
	if t.under == 0 {
		t.under = 1
		prefix := t.name + "."
		for name := range st.e.fieldIDs {
			if strings.HasPrefix(name, prefix) {
				t.under = 2
				break
			}
		}
	}
	return t.under == 2
}

// putObject adds the values of an object that is an element of the
// array field prefix, each under prefix.key (copied: the parser's memory
// is reused), objects and arrays within it as a JSON event's are.
func (st *evState) putObject(prefix string, o *fastjson.Object) {
	o.Visit(func(key []byte, v *fastjson.Value) {
		name := prefix + "." + string(key)
		st.putValue(name, v)
	})
}

func (st *evState) putValue(name string, v *fastjson.Value) {
	switch v.Type() {
	case fastjson.TypeObject:
		obj, _ := v.Object()
		st.putObject(name, obj)
	case fastjson.TypeArray:
		arr, _ := v.Array()
		for _, el := range arr {
			st.putValue(name, el)
		}
	case fastjson.TypeNull:
	case fastjson.TypeString:
		st.put(st.flatTarget(name), st.keep(v.GetStringBytes()))
	default:
		st.put(st.flatTarget(name), st.keep(v.MarshalTo(st.tmp[:0])))
	}
}

// maxNameCache bounds the cache of resolved field names per evaluation
// state.
const maxNameCache = 4096

// keep copies value into the arena.
func (st *evState) keep(value []byte) evVal {
	start := len(st.arena)
	st.arena = append(st.arena, value...)
	return evVal{raw: st.arena[start:len(st.arena):len(st.arena)]}
}

// flatName maps a flat, dotted field name as walk maps the same path of a
// JSON event: renames, payload levels (below which names stand as they
// are), '#attributes' joining with '_' and '#text' standing for its parent.
func (e *Engine) flatName(flat string) string {
	var b []byte
	node, attr := e.paths, false
	segs := strings.Split(flat, ".")
	for i, seg := range segs {
		last := i == len(segs)-1
		var child *pathNode
		if node != nil {
			if child = node.children[seg]; child == nil {
				child = node.any
			}
		}
		if child != nil {
			if child.rename != "" && last {
				return child.rename
			}
			if !last {
				if child.payload {
					b = b[:0]
				} else {
					b = append(b[:0], child.path...)
				}
				node, attr = child, false
				continue
			}
		}
		node = nil
		switch {
		case seg == "#attributes" && !last:
			attr = true
			continue
		case seg == "#text":
			continue
		}
		if len(b) > 0 {
			if attr {
				b = append(b, '_')
			} else {
				b = append(b, '.')
			}
		}
		b = append(b, seg...)
		attr = false
	}
	return string(b)
}

// walk visits an object. node is the mapping level (nil below it). The
// current field name is st.name[base:plen]; attr says it ended at an
// '#attributes' level (so the next key joins with '_'). Names are built in
// one buffer: a payload level starts a fresh name after the current one, so
// the enclosing prefix stays intact for the following keys.
func (st *evState) walk(o *fastjson.Object, node *pathNode, base, plen int, attr bool) {
	o.Visit(func(key []byte, v *fastjson.Value) {
		var child *pathNode
		if node != nil {
			if c := node.children[string(key)]; c != nil {
				child = c
			} else if node.any != nil {
				child = node.any
			}
		}
		if child != nil {
			if child.rename != "" && v.Type() != fastjson.TypeObject {
				st.name = append(st.name[:plen], child.rename...)
				st.value(v, child, plen, len(st.name))
				st.name = st.name[:plen]
				return
			}
			if v.Type() == fastjson.TypeObject {
				obj, _ := v.Object()
				st.name = st.name[:plen]
				if child.payload {
					st.walk(obj, child, plen, plen, false)
				} else {
					// An explicit but non-payload level: its path is the prefix.
					st.name = append(st.name, child.path...)
					st.walk(obj, child, plen, len(st.name), false)
				}
				st.name = st.name[:plen]
				return
			}
		}
		n := plen
		switch {
		case string(key) == "#attributes" && v.Type() == fastjson.TypeObject:
			obj, _ := v.Object()
			st.walk(obj, nil, base, plen, true)
			st.name = st.name[:plen]
			return
		case string(key) == "#text":
			// The value of the enclosing element itself.
		default:
			st.name = st.name[:plen]
			if plen > base {
				if attr {
					st.name = append(st.name, '_')
				} else {
					st.name = append(st.name, '.')
				}
			}
			st.name = append(st.name, key...)
			n = len(st.name)
		}
		st.value(v, nil, base, n)
		st.name = st.name[:plen]
	})
}

// value records v under the field name st.name[base:n].
func (st *evState) value(v *fastjson.Value, node *pathNode, base, n int) {
	switch v.Type() {
	case fastjson.TypeObject:
		obj, _ := v.Object()
		st.walk(obj, node, base, n, false)
		return
	case fastjson.TypeArray:
		arr, _ := v.Array()
		for _, el := range arr {
			st.name = st.name[:n]
			st.value(el, node, base, n)
		}
		return
	}
	var val evVal
	switch v.Type() {
	case fastjson.TypeString:
		val.raw = v.GetStringBytes()
	case fastjson.TypeNumber:
		start := len(st.arena)
		st.arena = v.MarshalTo(st.arena)
		val.raw = st.arena[start:len(st.arena):len(st.arena)]
	case fastjson.TypeTrue:
		val.raw = trueBytes
	case fastjson.TypeFalse:
		val.raw = falseBytes
	case fastjson.TypeNull:
		val.null = true
	}
	st.record(val, base, n)
}

// target is where the values of one field name go: the fields it is
// (exact names, then the "*" patterns it matches, a pattern ending in "*"
// also taking the name's last segment as a value of its own).
type target struct {
	ops []targetOp
	// name is the field's name after mapping (flat fields only); under
	// caches readUnder: 0 not known yet, 1 no, 2 yes.
	name  string
	under uint8
}

type targetOp struct {
	id  int32
	key []byte // for a pattern ending in "*": the key it matched
}

// resolve works out where the values of the field called name go.
func (st *evState) resolve(name []byte) *target {
	t := &target{}
	for i := range st.e.patterns {
		p := &st.e.patterns[i]
		if !p.match(name) {
			continue
		}
		op := targetOp{id: p.id}
		t.ops = append(t.ops, op)
		if p.keys {
			// The key the last "*" matched is a value too (a name of a
			// name/value list).
			op.key = bytes.Clone(name[bytes.LastIndexByte(name, '.')+1:])
			t.ops = append(t.ops, op)
		}
	}
	ids := st.e.fieldIDs[string(name)]
	if len(ids) == 0 && st.e.mapping.Fields.RemoveSpaces && bytes.IndexByte(name, ' ') >= 0 {
		// "Threat Name" (Defender, evtx) answers to ThreatName.
		ids = st.e.fieldIDs[string(bytes.ReplaceAll(name, []byte(" "), nil))]
	}
	for _, id := range ids {
		t.ops = append(t.ops, targetOp{id: id})
	}
	return t
}

// record adds val under the field name st.name[base:n].
func (st *evState) record(val evVal, base, n int) {
	name := st.name[base:n]
	t, ok := st.named[string(name)]
	if !ok {
		if st.named == nil || len(st.named) >= maxNameCache {
			st.named = map[string]*target{}
		}
		t = st.resolve(name)
		st.named[string(name)] = t
	}
	st.put(t, val)
}

// put adds val to the fields of t (and to every value, for keyword
// searches).
func (st *evState) put(t *target, val evVal) {
	val.next = -1
	first := int32(-1)
	if len(t.ops) > 0 {
		first = int32(len(st.vals))
	}
	for _, op := range t.ops {
		if op.key != nil {
			st.add(op.id, evVal{raw: op.key, next: -1})
			continue
		}
		st.add(op.id, val)
	}
	if st.e.needAll && !val.null {
		// Keyword searches see every value; a field's value is shared so it
		// is lower-cased at most once.
		if first < 0 {
			first = int32(len(st.vals))
			st.vals = append(st.vals, val)
		}
		st.all = append(st.all, first)
	}
}

var (
	trueBytes  = []byte("true")
	falseBytes = []byte("false")
)

// add appends a value to field id's list.
func (st *evState) add(id int32, val evVal) {
	idx := int32(len(st.vals))
	st.vals = append(st.vals, val)
	h := st.head[id]
	if h < 0 {
		st.head[id] = idx
		st.touched = append(st.touched, id)
		return
	}
	for st.vals[h].next >= 0 {
		h = st.vals[h].next
	}
	st.vals[h].next = idx
}

// match reports whether name matches the pattern: equal segments, a "*"
// segment standing for any one.
func (p *pattern) match(name []byte) bool {
	if len(name) < len(p.prefix) || string(name[:len(p.prefix)]) != p.prefix {
		return false
	}
	for i, seg := range p.segs {
		j := bytes.IndexByte(name, '.')
		last := i == len(p.segs)-1
		if last != (j < 0) {
			return false
		}
		if last {
			j = len(name)
		}
		if seg != "*" && string(name[:j]) != seg {
			return false
		}
		if !last {
			name = name[j+1:]
		}
	}
	return true
}

// rename applies a log-source alternative's renames; unrename takes them
// back, so that the next alternative sees the event as it was.
func (st *evState) rename(rs []rename) {
	st.renamed = st.renamed[:0]
	for _, r := range rs {
		if st.head[r.to] >= 0 {
			continue
		}
		if len(r.from) == 1 {
			st.alias(r.to, r.from[0])
		} else {
			st.gather(r.to, r.from)
		}
		if st.head[r.to] >= 0 {
			st.renamed = append(st.renamed, r.to)
		}
	}
}

func (st *evState) unrename() {
	for _, id := range st.renamed {
		st.head[id] = -1
	}
	st.renamed = st.renamed[:0]
}

// gather gives field to the values of every field of from (when to is
// empty).
func (st *evState) gather(to int32, from []int32) {
	if st.head[to] >= 0 {
		return
	}
	for _, f := range from {
		for i := st.head[f]; i >= 0; i = st.vals[i].next {
			v := st.vals[i]
			v.next = -1
			st.add(to, v)
		}
	}
}

// alias makes field to share the values of field from (when to is empty).
func (st *evState) alias(to, from int32) {
	if st.head[to] >= 0 || st.head[from] < 0 {
		return
	}
	st.head[to] = st.head[from]
	st.touched = append(st.touched, to)
}

// lowerOf returns the lower-cased value, computing it once per event.
func (st *evState) lowerOf(i int32) []byte {
	v := &st.vals[i]
	if v.lowered {
		return v.lower
	}
	v.lowered = true
	raw := v.raw
	k := 0
	for k < len(raw) && raw[k] < utf8.RuneSelf && (raw[k] < 'A' || raw[k] > 'Z') {
		k++
	}
	if k == len(raw) {
		v.lower = raw
		return raw
	}
	start := len(st.arena)
	st.arena = append(st.arena, raw[:k]...)
	for j := k; j < len(raw); {
		c := raw[j]
		if c < utf8.RuneSelf {
			st.arena = append(st.arena, lowerTable[c])
			j++
			continue
		}
		r, w := utf8.DecodeRune(raw[j:])
		if r == utf8.RuneError && w == 1 {
			st.arena = append(st.arena, c) // invalid UTF-8: keep the byte
		} else {
			st.arena = utf8.AppendRune(st.arena, unicode.ToLower(r))
		}
		j += w
	}
	v.lower = st.arena[start:len(st.arena):len(st.arena)]
	return v.lower
}

var lowerTable = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if i >= 'A' && i <= 'Z' {
			t[i] = byte(i + 'a' - 'A')
		}
	}
	return t
}()

// first returns the first value of field id, or -1.
func (st *evState) first(id int32) int32 {
	if id < 0 {
		return -1
	}
	return st.head[id]
}

// eventTime returns the event time from the mapped time fields.
func (st *evState) eventTime() (time.Time, bool) {
	if st.timeSet {
		return st.evTime, !st.evTime.IsZero()
	}
	st.timeSet = true
	st.evTime = time.Time{}
	for _, id := range st.e.timeFields {
		if i := st.first(id); i >= 0 && !st.vals[i].null {
			if t, ok := parseTime(st.vals[i].raw); ok {
				st.evTime = t
				return t, true
			}
		}
	}
	return time.Time{}, false
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z0700",
	"Jan 2, 2006 15:04:05.999999999 MST",
}

func parseTime(b []byte) (time.Time, bool) {
	s := string(b)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	// Unix seconds or milliseconds.
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return time.Time{}, false
		}
		n = n*10 + int64(c-'0')
	}
	if len(b) >= 12 {
		return time.UnixMilli(n).UTC(), true
	}
	if len(b) > 0 {
		return time.Unix(n, 0).UTC(), true
	}
	return time.Time{}, false
}
