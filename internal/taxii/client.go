package taxii

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client reads one remote TAXII 2.1 collection, incrementally: each Poll
// asks for the objects added after the last one it saw.
type Client struct {
	// Collection is the collection's URL (".../collections/<id>/").
	Collection string
	// Username and Password authenticate with HTTP Basic; Token, when
	// set, as a bearer token instead.
	Username, Password, Token string
	// Limit is the page size asked (0: the server's default).
	Limit int
	// Retries is how often an answer 429 or 5xx, or a network error, is
	// retried (0: 4; negative: never). Backoff is the first wait, doubled
	// each time up to a minute (0: one second); a Retry-After header
	// takes precedence, up to five minutes.
	Retries int
	Backoff time.Duration
	// Checkpoint is the date_added (X-TAXII-Date-Added-Last) of the last
	// object received: Poll asks for what was added after it ("" from
	// the start) and moves it on.
	Checkpoint string
	// HTTP is the client used (nil: http.DefaultClient).
	HTTP *http.Client
	// MaxBody caps one answer's size (0: 64 MiB).
	MaxBody int64
}

// CollectionURL joins an API root URL and a collection id.
func CollectionURL(apiRoot, id string) string {
	return strings.TrimSuffix(apiRoot, "/") + "/collections/" + url.PathEscape(id) + "/"
}

// RemoteError is a TAXII server's refusal.
type RemoteError struct {
	Status int
	Body   ErrorBody
}

func (e *RemoteError) Error() string {
	msg := e.Body.Title
	if e.Body.Description != "" {
		msg += ": " + e.Body.Description
	}
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("taxii server answered %d: %s", e.Status, msg)
}

// maxPages bounds the pages of one poll, so that a server that never says
// "no more" cannot keep a poll (and its memory) growing.
const maxPages = 10000

// Poll fetches every object added since c.Checkpoint, following the
// server's pages (next, more) to the end, and returns them with the new
// checkpoint, which it also keeps in c.Checkpoint. On an error it returns
// what it fetched before it with the checkpoint that covers them, so a
// caller may keep them and poll on from there.
func (c *Client) Poll(ctx context.Context) (objs []json.RawMessage, checkpoint string, err error) {
	if _, err := url.Parse(c.Collection); err != nil || c.Collection == "" {
		return nil, c.Checkpoint, fmt.Errorf("collection url %q: %v", c.Collection, err)
	}
	base := strings.TrimSuffix(c.Collection, "/") + "/objects/"
	after, next := c.Checkpoint, ""
	for page := 0; ; page++ {
		v := url.Values{}
		if after != "" {
			v.Set("added_after", after)
		}
		if c.Limit > 0 {
			v.Set("limit", strconv.Itoa(c.Limit))
		}
		if next != "" {
			v.Set("next", next)
		}
		u := base
		if len(v) > 0 {
			u += "?" + v.Encode()
		}
		var env struct {
			More    bool              `json:"more"`
			Next    string            `json:"next"`
			Objects []json.RawMessage `json:"objects"`
		}
		h, err := c.get(ctx, u, &env)
		if err != nil {
			return objs, c.Checkpoint, fmt.Errorf("page %d of %s: %w", page+1, base, err)
		}
		objs = append(objs, env.Objects...)
		last := h.Get("X-TAXII-Date-Added-Last")
		if last != "" {
			c.Checkpoint = last
		}
		switch {
		case !env.More || len(env.Objects) == 0:
			return objs, c.Checkpoint, nil
		case env.Next != "" && env.Next == next:
			return objs, c.Checkpoint, fmt.Errorf("page %d of %s: the server gave the same next (%q) again: it would be asked for the same page forever", page+1, base, next)
		case page+1 >= maxPages:
			return objs, c.Checkpoint, fmt.Errorf("%s: more than %d pages in one poll; the objects fetched are kept, the next poll goes on from them", base, maxPages)
		case env.Next != "":
			next = env.Next
		case last != "" && last != after:
			// A server without next pages by added_after.
			after = last
		default:
			return objs, c.Checkpoint, fmt.Errorf("page %d of %s: more objects, but neither next nor X-TAXII-Date-Added-Last to ask for them", page+1, base)
		}
	}
}

// get fetches u into out, retrying 429, 5xx and network errors.
func (c *Client) get(ctx context.Context, u string, out any) (http.Header, error) {
	retries := c.Retries
	if retries == 0 {
		retries = 4
	}
	wait := c.Backoff
	if wait <= 0 {
		wait = time.Second
	}
	for attempt := 0; ; attempt++ {
		h, retryAfter, retryable, err := c.getOnce(ctx, u, out)
		if err == nil {
			return h, nil
		}
		if !retryable || attempt >= retries || ctx.Err() != nil {
			return nil, err
		}
		d := wait
		if retryAfter > 0 {
			d = min(retryAfter, 5*time.Minute)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(d):
		}
		wait = min(2*wait, time.Minute)
	}
}

// getOnce makes one request; retryable is true for network errors and
// answers 429 and 5xx.
func (c *Client) getOnce(ctx context.Context, u string, out any) (h http.Header, wait time.Duration, retryable bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, false, err
	}
	req.Header.Set("Accept", MediaType)
	switch {
	case c.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.Token)
	case c.Username != "" || c.Password != "":
		req.SetBasicAuth(c.Username, c.Password)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, true, err
	}
	defer resp.Body.Close()
	limit := c.MaxBody
	if limit <= 0 {
		limit = 64 << 20
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, 0, true, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		re := &RemoteError{Status: resp.StatusCode}
		_ = json.Unmarshal(body, &re.Body)
		retry := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		return nil, retryAfter(resp.Header.Get("Retry-After")), retry, re
	}
	if int64(len(body)) > limit {
		return nil, 0, false, fmt.Errorf("answer larger than %d bytes", limit)
	}
	if ct := resp.Header.Get("Content-Type"); !strictTAXII(ct) {
		return nil, 0, false, fmt.Errorf("answer of type %q, not %s", ct, MediaType)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return nil, 0, false, fmt.Errorf("decode answer: %w", err)
	}
	return resp.Header, 0, false, nil
}

// strictTAXII reports whether a Content-Type is TAXII 2.1's media type.
func strictTAXII(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/taxii+json" && params["version"] == "2.1"
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
