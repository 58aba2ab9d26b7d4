package web

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// incidentJSON is one line of the grouped queue: the alerts of one
// intrusion (alerts sharing a host or user within the group window).
type incidentJSON struct {
	ID       int64          `json:"id"`
	Tenant   tenant.ID      `json:"tenant"`
	Alerts   int            `json:"alerts"`
	Events   int64          `json:"events"`
	Risk     int            `json:"risk"`
	Level    string         `json:"level"`
	Open     int            `json:"open"`
	Statuses map[string]int `json:"statuses"`
	// Titles are the rules' titles, highest risk first.
	Titles    []string       `json:"titles"`
	Entities  []alert.Entity `json:"entities"`
	FirstSeen time.Time      `json:"first_seen"`
	LastSeen  time.Time      `json:"last_seen"`
	// AlertIDs are the incident's alerts among those read, newest first.
	AlertIDs []int64 `json:"alert_ids"`
}

// maxGrouped bounds the alerts one grouped listing reads per tenant.
const maxGrouped = 10000

var levelRank = map[string]int{"informational": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

// getIncidents lists the queue one line per incident, riskiest first, from
// each tenant's newest alerts (status= and severity= filter the alerts
// first; limit= bounds the lines).
func (a *API) getIncidents(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	q := r.URL.Query()
	f := alert.Filter{Status: alert.Status(q.Get("status")), Level: q.Get("severity"), Limit: maxGrouped}
	if f.Level != "" && !alert.ValidLevel(f.Level) {
		return badRequest(fmt.Sprintf("severity %q: want one of %s", f.Level, alert.Levels))
	}
	if f.Status != "" && !alert.ValidStatus(f.Status) {
		return badRequest(fmt.Sprintf("status %q: want one of %s", f.Status, alert.Statuses))
	}
	limit := 100
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxGrouped {
			return badRequest(fmt.Sprintf("limit: want 1..%d", maxGrouped))
		}
		limit = n
	}
	ids, err := a.scope(r, p, "alerts.read")
	if err != nil {
		return err
	}
	var out []*incidentJSON
	for _, t := range ids {
		as, err := a.d.Alerts.Alerts(r.Context(), t, f)
		if err != nil {
			return err
		}
		out = append(out, group(as)...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Risk != out[j].Risk {
			return out[i].Risk > out[j].Risk
		}
		return out[i].LastSeen.After(out[j].LastSeen)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	if out == nil {
		out = []*incidentJSON{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"incidents": out})
	return nil
}

// group folds one tenant's alerts (newest first) into their incidents.
func group(as []alert.Alert) []*incidentJSON {
	byID := map[int64]*incidentJSON{}
	var out []*incidentJSON
	risks := map[int64]map[string]int{} // incident → title → highest risk
	for _, al := range as {
		id := al.Incident
		if id == 0 {
			id = -al.ID // not grouped: a line of its own
		}
		in := byID[id]
		if in == nil {
			in = &incidentJSON{ID: al.Incident, Tenant: al.Tenant, Statuses: map[string]int{}, FirstSeen: al.FirstSeen, LastSeen: al.LastSeen}
			byID[id] = in
			risks[id] = map[string]int{}
			out = append(out, in)
		}
		in.Alerts++
		in.Events += al.Count
		in.Risk = max(in.Risk, al.Risk)
		if levelRank[al.Level] >= levelRank[in.Level] {
			in.Level = al.Level
		}
		in.Statuses[string(al.Status)]++
		if al.Status.Open() {
			in.Open++
		}
		if al.FirstSeen.Before(in.FirstSeen) {
			in.FirstSeen = al.FirstSeen
		}
		if al.LastSeen.After(in.LastSeen) {
			in.LastSeen = al.LastSeen
		}
		risks[id][al.Title] = max(risks[id][al.Title], al.Risk)
		for _, e := range al.Entities {
			if !slices.Contains(in.Entities, e) {
				in.Entities = append(in.Entities, e)
			}
		}
		in.AlertIDs = append(in.AlertIDs, al.ID)
	}
	for id, in := range byID {
		for title := range risks[id] {
			in.Titles = append(in.Titles, title)
		}
		sort.Slice(in.Titles, func(i, j int) bool {
			ri, rj := risks[id][in.Titles[i]], risks[id][in.Titles[j]]
			if ri != rj {
				return ri > rj
			}
			return in.Titles[i] < in.Titles[j]
		})
		if in.Entities == nil {
			in.Entities = []alert.Entity{}
		}
	}
	return out
}
