package stix

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/intel/stixpattern"
)

// tlpExtension is the id of the OASIS TLP 2.0 marking extension (the
// property extension whose tlp_2_0 names the level).
const tlpExtension = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

// tlpCreated are the created timestamps OASIS gives the TLP 2.0 and the
// TLP 1.0 (STIX 2.1 section 7.2.1.4) marking definitions.
const (
	tlp2Created = "2022-10-01T00:00:00.000Z"
	tlp1Created = "2017-01-20T00:00:00.000Z"
)

// tlp1Names are the TLP 1.0 levels by marking-definition id.
var tlp1Names = map[string]string{
	"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "white",
	"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
	"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
	"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
}

// patternPaths are the STIX object paths of the observable types,
// as IndicatorObject writes them.
var patternPaths = map[intel.Type]string{
	intel.TypeIPv4:         "ipv4-addr:value",
	intel.TypeIPv6:         "ipv6-addr:value",
	intel.TypeDomain:       "domain-name:value",
	intel.TypeURL:          "url:value",
	intel.TypeMD5:          "file:hashes.MD5",
	intel.TypeSHA1:         "file:hashes.'SHA-1'",
	intel.TypeSHA256:       "file:hashes.'SHA-256'",
	intel.TypeEmail:        "email-addr:value",
	intel.TypeEmailSubject: "email-message:subject",
	intel.TypeFileName:     "file:name",
}

// stixIndicator is an indicator as IndicatorObject writes it; the field
// order is the JSON order.
type stixIndicator struct {
	Type               string        `json:"type"`
	SpecVersion        string        `json:"spec_version"`
	ID                 string        `json:"id"`
	Created            string        `json:"created"`
	Modified           string        `json:"modified"`
	Name               string        `json:"name,omitempty"`
	Description        string        `json:"description,omitempty"`
	Pattern            string        `json:"pattern"`
	PatternType        string        `json:"pattern_type"`
	PatternVersion     string        `json:"pattern_version"`
	ValidFrom          string        `json:"valid_from"`
	ValidUntil         string        `json:"valid_until,omitempty"`
	Confidence         int           `json:"confidence,omitempty"`
	Labels             []string      `json:"labels,omitempty"`
	Revoked            bool          `json:"revoked,omitempty"`
	ExternalReferences []externalRef `json:"external_references,omitempty"`
	ObjectMarkingRefs  []string      `json:"object_marking_refs"`
}

// IndicatorObject writes ind as a STIX 2.1 indicator: its pattern (built
// from the observables, one observation each joined by OR, when ind came
// without one), TLP 2.0 marking, confidence (left out when 0), validity,
// tags as labels and ATT&CK ids as external references. The JSON is the
// same for the same indicator.
func IndicatorObject(ind intel.Indicator) (intel.Object, error) {
	if !ValidID(ind.ID) || IDType(ind.ID) != "indicator" {
		return intel.Object{}, fmt.Errorf("stix: indicator id %q: want indicator--<uuid>", ind.ID)
	}
	if err := ind.Validate(); err != nil {
		return intel.Object{}, fmt.Errorf("stix: indicator %s: %w", ind.ID, err)
	}
	pattern := ind.Pattern
	if pattern == "" {
		var err error
		if pattern, err = BuildPattern(ind.Observables); err != nil {
			return intel.Object{}, fmt.Errorf("stix: indicator %s: %w", ind.ID, err)
		}
	}
	created, modified := ind.Created, ind.Modified
	switch {
	case created.IsZero() && modified.IsZero():
		return intel.Object{}, fmt.Errorf("stix: indicator %s: created and modified are not set", ind.ID)
	case created.IsZero():
		created = modified
	case modified.IsZero() || modified.Before(created):
		modified = created
	}
	validFrom := ind.ValidFrom
	if validFrom.IsZero() {
		validFrom = created
	}
	s := stixIndicator{
		Type:              "indicator",
		SpecVersion:       "2.1",
		ID:                ind.ID,
		Created:           intel.FormatTimestamp(created),
		Modified:          intel.FormatTimestamp(modified),
		Name:              ind.Name,
		Description:       ind.Description,
		Pattern:           pattern,
		PatternType:       "stix",
		PatternVersion:    "2.1",
		ValidFrom:         intel.FormatTimestamp(validFrom),
		Confidence:        ind.Confidence,
		Labels:            ind.Tags,
		Revoked:           ind.Revoked,
		ObjectMarkingRefs: []string{ind.TLP.MarkingID()},
	}
	if !ind.ValidUntil.IsZero() {
		s.ValidUntil = intel.FormatTimestamp(ind.ValidUntil)
	}
	for _, a := range ind.Attack {
		s.ExternalReferences = append(s.ExternalReferences, externalRef{SourceName: "mitre-attack", ExternalID: a, URL: attackURL(a)})
	}
	data, err := json.Marshal(s)
	if err != nil {
		return intel.Object{}, fmt.Errorf("stix: indicator %s: %w", ind.ID, err)
	}
	mod, _ := parseTime(s.Modified)
	return intel.Object{
		ID:          ind.ID,
		Type:        "indicator",
		Modified:    mod,
		SpecVersion: "2.1",
		TLP:         ind.TLP,
		Owner:       ind.Owner,
		Audience:    ind.Audience,
		JSON:        data,
	}, nil
}

// attackURL is the ATT&CK web page of a technique ("T1566.001") or tactic
// ("TA0001") id; "" for anything else.
func attackURL(id string) string {
	switch {
	case strings.HasPrefix(id, "TA"):
		return "https://attack.mitre.org/tactics/" + id + "/"
	case strings.HasPrefix(id, "T"):
		return "https://attack.mitre.org/techniques/" + strings.ReplaceAll(id, ".", "/") + "/"
	}
	return ""
}

// BuildPattern writes observables as a STIX pattern, one observation
// expression each, joined by OR:
// [ipv4-addr:value = '1.2.3.4'] OR [domain-name:value = 'x.com'].
func BuildPattern(obs []intel.Observable) (string, error) {
	if len(obs) == 0 {
		return "", errors.New("no observables to write a pattern from")
	}
	var b strings.Builder
	for i, o := range obs {
		path, ok := patternPaths[o.Type]
		if o.Type == intel.TypeCIDR {
			path, ok = "ipv4-addr:value", true
			if strings.Contains(o.Value, ":") {
				path = "ipv6-addr:value"
			}
		}
		if !ok {
			return "", fmt.Errorf("observable type %q has no STIX path", o.Type)
		}
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString("[" + path + " = " + Quote(o.Value) + "]")
	}
	p := b.String()
	if _, err := stixpattern.Validate(p, stixpattern.Options{}); err != nil {
		return "", fmt.Errorf("pattern %s: %w", p, err)
	}
	return p, nil
}

var quoter = strings.NewReplacer(`\`, `\\`, `'`, `\'`)

// Quote writes s as a STIX pattern string literal: in quotes, with
// backslashes and quotes escaped.
func Quote(s string) string { return "'" + quoter.Replace(s) + "'" }

// stixSighting is a sighting as SightingObject writes it.
type stixSighting struct {
	Type             string   `json:"type"`
	SpecVersion      string   `json:"spec_version"`
	ID               string   `json:"id"`
	Created          string   `json:"created"`
	Modified         string   `json:"modified"`
	FirstSeen        string   `json:"first_seen"`
	LastSeen         string   `json:"last_seen"`
	Count            int      `json:"count"`
	SightingOfRef    string   `json:"sighting_of_ref"`
	WhereSightedRefs []string `json:"where_sighted_refs,omitempty"`
}

// SightingObject writes s as a STIX 2.1 sighting of its indicator.
// whereSighted are identity (or location) ids of who saw it; callers pass
// a member's identity only with that member's consent. The id is derived
// from the indicator, tenant, source and s.ID, so a sighting that grows
// keeps its id and gets a new version (modified is last_seen). The object
// carries no marking and is held as TLP:AMBER.
func SightingObject(s intel.Sighting, whereSighted []string) intel.Object {
	first, last := s.FirstSeen, s.LastSeen
	if first.IsZero() {
		first = last
	}
	if last.Before(first) {
		last = first
	}
	var where []string
	for _, w := range whereSighted {
		if t := IDType(w); ValidID(w) && (t == "identity" || t == "location") && !slices.Contains(where, w) {
			where = append(where, w)
		}
	}
	count := min(max(s.Count, 0), 999999999)
	o := stixSighting{
		Type:             "sighting",
		SpecVersion:      "2.1",
		ID:               DeterministicID("sighting", fmt.Sprintf("%s|%s|%s|%d", s.IndicatorID, s.Tenant, s.Source, s.ID)),
		Created:          intel.FormatTimestamp(first),
		Modified:         intel.FormatTimestamp(last),
		FirstSeen:        intel.FormatTimestamp(first),
		LastSeen:         intel.FormatTimestamp(last),
		Count:            count,
		SightingOfRef:    s.IndicatorID,
		WhereSightedRefs: where,
	}
	data, err := json.Marshal(o)
	if err != nil {
		panic("BUG: marshal sighting: " + err.Error())
	}
	mod, _ := parseTime(o.Modified)
	return intel.Object{ID: o.ID, Type: "sighting", Modified: mod, SpecVersion: "2.1", TLP: intel.TLPAmber, Owner: s.Tenant, JSON: data}
}

// tlp2Marking is a TLP 2.0 marking-definition as OASIS publishes it.
type tlp2Marking struct {
	Type        string                        `json:"type"`
	SpecVersion string                        `json:"spec_version"`
	ID          string                        `json:"id"`
	Created     string                        `json:"created"`
	Name        string                        `json:"name"`
	Extensions  map[string]tlp2MarkingExtBody `json:"extensions"`
}

type tlp2MarkingExtBody struct {
	ExtensionType string `json:"extension_type"`
	TLP           string `json:"tlp_2_0"`
}

// tlp1Marking is a TLP 1.0 marking-definition as STIX 2.1 predefines it.
type tlp1Marking struct {
	Type           string `json:"type"`
	SpecVersion    string `json:"spec_version"`
	ID             string `json:"id"`
	Created        string `json:"created"`
	DefinitionType string `json:"definition_type"`
	Name           string `json:"name"`
	Definition     struct {
		TLP string `json:"tlp"`
	} `json:"definition"`
}

// MarkingObject is the TLP 2.0 marking-definition object of level t, as
// the OASIS TLP 2.0 extension defines it.
func MarkingObject(t intel.TLP) intel.Object {
	m := tlp2Marking{
		Type:        "marking-definition",
		SpecVersion: "2.1",
		ID:          t.MarkingID(),
		Created:     tlp2Created,
		Name:        t.Label(),
		Extensions: map[string]tlp2MarkingExtBody{
			tlpExtension: {ExtensionType: "property-extension", TLP: string(t)},
		},
	}
	data, err := json.Marshal(m)
	if err != nil {
		panic("BUG: marshal marking: " + err.Error())
	}
	created, _ := parseTime(tlp2Created)
	return intel.Object{ID: m.ID, Type: m.Type, Modified: created, SpecVersion: "2.1", TLP: intel.TLPClear, JSON: data}
}

// markingObject is the marking-definition of a TLP 1.0 or 2.0 id.
func markingObject(id string) (intel.Object, bool) {
	if name, ok := tlp1Names[id]; ok {
		m := tlp1Marking{Type: "marking-definition", SpecVersion: "2.1", ID: id, Created: tlp1Created,
			DefinitionType: "tlp", Name: "TLP:" + strings.ToUpper(name)}
		m.Definition.TLP = name
		data, err := json.Marshal(m)
		if err != nil {
			panic("BUG: marshal marking: " + err.Error())
		}
		created, _ := parseTime(tlp1Created)
		return intel.Object{ID: id, Type: m.Type, Modified: created, SpecVersion: "2.1", TLP: intel.TLPClear, JSON: data}, true
	}
	t, ok := intel.TLPOfMarking(id)
	if !ok || t.MarkingID() != id {
		return intel.Object{}, false
	}
	return MarkingObject(t), true
}

// Bundle writes objs as a STIX 2.1 bundle, preceded by the TLP
// marking-definitions (2.0, and 1.0 for objects that came with them) the
// objects reference and do not include. The bundle id is derived from the
// objects' ids and versions, so the same objects give the same bytes.
func Bundle(objs []intel.Object) ([]byte, error) {
	have := map[string]bool{}
	for _, o := range objs {
		have[o.ID] = true
	}
	var markings []intel.Object
	name := strings.Builder{}
	for _, o := range objs {
		var m struct {
			ObjectMarkingRefs []string `json:"object_marking_refs"`
			GranularMarkings  []struct {
				MarkingRef string `json:"marking_ref"`
			} `json:"granular_markings"`
		}
		if err := json.Unmarshal(o.JSON, &m); err != nil {
			return nil, fmt.Errorf("stix: bundle: object %s: %w", o.ID, err)
		}
		ids := m.ObjectMarkingRefs
		for _, g := range m.GranularMarkings {
			ids = append(ids, g.MarkingRef)
		}
		for _, id := range ids {
			if have[id] {
				continue
			}
			if mo, ok := markingObject(id); ok {
				markings = append(markings, mo)
				have[id] = true
			}
		}
		fmt.Fprintf(&name, "%s|%s\n", o.ID, o.Modified.UTC().Format(time.RFC3339Nano))
	}
	slices.SortFunc(markings, func(a, b intel.Object) int { return strings.Compare(a.ID, b.ID) })
	out := struct {
		Type    string            `json:"type"`
		ID      string            `json:"id"`
		Objects []json.RawMessage `json:"objects"`
	}{Type: "bundle", ID: DeterministicID("bundle", name.String()), Objects: []json.RawMessage{}}
	for _, o := range markings {
		out.Objects = append(out.Objects, o.JSON)
	}
	for _, o := range objs {
		out.Objects = append(out.Objects, o.JSON)
	}
	data, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("stix: bundle: %w", err)
	}
	return data, nil
}
