package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Errors is the list of errors found in one file. It unwraps to its
// elements, so errors.Is(err, ErrUnsupported) reports whether any of them is
// an unsupported-feature error.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap returns the elements.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Parse reads every YAML document of one file. name is used in errors and
// stored in each Rule. It returns the rules that parsed and, if any
// document failed, an Errors value listing each failure; a document that
// fails contributes no rule.
func Parse(name string, data []byte) ([]*Rule, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var rules []*Rule
	var errs Errors
	for doc := 0; ; doc++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, reason := yamlErr(err)
			errs = append(errs, &Error{File: name, Line: line, Reason: reason, Kind: ErrInvalid})
			break // the decoder cannot resynchronise after a syntax error
		}
		root := &n
		if root.Kind == yaml.DocumentNode {
			if len(root.Content) == 0 {
				continue
			}
			root = root.Content[0]
		}
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			continue // empty document
		}
		r, err := parseDocument(name, root)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				pe = &Error{File: name, Line: root.Line, Reason: err.Error(), Kind: ErrInvalid}
			}
			errs = append(errs, pe)
			continue
		}
		rules = append(rules, r)
	}
	if len(errs) > 0 {
		return rules, errs
	}
	return rules, nil
}

// yamlParserProblems are the problems yaml.v3's parser (not its scanner)
// reports. For those it prints the line counted from 0 (the line before
// the one meant), where the scanner's count from 1.
var yamlParserProblems = []string{
	"did not find expected <document start>",
	"did not find expected node content",
	"did not find expected '-' indicator",
	"did not find expected key",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"found undefined tag handle",
	"found incompatible YAML document",
	"found duplicate %YAML directive",
	"found duplicate %TAG directive",
}

// yamlErr returns the line (from 1; 0 when unknown) and the reason of a
// yaml.v3 syntax error, whose messages look like "yaml: line 12: ...". The
// line is given once, as the error's line, not again in the reason. For
// an unclosed bracket or a badly indented key it is the line where the
// sequence or mapping that holds the mistake starts.
func yamlErr(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	rest, ok := strings.CutPrefix(msg, "line ")
	if !ok {
		return 0, "yaml: " + msg
	}
	k := 0
	for k < len(rest) && rest[k] >= '0' && rest[k] <= '9' {
		k++
	}
	n, err2 := strconv.Atoi(rest[:k])
	problem, ok := strings.CutPrefix(rest[k:], ": ")
	if err2 != nil || !ok {
		return 0, "yaml: " + msg
	}
	for _, p := range yamlParserProblems {
		if strings.HasPrefix(problem, p) {
			n++
			break
		}
	}
	return n, "yaml: " + problem
}

// docParser carries the file name for errors, and the document's warnings.
type docParser struct {
	file     string
	warnings []Warning
}

func (p *docParser) warnf(line int, format string, args ...any) {
	p.warnings = append(p.warnings, Warning{Line: line, Reason: fmt.Sprintf(format, args...)})
}

func (p *docParser) errf(line int, kind error, format string, args ...any) *Error {
	return &Error{File: p.file, Line: line, Reason: fmt.Sprintf(format, args...), Kind: kind}
}

func parseDocument(file string, root *yaml.Node) (*Rule, error) {
	p := &docParser{file: file}
	if root.Kind != yaml.MappingNode {
		return nil, p.errf(root.Line, ErrInvalid, "document is not a mapping")
	}
	r := &Rule{File: file, Line: root.Line}
	var detection, correlation, filter *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		var err error
		switch k.Value {
		case "title":
			r.Title, err = p.str(k.Value, v)
		case "id":
			r.ID, err = p.str(k.Value, v)
		case "name":
			r.Name, err = p.str(k.Value, v)
		case "status":
			r.Status, err = p.str(k.Value, v)
		case "description":
			r.Description, err = p.str(k.Value, v)
		case "license":
			r.License, err = p.str(k.Value, v)
		case "author":
			r.Author, err = p.str(k.Value, v)
		case "date":
			r.Date, err = p.str(k.Value, v)
		case "modified":
			r.Modified, err = p.str(k.Value, v)
		case "level":
			r.Level, err = p.str(k.Value, v)
			if err == nil {
				switch r.Level {
				case "", "informational", "low", "medium", "high", "critical":
				default:
					err = p.errf(v.Line, ErrInvalid, "level %q is not one of informational, low, medium, high, critical", r.Level)
				}
			}
		case "references":
			r.References, err = p.strList(k.Value, v)
		case "tags":
			r.Tags, err = p.strList(k.Value, v)
		case "fields":
			r.Fields, err = p.strList(k.Value, v)
		case "falsepositives":
			r.FalsePositives, err = p.strList(k.Value, v)
		case "related":
			r.Related, err = p.related(v)
		case "logsource":
			r.LogSource, err = p.logSource(v)
		case "detection":
			detection = v
		case "correlation":
			correlation = v
		case "filter":
			filter = v
		case "action":
			return nil, p.errf(k.Line, ErrUnsupported, "rule collections (action: %s) were removed in Sigma v2", v.Value)
		}
		if err != nil {
			return nil, err
		}
	}
	if r.Title == "" {
		return nil, p.errf(root.Line, ErrInvalid, "missing title")
	}
	set := 0
	for _, n := range []*yaml.Node{detection, correlation, filter} {
		if n != nil {
			set++
		}
	}
	if set != 1 {
		return nil, p.errf(root.Line, ErrInvalid, "a document needs exactly one of detection, correlation or filter (has %d)", set)
	}
	var err error
	switch {
	case detection != nil:
		r.Detection, err = p.detection(detection, "condition")
	case correlation != nil:
		r.Correlation, err = p.correlation(correlation)
	case filter != nil:
		r.Filter, err = p.filter(filter)
	}
	if err != nil {
		return nil, err
	}
	if detection != nil && r.LogSource == (LogSource{}) {
		p.warnf(root.Line, "no logsource: the specification requires one, and no event is routed to the rule")
	}
	r.Warnings = p.warnings
	return r, nil
}

func (p *docParser) str(key string, v *yaml.Node) (string, error) {
	if v.Kind != yaml.ScalarNode {
		return "", p.errf(v.Line, ErrInvalid, "%s must be a string", key)
	}
	if v.Tag == "!!null" {
		return "", nil
	}
	return v.Value, nil
}

func (p *docParser) strList(key string, v *yaml.Node) ([]string, error) {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return nil, nil
		}
		return []string{v.Value}, nil
	case yaml.SequenceNode:
		out := make([]string, 0, len(v.Content))
		for _, c := range v.Content {
			if c.Kind != yaml.ScalarNode {
				return nil, p.errf(c.Line, ErrInvalid, "%s must be a list of strings", key)
			}
			out = append(out, c.Value)
		}
		return out, nil
	}
	return nil, p.errf(v.Line, ErrInvalid, "%s must be a string or a list of strings", key)
}

func (p *docParser) related(v *yaml.Node) ([]Related, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, p.errf(v.Line, ErrInvalid, "related must be a list")
	}
	var out []Related
	for _, c := range v.Content {
		if c.Kind != yaml.MappingNode {
			return nil, p.errf(c.Line, ErrInvalid, "related entries must be mappings with id and type")
		}
		var rel Related
		for i := 0; i+1 < len(c.Content); i += 2 {
			switch c.Content[i].Value {
			case "id":
				rel.ID = c.Content[i+1].Value
			case "type":
				rel.Type = c.Content[i+1].Value
			}
		}
		out = append(out, rel)
	}
	return out, nil
}

func (p *docParser) logSource(v *yaml.Node) (LogSource, error) {
	var ls LogSource
	if v.Kind != yaml.MappingNode {
		return ls, p.errf(v.Line, ErrInvalid, "logsource must be a mapping")
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		s, err := p.str("logsource."+k.Value, val)
		if err != nil {
			return ls, err
		}
		switch k.Value {
		case "category":
			ls.Category = s
		case "product":
			ls.Product = s
		case "service":
			ls.Service = s
		case "definition":
			ls.Definition = s
		}
	}
	return ls, nil
}

// detection parses a detection (or filter) mapping. condKey is the key that
// holds the condition. Keys listed in skip are ignored.
func (p *docParser) detection(v *yaml.Node, condKey string, skip ...string) (*Detection, error) {
	if v.Kind != yaml.MappingNode {
		return nil, p.errf(v.Line, ErrInvalid, "detection must be a mapping")
	}
	d := &Detection{Searches: make(map[string]*Search), Line: v.Line}
	var cond *yaml.Node
outer:
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		for _, s := range skip {
			if k.Value == s {
				continue outer
			}
		}
		switch k.Value {
		case condKey:
			cond = val
			continue
		case "timeframe":
			continue // legacy companion of aggregation conditions
		}
		if _, dup := d.Searches[k.Value]; dup {
			return nil, p.errf(k.Line, ErrInvalid, "duplicate search identifier %q", k.Value)
		}
		s, err := p.search(k.Value, val)
		if err != nil {
			return nil, err
		}
		s.Line = k.Line
		d.Searches[k.Value] = s
		d.Order = append(d.Order, k.Value)
	}
	if cond == nil {
		return nil, p.errf(v.Line, ErrInvalid, "detection has no condition")
	}
	var conds []*yaml.Node
	switch cond.Kind {
	case yaml.ScalarNode:
		conds = []*yaml.Node{cond}
	case yaml.SequenceNode:
		conds = cond.Content
	default:
		return nil, p.errf(cond.Line, ErrInvalid, "condition must be a string or a list of strings")
	}
	if len(conds) == 0 {
		return nil, p.errf(cond.Line, ErrInvalid, "condition is empty")
	}
	for _, c := range conds {
		if c.Kind != yaml.ScalarNode {
			return nil, p.errf(c.Line, ErrInvalid, "condition must be a string or a list of strings")
		}
		e, err := parseCondition(c.Value, d.Searches, d.Order)
		if err != nil {
			kind := ErrInvalid
			if errors.Is(err, ErrUnsupported) {
				kind = ErrUnsupported
			}
			return nil, p.errf(c.Line, kind, "%s", trimKind(err))
		}
		d.Conditions = append(d.Conditions, e)
		d.ConditionText = append(d.ConditionText, c.Value)
	}
	return d, nil
}

// trimKind strips the trailing ": invalid rule" / ": unsupported" that
// wrapping adds, since Error prints the kind itself.
func trimKind(err error) string {
	s := err.Error()
	s = strings.TrimSuffix(s, ": "+ErrInvalid.Error())
	s = strings.TrimSuffix(s, ": "+ErrUnsupported.Error())
	return s
}

func (p *docParser) search(name string, v *yaml.Node) (*Search, error) {
	s := &Search{Name: name}
	switch v.Kind {
	case yaml.MappingNode:
		alt, err := p.fieldMap(v)
		if err != nil {
			return nil, err
		}
		s.Alternatives = [][]*Match{alt}
	case yaml.SequenceNode:
		if len(v.Content) == 0 {
			return nil, p.errf(v.Line, ErrInvalid, "search %q is an empty list", name)
		}
		maps, scalars := 0, 0
		for _, c := range v.Content {
			switch c.Kind {
			case yaml.MappingNode:
				maps++
			case yaml.ScalarNode:
				scalars++
			default:
				return nil, p.errf(c.Line, ErrInvalid, "search %q: list items must be mappings or plain values", name)
			}
		}
		if maps > 0 && scalars > 0 {
			return nil, p.errf(v.Line, ErrInvalid, "search %q mixes field mappings and keywords in one list", name)
		}
		if scalars > 0 {
			m, err := p.match("", nil, v, v.Line)
			if err != nil {
				return nil, err
			}
			s.Alternatives = [][]*Match{{m}}
			break
		}
		for _, c := range v.Content {
			alt, err := p.fieldMap(c)
			if err != nil {
				return nil, err
			}
			s.Alternatives = append(s.Alternatives, alt)
		}
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return nil, p.errf(v.Line, ErrInvalid, "search %q is empty", name)
		}
		m, err := p.match("", nil, v, v.Line)
		if err != nil {
			return nil, err
		}
		s.Alternatives = [][]*Match{{m}}
	default:
		return nil, p.errf(v.Line, ErrInvalid, "search %q has an unexpected form", name)
	}
	return s, nil
}

func (p *docParser) fieldMap(v *yaml.Node) ([]*Match, error) {
	if len(v.Content) == 0 {
		return nil, p.errf(v.Line, ErrInvalid, "empty field mapping")
	}
	var out []*Match
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		parts := strings.Split(k.Value, "|")
		m, err := p.match(parts[0], parts[1:], val, k.Line)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// rawValue is one scalar of a match before modifiers.
type rawValue struct {
	tag  string
	text string
	line int
}

func (p *docParser) match(field string, mods []string, v *yaml.Node, line int) (*Match, error) {
	var raws []rawValue
	switch v.Kind {
	case yaml.ScalarNode:
		raws = []rawValue{{tag: v.Tag, text: v.Value, line: v.Line}}
	case yaml.SequenceNode:
		if len(v.Content) == 0 {
			return nil, p.errf(v.Line, ErrInvalid, "field %q has an empty list of values", field)
		}
		for _, c := range v.Content {
			if c.Kind != yaml.ScalarNode {
				return nil, p.errf(c.Line, ErrInvalid, "field %q: values must be plain scalars", field)
			}
			if c.Tag == "!!null" && len(v.Content) > 1 {
				p.warnf(c.Line, "field %q: null in a list of values (the specification forbids it: test '%s: null' in a search of its own)", field, field)
			}
			raws = append(raws, rawValue{tag: c.Tag, text: c.Value, line: c.Line})
		}
	default:
		return nil, p.errf(v.Line, ErrInvalid, "field %q: value must be a scalar or a list", field)
	}
	if len(raws) == 1 && slices.Contains(mods, "all") {
		p.warnf(line, "field %q: the all modifier on a single value (the specification forbids it; it changes nothing)", field)
	}
	m, err := buildMatch(field, mods, raws)
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			pe.File = p.file
			if pe.Line == 0 {
				pe.Line = line
			}
			return nil, pe
		}
		return nil, p.errf(line, ErrInvalid, "%s", err)
	}
	m.Line = line
	return m, nil
}

func (p *docParser) correlation(v *yaml.Node) (*Correlation, error) {
	if v.Kind != yaml.MappingNode {
		return nil, p.errf(v.Line, ErrInvalid, "correlation must be a mapping")
	}
	c := &Correlation{Line: v.Line}
	var err error
	var condNode *yaml.Node
	hasTimespan := false
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		switch k.Value {
		case "type":
			c.Type, err = p.str("correlation.type", val)
		case "rules":
			c.Rules, err = p.strList("correlation.rules", val)
		case "group-by":
			c.GroupBy, err = p.strList("correlation.group-by", val)
		case "timespan", "timeframe":
			var s string
			s, err = p.str("correlation.timespan", val)
			if err == nil {
				c.Timespan, err = parseTimespan(s)
				if err != nil {
					err = p.errf(val.Line, ErrInvalid, "correlation.timespan: %v", err)
				}
				hasTimespan = true
			}
		case "condition":
			condNode = val
		case "generate":
			c.Generate = val.Value == "true"
		case "aliases":
			c.Aliases, err = p.aliases(val)
		}
		if err != nil {
			return nil, err
		}
	}
	switch c.Type {
	case "event_count", "value_count", "temporal", "temporal_ordered", "value_sum", "value_avg", "value_percentile":
	case "":
		return nil, p.errf(v.Line, ErrInvalid, "correlation has no type")
	default:
		return nil, p.errf(v.Line, ErrInvalid, "unknown correlation type %q", c.Type)
	}
	if len(c.Rules) == 0 {
		return nil, p.errf(v.Line, ErrInvalid, "correlation names no rules")
	}
	if !hasTimespan {
		return nil, p.errf(v.Line, ErrInvalid, "correlation has no timespan")
	}
	if condNode != nil {
		if err := p.corrCondition(c, condNode); err != nil {
			return nil, err
		}
	}
	switch c.Type {
	case "temporal", "temporal_ordered":
		if len(c.Condition.Comparisons) == 0 {
			c.Condition.Comparisons = []Comparison{{Op: "gte", Value: float64(len(c.Rules))}}
		}
	default:
		if len(c.Condition.Comparisons) == 0 {
			return nil, p.errf(v.Line, ErrInvalid, "%s correlation needs a condition", c.Type)
		}
	}
	switch fs := c.Condition.Fields; c.Type {
	case "value_count", "value_sum", "value_avg", "value_percentile":
		line := v.Line
		if condNode != nil {
			line = condNode.Line
		}
		switch {
		case len(fs) == 0:
			return nil, p.errf(line, ErrInvalid, "%s correlation needs condition.field, the field whose values it aggregates", c.Type)
		case len(fs) > 1 && c.Type != "value_count":
			return nil, p.errf(line, ErrInvalid, "%s correlation takes one field in condition.field, not a list (only value_count counts combinations of fields)", c.Type)
		}
	}
	return c, nil
}

// corrFields reads condition.field: a field name or a list of them.
func (p *docParser) corrFields(v *yaml.Node) ([]string, error) {
	bad := func(line int) error {
		return p.errf(line, ErrInvalid, "correlation.condition.field must be a field name or a list of field names")
	}
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" || v.Value == "" {
			return nil, nil // reported as missing by the caller
		}
		return []string{v.Value}, nil
	case yaml.SequenceNode:
		out := make([]string, 0, len(v.Content))
		seen := map[string]bool{}
		for _, c := range v.Content {
			if c.Kind != yaml.ScalarNode || c.Tag == "!!null" || c.Value == "" {
				return nil, bad(c.Line)
			}
			if seen[c.Value] {
				return nil, p.errf(c.Line, ErrInvalid, "correlation.condition.field lists %q twice", c.Value)
			}
			seen[c.Value] = true
			out = append(out, c.Value)
		}
		return out, nil
	}
	return nil, bad(v.Line)
}

func (p *docParser) corrCondition(c *Correlation, v *yaml.Node) error {
	if v.Kind != yaml.MappingNode {
		return p.errf(v.Line, ErrInvalid, "correlation.condition must be a mapping such as {gte: 10}")
	}
	lines := map[string]int{} // comparison → line of its key
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		switch k.Value {
		case "field":
			fs, err := p.corrFields(val)
			if err != nil {
				return err
			}
			c.Condition.Fields = fs
		case "percentile":
			f, err := strconv.ParseFloat(val.Value, 64)
			if err != nil {
				return p.errf(val.Line, ErrInvalid, "correlation.condition.percentile: %q is not a number", val.Value)
			}
			c.Condition.Percentile = f
		case "gt", "gte", "lt", "lte", "eq", "neq":
			if first, dup := lines[k.Value]; dup {
				return p.errf(k.Line, ErrInvalid, "correlation.condition: %s is given twice (first on line %d)", k.Value, first)
			}
			f, err := strconv.ParseFloat(val.Value, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return p.errf(val.Line, ErrInvalid, "correlation.condition.%s: %q is not a number", k.Value, val.Value)
			}
			lines[k.Value] = k.Line
			c.Condition.Comparisons = append(c.Condition.Comparisons, Comparison{Op: k.Value, Value: f})
		default:
			return p.errf(k.Line, ErrInvalid, "correlation.condition: unknown key %q", k.Value)
		}
	}
	if len(c.Condition.Comparisons) == 0 {
		return p.errf(v.Line, ErrInvalid, "correlation.condition has no comparison (gt, gte, lt, lte, eq, neq)")
	}
	return p.checkRange(c, lines)
}

// checkRange rejects a condition of several comparisons (a range, which
// holds when all of them do) that no value can meet or that is ambiguous:
// eq beside another comparison, or two lower or two upper bounds. lines
// gives the line of each comparison's key; errors point at the last one.
func (p *docParser) checkRange(c *Correlation, lines map[string]int) error {
	cs := c.Condition.Comparisons
	if len(cs) < 2 {
		return nil
	}
	line := 0
	for _, l := range lines {
		line = max(line, l)
	}
	has := func(op string) bool { _, ok := lines[op]; return ok }
	switch {
	case has("eq"):
		var others []string
		for _, x := range cs {
			if x.Op != "eq" {
				others = append(others, x.Op)
			}
		}
		return p.errf(line, ErrInvalid, "correlation.condition: eq cannot be combined with %s (a range is written with gt or gte and lt or lte)", strings.Join(others, ", "))
	case has("gt") && has("gte"):
		return p.errf(line, ErrInvalid, "correlation.condition has two lower bounds, gt and gte; keep one")
	case has("lt") && has("lte"):
		return p.errf(line, ErrInvalid, "correlation.condition has two upper bounds, lt and lte; keep one")
	}
	lo, hi := math.Inf(-1), math.Inf(1)
	var loStrict, hiStrict, hasNeq bool
	var neq float64
	for _, x := range cs {
		switch x.Op {
		case "gt", "gte":
			lo, loStrict = x.Value, x.Op == "gt"
		case "lt", "lte":
			hi, hiStrict = x.Value, x.Op == "lt"
		case "neq":
			neq, hasNeq = x.Value, true
		}
	}
	noun := "value"
	var empty bool
	switch c.Type {
	case "event_count", "value_count", "temporal", "temporal_ordered":
		// Counts are whole numbers: {gt: 10, lt: 11} can never hold.
		noun = "count"
		l, h := math.Ceil(lo), math.Floor(hi)
		if loStrict {
			l = math.Floor(lo) + 1
		}
		if hiStrict {
			h = math.Ceil(hi) - 1
		}
		empty = l > h || l == h && hasNeq && neq == l
	default:
		empty = lo > hi || lo == hi && (loStrict || hiStrict || hasNeq && neq == lo)
	}
	if !empty {
		return nil
	}
	words := make([]string, len(cs))
	for i, x := range cs {
		words[i] = fmt.Sprintf("%s %g", comparisonWords(x.Op), x.Value)
	}
	last := len(words) - 1
	desc := strings.Join(words[:last], ", ") + " and " + words[last]
	return p.errf(line, ErrInvalid, "correlation.condition can never hold: no %s is %s", noun, desc)
}

// comparisonWords reads a range comparison (eq never is one) in words.
func comparisonWords(op string) string {
	switch op {
	case "gt":
		return "greater than"
	case "gte":
		return "at least"
	case "lt":
		return "less than"
	case "lte":
		return "at most"
	}
	return "other than" // neq
}

func (p *docParser) aliases(v *yaml.Node) (map[string]map[string]string, error) {
	if v.Kind != yaml.MappingNode {
		return nil, p.errf(v.Line, ErrInvalid, "correlation.aliases must be a mapping")
	}
	out := make(map[string]map[string]string)
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		if val.Kind != yaml.MappingNode {
			return nil, p.errf(val.Line, ErrInvalid, "correlation.aliases.%s must map rule names to fields", k.Value)
		}
		m := make(map[string]string)
		for j := 0; j+1 < len(val.Content); j += 2 {
			m[val.Content[j].Value] = val.Content[j+1].Value
		}
		out[k.Value] = m
	}
	return out, nil
}

func (p *docParser) filter(v *yaml.Node) (*Filter, error) {
	if v.Kind != yaml.MappingNode {
		return nil, p.errf(v.Line, ErrInvalid, "filter must be a mapping")
	}
	f := &Filter{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		if v.Content[i].Value == "rules" {
			var err error
			f.Rules, err = p.strList("filter.rules", v.Content[i+1])
			if err != nil {
				return nil, err
			}
		}
	}
	if len(f.Rules) == 0 {
		return nil, p.errf(v.Line, ErrInvalid, "filter names no rules")
	}
	d, err := p.detection(v, "condition", "rules")
	if err != nil {
		return nil, err
	}
	f.Detection = d
	return f, nil
}

// parseTimespan reads "30s", "5m", "1h", "2d", "1w".
func parseTimespan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return 0, fmt.Errorf("%q is not a timespan such as 5m or 1h", s)
	}
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) || n <= 0 {
		return 0, fmt.Errorf("%q is not a timespan such as 5m or 1h", s)
	}
	var unit time.Duration
	switch s[len(s)-1] {
	case 's':
		unit = time.Second
	case 'm':
		unit = time.Minute
	case 'h':
		unit = time.Hour
	case 'd':
		unit = 24 * time.Hour
	case 'w':
		unit = 7 * 24 * time.Hour
	case 'M':
		unit = 30 * 24 * time.Hour
	case 'y':
		unit = 365 * 24 * time.Hour
	default:
		return 0, fmt.Errorf("%q has an unknown unit (use s, m, h, d, w)", s)
	}
	if err != nil || n > int64(maxTimespan/unit) {
		return 0, fmt.Errorf("%q is longer than %d days, the longest window allowed", s, maxTimespan/(24*time.Hour))
	}
	return time.Duration(n) * unit, nil
}

// maxTimespan bounds a correlation's timespan (100 years). A window's end,
// its start plus the timespan in Unix nanoseconds, must fit in an int64
// (for any event before 2160); a longer timespan would overflow, and the
// window would never close.
const maxTimespan = 36500 * 24 * time.Hour
