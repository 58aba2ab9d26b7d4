package esbulk

import (
	_ "embed"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Sample is a commented example configuration of the receiver.
//
//go:embed sample.yaml
var Sample string

// Config configures the Elasticsearch bulk receiver.
type Config struct {
	// Listen is host:port; an empty host means 127.0.0.1. Empty disables
	// the receiver.
	Listen string `yaml:"listen"`
	// Version is the Elasticsearch version reported by GET /. A Beat newer
	// than it may refuse to connect, so keep it at or above the shippers'.
	Version string `yaml:"version"`
	// MaxBodyBytes is the largest request body, after gunzip; larger ones
	// get 413 and write nothing.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxLineBytes is the longest document; longer ones get a per-item 400
	// and are dead-lettered.
	MaxLineBytes int `yaml:"max_line_bytes"`
	// TLSCert and TLSKey, both set, serve HTTPS (shippers send their token
	// with every request, so use TLS beyond loopback).
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
}

// DefaultConfig returns a disabled receiver reporting version 8.17.0, with
// 100 MiB bodies and 1 MiB documents.
func DefaultConfig() Config {
	return Config{Version: "8.17.0", MaxBodyBytes: 100 << 20, MaxLineBytes: 1 << 20}
}

// Validate reports the first bad setting, naming its key.
func (c Config) Validate() error {
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.address()); err != nil {
			return fmt.Errorf("listen: %q: %w", c.Listen, err)
		}
	}
	if err := checkVersion(c.Version); err != nil {
		return fmt.Errorf("version: %w", err)
	}
	if c.MaxLineBytes < 1024 || c.MaxLineBytes > 8<<20-1024 {
		return errors.New("max_line_bytes: must be between 1024 and 8387584")
	}
	if c.MaxBodyBytes < int64(c.MaxLineBytes) || c.MaxBodyBytes > 1<<30 {
		return errors.New("max_body_bytes: must be between max_line_bytes and 1073741824")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("tls_cert: tls_cert and tls_key go together")
	}
	return nil
}

// checkVersion accepts MAJOR.MINOR.PATCH at or above 8.17.0.
func checkVersion(v string) error {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return fmt.Errorf("%q is not MAJOR.MINOR.PATCH", v)
	}
	var n [3]int
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil || x < 0 || x > 999 {
			return fmt.Errorf("%q is not MAJOR.MINOR.PATCH", v)
		}
		n[i] = x
	}
	if n[0] < 8 || n[0] == 8 && n[1] < 17 {
		return fmt.Errorf("%q is below 8.17.0; Beats 8.17 and later would refuse it", v)
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
