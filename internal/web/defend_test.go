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
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/audit"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/defend"
	"github.com/tarian-soc/tarian/internal/defend/defendtest"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
	"github.com/tarian-soc/tarian/internal/web"
)

// defendAPI serves the API over a real state store, alert pipeline and
// defend service with cfg; it returns the server's URL, the store, the
// pipeline, the shared indicators and a provider analyst's token.
func defendAPI(t *testing.T, cfg defend.Config) (string, *sqlstore.DB, *alert.Pipeline, *defendtest.Intel, string) {
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
	in := &defendtest.Intel{}
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
	return act(t, url, token, id, "resolve", `{"as":"true-positive"}`)
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
	if _, ok := out["shared"]; !ok || len(in.Held) != 2 {
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
	if len(in.Held) != 0 {
		t.Errorf("with sharing off, shared %v", in.Held)
	}
	if ds := shares(t, db); len(ds) != 0 {
		t.Errorf("with sharing off, audited shares %q", ds)
	}
}

// act posts an alert action with token and returns the answer.
func act(t *testing.T, url, token string, id int64, verb, body string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/alerts/%d/%s", url, id, verb), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d, %v %v", verb, resp.StatusCode, out, err)
	}
	return out
}

// TestReopenWithdraws: a provider reopening its true positive takes back
// what the confirmation shared (the indicators are revoked, audited), but
// not a value another confirmed alert shares too; a member reopening the
// alert takes back nothing.
func TestReopenWithdraws(t *testing.T) {
	url, db, pipe, in, prov := defendAPI(t, defend.DefaultConfig())
	revoked := func() []string {
		var ids []string
		for id, i := range in.Held {
			if i.Revoked {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		return ids
	}
	first := raisePhish(t, pipe)
	resolveTP(t, url, prov, first.ID)
	if len(in.Held) != 2 {
		t.Fatalf("shared %d indicators, want the sender and the domain", len(in.Held))
	}
	// A second alert, from another rule, with the same sender only.
	cs, err := pipe.Raise(context.Background(), "gwynedd", []alert.Detection{{
		Producer: alert.ProducerSigma, RuleID: "phish-2", Title: "Invoice lure again", Level: "high",
		Entities: []alert.Entity{{Type: alert.EntityEmailSender, Value: "billing@pay-now.biz"}},
		EventRef: "1:1", EventHash: "phish-2", EventTime: t0, Received: t0,
	}})
	if err != nil || len(cs) != 1 {
		t.Fatalf("raise: %v", err)
	}
	second := cs[0].Alert
	resolveTP(t, url, prov, second.ID)

	out := act(t, url, prov, first.ID, "reopen", "")
	domain := ""
	for id, i := range in.Held {
		if i.Observables[0].Type == intel.TypeDomain {
			domain = id
		}
	}
	if got := revoked(); !slices.Equal(got, []string{domain}) {
		t.Fatalf("after reopening the first: revoked %v, want the domain %s only (the second alert still shares the sender)", got, domain)
	}
	if w, _ := out["withdrawn"].([]any); len(w) != 1 || w[0] != domain {
		t.Errorf("the reopen's answer: withdrawn %v, want [%s]", out["withdrawn"], domain)
	}
	rs, err := db.AuditRecords(context.Background(), "gwynedd", 100)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rs, func(r audit.Record) bool { return r.Action == "intel.withdraw" && strings.Contains(r.Detail, domain) }) {
		t.Error("no intel.withdraw record naming the domain in gwynedd's chain")
	}

	// A member's analyst reopening the second alert takes back nothing.
	secret, id, hash := auth.NewSecret()
	if err := db.CreateToken(context.Background(), auth.Token{ID: id, Tenant: "gwynedd", Role: auth.RoleTenantAnalyst, Hash: hash, Created: t0}); err != nil {
		t.Fatal(err)
	}
	act(t, url, secret, second.ID, "reopen", "")
	if got := revoked(); len(got) != 1 {
		t.Errorf("after a member's reopen: revoked %v, want the domain only", got)
	}
	// The provider resolves and reopens it: the sender goes too.
	resolveTP(t, url, prov, second.ID)
	act(t, url, prov, second.ID, "reopen", "")
	if got := revoked(); len(got) != 2 {
		t.Errorf("after the provider reopened both: revoked %v, want both", got)
	}
}
