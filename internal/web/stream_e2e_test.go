package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

const whoamiRule = `title: whoami run
id: 5e1d7c3a-0000-4000-8000-00000000a001
author: Tarian tests
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image|endswith: '\whoami.exe'}
  condition: sel
level: high
`

// sysmonWhoami is a Sysmon process creation of whoami.exe on host.
func sysmonWhoami(host string, n int) string {
	b, _ := json.Marshal(map[string]any{"Event": map[string]any{
		"System": map[string]any{"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": host, "EventRecordID": n,
			"Provider":    map[string]any{"#attributes": map[string]any{"Name": "Microsoft-Windows-Sysmon"}},
			"TimeCreated": map[string]any{"#attributes": map[string]any{"SystemTime": time.Now().UTC().Format(time.RFC3339Nano)}}},
		"EventData": map[string]any{"Image": `C:\Windows\System32\whoami.exe`, "CommandLine": "whoami", "User": `COUNCIL\bob`, "ProcessId": n},
	}})
	return string(b)
}

// TestStreamEndToEnd: through a whole server, an event that a rule
// matches reaches the live stream as a created alert: for its tenant's
// analyst and for a provider reading every tenant, not for another
// tenant's analyst.
func TestStreamEndToEnd(t *testing.T) {
	w := newWorld(t)
	var res map[string]any
	w.s.JSON(t, "POST", "/api/v1/rules", w.tokens["provider-admin"], map[string]any{"files": []map[string]any{{"name": "whoami.yml", "data": []byte(whoamiRule)}}}, &res)
	if res["imported"] != float64(1) {
		t.Fatalf("import: %v", res)
	}
	type reader struct {
		events chan string
	}
	open := func(token, query string) reader {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		req, _ := http.NewRequestWithContext(ctx, "GET", w.s.URL+"/api/v1/stream?"+query, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("stream?%s: %d", query, resp.StatusCode)
		}
		r := reader{events: make(chan string, 100)}
		go func() {
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
					var m struct {
						Tenant, What string
						Alert        struct {
							RuleID string `json:"rule_id"`
							Host   string
						}
					}
					json.Unmarshal([]byte(data), &m)
					r.events <- fmt.Sprintf("%s %s %s %s", m.Tenant, m.What, m.Alert.RuleID, m.Alert.Host)
				}
			}
			close(r.events)
		}()
		return r
	}
	analystA := open(w.tokens["a/tenant-analyst"], "")
	analystB := open(w.tokens["b/tenant-analyst"], "")
	provider := open(w.tokens["provider-analyst"], "tenant=*")

	w.ingest(t, "b", sysmonWhoami("pc-b", 1))
	w.ingest(t, "a", sysmonWhoami("pc-a", 2))
	next := func(name string, r reader) string {
		select {
		case e := <-r.events:
			return e
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: no event in 30 s", name)
		}
		return ""
	}
	const rule = "5e1d7c3a-0000-4000-8000-00000000a001"
	if e := next("a's analyst", analystA); e != "tenant-a created "+rule+" pc-a" {
		t.Errorf("a's analyst got %q", e)
	}
	if e := next("b's analyst", analystB); e != "tenant-b created "+rule+" pc-b" {
		t.Errorf("b's analyst got %q", e)
	}
	got := map[string]bool{next("provider", provider): true, next("provider", provider): true}
	if !got["tenant-a created "+rule+" pc-a"] || !got["tenant-b created "+rule+" pc-b"] {
		t.Errorf("provider got %v", got)
	}
	// b's alert has been published (b's analyst has it); a's analyst got
	// nothing but its own.
	select {
	case e := <-analystA.events:
		t.Errorf("a's analyst got more: %q", e)
	case <-time.After(200 * time.Millisecond):
	}
	// Shutting down ends open streams rather than waiting for them.
	start := time.Now()
	w.s.Stop(t)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("shutdown with open streams took %v", d)
	}
	for e := range provider.events {
		t.Errorf("provider got more: %q", e)
	}
}
