package detector

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/tarian-soc/tarian/internal/sigma"
	"github.com/tarian-soc/tarian/internal/tenant"
)

var (
	// ErrSharedRule is returned when a tenant asks to delete a shared
	// rule: those are switched off per tenant, not deleted.
	ErrSharedRule = errors.New("shared rule")
	// ErrRuleInUse is returned for a rule that a correlation refers to.
	ErrRuleInUse = errors.New("rule in use")
)

// Deleted says what Delete removed.
type Deleted struct {
	RuleID string    `json:"rule_id"`
	Title  string    `json:"title"`
	Kind   string    `json:"kind"`
	Tenant tenant.ID `json:"tenant,omitempty"`
	// Files are the stored files the rule was in (every version of it);
	// a file that holds other rules too keeps those.
	Files []string `json:"files"`
}

// Delete removes rule ruleID: with t empty, a shared rule (detection or
// correlation), every version of it imported; with a tenant, one of that
// tenant's own filter documents. A tenant's shared rules are switched off,
// not deleted (ErrSharedRule); a rule a correlation refers to is deleted
// after that correlation (ErrRuleInUse). Alerts the rule raised are kept:
// they name the rule as it was. Tenants' switches for the rule are kept
// too, so a rule imported again comes back as each tenant had it.
func (s *Service) Delete(ctx context.Context, t tenant.ID, ruleID string) (Deleted, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.rs.Load()
	if ruleID == "" {
		return Deleted{}, fmt.Errorf("%w: no id given", ErrUnknownRule)
	}
	var r *sigma.Rule
	var files []RuleFile
	if t != "" {
		if r = ruleByID(rs.filters[t], ruleID); r == nil {
			if sr := ruleByID(rs.rules, ruleID); sr != nil {
				return Deleted{}, fmt.Errorf("%w: %s (%q) is shared by every tenant: a tenant switches it off ('tarian rules disable %s'); only provider-admin deletes it", ErrSharedRule, ruleID, sr.Title, ruleID)
			}
			return Deleted{}, fmt.Errorf("%w: %s", ErrUnknownRule, ruleID)
		}
		all, err := s.d.Store.TenantFilterFiles(ctx)
		if err != nil {
			return Deleted{}, fmt.Errorf("load tenant filters: %w", err)
		}
		files = all[t]
	} else {
		if r = ruleByID(rs.rules, ruleID); r == nil {
			return Deleted{}, fmt.Errorf("%w: %s", ErrUnknownRule, ruleID)
		}
		if users := correlationsUsing(rs.rules, r); len(users) > 0 {
			return Deleted{}, fmt.Errorf("%w: %s (%q) is used by the correlation %s: delete that first, or import it again without this rule", ErrRuleInUse, ruleID, r.Title, strings.Join(users, ", "))
		}
		var err error
		if files, err = s.d.Store.RuleFiles(ctx); err != nil {
			return Deleted{}, fmt.Errorf("load rules: %w", err)
		}
	}
	d := Deleted{RuleID: ruleID, Title: r.Title, Kind: kindOf(r), Tenant: t, Files: []string{}}
	var drop []string
	var keep []RuleFile
	for _, f := range files {
		data, left, changed, err := withoutRule(f.Name, f.Data, ruleID)
		if err != nil {
			return Deleted{}, err
		}
		if !changed {
			continue
		}
		d.Files = append(d.Files, f.Name)
		if left == 0 {
			drop = append(drop, f.Key)
			continue
		}
		f.Data = data
		keep = append(keep, f)
	}
	if len(drop) == 0 && len(keep) == 0 {
		return Deleted{}, fmt.Errorf("%w: %s is in no stored file", ErrUnknownRule, ruleID)
	}
	put, del := s.d.Store.PutRuleFiles, s.d.Store.DeleteRuleFiles
	if t != "" {
		put = func(ctx context.Context, fs []RuleFile) error { return s.d.Store.PutTenantFilterFiles(ctx, t, fs) }
		del = func(ctx context.Context, keys []string) error { return s.d.Store.DeleteTenantFilterFiles(ctx, t, keys) }
	}
	if len(keep) > 0 {
		if err := put(ctx, keep); err != nil {
			return Deleted{}, err
		}
	}
	if len(drop) > 0 {
		if err := del(ctx, drop); err != nil {
			return Deleted{}, err
		}
	}
	if err := s.reload(ctx); err != nil {
		return Deleted{}, err
	}
	s.changed(ctx)
	return d, nil
}

func ruleByID(rules []*sigma.Rule, id string) *sigma.Rule {
	for _, r := range rules {
		if r.ID == id {
			return r
		}
	}
	return nil
}

func kindOf(r *sigma.Rule) string {
	switch {
	case r.Correlation != nil:
		return "correlation"
	case r.Filter != nil:
		return "filter"
	}
	return "detection"
}

// correlationsUsing lists the correlations of rules, other than r, that
// refer to r by id or name.
func correlationsUsing(rules []*sigma.Rule, r *sigma.Rule) []string {
	var out []string
	for _, c := range rules {
		if c.Correlation == nil || c.ID == r.ID {
			continue
		}
		for _, ref := range c.Correlation.Rules {
			if ref == r.ID || r.Name != "" && ref == r.Name {
				out = append(out, fmt.Sprintf("%s (%q)", c.ID, c.Title))
				break
			}
		}
	}
	return out
}

// docMarker is a line that starts or ends a YAML document.
var docMarker = regexp.MustCompile(`^(---|\.\.\.)(\s.*)?$`)

// withoutRule returns file data with the documents of rule id blanked out
// (so the other documents keep their line numbers), how many rules are
// left, and whether the file held the rule at all.
func withoutRule(name string, data []byte, id string) ([]byte, int, bool, error) {
	rules, err := sigma.Parse(name, data)
	n := 0
	for _, r := range rules {
		if r.ID == id {
			n++
		}
	}
	switch {
	case n == 0:
		return data, len(rules), false, nil
	case err != nil:
		return nil, 0, false, fmt.Errorf("stored file %s no longer parses (%v): import it again without rule %s", name, err, id)
	case n == len(rules):
		return nil, 0, true, nil
	}
	lines := strings.SplitAfter(string(data), "\n")
	var markers []int // line indexes (from 0) of document markers
	for i, l := range lines {
		if docMarker.MatchString(strings.TrimRight(l, "\r\n")) {
			markers = append(markers, i)
		}
	}
	var want []string
	for _, r := range rules {
		if r.ID != id {
			want = append(want, r.ID)
			continue
		}
		at := r.Line - 1
		from, to := 0, len(lines)
		for _, m := range markers {
			if m < at {
				from = m + 1
			} else {
				to = m
				break
			}
		}
		for i := from; i < to; i++ {
			lines[i] = "\n"
		}
	}
	out := []byte(strings.Join(lines, ""))
	left, err := sigma.Parse(name, out)
	var got []string
	for _, r := range left {
		got = append(got, r.ID)
	}
	if err != nil || !slices.Equal(got, want) {
		return nil, 0, false, fmt.Errorf("cannot take rule %s out of stored file %s, which holds other rules: import that file again without it", id, name)
	}
	return out, len(left), true, nil
}
