package detector

import (
	"sort"
	"strings"
)

// WhyUnmapped is the reason given for rules whose log source the mapping
// does not cover (a mapping file can add it: detection.mapping_file).
const WhyUnmapped = "log source not in the mapping: no Tarian format produces it"

// LogSourceSummary counts the imported rules of one Sigma log source: how
// many run and how many do not, and why.
type LogSourceSummary struct {
	Product  string `json:"product"`
	Category string `json:"category"`
	Service  string `json:"service"`
	// Kind is "detection", "correlation" or "filter" (correlations have no
	// log source of their own).
	Kind string `json:"kind"`
	// Rules is the number of imported rules.
	Rules int `json:"rules"`
	// Active is the number the engine evaluates (for a tenant: and that the
	// tenant has not switched off).
	Active int `json:"active"`
	// Disabled is the number the tenant switched off.
	Disabled int `json:"disabled,omitempty"`
	// NotEvaluated is the number the engine cannot run here.
	NotEvaluated int `json:"not_evaluated"`
	// Why gives the reasons of NotEvaluated, with how many rules each.
	Why map[string]int `json:"why,omitempty"`
}

// Name is the log source as product/category/service, "-" for a part the
// rules leave out.
func (l LogSourceSummary) Name() string {
	part := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	if l.Kind == "correlation" {
		return "(correlation rules)"
	}
	name := part(l.Product) + "/" + part(l.Category) + "/" + part(l.Service)
	if l.Kind == "filter" {
		name += " (filters)"
	}
	return name
}

// Summarize counts rules (as Rules lists them) per log source, those with
// rules that are not evaluated first, then by name.
func Summarize(rules []RuleInfo) []LogSourceSummary {
	type key struct{ product, category, service, kind string }
	by := map[key]*LogSourceSummary{}
	for _, r := range rules {
		k := key{r.Product, r.Category, r.Service, r.Kind}
		s := by[k]
		if s == nil {
			s = &LogSourceSummary{Product: r.Product, Category: r.Category, Service: r.Service, Kind: r.Kind}
			by[k] = s
		}
		s.Rules++
		switch {
		case r.Skipped != "":
			s.NotEvaluated++
			why := r.Skipped
			if r.Unmapped {
				why = WhyUnmapped
			}
			if s.Why == nil {
				s.Why = map[string]int{}
			}
			s.Why[why]++
		case !r.Enabled:
			s.Disabled++
		default:
			s.Active++
		}
	}
	out := make([]LogSourceSummary, 0, len(by))
	for _, s := range by {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].NotEvaluated > 0) != (out[j].NotEvaluated > 0) {
			return out[i].NotEvaluated > 0
		}
		return strings.ToLower(out[i].Name()) < strings.ToLower(out[j].Name())
	})
	return out
}
