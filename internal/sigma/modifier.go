package sigma

import (
	"encoding/base64"
	"fmt"
	"net"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
)

// ModifierNames lists every value modifier this package understands.
func ModifierNames() []string {
	return []string{
		"contains", "startswith", "endswith", "all", "windash",
		"base64", "base64offset", "utf16le", "utf16be", "utf16", "wide",
		"re", "i", "m", "s", "cidr", "exists", "expand", "fieldref",
		"gt", "gte", "lt", "lte", "neq", "cased",
		"minute", "hour", "day", "week", "month", "year",
	}
}

func buildMatch(field string, mods []string, raws []rawValue) (*Match, error) {
	m, err := buildMatchValues(field, mods, raws)
	if err != nil {
		return nil, err
	}
	if m.Op != OpPattern || m.TimePart != "" {
		for i := range m.Values {
			m.Values[i].Group = i
		}
	}
	return m, nil
}

func buildMatchValues(field string, mods []string, raws []rawValue) (*Match, error) {
	m := &Match{Field: field, Modifiers: mods}
	var reFlags string
	seenType := ""
	setType := func(op Op, name string) error {
		if seenType != "" && seenType != name {
			return fmt.Errorf("modifiers %q and %q cannot be combined", seenType, name)
		}
		seenType = name
		m.Op = op
		return nil
	}
	// First pass: type-defining modifiers.
	for _, mod := range mods {
		var err error
		switch mod {
		case "re":
			err = setType(OpRegex, mod)
		case "cidr":
			err = setType(OpCIDR, mod)
		case "exists":
			err = setType(OpExists, mod)
		case "fieldref":
			err = setType(OpFieldRef, mod)
		case "gt":
			err = setType(OpGT, mod)
		case "gte":
			err = setType(OpGTE, mod)
		case "lt":
			err = setType(OpLT, mod)
		case "lte":
			err = setType(OpLTE, mod)
		case "i", "m", "s":
			reFlags += mod
		case "all":
			m.All = true
		case "cased":
			m.Cased = true
		case "neq":
			m.Negate = true
		case "expand":
			m.Expand = true
		case "minute", "hour", "day", "week", "month", "year":
			if m.TimePart != "" {
				return nil, fmt.Errorf("two time modifiers %q and %q", m.TimePart, mod)
			}
			m.TimePart = mod
		case "contains", "startswith", "endswith", "windash", "base64", "base64offset", "utf16le", "utf16be", "utf16", "wide":
		case "":
			return nil, fmt.Errorf("empty modifier in %q", field+"|"+strings.Join(mods, "|"))
		default:
			return nil, fmt.Errorf("unknown modifier %q", mod)
		}
		if err != nil {
			return nil, err
		}
	}
	if reFlags != "" && m.Op != OpRegex {
		return nil, fmt.Errorf("modifiers i, m and s apply only to re")
	}
	switch m.Op {
	case OpRegex:
		return m, regexValues(m, raws, reFlags, mods)
	case OpCIDR:
		return m, cidrValues(m, raws)
	case OpExists:
		if len(raws) != 1 || raws[0].tag != "!!bool" {
			return nil, fmt.Errorf("exists takes true or false")
		}
		m.Values = []Value{{Kind: KindBool, Bool: raws[0].text == "true", Text: raws[0].text}}
		return m, nil
	case OpGT, OpGTE, OpLT, OpLTE:
		for _, r := range raws {
			f, err := strconv.ParseFloat(r.text, 64)
			if err != nil {
				return nil, fmt.Errorf("%s needs a number, got %q", m.Op, r.text)
			}
			m.Values = append(m.Values, Value{Kind: KindNumber, Num: f, Text: r.text})
		}
		return m, nil
	case OpFieldRef:
		for _, mod := range mods {
			switch mod {
			case "contains", "startswith", "endswith":
				m.FieldRefKind = mod
			case "fieldref", "all", "cased", "neq":
			default:
				return nil, fmt.Errorf("modifier %q cannot be combined with fieldref", mod)
			}
		}
		for _, r := range raws {
			if r.tag == "!!null" || r.text == "" {
				return nil, fmt.Errorf("fieldref needs a field name")
			}
			m.Values = append(m.Values, Value{Kind: KindString, Text: r.text, Pattern: Literal(r.text)})
		}
		return m, nil
	}
	if m.TimePart != "" {
		for _, r := range raws {
			f, err := strconv.ParseFloat(r.text, 64)
			if err != nil {
				return nil, fmt.Errorf("%s needs a number, got %q", m.TimePart, r.text)
			}
			m.Values = append(m.Values, Value{Kind: KindNumber, Num: f, Text: r.text, Pattern: Literal(r.text)})
		}
		return m, nil
	}
	return m, patternValues(m, raws, mods)
}

// patternValues applies the string modifiers, in the order written.
func patternValues(m *Match, raws []rawValue, mods []string) error {
	for gi, r := range raws {
		var v Value
		switch r.tag {
		case "!!null":
			v = Value{Kind: KindNull, Group: gi}
			m.Values = append(m.Values, v)
			continue
		case "!!int", "!!float":
			f, err := strconv.ParseFloat(strings.ReplaceAll(r.text, "_", ""), 64)
			if err != nil {
				// Hex or octal YAML ints: keep the text.
				if n, err2 := strconv.ParseInt(r.text, 0, 64); err2 == nil {
					f = float64(n)
				}
			}
			v = Value{Kind: KindNumber, Num: f, Text: r.text, Pattern: Literal(r.text)}
		case "!!bool":
			v = Value{Kind: KindBool, Bool: r.text == "true" || r.text == "True" || r.text == "TRUE", Text: r.text, Pattern: Literal(r.text)}
		default:
			v = Value{Kind: KindString, Text: r.text, Pattern: ParsePattern(r.text)}
			if m.Expand {
				v.Pattern = ParseExpandPattern(r.text)
			}
		}
		pats := []Pattern{v.Pattern}
		for _, mod := range mods {
			var next []Pattern
			for _, p := range pats {
				switch mod {
				case "wide", "utf16le", "utf16be", "utf16", "base64", "base64offset":
					if p.HasPlaceholders() {
						// The placeholder's values would be left unencoded.
						return fmt.Errorf("%s of a value with a placeholder: %q", mod, r.text)
					}
				}
				switch mod {
				case "contains":
					next = append(next, p.withStar(true, true))
				case "startswith":
					next = append(next, p.withStar(false, true))
				case "endswith":
					next = append(next, p.withStar(true, false))
				case "wide", "utf16le":
					next = append(next, p.mapLiterals(func(s string) string { return encodeUTF16(s, false, false) }))
				case "utf16be":
					next = append(next, p.mapLiterals(func(s string) string { return encodeUTF16(s, true, false) }))
				case "utf16":
					if p.HasWildcards() {
						return fmt.Errorf("utf16 (with byte order mark) of a value with wildcards")
					}
					next = append(next, Literal(encodeUTF16(p.LiteralText(), false, true)))
				case "base64":
					if p.HasWildcards() {
						return fmt.Errorf("base64 of a value with wildcards: %q", r.text)
					}
					next = append(next, Literal(base64.StdEncoding.EncodeToString([]byte(p.LiteralText()))))
				case "base64offset":
					if p.HasWildcards() {
						return fmt.Errorf("base64offset of a value with wildcards: %q", r.text)
					}
					for _, s := range base64Offsets(p.LiteralText()) {
						next = append(next, Literal(s))
					}
				case "windash":
					w, ok := windash(p)
					if !ok {
						return &Error{Kind: ErrUnsupported, Reason: fmt.Sprintf("windash of %q gives more than %d variants", r.text, maxWindashVariants)}
					}
					next = append(next, w...)
				default:
					next = append(next, p)
				}
			}
			pats = next
		}
		v.Group = gi
		if len(pats) == 1 && pats[0].String() == v.Pattern.String() {
			m.Values = append(m.Values, v)
			continue
		}
		for _, p := range pats {
			m.Values = append(m.Values, Value{Kind: KindString, Text: r.text, Pattern: p, Group: gi})
		}
	}
	return nil
}

func regexValues(m *Match, raws []rawValue, flags string, mods []string) error {
	for _, mod := range mods {
		switch mod {
		case "re", "i", "m", "s", "all", "neq":
		default:
			return fmt.Errorf("modifier %q cannot be combined with re", mod)
		}
	}
	prefix := ""
	if flags != "" {
		prefix = "(?" + dedupe(flags) + ")"
	}
	for _, r := range raws {
		if r.tag == "!!null" {
			return fmt.Errorf("re needs a pattern")
		}
		re, err := regexp.Compile(prefix + r.text)
		if err != nil {
			if reason, ok := unsupportedRegex(err, r.text); ok {
				return &Error{Line: r.line, Kind: ErrUnsupported, Reason: reason}
			}
			return &Error{Line: r.line, Kind: ErrInvalid, Reason: fmt.Sprintf("regular expression %q: %v", r.text, err)}
		}
		m.Values = append(m.Values, Value{Kind: KindString, Text: r.text, Regex: re})
	}
	return nil
}

func dedupe(s string) string {
	var b strings.Builder
	for _, c := range s {
		if !strings.ContainsRune(b.String(), c) {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// unsupportedRegex tells apart PCRE features that RE2 lacks (valid Sigma,
// unsupported here) from broken patterns.
func unsupportedRegex(err error, pattern string) (string, bool) {
	se, ok := err.(*syntax.Error)
	if !ok {
		return "", false
	}
	switch se.Code {
	case syntax.ErrInvalidPerlOp:
		switch {
		case strings.Contains(se.Expr, "(?="), strings.Contains(se.Expr, "(?!"):
			return fmt.Sprintf("regular expression %q uses a lookahead, which RE2 (Go regexp) cannot express", pattern), true
		case strings.Contains(se.Expr, "(?<=") || strings.Contains(se.Expr, "(?<!"):
			return fmt.Sprintf("regular expression %q uses a lookbehind, which RE2 (Go regexp) cannot express", pattern), true
		case strings.Contains(se.Expr, "(?>"):
			return fmt.Sprintf("regular expression %q uses an atomic group, which RE2 (Go regexp) cannot express", pattern), true
		}
		return fmt.Sprintf("regular expression %q uses Perl syntax RE2 (Go regexp) lacks: %s", pattern, se.Expr), true
	case syntax.ErrInvalidEscape:
		if len(se.Expr) == 2 && se.Expr[1] >= '1' && se.Expr[1] <= '9' {
			return fmt.Sprintf("regular expression %q uses a backreference (%s), which RE2 (Go regexp) cannot express", pattern, se.Expr), true
		}
		return fmt.Sprintf("regular expression %q uses escape %s, which RE2 (Go regexp) does not support", pattern, se.Expr), true
	case syntax.ErrInvalidRepeatOp:
		if strings.HasSuffix(se.Expr, "+") {
			return fmt.Sprintf("regular expression %q uses a possessive quantifier (%s), which RE2 (Go regexp) cannot express", pattern, se.Expr), true
		}
	case syntax.ErrInvalidRepeatSize, syntax.ErrLarge:
		return fmt.Sprintf("regular expression %q has a repetition larger than RE2 (Go regexp) allows (1000)", pattern), true
	}
	return "", false
}

func cidrValues(m *Match, raws []rawValue) error {
	for _, r := range raws {
		_, n, err := net.ParseCIDR(strings.TrimSpace(r.text))
		if err != nil {
			ip := net.ParseIP(strings.TrimSpace(r.text))
			if ip == nil {
				return fmt.Errorf("cidr: %q is not a network", r.text)
			}
			bits := 128
			if ip4 := ip.To4(); ip4 != nil {
				ip, bits = ip4, 32
			}
			n = &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}
		}
		ip := n.IP
		if ip4 := ip.To4(); ip4 != nil {
			ip = ip4
		}
		m.Values = append(m.Values, Value{Kind: KindString, Text: r.text, Net: &CIDR{IP: ip, Mask: n.Mask, Text: r.text}})
	}
	return nil
}
