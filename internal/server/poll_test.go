package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// TestCloudSourceThroughServer adds a member's Entra app through the API of
// a whole server whose pollers point at a local server answering as
// Microsoft's token endpoint and Graph do; the sign-in it serves becomes a
// parsed entra-signin event of that tenant only, once, however often the
// poller comes back.
func TestCloudSourceThroughServer(t *testing.T) {
	signedIn := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	var graphCalls atomic.Int32
	ms := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
			_ = r.ParseForm()
			if r.PostForm.Get("client_secret") != "s3cret-value" {
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}`)
				return
			}
			fmt.Fprint(w, `{"token_type":"Bearer","expires_in":3599,"access_token":"token-1"}`)
		case r.URL.Path == "/v1.0/auditLogs/signIns":
			graphCalls.Add(1)
			if r.Header.Get("Authorization") != "Bearer token-1" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			fmt.Fprintf(w, `{"value":[{"id":"66ea54eb-6301-4ee5-be62-ff5a759b8100","createdDateTime":%q,"userDisplayName":"Alice","userPrincipalName":"alice@cardiff.example","userId":"d7d5e3f0-0000-4000-8000-000000000001","appDisplayName":"Office 365 Exchange Online","ipAddress":"203.0.113.50","clientAppUsed":"Browser","status":{"errorCode":50126,"failureReason":"Invalid username or password."}}]}`,
				signedIn.Format(time.RFC3339))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ms.Close)

	cfg := servertest.Config(t.TempDir())
	cfg.Poll.LoginURL, cfg.Poll.GraphURL, cfg.Poll.ManageURL = ms.URL, ms.URL, ms.URL
	cfg.Poll.Interval = time.Second
	cfg.Poll.Delay = 0
	cfg.Poll.Lookback = time.Hour
	s := servertest.Start(t, cfg)
	s.AddTenant(t, "council-a")
	s.AddTenant(t, "council-b")
	admin := s.Token(t, "council-a", "tenant-admin")
	status, body := s.Do(t, http.MethodPost, "/api/v1/cloud-sources", admin, []byte(`{"name":"cardiff-entra","directory_tenant":"0b0b0b0b-0000-4000-8000-00000000000a","client_id":"0b0b0b0b-0000-4000-8000-00000000000b","client_secret":"s3cret-value","streams":["entra-signin"]}`))
	if status/100 != 2 || strings.Contains(string(body), "s3cret") {
		t.Fatalf("add cloud source: %d %s", status, body)
	}

	search := func(tn string) []map[string]string {
		_, b := s.Do(t, http.MethodGet, "/api/v1/search?q="+url.QueryEscape(`tarian.source.type:entra-signin`), s.Token(t, tn, "tenant-analyst"), nil)
		var rows []map[string]string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var row map[string]string
			if json.Unmarshal([]byte(l), &row) == nil {
				rows = append(rows, row)
			}
		}
		return rows
	}
	var rows []map[string]string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if rows = search("council-a"); len(rows) > 0 && graphCalls.Load() >= 3 {
			break
		}
	}
	if len(rows) != 1 {
		t.Fatalf("council-a holds %d sign-in events after %d polls, want exactly 1: %v", len(rows), graphCalls.Load(), rows)
	}
	for name, want := range map[string]string{"source.ip": "203.0.113.50", "event.outcome": "failure", "user.id": "d7d5e3f0-0000-4000-8000-000000000001"} {
		if rows[0][name] != want {
			t.Errorf("%s = %q, want %q (event %v)", name, rows[0][name], want, rows[0])
		}
	}
	if got := search("council-b"); len(got) != 0 {
		t.Fatalf("council-b sees council-a's sign-ins: %v", got)
	}
}
