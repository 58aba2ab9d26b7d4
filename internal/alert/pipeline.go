package alert

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// Backend is the state the Pipeline keeps: alerts, suppressions, assets.
type Backend interface {
	Store
	Suppressions
	Assets
}

// Deps are the Pipeline's collaborators.
type Deps struct {
	Store Backend
	// Now is the clock (nil: time.Now); tests inject one.
	Now func() time.Time
	// OnChange, when set, sees every change after it is stored (the
	// stream, notifications). It must not block for long.
	OnChange func(ctx context.Context, cs []Change)
}

// Pipeline turns detections into alerts and applies analysts' actions:
// suppressions first, then deduplication keys, asset criticality, and
// the store's merge. It is safe for concurrent use.
type Pipeline struct {
	cfg Config
	d   Deps

	mu     sync.RWMutex
	supps  map[tenant.ID][]Suppression
	assets map[tenant.ID]map[string]Criticality
}

// NewPipeline loads the suppressions and asset criticalities.
func NewPipeline(ctx context.Context, cfg Config, d Deps) (*Pipeline, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	p := &Pipeline{cfg: cfg, d: d}
	if err := p.load(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// Config returns the pipeline's configuration.
func (p *Pipeline) Config() Config { return p.cfg }

// Forget forgets the events counted and the entities seen more than
// EventMemory before now (the retention job calls it): without it the
// store would keep a row for every event any rule ever matched.
func (p *Pipeline) Forget(ctx context.Context, now time.Time) (events, entities int64, err error) {
	return p.d.Store.Forget(ctx, now.Add(-p.cfg.EventMemory))
}

// Now returns the pipeline's clock reading.
func (p *Pipeline) Now() time.Time { return p.d.Now().UTC() }

func (p *Pipeline) load(ctx context.Context) error {
	ss, err := p.d.Store.AllSuppressions(ctx)
	if err != nil {
		return fmt.Errorf("load suppressions: %w", err)
	}
	as, err := p.d.Store.AllAssets(ctx)
	if err != nil {
		return fmt.Errorf("load assets: %w", err)
	}
	supps := map[tenant.ID][]Suppression{}
	for _, s := range ss {
		supps[s.Tenant] = append(supps[s.Tenant], s)
	}
	assets := map[tenant.ID]map[string]Criticality{}
	for _, a := range as {
		if assets[a.Tenant] == nil {
			assets[a.Tenant] = map[string]Criticality{}
		}
		assets[a.Tenant][a.Key()] = a.Criticality
	}
	p.mu.Lock()
	p.supps, p.assets = supps, assets
	p.mu.Unlock()
	return nil
}

// Raise suppresses, keys and stores tenant t's detections.
func (p *Pipeline) Raise(ctx context.Context, t tenant.ID, ds []Detection) ([]Change, error) {
	now := p.Now()
	ps := make([]Pending, 0, len(ds))
	hits := map[int64]int64{}
	p.mu.RLock()
	supps, assets := p.supps[t], p.assets[t]
	for i := range ds {
		d := &ds[i]
		if id, ok := suppressed(supps, d, now); ok {
			hits[id]++
			continue
		}
		dd, ruleOwn := p.cfg.dedupFor(t, d.RuleID)
		k := key(d, dd.Key)
		switch {
		case ruleOwn:
		case d.Producer == ProducerCorrelation:
			// A correlation's group (the source address of a password
			// spray) is what its alerts are about: two groups are two
			// alerts, unless the rule's own key says otherwise.
			k += groupKey(d)
		case d.Producer == ProducerSearch:
			// A scheduled search's threshold counts its whole run: its
			// finds are one alert, unless the search's own key (by its
			// rule ID, search:N) says otherwise.
			k = ""
		}
		pd := Pending{Detection: *d, Key: k, Window: dd.Window, GroupBy: p.cfg.Group.By, GroupWindow: p.cfg.Group.Window}
		found := false
		for _, e := range d.Entities {
			if e.Type != EntityHost && e.Type != EntityUser {
				continue
			}
			if c, ok := assets[Asset{Type: e.Type, Name: e.Value}.Key()]; ok {
				if !found {
					pd.Criticality, found = c, true
				}
				pd.Criticality = pd.Criticality.Max(c)
			}
		}
		ps = append(ps, pd)
	}
	p.mu.RUnlock()
	if len(hits) > 0 {
		if err := p.d.Store.CountSuppressed(ctx, t, hits); err != nil {
			return nil, fmt.Errorf("count suppressed: %w", err)
		}
	}
	if len(ps) == 0 {
		return nil, nil
	}
	cs, err := p.d.Store.Raise(ctx, t, ps, now)
	if err != nil {
		return nil, err
	}
	p.changed(ctx, cs)
	return cs, nil
}

func suppressed(ss []Suppression, d *Detection, now time.Time) (int64, bool) {
	for _, s := range ss {
		if s.Matches(d, now) {
			return s.ID, true
		}
	}
	return 0, false
}

// key is the values of d's key fields, lower-cased: one alert per rule
// and key within the window.
func key(d *Detection, fields []string) string {
	var b strings.Builder
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(0x1f)
		}
		b.WriteString(strings.ToLower(fieldValue(d, f)))
	}
	return b.String()
}

// groupKey is a correlation detection's group-by values (its fields),
// lower-cased, for its key.
func groupKey(d *Detection) string {
	var b strings.Builder
	for _, f := range d.Fields {
		b.WriteByte(0x1e)
		b.WriteString(f.Name)
		b.WriteByte('=')
		b.WriteString(strings.ToLower(f.Value))
	}
	return b.String()
}

func (p *Pipeline) changed(ctx context.Context, cs []Change) {
	if p.d.OnChange != nil && len(cs) > 0 {
		p.d.OnChange(ctx, cs)
	}
}

// Act applies an analyst's action to one of tenant t's alerts.
func (p *Pipeline) Act(ctx context.Context, t tenant.ID, id int64, actor string, act Action) (before, after Alert, err error) {
	now := p.Now()
	before, after, err = p.d.Store.Update(ctx, t, id, func(a *Alert) error {
		if err := Apply(a, act, now); err != nil {
			return err
		}
		record(a, act, actor, now)
		return nil
	})
	if err != nil {
		return before, after, err
	}
	p.changed(ctx, []Change{{What: act.Verb, Actor: actor, Alert: after}})
	return before, after, nil
}

// AddSuppression validates and stores s; it applies from the next batch.
func (p *Pipeline) AddSuppression(ctx context.Context, s Suppression) (Suppression, error) {
	s.Created = p.Now()
	if err := s.Validate(); err != nil {
		return Suppression{}, err
	}
	s, err := p.d.Store.AddSuppression(ctx, s)
	if err != nil {
		return Suppression{}, err
	}
	return s, p.load(ctx)
}

// RemoveSuppression deletes one of tenant t's suppressions.
func (p *Pipeline) RemoveSuppression(ctx context.Context, t tenant.ID, id int64) (Suppression, error) {
	s, err := p.d.Store.RemoveSuppression(ctx, t, id)
	if err != nil {
		return Suppression{}, err
	}
	return s, p.load(ctx)
}

// SetAsset stores an asset's criticality; it weighs alerts from the next
// batch on.
func (p *Pipeline) SetAsset(ctx context.Context, a Asset) error {
	if a.Type != EntityHost && a.Type != EntityUser {
		return fmt.Errorf("%w: asset type %q: want host or user", ErrInvalid, a.Type)
	}
	if strings.TrimSpace(a.Name) == "" {
		return fmt.Errorf("%w: an asset needs a name", ErrInvalid)
	}
	if _, err := ParseCriticality(string(a.Criticality)); err != nil {
		return err
	}
	if err := p.d.Store.SetAsset(ctx, a); err != nil {
		return err
	}
	return p.load(ctx)
}

// Alerts lists tenant t's alerts, newest first.
func (p *Pipeline) Alerts(ctx context.Context, t tenant.ID, f Filter) ([]Alert, error) {
	return p.d.Store.Alerts(ctx, t, f)
}

// Alert returns one of tenant t's alerts.
func (p *Pipeline) Alert(ctx context.Context, t tenant.ID, id int64) (Alert, error) {
	return p.d.Store.Alert(ctx, t, id)
}

// AlertTimes hands fn the times of tenant t's alerts created in [from,
// to), oldest first (see Store.AlertTimes).
func (p *Pipeline) AlertTimes(ctx context.Context, t tenant.ID, from, to time.Time, fn func(Alert) error) error {
	return p.d.Store.AlertTimes(ctx, t, from, to, fn)
}

// AlertTenant returns alert id's tenant, for provider roles only.
func (p *Pipeline) AlertTenant(ctx context.Context, id int64) (tenant.ID, error) {
	return p.d.Store.AlertTenant(ctx, id)
}

// Suppressions lists tenant t's suppressions.
func (p *Pipeline) Suppressions(ctx context.Context, t tenant.ID) ([]Suppression, error) {
	return p.d.Store.Suppressions(ctx, t)
}

// Assets lists tenant t's assets with a criticality.
func (p *Pipeline) Assets(ctx context.Context, t tenant.ID) ([]Asset, error) {
	return p.d.Store.Assets(ctx, t)
}
