package web

import (
	"context"
	"net/http"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/health"
	"github.com/tarian-soc/tarian/internal/onboard"
	"github.com/tarian-soc/tarian/internal/savedsearch"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// SourceHealth is log-source health (health.Monitor).
type SourceHealth interface {
	Sources(ctx context.Context, tenants []tenant.ID) ([]health.Source, error)
}

func (a *API) registerSources() {
	a.route("GET /api/v1/sources", readers, a.getSources)
	a.route("GET /api/v1/scorecard", readers, a.getScorecard)
}

// getSources lists the log sources of the tenants the caller may read
// (?tenant=<id> or * for provider principals) with their health.
func (a *API) getSources(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if a.d.Sources == nil {
		return &apiError{http.StatusNotFound, "not_found", "source health is not enabled on this server"}
	}
	ids, err := a.scope(r, p, "sources.read")
	if err != nil {
		return err
	}
	ss, err := a.d.Sources.Sources(r.Context(), ids)
	if err != nil {
		return err
	}
	if ss == nil {
		ss = []health.Source{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sources": ss})
	return nil
}

// getScorecard returns the onboarding scorecard of each tenant the caller
// may read.
func (a *API) getScorecard(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	ids, err := a.scope(r, p, "scorecard.read")
	if err != nil {
		return err
	}
	now := a.d.Alerts.Now()
	var scheduled []savedsearch.Search
	if a.d.SavedSearches != nil {
		if scheduled, err = a.d.SavedSearches.ScheduledSearches(r.Context()); err != nil {
			return err
		}
	}
	out := make([]onboard.Scorecard, 0, len(ids))
	for _, id := range ids {
		t, err := a.d.Tenants.Tenant(r.Context(), id)
		if err != nil {
			return err
		}
		var ss []health.Source
		if a.d.Sources != nil {
			if ss, err = a.d.Sources.Sources(r.Context(), []tenant.ID{id}); err != nil {
				return err
			}
		}
		cov := a.d.Rules.Coverage(id)
		// A scheduled search runs over its member's events, or every
		// member's when it is the provider's.
		for _, s := range scheduled {
			if s.Space == id || s.Space == savedsearch.Provider {
				cov.AddSearch(alert.Techniques(s.Schedule.Tags))
			}
		}
		out = append(out, onboard.Build(t, ss, cov, now))
	}
	writeJSON(w, http.StatusOK, map[string]any{"scorecards": out})
	return nil
}
