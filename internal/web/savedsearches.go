package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/logstore/logsql"
	"github.com/tarian-soc/tarian/internal/savedsearch"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Saved searches: the hunts a team keeps to run again, and, with a
// schedule, to run on their own and raise alerts. Readers list a space's
// (with each scheduled search's last run); analysts and admins save,
// change and delete them. A member's people use their member's space;
// provider roles use the provider's (the default) or name a member's with
// tenant.

func (a *API) registerSavedSearches() {
	a.route("GET /api/v1/searches", readers, a.getSavedSearches)
	a.route("POST /api/v1/searches", responders, a.postSavedSearch)
	a.route("PUT /api/v1/searches/{id}", responders, a.putSavedSearch)
	a.route("DELETE /api/v1/searches/{id}", responders, a.deleteSavedSearch)
}

// searchSpace is the space a request acts on: a member role's own member
// (another is not found); for provider roles the provider's, or the
// member requested names.
func (a *API) searchSpace(r *http.Request, p auth.Principal, requested string) (tenant.ID, error) {
	if a.d.SavedSearches == nil {
		return "", &apiError{http.StatusNotFound, "not_found", "saved searches are not enabled on this server"}
	}
	if !p.Role.Provider() {
		if requested != "" && tenant.ID(requested) != p.Tenant {
			return "", fmt.Errorf("%w: tenant %s", tenant.ErrNotFound, requested)
		}
		return p.Tenant, nil
	}
	if requested == "" || requested == auth.AllTenants {
		return savedsearch.Provider, nil
	}
	t, err := tenant.Parse(requested)
	if err != nil {
		return "", err
	}
	if _, err := a.d.Tenants.Tenant(r.Context(), t); err != nil {
		return "", err
	}
	return t, nil
}

func (a *API) getSavedSearches(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	space, err := a.searchSpace(r, p, r.URL.Query().Get("tenant"))
	if err != nil {
		return err
	}
	ss, err := a.d.SavedSearches.SavedSearches(r.Context(), space)
	if err != nil {
		return err
	}
	if ss == nil {
		ss = []savedsearch.Search{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"searches": ss})
	return nil
}

// readSavedSearch decodes the body and checks it: the text's limits, and
// the query as the event store's parser reads it.
func readSavedSearch(r *http.Request) (savedsearch.Request, error) {
	var b savedsearch.Request
	dec := json.NewDecoder(io.LimitReader(r.Body, maxActionBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return b, badRequest("JSON body: " + err.Error())
	}
	if err := (savedsearch.Search{Name: b.Name, Query: b.Query, Description: b.Description, Schedule: b.Schedule}).Validate(); err != nil {
		return b, err
	}
	if err := logsql.Check(b.Query); err != nil {
		return b, badRequest("query: " + err.Error())
	}
	return b, nil
}

func (a *API) postSavedSearch(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	b, err := readSavedSearch(r)
	if err != nil {
		return err
	}
	space, err := a.searchSpace(r, p, b.Tenant)
	if err != nil {
		return err
	}
	now := a.now().UTC()
	s, err := a.d.SavedSearches.AddSavedSearch(r.Context(), savedsearch.Search{
		Space: space, Name: b.Name, Query: b.Query, Description: b.Description, Schedule: b.Schedule, Author: p.TokenID, Created: now, Updated: now,
	})
	if err != nil {
		return err
	}
	if err := a.auditChange(r.Context(), p, "search.save", space, s.ID, nil, s); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	writeJSON(w, http.StatusCreated, s)
	return nil
}

func searchID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, fmt.Errorf("%w: %q", savedsearch.ErrNotFound, r.PathValue("id"))
	}
	return id, nil
}

func (a *API) putSavedSearch(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := searchID(r)
	if err != nil {
		return err
	}
	b, err := readSavedSearch(r)
	if err != nil {
		return err
	}
	requested := b.Tenant
	if requested == "" {
		requested = r.URL.Query().Get("tenant")
	}
	space, err := a.searchSpace(r, p, requested)
	if err != nil {
		return err
	}
	before, after, err := a.d.SavedSearches.UpdateSavedSearch(r.Context(), space, id, savedsearch.Search{
		Name: b.Name, Query: b.Query, Description: b.Description, Schedule: b.Schedule, Editor: p.TokenID, Updated: a.now().UTC(),
	})
	if err != nil {
		return err
	}
	if err := a.auditChange(r.Context(), p, "search.update", space, id, before, after); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	writeJSON(w, http.StatusOK, after)
	return nil
}

func (a *API) deleteSavedSearch(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := searchID(r)
	if err != nil {
		return err
	}
	space, err := a.searchSpace(r, p, r.URL.Query().Get("tenant"))
	if err != nil {
		return err
	}
	s, err := a.d.SavedSearches.RemoveSavedSearch(r.Context(), space, id)
	if err != nil {
		return err
	}
	if err := a.auditChange(r.Context(), p, "search.delete", space, id, s, nil); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}
