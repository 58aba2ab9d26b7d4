package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConfigRefused starts `tarian serve --config F` with bad files: the
// server must exit non-zero without serving, and say which key is wrong and
// why (and where, for a key it does not know).
func TestConfigRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string // "" for no config file
		env  []string
		want []string // in stderr; "FILE" stands for the file's path
	}{
		{
			name: "unknown nested key",
			file: "listen: 127.0.0.1:0\ningest:\n  max_line_bytes: 4096\n  max_line_bytez: 100\n",
			want: []string{"FILE", "line 4", "max_line_bytez", "not found"},
		},
		{
			name: "unknown top-level key",
			file: "log:\n  level: info\nlisten_addr: 127.0.0.1:0\n",
			want: []string{"FILE", "line 3", "listen_addr", "not found"},
		},
		{
			name: "value out of range",
			file: "ingest:\n  max_line_bytes: 10\n",
			want: []string{"FILE", "ingest.max_line_bytes", "must be between 1024 and"},
		},
		{
			name: "value not in the allowed set",
			file: "log:\n  level: loud\n",
			want: []string{"FILE", "log.level", `"loud" is not one of`},
		},
		{
			name: "limits that contradict each other",
			file: "ingest:\n  max_line_bytes: 8192\n  max_body_bytes: 4096\n",
			want: []string{"FILE", "ingest.max_body_bytes", "at least max_line_bytes"},
		},
		{
			name: "value of the wrong type",
			file: "ingest:\n  max_line_bytes: lots\n",
			want: []string{"FILE", "line 2", "max_line_bytes", "lots"},
		},
		{
			name: "duration that does not parse",
			file: "bus:\n  max_age: forever\n",
			want: []string{"FILE", "line 2", "max_age", "forever"},
		},
		{
			name: "bad environment override",
			env:  []string{"TARIAN_INGEST_MAX_LINE_BYTES=abc"},
			want: []string{"TARIAN_INGEST_MAX_LINE_BYTES", "want an integer"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			data := filepath.Join(dir, "data")
			args := []string{"serve", "--data", data, "--listen", "127.0.0.1:0"}
			path := filepath.Join(dir, "tarian.yaml")
			if tt.file != "" {
				if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--config", path)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, tarianBin, args...)
			cmd.Env = append(append(baseEnv(), "TARIAN_BOOTSTRAP_TOKEN="+adminToken), tt.env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() <= 0 {
				t.Fatalf("serve with a bad config: %v (want a non-zero exit)\nstderr: %s", err, stderr.String())
			}
			for _, w := range tt.want {
				if w == "FILE" {
					w = path
				}
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			if _, err := os.Stat(filepath.Join(data, "tarian.addr")); err == nil {
				t.Errorf("the server listened despite the bad config")
			}
		})
	}
}

// TestHealthAndMetrics checks the health endpoints and that the ingest
// counters say exactly what was ingested and rejected, per tenant.
func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	s := startServer(t, t.TempDir())
	for _, path := range []string{"/healthz", "/readyz"} {
		status, hdr, b := s.do("GET", path, "", nil)
		if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
			t.Errorf("GET %s: HTTP %d %q %s, want 200 JSON", path, status, hdr.Get("Content-Type"), b)
		}
	}
	// /metrics names every member and its volumes: not for anonymous callers.
	if status, _, b := s.do("GET", "/metrics", "", nil); status != http.StatusUnauthorized {
		t.Errorf("anonymous GET /metrics: HTTP %d %.200s, want 401", status, b)
	}
	s.addTenant("ma")
	s.addTenant("mb")
	ingA := s.createToken("ma", "ingest")
	ingB := s.createToken("mb", "ingest")

	var body bytes.Buffer
	for i := range 1234 {
		fmt.Fprintf(&body, `{"message":"metric event %d"}`+"\n", i)
	}
	body.WriteString("not json\n[]\n{\"x\":\n")
	sumA1 := s.ingestHTTP(ingA.Token, body.Bytes())
	sumA2 := s.ingestHTTP(ingA.Token, []byte(`{"message":"one more"}`+"\n"+"7\n"))
	sumB := s.ingestHTTP(ingB.Token, []byte(`{"message":"b"}`+"\n"+`{"message":"b"}`+"\n"))
	if sumA1.Accepted != 1234 || sumA1.Rejected != 3 || sumA2.Accepted != 1 || sumA2.Rejected != 1 || sumB.Accepted != 2 || sumB.Rejected != 0 {
		t.Fatalf("ingest summaries %+v %+v %+v", sumA1, sumA2, sumB)
	}
	s.waitIndexed()

	m := s.metrics()
	for series, want := range map[string]float64{
		`tarian_ingest_events_total{tenant="ma"}`:   1235,
		`tarian_ingest_rejected_total{tenant="ma"}`: 4,
		`tarian_ingest_events_total{tenant="mb"}`:   2,
		`tarian_bus_lag_messages`:                   0,
	} {
		got, ok := m[series]
		if !ok || got != want {
			t.Errorf("/metrics %s = %v (present %v), want %v", series, got, ok, want)
		}
	}
	if got, ok := m[`tarian_ingest_rejected_total{tenant="mb"}`]; ok && got != 0 {
		t.Errorf(`/metrics tarian_ingest_rejected_total{tenant="mb"} = %v, want 0 or absent`, got)
	}
	for _, gauge := range []string{"tarian_events_stored", "tarian_events_disk_bytes", "tarian_bus_stream_bytes"} {
		if v, ok := m[gauge]; !ok || v < 0 {
			t.Errorf("/metrics %s = %v (present %v), want a value ≥ 0", gauge, v, ok)
		}
	}
	if m["tarian_events_stored"] != 1237 {
		t.Errorf("/metrics tarian_events_stored = %v, want 1237", m["tarian_events_stored"])
	}
}

// TestAuditCrossTenantRead checks that a provider's cross-tenant search
// leaves an audit record, readable by the provider-admin only.
func TestAuditCrossTenantRead(t *testing.T) {
	t.Parallel()
	s := startServer(t, t.TempDir())
	s.addTenant("ua")
	s.addTenant("ub")
	prov := s.createToken("", "provider-analyst")
	analyst := s.createToken("ua", "tenant-analyst")

	s.searchCLI(prov.Token, "--tenant", "*", "auditedstarsearch")
	s.searchCLI(prov.Token, "--tenant", "ub", "auditedonetenant")
	s.searchCLI(analyst.Token, "owntenantsearch")

	type record struct {
		Actor  string `json:"actor"`
		Role   string `json:"role"`
		Action string `json:"action"`
		Scope  string `json:"scope"`
		Detail string `json:"detail"`
		Time   time.Time
	}
	status, _, b := s.do("GET", "/api/v1/audit?limit=1000", adminToken, nil)
	if status != http.StatusOK {
		t.Fatalf("GET /api/v1/audit as provider-admin: HTTP %d %s", status, b)
	}
	var out struct {
		Records []record `json:"records"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	find := func(marker string) *record {
		for i, r := range out.Records {
			if strings.Contains(r.Detail, marker) {
				return &out.Records[i]
			}
		}
		return nil
	}
	for _, c := range []struct{ marker, scope string }{{"auditedstarsearch", "*"}, {"auditedonetenant", "ub"}} {
		r := find(c.marker)
		if r == nil {
			t.Errorf("no audit record of the provider search %q in %s", c.marker, b)
			continue
		}
		if r.Actor != prov.ID || r.Role != "provider-analyst" || r.Action != "search" || r.Scope != c.scope || time.Since(r.Time) > time.Hour {
			t.Errorf("audit record of %q: %+v, want actor %s, role provider-analyst, action search, scope %q, now", c.marker, *r, prov.ID, c.scope)
		}
	}
	// The scope filter finds the cross-tenant read.
	status, _, b = s.do("GET", "/api/v1/audit?scope=*", adminToken, nil)
	if status != http.StatusOK || !bytes.Contains(b, []byte("auditedstarsearch")) || bytes.Contains(b, []byte("auditedonetenant")) {
		t.Errorf("GET /api/v1/audit?scope=*: HTTP %d %s", status, b)
	}
	// Only the provider-admin reads the trail.
	for _, c := range []struct{ name, token string }{{"provider-analyst", prov.Token}, {"tenant-analyst", analyst.Token}} {
		status, hdr, b := s.do("GET", "/api/v1/audit", c.token, nil)
		wantError(t, c.name+" reads the audit trail", status, hdr, b, http.StatusForbidden, "forbidden")
	}
}
