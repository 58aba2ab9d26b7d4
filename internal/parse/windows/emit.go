package windows

import (
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
)

// ECSVersion is the ECS version the fields follow.
const ECSVersion = "8.17.0"

// emit writes the native, winlog and ECS layers of p.r to the event.
func (p *Parser) emit(dst *event.Event) {
	r := &p.r
	if t, ok := r.eventTime(); ok {
		dst.Time = t
	}
	p.emitNative()
	if p.aliases {
		p.emitWinlog()
	} else {
		p.emitWinlogRendered()
	}
	p.emitECS()
}

// SetAliases says whether Parse also writes the winlog.* names that only
// repeat native values (winlog.event_id is EventID, winlog.event_data.X is
// X). The server stores each value once and leaves them out; `tarian
// parse` shows them.
func (p *Parser) SetAliases(on bool) { p.aliases = on }

// emitWinlogRendered writes the winlog.* fields that add to the native
// layer: names rendered from the header's numbers.
func (p *Parser) emitWinlogRendered() {
	r, o := &p.r, &p.out
	o.add("winlog.user.name", r.rend[rUserName])
	o.add("winlog.user.domain", r.rend[rUserDomain])
	o.add("winlog.user.type", r.rend[rUserType])
	if op := r.rend[rOpcode]; op != "" {
		o.add("winlog.opcode", op)
	} else {
		o.add("winlog.opcode", opcodeNames[r.hdr[hOpcode]])
	}
	o.add("winlog.task", r.rend[rTask])
	if kw := r.rend[rKeywords]; kw != "" {
		o.add("winlog.keywords", kw)
	} else {
		o.add("winlog.keywords", keywordNames(r.hdr[hKeywords]))
	}
	if r.userRoot != "" {
		o.add("winlog.user_data.xml_name", r.userRoot)
	}
}

// addAny adds a field even when its value is empty (an empty EventData
// value is a value Sigma rules test for).
func (o *out) addAny(name, value string) {
	o.ev.Fields = append(o.ev.Fields, event.Field{Name: name, Value: value})
}

// emitNative writes the fields under the names Sigma rules use: the
// System header flattened as evtx_dump and Sigma name it (EventID,
// Provider_Name, Execution_ProcessID ...), every EventData value under its
// Data name, unnamed Data as the list Data (and param1, param2 ... as
// Winlogbeat names them), and UserData below its root element.
func (p *Parser) emitNative() {
	r, o := &p.r, &p.out
	for i := 0; i < nHdr; i++ {
		if r.hdr[i] != "" && r.verbatim&(1<<i) == 0 {
			o.add(hdrNames[i], r.hdr[i])
		}
	}
	for _, f := range r.sysExtra {
		o.add(f.name, f.value)
	}
	if r.shape != ShapeFlat {
		for _, d := range r.data {
			if hdrSlot(d.name) < 0 {
				o.addAny(d.name, d.value)
			}
		}
	} else if len(r.data) > 0 {
		// A flat record's own keys are its native fields; event data it
		// carries only inside a column (Sentinel's EventData XML) is not,
		// so it is written here.
		for _, d := range r.data {
			if hdrSlot(d.name) < 0 && !o.has(d.name) {
				o.addAny(d.name, d.value)
			}
		}
	}
	if len(r.list) > 0 {
		o.addAny("Data", p.jsonList(r.list))
		for i, v := range r.list {
			o.addAny(paramName(i), v)
		}
	} else if n := r.params(); n > 0 {
		p.strs = p.strs[:0]
		for i := 0; i < n; i++ {
			p.strs = append(p.strs, r.get(paramName(i)))
		}
		o.addAny("Data", p.jsonList(p.strs))
	}
	for _, u := range r.user {
		if hdrSlot(u.name) < 0 && (r.shape != ShapeFlat) {
			o.addAny(u.name, u.value)
		}
	}
}

// params returns n when the named EventData values are exactly param1 ...
// paramN (and Binary): Winlogbeat's names for unnamed Data, so the list is
// Data too.
func (r *rec) params() int {
	n := 0
	for _, d := range r.data {
		if d.name == "Binary" {
			continue
		}
		if d.name != paramName(n) {
			return 0
		}
		n++
	}
	return n
}

var paramNames = func() []string {
	out := make([]string, 64)
	for i := range out {
		out[i] = "param" + strconv.Itoa(i+1)
	}
	return out
}()

// paramName is Winlogbeat's name of the i'th (0-based) unnamed Data.
func paramName(i int) string {
	if i < len(paramNames) {
		return paramNames[i]
	}
	return "param" + strconv.Itoa(i+1)
}

// emitWinlog writes winlog.* as Winlogbeat and Elastic Agent name them.
func (p *Parser) emitWinlog() {
	r, o := &p.r, &p.out
	o.add("winlog.channel", r.hdr[hChannel])
	o.add("winlog.event_id", r.hdr[hEventID])
	o.add("winlog.provider_name", r.hdr[hProvider])
	o.add("winlog.provider_guid", r.hdr[hProviderGUID])
	o.add("winlog.computer_name", r.hdr[hComputer])
	o.add("winlog.record_id", r.hdr[hRecordID])
	o.add("winlog.version", r.hdr[hVersion])
	o.add("winlog.process.pid", r.hdr[hPID])
	o.add("winlog.process.thread.id", r.hdr[hTID])
	o.add("winlog.user.identifier", r.hdr[hUserID])
	o.add("winlog.user.name", r.rend[rUserName])
	o.add("winlog.user.domain", r.rend[rUserDomain])
	o.add("winlog.user.type", r.rend[rUserType])
	o.add("winlog.activity_id", r.hdr[hActivityID])
	o.add("winlog.related_activity_id", r.hdr[hRelatedActivityID])
	if op := r.rend[rOpcode]; op != "" {
		o.add("winlog.opcode", op)
	} else {
		o.add("winlog.opcode", opcodeNames[r.hdr[hOpcode]])
	}
	o.add("winlog.task", r.rend[rTask])
	if kw := r.rend[rKeywords]; kw != "" {
		o.add("winlog.keywords", kw)
	} else {
		o.add("winlog.keywords", keywordNames(r.hdr[hKeywords]))
	}
	for i, name := range p.dataNames() {
		o.addAny(name, r.data[i].value)
	}
	for i, v := range r.list {
		o.addAny(p.names.join("winlog.event_data.", paramName(i)), v)
	}
	if r.userRoot != "" {
		o.add("winlog.user_data.xml_name", r.userRoot)
	}
	for _, u := range r.user {
		o.addAny(p.names.join("winlog.user_data.", u.name), u.value)
	}
}

const eventDataPrefix = "winlog.event_data."

// dataNames returns "winlog.event_data."+name for each EventData value.
// Events of one id have the same names in the same order, so the names of
// the last event with this id are tried before the cache.
func (p *Parser) dataNames() []string {
	r := &p.r
	id := r.hdr[hEventID]
	memo, ok := p.memo[id]
	if ok && len(memo) == len(r.data) {
		hit := true
		for i, d := range r.data {
			if j := memo[i]; len(j) != len(eventDataPrefix)+len(d.name) || j[len(eventDataPrefix):] != d.name {
				hit = false
				break
			}
		}
		if hit {
			return memo
		}
	}
	names := make([]string, len(r.data))
	for i, d := range r.data {
		names[i] = p.names.join(eventDataPrefix, d.name)
	}
	if p.memo == nil || len(p.memo) >= 1024 {
		p.memo = make(map[string][]string, 64)
	}
	p.memo[strings.Clone(id)] = names
	return names
}

// levelNames are the log.level names of the standard levels; level 0
// (LogAlways, every Security event) renders as information.
var levelNames = map[string]string{
	"0": "information", "1": "critical", "2": "error", "3": "warning", "4": "information", "5": "verbose",
}

// levelNumbers maps rendered level names back to the level.
var levelNumbers = map[string]string{
	"critical": "1", "error": "2", "warning": "3", "information": "4", "informational": "4", "info": "4", "verbose": "5",
}

// opcodeNames are the standard opcodes (winmeta.xml) as Windows renders them.
var opcodeNames = map[string]string{
	"0": "Info", "1": "Start", "2": "Stop", "3": "DCStart", "4": "DCStop", "5": "Extension",
	"6": "Reply", "7": "Resume", "8": "Suspend", "9": "Send", "240": "Receive",
}

// Standard keyword bits (winmeta.xml).
const (
	kwAuditFailure = 0x10000000000000
	kwAuditSuccess = 0x20000000000000
	kwClassic      = 0x80000000000000
)

// keywordNames renders the standard keyword bits of a hex mask as
// Winlogbeat's winlog.keywords list.
func keywordNames(mask string) string {
	k, ok := parseHex(mask)
	if !ok {
		return ""
	}
	var names []string
	if k&kwAuditFailure != 0 {
		names = append(names, `"Audit Failure"`)
	}
	if k&kwAuditSuccess != 0 {
		names = append(names, `"Audit Success"`)
	}
	if k&kwClassic != 0 {
		names = append(names, `"Classic"`)
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return "[" + names[0] + "]"
	}
	return "[" + strings.Join(names, ",") + "]"
}

// keywordsMask is the mask a rendered keyword list stands for, when the
// names are standard ones.
func keywordsMask(names, channel string) string {
	switch {
	case strings.Contains(names, "Audit Success"):
		return "0x8020000000000000"
	case strings.Contains(names, "Audit Failure"):
		return "0x8010000000000000"
	case strings.Contains(names, "Classic"):
		return "0x80000000000000"
	}
	return ""
}

func parseHex(s string) (uint64, bool) {
	if len(s) < 3 || s[0] != '0' || s[1] != 'x' && s[1] != 'X' {
		return 0, false
	}
	k, err := strconv.ParseUint(s[2:], 16, 64)
	return k, err == nil
}

// outcome is event.outcome from the audit keywords.
func (r *rec) outcome() string {
	if k, ok := parseHex(r.hdr[hKeywords]); ok {
		switch {
		case k&kwAuditSuccess != 0:
			return "success"
		case k&kwAuditFailure != 0:
			return "failure"
		}
	}
	switch kw := r.rend[rKeywords]; {
	case strings.Contains(kw, "Audit Success"):
		return "success"
	case strings.Contains(kw, "Audit Failure"):
		return "failure"
	}
	return ""
}

// jsonList returns values as a compact JSON array.
func (p *Parser) jsonList(values []string) string {
	p.tmp = append(p.tmp[:0], '[')
	for i, v := range values {
		if i > 0 {
			p.tmp = append(p.tmp, ',')
		}
		p.tmp = ecs.AppendJSONString(p.tmp, []byte(v))
	}
	p.tmp = append(p.tmp, ']')
	return string(p.tmp)
}

// millis formats t as Elastic's date processor does: UTC, milliseconds
// ("2006-01-02T15:04:05.000Z").
func millis(t time.Time) string {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	if year < 0 || year > 9999 {
		return t.Format("2006-01-02T15:04:05.000Z07:00")
	}
	var b [24]byte
	put := func(i, n, width int) {
		for j := i + width - 1; j >= i; j-- {
			b[j] = byte('0' + n%10)
			n /= 10
		}
	}
	put(0, year, 4)
	b[4] = '-'
	put(5, int(month), 2)
	b[7] = '-'
	put(8, day, 2)
	b[10] = 'T'
	put(11, hour, 2)
	b[13] = ':'
	put(14, minute, 2)
	b[16] = ':'
	put(17, sec, 2)
	b[19] = '.'
	put(20, t.Nanosecond()/1e6, 3)
	b[23] = 'Z'
	return string(b[:])
}

// parseTime reads the times Windows events carry: RFC 3339 with up to
// nanoseconds, or "2006-01-02 15:04:05.999" (Sysmon's UtcTime,
// python-evtx), without a zone meaning UTC. It does not allocate.
func parseTime(s string) (time.Time, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' || s[10] != 'T' && s[10] != ' ' {
		return time.Time{}, false
	}
	num := func(t string) (int, bool) {
		n := 0
		for i := 0; i < len(t); i++ {
			c := t[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(s[0:4])
	month, ok2 := num(s[5:7])
	day, ok3 := num(s[8:10])
	hour, ok4 := num(s[11:13])
	minute, ok5 := num(s[14:16])
	sec, ok6 := num(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	rest := s[19:]
	nsec := 0
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		scale := 100000000
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			nsec += int(rest[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == 1 {
			return time.Time{}, false
		}
		rest = rest[i:]
	}
	offset := 0
	switch {
	case rest == "" || rest == "Z" || rest == "z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		h, okh := num(rest[1:3])
		m, okm := num(rest[4:6])
		if !okh || !okm {
			return time.Time{}, false
		}
		offset = h*3600 + m*60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day {
		return time.Time{}, false // Feb 30 and the like
	}
	return t.Add(-time.Duration(offset) * time.Second), true
}

// winlogAliases maps the winlog.* names that the server does not store to
// the native names that hold their values.
var winlogAliases = map[string]string{
	"winlog.channel":             hdrNames[hChannel],
	"winlog.event_id":            hdrNames[hEventID],
	"winlog.provider_name":       hdrNames[hProvider],
	"winlog.provider_guid":       hdrNames[hProviderGUID],
	"winlog.computer_name":       hdrNames[hComputer],
	"winlog.record_id":           hdrNames[hRecordID],
	"winlog.version":             hdrNames[hVersion],
	"winlog.process.pid":         hdrNames[hPID],
	"winlog.process.thread.id":   hdrNames[hTID],
	"winlog.user.identifier":     hdrNames[hUserID],
	"winlog.activity_id":         hdrNames[hActivityID],
	"winlog.related_activity_id": hdrNames[hRelatedActivityID],
}

// NativeName returns the stored name of a winlog.* alias the server does
// not store (winlog.event_id is EventID, winlog.event_data.Image is Image),
// so a query that names the alias can be answered; ok is false for any
// other name.
func NativeName(alias string) (native string, ok bool) {
	if n, ok := winlogAliases[alias]; ok {
		return n, true
	}
	for _, p := range []string{eventDataPrefix, "winlog.user_data."} {
		if rest, ok := strings.CutPrefix(alias, p); ok && rest != "" && rest != "xml_name" {
			return rest, true
		}
	}
	return "", false
}
