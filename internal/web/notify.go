package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/tarian-soc/tarian/internal/alert/notify"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Notifications manages the tenants' (and the provider's) notification
// channels. Secrets go in with Add and never come out.
type Notifications interface {
	Add(ctx context.Context, t tenant.ID, n notify.NewChannel) (notify.Info, error)
	List(ctx context.Context, t tenant.ID) ([]notify.Info, error)
	// ChannelTenant finds a channel's tenant, for provider roles only.
	ChannelTenant(ctx context.Context, id int64) (tenant.ID, error)
	Remove(ctx context.Context, t tenant.ID, id int64) (notify.Info, error)
	Test(ctx context.Context, t tenant.ID, id int64) error
	DeadLetters(ctx context.Context, t tenant.ID, before int64, limit int) ([]notify.DeadLetter, error)
}

// maxChannelBody caps a channel definition.
const maxChannelBody = 64 << 10

func (a *API) registerNotifications() {
	a.route("GET /api/v1/notifications/channels", readers, a.getChannels)
	a.route("POST /api/v1/notifications/channels", admins, a.postChannel)
	a.route("DELETE /api/v1/notifications/channels/{id}", admins, a.deleteChannel)
	a.route("POST /api/v1/notifications/channels/{id}/test", admins, a.postChannelTest)
	a.route("GET /api/v1/notifications/deadletters", readers, a.getNotifyDeadLetters)
}

// notifyTenant is the tenant a request is about: a tenant role's own, or
// the one a provider role names with ?tenant= ("*": the provider's own
// channels). Reading is for every role but ingest; changing is for
// provider-admin and the tenant's admin.
func (a *API) notifyTenant(r *http.Request, p auth.Principal, change bool) (tenant.ID, error) {
	if a.d.Notify == nil {
		return "", &apiError{http.StatusNotFound, "not_found", "notifications are not enabled on this server"}
	}
	requested := r.URL.Query().Get("tenant")
	var t tenant.ID
	switch {
	case p.Role == auth.RoleIngest:
		return "", fmt.Errorf("%w: ingest tokens have no notifications", auth.ErrForbidden)
	case p.Role.Provider() && requested == "":
		return "", badRequest("tenant: name the tenant with ?tenant=<id>, or ?tenant=* for the provider's own channels")
	case p.Role.Provider() && requested == string(notify.Provider):
		t = notify.Provider
	case p.Role.Provider():
		id, err := tenant.Parse(requested)
		if err != nil {
			return "", err
		}
		t = id
	case requested != "" && requested != string(p.Tenant):
		return "", fmt.Errorf("%w: this token may act on tenant %s only", auth.ErrForbidden, p.Tenant)
	default:
		t = p.Tenant
	}
	if change && !p.CanAdminister(t) {
		return "", fmt.Errorf("%w: notification channels are changed by provider-admin or the tenant's admin", auth.ErrForbidden)
	}
	if t != notify.Provider {
		if _, err := a.d.Tenants.Tenant(r.Context(), t); err != nil {
			return "", err
		}
	}
	return t, nil
}

// auditNotifyRead records a provider's read of a member's channels or
// undelivered notifications in the member's chain (the provider's own
// channels are not a member's).
func (a *API) auditNotifyRead(r *http.Request, p auth.Principal, action string, t tenant.ID) error {
	if t == notify.Provider {
		return nil
	}
	return a.auditProviderRead(r, p, action, t)
}

// channelTenant is the tenant of the channel in the path: the caller's
// (tenant roles), the one named with ?tenant=, or, for a provider role
// naming none, the channel's own.
func (a *API) channelTenant(r *http.Request, p auth.Principal) (tenant.ID, int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return "", 0, badRequest("id: want the channel's number")
	}
	if a.d.Notify != nil && p.Role.Provider() && r.URL.Query().Get("tenant") == "" {
		t, err := a.d.Notify.ChannelTenant(r.Context(), id)
		if err != nil {
			return "", 0, notifyError(err)
		}
		if !p.CanAdminister(t) {
			return "", 0, fmt.Errorf("%w: notification channels are changed by provider-admin or the tenant's admin", auth.ErrForbidden)
		}
		return t, id, nil
	}
	t, err := a.notifyTenant(r, p, true)
	return t, id, err
}

func notifyError(err error) error {
	switch {
	case errors.Is(err, notify.ErrInvalid):
		return badRequest(err.Error())
	case errors.Is(err, notify.ErrNotFound):
		return &apiError{http.StatusNotFound, "notification_channel_not_found", err.Error()}
	case errors.Is(err, notify.ErrDelivery):
		return &apiError{http.StatusBadGateway, "notification_failed", err.Error()}
	}
	return err
}

func (a *API) getChannels(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	t, err := a.notifyTenant(r, p, false)
	if err != nil {
		return err
	}
	if err := a.auditNotifyRead(r, p, "notify.channels.read", t); err != nil {
		return err
	}
	l, err := a.d.Notify.List(r.Context(), t)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"tenant": t, "channels": l})
	return nil
}

func (a *API) postChannel(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	t, err := a.notifyTenant(r, p, true)
	if err != nil {
		return err
	}
	var n notify.NewChannel
	dec := json.NewDecoder(io.LimitReader(r.Body, maxChannelBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil {
		// The decoder's message never quotes values, so secrets stay out.
		return badRequest("JSON body: " + err.Error())
	}
	info, err := a.d.Notify.Add(r.Context(), t, n)
	if err != nil {
		return notifyError(err)
	}
	if err := a.auditChange(r.Context(), p, "notify.channel.add", t, info.ID, nil, info); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, info)
	return nil
}

func (a *API) deleteChannel(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	t, id, err := a.channelTenant(r, p)
	if err != nil {
		return err
	}
	info, err := a.d.Notify.Remove(r.Context(), t, id)
	if err != nil {
		return notifyError(err)
	}
	if err := a.auditChange(r.Context(), p, "notify.channel.remove", t, id, info, nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) postChannelTest(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	t, id, err := a.channelTenant(r, p)
	if err != nil {
		return err
	}
	sendErr := a.d.Notify.Test(r.Context(), t, id)
	if errors.Is(sendErr, notify.ErrNotFound) {
		return notifyError(sendErr)
	}
	detail := fmt.Sprintf("id=%d delivered=%v", id, sendErr == nil)
	if err := a.audit(r.Context(), p, "notify.channel.test", string(t), detail); err != nil {
		return err
	}
	if sendErr != nil {
		return notifyError(sendErr)
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "tenant": t, "delivered": true})
	return nil
}

func (a *API) getNotifyDeadLetters(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	t, err := a.notifyTenant(r, p, false)
	if err != nil {
		return err
	}
	if err := a.auditNotifyRead(r, p, "notify.deadletters.read", t); err != nil {
		return err
	}
	q := r.URL.Query()
	limit, before := 100, int64(0)
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > 1000 {
			return badRequest("limit: want 1..1000")
		}
	}
	if s := q.Get("before"); s != "" {
		if before, err = strconv.ParseInt(s, 10, 64); err != nil || before < 1 {
			return badRequest("before: want a dead letter's id")
		}
	}
	dls, err := a.d.Notify.DeadLetters(r.Context(), t, before, limit)
	if err != nil {
		return err
	}
	if dls == nil {
		dls = []notify.DeadLetter{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tenant": t, "dead_letters": dls})
	return nil
}
