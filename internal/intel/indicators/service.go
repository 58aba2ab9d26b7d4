// Package indicators is the intel service: it keeps indicators (imports,
// manual adds, revocations) in the state store and in the matcher's index,
// turns the matcher's hits on the event stream into alerts and sightings,
// and retro-hunts stored events for every new or changed indicator.
package indicators

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/intel/match"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Store keeps indicators, sightings and retro-hunts (store/sqlstore).
type Store interface {
	// PutIndicators stores is and returns those new or changed; with
	// hunt, each of them not revoked is queued for a retro-hunt in the
	// same transaction. An indicator whose ID another owner holds is
	// stored under an ID of its owner's, written back into is.
	PutIndicators(ctx context.Context, is []intel.Indicator, hunt bool) (intel.Summary, []intel.Indicator, error)
	Indicator(ctx context.Context, id string) (intel.Indicator, error)
	Indicators(ctx context.Context, f intel.Filter) ([]intel.Indicator, int64, error)
	EachIndicator(ctx context.Context, fn func(intel.Indicator) error) error
	AddSightings(ctx context.Context, ss []intel.Sighting) error
	Sightings(ctx context.Context, id string, viewer tenant.ID, provider bool) ([]intel.Sighting, error)
	CreateRetroHunt(ctx context.Context, h intel.RetroHunt) (intel.RetroHunt, error)
	UpdateRetroHunt(ctx context.Context, h intel.RetroHunt) error
	RetroHunts(ctx context.Context, id string, t tenant.ID, limit int) ([]intel.RetroHunt, error)
	QueuedRetroHunts(ctx context.Context, limit int) ([]intel.QueuedHunt, error)
	QueuedRetroHuntCount(ctx context.Context) (int64, error)
	DequeueRetroHunts(ctx context.Context, qs []intel.QueuedHunt) error
	InterruptRetroHunts(ctx context.Context, at time.Time, reason string) (int64, error)
}

// Objects keeps STIX objects for export and TAXII (nil: not kept).
type Objects interface {
	PutObjects(ctx context.Context, objs []intel.Object) (int, error)
	ObjectReader
}

// Warnings flags known-benign values (warning lists; nil: none).
type Warnings interface {
	Check(t intel.Type, value string) (list string, ok bool)
}

// Searcher runs the retro-hunts' queries on the event store.
type Searcher interface {
	Search(ctx context.Context, q logstore.Query, fn func(logstore.Row) error) error
}

// Alerts takes detections (alert.Pipeline).
type Alerts interface {
	Raise(ctx context.Context, t tenant.ID, ds []alert.Detection) ([]alert.Change, error)
}

// Config tunes intel.
type Config struct {
	// RetroHunt is how far back a new or changed indicator is searched
	// for; 0 turns retro-hunts off.
	RetroHunt time.Duration `yaml:"retro_hunt"`
	// RetroHuntLimit caps the events one retro-hunt examines per tenant.
	RetroHuntLimit int `yaml:"retro_hunt_limit"`
	// Warninglists are directories of MISP warning lists.
	Warninglists []string `yaml:"warninglists"`
	// DefaultTLP marks imported objects that carry no marking.
	DefaultTLP string `yaml:"default_tlp"`
	// SightingConsent lists the members that agree to be named where
	// their sightings are exported; the others' are anonymous.
	SightingConsent []string `yaml:"sighting_consent"`
	// SharedSightingsK: once this many members have seen an indicator the
	// provider shares with all, an anonymised sighting (a count, no
	// names) is published in the shared TAXII collection; 0 never, else
	// at least 3.
	SharedSightingsK int `yaml:"shared_sightings_k"`
}

// DefaultConfig returns the defaults: 30 days of retro-hunt, TLP:AMBER.
func DefaultConfig() Config {
	return Config{RetroHunt: 30 * 24 * time.Hour, RetroHuntLimit: 100_000, DefaultTLP: string(intel.TLPAmber), SharedSightingsK: 3}
}

// Validate reports the first bad setting.
func (c Config) Validate() error {
	if c.RetroHunt < 0 {
		return errors.New("intel.retro_hunt: must not be negative")
	}
	if c.RetroHuntLimit < 0 {
		return errors.New("intel.retro_hunt_limit: must not be negative")
	}
	if c.SharedSightingsK != 0 && c.SharedSightingsK < 3 {
		return errors.New("intel.shared_sightings_k: 0 (never) or at least 3 (published at two, it would tell each of the two that the other saw it, which defend's k-anonymity refuses to say)")
	}
	if _, err := intel.ParseTLP(c.DefaultTLP); err != nil {
		return fmt.Errorf("intel.default_tlp: %w", err)
	}
	return nil
}

// TLP is default_tlp as a level, however it is written ("TLP:GREEN",
// "green"); amber when it is not one (Validate refuses that).
func (c Config) TLP() intel.TLP {
	t, err := intel.ParseTLP(c.DefaultTLP)
	if err != nil {
		return intel.TLPAmber
	}
	return t
}

// Deps are the service's collaborators.
type Deps struct {
	Store    Store
	Objects  Objects
	Warnings Warnings
	Search   Searcher
	Alerts   Alerts
	// Tenants lists every tenant (a retro-hunt's audience "all").
	Tenants func(ctx context.Context) ([]tenant.ID, error)
	// Formats are the importers and the STIX writer.
	Formats Formats
	Now     func() time.Time
	Log     *slog.Logger
	// Changed, when set, is told that the indicators changed (other nodes
	// sharing the state store Reload).
	Changed func(ctx context.Context)
	// Stored, when set, waits until the event store holds every record
	// the bus held when it was called, or fails. A retro-hunt asks it
	// first: a record the detector saw before its indicator was in the
	// matcher, but not yet stored, would be missed by both.
	Stored func(ctx context.Context) error
	// Alerted, when set, reports which of tenant t's detections are of
	// events already in one of its alerts, of another rule, that saw the
	// observable keys[i] ("type:value"): a retro-hunt does not raise
	// those again (an indicator shared from a confirmed alert finds that
	// alert's own events first).
	Alerted func(ctx context.Context, t tenant.ID, ds []alert.Detection, keys []string) ([]bool, error)
}

// matcher is the index of the indicators held, swapped whole by Reload.
type matcher struct {
	index *match.Index
	// pats are the indicators only a STIX pattern describes.
	pats *patterns
}

// Service is the intel service.
type Service struct {
	cfg Config
	d   Deps
	m   atomic.Pointer[matcher]
	// indexMu orders a change's store write and index update against
	// Reload's read of the store and swap, so neither loses the other.
	indexMu sync.Mutex
	// hunting: retro-hunts are on (RetroHunts runs them); wake tells the
	// hunter that indicators were queued here.
	hunting bool
	wake    chan struct{}
	// cache holds indicators hit recently, so a busy indicator does not
	// read the store for each event.
	mu    sync.Mutex
	cache map[string]intel.Indicator
}

// New loads every stored indicator into the matcher's index.
func New(ctx context.Context, cfg Config, d Deps) (*Service, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	s := &Service{cfg: cfg, d: d, cache: map[string]intel.Indicator{}, wake: make(chan struct{}, 1)}
	s.hunting = cfg.RetroHunt > 0 && d.Search != nil && d.Alerts != nil && d.Tenants != nil
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload reads every stored indicator into a new index and puts it in
// place: after another node changed them.
func (s *Service) Reload(ctx context.Context) error {
	s.indexMu.Lock()
	defer s.indexMu.Unlock()
	m := &matcher{index: match.New(), pats: newPatterns()}
	err := s.d.Store.EachIndicator(ctx, func(i intel.Indicator) error {
		m.index.Put(i)
		m.pats.put(i)
		return nil
	})
	if err != nil {
		return fmt.Errorf("intel: load indicators: %w", err)
	}
	s.m.Store(m)
	s.mu.Lock()
	clear(s.cache)
	s.mu.Unlock()
	return nil
}

// Len is the number of indicators the matcher holds.
func (s *Service) Len() int {
	m := s.m.Load()
	return m.index.Len() + m.pats.len()
}

// NewID returns a new STIX indicator id.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("indicator--%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// flag marks observables a warning list holds.
func (s *Service) flag(i *intel.Indicator) {
	if s.d.Warnings == nil {
		return
	}
	for k := range i.Observables {
		o := &i.Observables[k]
		if l, ok := s.d.Warnings.Check(o.Type, o.Value); ok {
			o.Warninglist = l
		}
	}
}

// Import stores a batch an importer read: its STIX objects, its
// indicators (a version older than or equal to the one held changes
// nothing), its sightings; the new and changed indicators reach the
// matcher at once and are queued for a retro-hunt (RetroHunts runs them).
func (s *Service) Import(ctx context.Context, b intel.Batch) (intel.Summary, error) {
	sum := intel.Summary{Skipped: b.Skipped, Notes: b.Notes}
	objs := b.Objects
	for k := range b.Indicators {
		i := &b.Indicators[k]
		s.flag(i)
		if err := i.Validate(); err != nil {
			sum.Skipped = append(sum.Skipped, intel.Skip{Ref: i.ID, Reason: err.Error()})
			continue
		}
	}
	valid := slices.DeleteFunc(b.Indicators, func(i intel.Indicator) bool { return i.Validate() != nil })
	if s.d.Formats.Object != nil {
		have := map[string]bool{}
		for _, o := range objs {
			have[o.ID] = true
		}
		for _, i := range valid {
			if have[i.ID] {
				continue
			}
			o, err := s.d.Formats.Object(i)
			if err != nil {
				sum.Skipped = append(sum.Skipped, intel.Skip{Ref: i.ID, Reason: "export as STIX: " + err.Error()})
				continue
			}
			objs = append(objs, o)
		}
	}
	// Sightings that came as STIX objects already kept were counted
	// when they were first imported.
	kept, err := s.keptSightings(ctx, b.Sightings)
	if err != nil {
		return sum, err
	}
	if s.d.Objects != nil && len(objs) > 0 {
		n, err := s.d.Objects.PutObjects(ctx, objs)
		if err != nil {
			return sum, fmt.Errorf("intel: keep objects: %w", err)
		}
		sum.Objects = n
	}
	orig := make([]string, len(valid))
	for k, i := range valid {
		orig[k] = i.ID
	}
	if err := s.put(ctx, valid, &sum); err != nil {
		return sum, err
	}
	if s.hunting {
		// Said now rather than found later in `intel hunts`: these are
		// matched on new events only.
		for _, i := range valid {
			if why := unhuntable(i); why != "" {
				sum.Notes = append(sum.Notes, intel.Skip{Ref: i.ID, Reason: why})
			}
		}
	}
	// Sightings follow an indicator the store kept under its owner's own
	// ID (the original was another owner's).
	moved := map[string]string{}
	for k, i := range valid {
		if i.ID != orig[k] {
			moved[orig[k]] = i.ID
		}
	}
	for k := range b.Sightings {
		if id, ok := moved[b.Sightings[k].IndicatorID]; ok {
			b.Sightings[k].IndicatorID = id
		}
	}
	ss, err := s.newSightings(ctx, b.Sightings, kept)
	if err != nil {
		return sum, err
	}
	if len(ss) > 0 {
		if err := s.d.Store.AddSightings(ctx, ss); err != nil {
			return sum, fmt.Errorf("intel: sightings: %w", err)
		}
		sum.Sightings = len(ss)
	}
	return sum, nil
}

// keptSightings returns the sightings of ss (by index) whose STIX object
// version is already kept for their owner.
func (s *Service) keptSightings(ctx context.Context, ss []intel.Sighting) (map[int]bool, error) {
	if s.d.Objects == nil {
		return nil, nil
	}
	var ids []string
	for _, x := range ss {
		if x.ObjectID != "" && !slices.Contains(ids, x.ObjectID) {
			ids = append(ids, x.ObjectID)
		}
	}
	have := map[string]bool{} // owner|id|version
	for len(ids) > 0 {
		n := min(len(ids), 500)
		os, _, err := s.d.Objects.Objects(ctx, intel.ObjectQuery{Provider: true, IDs: ids[:n], Versions: []string{intel.VersionAll}})
		if err != nil {
			return nil, fmt.Errorf("intel: sightings already kept: %w", err)
		}
		for _, o := range os {
			have[string(o.Owner)+"|"+o.ID+"|"+o.Modified.UTC().Format(time.RFC3339Nano)] = true
		}
		ids = ids[n:]
	}
	kept := map[int]bool{}
	for k, x := range ss {
		if x.ObjectID != "" && have[string(x.Tenant)+"|"+x.ObjectID+"|"+x.ObjectVersion.UTC().Format(time.RFC3339Nano)] {
			kept[k] = true
		}
	}
	return kept, nil
}

// newSightings drops from ss the sightings an earlier import counted: those
// kept (keptSightings), and for a source's total (Sighting.Total) the
// count already held, so importing the same feed again adds nothing.
func (s *Service) newSightings(ctx context.Context, ss []intel.Sighting, kept map[int]bool) ([]intel.Sighting, error) {
	var out []intel.Sighting
	held := map[string][]intel.Sighting{}
	for k, x := range ss {
		if kept[k] {
			continue
		}
		if x.Total {
			have, ok := held[x.IndicatorID]
			if !ok {
				var err error
				if have, err = s.d.Store.Sightings(ctx, x.IndicatorID, "", true); err != nil {
					return nil, fmt.Errorf("intel: sightings held: %w", err)
				}
				held[x.IndicatorID] = have
			}
			for _, h := range have {
				if h.Tenant == x.Tenant && h.Source == x.Source {
					x.Count -= h.Count
				}
			}
			if x.Count <= 0 {
				continue
			}
		}
		out = append(out, x)
	}
	return out, nil
}

// put stores indicators, queues their retro-hunts and indexes the ones
// that changed.
func (s *Service) put(ctx context.Context, is []intel.Indicator, sum *intel.Summary) error {
	if len(is) == 0 {
		return nil
	}
	s.indexMu.Lock()
	defer s.indexMu.Unlock()
	// The store says which ones are new or newer (it queues their hunts),
	// so only they are re-indexed.
	got, changed, err := s.d.Store.PutIndicators(ctx, is, s.hunting)
	if err != nil {
		return fmt.Errorf("intel: store indicators: %w", err)
	}
	sum.Imported += got.Imported
	sum.Updated += got.Updated
	sum.Unchanged += got.Unchanged
	sum.Skipped = append(sum.Skipped, got.Skipped...)
	s.mu.Lock()
	for _, i := range changed {
		delete(s.cache, i.ID)
	}
	s.mu.Unlock()
	m := s.m.Load()
	for _, i := range changed {
		m.index.Put(i)
		m.pats.put(i)
	}
	if len(changed) > 0 && s.d.Changed != nil {
		s.d.Changed(ctx)
	}
	// The hunter wakes once the indicators match live, so what it does not
	// find stored is matched as it arrives.
	if s.hunting && len(changed) > 0 {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// Add stores one indicator written by hand (CLI, API, console).
func (s *Service) Add(ctx context.Context, i intel.Indicator) (intel.Indicator, error) {
	now := s.d.Now().UTC()
	if i.ID == "" {
		i.ID = NewID()
	}
	if i.Created.IsZero() {
		i.Created = now
	}
	i.Modified = now
	if i.ValidFrom.IsZero() {
		i.ValidFrom = now
	}
	if i.TLP == "" {
		i.TLP = s.cfg.TLP()
	}
	if i.Source == "" {
		i.Source = "manual"
	}
	s.flag(&i)
	if err := i.Validate(); err != nil {
		return i, err
	}
	b := intel.Batch{Indicators: []intel.Indicator{i}}
	sum, err := s.Import(ctx, b)
	if err != nil {
		return i, err
	}
	if len(sum.Skipped) > 0 {
		return i, errors.New(sum.Skipped[0].Reason)
	}
	i.ID = b.Indicators[0].ID // the store's (another owner held the one asked for)
	return i, nil
}

// Get returns indicator id if a principal of tenant viewer (provider staff:
// provider set) may see it.
func (s *Service) Get(ctx context.Context, id string, viewer tenant.ID, provider bool) (intel.Indicator, error) {
	i, err := s.d.Store.Indicator(ctx, id)
	if err != nil {
		return i, err
	}
	if !provider && !i.AppliesTo(viewer) {
		return intel.Indicator{}, intel.ErrNotFound
	}
	return i, nil
}

// List lists the indicators f selects.
func (s *Service) List(ctx context.Context, f intel.Filter) ([]intel.Indicator, int64, error) {
	return s.d.Store.Indicators(ctx, f)
}

// Revoke revokes indicator id: it stops matching at once. Only its owner
// (provider staff for the provider's) may; another member gets
// ErrNotFound.
func (s *Service) Revoke(ctx context.Context, id string, owner tenant.ID, provider bool) (intel.Indicator, error) {
	i, err := s.d.Store.Indicator(ctx, id)
	if err != nil {
		return i, err
	}
	if !provider && i.Owner != owner {
		return intel.Indicator{}, intel.ErrNotFound
	}
	if i.Revoked {
		return i, nil
	}
	i.Revoked = true
	i.Modified = s.d.Now().UTC().Truncate(time.Millisecond)
	if !i.Modified.After(i.Created) {
		i.Modified = i.Created.Add(time.Millisecond)
	}
	objs, err := s.revokedVersion(ctx, i)
	if err != nil {
		return i, err
	}
	if len(objs) > 0 {
		if _, err := s.d.Objects.PutObjects(ctx, objs); err != nil {
			return i, err
		}
	}
	var sum intel.Summary
	if err := s.put(ctx, []intel.Indicator{i}, &sum); err != nil {
		return i, err
	}
	return i, nil
}

// Sightings lists indicator id's sightings the viewer may see.
func (s *Service) Sightings(ctx context.Context, id string, viewer tenant.ID, provider bool) ([]intel.Sighting, error) {
	if _, err := s.Get(ctx, id, viewer, provider); err != nil {
		return nil, err
	}
	return s.d.Store.Sightings(ctx, id, viewer, provider)
}

// RetroHunts lists retro-hunts (of indicator id, "" all) in tenant t's
// scope ("" every tenant).
func (s *Service) RetroHunts(ctx context.Context, id string, t tenant.ID, limit int) ([]intel.RetroHunt, error) {
	return s.d.Store.RetroHunts(ctx, id, t, limit)
}

// QueuedHunts is how many indicators wait for their retro-hunt.
func (s *Service) QueuedHunts(ctx context.Context) (int64, error) {
	return s.d.Store.QueuedRetroHuntCount(ctx)
}

// indicator returns indicator id, cached.
func (s *Service) indicator(ctx context.Context, id string) (intel.Indicator, error) {
	s.mu.Lock()
	i, ok := s.cache[id]
	s.mu.Unlock()
	if ok {
		return i, nil
	}
	i, err := s.d.Store.Indicator(ctx, id)
	if err != nil {
		return i, err
	}
	s.mu.Lock()
	if len(s.cache) > 10_000 {
		clear(s.cache)
	}
	s.cache[id] = i
	s.mu.Unlock()
	return i, nil
}

// Match checks one event of tenant t against the active indicators and
// returns a detection (producer intel) per indicator it matched.
func (s *Service) Match(ctx context.Context, t tenant.ID, fields []event.Field, base func() alert.Detection) []alert.Detection {
	now := s.d.Now()
	var hits []match.Hit
	m := s.m.Load()
	m.index.Match(t, now, fields, func(h match.Hit) { hits = append(hits, h) })
	pats := m.pats.match(t, now, fields)
	if len(hits) == 0 && len(pats) == 0 {
		return nil
	}
	b := base()
	ds := s.detections(ctx, t, hits, b, alert.ProducerIntel)
	for _, i := range pats {
		ds = append(ds, patternDetection(i, b, alert.ProducerIntel))
	}
	return ds
}

// detections makes one detection per indicator hit, with the indicator's
// context in its fields; a hit whose indicator no longer exists is
// dropped (it was revoked between the match and now).
func (s *Service) detections(ctx context.Context, t tenant.ID, hits []match.Hit, base alert.Detection, p alert.Producer) []alert.Detection {
	var out []alert.Detection
	done := map[string]bool{}
	for _, h := range hits {
		if done[h.Indicator] {
			continue
		}
		i, err := s.indicator(ctx, h.Indicator)
		if err != nil || i.Revoked || !i.AppliesTo(t) || !holds(i, h.Observable) {
			continue
		}
		done[h.Indicator] = true
		d := base
		d.Producer = p
		d.RuleID = "intel:" + i.ID
		d.Title = "Threat intelligence: " + string(h.Observable.Type) + " " + h.Observable.Value
		if i.Name != "" {
			d.Title += " (" + i.Name + ")"
		}
		d.Author = i.Source
		d.Level = level(i)
		d.Tags = attackTags(i)
		d.Fields = append([]event.Field{
			{Name: h.Field, Value: h.Value},
			{Name: "intel.type", Value: string(h.Observable.Type)},
			{Name: "intel.value", Value: h.Observable.Value},
		}, intelFields(i)...)
		out = append(out, d)
	}
	return out
}

// intelFields are an indicator's context on its alerts.
func intelFields(i intel.Indicator) []event.Field {
	return []event.Field{
		{Name: "intel.indicator", Value: i.ID},
		{Name: "intel.tlp", Value: i.TLP.Label()},
		{Name: "intel.source", Value: i.Source},
		{Name: "intel.confidence", Value: fmt.Sprint(i.Confidence)},
	}
}

// patternDetection is the detection of an event matching indicator i's
// STIX pattern.
func patternDetection(i intel.Indicator, base alert.Detection, p alert.Producer) alert.Detection {
	d := base
	d.Producer, d.RuleID, d.Author, d.Level, d.Tags = p, "intel:"+i.ID, i.Source, level(i), attackTags(i)
	d.Title = "Threat intelligence: pattern " + i.Pattern
	if i.Name != "" {
		d.Title = "Threat intelligence: " + i.Name
	}
	d.Fields = append([]event.Field{{Name: "intel.pattern", Value: i.Pattern}}, intelFields(i)...)
	return d
}

// holds reports whether indicator i has observable o (the index matches
// by hash; this makes a collision harmless).
func holds(i intel.Indicator, o intel.Observable) bool {
	for _, x := range i.Observables {
		if x.Type == o.Type && x.Value == o.Value && x.Warninglist == "" {
			return true
		}
	}
	return false
}

// level maps an indicator's confidence to an alert level.
func level(i intel.Indicator) string {
	switch {
	case i.Confidence >= 85:
		return "critical"
	case i.Confidence >= 60 || i.Confidence == 0:
		return "high"
	case i.Confidence >= 30:
		return "medium"
	}
	return "low"
}

func attackTags(i intel.Indicator) []string {
	var out []string
	for _, a := range i.Attack {
		out = append(out, "attack."+strings.ToLower(a))
	}
	return out
}

// Sighted records sightings of the indicators behind intel detections
// that alerts took.
func (s *Service) Sighted(ctx context.Context, t tenant.ID, cs []alert.Change) error {
	var ss []intel.Sighting
	for _, c := range cs {
		a := c.Alert
		if a.Producer != alert.ProducerIntel && a.Producer != alert.ProducerRetroHunt {
			continue
		}
		id, ok := strings.CutPrefix(a.RuleID, "intel:")
		if !ok {
			continue
		}
		now := s.d.Now().UTC()
		ss = append(ss, intel.Sighting{IndicatorID: id, Tenant: t, AlertID: a.ID, FirstSeen: now, LastSeen: now, Count: 1})
	}
	if len(ss) == 0 {
		return nil
	}
	if err := s.d.Store.AddSightings(ctx, ss); err != nil {
		return err
	}
	return s.shareSightings(ctx, ss)
}

// shareSightings publishes, for each provider indicator shared with every
// member, an anonymised sighting once at least SharedSightingsK members
// have seen it: the count and times across members, never which members
// (no where_sighted_refs). It goes to the kept STIX objects, so the TAXII
// collection every member and federated SOC reads carries it.
func (s *Service) shareSightings(ctx context.Context, ss []intel.Sighting) error {
	if s.cfg.SharedSightingsK < 3 || s.d.Objects == nil || s.d.Formats.Sighting == nil {
		return nil
	}
	done := map[string]bool{}
	for _, x := range ss {
		if done[x.IndicatorID] {
			continue
		}
		done[x.IndicatorID] = true
		i, err := s.indicator(ctx, x.IndicatorID)
		if err != nil || i.Owner != "" || i.Audience != nil || i.TLP.Restricted() {
			continue
		}
		all, err := s.d.Store.Sightings(ctx, i.ID, "", true)
		if err != nil {
			return err
		}
		agg := intel.Sighting{IndicatorID: i.ID}
		members := map[tenant.ID]bool{}
		for _, y := range all {
			if y.Tenant == "" {
				continue
			}
			members[y.Tenant] = true
			agg.Count += y.Count
			if agg.FirstSeen.IsZero() || y.FirstSeen.Before(agg.FirstSeen) {
				agg.FirstSeen = y.FirstSeen
			}
			if y.LastSeen.After(agg.LastSeen) {
				agg.LastSeen = y.LastSeen
			}
		}
		if len(members) < s.cfg.SharedSightingsK {
			continue
		}
		o := s.d.Formats.Sighting(agg, nil)
		o.TLP = i.TLP
		if _, err := s.d.Objects.PutObjects(ctx, []intel.Object{o}); err != nil {
			return err
		}
	}
	return nil
}
