package parse

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Receivers names the receivers a source may name: the kinds they mark
// their records with (event.Raw.Source).
var Receivers = func() []string {
	var out []string
	for _, k := range event.Kinds() {
		out = append(out, string(k))
	}
	return out
}()

// Source declares what one stream of records is: whose, through which
// receiver, of which type.
type Source struct {
	// Name labels the source on its events (tarian.source.name).
	Name string `yaml:"name"`
	// Tenant is the tenant ID; empty matches every tenant.
	Tenant string `yaml:"tenant"`
	// Receiver is the receiver the records arrive through; empty matches
	// every receiver.
	Receiver string `yaml:"receiver"`
	// Host, when set, is a glob (path.Match) on the host the record names
	// (the syslog header's hostname, host.name, host.hostname,
	// agent.hostname), compared case-insensitively.
	Host string `yaml:"host"`
	// App, when set, is a glob on the syslog app-name (the tag).
	App string `yaml:"app"`
	// Type is the format of the records (see `tarian parse --list`);
	// "auto" detects it per record.
	Type string `yaml:"type"`
	// FieldMap copies fields to other names after parsing (source field:
	// new field), e.g. {src_ip: source.ip} for a plain JSON source.
	FieldMap map[string]string `yaml:"field_map"`
	// Raw overrides Config.Raw for this source's records.
	Raw string `yaml:"raw"`
	// RawArchive, when set, overrides Config.RawArchive for this source's
	// records.
	RawArchive *bool `yaml:"raw_archive"`
	// Silence is how long the source may stay quiet before its silence
	// raises an alert (0: health.silence); a source with a tenant and a
	// name is expected, and its silence always alerts.
	Silence time.Duration `yaml:"silence"`
}

// Raw record policies: when an event keeps its raw record (event.original)
// in the event store. Every event keeps the record's SHA-256 (event.hash)
// whatever the policy, and the bus keeps every record for bus.max_age.
const (
	// RawAlways keeps every record.
	RawAlways = "always"
	// RawOnParseError keeps the record of an event no format could parse
	// (the event holds only what the receiver's envelope gave), where the
	// raw text is what an analyst needs; a parsed event's fields already
	// hold its values. The default.
	RawOnParseError = "on_parse_error"
	// RawNever keeps none.
	RawNever = "never"
)

// Config lists the sources. A record takes the first source that matches
// it; a record no source matches has its type detected.
type Config struct {
	Sources []Source `yaml:"sources"`
	// Raw is the raw record policy of records no source with its own
	// policy claims: always, on_parse_error (default) or never.
	Raw string `yaml:"raw"`
	// RawArchive keeps every record of sources that do not say otherwise
	// in the raw archive (compressed, per tenant and day, outside the
	// event store), whatever Raw says.
	RawArchive bool `yaml:"raw_archive"`
	// Aliases also writes alias layers (see Aliaser): for `tarian parse`,
	// not for storage.
	Aliases bool `yaml:"-"`
}

// Archives reports whether any record goes to the raw archive.
func (c Config) Archives() bool {
	if c.RawArchive {
		return true
	}
	for _, s := range c.Sources {
		if s.RawArchive != nil && *s.RawArchive {
			return true
		}
	}
	return false
}

func validRaw(p string) error {
	switch p {
	case "", RawAlways, RawOnParseError, RawNever:
		return nil
	}
	return fmt.Errorf("raw: %q: must be %s, %s or %s", p, RawAlways, RawOnParseError, RawNever)
}

// Validate reports the first bad source, naming it by index and key.
func (c Config) Validate() error {
	if err := validRaw(c.Raw); err != nil {
		return err
	}
	for i, s := range c.Sources {
		if err := s.validate(); err != nil {
			return fmt.Errorf("sources[%d]%s: %w", i, label(s), err)
		}
	}
	return nil
}

func label(s Source) string {
	if s.Name == "" {
		return ""
	}
	return " (" + s.Name + ")"
}

func (s Source) validate() error {
	if s.Tenant != "" {
		if _, err := tenant.Parse(s.Tenant); err != nil {
			return fmt.Errorf("tenant: %w", err)
		}
	}
	if s.Receiver != "" && !slices.Contains(Receivers, s.Receiver) {
		return fmt.Errorf("receiver: unknown receiver %q (one of %s)", s.Receiver, strings.Join(Receivers, ", "))
	}
	if s.Type == "" {
		return fmt.Errorf("type: required (one of %s, or auto)", strings.Join(Types(), ", "))
	}
	if s.Type != Auto && lookup(s.Type) == nil {
		return fmt.Errorf("type: unknown type %q (one of %s, or auto)", s.Type, strings.Join(Types(), ", "))
	}
	for key, glob := range map[string]string{"host": s.Host, "app": s.App} {
		if _, err := path.Match(glob, ""); err != nil {
			return fmt.Errorf("%s: bad pattern %q: %w", key, glob, err)
		}
	}
	if s.Silence != 0 && s.Silence < 10*time.Second {
		return fmt.Errorf("silence: %s is too short (at least 10s, or 0 for health.silence)", s.Silence)
	}
	for from, to := range s.FieldMap {
		if from == "" || to == "" {
			return fmt.Errorf("field_map: empty field name in %q: %q", from, to)
		}
	}
	return validRaw(s.Raw)
}
