package stix

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The STIX 2.1 object kinds: domain objects (SDOs), relationship objects
// (SROs), meta objects (SMOs) and cyber-observable objects (SCOs). The
// checks in this file follow the official 2.1 JSON schemas
// (oasis-open/cti-stix2-json-schemas), written as Go.
var (
	sdoTypes = set("attack-pattern", "campaign", "course-of-action", "grouping", "identity", "incident",
		"indicator", "infrastructure", "intrusion-set", "location", "malware", "malware-analysis", "note",
		"observed-data", "opinion", "report", "threat-actor", "tool", "vulnerability")
	sroTypes = set("relationship", "sighting")
	scoTypes = set("artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message",
		"file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process", "software", "url",
		"user-account", "windows-registry-key", "x509-certificate")
)

// required lists, per type, the properties an object must have beyond
// the common ones. An entry "a|b+c" is satisfied by a, or by b and c.
var required = map[string][]string{
	"attack-pattern":       {"name"},
	"campaign":             {"name"},
	"course-of-action":     {"name"},
	"grouping":             {"context", "object_refs"},
	"identity":             {"name"},
	"incident":             {"name"},
	"indicator":            {"pattern", "pattern_type", "valid_from"},
	"infrastructure":       {"name"},
	"intrusion-set":        {"name"},
	"location":             {"region|country|latitude+longitude"},
	"malware":              {"is_family"},
	"malware-analysis":     {"product", "result|analysis_sco_refs"},
	"note":                 {"content", "object_refs"},
	"observed-data":        {"first_observed", "last_observed", "number_observed", "objects|object_refs"},
	"opinion":              {"object_refs", "opinion"},
	"report":               {"name", "object_refs", "published"},
	"threat-actor":         {"name"},
	"tool":                 {"name"},
	"vulnerability":        {"name"},
	"relationship":         {"relationship_type", "source_ref", "target_ref"},
	"sighting":             {"sighting_of_ref"},
	"language-content":     {"object_ref", "contents"},
	"extension-definition": {"name", "schema", "version", "extension_types", "created_by_ref"},
	"marking-definition":   {"definition_type+definition|extensions"},
	"artifact":             {"payload_bin|url"},
	"autonomous-system":    {"number"},
	"directory":            {"path"},
	"domain-name":          {"value"},
	"email-addr":           {"value"},
	"email-message":        {"is_multipart"},
	"file":                 {"hashes|name"},
	"ipv4-addr":            {"value"},
	"ipv6-addr":            {"value"},
	"mac-addr":             {"value"},
	"mutex":                {"name"},
	"network-traffic":      {"protocols", "src_ref|dst_ref"},
	"software":             {"name"},
	"url":                  {"value"},
}

// timestampProps are the properties of SDOs, SROs and SMOs that hold a
// STIX timestamp.
var timestampProps = []string{"created", "modified", "valid_from", "valid_until", "first_seen", "last_seen",
	"first_observed", "last_observed", "published", "start_time", "stop_time", "submitted",
	"analysis_started", "analysis_ended"}

// timestampRE is timestamp.json's pattern: RFC 3339 in UTC ("Z").
var timestampRE = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9]|60)(\.[0-9]+)?Z$`)

func set(s ...string) map[string]bool {
	m := make(map[string]bool, len(s))
	for _, v := range s {
		m[v] = true
	}
	return m
}

// kind is how the schemas treat a type.
type kind int

const (
	kindSDO kind = iota // SDOs, SROs, and the SMOs with created and modified
	kindMarking
	kindSCO
)

func kindOf(typ string, props map[string]json.RawMessage) kind {
	switch {
	case typ == "marking-definition":
		return kindMarking
	case scoTypes[typ]:
		return kindSCO
	case sdoTypes[typ] || sroTypes[typ] || typ == "language-content" || typ == "extension-definition":
		return kindSDO
	}
	// A custom object: an SCO has no created (the schemas give SDOs
	// created and modified, SCOs neither).
	if present(props, "created") || present(props, "modified") {
		return kindSDO
	}
	return kindSCO
}

func present(props map[string]json.RawMessage, name string) bool {
	v, ok := props[name]
	return ok && string(v) != "null"
}

// checkObject reports the first way the object breaks the STIX 2.1
// schemas (common properties, the type's required properties, property
// types Tarian reads, timestamps, identifiers) or nil.
func checkObject(raw []byte, props map[string]json.RawMessage, c *common) error {
	if !present(props, "type") {
		return errors.New("type: missing")
	}
	if !validType(c.Type) {
		return fmt.Errorf("type %q: want lower-case letters, digits and hyphens, 3 to 250 characters", c.Type)
	}
	if !present(props, "id") {
		return errors.New("id: missing")
	}
	if !ValidID(c.ID) || IDType(c.ID) != c.Type {
		return fmt.Errorf("id %q: want %s--<uuid>", c.ID, c.Type)
	}
	k := kindOf(c.Type, props)
	switch k {
	case kindSDO:
		for _, p := range []string{"spec_version", "created", "modified"} {
			if !present(props, p) {
				return fmt.Errorf("%s: missing (required of a %s)", p, c.Type)
			}
		}
	case kindMarking:
		for _, p := range []string{"spec_version", "created"} {
			if !present(props, p) {
				return fmt.Errorf("%s: missing (required of a marking-definition)", p)
			}
		}
	}
	if present(props, "spec_version") && c.SpecVersion != "2.1" {
		if c.SpecVersion == "2.0" {
			return errors.New("spec_version 2.0: Tarian imports STIX 2.1 objects")
		}
		return fmt.Errorf("spec_version %q: want 2.1", c.SpecVersion)
	}
	for _, r := range required[c.Type] {
		if !satisfied(props, r) {
			return fmt.Errorf("%s: missing (required of a %s)", strings.ReplaceAll(strings.ReplaceAll(r, "|", " or "), "+", " and "), c.Type)
		}
	}
	if k != kindSCO {
		for _, p := range timestampProps {
			if !present(props, p) {
				continue
			}
			var s string
			if err := json.Unmarshal(props[p], &s); err != nil {
				return fmt.Errorf("%s: want a timestamp string", p)
			}
			if _, err := parseTime(s); err != nil {
				return fmt.Errorf("%s %q: %v", p, s, err)
			}
			if (p == "created" || p == "modified") && k == kindSDO && !millis(s) {
				return fmt.Errorf("%s %q: must be precise to the millisecond (.000Z)", p, s)
			}
		}
		if c.Created != "" && c.Modified != "" {
			cr, _ := parseTime(c.Created)
			mo, _ := parseTime(c.Modified)
			if mo.Before(cr) {
				return errors.New("modified: before created")
			}
		}
	}
	if err := checkRefs(props); err != nil {
		return err
	}
	if c.CreatedByRef != "" && IDType(c.CreatedByRef) != "identity" {
		return fmt.Errorf("created_by_ref %q: want an identity", c.CreatedByRef)
	}
	for _, m := range c.ObjectMarkingRefs {
		if IDType(m) != "marking-definition" {
			return fmt.Errorf("object_marking_refs: %q is not a marking-definition", m)
		}
	}
	if present(props, "object_marking_refs") && len(c.ObjectMarkingRefs) == 0 {
		return errors.New("object_marking_refs: empty (the schema wants at least one)")
	}
	for _, g := range c.GranularMarkings {
		if g.MarkingRef == "" && g.Lang == "" {
			return errors.New("granular_markings: an entry needs marking_ref or lang")
		}
		if len(g.Selectors) == 0 {
			return errors.New("granular_markings: an entry needs selectors")
		}
	}
	if c.Confidence != nil && (*c.Confidence < 0 || *c.Confidence > 100) {
		return fmt.Errorf("confidence %d: want 0..100", *c.Confidence)
	}
	for _, e := range c.ExternalReferences {
		if e.SourceName == "" {
			return errors.New("external_references: an entry needs source_name")
		}
	}
	for _, p := range c.KillChainPhases {
		if p.KillChainName == "" || p.PhaseName == "" {
			return errors.New("kill_chain_phases: an entry needs kill_chain_name and phase_name")
		}
	}
	return checkType(raw, c)
}

// checkType applies the rules of one type beyond required properties.
func checkType(raw []byte, c *common) error {
	switch c.Type {
	case "indicator":
		var p struct {
			Pattern     string `json:"pattern"`
			PatternType string `json:"pattern_type"`
			ValidFrom   string `json:"valid_from"`
			ValidUntil  string `json:"valid_until"`
		}
		if err := json.Unmarshal(raw, &p); err != nil {
			return typeError(err)
		}
		if p.ValidUntil != "" {
			from, _ := parseTime(p.ValidFrom)
			until, _ := parseTime(p.ValidUntil)
			if !until.After(from) {
				return errors.New("valid_until: must be after valid_from")
			}
		}
	case "relationship":
		var r struct {
			Type   string `json:"relationship_type"`
			Source string `json:"source_ref"`
			Target string `json:"target_ref"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return typeError(err)
		}
		for _, ref := range []string{r.Source, r.Target} {
			switch IDType(ref) {
			case "bundle", "language-content", "marking-definition", "relationship", "sighting":
				return fmt.Errorf("relationship: %s cannot be a source or target", ref)
			}
		}
	case "sighting":
		var s struct {
			Of        string   `json:"sighting_of_ref"`
			Count     *int     `json:"count"`
			FirstSeen string   `json:"first_seen"`
			LastSeen  string   `json:"last_seen"`
			Where     []string `json:"where_sighted_refs"`
			Observed  []string `json:"observed_data_refs"`
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			return typeError(err)
		}
		switch IDType(s.Of) {
		case "bundle", "language-content", "marking-definition", "relationship", "sighting":
			return fmt.Errorf("sighting_of_ref %s: a %s cannot be sighted", s.Of, IDType(s.Of))
		}
		if s.Count != nil && (*s.Count < 0 || *s.Count > 999999999) {
			return fmt.Errorf("count %d: want 0..999999999", *s.Count)
		}
		if s.FirstSeen != "" && s.LastSeen != "" {
			f, _ := parseTime(s.FirstSeen)
			l, _ := parseTime(s.LastSeen)
			if l.Before(f) {
				return errors.New("last_seen: before first_seen")
			}
		}
		for _, w := range s.Where {
			if t := IDType(w); t != "identity" && t != "location" {
				return fmt.Errorf("where_sighted_refs: %s is not an identity or location", w)
			}
		}
		for _, o := range s.Observed {
			if IDType(o) != "observed-data" {
				return fmt.Errorf("observed_data_refs: %s is not observed-data", o)
			}
		}
	case "observed-data":
		var o struct {
			First  string `json:"first_observed"`
			Last   string `json:"last_observed"`
			Number int    `json:"number_observed"`
		}
		if err := json.Unmarshal(raw, &o); err != nil {
			return typeError(err)
		}
		if o.Number < 1 || o.Number > 999999999 {
			return fmt.Errorf("number_observed %d: want 1..999999999", o.Number)
		}
		f, _ := parseTime(o.First)
		l, _ := parseTime(o.Last)
		if l.Before(f) {
			return errors.New("last_observed: before first_observed")
		}
	case "malware":
		var m struct {
			IsFamily bool `json:"is_family"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			return typeError(err)
		}
	}
	return nil
}

func satisfied(props map[string]json.RawMessage, rule string) bool {
	for _, alt := range strings.Split(rule, "|") {
		all := true
		for _, p := range strings.Split(alt, "+") {
			if !present(props, p) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// checkRefs checks that every top-level *_ref property is an identifier
// and every *_refs property a list of them.
func checkRefs(props map[string]json.RawMessage) error {
	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		v := props[name]
		if string(v) == "null" {
			continue
		}
		switch {
		case strings.HasSuffix(name, "_ref"):
			var s string
			if err := json.Unmarshal(v, &s); err != nil || !ValidID(s) {
				return fmt.Errorf("%s: want a STIX identifier, have %s", name, clip(string(v)))
			}
		case strings.HasSuffix(name, "_refs"):
			var l []string
			if err := json.Unmarshal(v, &l); err != nil {
				return fmt.Errorf("%s: want a list of STIX identifiers", name)
			}
			if len(l) == 0 {
				return fmt.Errorf("%s: empty (the schema wants at least one)", name)
			}
			for _, s := range l {
				if !ValidID(s) {
					return fmt.Errorf("%s: %q is not a STIX identifier", name, s)
				}
			}
		}
	}
	return nil
}

// refs lists the identifiers an object's top-level *_ref and *_refs
// properties name, with the property.
func refs(props map[string]json.RawMessage) [][2]string {
	var out [][2]string
	for name, v := range props {
		switch {
		case strings.HasSuffix(name, "_ref"):
			var s string
			if json.Unmarshal(v, &s) == nil && s != "" {
				out = append(out, [2]string{name, s})
			}
		case strings.HasSuffix(name, "_refs"):
			var l []string
			if json.Unmarshal(v, &l) == nil {
				for _, s := range l {
					out = append(out, [2]string{name, s})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	return out
}

func parseTime(s string) (time.Time, error) {
	if !timestampRE.MatchString(s) {
		return time.Time{}, errors.New("not an RFC 3339 timestamp in UTC (…Z)")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errors.New("not a valid date and time")
	}
	return t, nil
}

func millis(s string) bool {
	i := strings.LastIndexByte(s, '.')
	return i > 0 && len(s)-i-2 >= 3
}

// typeError words a JSON type mismatch as a schema violation.
func typeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%s: a JSON %s where the specification wants %s", te.Field, te.Value, jsonKind(te.Type.String()))
	}
	return err
}

func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "a boolean"
	case strings.HasPrefix(goType, "int") || strings.HasPrefix(goType, "*int") || strings.HasPrefix(goType, "float"):
		return "a number"
	}
	return "an object"
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
