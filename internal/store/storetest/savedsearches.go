package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/savedsearch"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// testSavedSearches: searches are kept per space (a member's, or the
// provider's "*"), listed by name whatever its case, unique by name in a
// space only, changed and removed in their own space only.
func testSavedSearches(t *testing.T, s Store) {
	ctx := context.Background()
	mustTenant(t, s, "council-a")
	mustTenant(t, s, "council-b")
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	add := func(space tenant.ID, name, query string) savedsearch.Search {
		t.Helper()
		got, err := s.AddSavedSearch(ctx, savedsearch.Search{Space: space, Name: name, Query: query, Description: "why " + name, Author: "ana", Created: at, Updated: at})
		if err != nil {
			t.Fatalf("AddSavedSearch(%s, %q): %v", space, name, err)
		}
		if got.ID == 0 || got.Space != space || got.Name != name || !got.Created.Equal(at) {
			t.Fatalf("AddSavedSearch(%s, %q) = %+v", space, name, got)
		}
		return got
	}
	zeta := add("council-a", "zeta logons", "event.code:4625")
	alpha := add("council-a", "Alpha encoded PowerShell", `process.command_line:"-enc"`)
	prov := add(savedsearch.Provider, "alpha encoded powershell", `process.command_line:"-enc" | stats by (tenant) count()`)
	add("council-b", "Alpha encoded PowerShell", "*")

	list := func(space tenant.ID) []savedsearch.Search {
		t.Helper()
		got, err := s.SavedSearches(ctx, space)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if diff := cmp.Diff([]savedsearch.Search{alpha, zeta}, list("council-a")); diff != "" {
		t.Errorf("council-a's searches, by name whatever its case (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]savedsearch.Search{prov}, list(savedsearch.Provider)); diff != "" {
		t.Errorf("the provider's searches (-want +got):\n%s", diff)
	}
	if got := list("council-c"); len(got) != 0 {
		t.Errorf("a space with none lists %v", got)
	}

	// Names are unique in a space whatever their case.
	if _, err := s.AddSavedSearch(ctx, savedsearch.Search{Space: "council-a", Name: "ZETA LOGONS", Query: "*", Author: "bo", Created: at, Updated: at}); !errors.Is(err, savedsearch.ErrExists) {
		t.Errorf("a second %q in council-a: %v, want ErrExists", "ZETA LOGONS", err)
	}
	if _, err := s.AddSavedSearch(ctx, savedsearch.Search{Space: "council-a", Name: "", Query: "*", Created: at, Updated: at}); !errors.Is(err, savedsearch.ErrInvalid) {
		t.Errorf("no name: %v, want ErrInvalid", err)
	}

	// Changes: in the search's space only; a name another has is refused.
	later := at.Add(time.Hour)
	change := savedsearch.Search{Name: "zeta failed logons", Query: "event.code:4625 | stats by (user.name) count()", Description: "spraying", Editor: "bo", Updated: later}
	if _, _, err := s.UpdateSavedSearch(ctx, "council-b", zeta.ID, change); !errors.Is(err, savedsearch.ErrNotFound) {
		t.Errorf("council-b changing council-a's search: %v, want ErrNotFound", err)
	}
	before, after, err := s.UpdateSavedSearch(ctx, "council-a", zeta.ID, change)
	if err != nil {
		t.Fatal(err)
	}
	want := zeta
	want.Name, want.Query, want.Description, want.Editor, want.Updated = change.Name, change.Query, change.Description, "bo", later
	if diff := cmp.Diff(zeta, before); diff != "" {
		t.Errorf("before (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, after); diff != "" {
		t.Errorf("after (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]savedsearch.Search{alpha, want}, list("council-a")); diff != "" {
		t.Errorf("after the change (-want +got):\n%s", diff)
	}
	change.Name = "ALPHA encoded powershell"
	if _, _, err := s.UpdateSavedSearch(ctx, "council-a", zeta.ID, change); !errors.Is(err, savedsearch.ErrExists) {
		t.Errorf("renamed to another's name: %v, want ErrExists", err)
	}

	// Removal: in the search's space only.
	if _, err := s.RemoveSavedSearch(ctx, savedsearch.Provider, alpha.ID); !errors.Is(err, savedsearch.ErrNotFound) {
		t.Errorf("the provider's space removing council-a's search: %v, want ErrNotFound", err)
	}
	gone, err := s.RemoveSavedSearch(ctx, "council-a", alpha.ID)
	if err != nil || gone.ID != alpha.ID || gone.Name != alpha.Name {
		t.Errorf("RemoveSavedSearch = %+v, %v", gone, err)
	}
	if _, err := s.RemoveSavedSearch(ctx, "council-a", alpha.ID); !errors.Is(err, savedsearch.ErrNotFound) {
		t.Errorf("removed twice: %v, want ErrNotFound", err)
	}
	if diff := cmp.Diff([]savedsearch.Search{want}, list("council-a")); diff != "" {
		t.Errorf("after the removal (-want +got):\n%s", diff)
	}
	if got := list("council-b"); len(got) != 1 || got[0].Name != "Alpha encoded PowerShell" {
		t.Errorf("council-b's searches %v: its own, untouched", got)
	}
	testSearchSchedules(t, s, at)
}

// testSearchSchedules: a schedule is kept with its defaults filled,
// changed or dropped by an update, listed across every space, and a run's
// record is kept through updates.
func testSearchSchedules(t *testing.T, s Store, at time.Time) {
	ctx := context.Background()
	hourly := &savedsearch.Schedule{Every: savedsearch.Duration(time.Hour), Level: "high", Tags: []string{"attack.t1133", "attack.initial-access"}}
	a, err := s.AddSavedSearch(ctx, savedsearch.Search{Space: "council-a", Name: "rdp from abroad", Query: "event.code:4624", Author: "ana", Created: at, Updated: at, Schedule: hourly})
	if err != nil {
		t.Fatal(err)
	}
	want := savedsearch.Schedule{Every: savedsearch.Duration(time.Hour), Threshold: 1, Level: "high", Tags: []string{"attack.t1133", "attack.initial-access"}}
	if diff := cmp.Diff(&want, a.Schedule); diff != "" {
		t.Fatalf("added schedule, defaults filled (-want +got):\n%s", diff)
	}
	p, err := s.AddSavedSearch(ctx, savedsearch.Search{Space: savedsearch.Provider, Name: "spray", Query: "event.code:4625", Author: "ana", Created: at, Updated: at,
		Schedule: &savedsearch.Schedule{Every: savedsearch.Duration(15 * time.Minute), Delay: savedsearch.Duration(time.Minute), Threshold: 20, Level: "medium"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddSavedSearch(ctx, savedsearch.Search{Space: "council-b", Name: "bad", Query: "*", Created: at, Updated: at,
		Schedule: &savedsearch.Schedule{Every: savedsearch.Duration(time.Second)}}); !errors.Is(err, savedsearch.ErrInvalid) {
		t.Errorf("every second: %v, want ErrInvalid", err)
	}
	scheduled := func() []savedsearch.Search {
		t.Helper()
		got, err := s.ScheduledSearches(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if diff := cmp.Diff([]savedsearch.Search{a, p}, scheduled()); diff != "" {
		t.Errorf("the scheduled searches of every space (-want +got):\n%s", diff)
	}

	run := savedsearch.Run{Until: at.Add(time.Hour), At: at.Add(time.Hour + 5*time.Minute), Found: 3, Members: 1}
	if err := s.SavedSearchRan(ctx, a.ID, run); err != nil {
		t.Fatal(err)
	}
	failed := savedsearch.Run{Until: at, At: at.Add(time.Minute), Error: "event store unavailable"}
	if err := s.SavedSearchRan(ctx, p.ID, failed); err != nil {
		t.Fatal(err)
	}
	if err := s.SavedSearchRan(ctx, 1<<40, run); err != nil {
		t.Errorf("a run of a search that has gone: %v, want nothing done", err)
	}
	got := scheduled()
	if len(got) != 2 || got[0].LastRun == nil || *got[0].LastRun != run || got[1].LastRun == nil || *got[1].LastRun != failed {
		t.Fatalf("after the runs: %+v", got)
	}

	// An update replaces the schedule and keeps the run's record; without
	// a schedule the search is no longer listed as scheduled.
	_, after, err := s.UpdateSavedSearch(ctx, "council-a", a.ID, savedsearch.Search{Name: a.Name, Query: a.Query, Editor: "bo", Updated: at.Add(2 * time.Hour),
		Schedule: &savedsearch.Schedule{Every: savedsearch.Duration(30 * time.Minute), Threshold: 5}})
	if err != nil {
		t.Fatal(err)
	}
	want = savedsearch.Schedule{Every: savedsearch.Duration(30 * time.Minute), Threshold: 5, Level: savedsearch.DefaultLevel}
	if after.Schedule == nil || !cmp.Equal(*after.Schedule, want) || after.LastRun == nil || *after.LastRun != run {
		t.Errorf("after a new schedule: %+v / %+v, want %+v and the run kept", after.Schedule, after.LastRun, want)
	}
	if _, after, err = s.UpdateSavedSearch(ctx, "council-a", a.ID, savedsearch.Search{Name: a.Name, Query: a.Query, Editor: "bo", Updated: at.Add(3 * time.Hour)}); err != nil || after.Schedule != nil {
		t.Errorf("schedule dropped: %+v, %v", after.Schedule, err)
	}
	if got := scheduled(); len(got) != 1 || got[0].ID != p.ID {
		t.Errorf("scheduled after one was dropped: %+v", got)
	}
}
