package defend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/audit"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/intel/stix"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Campaign is one external observable (or a rule's external entity) seen
// in alerts at several members: the provider's parent incident.
type Campaign struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`
	Value     string    `json:"value"`
	Title     string    `json:"title"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Created   time.Time `json:"created"`
	// Status is open or closed (by an analyst: ClosedAt, ClosedBy and
	// CloseNote say when, who and why). Active is an open campaign whose
	// last alert is within the window: a further member's alert with one
	// of its observables joins it. A closed one takes no more alerts; the
	// same observable at enough members again raises a new campaign.
	Status    string     `json:"status"`
	Active    bool       `json:"active"`
	ClosedAt  *time.Time `json:"closed_at,omitempty"`
	ClosedBy  string     `json:"closed_by,omitempty"`
	CloseNote string     `json:"close_note,omitempty"`
	// Members is how many members it touched; Links are their alerts
	// (provider views only).
	Members int    `json:"members"`
	Links   []Link `json:"alerts,omitempty"`
}

// Link is one member's alert in a campaign.
type Link struct {
	Tenant  tenant.ID `json:"tenant"`
	AlertID int64     `json:"alert"`
	Seen    time.Time `json:"seen"`
}

// ErrNotFound is a campaign that does not exist.
var ErrNotFound = errors.New("campaign not found")

// A campaign's statuses.
const (
	StatusOpen   = "open"
	StatusClosed = "closed"
)

// StatusChange closes a campaign (By, At, Note) or opens it again.
type StatusChange struct {
	Status string
	By     string
	Note   string
	At     time.Time
}

// Store keeps observables seen, campaigns and propagations
// (store/sqlstore).
type Store interface {
	// RecordObservables notes that tenant t's alert saw keys at seen.
	RecordObservables(ctx context.Context, t tenant.ID, alertID int64, seen time.Time, keys []string) error
	// SeenSince lists the alerts (per tenant) that saw key at or after
	// since, but for those in a closed campaign of key: closed, they are
	// dealt with, and do not raise it again.
	SeenSince(ctx context.Context, key string, since time.Time) ([]Link, error)
	// OpenCampaign returns the campaign holding any of keys whose last
	// alert is at or after since.
	OpenCampaign(ctx context.Context, keys []string, since time.Time) (Campaign, bool, error)
	CreateCampaign(ctx context.Context, c Campaign) (Campaign, error)
	// LinkCampaign adds alerts and keys to campaign id, moving its times.
	LinkCampaign(ctx context.Context, id int64, links []Link, keys []string) error
	// Campaigns lists those of status (every one when ""), newest first.
	Campaigns(ctx context.Context, status string, limit int) ([]Campaign, error)
	Campaign(ctx context.Context, id int64) (Campaign, error)
	SetCampaignStatus(ctx context.Context, id int64, ch StatusChange) error
	// OtherTenants counts, for each of tenant t's alerts ids, the tenants
	// other than t whose alerts saw any of the keys it saw (alerts that
	// share nothing absent).
	OtherTenants(ctx context.Context, t tenant.ID, ids []int64) (map[int64]int, error)
	RecordPropagation(ctx context.Context, indicator string, t tenant.ID, alertID int64, at time.Time) error
	// Unpropagate forgets the indicators tenant t's alert shared and says
	// how many alerts still share each.
	Unpropagate(ctx context.Context, t tenant.ID, alertID int64) (map[string]int, error)
}

// Intel takes shared indicators and reads the ones shared before
// (indicators.Service).
type Intel interface {
	Import(ctx context.Context, b intel.Batch) (intel.Summary, error)
	Get(ctx context.Context, id string, viewer tenant.ID, provider bool) (intel.Indicator, error)
	Revoke(ctx context.Context, id string, owner tenant.ID, provider bool) (intel.Indicator, error)
}

// Auditor appends to the audit trail (the state store).
type Auditor interface {
	Append(ctx context.Context, r audit.Record) error
}

// AutoShareActor is the audit trail's actor of the automatic policy's
// shares.
const AutoShareActor = "system:auto-share"

// Deps are the service's collaborators.
type Deps struct {
	Store Store
	Intel Intel
	// Audit records the automatic policy's shares (intel.share, in the
	// member's chain), as the API records an analyst's.
	Audit Auditor
	// Changed is told of a campaign created or grown (the live stream).
	Changed func(ctx context.Context, c Campaign)
	Now     func() time.Time
	Log     *slog.Logger
}

// Service is defend-as-one.
type Service struct {
	cfg    Config
	policy policy
	d      Deps

	mu sync.Mutex
	// observed is what Observe last recorded of each alert it was told
	// of, bounded by maxObserved.
	observed map[alertKey]observation
}

// An alert that grows with the same external observables (the same
// attack going on) is recorded again only once its last seen time has
// moved observeEvery past the last record: under load an alert may grow
// with every batch of events, and each record is a write and a
// campaign lookup. Campaign windows are hours, so a record up to
// observeEvery old changes nothing but the edge of one.
const (
	observeEvery = time.Minute
	maxObserved  = 100_000
)

type alertKey struct {
	t  tenant.ID
	id int64
}

type observation struct {
	seen time.Time
	keys string
}

// New returns the service.
func New(cfg Config, d Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Service{cfg: cfg, policy: newPolicy(cfg), d: d}, nil
}

// Config returns the policy.
func (s *Service) Config() Config { return s.cfg }

// keys are an alert's external observables as campaign keys ("type:value").
func (s *Service) keys(a alert.Alert) []string {
	var ks []string
	for _, o := range s.policy.External(a.Entities) {
		ks = append(ks, string(o.Type)+":"+o.Value)
	}
	return ks
}

// Observe records the external observables of new and grown alerts and
// raises or grows campaigns: one external observable in alerts at
// CampaignMembers members within CampaignWindow. Called with each batch of
// alert changes of one tenant as it is stored.
func (s *Service) Observe(ctx context.Context, t tenant.ID, cs []alert.Change) error {
	for _, c := range cs {
		if c.What != alert.ChangeCreated && c.What != alert.ChangeUpdated {
			continue
		}
		a := c.Alert
		ks := s.keys(a)
		if len(ks) == 0 {
			continue
		}
		seen := a.LastSeen
		if seen.IsZero() {
			seen = s.d.Now()
		}
		k, o := alertKey{t, a.ID}, observation{seen: seen, keys: strings.Join(ks, "\x00")}
		if c.What == alert.ChangeUpdated && s.recent(k, o) {
			continue
		}
		if err := s.d.Store.RecordObservables(ctx, t, a.ID, seen, ks); err != nil {
			return fmt.Errorf("defend: record observables: %w", err)
		}
		if err := s.campaign(ctx, t, a, ks, seen); err != nil {
			return err
		}
		s.note(k, o)
		if c.What == alert.ChangeCreated && slices.Contains(s.cfg.AutoShare, a.RuleID) {
			if err := s.autoShare(ctx, t, a); err != nil {
				return err
			}
		}
	}
	return nil
}

// autoShare shares a new alert of a rule the provider trusts, audited in
// the member's chain as an analyst's share is. An indicator the provider
// has revoked stays revoked: the automatic policy does not overrule an
// analyst.
func (s *Service) autoShare(ctx context.Context, t tenant.ID, a alert.Alert) error {
	sh, err := s.confirm(ctx, t, a, true)
	if err != nil {
		return fmt.Errorf("defend: automatic share of alert %d: %w", a.ID, err)
	}
	if !s.cfg.Share {
		return nil
	}
	if s.d.Audit != nil {
		detail, err := ShareDetail(a.ID, sh)
		if err != nil {
			return err
		}
		if err := s.d.Audit.Append(ctx, audit.Record{Time: s.d.Now().UTC(), Actor: AutoShareActor, Action: "intel.share", Scope: string(t), Detail: detail}); err != nil {
			return fmt.Errorf("defend: audit the automatic share of alert %d: %w", a.ID, err)
		}
	}
	s.d.Log.Info("shared by the automatic policy", "tenant", t, "alert", a.ID, "rule_id", a.RuleID, "indicators", len(sh.Indicators), "kept_revoked", sh.KeptRevoked)
	return nil
}

// ShareDetail is the audit trail's detail of a share (intel.share): the
// alert, the indicators shared and how many entities were kept back, as
// JSON.
func ShareDetail(alertID int64, sh Shared) (string, error) {
	ids := make([]string, len(sh.Indicators))
	for i, ind := range sh.Indicators {
		ids[i] = ind.ID
	}
	b, err := json.Marshal(struct {
		Alert      int64    `json:"alert"`
		Indicators []string `json:"indicators"`
		Withheld   int      `json:"withheld"`
	}{alertID, ids, sh.Withheld})
	return string(b), err
}

// recent reports whether alert k was last recorded with the same
// observables less than observeEvery before o.
func (s *Service) recent(k alertKey, o observation) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	last, ok := s.observed[k]
	return ok && last.keys == o.keys && !o.seen.Before(last.seen) && o.seen.Sub(last.seen) < observeEvery
}

// note remembers that alert k was recorded as o.
func (s *Service) note(k alertKey, o observation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.observed == nil || len(s.observed) >= maxObserved {
		s.observed = map[alertKey]observation{}
	}
	s.observed[k] = o
}

func (s *Service) campaign(ctx context.Context, t tenant.ID, a alert.Alert, ks []string, seen time.Time) error {
	since := seen.Add(-s.cfg.CampaignWindow)
	if c, ok, err := s.d.Store.OpenCampaign(ctx, ks, since); err != nil {
		return err
	} else if ok {
		if err := s.d.Store.LinkCampaign(ctx, c.ID, []Link{{Tenant: t, AlertID: a.ID, Seen: seen}}, ks); err != nil {
			return err
		}
		s.changed(ctx, c.ID)
		return nil
	}
	for _, k := range ks {
		links, err := s.d.Store.SeenSince(ctx, k, since)
		if err != nil {
			return err
		}
		members := map[tenant.ID]bool{}
		for _, l := range links {
			members[l.Tenant] = true
		}
		if len(members) < s.cfg.CampaignMembers {
			continue
		}
		kind, value, _ := strings.Cut(k, ":")
		c, err := s.d.Store.CreateCampaign(ctx, Campaign{Kind: kind, Value: value, Title: fmt.Sprintf("%s %s at %d members", kind, value, len(members)),
			FirstSeen: earliest(links), LastSeen: seen, Created: s.d.Now().UTC(), Status: StatusOpen})
		if err != nil {
			return err
		}
		if err := s.d.Store.LinkCampaign(ctx, c.ID, links, ks); err != nil {
			return err
		}
		s.d.Log.Info("campaign raised", "campaign", c.ID, "key", k, "members", len(members))
		s.changed(ctx, c.ID)
		return nil
	}
	return nil
}

func (s *Service) changed(ctx context.Context, id int64) {
	if s.d.Changed == nil {
		return
	}
	if c, err := s.d.Store.Campaign(ctx, id); err == nil {
		s.d.Changed(ctx, c)
	}
}

func earliest(ls []Link) time.Time {
	var t time.Time
	for _, l := range ls {
		if t.IsZero() || l.Seen.Before(t) {
			t = l.Seen
		}
	}
	return t
}

// Campaigns lists the campaigns of status (open, closed; every one when
// ""), newest first (provider views).
func (s *Service) Campaigns(ctx context.Context, status string, limit int) ([]Campaign, error) {
	cs, err := s.d.Store.Campaigns(ctx, status, limit)
	for i := range cs {
		s.activity(&cs[i])
	}
	return cs, err
}

// Campaign returns one campaign with its members' alerts (provider views).
func (s *Service) Campaign(ctx context.Context, id int64) (Campaign, error) {
	c, err := s.d.Store.Campaign(ctx, id)
	s.activity(&c)
	return c, err
}

// activity sets whether c still takes alerts.
func (s *Service) activity(c *Campaign) {
	c.Active = c.Status == StatusOpen && !c.LastSeen.Before(s.d.Now().Add(-s.cfg.CampaignWindow))
}

// SetStatus closes campaign id, by whom and why, or opens it again
// (status open), and returns it with whether it changed: closing a closed
// campaign keeps its first closing.
func (s *Service) SetStatus(ctx context.Context, id int64, status, by, note string) (Campaign, bool, error) {
	if status != StatusOpen && status != StatusClosed {
		return Campaign{}, false, fmt.Errorf("defend: campaign status %q: want open or closed", status)
	}
	c, err := s.Campaign(ctx, id)
	if err != nil || c.Status == status {
		return c, false, err
	}
	if err := s.d.Store.SetCampaignStatus(ctx, id, StatusChange{Status: status, By: by, Note: note, At: s.d.Now().UTC()}); err != nil {
		return c, false, err
	}
	s.changed(ctx, id)
	c, err = s.Campaign(ctx, id)
	return c, err == nil, err
}

// AlsoSeen says, for each of tenant t's alerts ids, how many other members
// saw one of its external observables; an alert is absent when that is
// below the k-anonymity threshold.
func (s *Service) AlsoSeen(ctx context.Context, t tenant.ID, ids []int64) (map[int64]int, error) {
	ns, err := s.d.Store.OtherTenants(ctx, t, ids)
	if err != nil {
		return nil, err
	}
	for id, n := range ns {
		if n < s.cfg.KAnonymity {
			delete(ns, id)
		}
	}
	return ns, nil
}

// Withdraw takes back what tenant t's alert shared when it was confirmed,
// now that a provider analyst has reopened it: each indicator no other
// confirmed alert shares is revoked (every member's matcher drops it, and
// TAXII carries the revoked version); one another alert shares stays. It
// returns the indicators revoked.
func (s *Service) Withdraw(ctx context.Context, t tenant.ID, alertID int64) ([]string, error) {
	left, err := s.d.Store.Unpropagate(ctx, t, alertID)
	if err != nil {
		return nil, fmt.Errorf("defend: withdraw: %w", err)
	}
	var revoked []string
	for id, n := range left {
		if n > 0 {
			continue
		}
		if _, err := s.d.Intel.Revoke(ctx, id, "", true); err != nil && !errors.Is(err, intel.ErrNotFound) {
			return revoked, fmt.Errorf("defend: withdraw %s: %w", id, err)
		}
		revoked = append(revoked, id)
	}
	slices.Sort(revoked)
	return revoked, nil
}

// Shared is what a confirmation shared.
type Shared struct {
	Indicators []intel.Indicator `json:"indicators"`
	// Withheld counts the alert's observables the policy kept back
	// (internal names and addresses, host and user names).
	Withheld int `json:"withheld"`
	// KeptRevoked counts the observables the automatic policy did not
	// share again because the provider had revoked their indicator.
	KeptRevoked int `json:"-"`
}

// Confirm shares the external observables of tenant t's alert a,
// confirmed a true positive by a provider analyst: each becomes an
// indicator of the provider for every member, marked by the policy's TLP,
// expiring with it, its origin kept in private provenance. The matcher
// takes them at once and a retro-hunt runs over every member's history.
// A value shared before is a new version of its indicator (created when
// it was first shared), valid again from now.
func (s *Service) Confirm(ctx context.Context, t tenant.ID, a alert.Alert) (Shared, error) {
	return s.confirm(ctx, t, a, false)
}

func (s *Service) confirm(ctx context.Context, t tenant.ID, a alert.Alert, auto bool) (Shared, error) {
	var out Shared
	if !s.cfg.Share {
		return out, nil
	}
	obs := s.policy.External(a.Entities)
	out.Withheld = len(a.Entities) - len(obs)
	now := s.d.Now().UTC().Truncate(time.Millisecond)
	for _, o := range obs {
		i := intel.Indicator{
			ID:          sharedID(o),
			Name:        sharedName(a),
			Observables: []intel.Observable{o},
			TLP:         intel.TLP(s.cfg.TLP),
			Confidence:  85,
			ValidFrom:   now,
			ValidUntil:  now.Add(s.cfg.Expires),
			Source:      "tarian:confirmed",
			Tags:        []string{"shared", "confirmed"},
			Attack:      attack(a.Tags),
			Created:     now,
			Modified:    now,
		}
		old, err := s.d.Intel.Get(ctx, i.ID, "", true)
		switch {
		case errors.Is(err, intel.ErrNotFound):
		case err != nil:
			return out, fmt.Errorf("defend: share: %w", err)
		case auto && old.Revoked:
			out.KeptRevoked++
			continue
		default:
			// STIX: every version of an object keeps its created time,
			// and a version is newer than the one held.
			if !old.Created.IsZero() && old.Created.Before(i.Created) {
				i.Created = old.Created
			}
			if !i.Modified.After(old.Modified) {
				i.Modified = old.Modified.Add(time.Millisecond)
			}
		}
		out.Indicators = append(out.Indicators, i)
	}
	if len(out.Indicators) == 0 {
		return out, nil
	}
	if _, err := s.d.Intel.Import(ctx, intel.Batch{Indicators: out.Indicators}); err != nil {
		return out, fmt.Errorf("defend: share: %w", err)
	}
	for _, i := range out.Indicators {
		if err := s.d.Store.RecordPropagation(ctx, i.ID, t, a.ID, now); err != nil {
			return out, err
		}
	}
	return out, nil
}

// sharedName names a shared indicator by what confirmed it, never in the
// member's own words or data: a detection rule's title (the provider's
// rules), else the kind of alert. An intelligence match's title holds the
// value matched and the member's own name for its indicator; a health
// alert's, its source.
func sharedName(a alert.Alert) string {
	switch a.Producer {
	case alert.ProducerSigma, alert.ProducerCorrelation:
		return "Confirmed at a member: " + a.Title
	case alert.ProducerIntel, alert.ProducerRetroHunt:
		return "Confirmed at a member: a threat intelligence match"
	}
	return "Confirmed at a member: a " + string(a.Producer) + " alert"
}

// sharedID is the indicator id of a shared observable: the same value
// confirmed again (at any member) is a new version of one indicator.
func sharedID(o intel.Observable) string {
	return stix.DeterministicID("indicator", "tarian/shared/"+string(o.Type)+"/"+o.Value)
}

// attack keeps a rule's ATT&CK technique ids ("attack.t1566.001" →
// "T1566.001").
func attack(tags []string) []string {
	var out []string
	for _, t := range tags {
		if id, ok := strings.CutPrefix(strings.ToLower(t), "attack.t"); ok && len(id) >= 4 {
			out = append(out, "T"+strings.ToUpper(id))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
