package taxii_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/taxii"
	"github.com/tarian-soc/tarian/internal/tenant"
	"github.com/tarian-soc/tarian/internal/web"
)

// storeImporter is the test's taxii.Importer: it keeps the batch's objects
// in the real SQLite object store (the intel service also keeps the
// indicators, which the TAXII server does not read).
type storeImporter struct{ db *sqlstore.DB }

func (i storeImporter) Import(ctx context.Context, b intel.Batch) (intel.Summary, error) {
	n, err := i.db.PutObjects(ctx, b.Objects)
	return intel.Summary{Objects: n, Skipped: b.Skipped}, err
}

// env is the real API (web.New) with the TAXII server over a real SQLite
// store, on 127.0.0.1, with members tenant-a and tenant-b and a token of
// every role.
type env struct {
	db     *sqlstore.DB
	url    string
	tokens map[string]string // "a/tenant-analyst", "provider-admin", ...
}

func newEnv(t *testing.T, cfg taxii.Config) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := taxii.New(cfg, taxii.Deps{Store: db, Importer: storeImporter{db}, Tenants: db, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	api := web.New(web.DefaultConfig(), web.Deps{Tenants: db, Tokens: db, Audit: db, TAXII: srv, Log: log, Ready: func() error { return nil }})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(api)
	hs.Listener.Close()
	hs.Listener = l
	hs.Start()
	t.Cleanup(hs.Close)
	e := &env{db: db, url: hs.URL, tokens: map[string]string{}}
	for _, ten := range []string{"a", "b"} {
		id := tenant.ID("tenant-" + ten)
		if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: id, Name: "Member " + ten}); err != nil {
			t.Fatal(err)
		}
		for _, role := range []auth.Role{auth.RoleIngest, auth.RoleTenantViewer, auth.RoleTenantAnalyst, auth.RoleTenantAdmin} {
			e.tokens[ten+"/"+string(role)] = e.token(t, id, role)
		}
	}
	e.tokens["provider-analyst"] = e.token(t, "", auth.RoleProviderAnalyst)
	e.tokens["provider-admin"] = e.token(t, "", auth.RoleProviderAdmin)
	return e
}

func (e *env) token(t *testing.T, ten tenant.ID, role auth.Role) string {
	t.Helper()
	secret, id, hash := auth.NewSecret()
	if err := e.db.CreateToken(context.Background(), auth.Token{ID: id, Tenant: ten, Role: role, Hash: hash, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return secret
}

// spec is a TAXII 2.1 client written from the specification with plain
// net/http: it sends the TAXII media type in Accept (and Content-Type on
// POST) and checks every answer carries it back.
type spec struct {
	t     *testing.T
	base  string
	token string
	basic bool // the token as the password of HTTP Basic
	// hdr overrides request headers ("" deletes).
	hdr map[string]string
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("answer %d %s: %v", r.status, r.body, err)
	}
}

func (c spec) do(method, path string, body []byte) reply {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Accept", taxii.MediaType)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", taxii.MediaType)
	}
	switch {
	case c.token != "" && c.basic:
		req.SetBasicAuth("any-user", c.token)
	case c.token != "":
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range c.hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != taxii.MediaType {
		c.t.Errorf("%s %s: Content-Type %q, want %q", method, path, ct, taxii.MediaType)
	}
	if resp.StatusCode >= 400 {
		var e taxii.ErrorBody
		if err := json.Unmarshal(b, &e); err != nil || e.Title == "" || e.HTTPStatus == "" {
			c.t.Errorf("%s %s: %d with a body that is not a TAXII error message: %s", method, path, resp.StatusCode, b)
		}
	}
	return reply{resp.StatusCode, resp.Header, b}
}

func (c spec) get(path string) reply { c.t.Helper(); return c.do(http.MethodGet, path, nil) }

// must answers want or fails.
func (r reply) must(t *testing.T, want int) reply {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
	return r
}

// corpus returns $TARIAN_CORPUS/intel/taxii, or skips.
func corpus(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("TARIAN_CORPUS")
	if dir == "" {
		t.Skip("TARIAN_CORPUS is not set: skipping the test on the corpus TAXII data (set it to ../shared/corpus)")
	}
	return filepath.Join(dir, "intel", "taxii")
}
