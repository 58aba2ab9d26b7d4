// Package defend makes what one member sees protect every member: a
// confirmed alert's external observables become shared indicators
// (propagation, sanitised by a policy), the same external observable at
// several members within a window becomes one campaign for the provider,
// and a member learns that an alert was "also seen" elsewhere only as a
// count at or above a k-anonymity threshold.
package defend

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Config is the sharing policy.
type Config struct {
	// Share turns propagation on: a provider analyst's true positive
	// shares its external observables unless the analyst says not to.
	Share bool `yaml:"share"`
	// TLP marks the shared indicators (AMBER+STRICT and RED are refused:
	// those stay with the member).
	TLP string `yaml:"tlp"`
	// Expires is how long a shared indicator lives.
	Expires time.Duration `yaml:"expires"`
	// CampaignMembers alerts at this many members with one external
	// observable within CampaignWindow make a campaign.
	CampaignMembers int           `yaml:"campaign_members"`
	CampaignWindow  time.Duration `yaml:"campaign_window"`
	// KAnonymity is the fewest other members an "also seen" count may
	// name; below it nothing is said.
	KAnonymity int `yaml:"k_anonymity"`
	// InternalSuffixes are domain suffixes never shared (beside the
	// members' own domains).
	InternalSuffixes []string `yaml:"internal_suffixes"`
	// Tenants are what each member declares its own: domains and
	// address ranges that must never leave it.
	Tenants map[string]Member `yaml:"tenants"`
	// AutoShare lists the rules the provider trusts: their new alerts
	// share their external observables at once, without waiting for an
	// analyst (the automatic policy).
	AutoShare []string `yaml:"auto_share"`
}

// Member is what one member declares internal.
type Member struct {
	Domains  []string `yaml:"domains"`
	Networks []string `yaml:"networks"`
}

// DefaultConfig returns the defaults: sharing on, TLP:AMBER for 30 days,
// campaigns at 3 members within 60 minutes, k = 2.
func DefaultConfig() Config {
	return Config{Share: true, TLP: string(intel.TLPAmber), Expires: 30 * 24 * time.Hour, CampaignMembers: 3, CampaignWindow: time.Hour, KAnonymity: 2,
		InternalSuffixes: []string{"local", "lan", "internal", "intranet", "corp", "home", "home.arpa", "localdomain", "localhost"}}
}

// Validate reports the first bad setting.
func (c Config) Validate() error {
	t, err := intel.ParseTLP(c.TLP)
	switch {
	case err != nil:
		return fmt.Errorf("tlp: %w", err)
	case t.Restricted():
		return fmt.Errorf("tlp: %s indicators stay with the member; share as clear, green or amber", t.Label())
	case c.Expires < time.Hour:
		return errors.New("expires: at least 1h")
	case c.CampaignMembers < 2:
		return errors.New("campaign_members: at least 2")
	case c.CampaignWindow < time.Minute:
		return errors.New("campaign_window: at least 1m")
	case c.KAnonymity < 2:
		return errors.New("k_anonymity: at least 2 (a count of one names the other member)")
	}
	for id, m := range c.Tenants {
		if _, err := tenant.Parse(id); err != nil {
			return fmt.Errorf("tenants.%s: %w", id, err)
		}
		for _, n := range m.Networks {
			if _, err := netip.ParsePrefix(n); err != nil {
				return fmt.Errorf("tenants.%s.networks: %q: want a CIDR range", id, n)
			}
		}
		for _, d := range m.Domains {
			if _, err := intel.NormalizeDomain(d); err != nil {
				return fmt.Errorf("tenants.%s.domains: %q: %v", id, d, err)
			}
		}
	}
	return nil
}

// policy is the compiled sanitising policy.
type policy struct {
	suffixes []string
	domains  []string       // every member's declared domains
	networks []netip.Prefix // every member's declared ranges
}

func newPolicy(c Config) policy {
	p := policy{}
	for _, s := range c.InternalSuffixes {
		p.suffixes = append(p.suffixes, strings.Trim(strings.ToLower(s), "."))
	}
	for _, m := range c.Tenants {
		for _, d := range m.Domains {
			if n, err := intel.NormalizeDomain(d); err == nil {
				p.domains = append(p.domains, n)
			}
		}
		for _, n := range m.Networks {
			if pr, err := netip.ParsePrefix(n); err == nil {
				p.networks = append(p.networks, pr.Masked())
			}
		}
	}
	return p
}

// underDomain reports whether name is d or a subdomain of it.
func underDomain(name, d string) bool {
	return name == d || strings.HasSuffix(name, "."+d)
}

// internalDomain reports whether a host name is internal: a single label,
// an internal suffix, a reverse-lookup name (in-addr.arpa, ip6.arpa: an
// address spelt as a name), or a member's declared domain (of any member:
// one member's internal name is never shared with another).
func (p policy) internalDomain(name string) bool {
	if !strings.Contains(name, ".") {
		return true
	}
	for _, s := range p.suffixes {
		if underDomain(name, s) {
			return true
		}
	}
	if underDomain(name, "in-addr.arpa") || underDomain(name, "ip6.arpa") {
		return true
	}
	return slices.ContainsFunc(p.domains, func(d string) bool { return underDomain(name, d) })
}

// notGlobal are the ranges no one outside a network can reach it from
// (beside netip's private, loopback, link-local and multicast): "this
// network", shared (CGNAT), IETF protocol assignments, benchmarking,
// reserved and broadcast, the IPv6 discard prefix and deprecated
// site-local addresses.
var notGlobal = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("fec0::/10"),
}

// embeddedV4 returns the IPv4 address an IPv6 address carries by a
// translation or tunnelling convention (NAT64, 6to4), if it does.
func embeddedV4(a netip.Addr) (netip.Addr, bool) {
	if !a.Is6() {
		return netip.Addr{}, false
	}
	b := a.As16()
	switch {
	case netip.MustParsePrefix("64:ff9b::/96").Contains(a), netip.MustParsePrefix("64:ff9b:1::/48").Contains(a):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case netip.MustParsePrefix("2002::/16").Contains(a):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// internalAddr reports whether an address is not an external one: private,
// loopback, link-local, multicast, unspecified, any other range that is
// not global (notGlobal), an IPv6 address carrying an internal IPv4 one,
// or in a member's declared ranges.
func (p policy) internalAddr(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || a.IsInterfaceLocalMulticast() {
		return true
	}
	if slices.ContainsFunc(notGlobal, func(n netip.Prefix) bool { return n.Contains(a) }) {
		return true
	}
	if v4, ok := embeddedV4(a); ok && p.internalAddr(v4) {
		return true
	}
	return slices.ContainsFunc(p.networks, func(n netip.Prefix) bool { return n.Contains(a) })
}

// External returns the alert's external observables the policy lets be
// shared: e-mail senders, domains and URLs outside every member's own
// names, file hashes, and public addresses outside the members' ranges.
// Host and user names are never shared, nor a URL that carries one, or an
// internal name or address, an e-mail address or credentials.
func (p policy) External(es []alert.Entity) []intel.Observable {
	// The alert's own host names its member's internal domain
	// (ws1.council.example → council.example), declared or not, and so
	// does its user's sign-in name (alice@council.example).
	var names []string
	for _, e := range es {
		switch e.Type {
		case alert.EntityHost:
			v := strings.ToLower(e.Value)
			names = append(names, v)
			if h, err := intel.NormalizeDomain(e.Value); err == nil && strings.Count(h, ".") >= 2 {
				label, dom, _ := strings.Cut(h, ".")
				p.domains = append(slices.Clip(p.domains), dom)
				names = append(names, label)
			}
		case alert.EntityUser:
			v := strings.ToLower(e.Value)
			names = append(names, v)
			if _, u, ok := strings.Cut(v, `\`); ok {
				names = append(names, u)
			}
			if local, dom, ok := strings.Cut(v, "@"); ok {
				names = append(names, local)
				if d, err := intel.NormalizeDomain(dom); err == nil && strings.Contains(d, ".") {
					p.domains = append(slices.Clip(p.domains), d)
				}
			}
		}
	}
	// Names this short are words as often as names.
	names = slices.DeleteFunc(names, func(n string) bool { return len(n) < 3 })
	var out []intel.Observable
	add := func(t intel.Type, v string) {
		n, err := intel.Normalize(t, v)
		if err != nil || slices.ContainsFunc(out, func(o intel.Observable) bool { return o.Type == t && o.Value == n }) {
			return
		}
		out = append(out, intel.Observable{Type: t, Value: n})
	}
	for _, e := range es {
		switch e.Type {
		case alert.EntitySourceIP, alert.EntityDestinationIP:
			a, err := netip.ParseAddr(e.Value)
			if err != nil || p.internalAddr(a) {
				continue
			}
			if a.Unmap().Is4() {
				add(intel.TypeIPv4, a.String())
			} else {
				add(intel.TypeIPv6, a.String())
			}
		case alert.EntityDomain:
			if d, err := intel.NormalizeDomain(e.Value); err == nil && !p.internalDomain(d) {
				add(intel.TypeDomain, d)
			}
		case alert.EntityURL:
			u, err := intel.Normalize(intel.TypeURL, e.Value)
			if err != nil || p.internalURL(u, names) {
				continue
			}
			add(intel.TypeURL, u)
		case alert.EntityEmailSender:
			v, err := intel.Normalize(intel.TypeEmail, e.Value)
			if err != nil {
				continue
			}
			if _, d, _ := strings.Cut(v, "@"); !p.internalDomain(d) {
				add(intel.TypeEmail, v)
			}
		case alert.EntityHash:
			if t, ok := intel.Guess(e.Value); ok && (t == intel.TypeMD5 || t == intel.TypeSHA1 || t == intel.TypeSHA256) {
				add(t, e.Value)
			}
		}
	}
	return out
}

// internalURL reports whether normalised URL u may not be shared: its host
// is internal, it carries credentials (user@ or user:password@), or its
// path or query (as written, percent-decoded, or a base64 value decoded)
// carries an internal name or address, one of the alert's host or user
// names, or an e-mail address (most often the recipient's, filled in by
// the lure).
func (p policy) internalURL(u string, names []string) bool {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok || scheme == "" {
		return true
	}
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	if strings.Contains(authority, "@") {
		return true
	}
	host := intel.URLHost(u)
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		if p.internalAddr(a) {
			return true
		}
	} else if host == "" || p.internalDomain(host) {
		return true
	}
	texts := []string{tail}
	for s := tail; ; {
		d, err := url.QueryUnescape(s)
		if err != nil || d == s {
			break
		}
		texts, s = append(texts, d), d
	}
	for _, t := range texts {
		for _, b := range strings.FieldsFunc(t, func(r rune) bool { return !isBase64(r) }) {
			for _, c := range append(strings.Split(b, "/"), b) {
				if d, ok := decodeBase64(c); ok {
					texts = append(texts, d)
				}
			}
		}
	}
	for _, t := range texts {
		for _, tok := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return !isTokenRune(r) }) {
			if p.internalToken(tok, names) {
				return true
			}
		}
	}
	return false
}

// internalToken reports whether one word of a URL's path or query is an
// e-mail address, an internal address or name, or one of names.
func (p policy) internalToken(tok string, names []string) bool {
	tok = strings.Trim(tok, ".-_:@")
	if tok == "" {
		return false
	}
	if a, err := netip.ParseAddr(tok); err == nil {
		return p.internalAddr(a)
	}
	if local, dom, ok := strings.Cut(tok, "@"); ok && local != "" && strings.Contains(dom, ".") {
		return true
	}
	for _, part := range strings.FieldsFunc(tok, func(r rune) bool { return r == ':' || r == '@' }) {
		part = strings.Trim(part, ".-_")
		if part == "" {
			continue
		}
		if slices.Contains(names, part) {
			return true
		}
		if a, err := netip.ParseAddr(part); err == nil {
			if p.internalAddr(a) {
				return true
			}
			continue
		}
		if strings.Contains(part, ".") {
			if d, err := intel.NormalizeDomain(part); err == nil && p.internalDomain(d) {
				return true
			}
		}
	}
	return false
}

// isTokenRune reports whether r may be part of a name, an address or an
// e-mail address in lower-cased text.
func isTokenRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' || r == '@' || r == ':' || r == '\\'
}

// isBase64 reports whether r is of the base64 alphabets, standard or URL
// (not the padding).
func isBase64(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '/' || r == '-' || r == '_'
}

// decodeBase64 decodes s when it is unpadded base64 (standard or URL
// alphabet; isBase64 leaves the padding out) of at least 12 characters
// and the text it holds is printable.
func decodeBase64(s string) (string, bool) {
	if len(s) < 12 {
		return "", false
	}
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err != nil || !utf8.Valid(b) {
			continue
		}
		printable := true
		for _, r := range string(b) {
			if r < 0x20 || r == 0x7f {
				printable = false
				break
			}
		}
		if printable {
			return string(b), true
		}
	}
	return "", false
}
