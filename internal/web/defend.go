package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/defend"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Defend is defend-as-one as the API uses it (defend.Service).
type Defend interface {
	Confirm(ctx context.Context, t tenant.ID, a alert.Alert) (defend.Shared, error)
	// Withdraw revokes what a reopened confirmation shared.
	Withdraw(ctx context.Context, t tenant.ID, alertID int64) ([]string, error)
	// AlsoSeen says, for each of tenant t's alerts ids, how many other
	// members saw one of its external observables (absent below the
	// k-anonymity threshold).
	AlsoSeen(ctx context.Context, t tenant.ID, ids []int64) (map[int64]int, error)
	Campaigns(ctx context.Context, status string, limit int) ([]defend.Campaign, error)
	Campaign(ctx context.Context, id int64) (defend.Campaign, error)
	// SetStatus closes a campaign or opens it again, and says whether it
	// changed.
	SetStatus(ctx context.Context, id int64, status, by, note string) (defend.Campaign, bool, error)
	// Config is the sharing policy (whether a confirmation shares).
	Config() defend.Config
}

func (a *API) registerDefend() {
	a.route("GET /api/v1/campaigns", providers, a.getCampaigns)
	a.route("GET /api/v1/campaigns/{id}", providers, a.getCampaign)
	a.route("POST /api/v1/campaigns/{id}/{verb}", providers, a.postCampaignStatus)
}

func (a *API) defendEnabled() error {
	if a.d.Defend == nil {
		return &apiError{http.StatusNotFound, "not_found", "this server does not detect campaigns"}
	}
	return nil
}

// getCampaigns lists campaigns; each names how many members it touched,
// not which (those are in the one-campaign view, audited).
func (a *API) getCampaigns(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if err := a.defendEnabled(); err != nil {
		return err
	}
	limit := 100
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 10_000 {
			return badRequest("limit: want 1..10000")
		}
		limit = n
	}
	status := r.URL.Query().Get("status")
	switch status {
	case "", defend.StatusOpen, defend.StatusClosed:
	case "all":
		status = ""
	default:
		return badRequest("status: want open, closed or all")
	}
	cs, err := a.d.Defend.Campaigns(r.Context(), status, limit)
	if err != nil {
		return err
	}
	if cs == nil {
		cs = []defend.Campaign{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaigns": cs})
	return nil
}

// getCampaign shows one campaign with each member's alerts: a view across
// members, so it is audited in the provider's chain and in each member's.
func (a *API) getCampaign(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if err := a.defendEnabled(); err != nil {
		return err
	}
	id, err := campaignID(r)
	if err != nil {
		return err
	}
	c, err := a.d.Defend.Campaign(r.Context(), id)
	if err != nil {
		return err
	}
	detail := "campaign=" + strconv.FormatInt(id, 10)
	if err := a.audit(r.Context(), p, "campaign.read", "", detail); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	seen := map[tenant.ID]bool{}
	for _, l := range c.Links {
		if !seen[l.Tenant] {
			seen[l.Tenant] = true
			if err := a.audit(r.Context(), p, "campaign.read", string(l.Tenant), detail); err != nil {
				return fmt.Errorf("audit: %w", err)
			}
		}
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func campaignID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, fmt.Errorf("%w: %q", defend.ErrNotFound, r.PathValue("id"))
	}
	return id, nil
}

// postCampaignStatus closes a campaign ({"note"} optional: why) or opens
// it again, audited in the provider's chain; a campaign already so is
// answered as it is, unchanged and not audited again.
func (a *API) postCampaignStatus(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if err := a.defendEnabled(); err != nil {
		return err
	}
	status := map[string]string{"close": defend.StatusClosed, "reopen": defend.StatusOpen}[r.PathValue("verb")]
	if status == "" {
		return &apiError{http.StatusNotFound, "not_found", "no campaign action " + r.PathValue("verb") + "; want close or reopen"}
	}
	id, err := campaignID(r)
	if err != nil {
		return err
	}
	var req struct {
		Note string `json:"note"`
	}
	if r.ContentLength != 0 {
		if err := decodeBody(r, &req); err != nil {
			return err
		}
	}
	if status == defend.StatusOpen && req.Note != "" {
		return badRequest("note: a campaign opened again takes no note")
	}
	if len(req.Note) > maxCampaignNote {
		return badRequest(fmt.Sprintf("note: at most %d bytes", maxCampaignNote))
	}
	c, changed, err := a.d.Defend.SetStatus(r.Context(), id, status, p.TokenID, strings.TrimSpace(req.Note))
	if err != nil {
		return err
	}
	if changed {
		detail, err := json.Marshal(map[string]any{"campaign": id, "note": c.CloseNote})
		if err != nil {
			return err
		}
		if err := a.audit(r.Context(), p, "campaign."+r.PathValue("verb"), "", string(detail)); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}
	c.Links = nil // which members: the one-campaign view, audited
	writeJSON(w, http.StatusOK, c)
	return nil
}

// maxCampaignNote is the longest note a campaign's closing keeps.
const maxCampaignNote = 4096

// alsoSeen fills each alert's also_seen: how many other members saw one of
// its external observables, shown only at or above the k-anonymity
// threshold. A member's view of it is a view across members: audited once
// a request, with the alerts it was shown on.
func (a *API) alsoSeen(ctx context.Context, p auth.Principal, js []AlertJSON) error {
	if a.d.Defend == nil {
		return nil
	}
	// One look-up a tenant on the page, not one an alert.
	ids := map[tenant.ID][]int64{}
	for _, j := range js {
		ids[j.Tenant] = append(ids[j.Tenant], j.ID)
	}
	seen := make(map[tenant.ID]map[int64]int, len(ids))
	for t, tids := range ids {
		ns, err := a.d.Defend.AlsoSeen(ctx, t, tids)
		if err != nil {
			return err
		}
		seen[t] = ns
	}
	var shown []string
	for i := range js {
		if n := seen[js[i].Tenant][js[i].ID]; n > 0 {
			js[i].AlsoSeen = n
			shown = append(shown, strconv.FormatInt(js[i].ID, 10))
		}
	}
	if len(shown) > 0 && !p.Role.Provider() {
		if err := a.audit(ctx, p, "alerts.also_seen", string(p.Tenant), "alerts="+strings.Join(shown, ",")); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}
	return nil
}

// sharing reports whether a provider's true positive shares
// (defend.share): with it off, a confirmation says nothing of sharing
// and records no share.
func (a *API) sharing() bool {
	return a.d.Defend != nil && a.d.Defend.Config().Share
}

// withdraw takes back what a provider's true positive shared when a
// provider role reopens it (a member reopening the alert does not take
// back the provider's intelligence), audited in the member's chain.
func (a *API) withdraw(ctx context.Context, p auth.Principal, before, after alert.Alert) ([]string, error) {
	if a.d.Defend == nil || !p.Role.Provider() || before.Resolution != alert.TruePositive || after.Status == alert.StatusResolved {
		return nil, nil
	}
	ids, err := a.d.Defend.Withdraw(ctx, after.Tenant, after.ID)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	detail, _ := json.Marshal(map[string]any{"alert": after.ID, "indicators": ids})
	if err := a.audit(ctx, p, "intel.withdraw", string(after.Tenant), string(detail)); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return ids, nil
}

// share shares a provider's true positive (unless the request said not
// to), and says what it shared.
func (a *API) share(ctx context.Context, p auth.Principal, before, after alert.Alert, noShare bool) (*defend.Shared, error) {
	if !a.sharing() || noShare || !p.Role.Provider() || after.Resolution != alert.TruePositive || before.Resolution == alert.TruePositive {
		return nil, nil
	}
	return a.confirm(ctx, p, after)
}

// confirm shares one confirmed alert's external observables, audited in
// the member's chain. With sharing off it shares nothing and records
// nothing.
func (a *API) confirm(ctx context.Context, p auth.Principal, after alert.Alert) (*defend.Shared, error) {
	if !a.sharing() {
		return &defend.Shared{}, nil
	}
	sh, err := a.d.Defend.Confirm(ctx, after.Tenant, after)
	if err != nil {
		return nil, err
	}
	detail, err := defend.ShareDetail(after.ID, sh)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	if err := a.audit(ctx, p, "intel.share", string(after.Tenant), detail); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return &sh, nil
}
