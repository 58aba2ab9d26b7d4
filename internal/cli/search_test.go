package cli

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// fakeSearch is an API whose /api/v1/search answers each query q with
// results[q] and records the parameters of the last request.
func fakeSearch(t *testing.T, results map[string]string) (cmdEnv, func() url.Values) {
	t.Helper()
	var mu sync.Mutex
	var last url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/search" {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		last = r.URL.Query()
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Write([]byte(results[r.URL.Query().Get("q")]))
	}))
	t.Cleanup(srv.Close)
	return cmdEnv{url: srv.URL, token: "t"}, func() url.Values {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

func TestSearchResults(t *testing.T) {
	c, _ := fakeSearch(t, map[string]string{
		// An event's own field named error is a result like any other.
		"uniq": `{"tenant":"cardiff","error":"connection refused"}` + "\n",
		// The server's line for a search that failed after results
		// started names no tenant.
		"fails": `{"tenant":"cardiff","@timestamp":"2026-12-07T00:00:00Z","message":"one"}` + "\n" +
			`{"error":"search_failed","message":"disk on fire"}` + "\n",
		"stats": `{"tenant":"cardiff","count(*)":"3"}` + "\n",
	})
	code, out, errs := c.run(t, "", "search", "uniq")
	if code != 0 || out != `cardiff  error="connection refused"`+"\n" || errs != "1 result\n" {
		t.Errorf("a result with an error field: exit %d, %q, stderr %q", code, out, errs)
	}
	code, out, errs = c.run(t, "", "search", "--json", "uniq")
	if code != 0 || out != `{"tenant":"cardiff","error":"connection refused"}`+"\n" {
		t.Errorf("--json, a result with an error field: exit %d, %q, stderr %q", code, out, errs)
	}
	code, _, errs = c.run(t, "", "search", "fails")
	if code != 1 || !strings.Contains(errs, "search_failed: disk on fire") {
		t.Errorf("a failed search: exit %d, stderr %q", code, errs)
	}
	code, out, _ = c.run(t, "", "search", "stats")
	if code != 0 || out != `cardiff  count(*)="3"`+"\n" {
		t.Errorf("a stats result: exit %d, %q", code, out)
	}
	_, out, _ = c.run(t, "", "search", "fails")
	if !strings.HasPrefix(out, "2026-12-07T00:00:00Z  cardiff  one\n") {
		t.Errorf("an event: %q, want time, tenant and message", out)
	}
	code, _, errs = c.run(t, "", "search", "--raw", "stats")
	if code != 1 || !strings.Contains(errs, "--raw needs events") {
		t.Errorf("--raw of a stats result: exit %d, stderr %q", code, errs)
	}
}

func TestSearchArgs(t *testing.T) {
	c, last := fakeSearch(t, nil)
	for _, tt := range []struct {
		args     []string
		from, to string
	}{
		{[]string{"--from", "1h", "x"}, "-1h", ""},
		{[]string{"--from", "7d", "--to", "30m", "x"}, "-7d", "-30m"},
		{[]string{"--from", "-2h", "--to", "now", "x"}, "-2h", "now"},
		{[]string{"--from", "2026-12-01T00:00:00Z", "--to", "+1h", "x"}, "2026-12-01T00:00:00Z", "+1h"},
	} {
		if code, _, errs := c.run(t, "", append([]string{"search"}, tt.args...)...); code != 0 {
			t.Errorf("%q: exit %d, %q", tt.args, code, errs)
			continue
		}
		if q := last(); q.Get("from") != tt.from || q.Get("to") != tt.to {
			t.Errorf("%q: from=%q to=%q, want %q %q", tt.args, q.Get("from"), q.Get("to"), tt.from, tt.to)
		}
	}
	if code, _, errs := c.run(t, "", "search", "--limit", "-5", "x"); code != 2 || !strings.Contains(errs, "--limit -5") {
		t.Errorf("negative --limit: exit %d, %q", code, errs)
	}
	code, _, errs := c.run(t, "", "search", "-user.name:svc_backup")
	if code != 2 || !strings.Contains(errs, "tarian search -- '-user.name:svc_backup'") {
		t.Errorf("a query starting with '-': exit %d, %q", code, errs)
	}
	if code, _, errs := c.run(t, "", "search", "--bogus", "x"); code != 2 || strings.Contains(errs, "goes after --") {
		t.Errorf("an unknown --flag: exit %d, %q", code, errs)
	}
	if code, _, errs := c.run(t, "", "search", "--", "-user.name:svc_backup"); code != 0 || last().Get("q") != "-user.name:svc_backup" {
		t.Errorf("-- then a query starting with '-': exit %d, %q, q=%q", code, errs, last().Get("q"))
	}
}

// TestSearchCSV: --csv writes one column per field, @timestamp and tenant
// first, and keeps a spreadsheet from running an event's text as a
// formula (numbers stay numbers).
func TestSearchCSV(t *testing.T) {
	c, _ := fakeSearch(t, map[string]string{
		"q": `{"tenant":"cardiff","@timestamp":"2026-12-07T00:00:00Z","user.name":"=HYPERLINK(\"http://x\",\"y\")","n":"-5"}` + "\n" +
			`{"tenant":"powys","@timestamp":"2026-12-07T00:01:00Z","process.command_line":"-enc SQBFAFgA","message":"a, \"quoted\" line","=cmd":"x"}` + "\n",
	})
	code, out, errs := c.run(t, "", "search", "--csv", "q")
	want := "@timestamp,tenant,'=cmd,message,n,process.command_line,user.name\n" +
		`2026-12-07T00:00:00Z,cardiff,,,-5,,"'=HYPERLINK(""http://x"",""y"")"` + "\n" +
		`2026-12-07T00:01:00Z,powys,x,"a, ""quoted"" line",,'-enc SQBFAFgA,` + "\n"
	if code != 0 || out != want || errs != "2 results\n" {
		t.Errorf("--csv: exit %d, stderr %q\n got %q\nwant %q", code, errs, out, want)
	}
	if code, _, errs := c.run(t, "", "search", "--csv", "--json", "q"); code != 2 || !strings.Contains(errs, "choose one") {
		t.Errorf("--csv --json: exit %d, %q", code, errs)
	}
}
