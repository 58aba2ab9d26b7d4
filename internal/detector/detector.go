// Package detector runs the detection engine over every tenant's stream and
// raises alerts. It owns the imported rule set (stored in the state store,
// compiled once, swapped atomically on change) and per-tenant rule
// switches, and consumes the parsed stream (internal/stage) from its own
// checkpoint: "detector", or one per bus partition when the stream is
// partitioned (Consumer).
//
// Exactly once, as seen from the alert list: detections go to the alert
// pipeline (internal/alert), which counts an event once per rule by its
// content hash, so a redelivered or replayed event adds nothing; the
// correlation state of each tenant is saved in the same transaction as the
// consumer's checkpoint, so a restart resumes the windows where they were.
package detector

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/detect"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/sigma"
	"github.com/tarian-soc/tarian/internal/store"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Name is the detector's durable consumer and checkpoint name.
const Name = "detector"

// ErrUnknownRule is returned for a rule ID that is not imported.
var ErrUnknownRule = errors.New("unknown rule")

// RuleFile is one imported rule file, as kept in the state store.
type RuleFile struct {
	// Key identifies the file: the ID of its first rule (the file name for
	// files stored before the import required ids).
	Key      string
	Name     string
	Data     []byte
	Imported time.Time
}

// Store is what the detector keeps in the state store.
type Store interface {
	PutRuleFiles(ctx context.Context, files []RuleFile) error
	RuleFiles(ctx context.Context) ([]RuleFile, error)
	// PutTenantFilterFiles stores filter documents of tenant t.
	PutTenantFilterFiles(ctx context.Context, t tenant.ID, files []RuleFile) error
	TenantFilterFiles(ctx context.Context) (map[tenant.ID][]RuleFile, error)
	// DeleteRuleFiles and DeleteTenantFilterFiles delete stored files by
	// key.
	DeleteRuleFiles(ctx context.Context, keys []string) error
	DeleteTenantFilterFiles(ctx context.Context, t tenant.ID, keys []string) error
	// SetPlaceholders replaces tenant t's values for |expand placeholders.
	SetPlaceholders(ctx context.Context, t tenant.ID, p map[string][]string) error
	Placeholders(ctx context.Context) (map[tenant.ID]map[string][]string, error)
	SetRuleDisabled(ctx context.Context, t tenant.ID, ruleID string, disabled bool) error
	DisabledRules(ctx context.Context) (map[tenant.ID]map[string]bool, error)
	Checkpoint(ctx context.Context, name string) (store.Checkpoint, error)
	// CorrelationStates returns the saved correlation state per tenant.
	CorrelationStates(ctx context.Context, name string) (map[tenant.ID][]byte, error)
	// SaveProgress moves the checkpoint and saves states in one transaction.
	SaveProgress(ctx context.Context, name string, cp store.Checkpoint, states map[tenant.ID][]byte) error
}

// Counter counts per tenant.
type Counter interface {
	Count(name string, t tenant.ID, n int)
}

// Alerts takes the detector's detections (alert.Pipeline).
type Alerts interface {
	Raise(ctx context.Context, t tenant.ID, ds []alert.Detection) ([]alert.Change, error)
}

// Intel matches events against threat-intelligence indicators
// (indicators.Service).
type Intel interface {
	// Match returns a detection per indicator the event matches; base
	// makes the detection's event part and is called only on a hit.
	Match(ctx context.Context, t tenant.ID, fields []event.Field, base func() alert.Detection) []alert.Detection
	// Sighted records the sightings behind the intel alerts in cs.
	Sighted(ctx context.Context, t tenant.ID, cs []alert.Change) error
}

// Deps are the detector's collaborators.
type Deps struct {
	Alerts Alerts
	// Intel is threat-intelligence matching (nil: none).
	Intel Intel
	// Mapping is the field and log-source mapping; nil for the default.
	Mapping *detect.Mapping
	Store   Store
	Metrics Counter
	Log     *slog.Logger
	// Changed, when set, is told that the rules or a tenant's settings
	// changed (other nodes sharing the state store Reload).
	Changed func(ctx context.Context)
}

// ruleset is one compiled generation of the rules.
type ruleset struct {
	engine *detect.Engine
	// byTenant holds the engines of tenants with their own filter
	// documents or placeholder values; the others use engine.
	byTenant     map[tenant.ID]*detect.Engine
	rules        []*sigma.Rule
	skipped      []detect.Skipped
	disabled     map[tenant.ID]map[string]bool
	placeholders map[tenant.ID]map[string][]string
	// filters are each tenant's own filter documents, and filterSkipped
	// those of them its engine cannot apply, with the reason.
	filters       map[tenant.ID][]*sigma.Rule
	filterSkipped map[tenant.ID][]detect.Skipped
	// replaced are the shared rules a later import with the same id
	// replaced, and the reason (which file replaced them).
	replaced []detect.Skipped
}

// engineFor returns the engine that evaluates tenant t's events.
func (rs *ruleset) engineFor(t tenant.ID) *detect.Engine {
	if e, ok := rs.byTenant[t]; ok {
		return e
	}
	return rs.engine
}

// Service is the detector.
type Service struct {
	d  Deps
	mu sync.Mutex // serialises changes to the rule set
	rs atomic.Pointer[ruleset]
	// states are the correlation states of every tenant whose stream a
	// consumer of this service reads (each tenant's in one consumer), for
	// Coverage's reads.
	states   map[tenant.ID]*detect.State
	statesMu sync.RWMutex
	// def is the consumer of the whole stream, named Name: the Service
	// itself is a stage.Consumer through it.
	def *Consumer
}

// New loads and compiles the stored rules. A stored rule that no longer
// compiles is logged and skipped; it never stops the server.
func New(ctx context.Context, d Deps) (*Service, error) {
	s := &Service{d: d, states: map[tenant.ID]*detect.State{}}
	s.def = s.Consumer(Name)
	if err := s.reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// reload compiles every stored rule file into a new rule set.
func (s *Service) reload(ctx context.Context) error {
	files, err := s.d.Store.RuleFiles(ctx)
	if err != nil {
		return fmt.Errorf("load rules: %w", err)
	}
	// In import order, so that a rule imported again with the same id
	// from another file replaces the earlier version (detect.Compile keeps
	// the last one).
	sortByImport(files)
	var rules []*sigma.Rule
	for _, f := range files {
		rs, err := sigma.Parse(f.Name, f.Data)
		if err != nil {
			s.d.Log.Warn("stored rule does not parse; skipped", "file", f.Name, "err", err)
		}
		rules = append(rules, rs...)
	}
	disabled, err := s.d.Store.DisabledRules(ctx)
	if err != nil {
		return fmt.Errorf("load rule switches: %w", err)
	}
	eng, err := detect.Compile(rules, detect.Options{Mapping: s.d.Mapping})
	if err != nil {
		return fmt.Errorf("compile rules: %w", err)
	}
	// A replaced version is no rule of the set any more: it is neither
	// listed nor counted, and tenants' engines do not see it.
	replaced := map[*sigma.Rule]bool{}
	var skipped, replacedSk []detect.Skipped
	for _, sk := range eng.Skipped() {
		if sk.ReplacedBy != nil {
			replaced[sk.Rule] = true
			replacedSk = append(replacedSk, sk)
			s.d.Log.Info("rule replaced by a later import with the same id", "rule_id", sk.Rule.ID, "file", sk.Rule.File, "reason", sk.Reason)
			continue
		}
		skipped = append(skipped, sk)
		s.d.Log.Debug("rule not evaluated", "rule_id", sk.Rule.ID, "file", sk.Rule.File, "reason", sk.Reason)
	}
	if len(replaced) > 0 {
		rules = slices.DeleteFunc(rules, func(r *sigma.Rule) bool { return replaced[r] })
	}
	rs := &ruleset{engine: eng, byTenant: map[tenant.ID]*detect.Engine{}, rules: rules, skipped: skipped, disabled: disabled,
		filters: map[tenant.ID][]*sigma.Rule{}, filterSkipped: map[tenant.ID][]detect.Skipped{}, replaced: replacedSk}
	if err := s.tenantEngines(ctx, rs); err != nil {
		return err
	}
	s.rs.Store(rs)
	s.d.Log.Info("rules loaded", "rules", eng.Rules(), "not_evaluated", len(skipped), "tenant_engines", len(rs.byTenant))
	return nil
}

// sortByImport orders files by the time they were imported (the store
// lists them by key).
func sortByImport(files []RuleFile) {
	sort.SliceStable(files, func(i, j int) bool { return files[i].Imported.Before(files[j].Imported) })
}

// tenantEngines builds the engines of tenants that have placeholder values
// (a compile of their own) or filter documents (cheap: shared rules plus
// their filters).
func (s *Service) tenantEngines(ctx context.Context, rs *ruleset) error {
	placeholders, err := s.d.Store.Placeholders(ctx)
	if err != nil {
		return fmt.Errorf("load placeholders: %w", err)
	}
	filterFiles, err := s.d.Store.TenantFilterFiles(ctx)
	if err != nil {
		return fmt.Errorf("load tenant filters: %w", err)
	}
	rs.placeholders = placeholders
	for t, p := range placeholders {
		if len(p) == 0 {
			continue
		}
		eng, err := detect.Compile(rs.rules, detect.Options{Mapping: s.d.Mapping, Placeholders: p})
		if err != nil {
			return fmt.Errorf("compile rules for %s: %w", t, err)
		}
		rs.byTenant[t] = eng
	}
	for t, files := range filterFiles {
		sortByImport(files)
		var filters []*sigma.Rule
		for _, f := range files {
			fs, err := sigma.Parse(f.Name, f.Data)
			if err != nil {
				s.d.Log.Warn("stored filter does not parse; skipped", "tenant", t, "file", f.Name, "err", err)
			}
			filters = append(filters, fs...)
		}
		eng := rs.engineFor(t).WithFilters(filters)
		rs.byTenant[t] = eng
		replaced := map[*sigma.Rule]bool{}
		for _, sk := range eng.Skipped() {
			if sk.ReplacedBy != nil {
				replaced[sk.Rule] = true
				continue
			}
			rs.filterSkipped[t] = append(rs.filterSkipped[t], sk)
		}
		rs.filters[t] = slices.DeleteFunc(filters, func(r *sigma.Rule) bool { return replaced[r] })
	}
	return nil
}

// ImportFile is one file handed to Import.
type ImportFile struct {
	Name string `json:"name"`
	Data []byte `json:"data"`
}

// FileError is a rule file that failed to import.
type FileError struct {
	File        string `json:"file"`
	Line        int    `json:"line,omitempty"`
	Reason      string `json:"reason"`
	Unsupported bool   `json:"unsupported,omitempty"`
}

// ImportResult says what Import did.
type ImportResult struct {
	Files    int         `json:"files"`
	Rules    int         `json:"rules"`
	Imported int         `json:"imported"`
	Failed   []FileError `json:"failed"`
	// Active is the number of rules running after the import.
	Active int `json:"active"`
	// NotEvaluated counts imported rules the engine cannot run here (for
	// example a log source with no mapping); `tarian rules list` says why.
	NotEvaluated int `json:"not_evaluated"`
	// LogSources counts every imported rule per log source after the
	// import: active, not evaluated and why (with a tenant: the shared
	// rules as that tenant sees them, and its filter documents).
	LogSources []LogSourceSummary `json:"logsources"`
	// Warnings are documents of the imported files that were stored but
	// do nothing: a filter that names no evaluated rule, a rule replaced
	// by another of the same id in the same import.
	Warnings []FileError `json:"warnings,omitempty"`
}

// Import parses files and stores those whose every document parses
// (replacing earlier imports of the same rule), then recompiles. Failures
// are reported per file and never stop the others. With a tenant, only
// filter documents are taken, and they apply to that tenant alone;
// detection rules are shared by every tenant.
func (s *Service) Import(ctx context.Context, t tenant.ID, files []ImportFile) (ImportResult, error) {
	res := ImportResult{Files: len(files), Failed: []FileError{}}
	var good []RuleFile
	now := time.Now().UTC()
	for _, f := range files {
		rules, err := sigma.Parse(f.Name, f.Data)
		if err != nil {
			var es sigma.Errors
			if errors.As(err, &es) {
				for _, e := range es {
					res.Failed = append(res.Failed, FileError{File: e.File, Line: e.Line, Reason: e.Reason, Unsupported: errors.Is(e, sigma.ErrUnsupported)})
				}
			} else {
				res.Failed = append(res.Failed, FileError{File: f.Name, Reason: err.Error()})
			}
			continue
		}
		if len(rules) == 0 {
			res.Failed = append(res.Failed, FileError{File: f.Name, Reason: "no rule in file"})
			continue
		}
		if r := firstWithoutID(rules); r != nil {
			res.Failed = append(res.Failed, FileError{File: f.Name, Line: r.Line, Reason: noIDReason(r)})
			continue
		}
		if t != "" {
			if r := firstNonFilter(rules); r != nil {
				res.Failed = append(res.Failed, FileError{File: f.Name, Line: r.Line,
					Reason: "only filter documents can be imported for one tenant; detection rules are shared by every tenant"})
				continue
			}
		}
		key := rules[0].ID
		res.Rules += len(rules)
		// Each file a time of its own, in the order given: of two versions
		// of one rule in an import, the later runs.
		good = append(good, RuleFile{Key: key, Name: f.Name, Data: f.Data, Imported: now.Add(time.Duration(len(good)))})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(good) > 0 {
		put := s.d.Store.PutRuleFiles
		if t != "" {
			put = func(ctx context.Context, files []RuleFile) error {
				return s.d.Store.PutTenantFilterFiles(ctx, t, files)
			}
		}
		if err := put(ctx, good); err != nil {
			return res, err
		}
		if err := s.reload(ctx); err != nil {
			return res, err
		}
		s.changed(ctx)
	}
	res.Imported = len(good)
	rs := s.rs.Load()
	res.Active, res.NotEvaluated = rs.engine.Rules(), len(rs.skipped)
	res.LogSources = Summarize(s.Rules(t))
	imported := map[string]bool{}
	for _, f := range good {
		imported[f.Name] = true
	}
	skipped := rs.skipped
	if t != "" {
		skipped = rs.filterSkipped[t]
	}
	for _, sk := range skipped {
		if imported[sk.Rule.File] && !sk.Unmapped {
			res.Warnings = append(res.Warnings, FileError{File: sk.Rule.File, Line: sk.Rule.Line, Reason: sk.Reason})
		}
	}
	if t == "" {
		// Two versions of one rule in this import: only the last runs.
		for _, sk := range rs.replaced {
			switch {
			case imported[sk.Rule.File]:
				res.Warnings = append(res.Warnings, FileError{File: sk.Rule.File, Line: sk.Rule.Line, Reason: sk.Reason})
			case imported[sk.ReplacedBy.File]:
				// An update, or an older version imported again: say which.
				res.Warnings = append(res.Warnings, FileError{File: sk.ReplacedBy.File, Line: sk.ReplacedBy.Line,
					Reason: fmt.Sprintf("replaces the version of rule %s imported earlier from %s", sk.Rule.ID, sk.Rule.File)})
			}
		}
	}
	return res, nil
}

// firstWithoutID returns the first of rules that has no id. The server
// knows a rule by its id: a later import with the same id replaces it, a
// tenant switches it off by id and an alert names it. Keyed by its file's
// name instead, a rule moved to another file would run twice, and could
// be neither switched off nor deleted.
func firstWithoutID(rules []*sigma.Rule) *sigma.Rule {
	for _, r := range rules {
		if r.ID == "" {
			return r
		}
	}
	return nil
}

// noIDReason says why rule r, which has no id, is refused, with an id to
// give it.
func noIDReason(r *sigma.Rule) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return fmt.Sprintf("%q has no id: the server knows each rule by its id (a later import with the same id replaces it; rules are switched off and deleted by id), so a rule without one is refused; add one, for example 'id: %s-%s-%s-%s-%s'",
		r.Title, h[:8], h[8:12], h[12:16], h[16:20], h[20:])
}

func firstNonFilter(rules []*sigma.Rule) *sigma.Rule {
	for _, r := range rules {
		if r.Filter == nil {
			return r
		}
	}
	return nil
}

// SetPlaceholders replaces tenant t's values for |expand placeholders
// (%name% in a rule) and recompiles that tenant's engine.
func (s *Service) SetPlaceholders(ctx context.Context, t tenant.ID, p map[string][]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.d.Store.SetPlaceholders(ctx, t, p); err != nil {
		return err
	}
	if err := s.reload(ctx); err != nil {
		return err
	}
	s.changed(ctx)
	return nil
}

// changed tells Deps.Changed.
func (s *Service) changed(ctx context.Context) {
	if s.d.Changed != nil {
		s.d.Changed(ctx)
	}
}

// Placeholders returns tenant t's placeholder values.
func (s *Service) Placeholders(t tenant.ID) map[string][]string {
	p := s.rs.Load().placeholders[t]
	if p == nil {
		p = map[string][]string{}
	}
	return p
}

// RuleInfo describes one imported rule for a tenant.
type RuleInfo struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Level   string   `json:"level"`
	Status  string   `json:"status"`
	Author  string   `json:"author"`
	Tags    []string `json:"tags"`
	File    string   `json:"file"`
	Enabled bool     `json:"enabled"`
	// Skipped says why the engine could not run the rule, if it cannot.
	Skipped string `json:"skipped,omitempty"`
	// Unmapped says it cannot because the mapping does not cover the
	// rule's log source.
	Unmapped bool `json:"unmapped,omitempty"`
	// Product, Category and Service are the rule's log source; Kind is
	// detection, correlation or filter.
	Product  string `json:"product,omitempty"`
	Category string `json:"category,omitempty"`
	Service  string `json:"service,omitempty"`
	Kind     string `json:"kind"`
	// Tenant is set on a tenant's own filter documents.
	Tenant tenant.ID `json:"tenant,omitempty"`
}

// Rules lists the imported rules as tenant t sees them.
func (s *Service) Rules(t tenant.ID) []RuleInfo {
	rs := s.rs.Load()
	skipped := map[*sigma.Rule]detect.Skipped{}
	for _, sk := range rs.skipped {
		skipped[sk.Rule] = sk
	}
	for _, sk := range rs.filterSkipped[t] {
		skipped[sk.Rule] = sk
	}
	// A tenant sees its own filter documents (its exclusions) with the
	// shared rules.
	all := rs.rules
	if fs := rs.filters[t]; len(fs) > 0 {
		all = append(slices.Clip(rs.rules), fs...)
	}
	out := make([]RuleInfo, 0, len(all))
	own := map[*sigma.Rule]bool{}
	for _, r := range rs.filters[t] {
		own[r] = true
	}
	for _, r := range all {
		kind := "detection"
		switch {
		case r.Correlation != nil:
			kind = "correlation"
		case r.Filter != nil:
			kind = "filter"
		}
		sk := skipped[r]
		out = append(out, RuleInfo{ID: r.ID, Title: r.Title, Level: r.Level, Status: r.Status, Author: r.Author, Tags: r.Tags,
			File: r.File, Enabled: !rs.disabled[t][r.ID], Skipped: sk.Reason, Unmapped: sk.Unmapped,
			Product: r.LogSource.Product, Category: r.LogSource.Category, Service: r.LogSource.Service, Kind: kind})
		if own[r] {
			out[len(out)-1].Tenant = t
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Title < out[j].Title })
	return out
}

// SetEnabled switches rule ruleID on or off for tenant t.
func (s *Service) SetEnabled(ctx context.Context, t tenant.ID, ruleID string, enabled bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.rs.Load()
	found := false
	for _, r := range rs.rules {
		if r.ID == ruleID {
			found = true
			break
		}
	}
	if !found {
		return fmt.Errorf("%w: %s", ErrUnknownRule, ruleID)
	}
	if err := s.d.Store.SetRuleDisabled(ctx, t, ruleID, !enabled); err != nil {
		return err
	}
	disabled, err := s.d.Store.DisabledRules(ctx)
	if err != nil {
		return err
	}
	next := *rs
	next.disabled = disabled
	s.rs.Store(&next)
	s.changed(ctx)
	return nil
}

// detection makes the detection of match m on the event (with fields) at
// ref of record r. An event counts once per rule by its record's content
// hash and its place in the record, so a replay adds nothing; a
// correlation counts once per group and window.
func detection(ref event.Ref, r event.Raw, fields []event.Field, m detect.Match) alert.Detection {
	d := alert.Detection{
		Producer: alert.ProducerSigma, RuleID: m.RuleID, Title: m.Title, Author: m.Author, Level: m.Level, Tags: m.Tags,
		EventRef: ref.String(), EventTime: m.Time, Received: r.Received, Entities: alert.Entities(fields),
	}
	if m.Rule != nil {
		d.References = m.Rule.References
	}
	if d.EventTime.IsZero() {
		d.EventTime = r.Received
	}
	for _, f := range m.Fields {
		d.Fields = append(d.Fields, event.Field{Name: f.Name, Value: f.Value})
	}
	h := sha256.New()
	if c := m.Correlation; c != nil {
		d.Producer = alert.ProducerCorrelation
		for _, g := range c.Group {
			h.Write([]byte(g.Name + "=" + g.Value + "\x00"))
		}
		h.Write([]byte(c.First.UTC().Format(time.RFC3339Nano)))
		// A correlation's entities are its group-by values, not the last
		// event's.
		d.Entities = alert.Entities(d.Fields)
		// Its events are those of its matches, in the window's order (the
		// event at hand, when a window judged at its close ends, is any
		// later one).
		if len(c.Refs) > 0 {
			d.EventRef, d.Related = c.Refs[0], c.Refs[1:]
		}
	} else {
		h.Write([]byte(fieldValue(fields, event.FieldHash) + "/" + strconv.Itoa(ref.Sub)))
	}
	d.EventHash = hex.EncodeToString(h.Sum(nil)[:16])
	return d
}

// eventDetection is the event part of a detection that no rule made (an
// intel match): where the event is, when it happened, its entities, and
// the same content hash a rule's detection has.
func eventDetection(ref event.Ref, r event.Raw, fields []event.Field) alert.Detection {
	d := alert.Detection{EventRef: ref.String(), Received: r.Received, Entities: alert.Entities(fields), EventTime: r.Received}
	if t, err := time.Parse(time.RFC3339Nano, fieldValue(fields, event.FieldTimestamp)); err == nil {
		d.EventTime = t
	}
	sum := sha256.Sum256([]byte(fieldValue(fields, event.FieldHash) + "/" + strconv.Itoa(ref.Sub)))
	d.EventHash = hex.EncodeToString(sum[:16])
	return d
}

func fieldValue(fields []event.Field, name string) string {
	for _, f := range fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}
