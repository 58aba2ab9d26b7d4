package indicators

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/intel/match"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// huntBatch is how many queued indicators one retro-hunt query takes.
const huntBatch = 100

// The hunter's pace: how often it looks at the queue for indicators other
// nodes queued, and how long it waits after a failed hunt (doubling up to
// huntRetryMax) before trying the queue again.
const (
	huntPoll     = 5 * time.Second
	huntRetry    = 30 * time.Second
	huntRetryMax = 10 * time.Minute
)

// interrupted is the error of a retro-hunt cut short by a stop or a crash.
const interrupted = "interrupted (the node stopped); hunted again from the queue"

// RunRetroHunts runs the queued retro-hunts until ctx ends: the indicators
// imported on this node or any other sharing the state store, in batches
// of huntBatch. An indicator leaves the queue only once its hunts are
// recorded, so a crash or a stop loses none. Run it on one node at a time
// (the server runs it as scheduled work under a cluster-wide lease): it
// starts by marking the hunts still "running" as interrupted.
func (s *Service) RunRetroHunts(ctx context.Context) {
	if !s.hunting {
		return
	}
	if n, err := s.d.Store.InterruptRetroHunts(ctx, s.d.Now().UTC(), interrupted); err != nil {
		s.d.Log.Error("intel: mark interrupted retro-hunts", "err", err)
	} else if n > 0 {
		s.d.Log.Warn("intel: retro-hunts cut short by a stop are hunted again", "hunts", n)
	}
	retry := huntRetry
	for {
		more, err := s.huntQueued(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.d.Log.Error("intel: retro-hunt failed; the queue is tried again", "err", err, "in", retry.String())
			select {
			case <-ctx.Done():
				return
			case <-time.After(retry):
			}
			retry = min(2*retry, huntRetryMax)
			continue
		}
		retry = huntRetry
		if more {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-time.After(huntPoll):
		}
	}
}

// huntQueued hunts the oldest batch of the queue and removes it from the
// queue; false when the queue was empty. An indicator gone (its member
// removed), revoked or with nothing to search for is dropped unhunted. A
// hunt the event store refuses (a bad query) is recorded as failed and
// leaves the queue; any other failure leaves the batch queued.
func (s *Service) huntQueued(ctx context.Context) (bool, error) {
	qs, err := s.d.Store.QueuedRetroHunts(ctx, huntBatch)
	if err != nil || len(qs) == 0 {
		return false, err
	}
	var is []intel.Indicator
	for _, q := range qs {
		i, err := s.d.Store.Indicator(ctx, q.IndicatorID)
		if errors.Is(err, intel.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		switch {
		case i.Revoked:
		case huntQuery(i) != "":
			is = append(is, i)
		case unhuntable(i) != "":
			if err := s.skipHunts(ctx, i, unhuntable(i)); err != nil {
				return false, err
			}
		}
	}
	if len(is) > 0 && s.d.Stored != nil {
		if err := s.d.Stored(ctx); err != nil {
			return false, fmt.Errorf("wait for the event store: %w", err)
		}
	}
	if len(is) > 0 {
		err := s.Hunt(ctx, is...)
		if errors.Is(err, logstore.ErrBadQuery) {
			s.d.Log.Error("intel: the event store refused a retro-hunt; its indicators leave the queue", "indicators", len(is), "first", is[0].ID, "err", err)
		} else if err != nil {
			return false, err
		}
	}
	return true, s.d.Store.DequeueRetroHunts(context.WithoutCancel(ctx), qs)
}

// skipHunts records, for each tenant indicator i applies to, that it is
// not hunted and why: `tarian intel hunts` says so, rather than show no
// hunt at all.
func (s *Service) skipHunts(ctx context.Context, i intel.Indicator, why string) error {
	all, err := s.d.Tenants(ctx)
	if err != nil {
		return err
	}
	now := s.d.Now().UTC()
	for _, t := range all {
		if !i.AppliesTo(t) {
			continue
		}
		h, err := s.d.Store.CreateRetroHunt(ctx, intel.RetroHunt{IndicatorID: i.ID, Tenant: t, Status: intel.HuntSkipped, Since: now.Add(-s.cfg.RetroHunt), Created: now})
		if err != nil {
			return err
		}
		h.Finished, h.Error = now, why
		if err := s.d.Store.UpdateRetroHunt(ctx, h); err != nil {
			return err
		}
	}
	return nil
}

// unhuntable says why indicator i, a STIX pattern with no observables,
// cannot be retro-hunted; "" when it can, or is not such a pattern.
func unhuntable(i intel.Indicator) string {
	if len(i.Observables) > 0 || i.Pattern == "" {
		return ""
	}
	if _, err := patternHunt(i.Pattern); err != nil {
		return "not retro-hunted: no search can find what the pattern matches (" + err.Error() + "); it is matched on new events only"
	}
	return ""
}

func matchable(i intel.Indicator) []intel.Observable {
	var out []intel.Observable
	for _, o := range i.Observables {
		if o.Warninglist == "" {
			out = append(out, o)
		}
	}
	return out
}

// Hunt searches the stored events of every tenant the indicators apply
// to, back as far as the configuration says, with one query per tenant,
// and raises an alert (producer retrohunt) for each event an indicator
// matches. Each indicator's hunt in each tenant is recorded with its
// progress.
func (s *Service) Hunt(ctx context.Context, is ...intel.Indicator) error {
	all, err := s.d.Tenants(ctx)
	if err != nil {
		return err
	}
	now := s.d.Now().UTC()
	for _, t := range all {
		var mine []intel.Indicator
		for _, i := range is {
			if i.AppliesTo(t) && huntQuery(i) != "" {
				mine = append(mine, i)
			}
		}
		if len(mine) == 0 {
			continue
		}
		if err := s.huntTenant(ctx, t, now, mine); err != nil {
			return err
		}
	}
	return nil
}

// maxHuntQuery bounds the text of one retro-hunt query: a VictoriaLogs
// server refuses a longer query than its -search.maxQueryLen (16 KiB by
// default), and the embedded store gains nothing from longer ones.
const maxHuntQuery = 12 << 10

// huntTenant hunts indicators over tenant t's events, in as few queries as
// keep each under maxHuntQuery (an indicator whose query alone is longer
// goes alone).
func (s *Service) huntTenant(ctx context.Context, t tenant.ID, now time.Time, is []intel.Indicator) error {
	for len(is) > 0 {
		n, size := 0, 0
		for ; n < len(is); n++ {
			q := len(huntQuery(is[n])) + len("() OR ")
			if n > 0 && size+q > maxHuntQuery {
				break
			}
			size += q
		}
		if err := s.huntOnce(ctx, t, now, is[:n]); err != nil {
			return err
		}
		is = is[n:]
	}
	return nil
}

// huntOnce hunts indicators over tenant t's events: one query, every
// candidate checked by a matcher holding just them.
func (s *Service) huntOnce(ctx context.Context, t tenant.ID, now time.Time, is []intel.Indicator) error {
	hs := make(map[string]*intel.RetroHunt, len(is))
	idx, pats := match.New(), newPatterns()
	var parts []string
	earliest := now
	for _, i := range is {
		h, err := s.d.Store.CreateRetroHunt(ctx, intel.RetroHunt{IndicatorID: i.ID, Tenant: t, Status: intel.HuntRunning, Since: now.Add(-s.cfg.RetroHunt), Created: now})
		if err != nil {
			return err
		}
		hs[i.ID] = &h
		idx.Put(i)
		pats.put(i)
		parts = append(parts, "("+huntQuery(i)+")")
		earliest = h.Since
	}
	scanned, err := s.search(ctx, t, is, idx, pats, strings.Join(parts, " OR "), earliest, hs)
	for _, h := range hs {
		h.Scanned, h.Finished, h.Status = scanned, s.d.Now().UTC(), intel.HuntDone
		switch {
		case err != nil && ctx.Err() != nil:
			h.Status, h.Error = intel.HuntFailed, interrupted
		case err != nil:
			h.Status, h.Error = intel.HuntFailed, err.Error()
		}
		if uerr := s.d.Store.UpdateRetroHunt(context.WithoutCancel(ctx), *h); uerr != nil {
			return uerr
		}
	}
	return err
}

// search runs the hunt's query over tenant t's events since since and
// raises what the index matches; it returns the candidates examined.
func (s *Service) search(ctx context.Context, t tenant.ID, is []intel.Indicator, idx *match.Index, pats *patterns, q string, since time.Time, hs map[string]*intel.RetroHunt) (int, error) {
	var (
		ds   []alert.Detection
		keys []string // the observable each detection's event holds
	)
	flush := func() error {
		if len(ds) == 0 {
			return nil
		}
		raise := ds
		if s.d.Alerted != nil {
			known, err := s.d.Alerted(ctx, t, ds, keys)
			if err != nil {
				return fmt.Errorf("events already alerted: %w", err)
			}
			raise = nil
			var seen []string
			for i, d := range ds {
				if !known[i] {
					raise = append(raise, d)
				} else if id, ok := strings.CutPrefix(d.RuleID, "intel:"); ok && !slices.Contains(seen, id) {
					seen = append(seen, id)
				}
			}
			if err := s.sightedKnown(ctx, t, seen); err != nil {
				return err
			}
		}
		ds, keys = ds[:0], keys[:0]
		if len(raise) == 0 {
			return nil
		}
		cs, err := s.d.Alerts.Raise(ctx, t, raise)
		if err != nil {
			return err
		}
		return s.Sighted(ctx, t, cs)
	}
	scanned := 0
	err := s.d.Search.Search(ctx, logstore.Query{Tenants: []tenant.ID{t}, LogsQL: q, From: since, Limit: s.cfg.RetroHuntLimit}, func(r logstore.Row) error {
		scanned++
		var hits []match.Hit
		// Intelligence about the past is what a retro-hunt is for: an
		// event before the indicator's valid_from still counts (only
		// expiry is honoured), so it is matched at the later of the two.
		at := maxTime(r.Time, latestValidFrom(is))
		idx.Match(t, at, r.Fields, func(m match.Hit) { hits = append(hits, m) })
		matched := pats.match(t, at, r.Fields)
		if len(hits) == 0 && len(matched) == 0 {
			return nil
		}
		base := alert.StoredDetection(r.Time, r.Fields)
		found := s.detections(ctx, t, hits, base, alert.ProducerRetroHunt)
		var foundKeys []string // the observable each detection's event holds
		for _, d := range found {
			foundKeys = append(foundKeys, observedKey(d.RuleID, hits))
		}
		for _, i := range matched {
			found = append(found, patternDetection(i, base, alert.ProducerRetroHunt))
			foundKeys = append(foundKeys, patternKey(i.Pattern, r.Fields))
		}
		for k, d := range found {
			d.Title = "Retro-hunt: " + strings.TrimPrefix(d.Title, "Threat intelligence: ")
			d.Tags = append(d.Tags, "retro")
			ds, keys = append(ds, d), append(keys, foundKeys[k])
			if id, ok := strings.CutPrefix(d.RuleID, "intel:"); ok && hs[id] != nil {
				hs[id].Hits++
			}
		}
		if len(ds) >= 500 {
			return flush()
		}
		return nil
	})
	if err != nil {
		return scanned, err
	}
	return scanned, flush()
}

// sightedKnown records that tenant t saw the indicators ids in events it
// had an alert for already (a retro-hunt raises those no second time): a
// sighting of count one for a member that has none yet, so another hunt
// of the same events adds nothing, and the anonymised sightings count the
// member.
func (s *Service) sightedKnown(ctx context.Context, t tenant.ID, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	now := s.d.Now().UTC()
	ss := make([]intel.Sighting, len(ids))
	for i, id := range ids {
		ss[i] = intel.Sighting{IndicatorID: id, Tenant: t, FirstSeen: now, LastSeen: now, Count: 1, Total: true}
	}
	ss, err := s.newSightings(ctx, ss, nil)
	if err != nil || len(ss) == 0 {
		return err
	}
	if err := s.d.Store.AddSightings(ctx, ss); err != nil {
		return err
	}
	return s.shareSightings(ctx, ss)
}

// observedKey names the observable of indicator rule's hit as the event
// holds it ("type:value", normalised as alert observables are): the
// domain an event queried, not the parent domain an indicator named.
func observedKey(rule string, hits []match.Hit) string {
	for _, h := range hits {
		if "intel:"+h.Indicator != rule {
			continue
		}
		v, err := intel.Normalize(h.Observable.Type, h.Value)
		if err != nil {
			v = h.Observable.Value
		}
		return string(h.Observable.Type) + ":" + v
	}
	return ""
}

// latestValidFrom is the latest valid_from of the indicators: matching at
// it (or at the event's time, when later) finds every indicator valid.
func latestValidFrom(is []intel.Indicator) time.Time {
	var t time.Time
	for _, i := range is {
		t = maxTime(t, i.ValidFrom)
	}
	return t
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// huntQuery is the LogsQL query for the events that may hold one of i's
// observables: a phrase search in each field the matcher reads for its
// type (an address range with ipv4_range); for a pattern, those of its
// comparisons (patternHunt). The matcher then checks each candidate
// exactly. "" when there is nothing to search for.
func huntQuery(i intel.Indicator) string {
	if len(i.Observables) == 0 && i.Pattern != "" {
		// A STIX pattern the index cannot hold: its comparisons as a
		// search (patternHunt), every candidate checked by the pattern.
		q, err := patternHunt(i.Pattern)
		if err != nil {
			return ""
		}
		return q
	}
	var parts []string
	for _, o := range matchable(i) {
		for _, f := range match.FieldsFor(o.Type) {
			parts = append(parts, fieldFilter(f, o))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, " OR ")
}

func fieldFilter(field string, o intel.Observable) string {
	f := quoteField(field)
	switch o.Type {
	case intel.TypeCIDR:
		if strings.Contains(o.Value, ":") {
			return f + ":ipv6_range(" + o.Value + ")"
		}
		return f + ":ipv4_range(" + o.Value + ")"
	case intel.TypeEmailSubject:
		return f + ":=" + strconv.Quote(o.Value)
	}
	return f + ":i(" + strconv.Quote(o.Value) + ")"
}

var plainField = regexp.MustCompile(`^[A-Za-z0-9_.@]+$`)

func quoteField(f string) string {
	if plainField.MatchString(f) {
		return f
	}
	return strconv.Quote(f)
}
