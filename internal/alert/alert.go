// Package alert is the analyst's queue: the alert model, its triage states,
// and the contract of the store that keeps it. Producers (Sigma rules,
// correlations, intel matches, retro-hunts, campaigns, source health and
// scheduled searches) hand in Detections; the Pipeline suppresses, deduplicates,
// scores and groups them into Alerts.
package alert

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Producer names what raised an alert.
type Producer string

// Producers.
const (
	ProducerSigma       Producer = "sigma"
	ProducerCorrelation Producer = "correlation"
	ProducerIntel       Producer = "intel"
	ProducerRetroHunt   Producer = "retrohunt"
	ProducerCampaign    Producer = "campaign"
	ProducerHealth      Producer = "health"
	ProducerSearch      Producer = "search"
)

// Producers lists every producer, for messages.
const Producers = "sigma, correlation, intel, retrohunt, campaign, health, search"

// ValidProducer reports whether p is a producer.
func ValidProducer(p Producer) bool {
	switch p {
	case ProducerSigma, ProducerCorrelation, ProducerIntel, ProducerRetroHunt, ProducerCampaign, ProducerHealth, ProducerSearch:
		return true
	}
	return false
}

// Entity kinds: what an alert is about, taken from the event's ECS layer.
const (
	EntityHost          = "host"
	EntityUser          = "user"
	EntitySourceIP      = "source.ip"
	EntityDestinationIP = "destination.ip"
	EntityDomain        = "domain"
	EntityURL           = "url"
	EntityHash          = "hash"
	EntityEmailSender   = "email.sender"
)

// Entity is one thing an alert is about.
type Entity struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// MaxEvidence is how many event references an alert keeps (its Count
// counts them all).
const MaxEvidence = 100

// Detection is one producer's finding on one event (for a correlation, on
// a group of events): what the Pipeline turns into an alert or adds to one.
type Detection struct {
	Producer Producer
	RuleID   string
	Title    string
	Author   string
	Level    string
	// References are the rule's links (reports, write-ups).
	References []string
	// Tags are the rule's tags, ATT&CK ones as attack.tNNNN.
	Tags     []string
	Entities []Entity
	// Fields are the event's values of the fields the rule tests (for a
	// correlation, its group-by values).
	Fields []event.Field
	// EventRef names the event: its bus position "<seq>:<idx>".
	EventRef string
	// Related names the other events a correlation's detection stands for
	// (its member rules' matches in the window): they join EventRef in the
	// alert's evidence, so the analyst sees them all.
	Related []string
	// EventHash identifies the event's content (event.hash): one event
	// counts once in an alert, however often it is replayed.
	EventHash string
	EventTime time.Time
	// Received is when Tarian received the event (MTTD's ingest lag).
	Received time.Time
}

// Alert is one line of the queue: the detections of one rule with one key
// (by default the same host and user) within one window.
type Alert struct {
	ID         int64
	Tenant     tenant.ID
	Producer   Producer
	RuleID     string
	Title      string
	Author     string
	Level      string
	References []string
	Tags       []string
	Entities   []Entity
	// Fields are the first detection's Fields.
	Fields []event.Field
	// Key is the deduplication key: the values of the key fields.
	Key string
	// Count is how many distinct events the alert stands for.
	Count int64
	// Evidence holds the references of the first MaxEvidence events.
	Evidence []string
	// EventTime is the first event's time; FirstSeen and LastSeen are the
	// earliest and latest event times.
	EventTime, FirstSeen, LastSeen time.Time
	// Received is when the first event was received.
	Received time.Time
	// Created is when the alert was raised; Updated when it last changed.
	Created, Updated time.Time
	// Risk is 0..100: rule level, asset criticality and count.
	Risk int
	// Incident groups the alerts of one intrusion (shared entity, window).
	Incident   int64
	Status     Status
	Resolution Resolution
	Assignee   string
	// Note is the analyst's note given with the last resolution.
	Note string
	// Acknowledged, Resolved and Escalated are when the alert first left
	// new, was last resolved, and was escalated (zero: not yet).
	Acknowledged, Resolved, Escalated time.Time
	// History is every analyst's change, oldest first (the newest
	// MaxHistory; the audit trail keeps them all).
	History []Step
}

// Step is one analyst's change of an alert: who, when, the verb and the
// triage fields it left.
type Step struct {
	Time time.Time `json:"time"`
	// Actor is the token that made the change (a person's session token
	// acts for a user).
	Actor      string     `json:"actor"`
	Verb       string     `json:"verb"`
	Status     Status     `json:"status"`
	Resolution Resolution `json:"resolution"`
	Assignee   string     `json:"assignee"`
	// Note is the note the change was made with (a resolution's).
	Note string `json:"note"`
}

// MaxHistory is how many of its changes an alert keeps: the newest.
const MaxHistory = 100

// Host and User return the alert's host and user entities ("" if none).
func (a Alert) Host() string { return a.Entity(EntityHost) }

// User returns the alert's user entity ("" if none).
func (a Alert) User() string { return a.Entity(EntityUser) }

// Entity returns the value of the alert's first entity of type typ.
func (a Alert) Entity(typ string) string {
	for _, e := range a.Entities {
		if e.Type == typ {
			return e.Value
		}
	}
	return ""
}

// Levels lists the alert levels, lowest first, as messages name them.
const Levels = "informational, low, medium, high, critical"

// ValidLevel reports whether l is one of Levels.
func ValidLevel(l string) bool {
	switch l {
	case "informational", "low", "medium", "high", "critical":
		return true
	}
	return false
}

// Errors.
var (
	// ErrNotFound is an alert (or suppression, incident) that does not
	// exist in the tenant asked: another tenant's is "not found" too.
	ErrNotFound = errors.New("not found")
	// ErrTransition is a state change the alert's status does not allow.
	ErrTransition = errors.New("transition not allowed")
	// ErrInvalid is a bad argument (unknown resolution, empty reason, ...).
	ErrInvalid = errors.New("invalid")
)

// Filter selects alerts.
type Filter struct {
	// Status, Level, RuleID, Assignee and Producer match exactly when set.
	Status   Status
	Level    string
	RuleID   string
	Assignee string
	Producer Producer
	// Incident matches alerts of one incident when set.
	Incident int64
	// CreatedFrom and CreatedTo bound Created when set: [from, to).
	CreatedFrom, CreatedTo time.Time
	// ByRisk orders the alerts riskiest first (then newest first) instead
	// of newest first.
	ByRisk bool
	// BySLA orders them by their service-level deadline (Due), soonest
	// first, then newest first; SLA gives each tenant's service levels
	// (Config.SLAFor). It is ByRisk's alternative.
	BySLA bool
	SLA   func(t tenant.ID, level string) SLA
	// Before pages: only alerts after the cursor in the order, that is
	// with ID below it, or by risk, with risk below BeforeRisk or equal
	// and ID below Before, or by deadline, with Due above BeforeDue or
	// equal and ID below Before (Before 0: from the first).
	Before     int64
	BeforeRisk int
	BeforeDue  int64
	Limit      int
}

// NoDue is the deadline (Filter.Due) of an alert that has none.
const NoDue = math.MaxInt64

// Due is a's service-level deadline (UnixNano) as BySLA orders it: to
// acknowledge while it is new, else to resolve; NoDue once it is resolved
// or escalated, or when its level has no such time.
func (f Filter) Due(a Alert) int64 {
	if a.Status == StatusResolved || a.Status == StatusEscalated || f.SLA == nil {
		return NoDue
	}
	s := f.SLA(a.Tenant, a.Level)
	d := s.Resolve
	if a.Status == StatusNew {
		d = s.Acknowledge
	}
	if d <= 0 {
		return NoDue
	}
	return a.Created.Add(d).UnixNano()
}

// After reports whether a comes after b in f's order: older, or by risk
// less risky (then older), or by deadline later (then older).
func (f Filter) After(a, b Alert) bool {
	if f.BySLA {
		if da, db := f.Due(a), f.Due(b); da != db {
			return da > db
		}
	} else if f.ByRisk && a.Risk != b.Risk {
		return a.Risk < b.Risk
	}
	return a.ID < b.ID
}

// From returns f with its cursor at a: the next page starts after a.
func (f Filter) From(a Alert) Filter {
	f.Before, f.BeforeRisk, f.BeforeDue = a.ID, a.Risk, f.Due(a)
	return f
}

// Pending is a detection ready to be stored: suppressions applied, its
// deduplication key and window chosen, its assets' criticality known.
type Pending struct {
	Detection
	// Key is the deduplication key; Window how long after an alert's first
	// event a detection with the same rule and key joins it.
	Key    string
	Window time.Duration
	// Criticality is the highest criticality of the detection's assets.
	Criticality Criticality
	// GroupWindow is how close in time alerts sharing an entity of the
	// GroupBy types must be to fall into one incident.
	GroupBy     []string
	GroupWindow time.Duration
}

// Store keeps alerts per tenant. Every method takes the tenant: another
// tenant's alert is ErrNotFound.
type Store interface {
	// Raise merges pending detections into tenant t's alerts, in one
	// transaction: a detection joins the open (not resolved or escalated)
	// alert with its rule and key whose first event is less than its
	// Window before the detection's event (or after it: events may come
	// out of order), the newest if several, else opens a new alert, which
	// joins an incident with a shared GroupBy entity seen within
	// GroupWindow or opens one. An event (EventHash, and EventTime unless
	// it is the Received time: a record without a time of its own is the
	// same event whenever it comes) counts once per rule, however often it
	// is replayed. Raise returns the alerts it created (What: created) or
	// added events to (What: updated), as stored.
	Raise(ctx context.Context, t tenant.ID, ps []Pending, now time.Time) ([]Change, error)
	// Alerts lists tenant t's alerts, newest first.
	Alerts(ctx context.Context, t tenant.ID, f Filter) ([]Alert, error)
	// Alert returns one alert.
	Alert(ctx context.Context, t tenant.ID, id int64) (Alert, error)
	// AlertTimes hands fn tenant t's alerts created in [from, to) (zero:
	// unbounded), oldest first, with only what the SOC's measures read
	// filled: ID, Tenant, RuleID, Title, Level, Tags, Count, Status,
	// Resolution and the times (not entities, evidence or fields). An
	// error from fn stops the scan and is returned.
	AlertTimes(ctx context.Context, t tenant.ID, from, to time.Time, fn func(Alert) error) error
	// AlertTenant returns the tenant of alert id, for provider roles only
	// (whose scope is every tenant): a tenant's own requests never use it.
	AlertTenant(ctx context.Context, id int64) (tenant.ID, error)
	// Update changes one alert's triage fields (Status, Resolution,
	// Assignee, Note, Acknowledged, Resolved, Escalated, Updated,
	// History) with fn, atomically, and returns it before and after.
	Update(ctx context.Context, t tenant.ID, id int64, fn func(*Alert) error) (before, after Alert, err error)
	// Forget forgets, in every tenant, which events were counted by a
	// Raise before before, and the entities last seen by an incident
	// before it; it returns how many of each it forgot. The alerts stay.
	Forget(ctx context.Context, before time.Time) (events, entities int64, err error)
}

// Change is one alert's change, as the stream and notifications see it.
type Change struct {
	// What is created (a new alert), updated (more events joined it) or
	// the analyst's verb (ack, assign, resolve, escalate, reopen).
	What string
	// Actor is who made an analyst's change ("" for the pipeline).
	Actor string
	Alert Alert
}

// What a Change is, besides the verbs.
const (
	ChangeCreated = "created"
	ChangeUpdated = "updated"
)

// Status is an alert's triage state.
type Status string

// Statuses of an alert.
const (
	StatusNew          Status = "new"
	StatusAcknowledged Status = "acknowledged"
	StatusInProgress   Status = "in-progress"
	StatusResolved     Status = "resolved"
	StatusEscalated    Status = "escalated"
)

// Statuses lists every status, for messages.
const Statuses = "new, acknowledged, in-progress, resolved, escalated"

// ValidStatus reports whether s is a status.
func ValidStatus(s Status) bool {
	switch s {
	case StatusNew, StatusAcknowledged, StatusInProgress, StatusResolved, StatusEscalated:
		return true
	}
	return false
}

// Open reports whether new detections may still join an alert in status s.
func (s Status) Open() bool { return s != StatusResolved && s != StatusEscalated }

// Resolution classifies a resolved alert (or closed case).
type Resolution string

// Resolutions.
const (
	TruePositive   Resolution = "true-positive"
	BenignPositive Resolution = "benign-positive"
	FalsePositive  Resolution = "false-positive"
	Duplicate      Resolution = "duplicate"
)

// Resolutions lists every resolution, for messages.
const Resolutions = "true-positive, benign-positive, false-positive, duplicate"

// ValidResolution reports whether r is a resolution.
func ValidResolution(r Resolution) bool {
	switch r {
	case TruePositive, BenignPositive, FalsePositive, Duplicate:
		return true
	}
	return false
}

// Action is an analyst's change to an alert.
type Action struct {
	// Verb is ack, assign, resolve, escalate, reopen or comment.
	Verb string
	// Assignee is for assign; Resolution and Note for resolve; Note for
	// comment.
	Assignee   string
	Resolution Resolution
	Note       string
}

// MaxComment is the longest comment, in bytes.
const MaxComment = 10_000

// Verbs.
const (
	VerbAck      = "ack"
	VerbAssign   = "assign"
	VerbResolve  = "resolve"
	VerbEscalate = "escalate"
	VerbReopen   = "reopen"
	// VerbComment adds a note to the alert's history, in any state,
	// changing nothing else (a hand-over between shifts, a member's
	// answer).
	VerbComment = "comment"
)

// from lists the statuses each verb may leave.
var from = map[string][]Status{
	VerbAck:      {StatusNew},
	VerbAssign:   {StatusNew, StatusAcknowledged, StatusInProgress},
	VerbResolve:  {StatusNew, StatusAcknowledged, StatusInProgress, StatusEscalated},
	VerbEscalate: {StatusNew, StatusAcknowledged, StatusInProgress},
	VerbReopen:   {StatusResolved, StatusEscalated},
	VerbComment:  {StatusNew, StatusAcknowledged, StatusInProgress, StatusResolved, StatusEscalated},
}

// Apply makes act's change to a at time now, or returns an error wrapping
// ErrTransition (the status does not allow it) or ErrInvalid (a bad
// argument). Assigning starts work (in-progress); reopening puts the alert
// back in progress with its resolution cleared.
func Apply(a *Alert, act Action, now time.Time) error {
	allowed, ok := from[act.Verb]
	if !ok {
		return fmt.Errorf("%w: action %q: want ack, assign, resolve, escalate, reopen or comment", ErrInvalid, act.Verb)
	}
	legal := false
	for _, s := range allowed {
		legal = legal || a.Status == s
	}
	if !legal {
		return fmt.Errorf("%w: alert %d is %s; %s needs %s", ErrTransition, a.ID, a.Status, act.Verb, statusList(allowed))
	}
	switch act.Verb {
	case VerbAck:
		a.Status = StatusAcknowledged
	case VerbAssign:
		if act.Assignee == "" {
			return fmt.Errorf("%w: assign needs an assignee", ErrInvalid)
		}
		a.Assignee, a.Status = act.Assignee, StatusInProgress
	case VerbResolve:
		if !ValidResolution(act.Resolution) {
			return fmt.Errorf("%w: resolution %q: want one of %s", ErrInvalid, act.Resolution, Resolutions)
		}
		a.Status, a.Resolution, a.Note, a.Resolved = StatusResolved, act.Resolution, act.Note, now
	case VerbEscalate:
		a.Status, a.Escalated = StatusEscalated, now
	case VerbReopen:
		a.Status, a.Resolution, a.Resolved, a.Note = StatusInProgress, "", time.Time{}, ""
	case VerbComment:
		// Only the history changes: a comment is no acknowledgement.
		switch n := len(strings.TrimSpace(act.Note)); {
		case n == 0:
			return fmt.Errorf("%w: a comment needs a note", ErrInvalid)
		case len(act.Note) > MaxComment:
			return fmt.Errorf("%w: a comment of %d bytes: at most %d", ErrInvalid, len(act.Note), MaxComment)
		}
		a.Updated = now
		return nil
	}
	if a.Acknowledged.IsZero() {
		a.Acknowledged = now
	}
	a.Updated = now
	return nil
}

// record appends act's step, made by actor at now, to a's history,
// keeping the newest MaxHistory.
func record(a *Alert, act Action, actor string, now time.Time) {
	st := Step{Time: now, Actor: actor, Verb: act.Verb, Status: a.Status, Resolution: a.Resolution, Assignee: a.Assignee}
	if act.Verb == VerbResolve || act.Verb == VerbComment {
		st.Note = act.Note
	}
	a.History = append(a.History, st)
	if n := len(a.History) - MaxHistory; n > 0 {
		a.History = slices.Delete(a.History, 0, n)
	}
}

func statusList(ss []Status) string {
	out := ""
	for i, s := range ss {
		switch {
		case i == 0:
		case i == len(ss)-1:
			out += " or "
		default:
			out += ", "
		}
		out += string(s)
	}
	return out
}
