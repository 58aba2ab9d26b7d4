package incident

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Config tunes cases.
type Config struct {
	// MaxEvidenceBytes caps one evidence file.
	MaxEvidenceBytes int64 `yaml:"max_evidence_bytes"`
	// Templates are the kinds of case a case may be opened with, each
	// with its tasks (template.go); setting them replaces the defaults.
	Templates []Template `yaml:"templates"`
}

// DefaultConfig returns the defaults: evidence files up to 25 MiB, this
// team's templates.
func DefaultConfig() Config {
	return Config{MaxEvidenceBytes: 25 << 20, Templates: DefaultTemplates()}
}

// Validate reports the first bad setting.
func (c Config) Validate() error {
	if c.MaxEvidenceBytes < 1 {
		return errors.New("max_evidence_bytes: must be at least 1")
	}
	return checkTemplates(c.Templates)
}

// Alerts reads the alerts a case is opened from or linked to.
type Alerts interface {
	Alert(ctx context.Context, t tenant.ID, id int64) (alert.Alert, error)
}

// Deps are the Service's collaborators.
type Deps struct {
	Store  Store
	Alerts Alerts
	// Dir is where evidence files are kept (<data>/evidence): each under
	// <Dir>/<tenant>/<case id>/<sha256>.
	Dir string
	// Now is the clock (nil: time.Now); tests inject one.
	Now func() time.Time
	// OnChange, when set, sees every change after it is stored (the
	// stream). It must not block for long, and must show a case only to
	// those it is VisibleTo.
	OnChange func(ctx context.Context, cs []Change)
}

// Service opens and changes cases on behalf of a principal: it applies
// the access rules (Allows) and the state machine (Apply), records every
// change on the timeline, keeps evidence files, and publishes changes. It
// is safe for concurrent use.
type Service struct {
	cfg Config
	d   Deps
}

// NewService checks cfg and creates the evidence directory.
func NewService(cfg Config, d Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Store == nil || d.Alerts == nil || d.Dir == "" {
		return nil, errors.New("BUG: incident.NewService needs a Store, Alerts and Dir")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if err := os.MkdirAll(d.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("evidence dir: %w", err)
	}
	return &Service{cfg: cfg, d: d}, nil
}

// Config returns the service's configuration.
func (s *Service) Config() Config { return s.cfg }

func (s *Service) now() time.Time { return s.d.Now().UTC() }

func (s *Service) changed(ctx context.Context, cs ...Change) {
	if s.d.OnChange != nil && len(cs) > 0 {
		s.d.OnChange(ctx, cs)
	}
}

// Locate returns the tenant in which to look for case id on p's behalf:
// a member's user's own tenant, or for the provider's roles the case's
// tenant (Store.CaseTenant). An unknown case is ErrNotFound.
func (s *Service) Locate(ctx context.Context, p auth.Principal, id int64) (tenant.ID, error) {
	switch p.Role {
	case auth.RoleProviderAdmin, auth.RoleProviderAnalyst:
		t, err := s.d.Store.CaseTenant(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return "", notFound(id)
		}
		return t, err
	case auth.RoleTenantAdmin, auth.RoleTenantAnalyst, auth.RoleTenantViewer:
		return p.Tenant, nil
	}
	return "", fmt.Errorf("%w: role %s may not read cases", auth.ErrForbidden, p.Role)
}

// Case returns case id of tenant t, whole, if p may read it.
func (s *Service) Case(ctx context.Context, p auth.Principal, t tenant.ID, id int64) (Case, error) {
	c, err := s.d.Store.Case(ctx, t, id)
	if errors.Is(err, ErrNotFound) {
		return Case{}, notFound(id)
	}
	if err != nil {
		return Case{}, err
	}
	if err := c.Allows(p, VerbRead); err != nil {
		return Case{}, err
	}
	return c, nil
}

// Cases lists tenant t's cases that p may read, newest first: all of them
// for the provider's roles, the escalated ones for the member's users.
func (s *Service) Cases(ctx context.Context, p auth.Principal, t tenant.ID, f Filter) ([]Case, error) {
	if !CanList(p) {
		return nil, fmt.Errorf("%w: role %s may not read cases", auth.ErrForbidden, p.Role)
	}
	if !p.Role.Provider() {
		if t != p.Tenant {
			return nil, fmt.Errorf("%w: this token may read tenant %s only", auth.ErrForbidden, p.Tenant)
		}
		f.Escalated = true
	}
	cs, err := s.d.Store.Cases(ctx, t, f)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(cs, func(c Case) bool { return !c.VisibleTo(p) }), nil
}

// Draft is a case about to be opened.
type Draft struct {
	Title       string
	Description string
	// Severity is an alert level ("": medium); TLP a label ("": AMBER).
	Severity string
	TLP      string
	// Assignee, when set, starts the case in progress.
	Assignee string
	// Alerts are the IDs of tenant t's alerts it is opened from: each goes
	// on the timeline and its entities become observables.
	Alerts []int64
	// Template, when set, names the template whose tasks the case starts
	// with (Config.Templates, any case).
	Template string
}

// Create opens a case in tenant t for p (a provider role).
func (s *Service) Create(ctx context.Context, p auth.Principal, t tenant.ID, d Draft) (Case, error) {
	if !CanCreate(p) {
		return Case{}, fmt.Errorf("%w: cases are opened by the provider's analysts", auth.ErrForbidden)
	}
	now := s.now()
	c := Case{Tenant: t, Status: StatusOpen, Author: p.TokenID, Created: now, Updated: now}
	var err error
	if c.Title, err = validText("title", d.Title, maxTitle, true); err != nil {
		return Case{}, err
	}
	if c.Description, err = validText("description", d.Description, maxText, false); err != nil {
		return Case{}, err
	}
	if c.Severity, err = validSeverity(d.Severity); err != nil {
		return Case{}, err
	}
	if c.TLP, err = ParseTLP(d.TLP); err != nil {
		return Case{}, err
	}
	if c.Assignee, err = validText("assignee", d.Assignee, maxName, false); err != nil {
		return Case{}, err
	}
	if c.Assignee != "" {
		c.Status = StatusInProgress
	}
	c.Timeline = []Entry{{Time: now, Kind: KindState, Author: p.TokenID, Role: string(p.Role), Text: "opened", Data: map[string]string{"verb": "create"}}}
	if d.Template != "" {
		tm, err := s.template(d.Template)
		if err != nil {
			return Case{}, err
		}
		for _, task := range tm.Tasks {
			c.Tasks = append(c.Tasks, Task{Title: strings.TrimSpace(task), Author: p.TokenID, Created: now, Updated: now})
		}
		c.Timeline = append(c.Timeline, Entry{Time: now, Kind: KindTask, Author: p.TokenID, Role: string(p.Role),
			Text: fmt.Sprintf("template %s: %d tasks", tm.Name, len(tm.Tasks)), Data: map[string]string{"template": tm.Name, "tasks": strconv.Itoa(len(tm.Tasks))}})
	}
	add, err := s.alertAdditions(ctx, &c, d.Alerts, now)
	if err != nil {
		return Case{}, err
	}
	c.Alerts, c.Observables, c.Timeline = add.Alerts, add.Observables, append(c.Timeline, add.Entries...)
	c, err = s.d.Store.CreateCase(ctx, t, c)
	if err != nil {
		return Case{}, err
	}
	s.changed(ctx, Change{What: "created", Actor: p.TokenID, Case: c})
	return c, nil
}

// alertAdditions reads tenant c.Tenant's alerts ids (skipping those c
// links already) and returns them with their timeline entries and
// observables.
func (s *Service) alertAdditions(ctx context.Context, c *Case, ids []int64, now time.Time) (Additions, error) {
	var add Additions
	seen := map[int64]bool{}
	for _, id := range c.Alerts {
		seen[id] = true
	}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		al, err := s.d.Alerts.Alert(ctx, c.Tenant, id)
		if errors.Is(err, alert.ErrNotFound) || err == nil && al.Tenant != c.Tenant {
			return Additions{}, fmt.Errorf("%w: alert %d", alert.ErrNotFound, id)
		}
		if err != nil {
			return Additions{}, fmt.Errorf("read alert %d: %w", id, err)
		}
		add.Alerts = append(add.Alerts, id)
		at := al.FirstSeen
		if at.IsZero() {
			at = al.Created
		}
		if at.IsZero() {
			at = now
		}
		add.Entries = append(add.Entries, Entry{Time: at.UTC(), Kind: KindAlert, Text: al.Title, Data: map[string]string{
			"alert": strconv.FormatInt(id, 10), "rule_id": al.RuleID, "level": al.Level, "count": strconv.FormatInt(al.Count, 10),
		}})
		for _, e := range al.Entities {
			add.Observables = append(add.Observables, Observable{Type: e.Type, Value: e.Value, Source: "alert " + strconv.FormatInt(id, 10), Added: now})
		}
	}
	add.Observables = dedupObservables(c.Observables, add.Observables)
	return add, nil
}

// dedupObservables drops from add those whose (type, value) is in have or
// earlier in add.
func dedupObservables(have, add []Observable) []Observable {
	type key struct{ t, v string }
	seen := map[key]bool{}
	for _, o := range have {
		seen[key{o.Type, o.Value}] = true
	}
	out := add[:0]
	for _, o := range add {
		if k := (key{o.Type, o.Value}); !seen[k] {
			seen[k] = true
			out = append(out, o)
		}
	}
	return out
}

// update changes case id of tenant t for p, who must be allowed verb: fn
// changes the header and returns what to add. Entries fn returns are
// signed by p; a change that adds no entry changes nothing. The change is
// published with the entries it added.
func (s *Service) update(ctx context.Context, p auth.Principal, t tenant.ID, id int64, verb string, fn func(c *Case, now time.Time) (Additions, error)) (before, after Case, err error) {
	now := s.now()
	var fnErr error
	before, after, err = s.d.Store.UpdateCase(ctx, t, id, func(c *Case) (Additions, error) {
		if err := c.Allows(p, verb); err != nil {
			return Additions{}, err
		}
		add, err := fn(c, now)
		if err != nil {
			fnErr = err
			return Additions{}, err
		}
		for i := range add.Entries {
			e := &add.Entries[i]
			if e.Author == "" {
				e.Author = p.TokenID
			}
			if e.Role == "" {
				e.Role = string(p.Role)
			}
		}
		if len(add.Entries) > 0 {
			c.Updated = now
		}
		return add, nil
	})
	switch {
	case err != nil && fnErr != nil && errors.Is(err, fnErr):
		return Case{}, Case{}, fnErr
	case errors.Is(err, ErrNotFound):
		return Case{}, Case{}, notFound(id)
	case err != nil:
		return Case{}, Case{}, err
	}
	if added := newEntries(before, after); len(added) > 0 {
		ch := after
		ch.Timeline = added
		s.changed(ctx, Change{What: verb, Actor: p.TokenID, Case: ch})
	}
	return before, after, nil
}

func newEntries(before, after Case) []Entry {
	old := make(map[int64]bool, len(before.Timeline))
	for _, e := range before.Timeline {
		old[e.ID] = true
	}
	var out []Entry
	for _, e := range after.Timeline {
		if !old[e.ID] {
			out = append(out, e)
		}
	}
	return out
}

// Act applies a state change (assign, escalate, acknowledge, close,
// reopen) to case id for p.
func (s *Service) Act(ctx context.Context, p auth.Principal, t tenant.ID, id int64, act Action) (before, after Case, err error) {
	verb := act.Verb
	switch verb {
	case VerbAssign, VerbEscalate, VerbAcknowledge, VerbClose, VerbReopen:
	default:
		return Case{}, Case{}, fmt.Errorf("%w: action %q: want assign, escalate, acknowledge, close or reopen", ErrInvalid, verb)
	}
	return s.update(ctx, p, t, id, verb, func(c *Case, now time.Time) (Additions, error) {
		e, err := Apply(c, act, p.TokenID, now)
		if err != nil {
			return Additions{}, err
		}
		return Additions{Entries: []Entry{e}}, nil
	})
}

// Update changes case id's title, description, severity or TLP.
func (s *Service) Update(ctx context.Context, p auth.Principal, t tenant.ID, id int64, patch Patch) (before, after Case, err error) {
	return s.update(ctx, p, t, id, VerbUpdate, func(c *Case, now time.Time) (Additions, error) {
		e, err := applyPatch(c, patch, p.TokenID, now)
		if err != nil {
			return Additions{}, err
		}
		return Additions{Entries: []Entry{e}}, nil
	})
}

// Comment adds a comment to case id's timeline; closed cases take
// comments too.
func (s *Service) Comment(ctx context.Context, p auth.Principal, t tenant.ID, id int64, text string) (before, after Case, err error) {
	text, err = validText("comment", text, maxText, true)
	if err != nil {
		return Case{}, Case{}, err
	}
	return s.update(ctx, p, t, id, VerbComment, func(c *Case, now time.Time) (Additions, error) {
		return Additions{Entries: []Entry{{Time: now, Kind: KindComment, Text: text}}}, nil
	})
}

// AddEvent puts an event on case id's timeline at its time (zero: now),
// with its bus position ref ("" if none).
func (s *Service) AddEvent(ctx context.Context, p auth.Principal, t tenant.ID, id int64, at time.Time, text, ref string) (before, after Case, err error) {
	if text, err = validText("event text", text, maxText, true); err != nil {
		return Case{}, Case{}, err
	}
	if ref, err = validText("event_ref", ref, maxName, false); err != nil {
		return Case{}, Case{}, err
	}
	return s.update(ctx, p, t, id, VerbEvent, func(c *Case, now time.Time) (Additions, error) {
		if c.Status == StatusClosed {
			return Additions{}, closedError(c, VerbEvent)
		}
		if at.IsZero() {
			at = now
		}
		e := Entry{Time: at.UTC(), Kind: KindEvent, Text: text}
		if ref != "" {
			e.Data = map[string]string{"event_ref": ref}
		}
		return Additions{Entries: []Entry{e}}, nil
	})
}

// AddTask adds a task to case id.
func (s *Service) AddTask(ctx context.Context, p auth.Principal, t tenant.ID, id int64, title string) (before, after Case, err error) {
	if title, err = validText("task title", title, maxTitle, true); err != nil {
		return Case{}, Case{}, err
	}
	return s.update(ctx, p, t, id, VerbTask, func(c *Case, now time.Time) (Additions, error) {
		if c.Status == StatusClosed {
			return Additions{}, closedError(c, VerbTask)
		}
		return Additions{
			Tasks:   []Task{{Title: title, Author: p.TokenID, Created: now, Updated: now}},
			Entries: []Entry{{Time: now, Kind: KindTask, Text: "task added: " + title, Data: map[string]string{"title": title}}},
		}, nil
	})
}

// SetTask marks task taskID of case id done or not done.
func (s *Service) SetTask(ctx context.Context, p auth.Principal, t tenant.ID, id, taskID int64, done bool) (before, after Case, err error) {
	return s.update(ctx, p, t, id, VerbTask, func(c *Case, now time.Time) (Additions, error) {
		if c.Status == StatusClosed {
			return Additions{}, closedError(c, VerbTask)
		}
		i := slices.IndexFunc(c.Tasks, func(tk Task) bool { return tk.ID == taskID })
		if i < 0 {
			return Additions{}, fmt.Errorf("%w: task %d of case %d", ErrNotFound, taskID, c.ID)
		}
		tk := c.Tasks[i]
		if tk.Done == done {
			state := "open"
			if done {
				state = "done"
			}
			return Additions{}, fmt.Errorf("%w: task %d is already %s", ErrTransition, taskID, state)
		}
		tk.Done, tk.Updated = done, now
		text := "task done: " + tk.Title
		if !done {
			text = "task reopened: " + tk.Title
		}
		return Additions{
			Tasks:   []Task{tk},
			Entries: []Entry{{Time: now, Kind: KindTask, Text: text, Data: map[string]string{"task": strconv.FormatInt(taskID, 10), "done": strconv.FormatBool(done)}}},
		}, nil
	})
}

// AddObservables adds observables by hand to case id; those it has are
// skipped.
func (s *Service) AddObservables(ctx context.Context, p auth.Principal, t tenant.ID, id int64, obs []Observable) (before, after Case, err error) {
	if len(obs) == 0 {
		return Case{}, Case{}, fmt.Errorf("%w: no observable: give a type and a value", ErrInvalid)
	}
	clean := make([]Observable, 0, len(obs))
	for _, o := range obs {
		o, err := cleanObservable(o)
		if err != nil {
			return Case{}, Case{}, err
		}
		o.Source = "manual"
		clean = append(clean, o)
	}
	return s.update(ctx, p, t, id, VerbObservable, func(c *Case, now time.Time) (Additions, error) {
		if c.Status == StatusClosed {
			return Additions{}, closedError(c, VerbObservable)
		}
		add := Additions{Observables: dedupObservables(c.Observables, slices.Clone(clean))}
		for i := range add.Observables {
			o := &add.Observables[i]
			o.Added = now
			add.Entries = append(add.Entries, Entry{Time: now, Kind: KindObservable, Text: o.Type + " " + o.Value, Data: map[string]string{"type": o.Type, "value": o.Value}})
		}
		return add, nil
	})
}

// LinkAlerts links tenant t's alerts ids to case id: each goes on the
// timeline and its entities become observables. Another tenant's alert is
// alert.ErrNotFound.
func (s *Service) LinkAlerts(ctx context.Context, p auth.Principal, t tenant.ID, id int64, ids []int64) (before, after Case, err error) {
	if len(ids) == 0 {
		return Case{}, Case{}, fmt.Errorf("%w: no alert to link", ErrInvalid)
	}
	return s.update(ctx, p, t, id, VerbAlerts, func(c *Case, now time.Time) (Additions, error) {
		if c.Status == StatusClosed {
			return Additions{}, closedError(c, VerbAlerts)
		}
		return s.alertAdditions(ctx, c, ids, now)
	})
}
