package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/feed"
	"github.com/tarian-soc/tarian/internal/incident"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// getStream is GET /api/v1/stream: alert and case changes as server-sent
// events, scoped like search (tenant=ID, or * for provider roles). Case
// changes not escalated to their member reach provider roles only. A
// Last-Event-ID header (or last_event_id parameter) resumes after that
// message while the hub still holds the ones since.
func (a *API) getStream(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if a.d.Feed == nil {
		return &apiError{http.StatusNotFound, "not_found", "the live stream is not enabled on this server"}
	}
	q := r.URL.Query()
	kinds := map[feed.Kind]bool{feed.KindAlert: true, feed.KindCase: true}
	if s := q.Get("kind"); s != "" {
		kinds = map[feed.Kind]bool{}
		for k := range strings.SplitSeq(s, ",") {
			switch k := feed.Kind(strings.TrimSpace(k)); k {
			case feed.KindAlert, feed.KindCase:
				kinds[k] = true
			default:
				return badRequest(fmt.Sprintf("kind %q: want alert, case or both (alert,case)", k))
			}
		}
	}
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = q.Get("last_event_id")
	}
	var after uint64
	if last != "" {
		n, err := strconv.ParseUint(strings.TrimSpace(last), 10, 64)
		if err != nil {
			return badRequest("Last-Event-ID: not an event id this stream sent")
		}
		after = n
	}
	ids, err := a.scope(r, p, "stream.read")
	if err != nil {
		return err
	}
	filter := streamFilter(p, q.Get("tenant") == auth.AllTenants, ids, kinds)
	var ch <-chan feed.Message
	var cancel func()
	if last != "" {
		ch, cancel, err = a.d.Feed.Resume(after, filter)
	} else {
		ch, cancel = a.d.Feed.Subscribe(filter)
	}
	if errors.Is(err, feed.ErrClosed) {
		return &apiError{http.StatusServiceUnavailable, "unavailable", "the server is shutting down; reconnect"}
	}
	defer cancel()

	rc := http.NewResponseController(w)
	// A stream outlives any write timeout the server may set.
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write([]byte(": tarian live stream\n\n")); err != nil {
		return nil
	}
	if err := rc.Flush(); err != nil {
		return nil
	}
	every := a.d.Feed.Config().Keepalive
	keepalive := time.NewTicker(every)
	defer keepalive.Stop()
	var buf []byte
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-keepalive.C:
			buf = append(buf[:0], ": keepalive\n\n"...)
		case m, ok := <-ch:
			if !ok {
				return nil // the hub closed: the server is shutting down
			}
			buf = appendEvent(buf[:0], m)
			keepalive.Reset(every)
			if m.Kind == feed.KindOverflow {
				// The subscription has ended; the client reconnects
				// with Last-Event-ID and resumes from the ring.
				a.d.Log.Info("live stream client fell behind; told to reconnect", "token", p.TokenID, "role", p.Role)
				_, _ = w.Write(buf)
				_ = rc.Flush()
				return nil
			}
		}
		// Headers are gone: a failed write means the client left.
		if _, err := w.Write(buf); err != nil {
			return nil
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

// streamFilter decides which messages p sees: those of its tenants (all
// of them for a provider's "*"), of the kinds asked, and internal ones
// (cases not escalated to their member) only for provider roles.
func streamFilter(p auth.Principal, all bool, ids []tenant.ID, kinds map[feed.Kind]bool) func(feed.Message) bool {
	in := make(map[tenant.ID]bool, len(ids))
	for _, t := range ids {
		in[t] = true
	}
	provider := p.Role.Provider()
	return func(m feed.Message) bool {
		if m.Kind == feed.KindOverflow || m.Kind == feed.KindReset {
			return true
		}
		if !kinds[m.Kind] || m.Internal && !provider {
			return false
		}
		return all || in[m.Tenant]
	}
}

// appendEvent renders m as one server-sent event: a change as
//
//	id: <id>
//	event: alert
//	data: {"id":<id>,"tenant":..,"kind":"alert","what":..,"actor":..,"alert":{..}}
//
// (the object under its kind's name, as the kind's API shows it); an
// overflow or reset as an event without an id, so that a client's
// Last-Event-ID stays the last change it received.
func appendEvent(b []byte, m feed.Message) []byte {
	switch m.Kind {
	case feed.KindOverflow:
		b = append(b, "event: overflow\ndata: "...)
		return appendJSON(b, map[string]any{"missed_from": m.ID,
			"message": "this stream fell behind and is closed; reconnect with Last-Event-ID to resume"})
	case feed.KindReset:
		b = append(b, "event: reset\ndata: "...)
		return appendJSON(b, map[string]any{"oldest": m.ID,
			"message": "changes after Last-Event-ID are no longer held; reload the lists"})
	}
	id := strconv.AppendUint(nil, m.ID, 10)
	b = append(b, "id: "...)
	b = append(b, id...)
	b = append(b, "\nevent: "...)
	b = append(b, m.Kind...)
	b = append(b, "\ndata: {\"id\":"...)
	b = append(b, id...)
	b = append(b, `,"tenant":`...)
	b = appendJSONString(b, string(m.Tenant))
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, string(m.Kind))
	b = append(b, `,"what":`...)
	b = appendJSONString(b, m.What)
	b = append(b, `,"actor":`...)
	b = appendJSONString(b, m.Actor)
	b = append(b, ',')
	b = appendJSONString(b, string(m.Kind))
	b = append(b, ':')
	data := m.Data
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	if bytes.ContainsAny(data, "\r\n") {
		// A data line must be one line.
		var c bytes.Buffer
		if err := json.Compact(&c, data); err != nil {
			data = json.RawMessage("null")
		} else {
			data = c.Bytes()
		}
	}
	b = append(b, data...)
	return append(b, "}\n\n"...)
}

func appendJSON(b []byte, v any) []byte {
	enc, err := json.Marshal(v)
	if err != nil {
		panic("BUG: marshal stream notice: " + err.Error())
	}
	b = append(b, enc...)
	return append(b, "\n\n"...)
}

// AlertMessage is an alert change as the stream carries it: the alert as
// the alerts API shows it (NewAlertJSON, without evidence), with its
// service-level standing as of the change.
func AlertMessage(c alert.Change, cfg alert.Config) (feed.Message, error) {
	now := c.Alert.Updated
	if now.IsZero() {
		now = time.Now().UTC()
	}
	data, err := json.Marshal(NewAlertJSON(c.Alert, cfg, now, false))
	if err != nil {
		return feed.Message{}, fmt.Errorf("alert %d: %w", c.Alert.ID, err)
	}
	return feed.Message{Tenant: c.Alert.Tenant, Kind: feed.KindAlert, What: c.What, Actor: c.Actor, Data: data}, nil
}

// AlertChanges returns an alert.Deps.OnChange (or a part of one) that
// publishes every alert change to h. It does not block.
func AlertChanges(h *feed.Hub, cfg alert.Config, log *slog.Logger) func(context.Context, []alert.Change) {
	return func(_ context.Context, cs []alert.Change) {
		for _, c := range cs {
			m, err := AlertMessage(c, cfg)
			if err != nil {
				// A time beyond year 9999 does not marshal.
				log.Warn("alert change not streamed", "tenant", c.Alert.Tenant, "rule_id", c.Alert.RuleID, "err", err)
				continue
			}
			h.Publish(m)
		}
	}
}

// CaseMessage is a case change as the stream carries it: the case after
// the change with the timeline entries it added. It is Internal (for the
// provider's roles only) unless the member's own users may read the case
// (incident.Case.VisibleTo: once it is escalated).
func CaseMessage(c incident.Change) (feed.Message, error) {
	data, err := json.Marshal(c.Case)
	if err != nil {
		return feed.Message{}, fmt.Errorf("case %d: %w", c.Case.ID, err)
	}
	member := auth.Principal{Role: auth.RoleTenantViewer, Tenant: c.Case.Tenant}
	return feed.Message{
		Tenant: c.Case.Tenant, Kind: feed.KindCase, What: c.What, Actor: c.Actor,
		Internal: !c.Case.VisibleTo(member), Data: data,
	}, nil
}

// CaseChanges returns an incident.Deps.OnChange that publishes every case
// change to h. It does not block.
func CaseChanges(h *feed.Hub, log *slog.Logger) func(context.Context, []incident.Change) {
	return func(_ context.Context, cs []incident.Change) {
		for _, c := range cs {
			m, err := CaseMessage(c)
			if err != nil {
				log.Warn("case change not streamed", "tenant", c.Case.Tenant, "err", err)
				continue
			}
			h.Publish(m)
		}
	}
}
