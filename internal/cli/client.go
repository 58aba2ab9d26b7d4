package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// client talks to a running server's API.
type client struct {
	base  string
	token string
	// session is tarian login's session, used when TARIAN_TOKEN is unset.
	session *storedSession
	hc      *http.Client
}

func newClient(env Env) (*client, error) {
	base, err := serverURL(env.Getenv("TARIAN_URL"))
	if err != nil {
		return nil, err
	}
	token := strings.TrimSpace(env.Getenv("TARIAN_TOKEN"))
	hc, err := clientHTTP(env)
	if err != nil {
		return nil, err
	}
	if token == "" {
		if s := loadSession(env, base); s != nil {
			return &client{base: base, session: s, hc: hc}, nil
		}
		return nil, errors.New("TARIAN_TOKEN is not set and no tarian login session (the first start writes a provider-admin token to <data dir>/admin.token)")
	}
	return &client{base: base, token: token, hc: hc}, nil
}

// serverURL is the API's base URL from TARIAN_URL: the default when it is
// empty, http:// assumed when it is only HOST:PORT.
func serverURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "http://127.0.0.1:8080", nil
	}
	raw := s
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err == nil && (u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil) {
		err = errors.New("not an http(s) address")
	}
	if err == nil && u.Port() != "" {
		if n, perr := strconv.Atoi(u.Port()); perr != nil || n < 1 || n > 65535 {
			err = errors.New("bad port")
		}
	}
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("TARIAN_URL %q: %v; want http://HOST:PORT, https://HOST:PORT or HOST:PORT", raw, err)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// apiError is an error answer of the API.
type apiError struct {
	Status     int
	Code       string `json:"error"`
	Message    string `json:"message"`
	RetryAfter time.Duration
}

func (e *apiError) Error() string {
	// The server's message often starts with its code ("forbidden: ...").
	return fmt.Sprintf("%s (HTTP %d): %s", e.Code, e.Status, strings.TrimPrefix(e.Message, e.Code+": "))
}

func (e *apiError) retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable
}

// unreachableError is a request that found no server to connect to.
type unreachableError struct{ err error }

func (e *unreachableError) Error() string { return e.err.Error() }
func (e *unreachableError) Unwrap() error { return e.err }

// do sends a request and returns the response of a 2xx answer; any other
// answer becomes an *apiError.
func (c *client) do(ctx context.Context, method, path string, body io.Reader, contentType string) (*http.Response, error) {
	hdr := http.Header{}
	if contentType != "" {
		hdr.Set("Content-Type", contentType)
	}
	return c.doHeader(ctx, method, path, body, hdr)
}

// doHeader is do with the request's headers hdr.
func (c *client) doHeader(ctx context.Context, method, path string, body io.Reader, hdr http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	c.authorize(req)
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.hc.Do(req)
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return nil, &unreachableError{fmt.Errorf("cannot reach the Tarian server at %s (TARIAN_URL): is it running? %w", c.base, op.Err)}
	}
	if err != nil {
		return nil, err // a *url.Error: it names the method and URL
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	ae := &apiError{Status: resp.StatusCode}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if json.Unmarshal(data, ae) != nil || ae.Code == "" {
		ae.Code, ae.Message = "http_error", strings.TrimSpace(string(data))
	}
	if s := resp.Header.Get("Retry-After"); s != "" {
		var secs int
		fmt.Sscanf(s, "%d", &secs)
		ae.RetryAfter = time.Duration(secs) * time.Second
	}
	return nil, ae
}

// getJSON decodes a JSON answer into v.
func (c *client) json(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	ct := ""
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body, ct = strings.NewReader(string(b)), "application/json"
	}
	resp, err := c.do(ctx, method, path, body, ct)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(out)
}

func newClientHTTP() *http.Client { return &http.Client{Timeout: 10 * time.Minute} }
