// Package misp reads MISP threat-sharing data: event JSON (attributes and
// the attributes of objects) and feed directories (manifest.json, one
// <uuid>.json per event, hashes.csv). Each attribute whose type has a
// Tarian indicator type and that MISP marks for detection (to_ids) becomes
// an intel.Indicator; every other attribute is reported with the reason.
//
// Mapping rules:
//
//   - The indicator id is indicator--<attribute uuid> (MISP's own STIX
//     export uses the same), or a UUIDv5 of it when the uuid is not a
//     valid STIX one, so importing an event again updates its indicators.
//   - Composite types are split: domain|ip gives two observables;
//     ip-src|port and hostname|port keep the address or host;
//     filename|md5 (sha1, sha256) and malware-sample keep the hash (a file
//     name alone is a weak indicator) and take the file name as the
//     indicator's name.
//   - to_ids false: skipped ("to_ids is false"); MISP producers mark
//     context (a victim's address, a reference) that way.
//   - Deleted attributes and attributes of deleted objects are skipped.
//   - Distribution (the stricter of the event's and the attribute's): 0
//     (your organisation only) is TLP:RED for the importer alone; 1, 2 and
//     3 (community, connected communities, all) share with the import's
//     audience; 4 (a sharing group) shares with the import's audience only
//     when it names members, else with nobody but the owner. The TLP is the
//     strictest of the event's and the attribute's tlp:* tags, the
//     distribution's, and the import's default when no tag says.
//   - Sightings of type 0 become intel.Sighting (one per attribute and
//     organisation); false-positive sightings (type 1) add the tag
//     "misp:false-positive-sighting"; expiration sightings (type 2) end
//     the indicator's validity.
//   - ATT&CK: galaxy tags and clusters of the mitre-attack-pattern galaxy
//     ("... - T1566.001") give Attack ids.
//   - Tags: the event's and attribute's tags (except tlp:*), plus
//     "misp-event:<uuid>"; the name is the event's info, the description
//     the attribute's comment. An event's sharing group is named in a tag
//     "misp-sharing-group:<name>".
package misp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/intel/stix"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// ErrNotEvent is returned for JSON that is not a MISP event.
var ErrNotEvent = errors.New("not a MISP event")

// flexString reads a JSON string or number as a string (MISP writes
// numbers both ways).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flexString(n)
	return nil
}

// flexBool reads true/false, 0/1 and "0"/"1".
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	switch strings.Trim(string(b), `"`) {
	case "true", "1":
		*f = true
	case "false", "0", "null", "":
		*f = false
	default:
		return fmt.Errorf("want a boolean, have %s", b)
	}
	return nil
}

type tag struct {
	Name string `json:"name"`
}

type org struct {
	Name string `json:"name"`
	UUID string `json:"uuid"`
}

type sighting struct {
	UUID string `json:"uuid"`
	// AttributeID and AttributeUUID name the attribute of an event-level
	// sighting (MISP's event view lists them beside the attributes).
	AttributeID   flexString `json:"attribute_id"`
	AttributeUUID string     `json:"attribute_uuid"`
	Type          flexString `json:"type"`
	DateSighting  flexString `json:"date_sighting"`
	Source        string     `json:"source"`
	Organisation  org        `json:"Organisation"`
}

type galaxy struct {
	Type          string `json:"type"`
	GalaxyCluster []struct {
		Type    string `json:"type"`
		Value   string `json:"value"`
		TagName string `json:"tag_name"`
		Meta    struct {
			ExternalID []string `json:"external_id"`
		} `json:"meta"`
	} `json:"GalaxyCluster"`
}

type attribute struct {
	ID           flexString `json:"id"`
	UUID         string     `json:"uuid"`
	Type         string     `json:"type"`
	Category     string     `json:"category"`
	Value        flexString `json:"value"`
	Comment      string     `json:"comment"`
	ToIDs        flexBool   `json:"to_ids"`
	Deleted      flexBool   `json:"deleted"`
	Distribution flexString `json:"distribution"`
	Timestamp    flexString `json:"timestamp"`
	Tag          []tag      `json:"Tag"`
	Galaxy       []galaxy   `json:"Galaxy"`
	Sighting     []sighting `json:"Sighting"`
}

type object struct {
	UUID         string      `json:"uuid"`
	Name         string      `json:"name"`
	Deleted      flexBool    `json:"deleted"`
	Distribution flexString  `json:"distribution"`
	Attribute    []attribute `json:"Attribute"`
}

type sharingGroup struct {
	Name string `json:"name"`
}

// event is the part of a MISP event the importer reads.
type event struct {
	UUID         string        `json:"uuid"`
	Info         string        `json:"info"`
	Date         string        `json:"date"`
	Timestamp    flexString    `json:"timestamp"`
	Distribution flexString    `json:"distribution"`
	Orgc         org           `json:"Orgc"`
	Tag          []tag         `json:"Tag"`
	Galaxy       []galaxy      `json:"Galaxy"`
	Attribute    []attribute   `json:"Attribute"`
	Object       []object      `json:"Object"`
	SharingGroup *sharingGroup `json:"SharingGroup"`
	// Sighting is where MISP's event view (/events/view, restSearch)
	// puts the sightings of the event's attributes.
	Sighting []sighting `json:"Sighting"`
}

// decodeEvents reads {"Event":{…}}, a bare event, or a restSearch
// response {"response":[{"Event":…},…]}.
func decodeEvents(data []byte) ([]event, error) {
	// A UTF-8 byte order mark (Windows tools write one) is not JSON.
	data = bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(data), []byte("\ufeff")))
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("misp: %w: %v", ErrNotEvent, err)
	}
	one := func(raw []byte) (event, error) {
		var e event
		if err := json.Unmarshal(raw, &e); err != nil {
			return e, fmt.Errorf("misp: event: %w", err)
		}
		return e, nil
	}
	switch {
	case top["Event"] != nil:
		e, err := one(top["Event"])
		return []event{e}, err
	case top["response"] != nil:
		var rs []struct {
			Event json.RawMessage `json:"Event"`
		}
		if err := json.Unmarshal(top["response"], &rs); err != nil {
			return nil, fmt.Errorf("misp: response: %w", err)
		}
		var out []event
		for _, r := range rs {
			if r.Event == nil {
				continue
			}
			e, err := one(r.Event)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	case top["Attribute"] != nil || top["Object"] != nil || top["info"] != nil:
		e, err := one(data)
		return []event{e}, err
	}
	return nil, fmt.Errorf("misp: %w (no Event, Attribute, Object or info)", ErrNotEvent)
}

// ParseEvent reads MISP event JSON ({"Event":{…}}, a bare event, or a
// restSearch response holding several) following the package's mapping
// rules.
func ParseEvent(data []byte, opts intel.ImportOptions) (intel.Batch, error) {
	evs, err := decodeEvents(data)
	if err != nil {
		return intel.Batch{}, err
	}
	if opts.TLP == "" {
		opts.TLP = intel.TLPAmber
	}
	var b intel.Batch
	for i := range evs {
		parseEvent(&evs[i], opts, &b)
	}
	return b, nil
}

// attackRE finds an ATT&CK technique id at the end of a galaxy value
// ("Spearphishing Attachment - T1566.001").
var attackRE = regexp.MustCompile(`\b(T[0-9]{4}(?:\.[0-9]{3})?)"?$`)

func parseEvent(e *event, opts intel.ImportOptions, b *intel.Batch) {
	evTime := unixTime(e.Timestamp, opts.Now)
	if d, err := time.Parse(time.DateOnly, e.Date); err == nil && evTime.IsZero() {
		evTime = d
	}
	evTLP, evTags, evAttack := readTags(e.Tag, e.Galaxy)
	if e.UUID != "" {
		evTags = append(evTags, "misp-event:"+e.UUID)
	}
	if e.SharingGroup != nil && e.SharingGroup.Name != "" {
		evTags = append(evTags, "misp-sharing-group:"+e.SharingGroup.Name)
	}
	source := opts.Source
	if source == "" {
		source = "misp"
		if e.Orgc.Name != "" {
			source += ":" + e.Orgc.Name
		}
	}
	type attrIn struct {
		a    *attribute
		dist string
		// skip is why the whole object is skipped.
		skip string
	}
	var attrs []attrIn
	for i := range e.Attribute {
		attrs = append(attrs, attrIn{a: &e.Attribute[i]})
	}
	for i := range e.Object {
		o := &e.Object[i]
		why := ""
		if o.Deleted {
			why = "the MISP object " + o.UUID + " is deleted"
		}
		for j := range o.Attribute {
			attrs = append(attrs, attrIn{a: &o.Attribute[j], dist: string(o.Distribution), skip: why})
		}
	}
	// Event-level sightings join their attribute's own (by uuid, else by
	// id; a sighting listed in both places counts once).
	byUUID, byID := map[string]*attribute{}, map[string]*attribute{}
	for _, in := range attrs {
		if in.a.UUID != "" {
			byUUID[in.a.UUID] = in.a
		}
		if in.a.ID != "" {
			byID[string(in.a.ID)] = in.a
		}
	}
	for _, sg := range e.Sighting {
		a := byUUID[sg.AttributeUUID]
		if a == nil {
			a = byID[string(sg.AttributeID)]
		}
		if a == nil {
			ref := sg.AttributeUUID
			if ref == "" {
				ref = string(sg.AttributeID)
			}
			b.Skipped = append(b.Skipped, intel.Skip{Ref: fmt.Sprintf("event %s sighting %s", e.UUID, sg.UUID), Reason: fmt.Sprintf("its attribute %s is not in the event", ref)})
			continue
		}
		if sg.UUID != "" && slices.ContainsFunc(a.Sighting, func(x sighting) bool { return x.UUID == sg.UUID }) {
			continue
		}
		a.Sighting = append(a.Sighting, sg)
	}
	for _, in := range attrs {
		a := in.a
		ref := fmt.Sprintf("event %s attribute %s", e.UUID, a.UUID)
		skip := func(reason string) { b.Skipped = append(b.Skipped, intel.Skip{Ref: ref, Reason: reason}) }
		switch {
		case in.skip != "":
			skip(in.skip)
			continue
		case bool(a.Deleted):
			skip("deleted in MISP")
			continue
		}
		obs, name, err := observables(a.Type, string(a.Value))
		if err != nil {
			skip(err.Error())
			continue
		}
		if !a.ToIDs {
			skip(fmt.Sprintf("to_ids is false: the producer marks this %s as context, not for detection", a.Type))
			continue
		}
		tlp, tags, att := readTags(a.Tag, a.Galaxy)
		dist := strictestDist(string(e.Distribution), in.dist, string(a.Distribution))
		ind := intel.Indicator{
			ID:          indicatorID(a.UUID, e.UUID, a.Type, string(a.Value)),
			Name:        e.Info,
			Description: a.Comment,
			Observables: obs,
			Source:      source,
			Owner:       opts.Owner,
		}
		if name != "" {
			ind.Name = name
			if e.Info != "" {
				ind.Name = name + " (" + e.Info + ")"
			}
		}
		ind.TLP, ind.Audience = sharing(dist, strictestTag(evTLP, tlp), opts)
		ind.Tags = unique(append(append(slices.Clone(evTags), tags...), "misp-type:"+a.Type))
		ind.Attack = unique(append(slices.Clone(evAttack), att...))
		ind.Modified = unixTime(a.Timestamp, evTime)
		if ind.Modified.IsZero() {
			ind.Modified = opts.Now
		}
		ind.Created, ind.ValidFrom = ind.Modified, ind.Modified
		sgs := sightings(a.Sighting, ind.ID, opts, &ind)
		if err := ind.Validate(); err != nil {
			skip(err.Error())
			continue
		}
		b.Indicators = append(b.Indicators, ind)
		b.Sightings = append(b.Sightings, sgs...)
	}
}

// sightings turns an attribute's MISP sightings into intel.Sighting, one
// per organisation, and applies false-positive and expiration sightings to
// ind.
func sightings(ss []sighting, indID string, opts intel.ImportOptions, ind *intel.Indicator) []intel.Sighting {
	var out []intel.Sighting
	byOrg := map[string]int{}
	for _, s := range ss {
		at := unixTime(s.DateSighting, time.Time{})
		switch s.Type {
		case "1":
			ind.Tags = unique(append(ind.Tags, "misp:false-positive-sighting"))
			continue
		case "2":
			if !at.IsZero() && (ind.ValidUntil.IsZero() || at.Before(ind.ValidUntil)) {
				ind.ValidUntil = at
			}
			continue
		}
		src := "misp"
		if s.Organisation.Name != "" {
			src += ":" + s.Organisation.Name
		}
		i, ok := byOrg[src]
		if !ok {
			byOrg[src] = len(out)
			out = append(out, intel.Sighting{IndicatorID: indID, Tenant: opts.Owner, FirstSeen: at, LastSeen: at, Source: src, Total: true})
			i = len(out) - 1
		}
		o := &out[i]
		o.Count++
		if at.Before(o.FirstSeen) {
			o.FirstSeen = at
		}
		if at.After(o.LastSeen) {
			o.LastSeen = at
		}
	}
	if !ind.ValidUntil.IsZero() && !ind.ValidUntil.After(ind.ValidFrom) {
		// Expired before it was valid: keep it expired just after.
		ind.ValidUntil = ind.ValidFrom.Add(time.Second)
	}
	return out
}

// distRank orders MISP distribution levels from the most restricted: 0
// (organisation only), 4 (sharing group), 1, 2, 3; 5 (inherit) and ""
// (absent) impose nothing.
func distRank(d string) int {
	switch d {
	case "0":
		return 0
	case "4":
		return 1
	case "1":
		return 2
	case "2":
		return 3
	case "3":
		return 4
	}
	return 5
}

func strictestDist(ds ...string) string {
	best := "5"
	for _, d := range ds {
		if distRank(d) < distRank(best) {
			best = d
		}
	}
	return best
}

// sharing maps a distribution level and TLP tag (tagTLP "" when no tag
// says) to the indicator's TLP and audience.
func sharing(dist string, tagTLP intel.TLP, opts intel.ImportOptions) (intel.TLP, []tenant.ID) {
	tlp := tagTLP
	if tlp == "" {
		tlp = opts.TLP
	}
	switch dist {
	case "0":
		return intel.TLPRed, []tenant.ID{}
	case "4":
		if opts.Audience != nil {
			return tlp, opts.Audience
		}
		return tlp, []tenant.ID{}
	}
	return tlp, opts.Audience
}

// readTags splits MISP tags into the strictest TLP level, the other tag
// names, and ATT&CK ids of mitre-attack-pattern galaxy tags and clusters.
func readTags(tags []tag, gals []galaxy) (intel.TLP, []string, []string) {
	var (
		tlp    intel.TLP
		names  []string
		attack []string
	)
	for _, t := range tags {
		n := strings.TrimSpace(t.Name)
		if strings.HasPrefix(strings.ToLower(n), "tlp:") {
			if l, err := intel.ParseTLP(n); err == nil {
				tlp = strictestTag(tlp, l)
				continue
			}
		}
		if id := attackID(n); id != "" {
			attack = append(attack, id)
		}
		if n != "" {
			names = append(names, n)
		}
	}
	for _, g := range gals {
		for _, c := range g.GalaxyCluster {
			if !strings.Contains(c.Type, "attack-pattern") && !strings.Contains(g.Type, "attack-pattern") {
				continue
			}
			for _, id := range c.Meta.ExternalID {
				if attackRE.MatchString(id) {
					attack = append(attack, id)
				}
			}
			if id := attackID(c.TagName); id != "" {
				attack = append(attack, id)
			}
		}
	}
	return tlp, unique(names), unique(attack)
}

// attackID is the technique id of a mitre attack-pattern galaxy tag, ""
// for other tags.
func attackID(tagName string) string {
	if !strings.HasPrefix(tagName, "misp-galaxy:") || !strings.Contains(tagName, "attack-pattern=") {
		return ""
	}
	if m := attackRE.FindStringSubmatch(tagName); m != nil {
		return m[1]
	}
	return ""
}

func strictestTag(a, b intel.TLP) intel.TLP {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return intel.Strictest(a, b)
}

func unique(s []string) []string {
	var out []string
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func unixTime(s flexString, def time.Time) time.Time {
	n, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil || n <= 0 {
		return def
	}
	return time.Unix(n, 0).UTC()
}

// indicatorID is indicator--<attribute uuid> when that is a valid STIX
// UUID, else one derived from it (or, with no uuid, from the event, type
// and value).
func indicatorID(attrUUID, eventUUID, typ, value string) string {
	u := strings.ToLower(strings.TrimSpace(attrUUID))
	if id := "indicator--" + u; stix.ValidID(id) {
		return id
	}
	if u == "" {
		return stix.DeterministicID("indicator", "misp|"+eventUUID+"|"+typ+"|"+value)
	}
	return stix.DeterministicID("indicator", "misp|"+u)
}

// composite are the MISP types whose value is "a|b" and which halves
// Tarian reads: the intel types of the halves ("" ignores the half; "ip"
// is ipv4, ipv6 or cidr by the value).
var composite = map[string][2]intel.Type{
	"domain|ip":       {intel.TypeDomain, "ip"},
	"ip-src|port":     {"ip", ""},
	"ip-dst|port":     {"ip", ""},
	"hostname|port":   {intel.TypeDomain, ""},
	"filename|md5":    {"name", intel.TypeMD5},
	"filename|sha1":   {"name", intel.TypeSHA1},
	"filename|sha256": {"name", intel.TypeSHA256},
	"malware-sample":  {"name", intel.TypeMD5},
}

// simple are the MISP types of one value with a Tarian type.
var simple = map[string]intel.Type{
	"ip-src":           "ip",
	"ip-dst":           "ip",
	"domain":           intel.TypeDomain,
	"hostname":         intel.TypeDomain,
	"url":              intel.TypeURL,
	"uri":              intel.TypeURL,
	"md5":              intel.TypeMD5,
	"sha1":             intel.TypeSHA1,
	"sha256":           intel.TypeSHA256,
	"email":            intel.TypeEmail,
	"email-src":        intel.TypeEmail,
	"email-dst":        intel.TypeEmail,
	"email-reply-to":   intel.TypeEmail,
	"email-subject":    intel.TypeEmailSubject,
	"email-attachment": intel.TypeFileName,
	"filename":         intel.TypeFileName,
}

// observables maps one attribute to Tarian observables; name is the file
// name of a filename|hash attribute.
func observables(typ, value string) (obs []intel.Observable, name string, err error) {
	add := func(t intel.Type, v string) error {
		if t == "ip" {
			t = ipType(v)
		}
		n, err := intel.Normalize(t, v)
		if err != nil {
			return err
		}
		obs = append(obs, intel.Observable{Type: t, Value: n})
		return nil
	}
	if halves, ok := composite[typ]; ok {
		l, r, ok := strings.Cut(value, "|")
		if !ok {
			return nil, "", fmt.Errorf("MISP type %s: value %q has no '|'", typ, value)
		}
		for i, v := range []string{l, r} {
			switch halves[i] {
			case "":
			case "name":
				name = strings.TrimSpace(v)
			default:
				if err := add(halves[i], v); err != nil {
					return nil, "", err
				}
			}
		}
		return obs, name, nil
	}
	t, ok := simple[typ]
	if !ok {
		return nil, "", fmt.Errorf("MISP type %s has no Tarian indicator type", typ)
	}
	if err := add(t, value); err != nil {
		return nil, "", err
	}
	return obs, "", nil
}

// ipType is cidr for a value with a prefix length, else ipv4 or ipv6.
func ipType(v string) intel.Type {
	v = strings.TrimSpace(v)
	if strings.Contains(v, "/") {
		return intel.TypeCIDR
	}
	if a, err := netip.ParseAddr(strings.Trim(v, "[]")); err == nil && a.Unmap().Is4() {
		return intel.TypeIPv4
	}
	if strings.Contains(v, ":") {
		return intel.TypeIPv6
	}
	return intel.TypeIPv4
}
