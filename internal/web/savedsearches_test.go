package web_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

type savedSearchJSON struct {
	ID          int64
	Tenant      string
	Name        string
	Query       string
	Description string
	Author      string
	Editor      string
}

// TestSavedSearches: a member's analyst saves a search in the member's
// space, which its viewer reads and the provider reads by naming the
// member; the provider's own space is apart from every member's; names
// are unique in a space, queries are checked by the event store's parser,
// viewers cannot write, and another member's search is not found. Every
// change is audited in the space's chain.
func TestSavedSearches(t *testing.T) {
	w := newCaseWorld(t)
	analyst, viewer, other := w.tokens["a/tenant-analyst"], w.tokens["a/tenant-viewer"], w.tokens["b/tenant-analyst"]
	provider := w.tokens["provider-analyst"]
	list := func(token, query string) []savedSearchJSON {
		t.Helper()
		var out struct{ Searches []savedSearchJSON }
		w.s.JSON(t, "GET", "/api/v1/searches"+query, token, nil, &out)
		return out.Searches
	}
	post := func(token string, body any) (int, []byte) {
		t.Helper()
		b, _ := json.Marshal(body)
		return w.s.Do(t, "POST", "/api/v1/searches", token, b)
	}

	st, b := post(analyst, map[string]string{"name": "Encoded PowerShell", "query": `process.command_line:"-enc"`, "description": "macro droppers"})
	var mine savedSearchJSON
	if st != 201 || json.Unmarshal(b, &mine) != nil || mine.Tenant != "tenant-a" || mine.Author == "" {
		t.Fatalf("member analyst saves: %d %s", st, b)
	}
	st, b = post(provider, map[string]string{"name": "encoded powershell", "query": `process.command_line:"-enc" | stats by (tenant) count()`})
	var theirs savedSearchJSON
	if st != 201 || json.Unmarshal(b, &theirs) != nil || theirs.Tenant != "*" {
		t.Fatalf("provider analyst saves in the provider's space: %d %s", st, b)
	}

	if got := list(viewer, ""); len(got) != 1 || got[0].ID != mine.ID || got[0].Query != `process.command_line:"-enc"` || got[0].Description != "macro droppers" {
		t.Errorf("member viewer lists %+v, want its member's one search", got)
	}
	if got := list(other, ""); len(got) != 0 {
		t.Errorf("another member lists %+v, want none", got)
	}
	if got := list(provider, ""); len(got) != 1 || got[0].ID != theirs.ID {
		t.Errorf("provider lists %+v, want its own space's", got)
	}
	if got := list(provider, "?tenant=tenant-a"); len(got) != 1 || got[0].ID != mine.ID {
		t.Errorf("provider lists tenant-a's: %+v", got)
	}
	if st, b := w.s.Do(t, "GET", "/api/v1/searches?tenant=tenant-b", analyst, nil); st != 404 {
		t.Errorf("member naming another member: %d %s, want 404", st, b)
	}

	for _, c := range []struct {
		token  string
		body   map[string]string
		status int
		want   string
	}{
		{viewer, map[string]string{"name": "v", "query": "*"}, 403, "forbidden"},
		{analyst, map[string]string{"name": "ENCODED powershell", "query": "*"}, 409, "search_exists"},
		{analyst, map[string]string{"name": "broken", "query": "event.code:(4625"}, 400, "query: "},
		{analyst, map[string]string{"name": "", "query": "*"}, 400, "name: required"},
		{analyst, map[string]string{"name": "x", "query": "*", "tenant": "tenant-b"}, 404, "tenant_not_found"},
	} {
		if st, b := post(c.token, c.body); st != c.status || !strings.Contains(string(b), c.want) {
			t.Errorf("POST %v: %d %s, want %d with %q", c.body, st, b, c.status, c.want)
		}
	}

	// Changes and deletions: in the search's own space only.
	body, _ := json.Marshal(map[string]string{"name": "Encoded PowerShell (Office parents)", "query": `process.command_line:"-enc" AND process.parent.name:winword.exe`})
	if st, b := w.s.Do(t, "PUT", fmt.Sprintf("/api/v1/searches/%d", mine.ID), other, body); st != 404 {
		t.Errorf("another member changes it: %d %s, want 404", st, b)
	}
	var changed savedSearchJSON
	w.s.JSON(t, "PUT", fmt.Sprintf("/api/v1/searches/%d", mine.ID), provider, json.RawMessage(strings.Replace(string(body), "{", `{"tenant":"tenant-a",`, 1)), &changed)
	if changed.Name != "Encoded PowerShell (Office parents)" || changed.Editor == "" || changed.Editor == changed.Author {
		t.Errorf("after the provider's change: %+v", changed)
	}
	if st, b := w.s.Do(t, "DELETE", fmt.Sprintf("/api/v1/searches/%d", mine.ID), other, nil); st != 404 {
		t.Errorf("another member deletes it: %d %s, want 404", st, b)
	}
	if st, b := w.s.Do(t, "DELETE", fmt.Sprintf("/api/v1/searches/%d", mine.ID), viewer, nil); st != 403 {
		t.Errorf("a viewer deletes it: %d %s, want 403", st, b)
	}
	w.s.JSON(t, "DELETE", fmt.Sprintf("/api/v1/searches/%d", mine.ID), analyst, nil, nil)
	if got := list(analyst, ""); len(got) != 0 {
		t.Errorf("after the deletion: %+v", got)
	}

	var audit struct {
		Records []struct{ Action, Scope string }
	}
	w.s.JSON(t, "GET", "/api/v1/audit?tenant=tenant-a&limit=100", w.tokens["a/tenant-admin"], nil, &audit)
	var actions []string
	for _, r := range audit.Records {
		if strings.HasPrefix(r.Action, "search.") {
			actions = append(actions, r.Action)
		}
	}
	if strings.Join(actions, " ") != "search.delete search.update search.save" {
		t.Errorf("tenant-a's audit chain has %v, want the save, the change and the deletion", actions)
	}
}
