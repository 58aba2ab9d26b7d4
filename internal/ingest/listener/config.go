package listener

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// Config is one socket and the rule that gives its senders a tenant.
// Exactly one of Tenant, Sources and TLS.Clients says who the sender is.
type Config struct {
	// Protocol is tcp or tls (and udp for syslog).
	Protocol string `yaml:"protocol"`
	// Listen is host:port; an empty host means 127.0.0.1.
	Listen string `yaml:"listen"`
	// Tenant, when set, owns everything sent to this listener.
	Tenant string `yaml:"tenant"`
	// Sources allow-lists sender addresses (an IP or a CIDR) for a shared
	// listener, each with its tenant; the most specific prefix wins.
	// Senders not listed are refused.
	Sources map[string]string `yaml:"sources"`
	// TLS is required for protocol tls.
	TLS *TLSConfig `yaml:"tls"`
}

// TLSConfig is a TLS listener's certificates. Client certificates issued
// by ClientCA are required.
type TLSConfig struct {
	Cert     string `yaml:"cert"`
	Key      string `yaml:"key"`
	ClientCA string `yaml:"client_ca"`
	// Clients maps a client certificate identity (a DNS SAN or the subject
	// CN) to its tenant, unless the listener has a Tenant or Sources.
	Clients map[string]string `yaml:"clients"`
}

// Validate reports the first bad setting, naming its key. protocols are
// the ones the receiver serves, in the order the error lists them.
func (c Config) Validate(protocols ...string) error {
	if !slices.Contains(protocols, c.Protocol) {
		return fmt.Errorf("protocol: %q is not one of %s", c.Protocol, strings.Join(protocols, ", "))
	}
	if _, _, err := net.SplitHostPort(c.Address()); err != nil {
		return fmt.Errorf("listen: %q: %w", c.Listen, err)
	}
	modes := 0
	if c.Tenant != "" {
		modes++
		if _, err := tenant.Parse(c.Tenant); err != nil {
			return fmt.Errorf("tenant: %w", err)
		}
	}
	if len(c.Sources) > 0 {
		modes++
		if _, err := parseSources(c.Sources); err != nil {
			return fmt.Errorf("sources: %w", err)
		}
	}
	if c.Protocol == "tls" {
		if c.TLS == nil || c.TLS.Cert == "" || c.TLS.Key == "" || c.TLS.ClientCA == "" {
			return errors.New("tls: cert, key and client_ca are required for protocol tls")
		}
		if len(c.TLS.Clients) > 0 {
			modes++
			for id, t := range c.TLS.Clients {
				if id == "" {
					return errors.New("tls.clients: empty certificate identity")
				}
				if _, err := tenant.Parse(t); err != nil {
					return fmt.Errorf("tls.clients[%s]: %w", id, err)
				}
			}
		}
	} else if c.TLS != nil {
		return fmt.Errorf("tls: only for protocol tls, not %s", c.Protocol)
	}
	switch {
	case modes == 0 && c.Protocol == "tls":
		return errors.New("tenant: one of tenant, sources or tls.clients is required")
	case modes == 0:
		return errors.New("tenant: one of tenant or sources is required")
	case modes > 1:
		return errors.New("tenant: set only one of tenant, sources and tls.clients")
	}
	return nil
}

// Address is Listen with the default host, 127.0.0.1.
func (c Config) Address() string {
	if strings.HasPrefix(c.Listen, ":") {
		return "127.0.0.1" + c.Listen
	}
	return c.Listen
}

// Tenants lists every tenant the listener names.
func (c Config) Tenants() []string {
	var ts []string
	if c.Tenant != "" {
		ts = append(ts, c.Tenant)
	}
	for _, t := range c.Sources {
		ts = append(ts, t)
	}
	if c.TLS != nil {
		for _, t := range c.TLS.Clients {
			ts = append(ts, t)
		}
	}
	return ts
}

// source is one allow-listed prefix.
type source struct {
	prefix netip.Prefix
	tenant tenant.ID
}

// parseSources reads the allow-list, most specific prefix first.
func parseSources(m map[string]string) ([]source, error) {
	var out []source
	seen := map[netip.Prefix]string{}
	for k, t := range m {
		var p netip.Prefix
		if strings.Contains(k, "/") {
			var err error
			if p, err = netip.ParsePrefix(k); err != nil {
				return nil, fmt.Errorf("%q: %w", k, err)
			}
		} else {
			a, err := netip.ParseAddr(k)
			if err != nil {
				return nil, fmt.Errorf("%q: not an IP address or CIDR", k)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		p = p.Masked()
		id, err := tenant.Parse(t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		if other, ok := seen[p]; ok {
			return nil, fmt.Errorf("%s: prefix %s is listed twice (also as %s)", k, p, other)
		}
		seen[p] = k
		out = append(out, source{prefix: p, tenant: id})
	}
	// Most specific first, so the first match is the longest prefix.
	slices.SortStableFunc(out, func(a, b source) int { return b.prefix.Bits() - a.prefix.Bits() })
	return out, nil
}
