package detect

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	ac "github.com/coregx/ahocorasick"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/sigma"
)

// Options configures Compile.
type Options struct {
	// Mapping is the field and log-source mapping; nil means DefaultMapping().
	Mapping *Mapping
	// Placeholders gives the values of %name% placeholders for |expand
	// (typically per tenant). A value with an unknown placeholder never matches.
	Placeholders map[string][]string
	// Naive disables log-source routing and literal prefiltering: every rule
	// is tried on every event. It exists as the baseline for benchmarks.
	Naive bool
}

// Match is one rule firing on one event.
type Match struct {
	RuleID string
	Title  string
	Level  string
	Author string
	Status string
	Tags   []string
	// Rule is the parsed rule (its File and Line say where it came from).
	Rule *sigma.Rule
	// Fields holds the values of the fields the rule tests and of those its
	// "fields" attribute lists, as found in the event (for a correlation:
	// its group-by values). Tags and Rule are shared: treat them as read-only.
	Fields []Field
	// Time is the event time when the event has one.
	Time time.Time
	// Correlation is set for correlation rule matches.
	Correlation *CorrelationResult
}

// Field is one field value reported with a match.
type Field struct {
	Name  string
	Value string
}

// Skipped is a rule that Compile left out, with the reason.
type Skipped struct {
	Rule   *sigma.Rule
	Reason string
	// Unmapped says the reason is that the mapping does not cover the
	// rule's log source (no parser Tarian knows produces it).
	Unmapped bool
	// ReplacedBy is the later rule with the same id that took this one's
	// place (a rule imported again, edited, from another file).
	ReplacedBy *sigma.Rule
}

// Engine is a compiled rule set. It is immutable and safe for concurrent use.
type Engine struct {
	opts       Options
	mapping    *Mapping
	paths      *pathNode
	fieldIDs   map[string][]int32 // event field name -> field ids (itself, aliases)
	fieldNames []string           // id -> Sigma field name
	ids        map[string]int32   // Sigma field name -> id
	timeFields []int32
	aliases    [][2]int32 // to, from
	patterns   []pattern
	// commonField marks fields whose values are shared by whole log sources,
	// poor literals for the prefilter.
	commonField map[int32]bool
	needAll     bool

	rules    []*crule
	variants []*variant
	sets     []*ruleSet
	byChan   map[string][]*variant
	anyChan  []*variant
	chanID   int32
	corrs    []*ccorr
	// corrByKey finds a correlation by its state key; hasClosing says some
	// correlation is judged when its window closes (lt, lte).
	corrByKey  map[string]*ccorr
	hasClosing bool
	skipped    []Skipped
	byRef      map[string][]*crule // rule id or name -> rules
	filters    [][]node            // per rule: filter conditions ANDed with it
	pool       sync.Pool
}

// crule is one compiled detection rule.
type crule struct {
	idx      int
	rule     *sigma.Rule
	cond     node
	fields   []int32
	generate bool     // emit its own matches
	corrs    []*ccorr // correlations that use it
	variants []*variant
}

// variant is one "when" alternative of a mapped log source with the rules
// that use it.
type variant struct {
	conds   []varCond
	renames []rename
	// prefix, when set, is the rename "*": the rules' other fields are
	// read from prefix+name (its renames are added once the rules are
	// compiled).
	prefix string
	*ruleSet
}

// rename fills field to, when the event lacks it, from the fields from
// (one: shared; several: their values gathered).
type rename struct {
	to   int32
	from []int32
}

// pattern is an event field name with "*" segments (each any one key),
// from a rename: the values of every field it matches are gathered under
// id.
type pattern struct {
	prefix string // the name up to the first "*"
	segs   []string
	id     int32
	keys   bool // the last segment is "*": the keys it matches are values too
}

// ruleSet is the rules of one mapped log source, shared by its variants,
// with their prefilter.
type ruleSet struct {
	// source names the mapped log source ("product|category|service").
	source string
	rules  []*crule
	// Prefilter: rules without a required literal are always candidates.
	always  []int32 // indexes into rules
	filters []litFilter
}

type varCond struct {
	field int32
	vals  [][]byte // lower-cased; nil: any value present
}

// litFilter is an Aho-Corasick automaton over the literals that rules of a
// variant require in one field.
type litFilter struct {
	field int32
	auto  *ac.Automaton
	rules [][]int32 // pattern id -> indexes into variant.rules
	first *gramSet  // a quick check before the automaton
}

// Compile builds an engine from parsed rules: detection rules, filters
// (applied to the rules they name) and correlations. A rule that cannot be
// compiled, or whose log source the mapping does not cover, is left out and
// listed by Skipped; the error is only for an unusable mapping.
func Compile(rules []*sigma.Rule, opts Options) (*Engine, error) {
	m := opts.Mapping
	if m == nil {
		m = DefaultMapping()
	}
	e := &Engine{
		opts:     opts,
		mapping:  m,
		paths:    buildPathTree(m.Fields),
		fieldIDs: map[string][]int32{},
		ids:      map[string]int32{},
		byChan:   map[string][]*variant{},
	}
	e.chanID = e.fieldID("Channel")
	e.commonField = map[int32]bool{}
	for _, f := range []string{"Channel", "Provider_Name", "Provider_Guid", "Level", "Task", "Opcode", "Keywords", "Version"} {
		e.commonField[e.fieldID(f)] = true
	}
	for _, f := range m.Fields.Time {
		e.timeFields = append(e.timeFields, e.fieldID(f))
	}
	// Log-source variants, created on demand per mapping entry.
	lsVariants := map[string][]*variant{}
	variantsFor := func(r *sigma.Rule) ([]*variant, error) {
		ls, ok := m.lookup(r.LogSource.Product, r.LogSource.Category, r.LogSource.Service)
		if !ok {
			return nil, fmt.Errorf("logsource (product %q, category %q, service %q) is not in the mapping", r.LogSource.Product, r.LogSource.Category, r.LogSource.Service)
		}
		if vs, ok := lsVariants[ls.key()]; ok {
			return vs, nil
		}
		var vs []*variant
		set := &ruleSet{source: ls.key()}
		e.sets = append(e.sets, set)
		for _, alt := range ls.When {
			v := &variant{ruleSet: set}
			var chans []string
			names := make([]string, 0, len(alt.Fields))
			for f := range alt.Fields {
				names = append(names, f)
			}
			slices.Sort(names)
			for _, f := range names {
				vals := alt.Fields[f]
				c := varCond{field: e.fieldID(f)}
				wildcard := false
				for _, x := range vals {
					if x == "*" {
						wildcard = true
					}
					c.vals = append(c.vals, []byte(strings.ToLower(x)))
				}
				if wildcard {
					c.vals = nil
				}
				if f == "Channel" && !wildcard {
					chans = vals
				}
				v.conds = append(v.conds, c)
			}
			for to, from := range alt.Rename {
				if to == "*" {
					v.prefix = strings.TrimSuffix(from[0], "*")
					continue
				}
				r := rename{to: e.fieldID(to)}
				for _, f := range from {
					r.from = append(r.from, e.sourceID(f))
				}
				v.renames = append(v.renames, r)
			}
			slices.SortFunc(v.renames, func(a, b rename) int { return int(a.to - b.to) })
			if len(chans) == 0 {
				e.anyChan = append(e.anyChan, v)
			}
			for _, ch := range chans {
				k := strings.ToLower(ch)
				e.byChan[k] = append(e.byChan[k], v)
			}
			e.variants = append(e.variants, v)
			vs = append(vs, v)
		}
		lsVariants[ls.key()] = vs
		return vs, nil
	}

	rules = e.latestByID(rules)
	byRef := map[string][]*crule{}
	var filters, corrs []*sigma.Rule
	// silent are the rules a retired correlation refers to: written as its
	// building blocks, they stay as silent as while it ran.
	silent := map[string]bool{}
	for _, r := range rules {
		if retired(r) {
			e.skipped = append(e.skipped, Skipped{Rule: r, Reason: fmt.Sprintf("status %s: retired, not evaluated", strings.ToLower(r.Status))})
			if r.Correlation != nil && !r.Correlation.Generate {
				for _, ref := range r.Correlation.Rules {
					silent[ref] = true
				}
			}
			continue
		}
		switch {
		case r.Filter != nil:
			filters = append(filters, r)
			continue
		case r.Correlation != nil:
			corrs = append(corrs, r)
			continue
		case r.Detection == nil:
			continue
		}
		vs, err := variantsFor(r)
		if err != nil {
			e.skipped = append(e.skipped, Skipped{Rule: r, Reason: err.Error(), Unmapped: true})
			continue
		}
		c := &crule{idx: len(e.rules), rule: r, generate: true, variants: vs}
		var cerr error
		c.cond, cerr = e.compileDetection(r.Detection, &c.fields)
		if cerr != nil {
			e.skipped = append(e.skipped, Skipped{Rule: r, Reason: cerr.Error()})
			continue
		}
		// The rule's own "fields" (what an analyst wants to see) are reported
		// with its matches too.
		for _, f := range r.Fields {
			if id := e.fieldID(f); !slices.Contains(c.fields, id) {
				c.fields = append(c.fields, id)
			}
		}
		e.rules = append(e.rules, c)
		vs[0].rules = append(vs[0].rules, c) // shared by all of vs
		for _, ref := range []string{r.ID, r.Name} {
			if ref != "" {
				byRef[ref] = append(byRef[ref], c)
			}
		}
	}
	e.prefixRenames()
	e.byRef = byRef
	e.filters = make([][]node, len(e.rules))
	e.addFilters(filters)
	e.corrByKey = map[string]*ccorr{}
	for ref := range silent {
		for _, c := range byRef[ref] {
			c.generate = false
		}
	}
	e.compileCorrelations(corrs, byRef)
	// Aliases: a field the rules use, filled from another event field when
	// the event lacks it.
	srcs := make([]string, 0, len(m.Fields.Alias))
	for src := range m.Fields.Alias {
		srcs = append(srcs, src)
	}
	slices.Sort(srcs)
	for _, src := range srcs {
		for _, to := range m.Fields.Alias[src] {
			if id, ok := e.ids[to]; ok {
				e.aliases = append(e.aliases, [2]int32{id, e.fieldID(src)})
			}
		}
	}
	for _, set := range e.sets {
		if err := e.buildPrefilter(set); err != nil {
			return nil, err
		}
	}
	e.pool.New = func() any { return newEvState(e) }
	return e, nil
}

// latestByID keeps, of the rules that share an id, the last one given: a
// rule given again (a new version of it, from another file or a later
// document) replaces the earlier one rather than run beside it and raise
// every alert twice. The earlier ones are listed by Skipped as replaced.
func (e *Engine) latestByID(rules []*sigma.Rule) []*sigma.Rule {
	last := map[string]*sigma.Rule{}
	for _, r := range rules {
		if r.ID != "" {
			last[r.ID] = r
		}
	}
	out := make([]*sigma.Rule, 0, len(rules))
	for _, r := range rules {
		if l := last[r.ID]; r.ID != "" && l != r {
			e.skipped = append(e.skipped, Skipped{Rule: r, ReplacedBy: l,
				Reason: fmt.Sprintf("replaced by the rule with the same id (%s) in %s:%d", r.ID, l.File, l.Line)})
			continue
		}
		out = append(out, r)
	}
	return out
}

// retired says the rule's status is deprecated or unsupported: in Sigma,
// a rule not to be used (replaced by another, or unusable as it stands).
// Importing a rule again with one of these is how it is retired.
func retired(r *sigma.Rule) bool {
	switch strings.ToLower(r.Status) {
	case "deprecated", "unsupported":
		return true
	}
	return false
}

// sourceID returns the field id of a rename source: the field itself, or
// for a name with "*" segments the id its matches are gathered under.
func (e *Engine) sourceID(name string) int32 {
	if !strings.Contains(name, "*") {
		return e.fieldID(name)
	}
	if id, ok := e.ids[name]; ok {
		return id
	}
	id := e.fieldID(name)
	segs := strings.Split(name, ".")
	e.patterns = append(e.patterns, pattern{prefix: name[:strings.IndexByte(name, '*')], segs: segs, id: id, keys: segs[len(segs)-1] == "*"})
	return id
}

// prefixRenames adds, to each variant with a prefix ("*" rename), a
// rename of every field its rules test (and do not rename otherwise)
// from the prefixed name.
func (e *Engine) prefixRenames() {
	for _, v := range e.variants {
		if v.prefix == "" {
			continue
		}
		seen := map[int32]bool{}
		for _, r := range v.renames {
			seen[r.to] = true
		}
		for _, c := range v.rules {
			for _, id := range c.fields {
				if seen[id] {
					continue
				}
				seen[id] = true
				v.renames = append(v.renames, rename{to: id, from: []int32{e.fieldID(v.prefix + e.fieldNames[id])}})
			}
		}
		slices.SortFunc(v.renames, func(a, b rename) int { return int(a.to - b.to) })
	}
}

func (e *Engine) addFilters(filters []*sigma.Rule) {
	for _, f := range filters {
		if f.Filter == nil {
			continue
		}
		var fields []int32
		n, err := e.compileDetection(f.Filter.Detection, &fields)
		if err != nil {
			e.skipped = append(e.skipped, Skipped{Rule: f, Reason: err.Error()})
			continue
		}
		if retired(f) {
			e.skipped = append(e.skipped, Skipped{Rule: f, Reason: fmt.Sprintf("status %s: retired, not applied", strings.ToLower(f.Status))})
			continue
		}
		var unknown []string
		for _, ref := range f.Filter.Rules {
			if len(e.byRef[ref]) == 0 {
				unknown = append(unknown, fmt.Sprintf("%q", ref))
			}
			for _, c := range e.byRef[ref] {
				e.filters[c.idx] = append(e.filters[c.idx], n)
			}
		}
		if len(unknown) > 0 && len(unknown) == len(f.Filter.Rules) {
			// A mistyped id would otherwise exclude nothing, silently.
			e.skipped = append(e.skipped, Skipped{Rule: f,
				Reason: fmt.Sprintf("filter is for %s, not an evaluated rule here (a mistyped id or name?): it excludes nothing", strings.Join(unknown, ", "))})
		}
	}
}

// WithFilters returns an engine that shares e's compiled rules and adds
// the given filter documents (for example one tenant's exclusions) to the
// filters e already has. It is cheap next to Compile. Filters that do not
// compile are listed by the new engine's Skipped.
func (e *Engine) WithFilters(filters []*sigma.Rule) *Engine {
	c := &Engine{
		opts: e.opts, mapping: e.mapping, paths: e.paths,
		fieldIDs: make(map[string][]int32, len(e.fieldIDs)), fieldNames: slices.Clone(e.fieldNames),
		ids: make(map[string]int32, len(e.ids)), timeFields: e.timeFields, aliases: e.aliases, patterns: e.patterns,
		commonField: e.commonField, needAll: e.needAll,
		rules: e.rules, variants: e.variants, sets: e.sets, byChan: e.byChan, anyChan: e.anyChan,
		chanID: e.chanID, corrs: e.corrs, byRef: e.byRef, corrByKey: e.corrByKey, hasClosing: e.hasClosing,
		filters: make([][]node, len(e.filters)),
	}
	for k, v := range e.fieldIDs {
		c.fieldIDs[k] = slices.Clone(v)
	}
	for k, v := range e.ids {
		c.ids[k] = v
	}
	for i, f := range e.filters {
		c.filters[i] = slices.Clone(f)
	}
	c.addFilters(c.latestByID(filters))
	c.pool.New = func() any { return newEvState(c) }
	return c
}

// Rules returns the number of compiled detection and correlation rules.
func (e *Engine) Rules() int { return len(e.rules) + len(e.corrs) }

// RuleSources calls fn with each rule that raises alerts and the mapped
// log source its events must come from ("product|category|service", as
// State.Sources names them): a correlation's is its first detection
// rule's. Filters, and rules only a correlation reads, are left out.
func (e *Engine) RuleSources(fn func(r *sigma.Rule, source string)) {
	for _, c := range e.rules {
		if c.generate && len(c.variants) > 0 {
			fn(c.rule, c.variants[0].source)
		}
	}
	for _, c := range e.corrs {
		if src := c.source(); c.generate && src != "" {
			fn(c.rule, src)
		}
	}
}

// source is the log source of c's first detection rule, through chained
// correlations.
func (c *ccorr) source() string {
	for _, m := range c.members {
		if m.rule != nil && len(m.rule.variants) > 0 {
			return m.rule.variants[0].source
		}
		if m.corr != nil {
			if src := m.corr.source(); src != "" {
				return src
			}
		}
	}
	return ""
}

// Skipped lists the rules Compile left out.
func (e *Engine) Skipped() []Skipped { return e.skipped }

// fieldID returns the id of a Sigma field name, registering it.
func (e *Engine) fieldID(name string) int32 {
	if id, ok := e.ids[name]; ok {
		return id
	}
	id := int32(len(e.fieldNames))
	e.fieldNames = append(e.fieldNames, name)
	e.ids[name] = id
	e.fieldIDs[name] = append(e.fieldIDs[name], id)
	return id
}

func (e *Engine) compileDetection(d *sigma.Detection, fields *[]int32) (node, error) {
	searches := map[string]node{}
	for _, name := range d.Order {
		n, err := e.compileSearch(d.Searches[name], fields)
		if err != nil {
			return nil, fmt.Errorf("search %q: %w", name, err)
		}
		searches[name] = n
	}
	var conds orNode
	for _, c := range d.Conditions {
		n, err := compileExpr(c, searches)
		if err != nil {
			return nil, err
		}
		conds = append(conds, n)
	}
	if len(conds) == 1 {
		return conds[0], nil
	}
	return conds, nil
}

func compileExpr(x sigma.Expr, searches map[string]node) (node, error) {
	switch x := x.(type) {
	case sigma.And:
		var out andNode
		for _, y := range x.X {
			n, err := compileExpr(y, searches)
			if err != nil {
				return nil, err
			}
			out = append(out, n)
		}
		return out, nil
	case sigma.Or:
		var out orNode
		for _, y := range x.X {
			n, err := compileExpr(y, searches)
			if err != nil {
				return nil, err
			}
			out = append(out, n)
		}
		return out, nil
	case sigma.Not:
		n, err := compileExpr(x.X, searches)
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	case sigma.Ident:
		n, ok := searches[x.Name]
		if !ok {
			return nil, fmt.Errorf("undefined search %q", x.Name)
		}
		return n, nil
	case sigma.Of:
		var xs []node
		for _, name := range x.Names {
			xs = append(xs, searches[name])
		}
		need := x.Count
		if need == 0 {
			need = len(xs)
		}
		if need == 1 {
			return orNode(xs), nil
		}
		if need == len(xs) {
			return andNode(xs), nil
		}
		return ofNode{need: need, xs: xs}, nil
	}
	return nil, fmt.Errorf("BUG: unknown condition node %T", x)
}

func (e *Engine) compileSearch(s *sigma.Search, fields *[]int32) (node, error) {
	var alts orNode
	for _, alt := range s.Alternatives {
		var and andNode
		for _, m := range alt {
			n, err := e.compileMatch(m, fields)
			if err != nil {
				return nil, err
			}
			and = append(and, n)
		}
		if len(and) == 1 {
			alts = append(alts, and[0])
		} else {
			alts = append(alts, and)
		}
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return alts, nil
}

func (e *Engine) compileMatch(m *sigma.Match, fields *[]int32) (*fieldNode, error) {
	n := &fieldNode{field: -1, name: m.Field, all: m.All, negate: m.Negate}
	if m.Field != "" {
		n.field = e.fieldID(m.Field)
		if !slices.Contains(*fields, n.field) {
			*fields = append(*fields, n.field)
		}
	} else {
		e.needAll = true
	}
	add := func(vm valueMatcher, group int) {
		n.matchers = append(n.matchers, vm)
		n.groups = append(n.groups, group)
		if group+1 > n.nGroups {
			n.nGroups = group + 1
		}
	}
	switch m.Op {
	case sigma.OpExists:
		if m.Values[0].Bool {
			n.exists = 1
		} else {
			n.exists, n.onMissing = 2, true
		}
		return n, nil
	case sigma.OpRegex:
		for _, v := range m.Values {
			src := v.Regex.String()
			rm := regexMatcher{re: v.Regex, lits: regexLiterals(src, minLiteral)}
			if !e.opts.Naive { // the naive baseline runs every regexp
				rm.need = regexNeeds(src)
			}
			add(rm, v.Group)
		}
	case sigma.OpCIDR:
		for _, v := range m.Values {
			addr, _ := netip.AddrFromSlice(v.Net.IP)
			ones, _ := netMaskSize(v.Net.Mask)
			add(cidrMatcher{netip.PrefixFrom(addr.Unmap(), ones)}, v.Group)
		}
	case sigma.OpGT, sigma.OpGTE, sigma.OpLT, sigma.OpLTE:
		for _, v := range m.Values {
			if m.TimePart != "" {
				add(timeMatcher{part: m.TimePart, op: m.Op, num: v.Num}, v.Group)
			} else {
				add(compareMatcher{op: m.Op, num: v.Num}, v.Group)
			}
		}
	case sigma.OpFieldRef:
		for _, v := range m.Values {
			other := e.fieldID(v.Text)
			add(fieldRefMatcher{other: other, kind: m.FieldRefKind, cased: m.Cased}, v.Group)
		}
	default:
		for _, v := range m.Values {
			switch {
			case m.TimePart != "":
				add(timeMatcher{part: m.TimePart, op: sigma.OpPattern, num: v.Num}, v.Group)
			case v.Kind == sigma.KindNull:
				add(nullMatcher{}, v.Group)
				n.matchNull = true
			case v.Kind == sigma.KindNumber:
				add(numberMatcher{text: []byte(v.Text), num: v.Num}, v.Group)
			case m.Expand:
				pats, ok := e.expand(v.Pattern)
				if !ok {
					add(constMatcher(false), v.Group)
					continue
				}
				for _, p := range pats {
					add(newGlob(keywordPattern(m, p), m.Cased), v.Group)
				}
			default:
				add(newGlob(keywordPattern(m, v.Pattern), m.Cased), v.Group)
			}
		}
	}
	// An absent field matches null, and a neq test.
	n.onMissing = n.matchNull && !n.all || n.negate
	return n, nil
}

// keywordPattern gives keyword searches substring semantics.
func keywordPattern(m *sigma.Match, p sigma.Pattern) sigma.Pattern {
	if m.Field != "" {
		return p
	}
	out := make(sigma.Pattern, 0, len(p)+2)
	if len(p) == 0 || p[0].Kind != sigma.TokStar {
		out = append(out, sigma.Token{Kind: sigma.TokStar})
	}
	out = append(out, p...)
	if len(p) == 0 || p[len(p)-1].Kind != sigma.TokStar {
		out = append(out, sigma.Token{Kind: sigma.TokStar})
	}
	return out
}

type constMatcher bool

func (c constMatcher) match(*evState, int32) bool { return bool(c) }

// expand replaces the placeholders of an |expand value with their
// configured values, one pattern per combination. It reports false when a
// placeholder has no values: the value then matches nothing.
func (e *Engine) expand(p sigma.Pattern) ([]sigma.Pattern, bool) {
	out := []sigma.Pattern{nil}
	for _, t := range p {
		if t.Kind != sigma.TokPlaceholder {
			for i := range out {
				out[i] = appendToken(out[i], t)
			}
			continue
		}
		vals := e.opts.Placeholders[t.Text]
		if len(vals) == 0 {
			return nil, false
		}
		next := make([]sigma.Pattern, 0, len(out)*len(vals))
		for _, o := range out {
			for _, v := range vals {
				next = append(next, appendToken(slices.Clone(o), sigma.Token{Kind: sigma.TokLit, Text: v}))
			}
		}
		out = next
	}
	return out, true
}

// appendToken appends t to p, merging adjacent literals as a Pattern
// requires.
func appendToken(p sigma.Pattern, t sigma.Token) sigma.Pattern {
	n := len(p)
	if n > 0 && t.Kind == sigma.TokLit && p[n-1].Kind == sigma.TokLit {
		p[n-1].Text += t.Text
		return p
	}
	if t.Kind == sigma.TokLit && t.Text == "" || t.Kind == sigma.TokStar && n > 0 && p[n-1].Kind == sigma.TokStar {
		return p // an empty value between two stars
	}
	return append(p, t)
}

func netMaskSize(mask []byte) (int, int) {
	ones := 0
	for _, b := range mask {
		for i := 7; i >= 0; i-- {
			if b&(1<<i) != 0 {
				ones++
			}
		}
	}
	return ones, len(mask) * 8
}

// Evaluate runs every rule on one JSON event and calls fn for each match.
// Correlation rules need state: use EvaluateWith.
func (e *Engine) Evaluate(raw []byte, fn func(Match)) error {
	return e.EvaluateWith(nil, raw, fn)
}

// EvaluateWith is Evaluate with correlation state (one State per tenant).
// st may be nil, which skips correlations.
func (e *Engine) EvaluateWith(cs *State, raw []byte, fn func(Match)) error {
	st := e.pool.Get().(*evState)
	defer e.pool.Put(st)
	if err := st.load(raw); err != nil {
		return err
	}
	st.ref = event.Ref{}
	e.evaluate(st, cs, fn)
	return nil
}

// EvaluateFields runs every rule on one parsed event (internal/parse's
// flat, dotted fields) with correlation state cs (nil skips correlations).
// Names go through the mapping as a JSON event's paths do, so a field
// flattened from Event.EventData.Image answers to Image; a value holding a
// JSON array counts as each of its elements.
func (e *Engine) EvaluateFields(cs *State, fields []event.Field, fn func(Match)) {
	e.EvaluateEvent(cs, event.Ref{}, fields, fn)
}

// EvaluateEvent is EvaluateFields for the event at ref (its bus position;
// the zero Ref names none): a correlation's match lists the references of
// the events that took part (CorrelationResult.Refs).
func (e *Engine) EvaluateEvent(cs *State, ref event.Ref, fields []event.Field, fn func(Match)) {
	st := e.pool.Get().(*evState)
	defer e.pool.Put(st)
	st.loadFields(fields)
	st.ref = ref
	e.evaluate(st, cs, fn)
}

// evaluate runs the rules on the loaded event.
func (e *Engine) evaluate(st *evState, cs *State, fn func(Match)) {
	st.off = nil
	if cs != nil {
		st.off = cs.disabled()
	}
	for _, a := range e.aliases {
		st.alias(a[0], a[1])
	}
	if cs != nil && e.hasClosing {
		if t, ok := st.eventTime(); ok {
			cs.advance(e, t, fn)
		}
	}
	if e.opts.Naive {
		e.evalNaive(st, cs, fn)
		return
	}
	ch := st.first(e.chanID)
	var chLower []byte
	if ch >= 0 {
		chLower = st.lowerOf(ch)
	}
	for _, v := range e.byChan[string(chLower)] {
		e.evalVariant(st, cs, v, fn)
	}
	for _, v := range e.anyChan {
		e.evalVariant(st, cs, v, fn)
	}
}

func (e *Engine) variantMatches(st *evState, v *variant) bool {
	for _, c := range v.conds {
		h := st.first(c.field)
		if h < 0 {
			return false
		}
		if c.vals == nil {
			continue
		}
		ok := false
		for i := h; i >= 0 && !ok; i = st.vals[i].next {
			l := st.lowerOf(i)
			for _, want := range c.vals {
				if string(l) == string(want) {
					ok = true
					break
				}
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (e *Engine) evalVariant(st *evState, cs *State, v *variant, fn func(Match)) {
	if len(v.rules) == 0 || !e.variantMatches(st, v) {
		return
	}
	if cs != nil {
		cs.saw(v.source)
	}
	st.rename(v.renames)
	defer st.unrename()
	// Candidates: rules with no required literal, plus those whose literal
	// occurs in the event.
	st.cands = st.cands[:0]
	st.cands = append(st.cands, v.always...)
	for fi := range v.filters {
		f := &v.filters[fi]
		if f.field < 0 { // keyword literals: any value of the event
			for _, i := range st.all {
				if f.first.mayHold(st.vals[i].raw) {
					st.scan(f, st.lowerOf(i), v)
				}
			}
			continue
		}
		for i := st.first(f.field); i >= 0; i = st.vals[i].next {
			if st.vals[i].null || !f.first.mayHold(st.vals[i].raw) {
				continue
			}
			st.scan(f, st.lowerOf(i), v)
		}
	}
	if len(v.filters) > 0 {
		slices.Sort(st.cands)
	}
	for _, ri := range st.cands {
		e.tryRule(st, cs, v.rules[ri], fn)
	}
}

// scan runs one literal automaton and marks the rules it finds.
func (st *evState) scan(f *litFilter, s []byte, v *variant) {
	st.scanWith(f.auto, f, s, v)
}

func (st *evState) scanWith(a *ac.Automaton, f *litFilter, s []byte, v *variant) {
	for _, m := range a.FindAllOverlapping(s) {
		for _, ri := range f.rules[m.PatternID] {
			gi := v.rules[ri].idx
			if st.mark[gi] != st.stamp {
				st.mark[gi] = st.stamp
				st.cands = append(st.cands, ri)
			}
		}
	}
}

func (e *Engine) tryRule(st *evState, cs *State, r *crule, fn func(Match)) {
	if st.fired[r.idx] == st.stamp {
		return
	}
	if !r.cond.eval(st) {
		return
	}
	for _, f := range e.filters[r.idx] {
		if !f.eval(st) {
			return
		}
	}
	st.fired[r.idx] = st.stamp
	if r.generate && !st.off[r.rule.ID] {
		fn(e.match(st, r))
	}
	if cs != nil {
		for _, c := range r.corrs {
			cs.observe(st, c, r, fn)
		}
	}
}

func (e *Engine) evalNaive(st *evState, cs *State, fn func(Match)) {
	for _, r := range e.rules {
		for _, v := range r.variants {
			if e.variantMatches(st, v) {
				st.rename(v.renames)
				e.tryRule(st, cs, r, fn)
				st.unrename()
				break
			}
		}
	}
}

func (e *Engine) match(st *evState, r *crule) Match {
	m := Match{
		RuleID: r.rule.ID, Title: r.rule.Title, Level: r.rule.Level, Author: r.rule.Author,
		Status: r.rule.Status, Tags: r.rule.Tags, Rule: r.rule,
	}
	for _, id := range r.fields {
		for i := st.first(id); i >= 0; i = st.vals[i].next {
			if !st.vals[i].null {
				m.Fields = append(m.Fields, Field{Name: e.fieldNames[id], Value: string(st.vals[i].raw)})
			}
		}
	}
	if t, ok := st.eventTime(); ok {
		m.Time = t
	}
	return m
}
