package forward

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

// Config configures the Fluent Forward receiver.
type Config struct {
	// Listeners are the sockets to serve; none disables the receiver.
	Listeners []Listener `yaml:"listeners"`
	// MaxMessageBytes is the largest Forward message accepted, as sent
	// (compressed or not). A larger one closes the connection; its first
	// bytes are dead-lettered with the reason.
	MaxMessageBytes int `yaml:"max_message_bytes"`
	// MaxDecompressedBytes bounds what one CompressedPackedForward message
	// may inflate to.
	MaxDecompressedBytes int `yaml:"max_decompressed_bytes"`
	// MaxRecordBytes is the largest record accepted, as the JSON it
	// becomes; larger ones are dead-lettered.
	MaxRecordBytes int `yaml:"max_record_bytes"`
	// BatchRecords and BatchWait bound how many records, and for how long,
	// a connection gathers before the durable write. A connection that
	// waits for an acknowledgement is written as soon as it stops sending.
	BatchRecords int           `yaml:"batch_records"`
	BatchWait    time.Duration `yaml:"batch_wait"`
}

// Listener is one socket and the rule that gives its senders a tenant.
// Exactly one of Tenant, Sources and TLS.Clients says who the sender is.
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
	// SharedKey, when set, makes every connection pass the Forward
	// protocol handshake (HELO, PING, PONG) with this key first. It is an
	// extra check: the tenant still comes from the rule above.
	SharedKey string `yaml:"shared_key"`
	// Hostname is the server name sent in PONG; it must differ from the
	// client's own (Fluentd refuses equal names). Default "tarian".
	Hostname string `yaml:"hostname"`
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

// DefaultConfig returns no listeners, 16 MiB messages inflating to at most
// 64 MiB, 1 MiB records and batches of 1000 records or 50 ms.
func DefaultConfig() Config {
	return Config{
		MaxMessageBytes:      16 << 20,
		MaxDecompressedBytes: 64 << 20,
		MaxRecordBytes:       1 << 20,
		BatchRecords:         1000,
		BatchWait:            50 * time.Millisecond,
	}
}

// Validate reports the first bad setting, naming its key.
func (c Config) Validate() error {
	if c.MaxMessageBytes < 1024 || c.MaxMessageBytes > 256<<20 {
		return errors.New("max_message_bytes: must be between 1024 and 268435456")
	}
	if c.MaxDecompressedBytes < 1024 || c.MaxDecompressedBytes > 1<<30 {
		return errors.New("max_decompressed_bytes: must be between 1024 and 1073741824")
	}
	if c.MaxRecordBytes < 256 || c.MaxRecordBytes > 8<<20 {
		return errors.New("max_record_bytes: must be between 256 and 8388608")
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
		key := l.address()
		if seen[key] && !strings.HasSuffix(key, ":0") {
			return fmt.Errorf("listeners[%d].listen: %s is configured twice", i, l.address())
		}
		seen[key] = true
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
	if l.SharedKey == "" && l.Hostname != "" {
		return errors.New("hostname: only used with shared_key")
	}
	if len(l.Hostname) > 255 {
		return errors.New("hostname: longer than 255 bytes")
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

// hostname is the name sent in PONG.
func (l Listener) hostname() string {
	if l.Hostname == "" {
		return "tarian"
	}
	return l.Hostname
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
