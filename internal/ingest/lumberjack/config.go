package lumberjack

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

// Listener is one socket and the rule that gives its senders a tenant:
// protocol tcp or tls, the same rules as the syslog receiver's listeners;
// see listener.Config.
type Listener = listener.Config

// TLSConfig is a TLS listener's certificates; see listener.TLSConfig.
type TLSConfig = listener.TLSConfig

// DefaultConfig returns no listeners, 1 MiB events, a 30 s timeout (the
// Beats' own default) and a keepalive every 5 s.
func DefaultConfig() Config {
	return Config{MaxEventBytes: 1 << 20, Timeout: 30 * time.Second, Keepalive: 5 * time.Second}
}

// Sockets is the listeners (listener.Settings).
func (c Config) Sockets() []Listener { return c.Listeners }

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
		if err := l.Validate("tcp", "tls"); err != nil {
			return fmt.Errorf("listeners[%d].%w", i, err)
		}
		a := l.Address()
		if seen[a] && !strings.HasSuffix(a, ":0") {
			return fmt.Errorf("listeners[%d].listen: %s is configured twice", i, a)
		}
		seen[a] = true
	}
	return nil
}
