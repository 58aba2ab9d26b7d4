// Package savedsearch keeps the hunts a SOC team saves to run again: a
// name, a LogsQL query and what it looks for. A search lives in a space:
// the provider's (Provider: every provider analyst's, run across the
// members the analyst chooses) or one member's (that member's people's,
// which the provider's analysts see too). A search with a Schedule also
// runs on its own and raises alerts (schedule.go, runner.go).
package savedsearch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// Provider is the space of the provider's own searches.
const Provider tenant.ID = "*"

// Limits of a search's text.
const (
	MaxName        = 200
	MaxQuery       = 10000
	MaxDescription = 2000
)

// Errors of a Store.
var (
	// ErrNotFound: no such search in the space (another space's is not
	// found either).
	ErrNotFound = errors.New("saved search not found")
	// ErrExists: the space has a search of that name (names are unique in
	// a space whatever their case).
	ErrExists = errors.New("saved search exists")
	// ErrInvalid wraps what is wrong with a search.
	ErrInvalid = errors.New("invalid saved search")
)

// Search is one saved search.
type Search struct {
	ID int64 `json:"id"`
	// Space is the provider's (Provider) or a member's ID.
	Space       tenant.ID `json:"tenant"`
	Name        string    `json:"name"`
	Query       string    `json:"query"`
	Description string    `json:"description"`
	// Author is who saved it (a user's or token's name); Editor who last
	// changed it.
	Author  string    `json:"author"`
	Editor  string    `json:"editor,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// Schedule, when set, runs the search on its own and raises alerts;
	// LastRun is its last run's record (nil before the first).
	Schedule *Schedule `json:"schedule,omitempty"`
	LastRun  *Run      `json:"last_run,omitempty"`
}

// Request is what a save or a change of a search sends to the API
// (POST and PUT /api/v1/searches): a change replaces every part, the
// schedule included (none: the search no longer runs on its own).
type Request struct {
	// Tenant names the space: a member's ID, or "" for the caller's own.
	Tenant      string    `json:"tenant"`
	Name        string    `json:"name"`
	Query       string    `json:"query"`
	Description string    `json:"description"`
	Schedule    *Schedule `json:"schedule"`
}

// NameKey is the form of a name that is unique in a space.
func NameKey(name string) string { return strings.ToLower(name) }

// Validate reports the first thing wrong with s's text, wrapping
// ErrInvalid. The query's LogsQL is the caller's to check (the event
// store's parser).
func (s Search) Validate() error {
	switch {
	case strings.TrimSpace(s.Name) == "":
		return fmt.Errorf("%w: name: required", ErrInvalid)
	case len(s.Name) > MaxName:
		return fmt.Errorf("%w: name: at most %d bytes", ErrInvalid, MaxName)
	case s.Name != strings.TrimSpace(s.Name):
		return fmt.Errorf("%w: name: no spaces at either end", ErrInvalid)
	case !printable(s.Name):
		return fmt.Errorf("%w: name: no control characters", ErrInvalid)
	case strings.TrimSpace(s.Query) == "":
		return fmt.Errorf("%w: query: required (LogsQL; '*' matches every event)", ErrInvalid)
	case len(s.Query) > MaxQuery:
		return fmt.Errorf("%w: query: at most %d bytes", ErrInvalid, MaxQuery)
	case !utf8.ValidString(s.Query):
		return fmt.Errorf("%w: query: not UTF-8", ErrInvalid)
	case len(s.Description) > MaxDescription:
		return fmt.Errorf("%w: description: at most %d bytes", ErrInvalid, MaxDescription)
	case !utf8.ValidString(s.Description):
		return fmt.Errorf("%w: description: not UTF-8", ErrInvalid)
	case s.Schedule != nil:
		return s.Schedule.Defaults().Validate()
	}
	return nil
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// Store keeps saved searches. Every method takes the space; another
// space's search is ErrNotFound.
type Store interface {
	// SavedSearches lists space's searches by name (case-insensitive).
	SavedSearches(ctx context.Context, space tenant.ID) ([]Search, error)
	// AddSavedSearch stores s (its Space, Created and Updated set) and
	// returns it with its ID; a name the space has is ErrExists.
	AddSavedSearch(ctx context.Context, s Search) (Search, error)
	// UpdateSavedSearch replaces the name, query, description, schedule,
	// editor and updated time of space's search id with s's, returning it
	// before and after; a name another search of the space has is
	// ErrExists. Its last run's record stays.
	UpdateSavedSearch(ctx context.Context, space tenant.ID, id int64, s Search) (before, after Search, err error)
	// RemoveSavedSearch deletes space's search id and returns it.
	RemoveSavedSearch(ctx context.Context, space tenant.ID, id int64) (Search, error)
	// ScheduledSearches lists every space's searches with a schedule.
	ScheduledSearches(ctx context.Context) ([]Search, error)
	// SavedSearchRan records search id's run (nothing if it has gone).
	SavedSearchRan(ctx context.Context, id int64, run Run) error
}
