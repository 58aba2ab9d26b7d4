package vlogs

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Config configures a Store. A zero field takes its default (see
// DefaultConfig), so a Config with only Path set is valid; Open fills the
// defaults and then validates.
type Config struct {
	// Path is the storage directory; required. It is created if missing, and
	// it opens unchanged in a victoria-logs server (-storageDataPath).
	Path string
	// Retention is how long events are kept; default 365 days, at least one
	// day.
	Retention time.Duration
	// FutureRetention is how far ahead of now an event may be stamped;
	// default 2 days, at least one day.
	FutureRetention time.Duration
	// MinFreeDiskBytes is the free space below which the store goes
	// read-only and Add returns logstore.ErrReadOnly; default 1 GiB, negative for no
	// limit.
	MinFreeDiskBytes int64
	// MaxDiskUsagePercent, when set (1-100), drops the oldest days once the
	// file system holding Path is fuller than this; 0 is off. VictoriaLogs
	// then drops, with only a log line, later events for a dropped day.
	MaxDiskUsagePercent int
	// StreamFields name the fields that, where an event has them, make up its
	// VictoriaLogs stream; nil means ["host.name", "event.module"].
	StreamFields []string
	// StoredName, when set, gives the name the store keeps a field under
	// when a query may name it otherwise (parse/windows.NativeName:
	// winlog.event_id is EventID): Search renames filters on it
	// (logsql.TextQuery).
	StoredName func(name string) (stored string, ok bool)
}

// DefaultConfig returns the defaults Open applies to zero fields. Path is
// left empty.
func DefaultConfig() Config {
	return Config{
		Retention:        365 * 24 * time.Hour,
		FutureRetention:  2 * 24 * time.Hour,
		MinFreeDiskBytes: 1 << 30,
		StreamFields:     []string{"host.name", "event.module"},
	}
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Retention == 0 {
		c.Retention = d.Retention
	}
	if c.FutureRetention == 0 {
		c.FutureRetention = d.FutureRetention
	}
	if c.MinFreeDiskBytes == 0 {
		c.MinFreeDiskBytes = d.MinFreeDiskBytes
	}
	if c.StreamFields == nil {
		c.StreamFields = d.StreamFields
	}
	return c
}

// Validate reports every problem with c, zero fields counting as their
// defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Path == "" {
		errs = append(errs, errors.New("path is required"))
	}
	// VictoriaLogs keeps data in per-day partitions and silently raises
	// shorter values to one day.
	if c.Retention < 24*time.Hour {
		errs = append(errs, fmt.Errorf("retention %s is shorter than one day", c.Retention))
	}
	if c.FutureRetention < 24*time.Hour {
		errs = append(errs, fmt.Errorf("future retention %s is shorter than one day", c.FutureRetention))
	}
	if c.MaxDiskUsagePercent < 0 || c.MaxDiskUsagePercent > 100 {
		errs = append(errs, fmt.Errorf("max disk usage percent %d is outside 0-100", c.MaxDiskUsagePercent))
	}
	for _, f := range c.StreamFields {
		if f == "" || strings.HasPrefix(f, "_") {
			errs = append(errs, fmt.Errorf("stream field %q: must be a non-empty event field name", f))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("vlogs config: %w", err)
	}
	return nil
}
