package forward

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

// Listener is one socket and the rule that gives its senders a tenant
// (protocol tcp or tls; see listener.Config), with the Forward protocol's
// optional shared-key handshake.
type Listener struct {
	listener.Config `yaml:",inline"`
	// SharedKey, when set, makes every connection pass the Forward
	// protocol handshake (HELO, PING, PONG) with this key first. It is an
	// extra check: the tenant still comes from the rule above.
	SharedKey string `yaml:"shared_key"`
	// Hostname is the server name sent in PONG; it must differ from the
	// client's own (Fluentd refuses equal names). Default "tarian".
	Hostname string `yaml:"hostname"`
}

// TLSConfig is a TLS listener's certificates; see listener.TLSConfig.
type TLSConfig = listener.TLSConfig

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

// Sockets is the listeners (listener.Settings).
func (c Config) Sockets() []Listener { return c.Listeners }

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
		key := l.Address()
		if seen[key] && !strings.HasSuffix(key, ":0") {
			return fmt.Errorf("listeners[%d].listen: %s is configured twice", i, l.Address())
		}
		seen[key] = true
	}
	return nil
}

func (l Listener) validate() error {
	if err := l.Config.Validate("tcp", "tls"); err != nil {
		return err
	}
	if l.SharedKey == "" && l.Hostname != "" {
		return errors.New("hostname: only used with shared_key")
	}
	if len(l.Hostname) > 255 {
		return errors.New("hostname: longer than 255 bytes")
	}
	return nil
}

// hostname is the name sent in PONG.
func (l Listener) hostname() string {
	if l.Hostname == "" {
		return "tarian"
	}
	return l.Hostname
}
