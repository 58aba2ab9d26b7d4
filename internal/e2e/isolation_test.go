package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	perTenant    = 10_000
	sharedMarker = "sharedmarker" // one token, in both tenants' messages
)

// tenantMarker is the per-tenant marker field value of tenant id's events.
func tenantMarker(id string) string { return "mk-" + id }

// eventsNDJSON returns n events of tenant id, one JSON object a line. Each
// has the shared marker in its message (so a query for it matches both
// tenants), the tenant's own marker, and an ID unique across tenants. Each
// also carries a field named "tenant" that lies, which must never decide
// where the event goes.
func eventsNDJSON(id string, n int) []byte {
	var b bytes.Buffer
	base := time.Now().Add(-time.Hour).UTC()
	for i := range n {
		fmt.Fprintf(&b, `{"@timestamp":%q,"message":"%s login for user u%d","marker":%q,"eid":"%s-%06d","tenant":"someone-else","user":{"name":"u%d"},"source":{"ip":"10.0.%d.%d"}}`+"\n",
			base.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano), sharedMarker, i%97, tenantMarker(id), id, i, i%97, i%250, i%200)
	}
	return b.Bytes()
}

// ingestFile writes events to a file and sends it with `tarian ingest FILE`.
func (s *server) ingestFile(token string, events []byte, want int) {
	t := s.t
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(path, events, 0o600); err != nil {
		t.Fatal(err)
	}
	r := s.cli(token, "ingest", path)
	noun := "events"
	if want == 1 {
		noun = "event"
	}
	if r.code != 0 || !strings.Contains(r.stderr, fmt.Sprintf("ingested %d %s, rejected 0", want, noun)) {
		t.Fatalf("tarian ingest: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}

// searchCLI runs `tarian search --json` and returns its rows.
func (s *server) searchCLI(token string, args ...string) []map[string]string {
	s.t.Helper()
	out := s.mustCLI(token, append([]string{"search", "--json"}, args...)...)
	return parseRows(s.t, []byte(out))
}

// isolationFixture is a server with tenants ta and tb, each holding
// perTenant searchable events, and the tokens to use them.
type isolationFixture struct {
	s                  *server
	data               string
	ingestA, ingestB   createdToken
	analystA, analystB createdToken
	provider           createdToken
}

func newIsolationFixture(t *testing.T) *isolationFixture {
	f := &isolationFixture{data: t.TempDir()}
	f.s = startServer(t, f.data)
	f.s.addTenant("ta")
	f.s.addTenant("tb")
	f.ingestA = f.s.createToken("ta", "ingest")
	f.ingestB = f.s.createToken("tb", "ingest")
	f.analystA = f.s.createToken("ta", "tenant-analyst")
	f.analystB = f.s.createToken("tb", "tenant-analyst")
	f.provider = f.s.createToken("", "provider-analyst")
	f.s.ingestFile(f.ingestA.Token, eventsNDJSON("ta", perTenant), perTenant)
	f.s.ingestFile(f.ingestB.Token, eventsNDJSON("tb", perTenant), perTenant)
	f.s.waitCount(f.provider.Token, "*", sharedMarker, map[string]int{"ta": perTenant, "tb": perTenant})
	return f
}

// checkRows checks rows are exactly perTenant distinct events of tenant id.
func checkRows(t *testing.T, who, id string, rows []map[string]string) {
	t.Helper()
	if len(rows) != perTenant {
		t.Errorf("%s: %d rows, want %d", who, len(rows), perTenant)
	}
	ids := map[string]bool{}
	bad := 0
	for _, r := range rows {
		if r["tenant"] != id || r["marker"] != tenantMarker(id) || !strings.HasPrefix(r["eid"], id+"-") {
			if bad++; bad <= 3 {
				t.Errorf("%s: row of another tenant: tenant=%q marker=%q eid=%q", who, r["tenant"], r["marker"], r["eid"])
			}
		}
		ids[r["eid"]] = true
	}
	if bad > 3 {
		t.Errorf("%s: %d rows of another tenant in all", who, bad)
	}
	if len(ids) != perTenant {
		t.Errorf("%s: %d distinct event IDs, want %d", who, len(ids), perTenant)
	}
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	f := newIsolationFixture(t)
	s := f.s

	t.Run("tenant analysts see only their own tenant", func(t *testing.T) {
		for _, c := range []struct {
			id    string
			tok   createdToken
			other string
		}{{"ta", f.analystA, "tb"}, {"tb", f.analystB, "ta"}} {
			// The shared marker matches both tenants' events; only the caller's come back.
			checkRows(t, c.id+" analyst", c.id, s.searchCLI(c.tok.Token, "--limit", "30000", sharedMarker))
			checkRows(t, c.id+" analyst, own tenant named", c.id, s.searchCLI(c.tok.Token, "--tenant", c.id, "--limit", "30000", sharedMarker))
			if got := s.counts(c.tok.Token, "", sharedMarker); got[c.id] != perTenant || len(got) != 1 {
				t.Errorf("%s analyst: count %v, want only %s=%d", c.id, got, c.id, perTenant)
			}
			// A query naming the other tenant's marker finds nothing (and the
			// same query with its own marker finds all its events, so the
			// query itself works).
			if got := s.counts(c.tok.Token, "", `marker:="`+tenantMarker(c.id)+`"`); got[c.id] != perTenant {
				t.Errorf("%s analyst: own marker count %v, want %d", c.id, got, perTenant)
			}
			if rows := s.searchCLI(c.tok.Token, `marker:="`+tenantMarker(c.other)+`"`); len(rows) != 0 {
				t.Errorf("%s analyst: %d rows with the marker of %s, want 0: %v", c.id, len(rows), c.other, rows[0])
			}
		}
	})

	t.Run("provider analyst sees every tenant with tenant=*", func(t *testing.T) {
		rows := s.searchCLI(f.provider.Token, "--tenant", "*", "--limit", "30000", sharedMarker)
		byTenant := map[string][]map[string]string{}
		for _, r := range rows {
			byTenant[r["tenant"]] = append(byTenant[r["tenant"]], r)
		}
		if len(byTenant) != 2 {
			t.Errorf("provider: rows of tenants %v, want ta and tb", keys(byTenant))
		}
		checkRows(t, "provider, ta rows", "ta", byTenant["ta"])
		checkRows(t, "provider, tb rows", "tb", byTenant["tb"])
		counts := s.searchCLI(f.provider.Token, "--tenant", "*", sharedMarker+" | stats count() as n")
		want := map[string]bool{`{"n":"10000","tenant":"ta"}`: true, `{"n":"10000","tenant":"tb"}`: true}
		for _, r := range counts {
			b, _ := json.Marshal(r)
			if !want[string(b)] {
				t.Errorf("provider count row %s, want one of %v", b, keys(want))
			}
			delete(want, string(b))
		}
		if len(want) != 0 {
			t.Errorf("provider counts %v lack %v", counts, keys(want))
		}
		// One tenant by name.
		checkRows(t, "provider, tenant=tb", "tb", s.searchCLI(f.provider.Token, "--tenant", "tb", "--limit", "30000", sharedMarker))
	})

	t.Run("refused scopes", func(t *testing.T) {
		for _, c := range []struct {
			name, token, tenant string
			status              int
			code                string
		}{
			{"ta analyst asks for tb", f.analystA.Token, "tb", http.StatusForbidden, "forbidden"},
			{"tb analyst asks for ta", f.analystB.Token, "ta", http.StatusForbidden, "forbidden"},
			{"ta analyst asks for every tenant", f.analystA.Token, "*", http.StatusForbidden, "forbidden"},
			{"ingest token searches its own tenant", f.ingestA.Token, "", http.StatusForbidden, "forbidden"},
			{"ingest token searches with tenant named", f.ingestA.Token, "ta", http.StatusForbidden, "forbidden"},
			{"provider analyst without a tenant", f.provider.Token, "", http.StatusForbidden, "forbidden"},
			{"no token", "", "ta", http.StatusUnauthorized, "unauthenticated"},
			{"unknown token", "trn_not-a-real-token", "ta", http.StatusUnauthorized, "unauthenticated"},
		} {
			status, hdr, body := s.do("GET", searchPath(c.tenant, sharedMarker, 10), c.token, nil)
			wantError(t, c.name, status, hdr, body, c.status, c.code)
			if status == http.StatusOK {
				t.Errorf("%s: leaked %d bytes of results", c.name, len(body))
			}
		}
		// The CLI refuses too, with a non-zero exit and no results.
		for _, c := range []struct {
			name, token string
			args        []string
		}{
			{"ta analyst asks for tb", f.analystA.Token, []string{"--tenant", "tb"}},
			{"ingest token", f.ingestB.Token, nil},
		} {
			r := s.cli(c.token, append(append([]string{"search", "--json"}, c.args...), sharedMarker)...)
			if r.code == 0 || r.stdout != "" || !strings.Contains(r.stderr, "forbidden") {
				t.Errorf("CLI, %s: exit %d, stdout %q, stderr %q; want non-zero, no output, forbidden", c.name, r.code, r.stdout, r.stderr)
			}
		}
	})
}

// TestRestart stops the server with SIGTERM and starts it on the same data
// directory: every event is still there, none twice.
func TestRestart(t *testing.T) {
	t.Parallel()
	f := newIsolationFixture(t)
	f.s.stop()

	s := startServer(t, f.data)
	s.waitIndexed()
	want := map[string]int{"ta": perTenant, "tb": perTenant}
	if got := s.counts(f.provider.Token, "*", sharedMarker); !equalCounts(got, want) {
		t.Fatalf("after restart: counts %v, want %v", got, want)
	}
	uniq := s.searchRows(f.provider.Token, "*", sharedMarker+" | stats count_uniq(eid) as u", 0)
	for _, r := range uniq {
		if r["u"] != fmt.Sprint(perTenant) {
			t.Errorf("after restart: tenant %s has %s distinct event IDs, want %d", r["tenant"], r["u"], perTenant)
		}
	}
	// The tokens made before the restart still work, with the same scopes.
	checkRows(t, "ta analyst after restart", "ta", s.searchCLI(f.analystA.Token, "--limit", "30000", sharedMarker))
	checkRows(t, "tb analyst after restart", "tb", s.searchCLI(f.analystB.Token, "--limit", "30000", sharedMarker))

	// And the restarted server keeps ingesting.
	s.ingestFile(f.ingestA.Token, []byte(`{"message":"after restart","marker":"late"}`+"\n"), 1)
	s.waitCount(f.analystA.Token, "", "marker:late", map[string]int{"ta": 1})
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
