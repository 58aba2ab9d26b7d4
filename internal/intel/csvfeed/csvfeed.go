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
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/intel/stix"
)

// columns maps header names (lower-case) to the field they fill.
var columns = map[string]string{
	"type": "type", "kind": "type", "indicator_type": "type", "ioc_type": "type",
	"value": "value", "indicator": "value", "ioc": "value", "observable": "value",
	"tlp":        "tlp",
	"confidence": "confidence",
	"valid_from": "valid_from", "first_seen": "valid_from",
	"valid_until": "valid_until", "expires": "valid_until", "expiry": "valid_until",
	"tags": "tags", "labels": "tags",
	"description": "description", "comment": "description",
	"name": "name",
}

// ErrEmpty is returned for input with no data lines.
var ErrEmpty = errors.New("csvfeed: no lines")

// Parse reads CSV indicators (see the package comment). It fails only
// when the input cannot be read as CSV at all.
func Parse(r io.Reader, opts intel.ImportOptions) (intel.Batch, error) {
	if opts.TLP == "" {
		opts.TLP = intel.TLPAmber
	}
	br := bufio.NewReader(r)
	head, _ := br.Peek(4096)
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
		if blank(rec) || strings.HasPrefix(strings.TrimSpace(rec[0]), "#") {
			continue
		}
		sawAny = true
		if first {
			first = false
			if c, unknown, ok := header(rec); ok {
				cols = c
				for _, u := range unknown {
					b.Skipped = append(b.Skipped, intel.Skip{Ref: fmt.Sprintf("line %d", line), Reason: fmt.Sprintf("column %q is not one Tarian reads (ignored)", u)})
				}
				continue
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

// delimiter guesses the separator from the first line: a comma unless the
// line has none and has tabs or semicolons.
func delimiter(head []byte) rune {
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
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
	t, err := typeOf(get("type"), value)
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
// the value.
func typeOf(col, value string) (intel.Type, error) {
	switch strings.ToLower(col) {
	case "":
		t, ok := intel.Guess(value)
		if !ok {
			return "", fmt.Errorf("cannot tell the type of %q (give a type column)", value)
		}
		return t, nil
	case "ip", "ip-src", "ip-dst", "ip-addr", "ipaddress":
		t, ok := intel.Guess(value)
		if !ok || (t != intel.TypeIPv4 && t != intel.TypeIPv6 && t != intel.TypeCIDR) {
			return "", fmt.Errorf("type ip: %q is not an IP address or range", value)
		}
		return t, nil
	}
	return intel.ParseType(col)
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
