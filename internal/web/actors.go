package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/tarian-soc/tarian/internal/auth"
)

// maxActors bounds one GET /api/v1/actors: a page's authors, not a
// listing.
const maxActors = 100

// actorJSON is one API token an author field names, as the caller may
// know it. A member's principals learn the names of their own member's
// tokens only: a provider token is "provider" without its name (the
// provider's names for its tokens may name other members), and another
// member's token, like an unknown or revoked one, is left out.
type actorJSON struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"` // "token"
	Name     string `json:"name,omitempty"`
	Tenant   string `json:"tenant,omitempty"`
	Provider bool   `json:"provider,omitempty"`
}

// getActors is GET /api/v1/actors?id=ID&id=ID...: the API tokens behind
// the author and actor fields the caller already holds (a case's timeline,
// an audit record, a live change), so the console shows a token's name
// instead of its ID. A session's author ("user:NAME") already says who;
// it is not looked up.
func (a *API) getActors(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	ids := r.URL.Query()["id"]
	if len(ids) > maxActors {
		return badRequest(fmt.Sprintf("id: at most %d at a time", maxActors))
	}
	out := make([]actorJSON, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if id == "" || seen[id] || a.d.Users == nil {
			continue
		}
		seen[id] = true
		tok, err := a.d.Users.TokenByID(r.Context(), id)
		if errors.Is(err, auth.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("look up token %s: %w", id, err)
		}
		switch {
		case p.Role.Provider():
			out = append(out, actorJSON{ID: tok.ID, Kind: "token", Name: tok.Name, Tenant: string(tok.Tenant), Provider: tok.Tenant == ""})
		case tok.Tenant == "":
			out = append(out, actorJSON{ID: tok.ID, Kind: "token", Provider: true})
		case tok.Tenant == p.Tenant:
			out = append(out, actorJSON{ID: tok.ID, Kind: "token", Name: tok.Name, Tenant: string(tok.Tenant)})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"actors": out})
	return nil
}
