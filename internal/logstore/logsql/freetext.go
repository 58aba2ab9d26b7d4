// Package logsql is what Tarian's event stores share about LogsQL, the
// query language of VictoriaLogs: the free-text rewrite (TextQuery) that
// makes a text filter naming no field search the message or any of the text
// fields (TextFields), applied the same way by the embedded store
// (logstore/vlogs) and the HTTP one (logstore/vlhttp).
package logsql

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
)

// TextFields are the fields, besides the message, that a text filter naming
// no field searches: where the events Tarian stores carry the text an
// analyst types (command lines, paths, script blocks, queried names, users,
// hosts, addresses, hashes). Windows events have no message; their text is
// in the native fields Sigma rules use and in their ECS copies. Each field
// is searched only in the blocks that have it, so a field a tenant's events
// lack costs next to nothing.
var TextFields = []string{
	// Elastic Common Schema: every format writes these.
	"process.command_line", "process.parent.command_line",
	"process.executable", "process.parent.executable", "process.name",
	"file.path", "dll.path", "registry.path", "registry.data.strings",
	"dns.question.name", "url.original", "url.full", "user_agent.original",
	"user.name", "user.target.name", "host.name", "host.hostname",
	"source.ip", "destination.ip", "source.domain", "destination.domain",
	"related.ip", "related.user", "related.hosts", "related.hash",
	"email.from.address", "email.to.address", "email.subject",
	"powershell.file.script_block_text", "rule.name", "error.message",
	"service.name",
	// Windows and Sysmon, as Sigma rules name them.
	"CommandLine", "ParentCommandLine", "Image", "ParentImage",
	"OriginalFileName", "TargetFilename", "ImageLoaded", "SourceImage", "TargetImage",
	"NewProcessName", "ParentProcessName", "ProcessName", "Application",
	"ScriptBlockText", "Payload", "ContextInfo",
	"QueryName", "TargetObject", "Details", "PipeName",
	"ServiceName", "ServiceFileName", "ImagePath", "TaskName", "TaskContent",
	"ObjectName", "ShareName", "RelativeTargetName",
	"User", "TargetUserName", "SubjectUserName", "WorkstationName",
	"IpAddress", "SourceIp", "DestinationIp", "DestinationHostname",
	"Computer", "Hashes", "Destination", "Query",
	// The raw record, where it is kept (by default for records no format
	// could parse).
	"event.original",
}

// TextQuery rewrites LogsQL so that a text filter naming no field searches
// the message or any of fields: each word, phrase, prefix (foo*), substring
// (*foo*), exact (=foo, exact(...)), case-insensitive (i(...)), regexp (~re,
// re(...)), seq(...), pattern_match*(...), contains_all/any(...),
// in(...) with values, and contains/equals_common_case(...) filter that
// LogsQL would apply to _msg becomes (f or "F1":f or ...). It rewrites the
// query's filter and those of `filter` / `where` pipes; filters inside other
// pipes and subqueries, numeric and range filters, `*`, and filters that
// match an empty message keep LogsQL's meaning. A filter on `message` (the
// name search results give the message) searches _msg, where the store
// keeps it.
//
// A field the store keeps under another name (stored reports it, e.g.
// parse/windows.NativeName: winlog.event_id is EventID) is renamed to that
// name wherever the query names a field: filters, pipes (stats by (...),
// if (...), fields, sort, ...) and subqueries, but not a name given to a
// result (as x); stored may be nil.
//
// It reports false when nothing changed, or when the query is not one it
// reads (it then leaves it to the engine, whose parser is the judge).
func TextQuery(q string, fields []string, stored func(name string) (string, bool)) (string, bool) {
	sk := skimmer{lx: newLexer(q), stored: stored}
	if err := sk.query(); err != nil || len(sk.edits) == 0 {
		return q, false
	}
	var b strings.Builder
	b.Grow(len(q) + len(sk.edits)*len(fields)*32)
	at := 0
	for _, e := range sk.edits {
		b.WriteString(q[at:e.start])
		if e.rename != "" {
			b.WriteString(e.rename)
			at = e.end
			continue
		}
		f := q[e.start:e.end]
		if e.and {
			b.WriteString("and ")
		}
		if e.neg {
			// "!=x" and "!~x": the filter is "=x" / "~x", negated as a whole.
			f = q[e.start+1 : e.end]
			b.WriteByte('!')
		}
		b.WriteByte('(')
		b.WriteString(f)
		for _, name := range fields {
			b.WriteString(" or ")
			b.WriteString(strconv.Quote(name))
			b.WriteByte(':')
			b.WriteString(f)
		}
		b.WriteByte(')')
		if e.end < len(q) && !unicode.IsSpace(rune(q[e.end])) && !strings.ContainsRune(")|;", rune(q[e.end])) {
			// LogsQL lets a filter follow "0-" or "!" unspaced, not ")".
			b.WriteByte(' ')
		}
		at = e.end
	}
	b.WriteString(q[at:])
	return b.String(), true
}

// edit is one change TextQuery makes: a text filter at [start, end) to
// search in every text field, or a field name to replace.
type edit struct {
	start, end int
	neg        bool   // a "!=" or "!~" filter
	and        bool   // "and" goes first: see funcWords
	rename     string // the field name to write instead
}

// funcWords are the filter names after which LogsQL looks for a "(" (with
// or without white space) to decide between a function and a word. After
// such a word, the "(" of a rewritten filter would read as its argument
// list: `x:i foo` is `x:i` and `foo`, but `x:i (foo or ...)` is x:i(...).
// An "and" in between keeps the meaning.
var funcWords = []string{"exact", "i", "re", "seq", "pattern_match", "pattern_match_full", "pattern_match_prefix",
	"pattern_match_suffix", "json_array_contains_any", "eq_field", "le_field", "lt_field", "len_range",
	"string_range", "value_type", "ipv4_range", "ipv6_range", "range"}

var errSkim = errors.New("query not read")

// skimmer walks a LogsQL query the way VictoriaLogs' parser does
// (lib/logstorage/parser.go, v1.52.1), only far enough to find where each
// filter starts and ends and which field it applies to. It assumes a query
// the engine parsed; anything it does not expect stops it with errSkim.
type skimmer struct {
	lx    lexer
	edits []edit
	// stored renames a field the store keeps under another name.
	stored func(string) (string, bool)
	// before is the token before the filter being read.
	before token
}

func (sk *skimmer) kw(words ...string) bool { return sk.lx.kw(words...) }
func (sk *skimmer) next()                   { sk.lx.next() }

func (sk *skimmer) expect(word string) error {
	if !sk.kw(word) {
		return errSkim
	}
	sk.next()
	return nil
}

// trailer reports whether the current token ends a filter.
func (sk *skimmer) trailer() bool { return sk.kw("|", ")", ";", "") }

// query reads options, the filter, then the pipes.
func (sk *skimmer) query() error {
	if sk.kw("options") {
		sk.next()
		if !sk.kw("(") {
			return errSkim
		}
		if _, err := sk.group(); err != nil {
			return err
		}
	}
	if err := sk.or(""); err != nil {
		return err
	}
	for sk.kw("|") {
		sk.next()
		if sk.kw("filter", "where") {
			sk.next()
			if err := sk.or(""); err != nil {
				return err
			}
			continue
		}
		if err := sk.pipe(); err != nil {
			return err
		}
	}
	if sk.kw(";") {
		sk.next()
	}
	if !sk.kw("") {
		return errSkim
	}
	return nil
}

// pipe skips a pipe other than filter: its tokens up to the next "|", ";"
// or the end outside brackets. A field name the store keeps under another
// name is renamed, there and in the pipe's brackets (stats by (...),
// if (...), subqueries), except a name given to a result (as x).
func (sk *skimmer) pipe() error {
	for !sk.kw("|", ";", "") {
		switch {
		case sk.kw("(", "[", "{"):
			var renames []edit
			if _, err := sk.groupRenames(&renames); err != nil {
				return err
			}
			sk.edits = append(sk.edits, renames...)
		case sk.kw(")", "]", "}"):
			return errSkim
		default:
			var renames []edit
			sk.renameOrNext(&renames)
			sk.edits = append(sk.edits, renames...)
		}
	}
	return nil
}

// renameOrNext reads the current token, or the field name it starts, and
// adds a rename to renames when the store keeps that field under another
// name (stored).
func (sk *skimmer) renameOrNext(renames *[]edit) {
	if sk.stored == nil || sk.lx.tok.quoted || !sk.compoundPart([]string{":"}) {
		sk.next()
		return
	}
	result := !sk.lx.prev.quoted && strings.EqualFold(sk.lx.prev.val, "as")
	start := sk.lx.tok.start
	name, err := sk.compound([]string{":"})
	if err != nil || result {
		return
	}
	if to, ok := sk.stored(name); ok {
		*renames = append(*renames, edit{start: start, end: sk.lx.prevEnd, rename: strconv.Quote(to)})
	}
}

// group skips from an opening bracket to its closing one. Brackets of any
// kind count alike, since a range may open with one and close with another
// (range[1, 5), _time:(a, b]). It reports whether a "|" was directly inside
// (a subquery), whose field names it then renames as a pipe's (the
// subquery's text filters keep LogsQL's meaning).
func (sk *skimmer) group() (bool, error) {
	var renames []edit
	sub, err := sk.groupRenames(&renames)
	if err == nil && sub {
		sk.edits = append(sk.edits, renames...)
	}
	return sub, err
}

// groupRenames is group, adding to renames the field names inside the
// brackets that the store keeps under other names.
func (sk *skimmer) groupRenames(renames *[]edit) (bool, error) {
	depth, pipe := 0, false
	for {
		switch {
		case sk.kw(""):
			return false, errSkim
		case sk.kw("(", "[", "{"):
			depth++
		case sk.kw(")", "]", "}"):
			depth--
		case sk.kw("|") && depth == 1:
			pipe = true
		default:
			sk.renameOrNext(renames)
			continue
		}
		sk.next()
		if depth == 0 {
			return pipe, nil
		}
	}
}

func (sk *skimmer) or(field string) error {
	for {
		if err := sk.and(field); err != nil {
			return err
		}
		if sk.trailer() {
			return nil
		}
		if sk.kw("or") {
			sk.next()
		}
	}
}

func (sk *skimmer) and(field string) error {
	for {
		if err := sk.generic(field); err != nil {
			return err
		}
		if sk.kw("or") || sk.trailer() {
			return nil
		}
		if sk.kw("and") {
			sk.next()
		}
	}
}

// text records the filter from start to the last token read as a text
// filter, when it applies to the message and does not match an empty one.
func (sk *skimmer) text(field string, start int, neg bool) {
	if field != "" {
		return
	}
	end := sk.lx.prevEnd
	f := sk.lx.src[start:end]
	if neg {
		f = f[1:]
	}
	// A filter that matches a missing message would match a missing field
	// too, and so almost every event: leave it as it is.
	if matchesEmpty(f) {
		return
	}
	and := !sk.before.quoted && slices.Contains(funcWords, strings.ToLower(sk.before.val))
	if n := len(sk.edits); and && n > 0 && sk.edits[n-1].end == sk.before.end {
		and = false // the word is rewritten too: a ")" ends it
	}
	sk.edits = append(sk.edits, edit{start: start, end: end, neg: neg, and: and})
}

// matchesEmpty reports whether the filter f matches an event without the
// field it applies to (or cannot be read alone).
func matchesEmpty(f string) (empty bool) {
	defer func() {
		if recover() != nil {
			empty = true
		}
	}()
	pf, err := logstorage.ParseFilter(f)
	return err != nil || pf.MatchRow(nil)
}

// generic mirrors parseFilterGeneric.
func (sk *skimmer) generic(field string) error {
	if sk.kw("") {
		return errSkim
	}
	start := sk.lx.tok.start
	sk.before = sk.lx.prev
	switch {
	case sk.kw("{"):
		if field != "" && field != "_stream" {
			return errSkim
		}
		_, err := sk.group()
		return err
	case sk.kw("*"):
		return sk.star(field, start)
	case sk.kw("("):
		sk.next()
		if err := sk.or(field); err != nil {
			return err
		}
		return sk.expect(")")
	case sk.kw(">", "<"):
		sk.next()
		if !sk.lx.tok.space && sk.kw("=") {
			sk.next()
		}
		_, err := sk.compound(nil)
		return err
	case sk.kw("=", "!="):
		neg := sk.kw("!=")
		sk.next()
		if _, err := sk.compound(nil); err != nil {
			return err
		}
		if !sk.lx.tok.space && sk.kw("*") {
			sk.next()
		}
		sk.text(field, start, neg)
		return nil
	case sk.kw("~", "!~"):
		neg := sk.kw("!~")
		sk.next()
		if _, err := sk.compound(nil); err != nil {
			return err
		}
		sk.text(field, start, neg)
		return nil
	case sk.kw("not", "!", "-"):
		sk.next()
		return sk.generic(field)
	case sk.kw("contains_all", "contains_any", "in"):
		sk.next()
		if !sk.kw("(") {
			return errSkim
		}
		sub, err := sk.group()
		if err != nil {
			return err
		}
		if !sub {
			sk.text(field, start, false)
		}
		return nil
	case sk.kw("contains_common_case", "equals_common_case"):
		sk.next()
		if !sk.kw("(") {
			return errSkim
		}
		if _, err := sk.group(); err != nil {
			return err
		}
		sk.text(field, start, false)
		return nil
	case sk.kw("exact", "i", "re", "seq", "pattern_match", "pattern_match_full", "pattern_match_prefix", "pattern_match_suffix"):
		return sk.function(field, start, true)
	case sk.kw("json_array_contains_any", "eq_field", "le_field", "lt_field", "len_range", "string_range", "value_type", "ipv4_range", "ipv6_range"):
		return sk.function(field, start, false)
	case sk.kw("range"):
		saved := sk.lx
		sk.next()
		if !sk.kw("(", "[") {
			sk.lx = saved
			return sk.phrase(field)
		}
		_, err := sk.group()
		return err
	case sk.kw("_time", "_stream_id", "_stream"):
		if field != "" {
			return sk.phrase(field)
		}
		name := strings.ToLower(sk.lx.tok.val)
		saved := sk.lx
		sk.next()
		if !sk.kw(":") {
			sk.lx = saved
			return sk.phrase("")
		}
		sk.next()
		return sk.special(name)
	default:
		return sk.phrase(field)
	}
}

// function reads name(args), or a phrase when no "(" follows the name.
func (sk *skimmer) function(field string, start int, text bool) error {
	saved := sk.lx
	sk.next()
	if !sk.kw("(") {
		sk.lx = saved
		return sk.phrase(field)
	}
	if _, err := sk.group(); err != nil {
		return err
	}
	if text {
		sk.text(field, start, false)
	}
	return nil
}

// star mirrors parseFilterStar: "*:filter", "*", "*substring*".
func (sk *skimmer) star(field string, start int) error {
	sk.next()
	if field == "" && sk.kw(":") {
		sk.next()
		return sk.generic("*")
	}
	if sk.lx.tok.space || sk.trailer() {
		return nil // every event
	}
	if _, err := sk.compound(nil); err != nil {
		return err
	}
	if sk.lx.tok.space || !sk.kw("*") {
		return errSkim
	}
	sk.next()
	sk.text(field, start, false)
	return nil
}

// phrase mirrors parseFilterPhrase: a word or quoted phrase, a prefix, or
// the field name of the filter that follows.
func (sk *skimmer) phrase(field string) error {
	var stop []string
	if field == "" {
		stop = []string{":"}
	}
	start := sk.lx.tok.start
	sk.before = sk.lx.prev
	name, err := sk.compound(stop)
	if err != nil {
		return err
	}
	nameEnd := sk.lx.prevEnd
	if !sk.lx.tok.space && sk.kw("*") {
		sk.next()
		if field == "" && sk.kw(":") {
			sk.next()
			return sk.generic(name + "*")
		}
		sk.text(field, start, false)
		return nil
	}
	if field == "" && sk.kw(":") {
		sk.next()
		switch name {
		case "_time", "_stream_id", "_stream":
			return sk.special(name)
		case "message":
			// Search results call _msg "message"; the store has no
			// field of that name.
			sk.edits = append(sk.edits, edit{start: start, end: nameEnd, rename: "_msg"})
		default:
			if sk.stored == nil {
				break
			}
			if to, ok := sk.stored(name); ok {
				sk.edits = append(sk.edits, edit{start: start, end: nameEnd, rename: strconv.Quote(to)})
			}
		}
		return sk.generic(name)
	}
	sk.text(field, start, false)
	return nil
}

// special reads what follows "_time:", "_stream_id:" or "_stream:".
func (sk *skimmer) special(name string) error {
	switch name {
	case "_stream":
		if !sk.kw("{") {
			return errSkim
		}
		_, err := sk.group()
		return err
	case "_stream_id":
		if sk.kw("in") {
			sk.next()
			if !sk.kw("(") {
				return errSkim
			}
			_, err := sk.group()
			return err
		}
		_, err := sk.compound(nil)
		return err
	}
	// _time (parseFilterTimeInternal).
	switch {
	case sk.kw("day_range", "week_range"):
		sk.next()
		if !sk.kw("(", "[") {
			return errSkim
		}
		if _, err := sk.group(); err != nil {
			return err
		}
		return sk.offset()
	case sk.kw("offset"):
		return sk.offset()
	case sk.kw(">", "<"):
		sk.next()
		if sk.kw("=") {
			sk.next()
		}
		if _, err := sk.compound(nil); err != nil {
			return err
		}
	case sk.kw("(", "["):
		if _, err := sk.group(); err != nil {
			return err
		}
	default:
		if sk.kw("=") {
			sk.next()
		}
		if _, err := sk.compound(nil); err != nil {
			return err
		}
	}
	return sk.offset()
}

// offset reads an optional "offset <duration>".
func (sk *skimmer) offset() error {
	if !sk.kw("offset") {
		return nil
	}
	sk.next()
	_, err := sk.compound(nil)
	return err
}

// glue are the tokens an unquoted compound token may hold (lexer's
// glueCompoundTokens).
var glue = []string{"+", "-", "/", ":", ".", "$"}

// compound mirrors nextCompoundTokenExt: a quoted token, or adjacent words
// and glue characters up to a stop token.
func (sk *skimmer) compound(stop []string) (string, error) {
	t := sk.lx.tok
	if t.quoted {
		sk.next()
		return t.val, nil
	}
	if !sk.compoundPart(stop) {
		return "", errSkim
	}
	var b strings.Builder
	b.WriteString(t.val)
	sk.next()
	for !sk.lx.tok.space && sk.compoundPart(stop) {
		b.WriteString(sk.lx.tok.raw)
		sk.next()
	}
	return b.String(), nil
}

func (sk *skimmer) compoundPart(stop []string) bool {
	t := sk.lx.tok
	if t.quoted || t.val == "" || sk.kw(stop...) {
		return false
	}
	return sk.kw(glue...) || isWord(t.val)
}

// token is one LogsQL token.
type token struct {
	val        string // unquoted
	raw        string // as written
	start, end int    // where raw is in the query
	space      bool   // white space before it
	quoted     bool
}

// lexer splits LogsQL into tokens exactly as VictoriaLogs' lexer does
// (lib/logstorage/parser.go nextToken), keeping where each one is. It is a
// value: copy it to backtrack.
type lexer struct {
	src     string
	pos     int
	tok     token
	prev    token
	prevEnd int
}

func newLexer(s string) lexer {
	lx := lexer{src: s}
	lx.next()
	return lx
}

// kw reports whether the current token is unquoted and, lowercased, one
// of words.
func (lx *lexer) kw(words ...string) bool {
	if lx.tok.quoted || len(words) == 0 {
		return false
	}
	return slices.Contains(words, strings.ToLower(lx.tok.val))
}

func (lx *lexer) next() {
	lx.prev = lx.tok
	lx.prevEnd = lx.tok.end
	s := lx.src[lx.pos:]
	space := false
	char := func(n int) {
		lx.set(lx.src[lx.pos:lx.pos+n], lx.src[lx.pos:lx.pos+n], n, space)
	}
again:
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		lx.pos = len(lx.src) - len(s)
		char(size)
		return
	}
	for unicode.IsSpace(r) {
		space = true
		s = s[size:]
		r, size = utf8.DecodeRuneInString(s)
	}
	if r == '#' {
		if n := strings.IndexByte(s, '\n'); n < 0 {
			s = ""
		} else {
			s = s[n+1:]
		}
		goto again
	}
	lx.pos = len(lx.src) - len(s)
	n := 0
	for isTokenRune(r) {
		n += size
		r, size = utf8.DecodeRuneInString(s[n:])
	}
	if n > 0 {
		char(n)
		return
	}
	switch r {
	case '"', '`':
		prefix, err := strconv.QuotedPrefix(s)
		if err != nil {
			char(1)
			return
		}
		val, err := strconv.Unquote(prefix)
		if err != nil {
			char(1)
			return
		}
		lx.set(val, prefix, len(prefix), space)
	case '\'':
		var b []byte
		for !strings.HasPrefix(s[size:], "'") {
			ch, _, tail, err := strconv.UnquoteChar(s[size:], '\'')
			if err != nil {
				char(1)
				return
			}
			b = utf8.AppendRune(b, ch)
			size = len(s) - len(tail)
		}
		size++
		lx.set(string(b), s[:size], size, space)
	case '=':
		if strings.HasPrefix(s[size:], "~") {
			char(2)
			return
		}
		char(1)
	case '!':
		if strings.HasPrefix(s[size:], "~") || strings.HasPrefix(s[size:], "=") {
			char(2)
			return
		}
		char(1)
	default:
		char(size)
	}
}

// set makes the n bytes at pos the current token.
func (lx *lexer) set(val, raw string, n int, space bool) {
	lx.tok = token{val: val, raw: raw, start: lx.pos, end: lx.pos + n, space: space, quoted: val != raw}
	lx.pos += n
}

func isWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !isTokenRune(r) {
			return false
		}
	}
	return true
}

func isTokenRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_'
}
