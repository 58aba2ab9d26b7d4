package poll

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
)

// codeAlreadyEnabled is the Management API's answer to starting a
// subscription that is already on.
const codeAlreadyEnabled = "AF20024"

// manageTimeLayout is the API's startTime/endTime format (UTC).
const manageTimeLayout = "2006-01-02T15:04:05"

// manageHistory is how far back the API lists content.
const manageHistory = 7 * 24 * time.Hour

// contentBlob is one entry of a content listing.
type contentBlob struct {
	ContentType       string `json:"contentType"`
	ContentID         string `json:"contentId"`
	ContentURI        string `json:"contentUri"`
	ContentCreated    string `json:"contentCreated"`
	ContentExpiration string `json:"contentExpiration"`
}

func (p *sourcePoller) feedURL(op string, q url.Values) string {
	q.Set("PublisherIdentifier", p.src.DirectoryTenant)
	return strings.TrimRight(p.cfg.ManageURL, "/") + "/api/v1.0/" + url.PathEscape(p.src.DirectoryTenant) + "/activity/feed/subscriptions/" + op + "?" + q.Encode()
}

// startSubscription starts the content type's subscription; one already
// enabled (AF20024) is fine.
func (p *sourcePoller) startSubscription(ctx context.Context, token, ct string) error {
	_, _, err := p.c.call(ctx, http.MethodPost, p.feedURL("start", url.Values{"contentType": {ct}}), token)
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == codeAlreadyEnabled {
		return nil
	}
	if err != nil {
		return fmt.Errorf("start subscription %s: %w", ct, err)
	}
	return nil
}

// pollM365 reads one content type: windows of at most 24 hours from the
// checkpoint to now-Delay; each content blob is written, then recorded in
// the checkpoint.
func (p *sourcePoller) pollM365(ctx context.Context, ct string) (int, error) {
	stream := StreamM365 + "/" + ct
	token, err := p.tok.token(ctx, manageScope)
	if err != nil {
		return 0, err
	}
	if !p.started[ct] {
		if err := p.startSubscription(ctx, token, ct); err != nil {
			return 0, err
		}
		p.started[ct] = true
	}
	cp, err := p.state.PollCheckpoint(ctx, p.src.Tenant, p.src.ID, stream)
	if err != nil {
		return 0, fmt.Errorf("checkpoint: %w", err)
	}
	now := p.clock.Now().UTC()
	oldest := now.Add(-manageHistory + 10*time.Minute).Truncate(time.Second)
	if cp.Time.IsZero() {
		cp.Time = now.Add(-p.cfg.Lookback).Truncate(time.Second)
	}
	if cp.Time.Before(oldest) {
		p.log.Warn("checkpoint is older than the API's 7 days; content before is lost", "stream", stream, "checkpoint", cp.Time)
		cp = Checkpoint{Time: oldest}
	}
	end := now.Add(-p.cfg.Delay).Truncate(time.Second)
	total := 0
	for cp.Time.Before(end) {
		wEnd := cp.Time.Add(24 * time.Hour)
		if wEnd.After(end) {
			wEnd = end
		}
		seen := make(map[string]bool, len(cp.Seen))
		for _, id := range cp.Seen {
			seen[id] = true
		}
		var carry []string // blobs created at the window's end, seen again in the next window
		link := p.feedURL("content", url.Values{
			"contentType": {ct},
			"startTime":   {cp.Time.Format(manageTimeLayout)},
			"endTime":     {wEnd.Format(manageTimeLayout)},
		})
		for link != "" {
			resp, body, err := p.c.call(ctx, http.MethodGet, link, token)
			if err != nil {
				return total, err
			}
			var blobs []contentBlob
			if err := json.Unmarshal(body, &blobs); err != nil {
				return total, fmt.Errorf("content listing: %w", err)
			}
			for _, b := range blobs {
				if created, err := time.Parse(time.RFC3339Nano, b.ContentCreated); err == nil && !created.Before(wEnd) {
					carry = append(carry, b.ContentID)
				}
				if b.ContentID == "" || seen[b.ContentID] {
					continue
				}
				n, err := p.fetchContent(ctx, token, stream, b)
				if err != nil {
					return total, err
				}
				total += n
				seen[b.ContentID] = true
				cp.Seen = append(cp.Seen, b.ContentID)
				if err := p.state.SetPollCheckpoint(ctx, p.src.Tenant, p.src.ID, stream, cp); err != nil {
					return total, fmt.Errorf("save checkpoint: %w", err)
				}
			}
			next := resp.Header.Get("NextPageUri")
			if next == link {
				return total, errLoop
			}
			if next != "" {
				if err := sameOrigin(next, p.cfg.ManageURL); err != nil {
					return total, err
				}
			}
			link = next
		}
		cp = Checkpoint{Time: wEnd, Seen: carry}
		if err := p.state.SetPollCheckpoint(ctx, p.src.Tenant, p.src.ID, stream, cp); err != nil {
			return total, fmt.Errorf("save checkpoint: %w", err)
		}
	}
	return total, nil
}

// fetchContent writes one content blob's records; an expired blob is
// skipped with a warning (the API no longer serves it).
func (p *sourcePoller) fetchContent(ctx context.Context, token, stream string, b contentBlob) (int, error) {
	if exp, err := time.Parse(time.RFC3339Nano, b.ContentExpiration); err == nil && !p.clock.Now().Before(exp) {
		p.log.Warn("content blob expired before it was read", "stream", stream, "content_id", b.ContentID)
		return 0, nil
	}
	if err := sameOrigin(b.ContentURI, p.cfg.ManageURL); err != nil {
		return 0, err
	}
	u, err := url.Parse(b.ContentURI)
	if err != nil {
		return 0, fmt.Errorf("content %s: %w", b.ContentID, err)
	}
	if q := u.Query(); q.Get("PublisherIdentifier") == "" {
		q.Set("PublisherIdentifier", p.src.DirectoryTenant)
		u.RawQuery = q.Encode()
	}
	_, body, err := p.c.call(ctx, http.MethodGet, u.String(), token)
	if err != nil {
		return 0, fmt.Errorf("content %s: %w", b.ContentID, err)
	}
	var recs []json.RawMessage
	if err := json.Unmarshal(body, &recs); err != nil {
		return 0, fmt.Errorf("content %s: %w", b.ContentID, err)
	}
	if len(recs) == 0 {
		return 0, nil
	}
	received := p.clock.Now().UTC()
	out := make([]event.Raw, len(recs))
	for i, r := range recs {
		out[i] = event.Raw{Received: received, Source: string(event.KindPoller) + "/" + StreamM365, Data: r}
	}
	if err := p.sink.Write(ctx, p.src.Tenant, out); err != nil {
		return 0, fmt.Errorf("write: %w", err)
	}
	p.count(ctx, stream, len(out))
	return len(out), nil
}
