package syslog

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/ingest/listener"
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

// Listener is one socket and the rule that gives its senders a tenant:
// protocol tcp, udp or tls (RFC 5425); see listener.Config.
type Listener = listener.Config

// TLSConfig is an RFC 5425 listener's certificates; see
// listener.TLSConfig.
type TLSConfig = listener.TLSConfig

// DefaultConfig returns no listeners, 64 KiB messages and batches of 1000
// records or 50 ms.
func DefaultConfig() Config {
	return Config{MaxMessageBytes: 64 << 10, BatchRecords: 1000, BatchWait: 50 * time.Millisecond}
}

// Sockets is the listeners (listener.Settings).
func (c Config) Sockets() []Listener { return c.Listeners }

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
		if err := l.Validate("tcp", "udp", "tls"); err != nil {
			return fmt.Errorf("listeners[%d].%w", i, err)
		}
		key := network(l) + " " + l.Address()
		if seen[key] && !strings.HasSuffix(key, ":0") {
			return fmt.Errorf("listeners[%d].listen: %s %s is configured twice", i, l.Protocol, l.Address())
		}
		seen[key] = true
	}
	return nil
}

// network is the socket type a listener binds.
func network(l Listener) string {
	if l.Protocol == "udp" {
		return "udp"
	}
	return "tcp"
}
