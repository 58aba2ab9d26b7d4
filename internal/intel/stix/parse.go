// Package stix reads and writes STIX 2.1: bundles and object lists become
// an intel.Batch (every object kept as received, indicators with STIX
// patterns turned into intel.Indicator, sightings of indicators into
// intel.Sighting, and every object Tarian could not use reported with the
// reason), and indicators and sightings Tarian holds are written back as
// STIX objects and bundles with their TLP 2.0 markings.
//
// The schema checks follow the official STIX 2.1 JSON schemas, written in
// Go; patterns go through package stixpattern.
package stix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/intel"
)

// common are the properties every STIX object may carry that the importer
// reads.
type common struct {
	Type               string        `json:"type"`
	ID                 string        `json:"id"`
	SpecVersion        string        `json:"spec_version"`
	Created            string        `json:"created"`
	Modified           string        `json:"modified"`
	CreatedByRef       string        `json:"created_by_ref"`
	Revoked            bool          `json:"revoked"`
	Labels             []string      `json:"labels"`
	Confidence         *int          `json:"confidence"`
	ExternalReferences []externalRef `json:"external_references"`
	ObjectMarkingRefs  []string      `json:"object_marking_refs"`
	GranularMarkings   []struct {
		MarkingRef string   `json:"marking_ref"`
		Lang       string   `json:"lang"`
		Selectors  []string `json:"selectors"`
	} `json:"granular_markings"`
	KillChainPhases []killChainPhase `json:"kill_chain_phases"`
}

type externalRef struct {
	SourceName  string `json:"source_name"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`
	ExternalID  string `json:"external_id,omitempty"`
}

type killChainPhase struct {
	KillChainName string `json:"kill_chain_name"`
	PhaseName     string `json:"phase_name"`
}

// ErrNotSTIX is returned by ParseBundle for JSON that is neither a bundle,
// a STIX object nor a list of them.
var ErrNotSTIX = errors.New("not a STIX bundle, object or list of objects")

// ParseBundle reads a STIX 2.1 bundle; a single STIX object or a JSON
// array of objects is read as a bundle of those. It fails only when data
// is not one of those; problems with single objects are in
// Batch.Skipped.
func ParseBundle(data []byte, opts intel.ImportOptions) (intel.Batch, error) {
	// A UTF-8 byte order mark (Windows tools write one) is not JSON.
	data = bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(data), []byte("\ufeff")))
	if len(data) == 0 {
		return intel.Batch{}, fmt.Errorf("stix: empty input: %w", ErrNotSTIX)
	}
	if data[0] == '[' {
		var objs []json.RawMessage
		if err := json.Unmarshal(data, &objs); err != nil {
			return intel.Batch{}, fmt.Errorf("stix: %w", err)
		}
		return ParseObjects(objs, opts), nil
	}
	var top struct {
		Type        string            `json:"type"`
		ID          string            `json:"id"`
		SpecVersion string            `json:"spec_version"`
		Objects     []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(data, &top); err != nil {
		return intel.Batch{}, fmt.Errorf("stix: %w", typeError(err))
	}
	switch {
	case top.Type == "bundle":
		if !ValidID(top.ID) || IDType(top.ID) != "bundle" {
			return intel.Batch{}, fmt.Errorf("stix: bundle id %q: want bundle--<uuid>", top.ID)
		}
		b := ParseObjects(top.Objects, opts)
		if top.SpecVersion == "2.0" {
			// A STIX 2.0 bundle: its objects carry no spec_version, and
			// the reasons should say why.
			for i := range b.Skipped {
				if strings.HasPrefix(b.Skipped[i].Reason, "spec_version: missing") {
					b.Skipped[i].Reason = "STIX 2.0 object (the bundle's spec_version is 2.0): Tarian imports STIX 2.1"
				}
			}
		}
		return b, nil
	case top.Type != "":
		return ParseObjects([]json.RawMessage{data}, opts), nil
	}
	return intel.Batch{}, fmt.Errorf("stix: %w", ErrNotSTIX)
}

// parsed is one object of a batch after decoding.
type parsed struct {
	raw   json.RawMessage
	props map[string]json.RawMessage
	c     common
	err   error // schema violation
}

// batchIndex is what the objects of one batch say about each other.
type batchIndex struct {
	ids        map[string]bool
	identities map[string]string // id → name
	// markings maps a marking-definition in the batch to its TLP level,
	// "" for a marking that is not TLP (a statement).
	markings map[string]intel.TLP
}

// ParseObjects reads STIX 2.1 objects that travel together (a bundle's, a
// TAXII envelope's). Every object that passes the schema checks is kept in
// Objects; indicators, sightings and the reasons for everything Tarian
// could not use follow the package comment.
func ParseObjects(objs []json.RawMessage, opts intel.ImportOptions) intel.Batch {
	if opts.TLP == "" {
		opts.TLP = intel.TLPAmber
	}
	var b intel.Batch
	ps := make([]parsed, len(objs))
	ix := batchIndex{ids: map[string]bool{}, identities: map[string]string{}, markings: map[string]intel.TLP{}}
	for i, raw := range objs {
		p := &ps[i]
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			p.err = fmt.Errorf("not JSON: %v", err)
			continue
		}
		p.raw = buf.Bytes()
		if err := json.Unmarshal(p.raw, &p.props); err != nil {
			p.err = errors.New("not a JSON object")
			continue
		}
		if err := json.Unmarshal(p.raw, &p.c); err != nil {
			p.err = typeError(err)
			// Keep what could be read of id and type for the report.
			var idOnly struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(p.raw, &idOnly)
			p.c.ID = idOnly.ID
			continue
		}
		p.err = checkObject(p.raw, p.props, &p.c)
		if p.c.ID != "" {
			ix.ids[p.c.ID] = true
		}
		if p.err != nil {
			continue
		}
		switch p.c.Type {
		case "identity":
			var n struct {
				Name string `json:"name"`
			}
			_ = json.Unmarshal(p.raw, &n)
			ix.identities[p.c.ID] = n.Name
		case "marking-definition":
			ix.markings[p.c.ID] = markingTLP(p.c.ID, p.raw)
		}
	}
	seen := map[string]bool{} // id + version
	for i := range ps {
		p := &ps[i]
		ref := p.c.ID
		if ref == "" {
			ref = fmt.Sprintf("object %d", i+1)
		}
		if p.err != nil {
			b.Skipped = append(b.Skipped, intel.Skip{Ref: ref, Reason: p.err.Error()})
			continue
		}
		def := opts.TLP
		if p.c.Type == "marking-definition" && ix.markings[p.c.ID] != "" {
			// A TLP marking definition is public: it says what a level
			// means.
			def = intel.TLPClear
		}
		tlp, err := ix.tlpOf(&p.c, def)
		if err != nil {
			b.Skipped = append(b.Skipped, intel.Skip{Ref: ref, Reason: err.Error()})
			continue
		}
		version := p.c.Modified
		if version == "" {
			version = p.c.Created
		}
		if seen[p.c.ID+"|"+version] {
			b.Skipped = append(b.Skipped, intel.Skip{Ref: ref, Reason: "duplicate: the same id and version appear earlier in the batch"})
			continue
		}
		seen[p.c.ID+"|"+version] = true
		mod, _ := parseTime(version)
		o := intel.Object{
			ID:          p.c.ID,
			Type:        p.c.Type,
			Modified:    mod,
			SpecVersion: p.c.SpecVersion,
			TLP:         tlp,
			Owner:       opts.Owner,
			Audience:    opts.Audience,
			JSON:        p.raw,
		}
		if o.SpecVersion == "" {
			o.SpecVersion = "2.1" // SCOs may leave it out
		}
		b.Objects = append(b.Objects, o)
		for _, r := range refs(p.props) {
			if r[0] == "object_marking_refs" || ix.ids[r[1]] {
				continue
			}
			if _, ok := intel.TLPOfMarking(r[1]); ok {
				continue
			}
			b.Notes = append(b.Notes, intel.Skip{Ref: ref, Reason: fmt.Sprintf("kept, but %s %s is not in the bundle", r[0], r[1])})
		}
		switch p.c.Type {
		case "indicator":
			ind, notes, err := indicator(p, tlp, &ix, opts)
			for _, n := range notes {
				b.Notes = append(b.Notes, intel.Skip{Ref: ref, Reason: n})
			}
			if err != nil {
				b.Skipped = append(b.Skipped, intel.Skip{Ref: ref, Reason: err.Error()})
				continue
			}
			b.Indicators = append(b.Indicators, ind)
		case "sighting":
			if s, ok := sighting(p, &ix, opts); ok {
				b.Sightings = append(b.Sightings, s)
			}
		}
	}
	return b
}

// tlpOf is the strictest TLP level among the object's markings (object
// and granular), else def. A marking that is neither a TLP marking nor
// defined in the batch makes the object unusable: Tarian cannot honour a
// marking it cannot read.
func (ix *batchIndex) tlpOf(c *common, def intel.TLP) (intel.TLP, error) {
	var (
		tlp   intel.TLP
		found bool
	)
	marks := slices.Clone(c.ObjectMarkingRefs)
	for _, g := range c.GranularMarkings {
		if g.MarkingRef != "" {
			marks = append(marks, g.MarkingRef)
		}
	}
	for _, m := range marks {
		t, ok := intel.TLPOfMarking(m)
		if !ok {
			var known bool
			t, known = ix.markings[m]
			if !known {
				return "", fmt.Errorf("marking %s is neither in the bundle nor a TLP marking: Tarian cannot honour an unknown marking", m)
			}
			ok = t != ""
		}
		if ok {
			if !found {
				tlp, found = t, true
			} else {
				tlp = intel.Strictest(tlp, t)
			}
		}
	}
	if !found {
		return def, nil
	}
	return tlp, nil
}

// markingTLP reads the TLP level of a marking-definition: by its id (the
// TLP 1.0 and 2.0 ones), a TLP 1.0-style definition, or the TLP 2.0
// extension; "" when it is not a TLP marking.
func markingTLP(id string, raw []byte) intel.TLP {
	if t, ok := intel.TLPOfMarking(id); ok {
		return t
	}
	var m struct {
		DefinitionType string `json:"definition_type"`
		Definition     struct {
			TLP string `json:"tlp"`
		} `json:"definition"`
		Extensions map[string]struct {
			TLP string `json:"tlp_2_0"`
		} `json:"extensions"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	if m.DefinitionType == "tlp" {
		if t, err := intel.ParseTLP(m.Definition.TLP); err == nil {
			return t
		}
	}
	if e, ok := m.Extensions[tlpExtension]; ok {
		if t, err := intel.ParseTLP(e.TLP); err == nil {
			return t
		}
	}
	return ""
}

// sighting turns a sighting of an indicator into an intel.Sighting.
func sighting(p *parsed, ix *batchIndex, opts intel.ImportOptions) (intel.Sighting, bool) {
	var s struct {
		Of        string `json:"sighting_of_ref"`
		Count     *int   `json:"count"`
		FirstSeen string `json:"first_seen"`
		LastSeen  string `json:"last_seen"`
	}
	if json.Unmarshal(p.raw, &s) != nil || IDType(s.Of) != "indicator" {
		return intel.Sighting{}, false
	}
	first, _ := parseTime(s.FirstSeen)
	last, _ := parseTime(s.LastSeen)
	if first.IsZero() {
		first, _ = parseTime(p.c.Created)
	}
	if last.IsZero() {
		last = first
	}
	n := 1
	if s.Count != nil {
		n = *s.Count
	}
	version := p.c.Modified
	if version == "" {
		version = p.c.Created
	}
	ver, _ := parseTime(version)
	return intel.Sighting{
		IndicatorID:   s.Of,
		Tenant:        opts.Owner,
		FirstSeen:     first,
		LastSeen:      last,
		Count:         n,
		Source:        source(p.c.CreatedByRef, ix, opts),
		ObjectID:      p.c.ID,
		ObjectVersion: ver,
	}, true
}

// source names where an object came from: the import's source and the
// identity that created it, when the batch describes it.
func source(createdBy string, ix *batchIndex, opts intel.ImportOptions) string {
	name := ix.identities[createdBy]
	switch {
	case name == "":
		return opts.Source
	case opts.Source == "":
		return name
	}
	return opts.Source + ": " + name
}

func timeOr(s string, def time.Time) time.Time {
	if t, err := parseTime(s); err == nil {
		return t
	}
	return def
}
