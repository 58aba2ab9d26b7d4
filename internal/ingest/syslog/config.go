package syslog

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

// Config configures the syslog receiver.
type Config struct {
	// Listeners are the sockets to serve; none disables the receiver.
	Listeners []Listener `yaml:"listeners"`
	// MaxMessageBytes is the longest message accepted; longer frames are
	// dead-lettered (their first MaxMessageBytes kept, with the reason).
	MaxMessageBytes int `yaml:"max_message_bytes"`
	// BatchRecords and BatchWait bound how many records, and for how long,
	// a connection gathers before the durable write.
	BatchRecords int           `yaml:"batch_records"`
	BatchWait    time.Duration `yaml:"batch_wait"`
}

// Listener is one socket and the rule that gives its senders a tenant.
// Exactly one of Tenant, Sources and TLS.Clients says who the sender is.
type Listener struct {
	// Protocol is tcp, udp or tls.
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

// TLSConfig is an RFC 5425 listener's certificates. Client certificates
// issued by ClientCA are required.
type TLSConfig struct {
	Cert     string `yaml:"cert"`
	Key      string `yaml:"key"`
	ClientCA string `yaml:"client_ca"`
	// Clients maps a client certificate identity (a DNS SAN or the subject
	// CN) to its tenant, unless the listener has a Tenant or Sources.
	Clients map[string]string `yaml:"clients"`
}

// DefaultConfig returns no listeners, 64 KiB messages and batches of 1000
// records or 50 ms.
func DefaultConfig() Config {
	return Config{MaxMessageBytes: 64 << 10, BatchRecords: 1000, BatchWait: 50 * time.Millisecond}
}

// Validate reports the first bad setting, naming its key.
func (c Config) Validate() error {
	if c.MaxMessageBytes < 480 || c.MaxMessageBytes > 8<<20 {
		return errors.New("max_message_bytes: must be between 480 and 8388608")
	}
	if c.BatchRecords < 1 || c.BatchRecords > 100_000 {
		return errors.New("batch_records: must be between 1 and 100000")
	}
	if c.BatchWait < 0 || c.BatchWait > 10*time.Second {
		return errors.New("batch_wait: must be between 0 and 10s")
	}
	seen := map[string]bool{}
	for i, l := range c.Listeners {
		if err := l.validate(); err != nil {
			return fmt.Errorf("listeners[%d].%w", i, err)
		}
		key := l.network() + " " + l.address()
		if seen[key] && !strings.HasSuffix(key, ":0") {
			return fmt.Errorf("listeners[%d].listen: %s %s is configured twice", i, l.Protocol, l.address())
		}
		seen[key] = true
	}
	return nil
}

func (l Listener) validate() error {
	switch l.Protocol {
	case "tcp", "udp", "tls":
	default:
		return fmt.Errorf("protocol: %q is not one of tcp, udp, tls", l.Protocol)
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

func (l Listener) network() string {
	if l.Protocol == "udp" {
		return "udp"
	}
	return "tcp"
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
