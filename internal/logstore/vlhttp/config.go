package vlhttp

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Config configures a Store. A zero field takes its default (see
// DefaultConfig); Open fills the defaults and then validates.
type Config struct {
	// URL is the victoria-logs server: a single node, or the front of a
	// cluster (a victoria-logs run with -storageNode=...); required,
	// http:// or https://, no path.
	URL string
	// StorageNodes are the HTTP URLs of a cluster's storage nodes (the
	// addresses the front's -storageNode names). Flush writes each node's
	// in-memory data to disk through them, and Stats reads their metrics;
	// without them, a cluster's Flush only makes events searchable and
	// then waits out the nodes' own flush interval (NodeFlushInterval).
	// Leave empty for a single node.
	StorageNodes []string
	// NodeFlushInterval is the storage nodes' -inmemoryDataFlushInterval,
	// which Flush waits out when it cannot write a node's data to disk
	// itself; default 5s, VictoriaLogs' default.
	NodeFlushInterval time.Duration
	// Retention is how long events are kept; default 365 days, at least one
	// day. The server's -retentionPeriod must be at least this long (Open
	// checks where it can): events older than it are stored at their
	// ingest time, as in logstore/vlogs.
	Retention time.Duration
	// FutureRetention is how far ahead of now an event may be stamped;
	// default 2 days, at least one day, at most the server's
	// -futureRetention.
	FutureRetention time.Duration
	// StreamFields name the fields that, where an event has them, make up its
	// VictoriaLogs stream; nil means ["host.name", "event.module"].
	StreamFields []string
	// StoredName, when set, gives the name the store keeps a field under
	// when a query may name it otherwise (parse/windows.NativeName:
	// winlog.event_id is EventID): Search renames filters on it
	// (logsql.TextQuery).
	StoredName func(name string) (stored string, ok bool)
	// Compression of insert request bodies: "zstd" (default), "gzip" or
	// "none".
	Compression string
	// BatchBytes is the uncompressed size at which Add starts another insert
	// request; default 4 MiB.
	BatchBytes int
	// Timeout bounds each request other than a search or an export, whose
	// caller's context bounds them; default 1 minute.
	Timeout time.Duration
}

// DefaultConfig returns the defaults Open applies to zero fields. URL is
// left empty.
func DefaultConfig() Config {
	return Config{
		NodeFlushInterval: 5 * time.Second,
		Retention:         365 * 24 * time.Hour,
		FutureRetention:   2 * 24 * time.Hour,
		StreamFields:      []string{"host.name", "event.module"},
		Compression:       "zstd",
		BatchBytes:        4 << 20,
		Timeout:           time.Minute,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.NodeFlushInterval == 0 {
		c.NodeFlushInterval = d.NodeFlushInterval
	}
	if c.Retention == 0 {
		c.Retention = d.Retention
	}
	if c.FutureRetention == 0 {
		c.FutureRetention = d.FutureRetention
	}
	if c.StreamFields == nil {
		c.StreamFields = d.StreamFields
	}
	if c.Compression == "" {
		c.Compression = d.Compression
	}
	if c.BatchBytes == 0 {
		c.BatchBytes = d.BatchBytes
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	return c
}

// Validate reports every problem with c, zero fields counting as their
// defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("url is required"))
	} else if err := checkURL(c.URL); err != nil {
		errs = append(errs, fmt.Errorf("url: %w", err))
	}
	for _, n := range c.StorageNodes {
		if err := checkURL(n); err != nil {
			errs = append(errs, fmt.Errorf("storage node %q: %w", n, err))
		}
	}
	if c.NodeFlushInterval < time.Second {
		errs = append(errs, fmt.Errorf("node flush interval %s is shorter than VictoriaLogs' minimum of one second", c.NodeFlushInterval))
	}
	if c.Retention < 24*time.Hour {
		errs = append(errs, fmt.Errorf("retention %s is shorter than one day", c.Retention))
	}
	if c.FutureRetention < 24*time.Hour {
		errs = append(errs, fmt.Errorf("future retention %s is shorter than one day", c.FutureRetention))
	}
	for _, f := range c.StreamFields {
		if f == "" || strings.HasPrefix(f, "_") {
			errs = append(errs, fmt.Errorf("stream field %q: must be a non-empty event field name", f))
		}
	}
	switch c.Compression {
	case "zstd", "gzip", "none":
	default:
		errs = append(errs, fmt.Errorf("compression %q: want zstd, gzip or none", c.Compression))
	}
	if c.BatchBytes < 64<<10 {
		errs = append(errs, fmt.Errorf("batch bytes %d is below 64 KiB", c.BatchBytes))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %s is negative", c.Timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("vlhttp config: %w", err)
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme %q: want http or https", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("no host")
	}
	if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
		return errors.New("want no path or query")
	}
	return nil
}
