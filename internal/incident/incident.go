// Package incident is case management ("case" is a Go keyword): the case
// model with its timeline, observables, tasks and evidence files, the state
// machine of a case, escalation to the member body, who may read and change
// a case (VisibleTo, Allows), the contract of the store that keeps cases
// (Store, tenant.ID on every method) and the Service that applies changes,
// writes evidence files and publishes every change (OnChange).
//
// A case is open, in-progress or closed. Escalation is a flag, not a
// status: an escalated case (Escalated set) is shared with the member's own
// users and stays worked by the provider until it is closed. Before
// escalation a case is the provider's alone: a member's users get "not
// found" for it, exactly as for a case that does not exist, and another
// member never learns that it exists.
package incident

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Case is one investigation of one tenant.
type Case struct {
	// ID is unique across tenants.
	ID          int64     `json:"id"`
	Tenant      tenant.ID `json:"tenant"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	// Severity is an alert level (alert.Levels).
	Severity string `json:"severity"`
	TLP      TLP    `json:"tlp"`
	Status   Status `json:"status"`
	Assignee string `json:"assignee"`
	// Author is who opened the case (a token or user ID).
	Author  string    `json:"author"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// Closed is when the case was last closed (zero while it is not);
	// Classification and Summary are what closing it said.
	Closed         time.Time        `json:"closed,omitzero"`
	Classification alert.Resolution `json:"classification,omitempty"`
	Summary        string           `json:"summary,omitempty"`
	// Escalated is when the case was shared with the member (zero: not
	// shared); AcknowledgedByMember is when a member's user acknowledged
	// it, and AcknowledgedBy who.
	Escalated            time.Time `json:"escalated,omitzero"`
	AcknowledgedByMember time.Time `json:"acknowledged_by_member,omitzero"`
	AcknowledgedBy       string    `json:"acknowledged_by,omitempty"`

	// The parts below are loaded by Store.Case (and Update); Store.Cases
	// leaves them empty.

	// Alerts are the IDs of the linked alerts, in the order linked.
	Alerts      []int64      `json:"alerts"`
	Observables []Observable `json:"observables"`
	Tasks       []Task       `json:"tasks"`
	Evidence    []Evidence   `json:"evidence"`
	// Timeline is ordered by Time, then ID (the order added).
	Timeline []Entry `json:"timeline"`
}

// Header returns c without its alerts, observables, tasks, evidence and
// timeline: what a case list shows.
func (c Case) Header() Case {
	c.Alerts, c.Observables, c.Tasks, c.Evidence, c.Timeline = nil, nil, nil, nil, nil
	return c
}

// Comments returns the comments of c's timeline, oldest first.
func (c Case) Comments() []Entry {
	var out []Entry
	for _, e := range c.Timeline {
		if e.Kind == KindComment {
			out = append(out, e)
		}
	}
	return out
}

// Status is where a case stands.
type Status string

// Statuses. Work starts when the case is assigned; closing needs a
// classification and a summary; a closed case may be reopened.
const (
	StatusOpen       Status = "open"
	StatusInProgress Status = "in-progress"
	StatusClosed     Status = "closed"
)

// Statuses lists every status, for messages.
const Statuses = "open, in-progress, closed"

// ValidStatus reports whether s is a status.
func ValidStatus(s Status) bool {
	return s == StatusOpen || s == StatusInProgress || s == StatusClosed
}

// TLP is a Traffic Light Protocol 2.0 label: how far what the case holds
// may be shared.
type TLP string

// The TLP 2.0 labels.
const (
	TLPClear       TLP = "CLEAR"
	TLPGreen       TLP = "GREEN"
	TLPAmber       TLP = "AMBER"
	TLPAmberStrict TLP = "AMBER+STRICT"
	TLPRed         TLP = "RED"
)

// DefaultTLP is the label of a case that names none.
const DefaultTLP = TLPAmber

// TLPs lists the labels, for messages.
const TLPs = "CLEAR, GREEN, AMBER, AMBER+STRICT, RED"

// ParseTLP reads a label in any case, with or without "TLP:" ("amber",
// "TLP:AMBER+STRICT"); "" is DefaultTLP.
func ParseTLP(s string) (TLP, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	u = strings.TrimPrefix(u, "TLP:")
	switch l := TLP(u); l {
	case "":
		return DefaultTLP, nil
	case TLPClear, TLPGreen, TLPAmber, TLPAmberStrict, TLPRed:
		return l, nil
	}
	return "", fmt.Errorf("%w: TLP %q: want one of %s", ErrInvalid, s, TLPs)
}

// Kind is what a timeline entry records.
type Kind string

// Kinds of timeline entries.
const (
	// KindAlert is a linked alert, at its first event's time; Data holds
	// "alert" (its ID), "rule_id", "level" and "count".
	KindAlert Kind = "alert"
	// KindEvent is an event an analyst put on the timeline, at its time;
	// Data may hold "event_ref" (the event's bus position seq:idx).
	KindEvent Kind = "event"
	// KindComment is a comment (a note) of the provider's or the member's.
	KindComment Kind = "comment"
	// KindState is a change of status, assignee, escalation or fields;
	// Data holds "verb" and what changed.
	KindState Kind = "state"
	// KindEvidence is an evidence file added; Data holds "sha256", "name"
	// and "size".
	KindEvidence Kind = "evidence"
	// KindTask is a task added or done; Data holds "task".
	KindTask Kind = "task"
	// KindObservable is an observable added by hand; Data holds "type" and
	// "value".
	KindObservable Kind = "observable"
)

// Entry is one line of a case's timeline.
type Entry struct {
	ID   int64     `json:"id"`
	Time time.Time `json:"time"`
	Kind Kind      `json:"kind"`
	// Author is who added it (a token or user ID; "" for Tarian itself)
	// and Role with which role, so a member sees whether the provider or
	// one of its own wrote it.
	Author string            `json:"author"`
	Role   string            `json:"role,omitempty"`
	Text   string            `json:"text"`
	Data   map[string]string `json:"data,omitempty"`
}

// Observable is a thing the case is about (an address, host, user, hash,
// domain ...): the entities of its linked alerts, and those added by hand.
type Observable struct {
	// Type is an alert entity type (host, user, source.ip, ...) or another
	// lower-case word (ip, email, file ...).
	Type  string `json:"type"`
	Value string `json:"value"`
	// Source is where it came from: "alert 12", or "manual".
	Source string    `json:"source"`
	Added  time.Time `json:"added"`
}

// Task is a step of the investigation.
type Task struct {
	ID      int64     `json:"id"`
	Title   string    `json:"title"`
	Done    bool      `json:"done"`
	Author  string    `json:"author"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// Evidence is a file kept with a case, under
// <data>/evidence/<tenant>/<case id>/<sha256>.
type Evidence struct {
	// SHA256 is the lower-case hex SHA-256 of the content: the file's name
	// on disk, and its identity within the case.
	SHA256 string    `json:"sha256"`
	Name   string    `json:"name"`
	Size   int64     `json:"size"`
	Author string    `json:"author"`
	Added  time.Time `json:"added"`
}

// Errors.
var (
	// ErrNotFound is a case that does not exist in the tenant asked, or
	// that the caller may not see: another tenant's case, and a case not
	// yet escalated asked by a member's user, are "not found" too.
	ErrNotFound = errors.New("not found")
	// ErrTransition is a change the case's state does not allow (closing
	// a closed case, acknowledging one not escalated ...).
	ErrTransition = errors.New("transition not allowed")
	// ErrInvalid is a bad argument (empty title, unknown severity ...).
	ErrInvalid = errors.New("invalid")
	// ErrTooLarge is an evidence file over the configured size limit.
	ErrTooLarge = errors.New("evidence too large")
)

// notFound is the one error of a case the caller may not see, whether it
// exists or not: the same words either way.
func notFound(id int64) error { return fmt.Errorf("%w: case %d", ErrNotFound, id) }

// Filter selects cases.
type Filter struct {
	// Status matches exactly when set.
	Status Status
	// Escalated keeps only escalated cases (what a member's users see).
	Escalated bool
	// Alert keeps only the cases that link this alert when set.
	Alert int64
	// Before pages: only cases with ID below it (0: from the newest).
	Before int64
	// Limit caps the answer (0: 1000).
	Limit int
}

// Additions are what one Update adds to a case besides its header.
type Additions struct {
	// Entries go on the timeline; the store assigns their IDs.
	Entries []Entry
	// Alerts are linked; already linked ones are skipped.
	Alerts []int64
	// Observables are added; one with the (Type, Value) of one the case
	// has is skipped.
	Observables []Observable
	// Tasks with ID 0 are added; others set that task's Title, Done and
	// Updated.
	Tasks []Task
	// Evidence is added; a file with the SHA256 of one the case has is
	// skipped.
	Evidence []Evidence
}

// Store keeps cases per tenant. Every method takes the tenant: another
// tenant's case is ErrNotFound. Case IDs are unique across tenants.
type Store interface {
	// CreateCase stores a new case with its alerts, observables, tasks,
	// evidence and timeline (their IDs are assigned) and returns it as
	// stored.
	CreateCase(ctx context.Context, t tenant.ID, c Case) (Case, error)
	// Case returns one case, whole, its timeline ordered by time then ID.
	Case(ctx context.Context, t tenant.ID, id int64) (Case, error)
	// Cases lists tenant t's cases, newest (highest ID) first, headers
	// only.
	Cases(ctx context.Context, t tenant.ID, f Filter) ([]Case, error)
	// CaseTenant returns the tenant of case id, for provider roles only
	// (whose scope is every tenant): a tenant's own requests never use it.
	CaseTenant(ctx context.Context, id int64) (tenant.ID, error)
	// UpdateCase changes one case atomically: fn sees it whole and may
	// change its header (Title, Description, Severity, TLP, Status,
	// Assignee, Updated, Closed, Classification, Summary, Escalated,
	// AcknowledgedByMember, AcknowledgedBy; other fields and the slices
	// are not stored from fn's changes) and returns what to add. When fn
	// fails nothing changes and UpdateCase returns fn's error unchanged.
	// UpdateCase returns the case before and after, whole.
	UpdateCase(ctx context.Context, t tenant.ID, id int64, fn func(c *Case) (Additions, error)) (before, after Case, err error)
}

// Change is one case's change, as the stream sees it.
type Change struct {
	// What is created, or the verb of the change (comment, task,
	// observable, evidence, alerts, event, update, assign, escalate,
	// acknowledge, close, reopen).
	What string
	// Actor is who made the change (a token or user ID).
	Actor string
	// Case is the case after the change; its Timeline holds only the
	// entries the change added (all of them for created).
	Case Case
}

// Limits of what a case holds, in bytes.
const (
	maxTitle = 500
	maxText  = 64 << 10
	maxValue = 4 << 10
	maxName  = 255
)

func validText(what, s string, max int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case required && s == "":
		return "", fmt.Errorf("%w: %s is required", ErrInvalid, what)
	case len(s) > max:
		return "", fmt.Errorf("%w: %s is over %d bytes", ErrInvalid, what, max)
	case !utf8.ValidString(s):
		return "", fmt.Errorf("%w: %s is not UTF-8", ErrInvalid, what)
	}
	return s, nil
}

func validSeverity(s string) (string, error) {
	if s == "" {
		return "medium", nil
	}
	if !alert.ValidLevel(s) {
		return "", fmt.Errorf("%w: severity %q: want one of %s", ErrInvalid, s, alert.Levels)
	}
	return s, nil
}

// ValidObservableType reports whether s may be an observable's type: 1-64
// lower-case letters, digits, '.', '-' and '_', starting with a letter.
func ValidObservableType(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// cleanObservable checks an observable added by hand.
func cleanObservable(o Observable) (Observable, error) {
	o.Type = strings.ToLower(strings.TrimSpace(o.Type))
	if !ValidObservableType(o.Type) {
		return o, fmt.Errorf("%w: observable type %q: want a lower-case word such as %s, %s, %s, %s or %s",
			ErrInvalid, o.Type, alert.EntityHost, alert.EntityUser, alert.EntitySourceIP, alert.EntityDomain, alert.EntityHash)
	}
	v, err := validText("observable value", o.Value, maxValue, true)
	if err != nil {
		return o, err
	}
	o.Value = v
	return o, nil
}

// cleanName makes an evidence file's name fit to show: its last path
// element, without control characters, at most maxName bytes. It is never
// used to build a path.
func cleanName(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	for len(s) > maxName {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	if s == "" || s == "." || s == ".." {
		return "evidence"
	}
	return s
}
