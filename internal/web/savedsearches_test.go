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

// TestSavedSearchSchedule: a search saved with a schedule comes back with
// its defaults filled, a bad schedule is refused with what is wrong, and
// a change without one stops the search running on its own.
func TestSavedSearchSchedule(t *testing.T) {
	w := newCaseWorld(t)
	analyst := w.tokens["a/tenant-analyst"]
	type scheduleJSON struct {
		Every, Delay string
		Threshold    int
		Level        string
	}
	type searchJSON struct {
		ID       int64
		Schedule *scheduleJSON
	}
	body := func(schedule any) []byte {
		b, _ := json.Marshal(map[string]any{"name": "Spraying", "query": "event.code:4625 | stats by (user.name) count() as n | filter n:>20", "schedule": schedule})
		return b
	}
	var s searchJSON
	w.s.JSON(t, "POST", "/api/v1/searches", analyst, json.RawMessage(body(map[string]any{"every": "15m", "threshold": 1, "level": "high"})), &s)
	if want := (scheduleJSON{Every: "15m", Delay: "5m", Threshold: 1, Level: "high"}); s.Schedule == nil || *s.Schedule != want {
		t.Fatalf("saved schedule %+v, want %+v", s.Schedule, want)
	}
	for _, c := range []struct {
		schedule map[string]any
		want     string
	}{
		{map[string]any{"every": "10s"}, "schedule.every: from 1m to 168h"},
		{map[string]any{"every": "soon"}, "not a duration"},
		{map[string]any{"every": 15}, "a duration is a string"},
		{map[string]any{"every": "1h", "level": "urgent"}, "schedule.level"},
		{map[string]any{"every": "1h", "threshold": -1}, "schedule.threshold"},
		{map[string]any{"every": "1h", "delay": "48h"}, "schedule.delay"},
		{map[string]any{"every": "1h", "often": true}, "unknown field"},
		{map[string]any{"every": "1h", "tags": []string{"ATT&CK T1110"}}, "schedule.tags"},
	} {
		b, _ := json.Marshal(map[string]any{"name": "bad", "query": "*", "schedule": c.schedule})
		if st, out := w.s.Do(t, "POST", "/api/v1/searches", analyst, b); st != 400 || !strings.Contains(string(out), c.want) {
			t.Errorf("schedule %v: %d %s, want 400 with %q", c.schedule, st, out, c.want)
		}
	}
	var changed searchJSON
	w.s.JSON(t, "PUT", fmt.Sprintf("/api/v1/searches/%d", s.ID), analyst, json.RawMessage(body(nil)), &changed)
	var out struct{ Searches []searchJSON }
	w.s.JSON(t, "GET", "/api/v1/searches", analyst, nil, &out)
	if changed.Schedule != nil || len(out.Searches) != 1 || out.Searches[0].Schedule != nil {
		t.Errorf("after a change without a schedule: %+v, listed %+v", changed, out.Searches)
	}
}
