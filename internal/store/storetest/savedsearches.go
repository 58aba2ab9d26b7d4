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
}
