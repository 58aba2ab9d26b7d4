package incident

import (
	"fmt"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
)

// Verbs: what may be done to a case. Read, Comment and Acknowledge are
// what a member's users may do (Allows); the others are the provider's.
const (
	VerbRead        = "read"
	VerbComment     = "comment"
	VerbTask        = "task"
	VerbObservable  = "observable"
	VerbEvidence    = "evidence"
	VerbAlerts      = "alerts"
	VerbEvent       = "event"
	VerbUpdate      = "update"
	VerbAssign      = "assign"
	VerbEscalate    = "escalate"
	VerbAcknowledge = "acknowledge"
	VerbClose       = "close"
	VerbReopen      = "reopen"
)

// Action is a change of a case's state.
type Action struct {
	// Verb is assign, escalate, acknowledge, close or reopen.
	Verb string
	// Assignee is for assign; Classification and Summary for close.
	Assignee       string
	Classification alert.Resolution
	Summary        string
}

// Apply makes act's change to c at time now, by actor, and returns the
// state entry that records it for the timeline; or it returns an error
// wrapping ErrTransition (c's state does not allow it) or ErrInvalid (a
// bad argument), and c is unchanged.
//
//	assign       open or in-progress → in-progress, with the assignee
//	escalate     open or in-progress, not yet escalated → shared with the member
//	acknowledge  escalated, not yet acknowledged → acknowledged by the member
//	close        open or in-progress → closed, with a classification and a summary
//	reopen       closed → in-progress (assigned) or open; classification cleared
func Apply(c *Case, act Action, actor string, now time.Time) (Entry, error) {
	n := *c
	e := Entry{Time: now, Kind: KindState, Author: actor, Data: map[string]string{"verb": act.Verb}}
	switch act.Verb {
	case VerbAssign:
		if n.Status == StatusClosed {
			return Entry{}, closedError(c, act.Verb)
		}
		to, err := validText("assignee", act.Assignee, maxName, true)
		if err != nil {
			return Entry{}, err
		}
		e.Data["from"], e.Data["to"] = n.Assignee, to
		n.Assignee, n.Status = to, StatusInProgress
		e.Text = "assigned to " + to
	case VerbEscalate:
		if n.Status == StatusClosed {
			return Entry{}, closedError(c, act.Verb)
		}
		if !n.Escalated.IsZero() {
			return Entry{}, fmt.Errorf("%w: case %d was already escalated at %s", ErrTransition, c.ID, c.Escalated.Format(time.RFC3339))
		}
		n.Escalated = now
		e.Text = "escalated to the member"
	case VerbAcknowledge:
		if n.Escalated.IsZero() {
			return Entry{}, fmt.Errorf("%w: case %d is not escalated; only an escalated case is acknowledged", ErrTransition, c.ID)
		}
		if !n.AcknowledgedByMember.IsZero() {
			return Entry{}, fmt.Errorf("%w: case %d was already acknowledged at %s", ErrTransition, c.ID, c.AcknowledgedByMember.Format(time.RFC3339))
		}
		n.AcknowledgedByMember, n.AcknowledgedBy = now, actor
		e.Text = "acknowledged by the member"
	case VerbClose:
		if n.Status == StatusClosed {
			return Entry{}, fmt.Errorf("%w: case %d is already closed; reopen it first", ErrTransition, c.ID)
		}
		if !alert.ValidResolution(act.Classification) {
			return Entry{}, fmt.Errorf("%w: classification %q: want one of %s", ErrInvalid, act.Classification, alert.Resolutions)
		}
		sum, err := validText("summary", act.Summary, maxText, true)
		if err != nil {
			return Entry{}, err
		}
		e.Data["from"], e.Data["to"], e.Data["classification"] = string(n.Status), string(StatusClosed), string(act.Classification)
		n.Status, n.Closed, n.Classification, n.Summary = StatusClosed, now, act.Classification, sum
		e.Text = "closed as " + string(act.Classification) + ": " + sum
	case VerbReopen:
		if n.Status != StatusClosed {
			return Entry{}, fmt.Errorf("%w: case %d is %s; only a closed case is reopened", ErrTransition, c.ID, c.Status)
		}
		n.Status = StatusOpen
		if n.Assignee != "" {
			n.Status = StatusInProgress
		}
		e.Data["from"], e.Data["to"], e.Data["classification"] = string(StatusClosed), string(n.Status), string(c.Classification)
		n.Closed, n.Classification, n.Summary = time.Time{}, "", ""
		e.Text = "reopened"
	default:
		return Entry{}, fmt.Errorf("%w: action %q: want assign, escalate, acknowledge, close or reopen", ErrInvalid, act.Verb)
	}
	n.Updated = now
	*c = n
	return e, nil
}

func closedError(c *Case, verb string) error {
	return fmt.Errorf("%w: case %d is closed; reopen it before %s", ErrTransition, c.ID, gerund(verb))
}

func gerund(verb string) string {
	switch verb {
	case VerbAssign:
		return "assigning it"
	case VerbEscalate:
		return "escalating it"
	case VerbUpdate:
		return "changing it"
	case VerbTask:
		return "changing its tasks"
	case VerbObservable:
		return "adding observables"
	case VerbEvidence:
		return "adding evidence"
	case VerbAlerts:
		return "linking alerts"
	case VerbEvent:
		return "adding events"
	}
	return verb
}

// Patch changes a case's descriptive fields; nil leaves one as it is.
type Patch struct {
	Title       *string
	Description *string
	Severity    *string
	TLP         *string
}

// applyPatch makes p's change to c and returns the state entry for it.
func applyPatch(c *Case, p Patch, actor string, now time.Time) (Entry, error) {
	if c.Status == StatusClosed {
		return Entry{}, closedError(c, VerbUpdate)
	}
	n := *c
	e := Entry{Time: now, Kind: KindState, Author: actor, Data: map[string]string{"verb": VerbUpdate}}
	var err error
	changed := ""
	note := func(field, from, to string) {
		if from != to {
			e.Data[field] = to
			if changed != "" {
				changed += ", "
			}
			changed += field + " " + to
		}
	}
	if p.Title != nil {
		if n.Title, err = validText("title", *p.Title, maxTitle, true); err != nil {
			return Entry{}, err
		}
		note("title", c.Title, n.Title)
	}
	if p.Description != nil {
		if n.Description, err = validText("description", *p.Description, maxText, false); err != nil {
			return Entry{}, err
		}
		if n.Description != c.Description {
			e.Data["description"] = "changed"
			if changed != "" {
				changed += ", "
			}
			changed += "description"
		}
	}
	if p.Severity != nil {
		if *p.Severity == "" {
			return Entry{}, fmt.Errorf("%w: severity: want one of %s", ErrInvalid, alert.Levels)
		}
		if n.Severity, err = validSeverity(*p.Severity); err != nil {
			return Entry{}, err
		}
		note("severity", c.Severity, n.Severity)
	}
	if p.TLP != nil {
		if *p.TLP == "" {
			return Entry{}, fmt.Errorf("%w: TLP: want one of %s", ErrInvalid, TLPs)
		}
		if n.TLP, err = ParseTLP(*p.TLP); err != nil {
			return Entry{}, err
		}
		note("tlp", string(c.TLP), string(n.TLP))
	}
	if changed == "" {
		return Entry{}, fmt.Errorf("%w: nothing to change: name a title, description, severity or tlp that differs", ErrInvalid)
	}
	e.Text = "changed " + changed
	n.Updated = now
	*c = n
	return e, nil
}
