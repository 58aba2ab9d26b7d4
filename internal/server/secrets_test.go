package server_test

import (
	"bytes"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestSecretsStayHidden runs a server logging at debug level, gives it
// every kind of secret it keeps (token secrets, a cloud source's client
// secret, a webhook's signing secret, an SMTP password, a Slack webhook
// URL), exercises the API and the paths that use them (polling with a
// refused secret, channel tests that succeed and fail), then looks for
// each secret in the log, in every API response body (but the one that
// shows a new token's secret once) and in the raw bytes of every file in
// the data directory, SQLite's database and WAL included, both while it
// runs and after it stops.
func TestSecretsStayHidden(t *testing.T) {
	const (
		clientSecret  = "cloud-client-secret-Qm9vYmFy-7f3a91"
		webhookSecret = "webhook-signing-secret-Zx81c0ffee"
		smtpPassword  = "smtp-password-Pa55w0rd-9d2e"
		slackPath     = "/services/T0000/B0000/slack-url-secret-a81f77"
	)
	var polls atomic.Int32
	ms := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		polls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}`)
	}))
	t.Cleanup(ms.Close)
	var hooks atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hooks.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	t.Cleanup(hook.Close)

	var logs syncBuffer
	cfg := servertest.Config(t.TempDir())
	cfg.Poll.LoginURL, cfg.Poll.GraphURL, cfg.Poll.ManageURL = ms.URL, ms.URL, ms.URL
	cfg.Poll.Interval = time.Second
	cfg.Poll.Delay = 0
	cfg.Notify.AllowPrivateNetworks = true
	s := servertest.StartLog(t, cfg, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))

	var responses []string // every body but a new token's
	do := func(method, path, token string, body any) (int, []byte) {
		t.Helper()
		var b []byte
		if body != nil {
			var err error
			if b, err = json.Marshal(body); err != nil {
				t.Fatal(err)
			}
		}
		status, out := s.Do(t, method, path, token, b)
		responses = append(responses, fmt.Sprintf("%s %s: %d %s", method, path, status, out))
		return status, out
	}
	must := func(want int, method, path, token string, body any) []byte {
		t.Helper()
		status, out := do(method, path, token, body)
		if status != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, status, out, want)
		}
		return out
	}
	// newToken's response is the one place a secret is shown: not kept.
	newToken := func(ten, role string) string {
		t.Helper()
		b, _ := json.Marshal(map[string]string{"tenant": ten, "role": role})
		status, out := s.Do(t, "POST", "/api/v1/tokens", servertest.AdminToken, b)
		var tok struct {
			Token string `json:"token"`
		}
		if status != http.StatusCreated && status != http.StatusOK || json.Unmarshal(out, &tok) != nil || tok.Token == "" {
			t.Fatalf("create token: %d %s", status, out)
		}
		return tok.Token
	}

	admin := servertest.AdminToken
	must(http.StatusCreated, "POST", "/api/v1/tenants", admin, map[string]string{"id": "council-a", "name": "Council A"})
	tenantAdmin := newToken("council-a", "tenant-admin")
	ingest := newToken("council-a", "ingest")
	analyst := newToken("", "provider-analyst")
	secrets := map[string]string{
		"bootstrap token": admin, "tenant-admin token": tenantAdmin, "ingest token": ingest, "provider-analyst token": analyst,
		"cloud client secret": clientSecret, "webhook secret": webhookSecret, "SMTP password": smtpPassword, "Slack URL": slackPath,
	}
	// A person: a password, a session, and a TOTP secret being enrolled
	// (shown once, in the enrolment answer, which is not kept).
	const password = "correct-horse-battery-staple-91"
	must(http.StatusCreated, "POST", "/api/v1/users", admin, map[string]string{"name": "rhys", "tenant": "council-a", "role": "tenant-analyst", "password": password})
	totpSecret, session := enrolTOTP(t, s, "rhys", password)
	secrets["user password"], secrets["session cookie"] = password, session
	secrets["TOTP secret (base32)"], secrets["TOTP secret"] = totpSecret, string(mustBase32(t, totpSecret))

	must(http.StatusCreated, "POST", "/api/v1/cloud-sources", tenantAdmin, map[string]any{
		"name": "council-entra", "directory_tenant": "0b0b0b0b-0000-4000-8000-00000000000a",
		"client_id": "0b0b0b0b-0000-4000-8000-00000000000b", "client_secret": clientSecret, "streams": []string{"entra-signin"},
	})
	// A bad source: refused, and the refusal must not echo the secret.
	do("POST", "/api/v1/cloud-sources", tenantAdmin, map[string]any{"name": "bad", "directory_tenant": "not a tenant!", "client_id": "c", "client_secret": clientSecret})

	var webhook struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(must(http.StatusCreated, "POST", "/api/v1/notifications/channels?tenant=council-a", admin,
		map[string]any{"name": "hook", "kind": "webhook", "url": hook.URL + "/hook", "secret": webhookSecret}), &webhook); err != nil {
		t.Fatal(err)
	}
	var mail struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(must(http.StatusCreated, "POST", "/api/v1/notifications/channels?tenant=*", admin,
		map[string]any{"name": "mail", "kind": "email", "url": "smtps://soc@127.0.0.1:1", "secret": smtpPassword, "from": "soc@provider.example", "to": []string{"oncall@provider.example"}}), &mail); err != nil {
		t.Fatal(err)
	}
	must(http.StatusCreated, "POST", "/api/v1/notifications/channels?tenant=*", admin,
		map[string]any{"name": "slack", "kind": "slack", "url": "https://hooks.slack.example" + slackPath})
	// A bad channel whose secret is too short: refused without quoting it.
	do("POST", "/api/v1/notifications/channels?tenant=council-a", admin, map[string]any{"name": "short", "kind": "webhook", "url": hook.URL, "secret": webhookSecret[:8]})

	must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/notifications/channels/%d/test?tenant=council-a", webhook.ID), tenantAdmin, nil)
	do("POST", fmt.Sprintf("/api/v1/notifications/channels/%d/test?tenant=*", mail.ID), admin, nil) // fails: nothing listens

	must(http.StatusOK, "POST", "/api/v1/ingest", ingest, map[string]string{"message": "user signed in"})
	for _, tc := range []struct{ path, token string }{
		{"/api/v1/tenants", admin},
		{"/api/v1/tenants", analyst},
		{"/api/v1/cloud-sources", tenantAdmin},
		{"/api/v1/cloud-sources?tenant=council-a", admin},
		{"/api/v1/notifications/channels", tenantAdmin},
		{"/api/v1/notifications/channels?tenant=*", admin},
		{"/api/v1/notifications/deadletters?tenant=*", admin},
		{"/api/v1/audit", admin},
		{"/api/v1/search?q=*&tenant=council-a", analyst},
		{"/metrics", analyst},
		{"/api/v1/tenants", tenantAdmin + "x"}, // a near miss: 401
		{"/api/v1/tenants", ingest},            // the wrong role: 403
	} {
		do("GET", tc.path, tc.token, nil)
	}
	// Let the poller try (and fail with) the client secret.
	for deadline := time.Now().Add(15 * time.Second); polls.Load() < 2; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the poller never asked for a token")
		}
	}
	if hooks.Load() == 0 {
		t.Error("the webhook test message was not delivered")
	}

	scanFiles := func(when string) {
		t.Helper()
		n := 0
		err := filepath.WalkDir(cfg.Data, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				if os.IsNotExist(err) {
					return nil // removed meanwhile (a temporary file)
				}
				return err
			}
			n++
			for name, secret := range secrets {
				if bytes.Contains(b, []byte(secret)) {
					t.Errorf("%s: the %s is in clear text in %s", when, name, path)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("%s: no file in %s", when, cfg.Data)
		}
	}
	if _, err := os.Stat(filepath.Join(cfg.Data, "state.db-wal")); err != nil {
		t.Logf("no WAL while running: %v", err)
	}
	scanFiles("running")
	s.Stop(t)
	scanFiles("stopped")

	log := logs.String()
	if !strings.Contains(log, "level=DEBUG") && !strings.Contains(log, "level=INFO") {
		t.Fatalf("no log captured:\n%s", log)
	}
	for name, secret := range secrets {
		if strings.Contains(log, secret) {
			t.Errorf("the %s is in the log", name)
		}
		for _, r := range responses {
			if strings.Contains(r, secret) {
				t.Errorf("the %s is in a response: %s", name, r)
			}
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", log)
	}
}

// enrolTOTP logs user in and starts TOTP enrolment; it returns the secret
// (base32, from the otpauth URI) and the session cookie's value.
func enrolTOTP(t *testing.T, s *servertest.Server, user, password string) (secret, session string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	resp, err := http.Post(s.URL+"/api/v1/session", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var login struct {
		CSRF string `json:"csrf_token"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&login) != nil || len(resp.Cookies()) == 0 {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	cookie := resp.Cookies()[0]
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/session/mfa", nil)
	req.AddCookie(cookie)
	req.Header.Set("X-CSRF-Token", login.CSRF)
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	var enrol struct {
		URI string `json:"otpauth_uri"`
	}
	if resp2.StatusCode != http.StatusOK || json.NewDecoder(resp2.Body).Decode(&enrol) != nil {
		t.Fatalf("MFA enrolment: %d", resp2.StatusCode)
	}
	u, err := url.Parse(enrol.URI)
	if err != nil || u.Query().Get("secret") == "" {
		t.Fatalf("otpauth URI %q", enrol.URI)
	}
	return u.Query().Get("secret"), cookie.Value
}

func mustBase32(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		t.Fatalf("TOTP secret %q: %v", s, err)
	}
	return b
}
