package poll

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxResponseBytes caps one API response body.
const maxResponseBytes = 256 << 20

// TokenError is a token request the identity platform refused, e.g.
// invalid_client with AADSTS7000222 for an expired secret.
type TokenError struct {
	Status      int
	Code        string // OAuth "error"
	Description string // first line of "error_description"
}

func (e *TokenError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("token request refused: HTTP %d", e.Status)
	}
	if e.Description == "" {
		return "token request refused: " + e.Code
	}
	return fmt.Sprintf("token request refused: %s (%s)", e.Code, e.Description)
}

// APIError is a Graph or Management API error response.
type APIError struct {
	Status  int
	Code    string
	Message string
	URL     string // without query
}

func (e *APIError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("%s: HTTP %d", e.URL, e.Status)
	}
	return fmt.Sprintf("%s: HTTP %d %s: %s", e.URL, e.Status, e.Code, e.Message)
}

// client sends requests with retries: 429 and 503 wait Retry-After (capped
// at maxBackoff), other 5xx and network errors back off exponentially from
// one second; nothing is retried without a wait.
type client struct {
	hc          *http.Client
	clock       Clock
	maxAttempts int
	maxBackoff  time.Duration
}

// send runs newReq until an answer that is not transient and returns its
// status, headers and body. A non-2xx status is returned as an error made
// by fail.
func (c *client) send(ctx context.Context, newReq func() (*http.Request, error)) (*http.Response, []byte, error) {
	backoff := time.Second
	var last error
	for attempt := 1; ; attempt++ {
		req, err := newReq()
		if err != nil {
			return nil, nil, err
		}
		resp, err := c.hc.Do(req.WithContext(ctx))
		var body []byte
		wait := backoff
		if err == nil {
			body, err = io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
			resp.Body.Close()
		}
		switch {
		case ctx.Err() != nil:
			return nil, nil, ctx.Err()
		case err != nil:
			last = err
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
			last = apiError(req, resp, body)
			if d, ok := retryAfter(resp.Header.Get("Retry-After"), c.clock.Now()); ok {
				wait = d
			}
		case resp.StatusCode >= 500:
			last = apiError(req, resp, body)
		default:
			return resp, body, nil
		}
		if attempt >= c.maxAttempts {
			return nil, nil, fmt.Errorf("after %d attempts: %w", attempt, last)
		}
		wait = min(wait, c.maxBackoff)
		if err := c.clock.Sleep(ctx, wait); err != nil {
			return nil, nil, err
		}
		backoff = min(backoff*2, c.maxBackoff)
	}
}

// retryAfter reads Retry-After: delta seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// apiError reads Graph's and the Management API's error body:
// {"error":{"code":..,"message":..}}.
func apiError(req *http.Request, resp *http.Response, body []byte) *APIError {
	u := *req.URL
	u.RawQuery = ""
	e := &APIError{Status: resp.StatusCode, URL: u.String()}
	var doc struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &doc) == nil && len(doc.Error) > 0 {
		var obj struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(doc.Error, &obj) == nil {
			e.Code, e.Message = obj.Code, obj.Message
		} else {
			var s string
			_ = json.Unmarshal(doc.Error, &s)
			e.Code = s
		}
	}
	return e
}

// call sends method u with the bearer token and fails on a non-2xx answer.
func (c *client) call(ctx context.Context, method, u, token string) (*http.Response, []byte, error) {
	var req *http.Request
	resp, body, err := c.send(ctx, func() (*http.Request, error) {
		r, err := http.NewRequest(method, u, nil)
		if err != nil {
			return nil, err
		}
		r.Header.Set("Authorization", "Bearer "+token)
		r.Header.Set("Accept", "application/json")
		req = r
		return r, nil
	})
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, nil, apiError(req, resp, body)
	}
	return resp, body, nil
}

// tokens caches client-credentials access tokens per scope for one source.
type tokens struct {
	c        *client
	loginURL string
	dirTen   string
	clientID string
	secret   string

	mu    sync.Mutex
	cache map[string]cachedToken
}

type cachedToken struct {
	value   string
	expires time.Time
}

// token returns a valid access token for scope (".default" of an API).
func (t *tokens) token(ctx context.Context, scope string) (string, error) {
	t.mu.Lock()
	if ct, ok := t.cache[scope]; ok && t.c.clock.Now().Before(ct.expires) {
		t.mu.Unlock()
		return ct.value, nil
	}
	t.mu.Unlock()
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {t.clientID},
		"client_secret": {t.secret},
		"scope":         {scope},
	}.Encode()
	endpoint := strings.TrimRight(t.loginURL, "/") + "/" + url.PathEscape(t.dirTen) + "/oauth2/v2.0/token"
	resp, body, err := t.c.send(ctx, func() (*http.Request, error) {
		r, err := http.NewRequest(http.MethodPost, endpoint, bytes.NewReader([]byte(form)))
		if err != nil {
			return nil, err
		}
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r, nil
	})
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	var doc struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &doc)
	if resp.StatusCode/100 != 2 || doc.AccessToken == "" {
		desc, _, _ := strings.Cut(doc.Description, "\n")
		return "", &TokenError{Status: resp.StatusCode, Code: doc.Error, Description: strings.TrimSpace(strings.TrimSuffix(desc, "\r"))}
	}
	life := time.Duration(doc.ExpiresIn) * time.Second
	if life <= 0 {
		life = 5 * time.Minute
	}
	// Renew a minute early (or half-way for short tokens).
	life -= min(time.Minute, life/2)
	t.mu.Lock()
	if t.cache == nil {
		t.cache = map[string]cachedToken{}
	}
	t.cache[scope] = cachedToken{doc.AccessToken, t.c.clock.Now().Add(life)}
	t.mu.Unlock()
	return doc.AccessToken, nil
}

// sameOrigin refuses to send a token to a host other than the API's: paging
// links and content URIs come from the server and are checked.
func sameOrigin(link, base string) error {
	l, err := url.Parse(link)
	if err != nil {
		return fmt.Errorf("bad link %q: %w", link, err)
	}
	b, err := url.Parse(base)
	if err != nil {
		return err
	}
	if !strings.EqualFold(l.Scheme, b.Scheme) || !strings.EqualFold(l.Host, b.Host) {
		return fmt.Errorf("link %s://%s is not on the API host %s: refused", l.Scheme, l.Host, b.Host)
	}
	return nil
}

// errLoop is a paging link that points back at the page it came from.
var errLoop = errors.New("paging link repeats the current page")
