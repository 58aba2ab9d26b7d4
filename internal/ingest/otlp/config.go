package otlp

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

// Config configures the OTLP logs receiver.
type Config struct {
	// HTTPListen is host:port of OTLP/HTTP (POST /v1/logs); an empty host
	// means 127.0.0.1, and an empty HTTPListen disables the listener
	// (Handler still works).
	HTTPListen string `yaml:"http_listen"`
	// GRPCListen is host:port of OTLP/gRPC (LogsService/Export), with the
	// same defaults; empty disables it.
	GRPCListen string `yaml:"grpc_listen"`
	// MaxBodyBytes is the largest request accepted: an HTTP body after
	// gunzip (413 beyond) or a gRPC message after decompression
	// (RESOURCE_EXHAUSTED beyond).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxRecordBytes is the largest event one log record may become; a
	// larger record is dead-lettered and reported as rejected.
	MaxRecordBytes int `yaml:"max_record_bytes"`
	// TLSCert and TLSKey, both set, serve both listeners over TLS
	// (shippers send their token with every request, so use TLS beyond
	// loopback).
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
}

// DefaultConfig returns a disabled receiver with 64 MiB requests and
// 1 MiB records.
func DefaultConfig() Config {
	return Config{MaxBodyBytes: 64 << 20, MaxRecordBytes: 1 << 20}
}

// Validate reports the first bad setting, naming its key.
func (c Config) Validate() error {
	for _, l := range []struct{ key, addr string }{{"http_listen", c.HTTPListen}, {"grpc_listen", c.GRPCListen}} {
		if l.addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(address(l.addr)); err != nil {
			return fmt.Errorf("%s: %q: %w", l.key, l.addr, err)
		}
	}
	if c.HTTPListen != "" && c.GRPCListen != "" && address(c.HTTPListen) == address(c.GRPCListen) && !strings.HasSuffix(c.HTTPListen, ":0") {
		return fmt.Errorf("grpc_listen: %q is also http_listen", c.GRPCListen)
	}
	if c.MaxRecordBytes < 1024 || c.MaxRecordBytes > 8<<20-1024 {
		return errors.New("max_record_bytes: must be between 1024 and 8387584")
	}
	if c.MaxBodyBytes < int64(c.MaxRecordBytes) || c.MaxBodyBytes > 1<<30 {
		return errors.New("max_body_bytes: must be between max_record_bytes and 1073741824")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("tls_cert: tls_cert and tls_key go together")
	}
	return nil
}

// address is a listen address with the default host.
func address(listen string) string {
	if strings.HasPrefix(listen, ":") {
		return "127.0.0.1" + listen
	}
	return listen
}
