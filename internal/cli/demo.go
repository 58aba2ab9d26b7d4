package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/config"
	"github.com/tarian-soc/tarian/internal/demo"
	"github.com/tarian-soc/tarian/internal/savedsearch"
	"github.com/tarian-soc/tarian/internal/server"
)

// seedDemo adds the demo member bodies, their rules, indicators and a day
// of their events, on first start only, through the HTTP API like any
// shipper and analyst; opens the case of the intrusion once its alerts are
// in; keeps the members' sources (all but the silent firewall) sending
// while the demo runs; and on every start replays the files under replay,
// if set, into west-fire. What to try next goes to stdout, apart from the
// logs on stderr.
func seedDemo(ctx context.Context, srv *server.Server, cfg config.Config, env Env, replay string) error {
	for srv.Addr() == "" {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	admin := cfg.BootstrapToken
	if admin == "" {
		b, err := os.ReadFile(filepath.Join(cfg.Data, server.AdminTokenFile))
		if err != nil {
			return fmt.Errorf("read admin token: %w", err)
		}
		admin = strings.TrimSpace(string(b))
	}
	base := srv.URL()
	hc := newClientHTTP()
	if cfg.API.TLSCert != "" {
		// The demo trusts its own certificate (self-signed or not).
		var err error
		if hc, err = clientHTTPTrusting(cfg.API.TLSCert); err != nil {
			return fmt.Errorf("api.tls_cert: %w", err)
		}
	}
	c := &client{base: base, token: admin, hc: hc}
	now := time.Now()
	var files []importFile
	for name, data := range demo.RuleFiles() {
		files = append(files, importFile{Name: "demo/" + name, Data: data})
	}
	var imported map[string]any
	if err := c.json(ctx, "POST", "/api/v1/rules", map[string]any{"files": files}, &imported); err != nil {
		return fmt.Errorf("import demo rules: %w", err)
	}
	tokens, first, err := demoTenants(ctx, c, cfg.Data)
	if err != nil {
		return err
	}
	caseLine := ""
	if first {
		// The indicators go in before the events, so the phishing wave
		// is matched as it arrives.
		resp, err := c.do(ctx, "POST", "/api/v1/intel/import?name=demo-indicators.csv&tlp=green", bytes.NewReader(demo.Indicators()), "text/csv")
		if err != nil {
			return fmt.Errorf("import demo indicators: %w", err)
		}
		resp.Body.Close()
		for i, t := range demo.Tenants {
			ic := &client{base: base, token: tokens[t.ID], hc: c.hc}
			body := bytes.Join(demo.Events(t, 5000, now, uint64(i+1)), []byte("\n"))
			resp, err := ic.do(ctx, "POST", "/api/v1/ingest", bytes.NewReader(body), "application/x-ndjson")
			if err != nil {
				return err
			}
			resp.Body.Close()
		}
		if err := demoSearches(ctx, c); err != nil {
			return err
		}
		id, err := demoCase(ctx, c)
		if err != nil {
			return err
		}
		caseLine = fmt.Sprintf("case %d is open for it with the ransomware checklist, escalated to the member;\n    the night shift acknowledged its alerts and assigned them to you (each alert's History)", id)
		// Once the members' events have been through detection, a partner
		// CERT shares the payload's site: only a retro-hunt can find it.
		if err := demoCaughtUp(ctx, c); err != nil {
			return err
		}
		resp, err = c.do(ctx, "POST", "/api/v1/intel/import?name=partner-cert.csv&tlp=green", bytes.NewReader(demo.PartnerIndicators()), "text/csv")
		if err != nil {
			return fmt.Errorf("import the partner's indicators: %w", err)
		}
		resp.Body.Close()
	} else {
		caseLine = "its case is in the case list"
	}
	go demoLive(ctx, base, c, tokens)
	console, err := demoConsoleUser(ctx, c, cfg.Data)
	if err != nil {
		return err
	}
	var replayErr error
	if replay != "" {
		replayErr = replayDemo(ctx, c, tokens["west-fire"], env, replay)
	}
	tokenHint := "$(cat " + filepath.Join(cfg.Data, server.AdminTokenFile) + ")"
	if cfg.BootstrapToken != "" {
		tokenHint = "$TARIAN_BOOTSTRAP_TOKEN"
	}
	fmt.Fprintf(env.Stdout, `
Tarian demo is running at %s with %d member bodies, a day of their events and one intrusion.
The console: open %s/ in a browser and log in as %s

What happened (the queue, Campaigns, Cases and Overview show it):
  - a phishing wave from %s reached all three members within half an hour:
    threat intelligence matched it, and the alerts at three members make one campaign;
  - at each member one user opened the attachment and its macro started encoded PowerShell;
    at North Vale and Riverside the intruder then dumped LSASS and moved to the domain controller;
  - at Riverside it deleted the backups (shadow copies, backup catalogue): %s;
    the SOC's "Backups deleted" search, scheduled daily for every member, alerted on it too;
  - West Fire's firewall stopped logging: within a minute it is silent, with a health alert;
  - afterwards a partner CERT shared the site the macro fetched its payload from (%[12]s):
    a retro-hunt found it in every member's proxy logs (intel hunts).

In another terminal:
  export TARIAN_URL=%[7]s TARIAN_TOKEN=%[8]s
  %[11]s alerts incidents --tenant '*'     # the queue, one line per intrusion
  %[11]s campaigns list                    # one sender at three members
  %[11]s intel hunts                       # the partner's indicator found in the past
  %[11]s cases list --tenant '*'
  %[11]s sources list --tenant west-fire   # the silent firewall
  %[11]s scorecard --tenant '*'            # onboarding: sources, ATT&CK coverage
  %[11]s reports create --tenant riverside --month %[9]s -o riverside.html   # or --lang cy --pdf
  %[11]s search --tenant '*' 'source.ip:%[10]s | stats by (tenant) count()'
  %[11]s searches list                     # the SOC's saved hunts (the console's Hunt page has them too)
  %[11]s search --tenant '*' --saved "Backups deleted"
  %[11]s alerts list --tenant '*' --producer search   # what that search, scheduled daily, alerted on
Stop with Ctrl-C.
`, base, len(demo.Tenants), base, console, demo.PhishSender, caseLine, base, tokenHint, now.UTC().Format("2006-01"), demo.SprayIP, selfCommand(), demo.StageDomain)
	return replayErr
}

// selfCommand is how to run this program again: as it was started, or
// "go run ./cmd/tarian" when go run built it.
func selfCommand() string {
	exe := os.Args[0]
	if strings.Contains(exe, "go-build") || exe == "" {
		return "go run ./cmd/tarian"
	}
	return exe
}

// demoTokensFile keeps the demo members' ingest tokens, so every start of
// the demo can keep their sources sending.
const demoTokensFile = "demo-ingest-tokens.json"

// demoTenants adds the demo member bodies on the first start, with an
// ingest token each, and returns the tokens and whether this is the first
// start.
func demoTenants(ctx context.Context, c *client, data string) (map[string]string, bool, error) {
	path := filepath.Join(data, demoTokensFile)
	tokens := map[string]string{}
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &tokens); err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		return tokens, false, nil
	}
	for _, t := range demo.Tenants {
		var tj tenantJSON
		err := c.json(ctx, "POST", "/api/v1/tenants", map[string]string{"id": t.ID, "name": t.Name}, &tj)
		var ae *apiError
		if err != nil && !(errors.As(err, &ae) && ae.Code == "tenant_exists") {
			return nil, false, err
		}
		var tok map[string]string
		if err := c.json(ctx, "POST", "/api/v1/tokens", map[string]string{"tenant": t.ID, "role": "ingest", "name": "demo"}, &tok); err != nil {
			return nil, false, err
		}
		tokens[t.ID] = tok["token"]
	}
	b, _ := json.Marshal(tokens)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, false, err
	}
	return tokens, true, nil
}

// demoCaseRule is the demo rule whose alert the demo opens a case for.
const demoCaseRule = "7c1f6d0a-3b8e-4c52-9a61-5d2e8f0b1a05" // wbadmin_delete_catalog.yml

// demoCase waits for Riverside's backup-deletion alert and opens a case
// with every alert of its incident, escalated so the member sees it.
func demoCase(ctx context.Context, c *client) (int64, error) {
	type alertJSON struct {
		ID       int64 `json:"id"`
		Incident int64 `json:"incident"`
	}
	var found *alertJSON
	for deadline := time.Now().Add(45 * time.Second); found == nil; {
		var out struct {
			Alerts []alertJSON `json:"alerts"`
		}
		if err := c.json(ctx, "GET", "/api/v1/alerts?tenant=riverside&rule="+url.QueryEscape(demoCaseRule), nil, &out); err != nil {
			return 0, err
		}
		if len(out.Alerts) > 0 {
			found = &out.Alerts[0]
			break
		}
		if time.Now().After(deadline) {
			return 0, errors.New("demo case: Riverside's backup deletion raised no alert within 45 s")
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	ids := []int64{found.ID}
	if found.Incident != 0 {
		var out struct {
			Alerts []alertJSON `json:"alerts"`
		}
		if err := c.json(ctx, "GET", fmt.Sprintf("/api/v1/alerts?tenant=riverside&incident=%d", found.Incident), nil, &out); err != nil {
			return 0, err
		}
		ids = ids[:0]
		for _, a := range out.Alerts {
			ids = append(ids, a.ID)
		}
	}
	var cs struct {
		ID int64 `json:"id"`
	}
	if err := c.json(ctx, "POST", "/api/v1/cases", map[string]any{
		"tenant": "riverside", "title": "Ransomware precursors at Riverside: backups deleted on the domain controller",
		"severity": "critical", "tlp": "amber", "from_alerts": ids, "template": "Ransomware",
		"description": "A phishing attachment's macro, LSASS dumped, wmic to the domain controller, then shadow copies and the backup catalogue deleted.",
	}, &cs); err != nil {
		return 0, fmt.Errorf("demo case: %w", err)
	}
	var escalated map[string]any
	if err := c.json(ctx, "POST", fmt.Sprintf("/api/v1/cases/%d/escalate", cs.ID), map[string]any{}, &escalated); err != nil {
		return 0, fmt.Errorf("demo case: escalate: %w", err)
	}
	return cs.ID, demoTriage(ctx, c, ids)
}

// demoSearches saves the demo's hunts in the provider's space, as the
// SOC's threat-hunting team (a named token) would have.
func demoSearches(ctx context.Context, c *client) error {
	var tok struct {
		Token string `json:"token"`
	}
	if err := c.json(ctx, "POST", "/api/v1/tokens", map[string]string{"role": "provider-analyst", "name": "soc-hunt-team"}, &tok); err != nil {
		return fmt.Errorf("demo searches: %w", err)
	}
	team := &client{base: c.base, token: tok.Token, hc: c.hc}
	for _, sv := range demo.SavedSearches() {
		body := savedsearch.Request{Name: sv.Name, Query: sv.Query, Description: sv.Description}
		if sv.Every != "" {
			every, err := savedsearch.ParseDuration(sv.Every)
			if err != nil {
				return fmt.Errorf("BUG: demo search %q: %w", sv.Name, err)
			}
			body.Schedule = &savedsearch.Schedule{Every: every, Delay: savedsearch.Duration(savedsearch.DefaultDelay), Level: sv.Level, Tags: sv.Tags}
		}
		var saved map[string]any
		if err := team.json(ctx, "POST", "/api/v1/searches", body, &saved); err != nil {
			return fmt.Errorf("save the demo's search %q: %w", sv.Name, err)
		}
	}
	return nil
}

// demoTriage has the SOC's night shift (a named token) acknowledge the
// case's alerts and assign them to the demo's analyst, so their pages
// show who picked them up and when.
func demoTriage(ctx context.Context, c *client, ids []int64) error {
	var tok struct {
		Token string `json:"token"`
	}
	if err := c.json(ctx, "POST", "/api/v1/tokens", map[string]string{"role": "provider-analyst", "name": "soc-night-shift"}, &tok); err != nil {
		return fmt.Errorf("demo triage: %w", err)
	}
	shift := &client{base: c.base, token: tok.Token, hc: c.hc}
	for _, id := range ids {
		for _, step := range []struct {
			verb string
			body map[string]string
		}{{"ack", map[string]string{}}, {"assign", map[string]string{"to": "analyst"}}} {
			var ae *apiError
			var changed map[string]any
			err := shift.json(ctx, "POST", fmt.Sprintf("/api/v1/alerts/%d/%s", id, step.verb), step.body, &changed)
			if err != nil && !(errors.As(err, &ae) && ae.Status == http.StatusConflict) { // already past it
				return fmt.Errorf("demo triage: alert %d: %s: %w", id, step.verb, err)
			}
		}
	}
	return nil
}

// demoCaughtUp waits until the detector has read every event sent so far
// (its lag on the server's metrics is 0).
func demoCaughtUp(ctx context.Context, c *client) error {
	for deadline := time.Now().Add(45 * time.Second); ; {
		resp, err := c.do(ctx, "GET", "/metrics", nil, "")
		if err != nil {
			return err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "tarian_detector_lag_messages "); ok && v == "0" {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return errors.New("demo: the detector did not catch up within 45 s")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// demoLiveEvery is how often the demo's members send while it runs.
const demoLiveEvery = 5 * time.Second

// demoLive keeps the members' sources sending ordinary activity until ctx
// is done, all but a silent firewall.
func demoLive(ctx context.Context, base string, admin *client, tokens map[string]string) {
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	tick := time.NewTicker(demoLiveEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, t := range demo.Tenants {
			var lines [][]byte
			for range 20 {
				ev := demo.Ordinary(r, t, time.Now())
				if obs, ok := ev["observer"].(map[string]any); ok && t.FirewallSilent && obs["hostname"] == t.Firewall {
					continue
				}
				b, err := json.Marshal(ev)
				if err != nil {
					continue
				}
				lines = append(lines, b)
			}
			ic := &client{base: base, token: tokens[t.ID], hc: admin.hc}
			if resp, err := ic.do(ctx, "POST", "/api/v1/ingest", bytes.NewReader(bytes.Join(lines, []byte("\n"))), "application/x-ndjson"); err == nil {
				resp.Body.Close()
			}
		}
	}
}

// demoConsoleFile keeps the demo analyst's password in the data directory,
// so every start of the demo can print it.
const demoConsoleFile = "demo-console-login.txt"

// demoConsoleUser creates, on the first start, a provider analyst for the
// console with a generated password, and returns "NAME with password PW".
func demoConsoleUser(ctx context.Context, c *client, data string) (string, error) {
	path := filepath.Join(data, demoConsoleFile)
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	var u struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := c.json(ctx, "POST", "/api/v1/users", map[string]string{"name": "analyst", "role": "provider-analyst"}, &u); err != nil {
		return "", fmt.Errorf("demo console user: %w", err)
	}
	login := u.Name + " with password " + u.Password
	if err := os.WriteFile(path, []byte(login+"\n"), 0o600); err != nil {
		return "", err
	}
	return login, nil
}

// replayDemo ingests every .json and .jsonl file under dir into west-fire,
// with token (an ingest token of west-fire) or, when it is empty, a new one
// made with the admin client c.
func replayDemo(ctx context.Context, c *client, token string, env Env, dir string) error {
	if token == "" { // west-fire was seeded on an earlier start
		var tok map[string]string
		if err := c.json(ctx, "POST", "/api/v1/tokens", map[string]string{"tenant": "west-fire", "role": "ingest", "name": "demo replay"}, &tok); err != nil {
			return fmt.Errorf("replay %s: ingest token for west-fire: %w", dir, err)
		}
		token = tok["token"]
	}
	in := &ingester{c: &client{base: c.base, token: token, hc: c.hc}, env: env, start: time.Now()}
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".jsonl") || strings.HasSuffix(path, ".json")) {
			return err
		}
		files++
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		return in.stream(ctx, path, f)
	})
	if err != nil {
		return fmt.Errorf("replay %s: %w", dir, err)
	}
	if files == 0 {
		return fmt.Errorf("replay %s: no .json or .jsonl files there", dir)
	}
	fmt.Fprintf(env.Stdout, "replayed %s from %s under %s into west-fire (%d rejected)\n", plural(in.accepted, "event"), plural(files, "file"), dir, in.rejected)
	return nil
}
