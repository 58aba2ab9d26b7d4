// Package defend makes what one member sees protect every member: a
// confirmed alert's external observables become shared indicators
// (propagation, sanitised by a policy), the same external observable at
// several members within a window becomes one campaign for the provider,
// and a member learns that an alert was "also seen" elsewhere only as a
// count at or above a k-anonymity threshold.
package defend

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

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
		return fmt.Errorf("defend.tlp: %w", err)
	case t.Restricted():
		return fmt.Errorf("defend.tlp: %s indicators stay with the member; share as clear, green or amber", t.Label())
	case c.Expires < time.Hour:
		return errors.New("defend.expires: at least 1h")
	case c.CampaignMembers < 2:
		return errors.New("defend.campaign_members: at least 2")
	case c.CampaignWindow < time.Minute:
		return errors.New("defend.campaign_window: at least 1m")
	case c.KAnonymity < 2:
		return errors.New("defend.k_anonymity: at least 2 (a count of one names the other member)")
	}
	for id, m := range c.Tenants {
		if _, err := tenant.Parse(id); err != nil {
			return fmt.Errorf("defend.tenants.%s: %w", id, err)
		}
		for _, n := range m.Networks {
			if _, err := netip.ParsePrefix(n); err != nil {
				return fmt.Errorf("defend.tenants.%s.networks: %q: want a CIDR range", id, n)
			}
		}
		for _, d := range m.Domains {
			if _, err := intel.NormalizeDomain(d); err != nil {
				return fmt.Errorf("defend.tenants.%s.domains: %q: %v", id, d, err)
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
// an internal suffix, or a member's declared domain (of any member: one
// member's internal name is never shared with another).
func (p policy) internalDomain(name string) bool {
	if !strings.Contains(name, ".") {
		return true
	}
	for _, s := range p.suffixes {
		if underDomain(name, s) {
			return true
		}
	}
	return slices.ContainsFunc(p.domains, func(d string) bool { return underDomain(name, d) })
}

// internalAddr reports whether an address is not an external one: private,
// loopback, link-local, shared (CGNAT), multicast, documentation-free
// unspecified, or in a member's declared ranges.
func (p policy) internalAddr(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || a.IsInterfaceLocalMulticast() {
		return true
	}
	if cgnat := netip.MustParsePrefix("100.64.0.0/10"); cgnat.Contains(a) {
		return true
	}
	return slices.ContainsFunc(p.networks, func(n netip.Prefix) bool { return n.Contains(a) })
}

// External returns the alert's external observables the policy lets be
// shared: e-mail senders, domains and URLs outside every member's own
// names, file hashes, and public addresses outside the members' ranges.
// Host and user names are never shared.
func (p policy) External(es []alert.Entity) []intel.Observable {
	// The alert's own host names its member's internal domain
	// (ws1.council.example → council.example), declared or not.
	for _, e := range es {
		if e.Type != alert.EntityHost {
			continue
		}
		if h, err := intel.NormalizeDomain(e.Value); err == nil && strings.Count(h, ".") >= 2 {
			_, dom, _ := strings.Cut(h, ".")
			p.domains = append(slices.Clip(p.domains), dom)
		}
	}
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
			if err != nil {
				continue
			}
			host := intel.URLHost(u)
			if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
				if !p.internalAddr(a) {
					add(intel.TypeURL, u)
				}
			} else if host != "" && !p.internalDomain(host) {
				add(intel.TypeURL, u)
			}
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
