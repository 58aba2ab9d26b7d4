package poll

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
)

const (
	graphScope  = "https://graph.microsoft.com/.default"
	manageScope = "https://manage.office.com/.default"
)

// graphStream describes one Graph audit log collection.
type graphStream struct {
	path      string // under the Graph base URL
	timeField string
}

var graphStreams = map[string]graphStream{
	StreamSignIns: {"/v1.0/auditLogs/signIns", "createdDateTime"},
	StreamAudits:  {"/v1.0/auditLogs/directoryAudits", "activityDateTime"},
}

// graphTime formats t as an OData DateTimeOffset literal.
func graphTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// pollGraph reads one Graph stream from its checkpoint to now-Delay, oldest
// first, writing each page before it moves the checkpoint.
func (p *sourcePoller) pollGraph(ctx context.Context, stream string) (int, error) {
	gs := graphStreams[stream]
	cp, err := p.state.PollCheckpoint(ctx, p.src.Tenant, p.src.ID, stream)
	if err != nil {
		return 0, fmt.Errorf("checkpoint: %w", err)
	}
	now := p.clock.Now().UTC()
	if cp.Time.IsZero() {
		cp.Time = now.Add(-p.cfg.Lookback).Truncate(time.Second)
	}
	upper := now.Add(-p.cfg.Delay)
	if !upper.After(cp.Time) {
		return 0, nil
	}
	token, err := p.tok.token(ctx, graphScope)
	if err != nil {
		return 0, err
	}
	q := url.Values{
		"$filter":  {fmt.Sprintf("%s ge %s and %s le %s", gs.timeField, graphTime(cp.Time), gs.timeField, graphTime(upper))},
		"$orderby": {gs.timeField + " asc"},
		"$top":     {strconv.Itoa(p.cfg.PageSize)},
	}
	link := strings.TrimRight(p.cfg.GraphURL, "/") + gs.path + "?" + q.Encode()
	seen := make(map[string]bool, len(cp.Seen))
	for _, id := range cp.Seen {
		seen[id] = true
	}
	start := cp.Time
	total := 0
	source := string(event.KindPoller) + "/" + stream
	for link != "" {
		_, body, err := p.c.call(ctx, http.MethodGet, link, token)
		if err != nil {
			return total, err
		}
		var page struct {
			Value    []json.RawMessage `json:"value"`
			NextLink string            `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return total, fmt.Errorf("graph page: %w", err)
		}
		received := p.clock.Now().UTC()
		recs := make([]event.Raw, 0, len(page.Value))
		next := cp
		next.Seen = append([]string(nil), cp.Seen...)
		for _, v := range page.Value {
			id, at, ok := recordKey(v, "id", gs.timeField)
			if ok {
				if at.Before(start) || (at.Equal(next.Time) && seen[id]) {
					continue // before the checkpoint, or written at the boundary already
				}
				switch {
				case at.After(next.Time):
					next.Time, next.Seen = at, []string{id}
					clear(seen)
					seen[id] = true
				case at.Equal(next.Time):
					next.Seen = append(next.Seen, id)
					seen[id] = true
				}
			}
			recs = append(recs, event.Raw{Received: received, Source: source, Data: v})
		}
		if len(recs) > 0 {
			if err := p.sink.Write(ctx, p.src.Tenant, recs); err != nil {
				return total, fmt.Errorf("write: %w", err)
			}
			total += len(recs)
			p.count(ctx, stream, len(recs))
			if err := p.state.SetPollCheckpoint(ctx, p.src.Tenant, p.src.ID, stream, next); err != nil {
				return total, fmt.Errorf("save checkpoint: %w", err)
			}
			cp = next
		}
		if page.NextLink == link {
			return total, errLoop
		}
		if page.NextLink != "" {
			if err := sameOrigin(page.NextLink, p.cfg.GraphURL); err != nil {
				return total, err
			}
		}
		link = page.NextLink
	}
	return total, nil
}

// recordKey reads a record's id and time fields.
func recordKey(data []byte, idField, timeField string) (string, time.Time, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return "", time.Time{}, false
	}
	var id, ts string
	if json.Unmarshal(m[idField], &id) != nil || id == "" || json.Unmarshal(m[timeField], &ts) != nil {
		return "", time.Time{}, false
	}
	at, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return "", time.Time{}, false
	}
	return id, at.UTC(), true
}
