package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/tarian-soc/tarian/internal/advisory"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Advisories is the advisory service as the API uses it
// (advisory.Service).
type Advisories interface {
	Publish(ctx context.Context, a advisory.Advisory, author string) (advisory.Advisory, error)
	List(ctx context.Context, viewer tenant.ID, provider bool) ([]advisory.Entry, error)
	Show(ctx context.Context, id int64, viewer tenant.ID, provider bool) (advisory.Detail, error)
	Acknowledge(ctx context.Context, id int64, t tenant.ID, by string) (advisory.Ack, error)
}

// members are a member body's people: every tenant role but ingest.
var members = roles{auth.RoleTenantViewer, auth.RoleTenantAnalyst, auth.RoleTenantAdmin}

// maxAdvisoryBody bounds a published advisory.
const maxAdvisoryBody = 1 << 20

func (a *API) registerAdvisories() {
	a.route("POST /api/v1/advisories", providers, a.postAdvisory)
	a.route("GET /api/v1/advisories", readers, a.getAdvisories)
	a.route("GET /api/v1/advisories/{id}", readers, a.getAdvisory)
	a.route("POST /api/v1/advisories/{id}/ack", members, a.postAdvisoryAck)
}

func (a *API) advisoriesEnabled() error {
	if a.d.Advisories == nil {
		return &apiError{http.StatusNotFound, "not_found", "this server has no advisories"}
	}
	return nil
}

// advisoryError maps the advisory package's errors to the catalogue's
// codes.
func advisoryError(err error) error {
	switch {
	case errors.Is(err, advisory.ErrNotFound):
		return &apiError{http.StatusNotFound, "not_found", err.Error()}
	case errors.Is(err, advisory.ErrInvalid):
		return badRequest(err.Error())
	}
	return err
}

// advisoryReader resolves who reads: provider staff every advisory (naming
// a tenant reads what is addressed to it, audited); members what is
// addressed to them.
func (a *API) advisoryReader(r *http.Request, p auth.Principal, action string) (tenant.ID, bool, error) {
	if err := a.advisoriesEnabled(); err != nil {
		return "", false, err
	}
	requested := r.URL.Query().Get("tenant")
	switch {
	case p.Role.Provider() && (requested == "" || requested == auth.AllTenants):
		return "", true, nil
	case p.Role.Provider():
		t, err := tenant.Parse(requested)
		if err != nil {
			return "", false, err
		}
		if _, err := a.d.Tenants.Tenant(r.Context(), t); err != nil {
			return "", false, err
		}
		return t, false, a.auditProviderRead(r, p, action, t)
	case p.Tenant == "":
		return "", false, fmt.Errorf("%w: role %s reads no advisories", auth.ErrForbidden, p.Role)
	case requested != "" && tenant.ID(requested) != p.Tenant:
		return "", false, fmt.Errorf("%w: this principal reads tenant %s's advisories only", auth.ErrForbidden, p.Tenant)
	}
	return p.Tenant, false, nil
}

// advisoryRequest is a published advisory: JSON, or YAML (a file as the
// CLI reads it). Audience absent is every member.
type advisoryRequest struct {
	TitleEN    string   `yaml:"title_en"`
	TitleCY    string   `yaml:"title_cy"`
	SummaryEN  string   `yaml:"summary_en"`
	SummaryCY  string   `yaml:"summary_cy"`
	ActionsEN  string   `yaml:"actions_en"`
	ActionsCY  string   `yaml:"actions_cy"`
	TLP        string   `yaml:"tlp"`
	Indicators []string `yaml:"indicators"`
	Audience   []string `yaml:"audience"`
}

// postAdvisory publishes an advisory (provider roles), from a JSON body
// or the YAML of a file; TLP:AMBER by default.
func (a *API) postAdvisory(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if err := a.advisoriesEnabled(); err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAdvisoryBody+1))
	if err != nil {
		return badRequest("body: " + err.Error())
	}
	if len(body) > maxAdvisoryBody {
		return &apiError{http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("an advisory may be %d KiB at most", maxAdvisoryBody>>10)}
	}
	// YAML reads JSON as well.
	var req advisoryRequest
	dec := yaml.NewDecoder(bytes.NewReader(body))
	dec.KnownFields(true)
	if err := dec.Decode(&req); err != nil {
		return badRequest("advisory (JSON or YAML): " + err.Error())
	}
	adv := advisory.Advisory{TitleEN: req.TitleEN, TitleCY: req.TitleCY, SummaryEN: req.SummaryEN, SummaryCY: req.SummaryCY,
		ActionsEN: req.ActionsEN, ActionsCY: req.ActionsCY, TLP: intel.TLPAmber, Indicators: req.Indicators}
	if req.TLP != "" {
		if adv.TLP, err = intel.ParseTLP(req.TLP); err != nil {
			return badRequest(err.Error())
		}
	}
	if req.Audience != nil {
		adv.Audience = []tenant.ID{}
		for _, s := range req.Audience {
			t, err := tenant.Parse(s)
			if err != nil {
				return badRequest("audience: " + err.Error())
			}
			adv.Audience = append(adv.Audience, t)
		}
	}
	adv, err = a.d.Advisories.Publish(r.Context(), adv, p.TokenID)
	if err != nil {
		return advisoryError(err)
	}
	if err := a.auditChange(r.Context(), p, "advisory.publish", "", adv.ID, nil, adv); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, adv)
	return nil
}

// getAdvisories lists the advisories the reader may see: a member's with
// its own acknowledgement, the provider's with how many recipients have
// acknowledged.
func (a *API) getAdvisories(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	viewer, provider, err := a.advisoryReader(r, p, "advisory.read")
	if err != nil {
		return err
	}
	es, err := a.d.Advisories.List(r.Context(), viewer, provider)
	if err != nil {
		return advisoryError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"advisories": es})
	return nil
}

// getAdvisory shows one advisory: to the provider with every recipient's
// acknowledgement and where its indicators have been seen since (a
// cross-member view, audited); to a member with its own only.
func (a *API) getAdvisory(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	viewer, provider, err := a.advisoryReader(r, p, "advisory.read")
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return &apiError{http.StatusNotFound, "not_found", "no advisory " + r.PathValue("id")}
	}
	d, err := a.d.Advisories.Show(r.Context(), id, viewer, provider)
	if err != nil {
		return advisoryError(err)
	}
	if provider {
		if err := a.audit(r.Context(), p, "advisory.read", auth.AllTenants, fmt.Sprintf(`{"id":%d}`, id)); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// postAdvisoryAck records that the caller's member body has read the
// advisory; acknowledging again changes nothing and returns the first.
func (a *API) postAdvisoryAck(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if err := a.advisoriesEnabled(); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return &apiError{http.StatusNotFound, "not_found", "no advisory " + r.PathValue("id")}
	}
	k, err := a.d.Advisories.Acknowledge(r.Context(), id, p.Tenant, p.TokenID)
	if err != nil {
		return advisoryError(err)
	}
	if err := a.auditChange(r.Context(), p, "advisory.ack", p.Tenant, id, nil, k); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, k)
	return nil
}
