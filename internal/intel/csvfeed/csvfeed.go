// Package csvfeed reads indicators from CSV: either a header row naming
// the columns (type, value, tlp, confidence, valid_from, valid_until,
// tags, description, name; case-insensitive; "indicator" and "ioc" are
// aliases of value) or a list of values, one a line, whose types are
// guessed. Lines that cannot be read are skipped with "line N: reason";
// blank lines and lines starting with '#' are comments.
//
// An indicator's id is derived from the owner, type and value, so
// importing a list again updates its indicators instead of duplicating
// them.
package csvfeed

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/intel/stix"
)

// columns maps header names (lower-case) to the field they fill. Besides
// Tarian's own names it knows those of public feeds (abuse.ch's URLhaus,
// ThreatFox and Feodo Tracker name the value column url, ioc_value and
// dst_ip); when a header names several value columns, the first counts.
var columns = map[string]string{
	"type": "type", "kind": "type", "indicator_type": "type", "ioc_type": "type",
	"value": "value", "indicator": "value", "ioc": "value", "observable": "value",
	"ioc_value": "value", "indicator_value": "value",
	"url": "value", "domain": "value", "hostname": "value",
	"ip": "value", "ip_address": "value", "dst_ip": "value",
	"md5": "value", "sha1": "value", "sha256": "value",
	"md5_hash": "value", "sha1_hash": "value", "sha256_hash": "value",
	"tlp":        "tlp",
	"confidence": "confidence", "confidence_level": "confidence",
	"valid_from": "valid_from", "first_seen": "valid_from", "first_seen_utc": "valid_from", "dateadded": "valid_from",
	"valid_until": "valid_until", "expires": "valid_until", "expiry": "valid_until",
	"tags": "tags", "labels": "tags",
	"description": "description", "comment": "description",
	"name": "name",
}

// ErrEmpty is returned for input with no data lines.
var ErrEmpty = errors.New("csvfeed: no lines")

// Parse reads CSV indicators (see the package comment). It fails only
// when the input cannot be read as CSV at all.
//
// A header may also be the last comment line before the first data line
// ("# id,dateadded,url,…", as abuse.ch writes its feeds) when it names a
// value column. A byte order mark at the start is ignored.
func Parse(r io.Reader, opts intel.ImportOptions) (intel.Batch, error) {
	if opts.TLP == "" {
		opts.TLP = intel.TLPAmber
	}
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(3); string(bom) == "\ufeff" {
		_, _ = br.Discard(3)
	}
	head, _ := br.Peek(64 << 10)
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = false
	cr.Comma = delimiter(head)
	var (
		b      intel.Batch
		cols   map[string]int // field → column index
		first  = true
		seen   = map[string]int{} // type|value → line
		sawAny bool
		// lastComment is the text of the last comment line before the
		// first data line: a commented-out header.
		lastComment     string
		lastCommentLine int
	)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				b.Skipped = append(b.Skipped, intel.Skip{Ref: fmt.Sprintf("line %d", pe.Line), Reason: pe.Err.Error()})
				continue
			}
			return intel.Batch{}, fmt.Errorf("csvfeed: %w", err)
		}
		if blank(rec) {
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(rec[0]), "#") {
			if first {
				lastComment, lastCommentLine = commentText(rec, cr.Comma), line
			}
			continue
		}
		sawAny = true
		if first {
			first = false
			c, unknown, ok := header(rec)
			if ok {
				cols = c
				for _, u := range unknown {
					b.Skipped = append(b.Skipped, intel.Skip{Ref: fmt.Sprintf("line %d", line), Reason: fmt.Sprintf("column %q is not one Tarian reads (ignored)", u)})
				}
				continue
			}
			if c, unknown, ok := commentHeader(lastComment, cr.Comma, len(rec)); ok {
				cols = c
				for _, u := range unknown {
					b.Skipped = append(b.Skipped, intel.Skip{Ref: fmt.Sprintf("line %d", lastCommentLine), Reason: fmt.Sprintf("column %q is not one Tarian reads (ignored)", u)})
				}
			}
		}
		ind, err := row(rec, cols, opts)
		if err != nil {
			b.Skipped = append(b.Skipped, intel.Skip{Ref: fmt.Sprintf("line %d", line), Reason: err.Error()})
			continue
		}
		key := string(ind.Observables[0].Type) + "|" + ind.Observables[0].Value
		if l, dup := seen[key]; dup {
			b.Skipped = append(b.Skipped, intel.Skip{Ref: fmt.Sprintf("line %d", line), Reason: fmt.Sprintf("duplicate of line %d", l)})
			continue
		}
		seen[key] = line
		b.Indicators = append(b.Indicators, ind)
	}
	if !sawAny {
		return intel.Batch{}, ErrEmpty
	}
	return b, nil
}

// delimiter guesses the separator from the first line that is neither
// blank nor a comment (a comment's prose may hold commas): a comma unless
// the line has none and has tabs or semicolons.
func delimiter(head []byte) rune {
	for len(head) > 0 {
		line, rest, _ := bytes.Cut(head, []byte("\n"))
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			head = line
			break
		}
		head = rest
	}
	switch {
	case bytes.IndexByte(head, ',') >= 0:
		return ','
	case bytes.IndexByte(head, '\t') >= 0:
		return '\t'
	case bytes.IndexByte(head, ';') >= 0:
		return ';'
	}
	return ','
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// commentText is a comment line's text without its '#', its fields joined
// again by the delimiter.
func commentText(rec []string, comma rune) string {
	t := strings.Join(rec, string(comma))
	return strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(t), "#"))
}

// commentHeader reads a comment line's text as a header row for records
// of n fields: ok when it names a value column and has n columns.
func commentHeader(text string, comma rune, n int) (map[string]int, []string, bool) {
	if text == "" {
		return nil, nil, false
	}
	r := csv.NewReader(strings.NewReader(text))
	r.Comma, r.LazyQuotes, r.TrimLeadingSpace = comma, true, true
	rec, err := r.Read()
	if err != nil || len(rec) != n {
		return nil, nil, false
	}
	return header(rec)
}

// header reads rec as a header row: ok when it names a value column.
func header(rec []string) (cols map[string]int, unknown []string, ok bool) {
	cols = map[string]int{}
	for i, f := range rec {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(f, "\ufeff")))
		if field, known := columns[name]; known {
			if _, dup := cols[field]; !dup {
				cols[field] = i
			}
			continue
		}
		unknown = append(unknown, f)
	}
	if _, ok := cols["value"]; !ok {
		return nil, nil, false
	}
	return cols, unknown, true
}

// row turns one data line into an indicator. With no header, the first
// column is the value and its type is guessed.
func row(rec []string, cols map[string]int, opts intel.ImportOptions) (intel.Indicator, error) {
	get := func(field string) string {
		if cols == nil {
			if field == "value" {
				return strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff"))
			}
			return ""
		}
		i, ok := cols[field]
		if !ok || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	value := get("value")
	if value == "" {
		return intel.Indicator{}, errors.New("no value")
	}
	t, value, err := typeOf(get("type"), value)
	if err != nil {
		return intel.Indicator{}, err
	}
	v, err := intel.Normalize(t, value)
	if err != nil {
		return intel.Indicator{}, err
	}
	ind := intel.Indicator{
		ID:          stix.DeterministicID("indicator", "csv|"+string(opts.Owner)+"|"+string(t)+"|"+v),
		Name:        get("name"),
		Description: get("description"),
		Observables: []intel.Observable{{Type: t, Value: v}},
		TLP:         opts.TLP,
		Source:      opts.Source,
		Owner:       opts.Owner,
		Audience:    opts.Audience,
		ValidFrom:   opts.Now,
		Created:     opts.Now,
		Modified:    opts.Now,
	}
	if s := get("tlp"); s != "" {
		if ind.TLP, err = intel.ParseTLP(s); err != nil {
			return intel.Indicator{}, err
		}
	}
	if s := get("confidence"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 100 {
			return intel.Indicator{}, fmt.Errorf("confidence %q: want a whole number 0..100", s)
		}
		ind.Confidence = n
	}
	if s := get("valid_from"); s != "" {
		if ind.ValidFrom, err = parseTime(s); err != nil {
			return intel.Indicator{}, fmt.Errorf("valid_from %q: %v", s, err)
		}
	}
	if s := get("valid_until"); s != "" {
		if ind.ValidUntil, err = parseTime(s); err != nil {
			return intel.Indicator{}, fmt.Errorf("valid_until %q: %v", s, err)
		}
	}
	for _, tg := range strings.FieldsFunc(get("tags"), func(r rune) bool { return r == ';' || r == '|' || r == ',' }) {
		if tg = strings.TrimSpace(tg); tg != "" {
			ind.Tags = append(ind.Tags, tg)
		}
	}
	if err := ind.Validate(); err != nil {
		return intel.Indicator{}, err
	}
	return ind, nil
}

// typeOf reads the type column; "ip" and an empty type are decided by
// the value. Feeds' own type names are read too: ThreatFox's
// "md5_hash", "sha256_hash"…, and "ip:port", whose value loses its port.
func typeOf(col, value string) (intel.Type, string, error) {
	col = strings.ToLower(strings.TrimSpace(col))
	if col == "ip:port" {
		if ap, err := netip.ParseAddrPort(value); err == nil {
			value = ap.Addr().String()
		}
		col = "ip"
	}
	switch col {
	case "":
		t, ok := intel.Guess(value)
		if !ok {
			return "", value, fmt.Errorf("cannot tell the type of %q (give a type column)", value)
		}
		return t, value, nil
	case "ip", "ip-src", "ip-dst", "ip-addr", "ipaddress":
		t, ok := intel.Guess(value)
		if !ok || (t != intel.TypeIPv4 && t != intel.TypeIPv6 && t != intel.TypeCIDR) {
			return "", value, fmt.Errorf("type ip: %q is not an IP address or range", value)
		}
		return t, value, nil
	}
	if h, ok := strings.CutSuffix(col, "_hash"); ok {
		col = h
	}
	t, err := intel.ParseType(col)
	return t, value, err
}

// parseTime reads RFC 3339 or a date (midnight UTC).
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02 15:04:05", s); err == nil {
		return t, nil
	}
	return time.Time{}, errors.New("want an RFC 3339 time or a date (2006-01-02)")
}
