package web

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tarian-soc/tarian/internal/auth"
)

// authCacheTTL bounds how long a looked-up session is trusted without
// reading the store again (tokens: auth.TokenCacheTTL). Revocation through
// this API (logout, disable, reset) drops entries at once; the TTL only
// bounds staleness from changes made past it (another process on the same
// database).
const authCacheTTL = auth.TokenCacheTTL

// authCacheMax bounds the sessions kept; past it the cache starts afresh.
const authCacheMax = 10_000

// authCache keeps recent token and session look-ups so that authorising a
// request costs no database read (BenchmarkAuthToken, BenchmarkAuthSession).
type authCache struct {
	tokens   *auth.TokenCache
	mu       sync.Mutex
	sessions map[string]sessionEntry
}

type sessionEntry struct {
	s     auth.Session
	u     auth.User
	until time.Time
}

func newAuthCache(tokens *auth.TokenCache) *authCache {
	if tokens == nil {
		tokens = &auth.TokenCache{}
	}
	return &authCache{tokens: tokens, sessions: map[string]sessionEntry{}}
}

// token authenticates a bearer secret through the cache.
func (c *authCache) token(ctx context.Context, s auth.Store, secret string) (auth.Principal, error) {
	return c.tokens.Authenticate(ctx, s, secret)
}

// dropTokens forgets every cached token (after a revocation).
func (c *authCache) dropTokens() { c.tokens.Drop() }

// session returns the session with hash h and its user, through the cache.
func (c *authCache) session(ctx context.Context, users Users, h []byte, now time.Time) (auth.Session, auth.User, error) {
	key := string(h)
	c.mu.Lock()
	e, ok := c.sessions[key]
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.s, e.u, nil
	}
	s, u, err := users.SessionByHash(ctx, h)
	if errors.Is(err, auth.ErrSessionGone) {
		return s, u, err
	}
	if err != nil {
		return s, u, fmt.Errorf("%w: look up session: %w", auth.ErrUnavailable, err)
	}
	c.mu.Lock()
	if len(c.sessions) >= authCacheMax {
		clear(c.sessions)
	}
	c.sessions[key] = sessionEntry{s, u, now.Add(authCacheTTL)}
	c.mu.Unlock()
	return s, u, nil
}

// touched records a session's new last-seen time in the cache.
func (c *authCache) touched(h []byte, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.sessions[string(h)]; ok {
		e.s.LastSeen = at
		c.sessions[string(h)] = e
	}
}

// dropSession forgets one session; dropUser every session of a user and
// every token that acts for it.
func (c *authCache) dropSession(h []byte) {
	c.mu.Lock()
	delete(c.sessions, string(h))
	c.mu.Unlock()
}

func (c *authCache) dropUser(id int64) {
	c.tokens.DropUser(id)
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.sessions {
		if e.s.UserID == id {
			delete(c.sessions, k)
		}
	}
}
