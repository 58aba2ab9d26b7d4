package stixpattern

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// EvalError is a pattern that parses but cannot be evaluated against the
// given data (as the reference matcher's MatcherException).
type EvalError struct{ Msg string }

func (e *EvalError) Error() string { return e.Msg }

func evalErrf(format string, args ...any) *EvalError {
	return &EvalError{Msg: fmt.Sprintf(format, args...)}
}

// compiled is a comparison ready to run.
type compiled struct {
	c      *Comparison
	re     *regexp.Regexp // LIKE, MATCHES
	binOK  bool           // the regex only has code points < 256, so it may run on binary values
	prefix netip.Prefix   // ISSUBSET, ISSUPERSET
}

func compile(c *Comparison) (*compiled, error) {
	k := &compiled{c: c}
	switch c.Op {
	case OpIn:
		if !homogeneous(c.Set) {
			parts := make([]string, len(c.Set))
			for i, l := range c.Set {
				parts[i] = l.Raw
			}
			return nil, evalErrf("set literal of mixed types: (%s)", strings.Join(parts, ", "))
		}
	case OpLike:
		src := nfc(c.Value.Str)
		var b strings.Builder
		b.WriteString(`(?s)^`)
		for _, r := range src {
			switch r {
			case '%':
				b.WriteString(".*")
			case '_':
				b.WriteString(".")
			default:
				b.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		b.WriteString("$")
		k.re = regexp.MustCompile(b.String())
		k.binOK = latin1Only(src)
	case OpMatches:
		src := nfc(c.Value.Str)
		re, err := regexp.Compile(src)
		if err != nil {
			return nil, evalErrf("MATCHES %s: unsupported or invalid regular expression (Go RE2 syntax, no look-around or back-references): %v", c.Value.Raw, err)
		}
		k.re, k.binOK = re, latin1Only(src)
	case OpIsSubset, OpIsSuperset:
		p, ok := parsePrefix(c.Value.Str)
		if !ok {
			return nil, evalErrf("%s %s: not an IP address or CIDR block", c.Op, c.Value.Raw)
		}
		k.prefix = p
	}
	return k, nil
}

// homogeneous reports whether a set literal has one type (ints and floats
// count as one).
func homogeneous(set []Literal) bool {
	kind := func(l Literal) LitKind {
		if l.Kind == LitFloat {
			return LitInt
		}
		if l.Kind == LitHex {
			return LitBinary
		}
		return l.Kind
	}
	for _, l := range set {
		if kind(l) != kind(set[0]) {
			return false
		}
	}
	return true
}

func latin1Only(s string) bool {
	for _, r := range s {
		if r > 0xff {
			return false
		}
	}
	return true
}

// latin1 maps each byte to the code point of the same value, so that a
// regular expression over code points < 256 matches bytes.
func latin1(b []byte) string {
	rs := make([]rune, len(b))
	for i, c := range b {
		rs[i] = rune(c)
	}
	return string(rs)
}

// stringBytes converts a string to bytes when all its code points are < 256.
func stringBytes(s string) ([]byte, bool) {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, false
		}
		out = append(out, byte(r))
	}
	return out, true
}

func parsePrefix(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()).Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// prefixWithin reports whether inner is a subset of outer.
func prefixWithin(inner, outer netip.Prefix) bool {
	return inner.Addr().Is4() == outer.Addr().Is4() && outer.Bits() <= inner.Bits() && outer.Contains(inner.Addr())
}

// test reports whether the comparison holds for an object: it does when
// one of the values the path selects passes (NOT applies per value).
func (k *compiled) test(od *ObservedData, obj map[string]any) (bool, error) {
	vals, err := resolve(od, obj, k.c.Path.Steps)
	if err != nil {
		return false, err
	}
	if k.c.Op == OpExists {
		found := false
		for _, v := range vals {
			if v != nil {
				found = true
				break
			}
		}
		return found != k.c.Not, nil
	}
	for _, v := range vals {
		ok, err := k.pred(v)
		if err != nil {
			return false, err
		}
		if ok != k.c.Not {
			return true, nil
		}
	}
	return false, nil
}

func (k *compiled) pred(v any) (bool, error) {
	c := k.c
	switch c.Op {
	case OpEQ, OpNE:
		eq, err := equal(v, c.Value)
		return eq == (c.Op == OpEQ), err
	case OpLT, OpLE, OpGT, OpGE:
		n, ok, err := order(v, c.Value)
		if err != nil || !ok {
			return false, err
		}
		switch c.Op {
		case OpLT:
			return n < 0, nil
		case OpLE:
			return n <= 0, nil
		case OpGT:
			return n > 0, nil
		}
		return n >= 0, nil
	case OpIn:
		for _, l := range c.Set {
			eq, err := equal(v, l)
			if err != nil || eq {
				return eq, err
			}
		}
		return false, nil
	case OpLike:
		s, ok := textOf(v, k.binOK)
		return ok && k.re.MatchString(nfc(s)), nil
	case OpMatches:
		switch v := v.(type) {
		case string:
			return k.re.MatchString(nfc(v)), nil
		case []byte:
			return k.binOK && k.re.MatchString(latin1(v)), nil
		}
		return false, nil
	case OpIsSubset, OpIsSuperset:
		s, ok := v.(string)
		if !ok {
			return false, nil
		}
		p, ok := parsePrefix(s)
		if !ok {
			return false, nil
		}
		if c.Op == OpIsSubset {
			return prefixWithin(p, k.prefix), nil
		}
		return prefixWithin(k.prefix, p), nil
	}
	return false, nil
}

// textOf gives a string value for LIKE; binary values count when they are
// UTF-8 and the pattern has only code points < 256.
func textOf(v any, binOK bool) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case []byte:
		if binOK && utf8.Valid(v) {
			return string(v), true
		}
	}
	return "", false
}

// asStamp interprets a string from the data as a timestamp when the
// literal is one.
func asStamp(v any, l Literal) (any, error) {
	if s, ok := v.(string); ok && l.Kind == LitTimestamp {
		t, err := parseStamp(s)
		if err != nil {
			return nil, evalErrf("invalid timestamp in data: %q", s)
		}
		return t, nil
	}
	return v, nil
}

// equal compares a data value with a literal. Values of types that cannot
// be compared are unequal.
func equal(v any, l Literal) (bool, error) {
	v, err := asStamp(v, l)
	if err != nil {
		return false, err
	}
	switch l.Kind {
	case LitInt, LitFloat:
		n, ok, _ := order(v, l)
		return ok && n == 0, nil
	case LitString:
		switch v := v.(type) {
		case string:
			return v == l.Str, nil
		case []byte:
			b, ok := stringBytes(l.Str)
			return ok && bytes.Equal(v, b), nil
		}
	case LitBool:
		b, ok := v.(bool)
		return ok && b == l.Bool, nil
	case LitBinary, LitHex:
		switch v := v.(type) {
		case []byte:
			return bytes.Equal(v, l.Bytes), nil
		case string:
			b, ok := stringBytes(v)
			return ok && bytes.Equal(b, l.Bytes), nil
		}
	case LitTimestamp:
		t, ok := v.(time.Time)
		return ok && t.Equal(l.Time), nil
	}
	return false, nil
}

// order compares a data value with a literal: ok is false when the types
// have no order between them.
func order(v any, l Literal) (n int, ok bool, err error) {
	v, err = asStamp(v, l)
	if err != nil {
		return 0, false, err
	}
	switch l.Kind {
	case LitInt, LitFloat:
		vi, vf, vInt, isNum := number(v)
		if !isNum {
			return 0, false, nil
		}
		if vInt && l.Kind == LitInt {
			return cmp3(vi < l.Int, vi > l.Int), true, nil
		}
		lf := l.Float
		if l.Kind == LitInt {
			lf = float64(l.Int)
		}
		return cmp3(vf < lf, vf > lf), true, nil
	case LitString:
		switch v := v.(type) {
		case string:
			return strings.Compare(v, l.Str), true, nil
		case []byte:
			b, ok := stringBytes(l.Str)
			if !ok {
				return 0, false, nil
			}
			return bytes.Compare(v, b), true, nil
		}
	case LitBinary, LitHex:
		switch v := v.(type) {
		case []byte:
			return bytes.Compare(v, l.Bytes), true, nil
		case string:
			b, ok := stringBytes(v)
			if !ok {
				return 0, false, nil
			}
			return bytes.Compare(b, l.Bytes), true, nil
		}
	case LitTimestamp:
		if t, ok := v.(time.Time); ok {
			return t.Compare(l.Time), true, nil
		}
	}
	return 0, false, nil
}

func cmp3(lt, gt bool) int {
	switch {
	case lt:
		return -1
	case gt:
		return 1
	}
	return 0
}

// resolve follows the path steps from obj and returns the selected values.
// Steps that do not apply (missing key, index out of range, not a list)
// select nothing. A key ending in _ref or _refs is dereferenced against the
// objects of the same observed-data; a key ending in _hex or _bin is
// decoded to bytes.
func resolve(od *ObservedData, obj map[string]any, steps []Step) ([]any, error) {
	vals := []any{obj}
	for _, s := range steps {
		var next []any
		for _, v := range vals {
			switch s.Kind {
			case StepKey:
				m, ok := v.(map[string]any)
				if !ok {
					continue
				}
				x, ok := m[s.Key]
				if !ok {
					continue
				}
				x, err := keyValue(od, s.Key, x)
				if err != nil {
					return nil, err
				}
				if x != nil || !strings.HasSuffix(s.Key, "_ref") {
					next = append(next, x)
				}
			case StepIndex:
				l, ok := v.([]any)
				if !ok {
					continue
				}
				i := s.Index
				if i < 0 {
					i += int64(len(l))
				}
				if i >= 0 && i < int64(len(l)) {
					next = append(next, l[i])
				}
			case StepAny:
				if l, ok := v.([]any); ok {
					next = append(next, l...)
				}
			}
		}
		vals = next
		if len(vals) == 0 {
			break
		}
	}
	return vals, nil
}

func keyValue(od *ObservedData, key string, x any) (any, error) {
	switch {
	case x == nil:
		return nil, nil
	case strings.HasSuffix(key, "_ref"):
		id, ok := x.(string)
		if !ok {
			return nil, evalErrf("the value of reference property %q is not a string", key)
		}
		if o, ok := od.Objects[id]; ok {
			return o, nil
		}
		return nil, nil
	case strings.HasSuffix(key, "_refs"):
		ids, ok := x.([]any)
		if !ok {
			return nil, evalErrf("the value of reference list property %q is not a list", key)
		}
		objs := []any{}
		for _, r := range ids {
			id, ok := r.(string)
			if !ok {
				return nil, evalErrf("a value of reference list property %q is not a string", key)
			}
			if o, ok := od.Objects[id]; ok {
				objs = append(objs, o)
			}
		}
		return objs, nil
	case strings.HasSuffix(key, "_hex"):
		if s, ok := x.(string); ok {
			b, err := hex.DecodeString(s)
			if err != nil {
				return nil, evalErrf("property %q is not hex: %q", key, s)
			}
			return b, nil
		}
	case strings.HasSuffix(key, "_bin"):
		if s, ok := x.(string); ok {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, evalErrf("property %q is not base64: %q", key, s)
			}
			return b, nil
		}
	}
	return x, nil
}
