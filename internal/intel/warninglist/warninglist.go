// Package warninglist reads MISP warninglists (lists of known-benign
// values: public resolvers, top sites, cloud ranges, empty-file hashes)
// and tells whether an indicator's value is on one, so that it never
// alerts and the reason can be shown.
//
// A list's type decides how it matches a value (values are compared as
// intel.Normalize writes them, case-insensitively except for regex lists):
//
//   - string: the value equals an entry; for a host name (a domain, a
//     URL's host, an e-mail address's domain) an entry starting with "."
//     matches names ending with it.
//   - substring: the value contains an entry.
//   - hostname: the host name is an entry or a subdomain of one.
//   - cidr: the address, or the whole range of a CIDR value, is inside an
//     entry (a range or a single address).
//   - regex: the value matches an entry (PHP-style /re/flags; entries RE2
//     cannot compile are left out and listed by Set.Problems).
//
// A list applies to a type when one of its matching_attributes is a MISP
// attribute type of that kind (ip-src, ip-dst… for addresses; domain,
// hostname… for domains), or to every type when it has none.
package warninglist

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	ac "github.com/coregx/ahocorasick"

	"github.com/tarian-soc/tarian/internal/intel"
)

// mispTypes are the MISP attribute types that hold values of each Tarian
// type (what matching_attributes names).
var mispTypes = map[intel.Type][]string{
	intel.TypeIPv4:         {"ip-src", "ip-dst", "domain|ip", "ip-src|port", "ip-dst|port", "ip"},
	intel.TypeIPv6:         {"ip-src", "ip-dst", "domain|ip", "ip-src|port", "ip-dst|port", "ip"},
	intel.TypeCIDR:         {"ip-src", "ip-dst", "domain|ip", "ip-src|port", "ip-dst|port", "ip"},
	intel.TypeDomain:       {"domain", "hostname", "domain|ip", "hostname|port"},
	intel.TypeURL:          {"url", "uri", "link"},
	intel.TypeMD5:          {"md5", "filename|md5", "malware-sample"},
	intel.TypeSHA1:         {"sha1", "filename|sha1"},
	intel.TypeSHA256:       {"sha256", "filename|sha256"},
	intel.TypeEmail:        {"email", "email-src", "email-dst", "target-email", "email-reply-to", "whois-registrant-email", "dns-soa-email"},
	intel.TypeEmailSubject: {"email-subject"},
	intel.TypeFileName:     {"filename", "email-attachment", "filename|md5", "filename|sha1", "filename|sha256"},
}

// File is a warninglist as MISP writes it (list.json).
type File struct {
	Name               string   `json:"name"`
	Description        string   `json:"description"`
	Version            int      `json:"version"`
	Type               string   `json:"type"`
	List               []string `json:"list"`
	MatchingAttributes []string `json:"matching_attributes"`
}

// maxAutomaton is the most entries a substring list compiles into an
// Aho-Corasick automaton (8,000 domain names make one of about 20 MB).
const maxAutomaton = 1000

// list is one compiled warninglist.
type list struct {
	name  string
	kind  string
	types map[intel.Type]bool // nil: every type
	// string and hostname lists
	exact    map[string]bool
	suffixes []string // string-list entries written ".example.com"
	// substring lists: an Aho-Corasick automaton for short lists; for
	// long ones (whose automaton would take tens of megabytes) the
	// entries by length, each window of the value looked up.
	sub     *ac.Automaton
	subs    map[string]bool
	subLens []int
	// cidr lists: merged, sorted ranges
	ranges []addrRange
	// regex lists
	re *regexp.Regexp
}

type addrRange struct{ lo, hi netip.Addr }

// Set is a loaded collection of warninglists. It is safe for concurrent
// use once loaded.
type Set struct {
	lists    []*list
	problems []string
}

// LoadDir loads every *.json file of dir (and of its subdirectories, as
// the MISP repository lays lists out: lists/<name>/list.json). A file that
// is not a valid warninglist fails the load with its name and the reason.
func LoadDir(dir string) (*Set, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("warninglist: %w", err)
	}
	slices.Sort(files)
	s := &Set{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("warninglist: %w", err)
		}
		if filepath.Base(f) == "schema.json" && isSchema(data) {
			continue
		}
		if err := s.Add(data); err != nil {
			return nil, fmt.Errorf("warninglist %s: %w", f, err)
		}
	}
	return s, nil
}

// isSchema tells the repository's JSON schema from a list.
func isSchema(data []byte) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(data, &m) == nil && m["properties"] != nil && m["list"] == nil
}

// Add parses one warninglist (list.json) and adds it to s.
func (s *Set) Add(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	for _, k := range []string{"name", "description", "version", "type", "list"} {
		if raw[k] == nil {
			return fmt.Errorf("%s: missing", k)
		}
	}
	for k := range raw {
		switch k {
		case "name", "description", "version", "type", "list", "matching_attributes":
		default:
			return fmt.Errorf("property %q: not in the warninglist schema", k)
		}
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("%s: a JSON %s where the schema wants another type", te.Field, te.Value)
		}
		return err
	}
	l, problems, err := compile(f)
	if err != nil {
		return err
	}
	s.lists = append(s.lists, l)
	s.problems = append(s.problems, problems...)
	return nil
}

// Problems lists entries left out when the lists were loaded (regular
// expressions RE2 cannot compile, malformed CIDR entries), with their
// list.
func (s *Set) Problems() []string { return slices.Clone(s.problems) }

// Len is the number of lists.
func (s *Set) Len() int { return len(s.lists) }

func compile(f File) (*list, []string, error) {
	if f.Name == "" {
		return nil, nil, errors.New("name: empty")
	}
	l := &list{name: f.Name, kind: f.Type}
	if len(f.MatchingAttributes) > 0 {
		l.types = map[intel.Type]bool{}
		for t, ms := range mispTypes {
			for _, m := range f.MatchingAttributes {
				if slices.Contains(ms, m) {
					l.types[t] = true
				}
			}
		}
	}
	var problems []string
	switch f.Type {
	case "string", "hostname":
		l.exact = make(map[string]bool, len(f.List))
		for _, e := range f.List {
			e = strings.ToLower(strings.TrimSpace(e))
			if f.Type == "hostname" {
				e = strings.TrimPrefix(strings.TrimPrefix(e, "*"), ".")
				e = strings.TrimSuffix(e, ".")
			}
			if e == "" {
				continue
			}
			if f.Type == "string" && strings.HasPrefix(e, ".") && len(e) > 1 {
				l.suffixes = append(l.suffixes, e)
				continue
			}
			l.exact[e] = true
		}
	case "substring":
		var pats []string
		for _, e := range f.List {
			if e = strings.ToLower(strings.TrimSpace(e)); e != "" {
				pats = append(pats, e)
			}
		}
		if len(pats) > maxAutomaton {
			l.subs = make(map[string]bool, len(pats))
			for _, p := range pats {
				if !l.subs[p] {
					l.subs[p] = true
					l.subLens = append(l.subLens, len(p))
				}
			}
			slices.Sort(l.subLens)
			l.subLens = slices.Compact(l.subLens)
		} else if len(pats) > 0 {
			a, err := ac.NewBuilder().AddStrings(pats).Build()
			if err != nil {
				return nil, nil, fmt.Errorf("substring list: %w", err)
			}
			l.sub = a
		}
	case "cidr":
		for _, e := range f.List {
			r, err := parseRange(e)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: entry %q left out: %v", f.Name, e, err))
				continue
			}
			l.ranges = append(l.ranges, r)
		}
		l.ranges = merge(l.ranges)
	case "regex":
		var parts []string
		for _, e := range f.List {
			re, err := phpRegexp(e)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: entry %q left out: %v", f.Name, e, err))
				continue
			}
			parts = append(parts, "(?:"+re+")")
		}
		if len(parts) > 0 {
			re, err := regexp.Compile(strings.Join(parts, "|"))
			if err != nil {
				return nil, nil, fmt.Errorf("regex list: %w", err)
			}
			l.re = re
		}
	default:
		return nil, nil, fmt.Errorf("type %q: want string, substring, hostname, cidr or regex", f.Type)
	}
	return l, problems, nil
}

func parseRange(e string) (addrRange, error) {
	e = strings.TrimSpace(e)
	if !strings.Contains(e, "/") {
		a, err := netip.ParseAddr(e)
		if err != nil {
			return addrRange{}, errors.New("not an address or CIDR range")
		}
		a = a.Unmap()
		return addrRange{a, a}, nil
	}
	p, err := netip.ParsePrefix(e)
	if err != nil {
		return addrRange{}, errors.New("not an address or CIDR range")
	}
	if p.Addr().Is4In6() {
		if p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96); !p.IsValid() {
			return addrRange{}, errors.New("not a CIDR range")
		}
	}
	p = p.Masked()
	return addrRange{p.Addr(), lastAddr(p)}, nil
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	bits := p.Bits()
	for i := range b {
		for j := 0; j < 8; j++ {
			if i*8+j >= bits {
				b[i] |= 0x80 >> j
			}
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// merge sorts ranges and joins overlapping and adjacent ones (addresses of the two
// families never merge: IPv4 sorts before IPv6).
func merge(rs []addrRange) []addrRange {
	slices.SortFunc(rs, func(a, b addrRange) int { return a.lo.Compare(b.lo) })
	var out []addrRange
	for _, r := range rs {
		if n := len(out); n > 0 && out[n-1].hi.Is4() == r.lo.Is4() && (r.lo.Compare(out[n-1].hi) <= 0 || out[n-1].hi.Next() == r.lo) {
			if r.hi.Compare(out[n-1].hi) > 0 {
				out[n-1].hi = r.hi
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

// containsRange reports whether [lo, hi] is inside one of the merged
// ranges.
func containsRange(rs []addrRange, lo, hi netip.Addr) bool {
	i, found := slices.BinarySearchFunc(rs, lo, func(r addrRange, a netip.Addr) int { return r.lo.Compare(a) })
	if !found {
		i--
	}
	return i >= 0 && rs[i].lo.Is4() == lo.Is4() && rs[i].hi.Compare(hi) >= 0
}

// phpRegexp turns a PHP (PCRE) regular expression written /re/flags into
// RE2 syntax.
func phpRegexp(e string) (string, error) {
	e = strings.TrimSpace(e)
	if len(e) < 2 {
		return "", errors.New("empty regular expression")
	}
	d := e[0]
	if d == '(' || d == '[' || d == '{' || d == '<' || (d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') || (d >= '0' && d <= '9') || d == '\\' || d == '^' {
		// Not delimited: use as written.
		_, err := regexp.Compile(e)
		return e, err
	}
	end := strings.LastIndexByte(e, d)
	if end <= 0 {
		return "", errors.New("no closing delimiter")
	}
	body, flags := e[1:end], e[end+1:]
	var re2 string
	for _, f := range flags {
		switch f {
		case 'i', 'm', 's':
			re2 += string(f)
		case 'u', 'D':
		default:
			return "", fmt.Errorf("flag %q is not supported", f)
		}
	}
	if re2 != "" {
		body = "(?" + re2 + ")" + body
	}
	if _, err := regexp.Compile(body); err != nil {
		return "", err
	}
	return body, nil
}

// Check returns the name of the first list (in file name order) that
// flags value, of type t, and true; "" and false when none does.
func (s *Set) Check(t intel.Type, value string) (string, bool) {
	if s == nil {
		return "", false
	}
	v := value
	if n, err := intel.Normalize(t, value); err == nil {
		v = n
	}
	lower := strings.ToLower(v)
	host := hostOf(t, v)
	var lo, hi netip.Addr
	switch t {
	case intel.TypeIPv4, intel.TypeIPv6:
		if a, err := netip.ParseAddr(v); err == nil {
			lo, hi = a.Unmap(), a.Unmap()
		}
	case intel.TypeCIDR:
		if p, err := netip.ParsePrefix(v); err == nil {
			lo, hi = p.Masked().Addr().Unmap(), lastAddr(p.Masked())
		}
	case intel.TypeURL:
		if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
			lo, hi = a.Unmap(), a.Unmap()
		}
	}
	for _, l := range s.lists {
		if l.types != nil && !l.types[t] {
			continue
		}
		if l.match(lower, v, host, lo, hi) {
			return l.name, true
		}
	}
	return "", false
}

func (l *list) match(lower, v, host string, lo, hi netip.Addr) bool {
	switch l.kind {
	case "string":
		if l.exact[lower] || host != "" && l.exact[host] {
			return true
		}
		for _, s := range l.suffixes {
			if host != "" && strings.HasSuffix(host, s) {
				return true
			}
		}
	case "hostname":
		// The name and its parents, down to the last two labels (a list
		// naming a top-level domain flags only that name itself).
		for h := host; h != ""; {
			if l.exact[h] {
				return true
			}
			_, rest, ok := strings.Cut(h, ".")
			if !ok || !strings.Contains(rest, ".") {
				break
			}
			h = rest
		}
	case "substring":
		if l.sub != nil {
			return l.sub.IsMatch([]byte(lower))
		}
		for _, n := range l.subLens {
			for i := 0; i+n <= len(lower); i++ {
				if l.subs[lower[i:i+n]] {
					return true
				}
			}
		}
	case "cidr":
		return lo.IsValid() && containsRange(l.ranges, lo, hi)
	case "regex":
		return l.re != nil && l.re.MatchString(v)
	}
	return false
}

// hostOf is the host name in a value: the domain itself, a URL's host,
// an e-mail address's domain; "" for other types.
func hostOf(t intel.Type, v string) string {
	switch t {
	case intel.TypeDomain:
		return strings.ToLower(v)
	case intel.TypeURL:
		if u, err := url.Parse(v); err == nil {
			return strings.ToLower(u.Hostname())
		}
	case intel.TypeEmail:
		if _, d, ok := strings.Cut(v, "@"); ok {
			return strings.ToLower(d)
		}
	}
	return ""
}

// Flag sets Observable.Warninglist on every observable of inds that a
// list flags (and clears it on the others), and returns how many it
// flagged.
func (s *Set) Flag(inds []intel.Indicator) int {
	n := 0
	for i := range inds {
		for j := range inds[i].Observables {
			o := &inds[i].Observables[j]
			o.Warninglist, _ = s.Check(o.Type, o.Value)
			if o.Warninglist != "" {
				n++
			}
		}
	}
	return n
}
