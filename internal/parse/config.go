package parse

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// Receivers names the receivers a source may name, as they mark their
// records (event.Raw.Source).
var Receivers = []string{"http", "syslog", "hec", "elasticsearch", "otlp", "lumberjack", "forward", "poller"}

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
}

// Config lists the sources. A record takes the first source that matches
// it; a record no source matches has its type detected.
type Config struct {
	Sources []Source `yaml:"sources"`
}

// Validate reports the first bad source, naming it by index and key.
func (c Config) Validate() error {
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
	for from, to := range s.FieldMap {
		if from == "" || to == "" {
			return fmt.Errorf("field_map: empty field name in %q: %q", from, to)
		}
	}
	return nil
}
