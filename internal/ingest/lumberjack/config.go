package lumberjack

import (
	_ "embed"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// Sample is a commented example configuration of the receiver.
//
//go:embed sample.yaml
var Sample string

// Config configures the Lumberjack v2 receiver (section "lumberjack").
type Config struct {
	// Listeners are the sockets to serve; none disables the receiver.
	Listeners []Listener `yaml:"listeners"`
	// MaxEventBytes is the largest event (one JSON data frame) accepted;
	// a larger one is dead-lettered with its first MaxEventBytes bytes and
	// acknowledged.
	MaxEventBytes int `yaml:"max_event_bytes"`
	// Timeout bounds how long a window may stall mid-way (no byte read)
	// and how long an ACK may take to write.
	Timeout time.Duration `yaml:"timeout"`
	// Keepalive is how often an empty ACK (sequence 0) tells a waiting
	// shipper its window is still being written; 0 sends none.
	Keepalive time.Duration `yaml:"keepalive"`
}

// Listener is one socket and the rule that gives its senders a tenant.
// Exactly one of Tenant, Sources and TLS.Clients says who the sender is
// (the same rules as the syslog receiver's listeners).
type Listener struct {
	// Protocol is tcp or tls.
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

// DefaultConfig returns no listeners, 1 MiB events, a 30 s timeout (the
// Beats' own default) and a keepalive every 5 s.
func DefaultConfig() Config {
	return Config{MaxEventBytes: 1 << 20, Timeout: 30 * time.Second, Keepalive: 5 * time.Second}
}

// Validate reports the first bad setting, naming its key.
func (c Config) Validate() error {
	if c.MaxEventBytes < 1024 || c.MaxEventBytes > 8<<20-1024 {
		return errors.New("max_event_bytes: must be between 1024 and 8387584")
	}
	if c.Timeout < time.Second || c.Timeout > 10*time.Minute {
		return errors.New("timeout: must be between 1s and 10m")
	}
	if c.Keepalive < 0 || c.Keepalive >= c.Timeout {
		return errors.New("keepalive: must be at least 0 (off) and less than timeout")
	}
	seen := map[string]bool{}
	for i, l := range c.Listeners {
		if err := l.validate(); err != nil {
			return fmt.Errorf("listeners[%d].%w", i, err)
		}
		a := l.address()
		if seen[a] && !strings.HasSuffix(a, ":0") {
			return fmt.Errorf("listeners[%d].listen: %s is configured twice", i, a)
		}
		seen[a] = true
	}
	return nil
}

func (l Listener) validate() error {
	switch l.Protocol {
	case "tcp", "tls":
	default:
		return fmt.Errorf("protocol: %q is not one of tcp, tls", l.Protocol)
	}
	if _, _, err := net.SplitHostPort(l.address()); err != nil {
		return fmt.Errorf("listen: %q: %w", l.Listen, err)
	}
	modes := 0
	if l.Tenant != "" {
		modes++
		if _, err := tenant.Parse(l.Tenant); err != nil {
			return fmt.Errorf("tenant: %w", err)
		}
	}
	if len(l.Sources) > 0 {
		modes++
		if _, err := parseSources(l.Sources); err != nil {
			return fmt.Errorf("sources: %w", err)
		}
	}
	if l.Protocol == "tls" {
		if l.TLS == nil || l.TLS.Cert == "" || l.TLS.Key == "" || l.TLS.ClientCA == "" {
			return errors.New("tls: cert, key and client_ca are required for protocol tls")
		}
		if len(l.TLS.Clients) > 0 {
			modes++
			for id, t := range l.TLS.Clients {
				if id == "" {
					return errors.New("tls.clients: empty certificate identity")
				}
				if _, err := tenant.Parse(t); err != nil {
					return fmt.Errorf("tls.clients[%s]: %w", id, err)
				}
			}
		}
	} else if l.TLS != nil {
		return fmt.Errorf("tls: only for protocol tls, not %s", l.Protocol)
	}
	switch {
	case modes == 0 && l.Protocol == "tls":
		return errors.New("tenant: one of tenant, sources or tls.clients is required")
	case modes == 0:
		return errors.New("tenant: one of tenant or sources is required")
	case modes > 1:
		return errors.New("tenant: set only one of tenant, sources and tls.clients")
	}
	return nil
}

// address is Listen with the default host.
func (l Listener) address() string {
	if strings.HasPrefix(l.Listen, ":") {
		return "127.0.0.1" + l.Listen
	}
	return l.Listen
}

// tenants lists every tenant the listener names.
func (l Listener) tenants() []string {
	var ts []string
	if l.Tenant != "" {
		ts = append(ts, l.Tenant)
	}
	for _, t := range l.Sources {
		ts = append(ts, t)
	}
	if l.TLS != nil {
		for _, t := range l.TLS.Clients {
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
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].prefix.Bits() > out[j-1].prefix.Bits(); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}
