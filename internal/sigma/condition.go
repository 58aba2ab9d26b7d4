package sigma

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Expr is a node of a parsed condition.
type Expr interface{ expr() }

// And is true when every operand is.
type And struct{ X []Expr }

// Or is true when any operand is.
type Or struct{ X []Expr }

// Not negates X.
type Not struct{ X Expr }

// Ident refers to one search.
type Ident struct{ Name string }

// Of is `N of pattern`, `all of pattern`, `N of them` or `all of them`,
// with the pattern already resolved to the search names it covers.
type Of struct {
	Count   int // 0 means all
	Pattern string
	Names   []string
}

func (And) expr()   {}
func (Or) expr()    {}
func (Not) expr()   {}
func (Ident) expr() {}
func (Of) expr()    {}

// FormatExpr renders e in a canonical, fully parenthesised form.
func FormatExpr(e Expr) string {
	switch e := e.(type) {
	case And:
		return joinExprs(e.X, " and ")
	case Or:
		return joinExprs(e.X, " or ")
	case Not:
		return "not " + FormatExpr(e.X)
	case Ident:
		return e.Name
	case Of:
		n := "all"
		if e.Count > 0 {
			n = strconv.Itoa(e.Count)
		}
		return n + " of " + e.Pattern
	}
	return "?"
}

func joinExprs(xs []Expr, sep string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = FormatExpr(x)
	}
	return "(" + strings.Join(parts, sep) + ")"
}

type condToken struct {
	kind string // "(", ")", "and", "or", "not", "of", "them", "ident", "|"
	text string
	pos  int
}

func lexCondition(s string) ([]condToken, error) {
	var toks []condToken
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			toks = append(toks, condToken{kind: string(c), pos: i})
			i++
		case c == '|':
			// The rest is a deprecated aggregation; the parser reports it.
			toks = append(toks, condToken{kind: "|", pos: i})
			return toks, nil
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n()|", rune(s[j])) {
				j++
			}
			w := s[i:j]
			switch strings.ToLower(w) {
			case "and", "or", "not", "of", "them":
				toks = append(toks, condToken{kind: strings.ToLower(w), text: w, pos: i})
			default:
				for k := 0; k < len(w); k++ {
					ch := w[k]
					if !(isWordByte(ch) || ch == '*' || ch == '-' || ch == '.' || ch >= 0x80) {
						return nil, fmt.Errorf("unexpected character %q at offset %d", ch, i+k)
					}
				}
				toks = append(toks, condToken{kind: "ident", text: w, pos: i})
			}
			i = j
		}
	}
	return toks, nil
}

type condParser struct {
	toks     []condToken
	i        int
	searches map[string]*Search
	order    []string
	depth    int
}

// maxConditionDepth bounds nesting so hostile input cannot exhaust the stack.
const maxConditionDepth = 200

// ParseCondition parses a condition against the given search names (in
// file order). Errors wrap ErrInvalid, or ErrUnsupported for the
// deprecated aggregation syntax (`| count() ...`).
func ParseCondition(s string, names []string) (Expr, error) {
	m := make(map[string]*Search, len(names))
	for _, n := range names {
		m[n] = nil
	}
	return parseCondition(s, m, names)
}

func parseCondition(s string, searches map[string]*Search, order []string) (Expr, error) {
	toks, err := lexCondition(s)
	if err != nil {
		return nil, fmt.Errorf("condition: %v: %w", err, ErrInvalid)
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("condition: empty: %w", ErrInvalid)
	}
	p := &condParser{toks: toks, searches: searches, order: order}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		t := p.toks[p.i]
		if t.kind == "|" {
			return nil, fmt.Errorf("condition: aggregation expressions (%q) are deprecated in Sigma v2; use a correlation rule: %w", strings.TrimSpace(s[t.pos:]), ErrUnsupported)
		}
		return nil, fmt.Errorf("condition: unexpected %q at offset %d: %w", tokText(t), t.pos, ErrInvalid)
	}
	return e, nil
}

func tokText(t condToken) string {
	if t.text != "" {
		return t.text
	}
	return t.kind
}

func (p *condParser) peek() (condToken, bool) {
	if p.i < len(p.toks) {
		return p.toks[p.i], true
	}
	return condToken{}, false
}

func (p *condParser) or() (Expr, error) {
	x, err := p.and()
	if err != nil {
		return nil, err
	}
	xs := []Expr{x}
	for {
		t, ok := p.peek()
		if !ok || t.kind != "or" {
			break
		}
		p.i++
		y, err := p.and()
		if err != nil {
			return nil, err
		}
		xs = append(xs, y)
	}
	if len(xs) == 1 {
		return x, nil
	}
	return Or{X: xs}, nil
}

func (p *condParser) and() (Expr, error) {
	x, err := p.not()
	if err != nil {
		return nil, err
	}
	xs := []Expr{x}
	for {
		t, ok := p.peek()
		if !ok || t.kind != "and" {
			break
		}
		p.i++
		y, err := p.not()
		if err != nil {
			return nil, err
		}
		xs = append(xs, y)
	}
	if len(xs) == 1 {
		return x, nil
	}
	return And{X: xs}, nil
}

func (p *condParser) not() (Expr, error) {
	t, ok := p.peek()
	if ok && t.kind == "not" {
		p.i++
		p.depth++
		if p.depth > maxConditionDepth {
			return nil, fmt.Errorf("condition: nested too deeply: %w", ErrInvalid)
		}
		x, err := p.not()
		p.depth--
		if err != nil {
			return nil, err
		}
		return Not{X: x}, nil
	}
	return p.primary()
}

func (p *condParser) primary() (Expr, error) {
	t, ok := p.peek()
	if !ok {
		return nil, fmt.Errorf("condition: unexpected end: %w", ErrInvalid)
	}
	switch t.kind {
	case "(":
		p.i++
		p.depth++
		if p.depth > maxConditionDepth {
			return nil, fmt.Errorf("condition: nested too deeply: %w", ErrInvalid)
		}
		x, err := p.or()
		p.depth--
		if err != nil {
			return nil, err
		}
		c, ok := p.peek()
		if !ok || c.kind != ")" {
			return nil, fmt.Errorf("condition: missing ')' for '(' at offset %d: %w", t.pos, ErrInvalid)
		}
		p.i++
		return x, nil
	case "ident":
		p.i++
		if n, ok := p.peek(); ok && n.kind == "of" {
			return p.of(t)
		}
		if strings.Contains(t.text, "*") {
			return nil, fmt.Errorf("condition: wildcard %q outside of 'x of': %w", t.text, ErrInvalid)
		}
		if _, ok := p.searches[t.text]; !ok {
			return nil, fmt.Errorf("condition: undefined search identifier %q: %w", t.text, ErrInvalid)
		}
		return Ident{Name: t.text}, nil
	}
	return nil, fmt.Errorf("condition: unexpected %q at offset %d: %w", tokText(t), t.pos, ErrInvalid)
}

func (p *condParser) of(q condToken) (Expr, error) {
	p.i++ // "of"
	var count int
	switch w := strings.ToLower(q.text); w {
	case "all":
		count = 0
	case "any":
		count = 1
	default:
		n, err := strconv.Atoi(w)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("condition: %q before 'of' must be a positive number or 'all': %w", q.text, ErrInvalid)
		}
		count = n
	}
	t, ok := p.peek()
	if !ok {
		return nil, fmt.Errorf("condition: missing target after 'of': %w", ErrInvalid)
	}
	p.i++
	var names []string
	var pattern string
	switch t.kind {
	case "them":
		pattern = "them"
		for _, n := range p.order {
			// Names starting with an underscore are excluded from "them".
			if !strings.HasPrefix(n, "_") {
				names = append(names, n)
			}
		}
	case "ident":
		pattern = t.text
		for _, n := range p.order {
			if ok, _ := path.Match(escapeGlob(pattern), n); ok {
				names = append(names, n)
			}
		}
	default:
		return nil, fmt.Errorf("condition: expected identifier or 'them' after 'of', got %q: %w", tokText(t), ErrInvalid)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("condition: %q matches no search identifier: %w", pattern, ErrInvalid)
	}
	return Of{Count: count, Pattern: pattern, Names: names}, nil
}

// escapeGlob keeps '*' as the only special character for path.Match.
func escapeGlob(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
