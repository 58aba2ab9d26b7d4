package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// TestPollHealthSurvivesRestart: GET /api/v1/cloud-sources shows, after a
// restart, the records polled and the last success of the run before.
func TestPollHealthSurvivesRestart(t *testing.T) {
	signedIn := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	ms := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
			fmt.Fprint(w, `{"token_type":"Bearer","expires_in":3599,"access_token":"token-1"}`)
		case r.URL.Path == "/v1.0/auditLogs/signIns":
			fmt.Fprintf(w, `{"value":[{"id":"66ea54eb-6301-4ee5-be62-ff5a759b8100","createdDateTime":%q,"userPrincipalName":"alice@cardiff.example"}]}`,
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

	type health struct {
		Stream      string     `json:"stream"`
		LastSuccess *time.Time `json:"last_success"`
		Records     int64      `json:"records"`
	}
	list := func(s *servertest.Server, token string) []health {
		t.Helper()
		status, body := s.Do(t, http.MethodGet, "/api/v1/cloud-sources", token, nil)
		var out struct {
			CloudSources []struct{ Health []health } `json:"cloud_sources"`
		}
		if status != http.StatusOK || json.Unmarshal(body, &out) != nil || len(out.CloudSources) != 1 {
			t.Fatalf("list cloud sources: %d %s", status, body)
		}
		return out.CloudSources[0].Health
	}

	s := servertest.Start(t, cfg)
	s.AddTenant(t, "council-a")
	admin := s.Token(t, "council-a", "tenant-admin")
	status, body := s.Do(t, http.MethodPost, "/api/v1/cloud-sources", admin, []byte(`{"name":"cardiff-entra","directory_tenant":"0b0b0b0b-0000-4000-8000-00000000000a","client_id":"0b0b0b0b-0000-4000-8000-00000000000b","client_secret":"s3cret-value","streams":["entra-signin"]}`))
	if status/100 != 2 {
		t.Fatalf("add cloud source: %d %s", status, body)
	}
	var before []health
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if before = list(s, admin); len(before) == 1 && before[0].Records == 1 && before[0].LastSuccess != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health before the restart: %+v, want one record polled", before)
		}
	}
	s.Stop(t)

	// The record is not polled again (checkpoint), so a count of 1 and a
	// last success no earlier than before come from the stored health.
	cfg.Poll.Interval = time.Hour
	s = servertest.Start(t, cfg)
	after := list(s, s.Token(t, "council-a", "tenant-admin"))
	if len(after) != 1 || after[0].Stream != "entra-signin" || after[0].Records != 1 || after[0].LastSuccess == nil || after[0].LastSuccess.Before(*before[0].LastSuccess) {
		t.Fatalf("health after the restart: %+v, want %+v", after, before)
	}
}
