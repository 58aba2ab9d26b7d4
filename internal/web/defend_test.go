package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/defend"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
	"github.com/tarian-soc/tarian/internal/web"
)

// sharedIntel is the intel service as defend uses it: it keeps what is
// shared.
type sharedIntel struct{ held map[string]intel.Indicator }

func (s *sharedIntel) Import(_ context.Context, b intel.Batch) (intel.Summary, error) {
	for _, i := range b.Indicators {
		s.held[i.ID] = i
	}
	return intel.Summary{Imported: len(b.Indicators)}, nil
}

func (s *sharedIntel) Get(_ context.Context, id string, _ tenant.ID, _ bool) (intel.Indicator, error) {
	i, ok := s.held[id]
	if !ok {
		return i, intel.ErrNotFound
	}
	return i, nil
}

// defendAPI serves the API over a real state store, alert pipeline and
// defend service with cfg; it returns the server's URL, the store, the
// pipeline, the shared indicators and a provider analyst's token.
func defendAPI(t *testing.T, cfg defend.Config) (string, *sqlstore.DB, *alert.Pipeline, *sharedIntel, string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: "gwynedd", Name: "Cyngor Gwynedd", Created: t0}); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return t0 }
	pipe, err := alert.NewPipeline(ctx, alert.DefaultConfig(), alert.Deps{Store: db, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	in := &sharedIntel{held: map[string]intel.Indicator{}}
	d, err := defend.New(cfg, defend.Deps{Store: db, Intel: in, Audit: db, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(web.New(web.DefaultConfig(), web.Deps{Tenants: db, Tokens: db, Audit: db, Alerts: pipe, Defend: d,
		Ready: func() error { return nil }, Log: log}))
	t.Cleanup(srv.Close)
	secret, id, hash := auth.NewSecret()
	if err := db.CreateToken(ctx, auth.Token{ID: id, Role: auth.RoleProviderAnalyst, Hash: hash, Created: t0}); err != nil {
		t.Fatal(err)
	}
	return srv.URL, db, pipe, in, secret
}

// raisePhish raises gwynedd's alert of an outside sender and its domain
// at its mail server.
func raisePhish(t *testing.T, pipe *alert.Pipeline) alert.Alert {
	t.Helper()
	cs, err := pipe.Raise(context.Background(), "gwynedd", []alert.Detection{{
		Producer: alert.ProducerSigma, RuleID: "phish", Title: "Invoice lure", Level: "high",
		Entities: []alert.Entity{{Type: alert.EntityHost, Value: "mx1.gwynedd.gov.uk"}, {Type: alert.EntityEmailSender, Value: "billing@pay-now.biz"},
			{Type: alert.EntityDomain, Value: "pay-now.biz"}},
		EventRef: "1:0", EventHash: "phish-1", EventTime: t0, Received: t0,
	}})
	if err != nil || len(cs) != 1 {
		t.Fatalf("raise: %v, %d changes", err, len(cs))
	}
	return cs[0].Alert
}

func resolveTP(t *testing.T, url, token string, id int64) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/alerts/%d/resolve", url, id), strings.NewReader(`{"as":"true-positive"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("resolve: %d, %v %v", resp.StatusCode, out, err)
	}
	return out
}

// shares are the intel.share records of gwynedd's audit chain.
func shares(t *testing.T, db *sqlstore.DB) []string {
	t.Helper()
	rs, err := db.AuditRecords(context.Background(), "gwynedd", 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		if r.Action == "intel.share" {
			out = append(out, r.Detail)
		}
	}
	return out
}

// TestShareAuditDetailIsJSON: the share of a provider's true positive is
// audited in the member's chain with a JSON detail a tool can read.
func TestShareAuditDetailIsJSON(t *testing.T) {
	url, db, pipe, in, prov := defendAPI(t, defend.DefaultConfig())
	a := raisePhish(t, pipe)
	out := resolveTP(t, url, prov, a.ID)
	if _, ok := out["shared"]; !ok || len(in.held) != 2 {
		t.Fatalf("resolve shared nothing: %v", out)
	}
	ds := shares(t, db)
	if len(ds) != 1 {
		t.Fatalf("intel.share records %q, want one", ds)
	}
	var d struct {
		Alert      int64    `json:"alert"`
		Indicators []string `json:"indicators"`
		Withheld   int      `json:"withheld"`
	}
	if err := json.Unmarshal([]byte(ds[0]), &d); err != nil || d.Alert != a.ID || len(d.Indicators) != 2 || d.Withheld != 1 {
		t.Errorf("intel.share detail %s: %+v, %v", ds[0], d, err)
	}
}

// TestShareOff: with defend.share off, a provider's true positive says
// nothing of sharing (not "nothing to share") and records no share.
func TestShareOff(t *testing.T) {
	cfg := defend.DefaultConfig()
	cfg.Share = false
	url, db, pipe, in, prov := defendAPI(t, cfg)
	a := raisePhish(t, pipe)
	out := resolveTP(t, url, prov, a.ID)
	if sh, ok := out["shared"]; ok {
		t.Errorf("with sharing off, the answer says shared: %v", sh)
	}
	if len(in.held) != 0 {
		t.Errorf("with sharing off, shared %v", in.held)
	}
	if ds := shares(t, db); len(ds) != 0 {
		t.Errorf("with sharing off, audited shares %q", ds)
	}
}
