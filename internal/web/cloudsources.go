package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/poll"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// CloudSources manages the tenants' polled cloud sources (Microsoft 365 /
// Entra ID). The secret goes in with Add and never comes out.
type CloudSources interface {
	Add(ctx context.Context, t tenant.ID, n poll.NewSource) (poll.Info, error)
	List(ctx context.Context, t tenant.ID) ([]poll.Info, error)
	Remove(ctx context.Context, t tenant.ID, id int64) error
}

// maxCloudSourceBody caps a cloud source definition.
const maxCloudSourceBody = 64 << 10

func (a *API) registerCloudSources() {
	a.route("GET /api/v1/cloud-sources", admins, a.getCloudSources)
	a.route("POST /api/v1/cloud-sources", admins, a.postCloudSource)
	a.route("DELETE /api/v1/cloud-sources/{id}", admins, a.deleteCloudSource)
}

// cloudSourceTenant is the tenant a request is about: a tenant admin's own,
// or the one a provider-admin names with ?tenant=; anyone else is refused.
func (a *API) cloudSourceTenant(r *http.Request, p auth.Principal) (tenant.ID, error) {
	if a.d.CloudSources == nil {
		return "", &apiError{http.StatusNotFound, "not_found", "cloud sources are not enabled on this server"}
	}
	t, err := ruleTenant(r, p)
	if err != nil {
		return "", err
	}
	if t == "" {
		return "", badRequest("tenant: name the tenant with ?tenant=<id>")
	}
	if !p.CanAdminister(t) {
		return "", fmt.Errorf("%w: cloud sources are for provider-admin or the tenant's admin", auth.ErrForbidden)
	}
	if _, err := a.d.Tenants.Tenant(r.Context(), t); err != nil {
		return "", err
	}
	return t, nil
}

func cloudSourceError(err error) error {
	switch {
	case errors.Is(err, poll.ErrInvalid):
		return badRequest(err.Error())
	case errors.Is(err, poll.ErrNotFound):
		return &apiError{http.StatusNotFound, "cloud_source_not_found", err.Error()}
	}
	return err
}

func (a *API) getCloudSources(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	t, err := a.cloudSourceTenant(r, p)
	if err != nil {
		return err
	}
	if err := a.auditProviderRead(r, p, "cloudsources.read", t); err != nil {
		return err
	}
	l, err := a.d.CloudSources.List(r.Context(), t)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"cloud_sources": l})
	return nil
}

func (a *API) postCloudSource(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	t, err := a.cloudSourceTenant(r, p)
	if err != nil {
		return err
	}
	var n poll.NewSource
	dec := json.NewDecoder(io.LimitReader(r.Body, maxCloudSourceBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil {
		// The decoder's message never quotes values, so the secret stays out.
		return badRequest("JSON body: " + err.Error())
	}
	// A stream named twice would be polled twice each round and listed
	// twice in the source's health.
	for i, st := range n.Streams {
		if slices.Contains(n.Streams[:i], st) {
			return badRequest(fmt.Sprintf("invalid cloud source: streams: %q named twice", st))
		}
	}
	info, err := a.d.CloudSources.Add(r.Context(), t, n)
	if err != nil {
		return cloudSourceError(err)
	}
	if err := a.audit(r.Context(), p, "cloud_source.add", string(t), fmt.Sprintf("id=%d name=%q directory_tenant=%s client_id=%s", info.ID, info.Name, info.DirectoryTenant, info.ClientID)); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, info)
	return nil
}

func (a *API) deleteCloudSource(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	t, err := a.cloudSourceTenant(r, p)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return badRequest("id: want the cloud source's number")
	}
	// The audit record names what was removed, as the one of its adding
	// does: an auditor should not need that older record to tell.
	detail := fmt.Sprintf("id=%d", id)
	l, err := a.d.CloudSources.List(r.Context(), t)
	if err != nil {
		return err
	}
	for _, src := range l {
		if src.ID == id {
			detail = fmt.Sprintf("id=%d name=%q directory_tenant=%s client_id=%s", src.ID, src.Name, src.DirectoryTenant, src.ClientID)
		}
	}
	if err := a.d.CloudSources.Remove(r.Context(), t, id); err != nil {
		return cloudSourceError(err)
	}
	if err := a.audit(r.Context(), p, "cloud_source.remove", string(t), detail); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
