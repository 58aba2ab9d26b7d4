package hec

import (
	_ "embed"
	"errors"
	"fmt"
	"net"
	"strings"
)

// Sample is a commented example configuration of the receiver.
//
//go:embed sample.yaml
var Sample string

// Config configures the HEC receiver.
type Config struct {
	// Listen is host:port for Run; an empty host means 127.0.0.1, and an
	// empty Listen disables the listener (Handler still works).
	Listen string `yaml:"listen"`
	// MaxBodyBytes is the largest request body accepted, after gunzip;
	// larger ones are refused with 413 before anything is written.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxEventBytes is the largest event (an /event envelope, a /raw line)
	// accepted; a larger one rejects its request as invalid data.
	MaxEventBytes int `yaml:"max_event_bytes"`
	// TLSCert and TLSKey, both set, serve HTTPS (TLS 1.2 or later; the
	// files are re-read when they change). Shippers send their token with
	// every request, so use TLS beyond loopback.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
}

// DefaultConfig returns a disabled receiver with 64 MiB bodies and 1 MiB
// events.
func DefaultConfig() Config {
	return Config{MaxBodyBytes: 64 << 20, MaxEventBytes: 1 << 20}
}

// Validate reports the first bad setting, naming its key.
func (c Config) Validate() error {
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.address()); err != nil {
			return fmt.Errorf("listen: %q: %w", c.Listen, err)
		}
	}
	if c.MaxEventBytes < 1024 || c.MaxEventBytes > 8<<20-1024 {
		return errors.New("max_event_bytes: must be between 1024 and 8387584")
	}
	if c.MaxBodyBytes < int64(c.MaxEventBytes) || c.MaxBodyBytes > 1<<30 {
		return errors.New("max_body_bytes: must be at least max_event_bytes and at most 1073741824")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("tls_cert: tls_cert and tls_key go together")
	}
	return nil
}

// address is Listen with the default host.
func (c Config) address() string {
	if strings.HasPrefix(c.Listen, ":") {
		return "127.0.0.1" + c.Listen
	}
	return c.Listen
}
