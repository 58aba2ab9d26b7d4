package stix

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/intel/stixpattern"
)

// attackSources are the external_references source names of MITRE ATT&CK
// (enterprise, mobile, ICS).
var attackSources = set("mitre-attack", "mitre-mobile-attack", "mitre-ics-attack")

// attackIDRE matches ATT&CK technique ("T1566", "T1566.001") and tactic
// ("TA0001") ids.
var attackIDRE = regexp.MustCompile(`^(T[0-9]{4}(\.[0-9]{3})?|TA[0-9]{4})$`)

// attackTactics maps ATT&CK enterprise tactic names, as kill_chain_phases
// write them, to their ids.
var attackTactics = map[string]string{
	"reconnaissance":       "TA0043",
	"resource-development": "TA0042",
	"initial-access":       "TA0001",
	"execution":            "TA0002",
	"persistence":          "TA0003",
	"privilege-escalation": "TA0004",
	"defense-evasion":      "TA0005",
	"credential-access":    "TA0006",
	"discovery":            "TA0007",
	"lateral-movement":     "TA0008",
	"collection":           "TA0009",
	"command-and-control":  "TA0011",
	"exfiltration":         "TA0010",
	"impact":               "TA0040",
}

// indicator turns a STIX indicator into an intel.Indicator. notes are
// values of the pattern left out of the fast index (the indicator is
// imported without them); err is why the indicator cannot be imported at
// all.
func indicator(p *parsed, tlp intel.TLP, ix *batchIndex, opts intel.ImportOptions) (intel.Indicator, []string, error) {
	var f struct {
		Name           string   `json:"name"`
		Description    string   `json:"description"`
		Pattern        string   `json:"pattern"`
		PatternType    string   `json:"pattern_type"`
		ValidFrom      string   `json:"valid_from"`
		ValidUntil     string   `json:"valid_until"`
		IndicatorTypes []string `json:"indicator_types"`
	}
	if err := json.Unmarshal(p.raw, &f); err != nil {
		return intel.Indicator{}, nil, typeError(err)
	}
	if f.PatternType != "stix" {
		return intel.Indicator{}, nil, fmt.Errorf("pattern_type %q: Tarian matches STIX patterns only (the object is kept)", f.PatternType)
	}
	obs, notes, err := Observables(f.Pattern)
	if err != nil {
		return intel.Indicator{}, nil, fmt.Errorf("pattern: %v", err)
	}
	created, _ := parseTime(p.c.Created)
	ind := intel.Indicator{
		ID:          p.c.ID,
		Name:        f.Name,
		Description: f.Description,
		Observables: obs,
		Pattern:     f.Pattern,
		TLP:         tlp,
		ValidFrom:   timeOr(f.ValidFrom, created),
		ValidUntil:  timeOr(f.ValidUntil, time.Time{}),
		Source:      source(p.c.CreatedByRef, ix, opts),
		Owner:       opts.Owner,
		Audience:    opts.Audience,
		Revoked:     p.c.Revoked,
		Created:     created,
		Modified:    timeOr(p.c.Modified, created),
	}
	if p.c.Confidence != nil {
		ind.Confidence = *p.c.Confidence
	}
	ind.Tags = appendUnique(ind.Tags, p.c.Labels...)
	ind.Tags = appendUnique(ind.Tags, f.IndicatorTypes...)
	ind.Attack, ind.Tags = attack(p.c.ExternalReferences, p.c.KillChainPhases, ind.Tags)
	if err := ind.Validate(); err != nil {
		return intel.Indicator{}, notes, fmt.Errorf("indicator: %v", err)
	}
	return ind, notes, nil
}

// attack collects ATT&CK technique and tactic ids from external
// references and kill chain phases; phases of other kill chains (and
// ATT&CK phases with no known id) become tags "<kill chain>:<phase>", and
// other ATT&CK ids (groups, software) tags "<source>:<id>".
func attack(ext []externalRef, phases []killChainPhase, tags []string) ([]string, []string) {
	var ids []string
	for _, e := range ext {
		if !attackSources[e.SourceName] || e.ExternalID == "" {
			continue
		}
		if id := strings.ToUpper(e.ExternalID); attackIDRE.MatchString(id) {
			ids = appendUnique(ids, id)
		} else {
			// A group, software or mitigation id.
			tags = appendUnique(tags, e.SourceName+":"+e.ExternalID)
		}
	}
	for _, k := range phases {
		if id, ok := attackTactics[k.PhaseName]; ok && attackSources[k.KillChainName] {
			ids = appendUnique(ids, id)
			continue
		}
		tags = appendUnique(tags, k.KillChainName+":"+k.PhaseName)
	}
	return ids, tags
}

func appendUnique(dst []string, vs ...string) []string {
	for _, v := range vs {
		if v != "" && !slices.Contains(dst, v) {
			dst = append(dst, v)
		}
	}
	return dst
}

// Observables parses and validates a STIX pattern and, when it is a
// disjunction of "=" and "IN" comparisons of string values on paths
// Tarian matches (see ObservableType), returns their values normalised.
// A pattern that is valid but more than that gives no observables (the
// pattern is evaluated as a whole). notes say which values were left out
// because they are not values of their type.
func Observables(pattern string) (obs []intel.Observable, notes []string, err error) {
	p, err := stixpattern.Validate(pattern, stixpattern.Options{})
	if err != nil {
		return nil, nil, err
	}
	eqs, ok := p.Equalities()
	if !ok {
		return nil, nil, nil
	}
	type tv struct {
		t intel.Type
		v string
	}
	var vals []tv
	for _, e := range eqs {
		for _, l := range e.Values {
			t, ok := ObservableType(e.Path, l.Str)
			if !ok || l.Kind != stixpattern.LitString {
				// One test the index cannot hold: the whole pattern is
				// evaluated instead.
				return nil, nil, nil
			}
			vals = append(vals, tv{t, l.Str})
		}
	}
	for _, x := range vals {
		v, err := intel.Normalize(x.t, x.v)
		if err != nil {
			notes = append(notes, fmt.Sprintf("pattern value left out (the rest are imported): %v", err))
			continue
		}
		o := intel.Observable{Type: x.t, Value: v}
		if !slices.Contains(obs, o) {
			obs = append(obs, o)
		}
	}
	return obs, notes, nil
}

// ObservableType is the Tarian type of a value compared with an object
// path, false when Tarian's index does not hold that path:
//
//	ipv4-addr:value, ipv6-addr:value        ipv4, ipv6 (cidr with a '/')
//	domain-name:value                       domain
//	url:value                               url
//	file:hashes.MD5, .'SHA-1', .'SHA-256'   md5, sha1, sha256 (SHA1, sha256… too)
//	file:name                               filename
//	email-addr:value                        email
//	email-message:from_ref.value            email (and sender_ref.value)
//	email-message:subject                   email-subject
func ObservableType(p stixpattern.Path, value string) (intel.Type, bool) {
	keys := make([]string, 0, len(p.Steps))
	for _, s := range p.Steps {
		if s.Kind != stixpattern.StepKey {
			return "", false
		}
		keys = append(keys, s.Key)
	}
	path := strings.Join(keys, ".")
	switch p.Type {
	case "ipv4-addr", "ipv6-addr":
		if path != "value" {
			return "", false
		}
		switch {
		case strings.Contains(value, "/"):
			return intel.TypeCIDR, true
		case p.Type == "ipv4-addr":
			return intel.TypeIPv4, true
		}
		return intel.TypeIPv6, true
	case "domain-name":
		return intel.TypeDomain, path == "value"
	case "url":
		return intel.TypeURL, path == "value"
	case "email-addr":
		return intel.TypeEmail, path == "value"
	case "email-message":
		switch path {
		case "from_ref.value", "sender_ref.value":
			return intel.TypeEmail, true
		case "subject":
			return intel.TypeEmailSubject, true
		}
	case "file":
		if path == "name" {
			return intel.TypeFileName, true
		}
		if len(keys) == 2 && keys[0] == "hashes" {
			switch strings.NewReplacer("-", "", "_", "").Replace(strings.ToUpper(keys[1])) {
			case "MD5":
				return intel.TypeMD5, true
			case "SHA1":
				return intel.TypeSHA1, true
			case "SHA256":
				return intel.TypeSHA256, true
			}
		}
	}
	return "", false
}
