package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestTokenList: a member's admin lists the tokens it could revoke (the
// API has GET /api/v1/tokens; without the command it could revoke a token
// only if it had kept its ID): a table with the provider's tokens as "*",
// tokens without an expiry as never and past ones marked, or JSON lines;
// --tenant is passed on.
func TestTokenList(t *testing.T) {
	var query string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "GET" || r.URL.Path != "/api/v1/tokens" {
			http.NotFound(w, r)
			return
		}
		query = r.URL.RawQuery
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"tokens":[
			{"id":"AAAA","tenant":"cardiff","role":"ingest","name":"fw","created":"2026-12-07T01:00:00Z","expires":"2099-01-01T00:00:00Z","user":"Ann.Jones"},
			{"id":"BBBB","tenant":"cardiff","role":"tenant-viewer","name":"","created":"2026-12-07T01:00:00Z","expires":"2020-01-01T00:00:00Z"},
			{"id":"CCCC","role":"provider-analyst","name":"night shift","created":"2026-12-07T01:00:00Z"}]}`))
	}))
	defer srv.Close()
	env := cmdEnv{url: srv.URL, token: "x"}
	code, out, errs := env.run(t, "", "token", "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || strings.Join(strings.Fields(lines[0]), " ") != "ID TENANT ROLE NAME CREATED EXPIRES USER" {
		t.Fatalf("output:\n%s", out)
	}
	for i, want := range []string{
		"AAAA cardiff ingest fw 2026-12-07T01:00:00Z 2099-01-01T00:00:00Z Ann.Jones",
		"BBBB cardiff tenant-viewer - 2026-12-07T01:00:00Z 2020-01-01T00:00:00Z (expired) -",
		"CCCC * provider-analyst night shift 2026-12-07T01:00:00Z never -",
	} {
		if got := strings.Join(strings.Fields(lines[i+1]), " "); got != want {
			t.Errorf("row %d: %q, want %q", i+1, got, want)
		}
	}
	if query != "" {
		t.Errorf("query %q without --tenant", query)
	}
	code, out, errs = env.run(t, "", "token", "list", "--tenant", "*", "--json")
	if code != 0 {
		t.Fatalf("--json: exit %d: %s", code, errs)
	}
	if query != "tenant=%2A" {
		t.Errorf("query %q, want tenant=%%2A", query)
	}
	rows := strings.Split(strings.TrimSpace(out), "\n")
	var first map[string]any
	if len(rows) != 3 || json.Unmarshal([]byte(rows[0]), &first) != nil || first["id"] != "AAAA" || first["tenant"] != "cardiff" || first["expires"] == nil {
		t.Errorf("--json:\n%s", out)
	}
	if code, _, errs := env.run(t, "", "token", "list", "extra"); code != 2 || !strings.Contains(errs, "usage") {
		t.Errorf("extra argument: exit %d, %q", code, errs)
	}
}
