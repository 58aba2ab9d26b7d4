// Package report is the member report: one member body's month (UTC) on
// one page a councillor can read — alerts by severity and outcome, the
// top rules and ATT&CK techniques, the cases shared with the member, MTTD,
// MTTA and MTTR against the service level, the health of its log sources,
// the advisories addressed to it and the campaigns its alerts were part
// of — rendered as self-contained HTML (inline CSS, inline SVG charts) or
// as PDF (a pure-Go renderer with the Go fonts embedded), in English or
// Welsh (Catalogue).
//
// Gather reads the stores through the small interfaces below. A report is
// the member's: it holds only what the member's own users may see, the
// same whoever asks for it (a provider's copy is the member's copy):
// escalated cases only, advisories addressed to the member, and of a
// campaign the member's own alerts and, at or above the k-anonymity
// threshold only, how many other members it touched, never which.
//
// Scheduler builds every member's report of the month before on a day of
// each month and mails it (PDF attached) over SMTP, remembering what it
// sent (Sent) so a restart does not send it twice.
package report

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/advisory"
	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/defend"
	"github.com/tarian-soc/tarian/internal/incident"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Report is one member's month.
type Report struct {
	Tenant     tenant.ID `json:"tenant"`
	TenantName string    `json:"tenant_name"`
	// Month is the first instant of the month (UTC); From and To bound
	// it: [From, To).
	Month     time.Time `json:"month"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Generated time.Time `json:"generated"`

	// Alerts are those created in the month; Events how many events they
	// stand for.
	Alerts int64 `json:"alerts"`
	Events int64 `json:"events"`
	// BySeverity holds every level, critical first (zeros too).
	BySeverity []Count `json:"by_severity"`
	// ByOutcome is how the month's alerts stand now: each resolution of
	// the resolved ones, then escalated, then still open.
	ByOutcome []Count `json:"by_outcome"`
	// Rules are the rules that raised the most alerts (TopN at most).
	Rules []RuleCount `json:"rules"`
	// Techniques are the ATT&CK techniques the alerts' rules name, most
	// alerts first (TopN at most).
	Techniques []Count `json:"techniques"`

	// MTTD is Created − the first event's time; MTTA Acknowledged −
	// Created; MTTR Resolved − Created.
	MTTD Mean `json:"mttd"`
	MTTA Mean `json:"mtta"`
	MTTR Mean `json:"mttr"`
	// SLA is each level's service level and how the month's alerts of
	// that level kept it, as of Generated; SLABreaches adds them up.
	SLA         []SLALine         `json:"sla"`
	SLABreaches alert.SLABreaches `json:"sla_breaches"`
	// LateAlerts counts the month's alerts late on either count (an alert
	// acknowledged late and resolved late is one alert, two breaches).
	LateAlerts int64 `json:"late_alerts"`

	Cases      Cases          `json:"cases"`
	Sources    []SourceHealth `json:"sources"`
	Advisories []Advisory     `json:"advisories"`
	Campaigns  []Campaign     `json:"campaigns"`
	// KAnonymity is the fewest other members a campaign is said to have
	// touched (defend's k).
	KAnonymity int `json:"k_anonymity"`
}

// TopN is how many rules and techniques a report lists.
const TopN = 10

// Count is one row of a breakdown: Key is a level, outcome or technique.
type Count struct {
	Key string `json:"key"`
	N   int64  `json:"n"`
}

// RuleCount is one rule's alerts in the month.
type RuleCount struct {
	RuleID         string `json:"rule_id"`
	Title          string `json:"title"`
	Alerts         int64  `json:"alerts"`
	FalsePositives int64  `json:"false_positives"`
}

// Mean is an average duration over Count alerts.
type Mean struct {
	Count int64         `json:"count"`
	Value time.Duration `json:"mean"`
}

// SLALine is one level's service level and the month's alerts against it.
type SLALine struct {
	Level  string `json:"level"`
	Alerts int64  `json:"alerts"`
	// Acknowledge and Resolve are the targets (0: none).
	Acknowledge time.Duration `json:"acknowledge"`
	Resolve     time.Duration `json:"resolve"`
	// MTTA and MTTR are this level's means.
	MTTA Mean `json:"mtta"`
	MTTR Mean `json:"mttr"`
	// AcknowledgeBreached and ResolveBreached count the alerts late.
	AcknowledgeBreached int64 `json:"acknowledge_breached"`
	ResolveBreached     int64 `json:"resolve_breached"`
}

// Cases are the cases shared with the member (escalated) that were open
// at some time in the month.
type Cases struct {
	// Opened were created in the month, Closed closed in it, Open still
	// open at its end.
	Opened int    `json:"opened"`
	Closed int    `json:"closed"`
	Open   int    `json:"open"`
	List   []Case `json:"list"`
}

// Case is one case as the report lists it.
type Case struct {
	ID             int64            `json:"id"`
	Title          string           `json:"title"`
	Severity       string           `json:"severity"`
	Status         incident.Status  `json:"status"`
	Created        time.Time        `json:"created"`
	Closed         time.Time        `json:"closed,omitzero"`
	Classification alert.Resolution `json:"classification,omitempty"`
}

// Source states. For a month that has ended, a source is SourceOK when
// it sent events in it and SourceSilent when it did not; SourceDropped
// (a sharp drop against its baseline) is known for the current month only.
const (
	SourceOK      = "ok"
	SourceSilent  = "silent"
	SourceDropped = "dropped"
	// SourceWaiting is a declared source that had sent nothing by the
	// month's end.
	SourceWaiting = "waiting"
)

// SourceHealth is one log source of the member as the report shows it
// (SourceLister fills it).
type SourceHealth struct {
	Name     string    `json:"name"`
	Receiver string    `json:"receiver"`
	Host     string    `json:"host"`
	Type     string    `json:"type"`
	State    string    `json:"state"` // SourceOK, SourceSilent, SourceDropped or SourceWaiting
	LastSeen time.Time `json:"last_seen,omitzero"`
	// Events is how many events it sent in the month.
	Events int64 `json:"events"`
}

// Advisory is an advisory addressed to the member, published in the
// month, in the report's language.
type Advisory struct {
	ID int64 `json:"id"`
	// TitleEN and TitleCY are its title in each language.
	TitleEN      string    `json:"title_en"`
	TitleCY      string    `json:"title_cy"`
	TLP          string    `json:"tlp"`
	Published    time.Time `json:"published"`
	Acknowledged time.Time `json:"acknowledged,omitzero"`
}

// Campaign is a campaign the member's alerts of the month were part of.
type Campaign struct {
	ID int64 `json:"id"`
	// Kind and Value are the external observable (not the provider's
	// title, which counts every member).
	Kind  string `json:"kind"`
	Value string `json:"value"`
	// FirstSeen and LastSeen are when the member's own alerts in it were
	// seen in the month (never another member's times).
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Alerts are the member's own alerts in it, seen in the month.
	Alerts int `json:"alerts"`
	// OtherMembers is how many other members it touched, or 0 when that
	// is below the k-anonymity threshold (the "also seen" rule).
	OtherMembers int `json:"other_members"`
}

// Alerts reads a tenant's alerts for measures (alert.Pipeline).
type Alerts interface {
	AlertTimes(ctx context.Context, t tenant.ID, from, to time.Time, fn func(alert.Alert) error) error
	Config() alert.Config
}

// CaseStore lists a tenant's cases (incident.Store).
type CaseStore interface {
	Cases(ctx context.Context, t tenant.ID, f incident.Filter) ([]incident.Case, error)
}

// Advisories lists the advisories a member may read (advisory.Service).
type Advisories interface {
	List(ctx context.Context, viewer tenant.ID, provider bool) ([]advisory.Entry, error)
}

// Campaigns lists campaigns and their links (defend.Store, provider
// views: the report applies the member's rule).
type Campaigns interface {
	// Campaigns lists those of status (every one when ""), newest first.
	Campaigns(ctx context.Context, status string, limit int) ([]defend.Campaign, error)
	Campaign(ctx context.Context, id int64) (defend.Campaign, error)
}

// SourceLister lists a member's log sources with their health over
// [from, to).
type SourceLister interface {
	ReportSources(ctx context.Context, t tenant.ID, from, to time.Time) ([]SourceHealth, error)
}

// Tenants names a member (the tenant store).
type Tenants interface {
	Tenant(ctx context.Context, id tenant.ID) (tenant.Tenant, error)
}

// Deps are what Gather reads. Alerts and Tenants are required; a nil
// other part leaves its section empty.
type Deps struct {
	Tenants    Tenants
	Alerts     Alerts
	Cases      CaseStore
	Advisories Advisories
	Campaigns  Campaigns
	Sources    SourceLister
	// KAnonymity is the fewest other members a campaign may be said to
	// have touched (defend.Config.KAnonymity; 0: the default, 2).
	KAnonymity int
	Now        func() time.Time
}

// ErrInvalid is a bad month or language.
var ErrInvalid = errors.New("invalid report request")

// ParseMonth reads "YYYY-MM" as the first instant of that month, UTC.
func ParseMonth(s string) (time.Time, error) {
	m, err := time.Parse("2006-01", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: month %q: want YYYY-MM", ErrInvalid, s)
	}
	return m.UTC(), nil
}

// PreviousMonth is the first instant (UTC) of the month before now's.
func PreviousMonth(now time.Time) time.Time {
	now = now.UTC()
	return time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, time.UTC)
}

// levels are the alert levels, most severe first.
var levels = []string{"critical", "high", "medium", "low", "informational"}

// outcomes are the rows of ByOutcome.
var outcomes = []string{string(alert.TruePositive), string(alert.BenignPositive), string(alert.FalsePositive), string(alert.Duplicate), "escalated", "open"}

// Gather builds tenant t's report of the month that starts at month (any
// instant in it will do). A month not yet over is reported up to now.
func Gather(ctx context.Context, d Deps, t tenant.ID, month time.Time) (*Report, error) {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	gen := now().UTC()
	month = month.UTC()
	from := time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 1, 0)
	if !from.Before(gen) {
		return nil, fmt.Errorf("%w: %s has not begun", ErrInvalid, from.Format("2006-01"))
	}
	ten, err := d.Tenants.Tenant(ctx, t)
	if err != nil {
		return nil, err
	}
	r := &Report{Tenant: t, TenantName: ten.Name, Month: from, From: from, To: to, Generated: gen}
	if err := r.gatherAlerts(ctx, d, gen); err != nil {
		return nil, err
	}
	if d.Cases != nil {
		if r.Cases, err = gatherCases(ctx, d.Cases, t, from, to); err != nil {
			return nil, fmt.Errorf("cases of %s: %w", t, err)
		}
	}
	if d.Advisories != nil {
		if r.Advisories, err = gatherAdvisories(ctx, d.Advisories, t, from, to); err != nil {
			return nil, fmt.Errorf("advisories of %s: %w", t, err)
		}
	}
	r.KAnonymity = d.KAnonymity
	if r.KAnonymity <= 0 {
		r.KAnonymity = defend.DefaultConfig().KAnonymity
	}
	if d.Campaigns != nil {
		if r.Campaigns, err = gatherCampaigns(ctx, d.Campaigns, t, from, to, r.KAnonymity); err != nil {
			return nil, fmt.Errorf("campaigns of %s: %w", t, err)
		}
	}
	if d.Sources != nil {
		if r.Sources, err = d.Sources.ReportSources(ctx, t, from, to); err != nil {
			return nil, fmt.Errorf("log sources of %s: %w", t, err)
		}
		sort.SliceStable(r.Sources, func(i, j int) bool { return r.Sources[i].Name < r.Sources[j].Name })
	}
	return r, nil
}

func (r *Report) gatherAlerts(ctx context.Context, d Deps, now time.Time) error {
	cfg := d.Alerts.Config()
	total := alert.NewMeter(r.From, r.To, &cfg, now)
	per := map[string]*alert.Meter{}
	for _, l := range levels {
		per[l] = alert.NewMeter(r.From, r.To, &cfg, now)
	}
	err := d.Alerts.AlertTimes(ctx, r.Tenant, r.From, r.To, func(a alert.Alert) error {
		total.Add(a)
		if m := per[a.Level]; m != nil {
			m.Add(a)
		}
		if !a.Created.Before(r.From) && a.Created.Before(r.To) {
			if sla := cfg.SLAOf(a, now); sla.AcknowledgeBreached || sla.ResolveBreached {
				r.LateAlerts++
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("alerts of %s: %w", r.Tenant, err)
	}
	st := total.Stats()
	r.Alerts, r.Events = st.Alerts, st.Events
	for _, l := range levels {
		r.BySeverity = append(r.BySeverity, Count{l, st.ByLevel[l]})
	}
	open := st.ByStatus[alert.StatusNew] + st.ByStatus[alert.StatusAcknowledged] + st.ByStatus[alert.StatusInProgress]
	for _, o := range outcomes {
		n := st.ByResolution[alert.Resolution(o)]
		switch o {
		case "escalated":
			n = st.ByStatus[alert.StatusEscalated]
		case "open":
			n = open
		}
		r.ByOutcome = append(r.ByOutcome, Count{o, n})
	}
	rules := slices.Clone(st.Rules)
	sort.Slice(rules, func(i, j int) bool {
		if rules[i].Alerts != rules[j].Alerts {
			return rules[i].Alerts > rules[j].Alerts
		}
		return rules[i].RuleID < rules[j].RuleID
	})
	for _, rs := range rules[:min(len(rules), TopN)] {
		r.Rules = append(r.Rules, RuleCount{RuleID: rs.RuleID, Title: rs.Title, Alerts: rs.Alerts, FalsePositives: rs.FalsePositives})
	}
	for id, n := range st.Techniques {
		r.Techniques = append(r.Techniques, Count{id, n})
	}
	sort.Slice(r.Techniques, func(i, j int) bool {
		a, b := r.Techniques[i], r.Techniques[j]
		if a.N != b.N {
			return a.N > b.N
		}
		return a.Key < b.Key
	})
	r.Techniques = r.Techniques[:min(len(r.Techniques), TopN)]
	r.MTTD, r.MTTA, r.MTTR = mean(st.Detect), mean(st.Acknowledge), mean(st.Resolve)
	r.SLABreaches = st.SLA
	for _, l := range levels {
		ls := per[l].Stats()
		sla := cfg.SLAFor(r.Tenant, l)
		r.SLA = append(r.SLA, SLALine{
			Level: l, Alerts: ls.Alerts, Acknowledge: sla.Acknowledge, Resolve: sla.Resolve,
			MTTA: mean(ls.Acknowledge), MTTR: mean(ls.Resolve),
			AcknowledgeBreached: ls.SLA.Acknowledge, ResolveBreached: ls.SLA.Resolve,
		})
	}
	return nil
}

func mean(m alert.Mean) Mean { return Mean{Count: m.Count, Value: m.Value} }

// casePage is how many cases one read asks for.
const casePage = 500

// gatherCases lists the member's escalated cases that were open at some
// time in [from, to): created before to, and not closed before from.
func gatherCases(ctx context.Context, s CaseStore, t tenant.ID, from, to time.Time) (Cases, error) {
	var out Cases
	var before int64
	for {
		cs, err := s.Cases(ctx, t, incident.Filter{Escalated: true, Before: before, Limit: casePage})
		if err != nil {
			return out, err
		}
		for _, c := range cs {
			if c.Escalated.IsZero() || !c.Created.Before(to) {
				continue
			}
			closed := c.Status == incident.StatusClosed && !c.Closed.IsZero()
			if closed && c.Closed.Before(from) {
				continue
			}
			if !c.Created.Before(from) {
				out.Opened++
			}
			if closed && c.Closed.Before(to) {
				out.Closed++
			} else {
				out.Open++
			}
			lc := Case{ID: c.ID, Title: c.Title, Severity: c.Severity, Status: c.Status, Created: c.Created}
			if closed {
				lc.Closed, lc.Classification = c.Closed, c.Classification
			}
			out.List = append(out.List, lc)
		}
		if len(cs) < casePage {
			break
		}
		before = cs[len(cs)-1].ID
	}
	sort.Slice(out.List, func(i, j int) bool { return out.List[i].ID < out.List[j].ID })
	return out, nil
}

// gatherAdvisories lists the advisories addressed to t published in [from, to).
func gatherAdvisories(ctx context.Context, s Advisories, t tenant.ID, from, to time.Time) ([]Advisory, error) {
	es, err := s.List(ctx, t, false)
	if err != nil {
		return nil, err
	}
	var out []Advisory
	for _, e := range es {
		if !e.AddressedTo(t) || e.Published.Before(from) || !e.Published.Before(to) {
			continue
		}
		a := Advisory{ID: e.ID, TitleEN: e.TitleEN, TitleCY: e.TitleCY, TLP: e.TLP.Label(), Published: e.Published}
		if e.Acknowledged != nil {
			a.Acknowledged = e.Acknowledged.At
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Published.Before(out[j].Published) })
	return out, nil
}

// campaignScan bounds how many campaigns, newest first, are looked at.
const campaignScan = 10_000

// gatherCampaigns lists the campaigns with an alert of t seen in [from,
// to), each with the member's own alerts and, only at or above k, how many
// other members it touched.
func gatherCampaigns(ctx context.Context, s Campaigns, t tenant.ID, from, to time.Time, k int) ([]Campaign, error) {
	cs, err := s.Campaigns(ctx, "", campaignScan)
	if err != nil {
		return nil, err
	}
	var out []Campaign
	for _, c := range cs {
		if c.LastSeen.Before(from) || !c.FirstSeen.Before(to) {
			continue
		}
		full, err := s.Campaign(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		mc := Campaign{ID: c.ID, Kind: c.Kind, Value: c.Value}
		others := map[tenant.ID]bool{}
		for _, l := range full.Links {
			switch {
			case l.Tenant != t:
				others[l.Tenant] = true
			case !l.Seen.Before(from) && l.Seen.Before(to):
				mc.Alerts++
				if mc.FirstSeen.IsZero() || l.Seen.Before(mc.FirstSeen) {
					mc.FirstSeen = l.Seen
				}
				if l.Seen.After(mc.LastSeen) {
					mc.LastSeen = l.Seen
				}
			}
		}
		if mc.Alerts == 0 {
			continue
		}
		if len(others) >= k {
			mc.OtherMembers = len(others)
		}
		out = append(out, mc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Filename is the report's file name: "report-<tenant>-<YYYY-MM>-<lang>.<ext>".
func Filename(t tenant.ID, month time.Time, lang Lang, ext string) string {
	return "report-" + string(t) + "-" + month.UTC().Format("2006-01") + "-" + string(lang) + "." + strings.TrimPrefix(ext, ".")
}
