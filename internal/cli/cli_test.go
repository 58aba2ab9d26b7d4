package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/demo"
	"github.com/tarian-soc/tarian/internal/server/servertest"
)

func TestParseInterspersed(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	name := fs.String("name", "", "")
	j := fs.Bool("json", false, "")
	pos, err := parse(fs, []string{"gwynedd", "--name", "Cyngor Gwynedd", "--json", "extra", "--", "--not-a-flag"})
	if err != nil {
		t.Fatal(err)
	}
	if *name != "Cyngor Gwynedd" || !*j || fmt.Sprint(pos) != "[gwynedd extra --not-a-flag]" {
		t.Errorf("name=%q json=%v pos=%q", *name, *j, pos)
	}
	if _, err := parse(fs, []string{"--nope"}); err == nil {
		t.Error("unknown flag accepted")
	}
}

// cmd runs one tarian command against the test server.
type cmdEnv struct {
	url   string
	token string
}

func (c cmdEnv) run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{
		Stdin:  strings.NewReader(stdin),
		Stdout: &out,
		Stderr: &errb,
		Getenv: func(k string) string {
			switch k {
			case "TARIAN_URL":
				return c.url
			case "TARIAN_TOKEN":
				return c.token
			}
			return ""
		},
	}
	code = Run(context.Background(), args, env)
	return code, out.String(), errb.String()
}

func TestClientCommands(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	admin := cmdEnv{url: s.URL, token: servertest.AdminToken}

	if code, out, errs := admin.run(t, "", "tenant", "add", "gwynedd", "--name", "Cyngor Gwynedd"); code != 0 || !strings.Contains(out, "gwynedd") {
		t.Fatalf("tenant add: %d %q %q", code, out, errs)
	}
	if code, _, errs := admin.run(t, "", "tenant", "add", "Bad_ID"); code != 1 || !strings.Contains(errs, "bad_tenant") {
		t.Errorf("bad tenant id: %d %q", code, errs)
	}
	code, out, _ := admin.run(t, "", "tenant", "list", "--json")
	var ten map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &ten) != nil || ten["id"] != "gwynedd" || ten["name"] != "Cyngor Gwynedd" {
		t.Fatalf("tenant list --json: %d %q", code, out)
	}
	token := func(role string) string {
		code, out, errs := admin.run(t, "", "token", "create", "--tenant", "gwynedd", "--role", role, "--json")
		var tok map[string]string
		if code != 0 || json.Unmarshal([]byte(out), &tok) != nil || tok["role"] != role {
			t.Fatalf("token create %s: %d %q %q", role, code, out, errs)
		}
		return tok["token"]
	}
	ingest := cmdEnv{url: s.URL, token: token("ingest")}
	analyst := cmdEnv{url: s.URL, token: token("tenant-analyst")}

	// 2,500 lines from stdin go in three batches; the bad line is reported
	// with its line number in the input, and the exit code says so.
	var in strings.Builder
	for i := 1; i <= 2500; i++ {
		if i == 1234 {
			in.WriteString("{broken\n")
			continue
		}
		fmt.Fprintf(&in, `{"message":"login from host-%d","n":%d}`+"\n", i, i)
	}
	code, _, errs := ingest.run(t, in.String(), "ingest")
	if code != 1 || !strings.Contains(errs, "stdin:1234: rejected: invalid JSON") || !strings.Contains(errs, "ingested 2499 events, rejected 1") {
		t.Fatalf("ingest: %d %q", code, errs)
	}

	deadline := time.Now().Add(20 * time.Second)
	for {
		code, out, errs = analyst.run(t, "", "search", "--json", "--limit", "5000", "login")
		if n := strings.Count(out, "\n"); code == 0 && n == 2499 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := strings.Count(out, "\n"); code != 0 || n != 2499 {
		t.Fatalf("search found %d lines (exit %d, %q)", n, code, errs)
	}
	first := strings.SplitN(out, "\n", 2)[0]
	var row map[string]string
	if err := json.Unmarshal([]byte(first), &row); err != nil || row["tenant"] != "gwynedd" || !strings.HasPrefix(row["message"], "login from host-") {
		t.Errorf("first row %q", first)
	}
	code, out, errs = analyst.run(t, "", "search", "n:1")
	if code != 0 || !strings.Contains(out, "gwynedd  login from host-1\n") || errs != "1 result\n" {
		t.Errorf("human search output: %q, stderr %q", out, errs)
	}
	// --raw prints the record each result came from, as it was sent (the
	// raw archive writes it within seconds).
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if code, out, errs = analyst.run(t, "", "search", "--raw", "n:1"); code == 0 || time.Now().After(deadline) {
			break
		}
	}
	if code != 0 || out != `{"message":"login from host-1","n":1}`+"\n" {
		t.Errorf("search --raw: exit %d, %q, stderr %q", code, out, errs)
	}
	if code, _, errs := analyst.run(t, "", "search", "--tenant", "other", "*"); code != 1 || !strings.Contains(errs, "forbidden") {
		t.Errorf("analyst searching another tenant: %d %q", code, errs)
	}
	// Dead letters carry the line within its request (the second batch).
	if code, out, _ := admin.run(t, "", "deadletters", "--tenant", "gwynedd"); code != 0 || !strings.Contains(out, "line 234: invalid JSON") {
		t.Errorf("deadletters: %d %q", code, out)
	}
	// A provider token sees every tenant: it must name one.
	if code, _, errs := admin.run(t, "", "deadletters"); code != 2 || !strings.Contains(errs, "name a tenant with --tenant") {
		t.Errorf("deadletters without --tenant: %d %q", code, errs)
	}
	// TARIAN_URL may be HOST:PORT alone.
	hostPort := cmdEnv{url: strings.TrimPrefix(s.URL, "http://"), token: servertest.AdminToken}
	if code, out, errs := hostPort.run(t, "", "tenant", "list"); code != 0 || !strings.Contains(out, "gwynedd") {
		t.Errorf("TARIAN_URL without a scheme: %d %q %q", code, out, errs)
	}
	if code, _, errs := (cmdEnv{url: s.URL}).run(t, "", "tenant", "list"); code != 1 || !strings.Contains(errs, "TARIAN_TOKEN") {
		t.Errorf("no token: %d %q", code, errs)
	}
	if code, _, _ := admin.run(t, "", "frobnicate"); code != 2 {
		t.Errorf("unknown command exit %d, want 2", code)
	}
}

// TestHelp: `tarian help CMD` and `tarian CMD --help` print that command's
// usage (and flags) on stdout, not the general help.
func TestHelp(t *testing.T) {
	offline := cmdEnv{}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"help", "search"}, []string{"usage:\n  tarian search [--tenant ID|*]", "-from string", "-limit int"}},
		{[]string{"search", "--help"}, []string{"usage:\n  tarian search [--tenant ID|*]", "-from string"}},
		{[]string{"help", "alerts"}, []string{"usage:\n  tarian alerts list [--tenant ID|*]"}},
		{[]string{"alerts", "--help"}, []string{"usage:\n  tarian alerts list [--tenant ID|*]"}},
		{[]string{"help", "alerts", "list"}, []string{"tarian alerts list", "-cursor string", "-severity string"}},
		{[]string{"alerts", "list", "-h"}, []string{"tarian alerts list", "-cursor string"}},
		{[]string{"help", "rules"}, []string{"tarian rules placeholders", "tarian rules import", "tarian rules disable|enable"}},
		{[]string{"help", "rules", "enable"}, []string{"usage:\n  tarian rules disable|enable RULE_ID", "-tenant string"}},
		{[]string{"help", "tenant", "add"}, []string{"usage:\n  tarian tenant add ID --name NAME [--json]\n", "-name string"}},
		{[]string{"help", "demo"}, []string{"tarian demo", "-replay string"}},
		{[]string{"help", "parse"}, []string{"tarian parse [--type TYPE]", "tarian parse --list", "-type string"}},
		{[]string{"help", "version"}, []string{"usage:\n  tarian version                           version, commit and build date\n"}},
		{[]string{"help", "completion"}, []string{"usage:\n  tarian completion bash|zsh|fish"}},
		{[]string{"help", "rules", "validate"}, []string{"usage: tarian rules validate", "-mapping string"}},
		{[]string{"rules", "test", "--help"}, []string{"-mapping string"}},
		{[]string{"help"}, []string{"Server:", "Client (TARIAN_URL"}},
	} {
		code, out, errs := offline.run(t, "", c.args...)
		if code != 0 || errs != "" {
			t.Errorf("tarian %s: exit %d, stderr %q", strings.Join(c.args, " "), code, errs)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("tarian %s: stdout lacks %q:\n%s", strings.Join(c.args, " "), w, out)
			}
		}
		if len(c.args) > 1 && strings.Contains(out, "Server:") {
			t.Errorf("tarian %s printed the general help", strings.Join(c.args, " "))
		}
	}
	if code, _, errs := offline.run(t, "", "help", "frobnicate"); code != 2 || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Errorf("help for an unknown command: %d %q", code, errs)
	}
}

// TestUsageErrors: a bad flag is reported once, with the command's usage
// once; usage messages name every subcommand; bad values are refused
// before any request, naming what is allowed.
func TestUsageErrors(t *testing.T) {
	offline := cmdEnv{}
	for _, args := range [][]string{{"search", "--bogus", "x"}, {"alerts", "list", "--bogus"}, {"parse", "--bogus"}, {"demo", "--bogus"}} {
		code, out, errs := offline.run(t, "", args...)
		name := strings.Join(args, " ")
		if code != 2 || out != "" {
			t.Errorf("tarian %s: exit %d, stdout %q", name, code, out)
		}
		if n := strings.Count(errs, "flag provided but not defined: -bogus"); n != 1 {
			t.Errorf("tarian %s: the error %d times:\n%s", name, n, errs)
		}
		if n := strings.Count(errs, "usage:"); n != 1 {
			t.Errorf("tarian %s: the usage %d times:\n%s", name, n, errs)
		}
	}
	if code, _, errs := offline.run(t, "", "rules"); code != 2 || !strings.Contains(errs, "placeholders") {
		t.Errorf("rules usage: %d %q", code, errs)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"alerts", "list", "--severity", "bogus"}, `--severity "bogus": want one of informational, low, medium, high, critical`},
		{[]string{"alerts", "list", "--incident", "abc"}, `--incident "abc": want an incident number`},
		{[]string{"alerts", "resolve", "3"}, `alerts resolve needs --as true-positive|benign-positive|false-positive|duplicate`},
		{[]string{"cases", "export", "1", "--html", "--json"}, `--html or --json, not both`},
	} {
		if code, _, errs := offline.run(t, "", c.args...); code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("tarian %s: %d %q, want exit 2 and %q", strings.Join(c.args, " "), code, errs, c.want)
		}
	}
}

func TestServerURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "http://127.0.0.1:8080",
		"127.0.0.1:9000":              "http://127.0.0.1:9000",
		"soc.example:8080":            "http://soc.example:8080",
		"[::1]:8080":                  "http://[::1]:8080",
		"https://soc.example/":        "https://soc.example",
		"http://10.0.0.1:8080/tarian": "http://10.0.0.1:8080/tarian",
	} {
		if got, err := serverURL(in); err != nil || got != want {
			t.Errorf("serverURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"ftp://soc.example", "http://", "http://soc example:80", "soc.example:99999", "http://h:port", "http://soc.example/?x=1", "http://u:p@soc.example"} {
		_, err := serverURL(in)
		if err == nil || !strings.Contains(err.Error(), "TARIAN_URL") || !strings.Contains(err.Error(), "want http://HOST:PORT") {
			t.Errorf("serverURL(%q): %v, want a clear error", in, err)
		}
	}
	code, _, errs := cmdEnv{url: "http://soc example", token: "x"}.run(t, "", "tenant", "list")
	if code != 1 || !strings.HasPrefix(errs, `tarian tenant: TARIAN_URL "http://soc example": `) {
		t.Errorf("bad TARIAN_URL: %d %q", code, errs)
	}
}

// TestIngestErrorOnly: an ingest that fails says why, and only that.
func TestIngestErrorOnly(t *testing.T) {
	down := cmdEnv{url: "127.0.0.1:1", token: "trn_x"}
	for _, args := range [][]string{{"ingest"}, {"ingest", filepath.Join(t.TempDir(), "missing.jsonl")}} {
		code, _, errs := down.run(t, `{"message":"x"}`+"\n", args...)
		if code != 1 || strings.Contains(errs, "ingested") || strings.Count(errs, "\n") != 1 {
			t.Errorf("tarian %s: exit %d, stderr %q; want exit 1 and the error alone", strings.Join(args, " "), code, errs)
		}
	}
}

func TestVersionCommand(t *testing.T) {
	if code, out, _ := (cmdEnv{}).run(t, "", "version"); code != 0 || !strings.HasPrefix(out, "tarian ") || !strings.Contains(out, "commit ") {
		t.Errorf("tarian version: %d %q", code, out)
	}
}

// vssadmin is a process start that the demo's shadow-copy rule fires on.
func vssadmin(host, user string, at time.Time) string {
	b, _ := json.Marshal(map[string]any{
		"@timestamp": at.UTC().Format(time.RFC3339Nano),
		"event":      map[string]any{"kind": "event", "category": []string{"process"}, "type": []string{"start"}, "module": "sysmon", "code": "1"},
		"host":       map[string]any{"name": host},
		"user":       map[string]any{"name": user},
		"winlog": map[string]any{"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": 1, "event_data": map[string]any{
			"Image": `C:\Windows\System32\vssadmin.exe`, "CommandLine": "vssadmin.exe delete shadows /all /quiet"}},
	})
	return string(b)
}

// TestAlertsList: alerts list pages through the API up to --limit, says on
// stderr when more match (with the cursor of the rest), shows each alert's
// event time, host and user, and the API pages by cursor across tenants.
func TestAlertsList(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	admin := cmdEnv{url: s.URL, token: servertest.AdminToken}
	var files []importFile
	for name, data := range demo.RuleFiles() {
		files = append(files, importFile{Name: name, Data: data})
	}
	s.JSON(t, "POST", "/api/v1/rules", servertest.AdminToken, map[string]any{"files": files}, nil)
	at := time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
	counts := map[string]int{"gwynedd": 700, "powys": 400}
	for ten, n := range counts {
		s.AddTenant(t, ten)
		var in strings.Builder
		for i := range n {
			fmt.Fprintln(&in, vssadmin(fmt.Sprintf("%s-ws-%d", ten, i), "u"+ten, at))
		}
		if code, _, errs := (cmdEnv{url: s.URL, token: s.Token(t, ten, "ingest")}).run(t, in.String(), "ingest"); code != 0 {
			t.Fatalf("ingest %s: %d %q", ten, code, errs)
		}
	}
	const total = 1100
	var out string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, out, _ = admin.run(t, "", "alerts", "list", "--tenant", "*", "--limit", "0", "--json")
		if strings.Count(out, "\n") >= total || time.Now().After(deadline) {
			break
		}
	}
	// --limit 0: every alert, over two pages, each once, newest first.
	ids := map[float64]bool{}
	last := float64(1 << 62)
	for line := range strings.Lines(out) {
		var a map[string]any
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("alert line %q: %v", line, err)
		}
		id := a["id"].(float64)
		if ids[id] || id >= last {
			t.Fatalf("alert %v repeated or out of order (after %v)", id, last)
		}
		ids[id], last = true, id
		counts[a["tenant"].(string)]--
		if ten := a["tenant"].(string); !strings.HasPrefix(a["host"].(string), ten+"-ws-") || a["user"] != "u"+ten {
			t.Errorf("alert host %q user %q, want the event's host.name and user.name", a["host"], a["user"])
		}
	}
	if len(ids) != total || counts["gwynedd"] != 0 || counts["powys"] != 0 {
		t.Fatalf("--limit 0 listed %d alerts (left over per tenant %v), want %d", len(ids), counts, total)
	}

	// The default limit (100) says so on stderr, with the cursor of the rest.
	code, out, errs := admin.run(t, "", "alerts", "list", "--tenant", "*")
	if code != 0 || strings.Count(out, "\n") != 101 {
		t.Fatalf("alerts list: exit %d, %d lines", code, strings.Count(out, "\n"))
	}
	header, row, _ := strings.Cut(out, "\n")
	if f := strings.Fields(header); strings.Join(f, " ") != "ID LAST SEEN TENANT LEVEL RISK STATUS COUNT HOST USER RULE ASSIGNEE SLA INCIDENT AUTHOR" {
		t.Errorf("header %q", header)
	}
	if row, _, _ = strings.Cut(row, "\n"); !strings.Contains(row, " 2026-11-25T09:30:00Z ") || !strings.Contains(row, "-ws-") || !strings.Contains(row, " high ") || !strings.Contains(row, " new ") {
		t.Errorf("first row %q lacks the last seen time, host, level or status", row)
	}
	_, cursor, ok := strings.Cut(strings.TrimSpace(errs), "--cursor ")
	if !ok || !strings.HasPrefix(errs, "listed 100 alerts; more match") {
		t.Fatalf("stderr %q does not say the listing is cut, with a cursor", errs)
	}
	code, out, errs = admin.run(t, "", "alerts", "list", "--tenant", "*", "--cursor", cursor, "--limit", "0", "--json")
	if code != 0 || strings.Count(out, "\n") != total-100 || errs != "" {
		t.Errorf("next pages: exit %d, %d alerts, stderr %q; want %d and no note", code, strings.Count(out, "\n"), errs, total-100)
	}
	code, out, errs = admin.run(t, "", "alerts", "list", "--tenant", "*", "--limit", "1050", "--json")
	if code != 0 || strings.Count(out, "\n") != 1050 || !strings.Contains(errs, "listed 1050 alerts; more match") {
		t.Errorf("--limit 1050: exit %d, %d alerts, stderr %q", code, strings.Count(out, "\n"), errs)
	}

	// The API stays compatible: no parameters, one page of up to 1000
	// under "alerts", with next_cursor set when there are more.
	status, body := s.Do(t, "GET", "/api/v1/alerts?tenant=gwynedd&limit=699", servertest.AdminToken, nil)
	var page struct {
		Alerts     []map[string]any `json:"alerts"`
		NextCursor string           `json:"next_cursor"`
	}
	if status != 200 || json.Unmarshal(body, &page) != nil || len(page.Alerts) != 699 || page.NextCursor == "" {
		t.Fatalf("alerts page: %d, %d alerts, next %q", status, len(page.Alerts), page.NextCursor)
	}
	page.NextCursor = ""
	status, body = s.Do(t, "GET", "/api/v1/alerts?tenant=gwynedd&limit=699&cursor="+fmt.Sprint(page.Alerts[698]["id"]), servertest.AdminToken, nil)
	if status != 200 || json.Unmarshal(body, &page) != nil || len(page.Alerts) != 1 || page.NextCursor != "" {
		t.Errorf("last page: %d, %d alerts, next %q", status, len(page.Alerts), page.NextCursor)
	}
	status, body = s.Do(t, "GET", "/api/v1/alerts?severity=bogus&tenant=gwynedd", servertest.AdminToken, nil)
	if status != 400 || !strings.Contains(string(body), "informational, low, medium, high, critical") {
		t.Errorf("severity=bogus: %d %s", status, body)
	}

	// --producer: what raised them. Every alert here is a Sigma rule's.
	if code, out, errs := admin.run(t, "", "alerts", "list", "--tenant", "*", "--producer", "sigma", "--limit", "0", "--json"); code != 0 || strings.Count(out, "\n") != total {
		t.Errorf("--producer sigma: exit %d, %d alerts, stderr %q; want all %d", code, strings.Count(out, "\n"), errs, total)
	}
	if code, out, errs := admin.run(t, "", "alerts", "list", "--tenant", "*", "--producer", "health"); code != 0 || out != "" || errs != "no alerts match\n" {
		t.Errorf("--producer health: exit %d, stdout %q, stderr %q; want nothing listed, and said so", code, out, errs)
	}
	if code, _, errs := admin.run(t, "", "alerts", "list", "--producer", "sigmah"); code != 2 || !strings.Contains(errs, `--producer "sigmah": want one of sigma, correlation, intel, retrohunt, campaign, health`) {
		t.Errorf("--producer sigmah: exit %d, stderr %q", code, errs)
	}
	status, body = s.Do(t, "GET", "/api/v1/alerts?producer=Sigma&tenant=gwynedd", servertest.AdminToken, nil)
	if status != 400 || !strings.Contains(string(body), "sigma, correlation, intel") {
		t.Errorf("producer=Sigma: %d %s", status, body)
	}

	// --sort risk: the riskiest first across every member, whatever its
	// age. An early alert of powys counts three more events: its risk
	// rises above the others'.
	var more strings.Builder
	for i := 1; i <= 3; i++ {
		fmt.Fprintln(&more, vssadmin("powys-ws-5", "upowys", at.Add(time.Duration(i)*time.Minute)))
	}
	if code, _, errs := (cmdEnv{url: s.URL, token: s.Token(t, "powys", "ingest")}).run(t, more.String(), "ingest"); code != 0 {
		t.Fatalf("ingest: %d %q", code, errs)
	}
	var risky map[string]any
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		_, out, _ = admin.run(t, "", "alerts", "list", "--tenant", "*", "--sort", "risk", "--limit", "1", "--json")
		if json.Unmarshal([]byte(out), &risky) == nil && risky["host"] == "powys-ws-5" {
			break
		}
	}
	if risky["host"] != "powys-ws-5" || risky["count"] != float64(4) {
		t.Fatalf("--sort risk first alert %v, want powys-ws-5's of 4 events", risky)
	}
	// Paged by risk (pages of 1,000 under --limit 0, then by --cursor):
	// every alert once, risks never rising.
	code, out, errs = admin.run(t, "", "alerts", "list", "--tenant", "*", "--sort", "risk", "--limit", "600", "--json")
	_, cursor, _ = strings.Cut(strings.TrimSpace(errs), "--cursor ")
	if code != 0 || !strings.Contains(errs, "--sort risk --cursor ") {
		t.Fatalf("--sort risk --limit 600: exit %d, stderr %q", code, errs)
	}
	_, rest, _ := admin.run(t, "", "alerts", "list", "--tenant", "*", "--sort", "risk", "--cursor", cursor, "--limit", "0", "--json")
	seen, lastRisk := map[float64]bool{}, 101.0
	for line := range strings.Lines(out + rest) {
		var a map[string]any
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("alert line %q: %v", line, err)
		}
		if seen[a["id"].(float64)] || a["risk"].(float64) > lastRisk {
			t.Fatalf("by risk: alert %v repeated or riskier than the one before (%v)", a["id"], lastRisk)
		}
		seen[a["id"].(float64)], lastRisk = true, a["risk"].(float64)
	}
	if len(seen) != total {
		t.Errorf("by risk: %d alerts, want %d", len(seen), total)
	}
	// Paged by service-level deadline: every alert once, deadlines never
	// earlier than the one before (none: last). Some of the newest are
	// acknowledged (their deadline is to resolve, later) and resolved
	// (none), so newest first is not that order.
	_, out, _ = admin.run(t, "", "alerts", "list", "--tenant", "*", "--limit", "8", "--json")
	var newest []string
	for line := range strings.Lines(out) {
		var a struct {
			ID int64 `json:"id"`
		}
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("alert line %q: %v", line, err)
		}
		newest = append(newest, strconv.FormatInt(a.ID, 10))
	}
	if len(newest) != 8 {
		t.Fatalf("newest alerts %v", newest)
	}
	if code, _, errs := admin.run(t, "", append([]string{"alerts", "ack"}, newest[:5]...)...); code != 0 {
		t.Fatalf("alerts ack: %d %s", code, errs)
	}
	if code, _, errs := admin.run(t, "", append([]string{"alerts", "resolve", "--as", "false-positive"}, newest[5:]...)...); code != 0 {
		t.Fatalf("alerts resolve: %d %s", code, errs)
	}
	code, out, errs = admin.run(t, "", "alerts", "list", "--tenant", "*", "--sort", "sla", "--limit", "600", "--json")
	_, cursor, _ = strings.Cut(strings.TrimSpace(errs), "--cursor ")
	if code != 0 || !strings.Contains(errs, "--sort sla --cursor ") {
		t.Fatalf("--sort sla --limit 600: exit %d, stderr %q", code, errs)
	}
	_, rest, _ = admin.run(t, "", "alerts", "list", "--tenant", "*", "--sort", "sla", "--cursor", cursor, "--limit", "0", "--json")
	seenDue, lastDue, withDue := map[float64]bool{}, time.Time{}, 0
	never, distinct := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 0
	for line := range strings.Lines(out + rest) {
		var a struct {
			ID     float64 `json:"id"`
			Status string  `json:"status"`
			SLA    struct {
				AcknowledgeBy string `json:"acknowledge_by"`
				ResolveBy     string `json:"resolve_by"`
			} `json:"sla"`
		}
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("alert line %q: %v", line, err)
		}
		by := a.SLA.ResolveBy
		if a.Status == "new" {
			by = a.SLA.AcknowledgeBy
		}
		due, err := time.Parse(time.RFC3339Nano, by)
		if a.Status == "resolved" || a.Status == "escalated" || err != nil {
			due = never
		} else {
			withDue++
		}
		if seenDue[a.ID] || due.Before(lastDue) {
			t.Fatalf("by deadline: alert %v repeated or due (%s) before the one before (%s)", a.ID, due, lastDue)
		}
		if !due.Equal(lastDue) {
			distinct++
		}
		seenDue[a.ID], lastDue = true, due
	}
	if len(seenDue) != total || withDue == 0 || distinct < 3 {
		t.Errorf("by deadline: %d alerts (%d with a deadline, %d distinct deadlines), want %d", len(seenDue), withDue, distinct, total)
	}
	for _, bad := range []string{"sort=bogus", "sort=risk&cursor=123", "cursor=87.123", "sort=sla&cursor=12"} {
		if status, body := s.Do(t, "GET", "/api/v1/alerts?tenant=*&"+bad, servertest.AdminToken, nil); status != 400 {
			t.Errorf("%s: %d %s, want 400", bad, status, body)
		}
	}
	// A member's analyst sorting by risk or deadline sees only its own
	// alerts.
	for _, sort := range []string{"risk", "sla"} {
		status, body = s.Do(t, "GET", "/api/v1/alerts?sort="+sort+"&limit=1000", s.Token(t, "gwynedd", "tenant-analyst"), nil)
		if status != 200 || json.Unmarshal(body, &page) != nil || len(page.Alerts) != 700 {
			t.Fatalf("gwynedd by %s: %d, %d alerts", sort, status, len(page.Alerts))
		}
		for _, a := range page.Alerts {
			if a["tenant"] != "gwynedd" {
				t.Fatalf("gwynedd's analyst sees %v's alert", a["tenant"])
			}
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for a command writing while the test
// reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// runDemo runs `tarian demo` with args until it has said what to try next,
// then stops it as Ctrl-C would, and returns its exit code and output.
func runDemo(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb lockedBuffer
	env := Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	done := make(chan int, 1)
	go func() { done <- Run(ctx, append([]string{"demo", "--listen", "127.0.0.1:0"}, args...), env) }()
	deadline := time.After(2 * time.Minute)
	for !strings.Contains(out.String(), "Stop with Ctrl-C.") {
		select {
		case code := <-done:
			return code, out.String(), errb.String()
		case <-deadline:
			cancel()
			<-done
			t.Fatalf("demo did not finish seeding\nstdout: %s\nstderr: %s", out.String(), errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	code = <-done
	return code, out.String(), errb.String()
}

// TestDemoReplay: `tarian demo --replay DIR` replays DIR on every start,
// the data directory's first and later ones, and says what it did (and
// what to try next) on stdout, apart from the logs on stderr; a replay that
// cannot happen says why.
func TestDemoReplay(t *testing.T) {
	data := filepath.Join(t.TempDir(), "demo-data")
	replay := t.TempDir()
	if err := os.MkdirAll(filepath.Join(replay, "sysmon"), 0o700); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Hour)
	events := vssadmin("wfrs-ws-1", "a", at) + "\n" + vssadmin("wfrs-ws-2", "b", at) + "\n" + vssadmin("wfrs-ws-3", "c", at) + "\n"
	for name, body := range map[string]string{"sysmon/one.jsonl": events, "notes.txt": "not events\n"} {
		if err := os.WriteFile(filepath.Join(replay, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	logins := map[string]bool{}
	for _, start := range []string{"first", "second"} {
		code, out, errs := runDemo(t, "--data", data, "--replay", replay)
		// The console's demo login, made on the first start, told on each.
		if m := regexp.MustCompile(`log in as analyst with password (\S+)`).FindStringSubmatch(out); m != nil {
			logins[m[1]] = true
		} else {
			t.Errorf("%s start: no console login in\n%s", start, out)
		}
		want := "replayed 3 events from 1 file under " + replay + " into west-fire (0 rejected)\n"
		if code != 0 || !strings.Contains(out, want) || !strings.Contains(out, "Tarian demo is running at http://127.0.0.1:") {
			t.Errorf("%s start: exit %d, stdout lacks %q:\n%s\nstderr: %s", start, code, want, out, errs)
		}
		if strings.Contains(errs, "Tarian demo is running") || strings.Contains(errs, "replayed") {
			t.Errorf("%s start: the demo's text went to stderr, among the logs:\n%s", start, errs)
		}
	}
	if len(logins) != 1 {
		t.Errorf("the demo's console passwords over two starts: %v, want one", logins)
	}
	// Nothing to replay: said, while the demo runs on.
	code, out, errs := runDemo(t, "--data", data, "--replay", t.TempDir())
	if code != 0 || !strings.Contains(errs, "no .json or .jsonl files there") || !strings.Contains(out, "Stop with Ctrl-C.") {
		t.Errorf("empty replay folder: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	// A folder that is not there: refused before serving.
	code, out, errs = runDemo(t, "--data", data, "--replay", filepath.Join(replay, "missing"))
	if code != 1 || !strings.HasPrefix(errs, "tarian demo: --replay: stat "+filepath.Join(replay, "missing")) || out != "" {
		t.Errorf("missing replay folder: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
}

// TestAlertErrNamesTheAlertOnce: the alert an error is about is named once,
// whether or not the server's message names it already.
func TestAlertErrNamesTheAlertOnce(t *testing.T) {
	for msg, want := range map[string]string{
		"alert 999: not found":                  "alert 999: not found",
		"transition not allowed from resolved":  "alert 999: transition not allowed from resolved",
		"alert 9990: not found (another alert)": "alert 999: alert 9990: not found (another alert)",
	} {
		if got := alertErr("999", &apiError{Status: 404, Code: "not_found", Message: msg}).Error(); got != want {
			t.Errorf("alertErr(%q) = %q, want %q", msg, got, want)
		}
	}
}

// TestEmptyListsSayNone: a list with nothing in it prints nothing on
// stdout (no header over nothing, which reads as a broken listing and
// trips scripts) and says so on stderr; --json prints nothing at all.
func TestEmptyListsSayNone(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	s.AddTenant(t, "conwy")
	admin := cmdEnv{url: s.URL, token: servertest.AdminToken}
	for _, c := range []struct {
		args []string
		none string
	}{
		{[]string{"alerts", "list", "--tenant", "*"}, "no alerts match"},
		{[]string{"alerts", "incidents", "--tenant", "*"}, "no incidents match"},
		{[]string{"cases", "list", "--tenant", "*"}, "no cases match"},
		{[]string{"suppress", "list", "--tenant", "conwy"}, "no suppressions"},
		{[]string{"assets", "list", "--tenant", "conwy"}, "no assets"},
		{[]string{"rules", "list"}, "no rules"},
		{[]string{"searches", "list"}, "no saved searches"},
		{[]string{"campaigns", "list"}, "no campaigns match"},
		{[]string{"advisories", "list"}, "no advisories"},
		{[]string{"intel", "list"}, "no indicators match"},
		{[]string{"intel", "hunts"}, "no retro-hunts match"},
		{[]string{"notify", "list", "--tenant", "conwy"}, "no notification channels"},
		{[]string{"user", "list", "--tenant", "conwy"}, "no users"},
		{[]string{"token", "list", "--tenant", "conwy"}, "no tokens"},
		{[]string{"deadletters", "--tenant", "conwy"}, "no dead letters"},
	} {
		code, out, errs := admin.run(t, "", c.args...)
		if code != 0 || out != "" || !strings.HasPrefix(errs, c.none) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want nothing on stdout and %q on stderr", strings.Join(c.args, " "), code, out, errs, c.none)
		}
		if code, out, _ := admin.run(t, "", append(c.args, "--json")...); code != 0 || out != "" {
			t.Errorf("%s --json: exit %d, stdout %q, want nothing", strings.Join(c.args, " "), code, out)
		}
	}
}
