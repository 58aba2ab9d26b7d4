package auth

import (
	"context"
	"errors"
	"sync"
	"time"
)

// TokenCacheTTL bounds how long a looked-up token is trusted without
// reading the store again. Revocation through the API drops entries at
// once (Drop); the TTL only bounds staleness from changes made elsewhere
// (another node on the same database).
const TokenCacheTTL = 10 * time.Second

// TokenCacheStale is how long past its TTL a token already checked is
// still trusted while the store cannot be reached (ErrUnavailable), so
// shippers keep shipping through a state-store outage: ingest needs only
// the bus. Nobody can revoke a token meanwhile (that needs the store).
const TokenCacheStale = time.Hour

// tokenCacheMax bounds the entries kept; past it the cache starts afresh.
const tokenCacheMax = 10_000

// TokenCache keeps recent token look-ups so that authorising a request
// costs no database read.
type TokenCache struct {
	mu     sync.Mutex
	tokens map[string]cachedToken
	now    func() time.Time // tests move the clock
}

type cachedToken struct {
	p       Principal
	checked time.Time
}

// Authenticate is Authenticate through the cache.
func (c *TokenCache) Authenticate(ctx context.Context, s Store, secret string) (Principal, error) {
	key := string(Hash(secret))
	now := time.Now()
	if c.now != nil {
		now = c.now()
	}
	c.mu.Lock()
	e, ok := c.tokens[key]
	c.mu.Unlock()
	valid := ok && (e.p.Expires.IsZero() || now.Before(e.p.Expires))
	if valid && now.Sub(e.checked) < TokenCacheTTL {
		return e.p, nil
	}
	p, err := Authenticate(ctx, s, secret)
	if err != nil {
		if valid && errors.Is(err, ErrUnavailable) && now.Sub(e.checked) < TokenCacheStale {
			return e.p, nil
		}
		return p, err
	}
	c.mu.Lock()
	if c.tokens == nil || len(c.tokens) >= tokenCacheMax {
		c.tokens = map[string]cachedToken{}
	}
	c.tokens[key] = cachedToken{p, now}
	c.mu.Unlock()
	return p, nil
}

// Drop forgets every cached token (after a revocation).
func (c *TokenCache) Drop() {
	c.mu.Lock()
	clear(c.tokens)
	c.mu.Unlock()
}

// DropUser forgets the cached tokens that act for user id (after the
// user's tokens were revoked: disabled, reset or removed).
func (c *TokenCache) DropUser(id int64) {
	if id == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.tokens {
		if e.p.UserID == id {
			delete(c.tokens, k)
		}
	}
}
