package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestIntelShowWarninglist: intel show says which observables are on a
// warning list and so never alert (as intel add does), not only --json.
func TestIntelShowWarninglist(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/intel/indicators/indicator--00000000-0000-4000-8000-000000000001" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"indicator":{"id":"indicator--00000000-0000-4000-8000-000000000001","tlp":"green","confidence":0,
			"observables":[{"type":"domain","value":"google.com","warninglist":"Top sites"},{"type":"domain","value":"evil.example"}]},"sightings":[]}`))
	}))
	defer srv.Close()
	code, out, errs := cmdEnv{url: srv.URL, token: "x"}.run(t, "", "intel", "show", "indicator--00000000-0000-4000-8000-000000000001")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, `domain google.com is on "Top sites" (known benign): it never alerts`) || strings.Contains(out, "evil.example is on") {
		t.Errorf("output:\n%s", out)
	}
}
