package intel

import (
	"encoding/json"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// Object is one version of a STIX object as Tarian keeps it, whatever its
// type: indicators, identities, relationships, sightings, reports and the
// rest are all kept so an export or a TAXII collection gives back what came
// in.
type Object struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// Modified is the version (the object's "modified", else "created").
	Modified    time.Time `json:"modified"`
	SpecVersion string    `json:"spec_version"`
	// Added is when Tarian stored this version (TAXII's date_added).
	Added time.Time `json:"date_added,omitzero"`
	// TLP is the object's marking (from object_marking_refs), else the
	// import's default.
	TLP      TLP         `json:"tlp"`
	Owner    tenant.ID   `json:"owner,omitempty"`
	Audience []tenant.ID `json:"audience,omitempty"`
	// JSON is the object as received (or as Tarian wrote it).
	JSON json.RawMessage `json:"object"`
}

// Sighting is one report that an indicator was seen: by a member's events
// (Tarian's matcher) or in an imported feed.
type Sighting struct {
	ID          int64     `json:"id"`
	IndicatorID string    `json:"indicator"`
	Tenant      tenant.ID `json:"tenant,omitempty"`
	// AlertID is the alert the match raised, when Tarian saw it.
	AlertID   int64     `json:"alert,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Count     int       `json:"count"`
	// Source names a feed's sighting ("misp:<org>"); "" for Tarian's own.
	Source string `json:"source,omitempty"`
	// ObjectID and ObjectVersion name the STIX sighting object an
	// imported sighting came as: importing that version again (the same
	// file, an export of it, a feed sending it twice) counts it once.
	ObjectID      string    `json:"-"`
	ObjectVersion time.Time `json:"-"`
	// Total says that Count is every sighting the source reports (a MISP
	// event carries all the sightings of its attributes), so an import
	// adds only those beyond the count already held for the indicator,
	// tenant and source.
	Total bool `json:"-"`
}

// Skip is an imported object or record Tarian did not turn into an
// indicator, and why: nothing is dropped without a reason.
type Skip struct {
	// Ref names the object: a STIX id, "event <uuid> attribute <uuid>",
	// "line 12".
	Ref    string `json:"ref"`
	Reason string `json:"reason"`
}

// Batch is what an importer read from one file or message.
type Batch struct {
	Indicators []Indicator `json:"indicators"`
	// Objects are the STIX objects to keep as they came (every one of a
	// STIX bundle, indicators included); empty for MISP and CSV, whose
	// indicators are exported as Tarian writes them.
	Objects   []Object   `json:"objects,omitempty"`
	Sightings []Sighting `json:"sightings,omitempty"`
	Skipped   []Skip     `json:"skipped,omitempty"`
	// Notes are remarks on what was kept: a reference to an object not in
	// the bundle, a pattern value the matcher leaves out.
	Notes []Skip `json:"notes,omitempty"`
}

// ImportOptions are the defaults an import applies where its source is
// silent, and who owns what it brings.
type ImportOptions struct {
	// Owner is the tenant importing ("" the provider).
	Owner tenant.ID
	// Audience is who the provider shares with (nil all members).
	Audience []tenant.ID
	// TLP is the marking of objects that carry none (default AMBER).
	TLP TLP
	// Source names the feed or file.
	Source string
	// Now stamps created/modified/valid_from where the source has none.
	Now time.Time
}

// Summary is what an import did.
type Summary struct {
	// Imported are new indicators; Updated newer versions of known ones;
	// Unchanged versions already held.
	Imported  int `json:"imported"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	// Objects are the STIX objects kept (all types).
	Objects   int    `json:"objects"`
	Sightings int    `json:"sightings"`
	Skipped   []Skip `json:"skipped"`
	Notes     []Skip `json:"notes,omitempty"`
}

// Add adds o's counts to s.
func (s *Summary) Add(o Summary) {
	s.Imported += o.Imported
	s.Updated += o.Updated
	s.Unchanged += o.Unchanged
	s.Objects += o.Objects
	s.Sightings += o.Sightings
	s.Skipped = append(s.Skipped, o.Skipped...)
	s.Notes = append(s.Notes, o.Notes...)
}

// HuntStatus is where a retro-hunt stands.
type HuntStatus string

// The retro-hunt states.
const (
	HuntRunning HuntStatus = "running"
	HuntDone    HuntStatus = "done"
	HuntFailed  HuntStatus = "failed"
	// HuntSkipped: the indicator cannot be searched for (a STIX pattern
	// that no search can express); Error says why. It is matched on new
	// events only.
	HuntSkipped HuntStatus = "skipped"
)

// QueuedHunt is an indicator waiting for its retro-hunt, Seq its place in
// the queue, Version how often it changed while queued.
type QueuedHunt struct {
	Seq         int64
	IndicatorID string
	Version     int64
}

// RetroHunt is one search of one tenant's stored events for one indicator.
type RetroHunt struct {
	ID          int64      `json:"id"`
	IndicatorID string     `json:"indicator"`
	Tenant      tenant.ID  `json:"tenant"`
	Status      HuntStatus `json:"status"`
	// Since is how far back it searches.
	Since    time.Time `json:"since"`
	Created  time.Time `json:"created"`
	Finished time.Time `json:"finished,omitzero"`
	// Scanned counts the events the search returned; Hits those the
	// indicator matched.
	Scanned int    `json:"scanned"`
	Hits    int    `json:"hits"`
	Error   string `json:"error,omitempty"`
}
