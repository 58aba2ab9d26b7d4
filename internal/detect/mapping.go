package detect

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed mapping.yaml
var defaultMappingYAML []byte

// ErrMapping marks an invalid mapping document.
var ErrMapping = errors.New("invalid mapping")

// Mapping says how JSON events become Sigma fields and which events each
// Sigma log source covers. It is data: DefaultMapping is embedded YAML
// (mapping.yaml) and users extend it with Merge.
type Mapping struct {
	Fields     FieldMapping `yaml:"fields"`
	LogSources []LogSource  `yaml:"logsources"`
}

// FieldMapping turns JSON paths into Sigma field names.
type FieldMapping struct {
	// Payload lists objects whose keys are field names as they stand
	// ("Event.EventData"); a "*" segment matches any one key.
	Payload []string `yaml:"payload"`
	// Rename gives the field name of an exact dotted path.
	Rename map[string]string `yaml:"rename"`
	// Alias gives more names a field answers to.
	Alias map[string][]string `yaml:"alias"`
	// Time lists the field names holding the event time.
	Time []string `yaml:"time"`
	// RemoveSpaces lets a key with spaces ("Threat Name") answer to the
	// name without them (ThreatName).
	RemoveSpaces bool `yaml:"remove_spaces"`
}

// LogSource maps one Sigma logsource to event predicates.
type LogSource struct {
	Product  string        `yaml:"product"`
	Category string        `yaml:"category"`
	Service  string        `yaml:"service"`
	When     []Alternative `yaml:"when"`
}

// Alternative is one way an event belongs to a log source: every field
// must equal one of its values ("*": be present), case-insensitively.
//
// Rename maps a Sigma field to the event fields that stand for it, for
// the events of this alternative, when the event has no field of the
// Sigma name: one field, or several whose values it takes together (a
// rule's test holds when any of them matches). A "*" segment of an event
// field name matches any one key ("targets.*.id" reads targets.0.id,
// targets.1.id, ...). The key "*" names a prefix ending in "*": every
// other Sigma field the rules test is read from the event field of its
// name after the prefix ("*": "auditd.log.*" reads a0 from auditd.log.a0).
type Alternative struct {
	Fields map[string][]string
	Rename map[string][]string
}

// UnmarshalYAML reads {Channel: X, EventID: [1, 2], rename: {A: b, C: [d, e]}}.
func (a *Alternative) UnmarshalYAML(n *yaml.Node) error {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a 'when' alternative must be a mapping: %w", n.Line, ErrMapping)
	}
	a.Fields = make(map[string][]string)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if k.Value == "rename" {
			if err := a.decodeRename(v); err != nil {
				return err
			}
			continue
		}
		switch v.Kind {
		case yaml.ScalarNode:
			a.Fields[k.Value] = []string{v.Value}
		case yaml.SequenceNode:
			for _, c := range v.Content {
				a.Fields[k.Value] = append(a.Fields[k.Value], c.Value)
			}
		default:
			return fmt.Errorf("line %d: %s: want a value or a list: %w", v.Line, k.Value, ErrMapping)
		}
	}
	return nil
}

// decodeRename reads a rename mapping whose values are a field or a list.
func (a *Alternative) decodeRename(n *yaml.Node) error {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: rename must be a mapping: %w", n.Line, ErrMapping)
	}
	a.Rename = make(map[string][]string)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		var from []string
		switch v.Kind {
		case yaml.ScalarNode:
			from = []string{v.Value}
		case yaml.SequenceNode:
			for _, c := range v.Content {
				if c = deref(c); c.Kind != yaml.ScalarNode {
					return fmt.Errorf("line %d: rename %s: want field names: %w", c.Line, k.Value, ErrMapping)
				}
				from = append(from, c.Value)
			}
		default:
			return fmt.Errorf("line %d: rename %s: want a field or a list: %w", v.Line, k.Value, ErrMapping)
		}
		if len(from) == 0 || slices.Contains(from, "") {
			return fmt.Errorf("line %d: rename %s: empty field name: %w", v.Line, k.Value, ErrMapping)
		}
		if k.Value == "*" && (len(from) != 1 || !strings.HasSuffix(from[0], "*") || strings.Count(from[0], "*") != 1) {
			return fmt.Errorf("line %d: rename \"*\": want one prefix ending in \"*\" (\"auditd.log.*\"): %w", v.Line, ErrMapping)
		}
		a.Rename[k.Value] = from
	}
	return nil
}

// deref follows a YAML alias (*name) to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func (l LogSource) key() string {
	return strings.ToLower(l.Product + "|" + l.Category + "|" + l.Service)
}

// DefaultMapping returns the built-in mapping (a fresh copy).
func DefaultMapping() *Mapping {
	m, err := ParseMapping(defaultMappingYAML)
	if err != nil {
		panic("BUG: embedded mapping.yaml: " + err.Error())
	}
	return m
}

// LoadMapping returns the default mapping extended with the mapping file at
// path (see Merge); an empty path gives the default alone. Errors name the
// file.
func LoadMapping(path string) (*Mapping, error) {
	m := DefaultMapping()
	if path == "" {
		return m, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	extra, err := ParseMapping(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.Merge(extra)
	return m, nil
}

// ParseMapping reads a mapping document.
func ParseMapping(data []byte) (*Mapping, error) {
	var m Mapping
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	for _, ls := range m.LogSources {
		if len(ls.When) == 0 {
			return nil, fmt.Errorf("mapping: logsource %s has no 'when': %w", ls.key(), ErrMapping)
		}
	}
	return &m, nil
}

// Merge adds other to m: its payload paths, renames, aliases and time fields
// are added, and its log sources replace those of m with the same
// product/category/service (or are appended).
func (m *Mapping) Merge(other *Mapping) {
	m.Fields.Payload = append(m.Fields.Payload, other.Fields.Payload...)
	if m.Fields.Rename == nil {
		m.Fields.Rename = map[string]string{}
	}
	for k, v := range other.Fields.Rename {
		m.Fields.Rename[k] = v
	}
	if m.Fields.Alias == nil {
		m.Fields.Alias = map[string][]string{}
	}
	for k, v := range other.Fields.Alias {
		m.Fields.Alias[k] = append(m.Fields.Alias[k], v...)
	}
	m.Fields.Time = append(other.Fields.Time, m.Fields.Time...)
	m.Fields.RemoveSpaces = m.Fields.RemoveSpaces || other.Fields.RemoveSpaces
	for _, ls := range other.LogSources {
		replaced := false
		for i := range m.LogSources {
			if m.LogSources[i].key() == ls.key() {
				m.LogSources[i] = ls
				replaced = true
			}
		}
		if !replaced {
			m.LogSources = append(m.LogSources, ls)
		}
	}
}

// lookup finds the log source entry for a rule's logsource.
func (m *Mapping) lookup(product, category, service string) (LogSource, bool) {
	k := strings.ToLower(product + "|" + category + "|" + service)
	for _, ls := range m.LogSources {
		if ls.key() == k {
			return ls, true
		}
	}
	return LogSource{}, false
}
