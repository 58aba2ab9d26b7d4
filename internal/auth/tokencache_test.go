package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

// flakyStore is a token store that can stop answering, as a state store
// whose server went does.
type flakyStore struct {
	tok   Token
	down  bool
	reads int
}

func (s *flakyStore) TokenByHash(_ context.Context, h []byte) (Token, error) {
	s.reads++
	if s.down {
		return Token{}, errors.New("failed to connect to `user=tarian database=tarian`: 127.0.0.1:5432: connection refused")
	}
	if string(h) != string(s.tok.Hash) {
		return Token{}, ErrNotFound
	}
	return s.tok, nil
}

// TestTokenCacheThroughAnOutage: a checked token is read again after the
// TTL; while the store is down it is still trusted for TokenCacheStale, an
// unknown one is answered ErrUnavailable (not "unknown token"), and a
// token past its own expiry is never trusted from the cache.
func TestTokenCacheThroughAnOutage(t *testing.T) {
	ctx := context.Background()
	clock := time.Now()
	st := &flakyStore{tok: Token{ID: "T1", Role: RoleIngest, Tenant: "gwynedd", Hash: Hash("s3cret"), Expires: clock.Add(3 * time.Hour)}}
	c := &TokenCache{now: func() time.Time { return clock }}
	if p, err := c.Authenticate(ctx, st, "s3cret"); err != nil || p.Tenant != "gwynedd" {
		t.Fatalf("first look-up: %+v %v", p, err)
	}
	c.Authenticate(ctx, st, "s3cret")
	if st.reads != 1 {
		t.Fatalf("%d store reads within the TTL, want 1", st.reads)
	}
	st.down = true
	clock = clock.Add(TokenCacheTTL + time.Second)
	if p, err := c.Authenticate(ctx, st, "s3cret"); err != nil || p.Tenant != "gwynedd" || st.reads != 2 {
		t.Fatalf("past the TTL, store down: %+v %v after %d reads; want the cached principal after trying the store", p, err, st.reads)
	}
	if _, err := c.Authenticate(ctx, st, "other"); !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("an unknown token while the store is down: %v, want ErrUnavailable", err)
	}
	clock = clock.Add(TokenCacheStale)
	if _, err := c.Authenticate(ctx, st, "s3cret"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("past the stale bound: %v, want ErrUnavailable", err)
	}
	// Back: read again; then past the token's own expiry nothing is
	// trusted from the cache even with the store down.
	st.down = false
	clock = time.Now().Add(2 * time.Hour)
	if _, err := c.Authenticate(ctx, st, "s3cret"); err != nil {
		t.Fatal(err)
	}
	st.down = true
	clock = clock.Add(time.Hour + time.Second)
	if _, err := c.Authenticate(ctx, st, "s3cret"); err == nil {
		t.Fatal("an expired token was trusted from the cache")
	}
	c.Drop()
	st.down = false
	reads := st.reads
	c.Authenticate(ctx, st, "s3cret")
	if st.reads != reads+1 {
		t.Fatal("Drop kept the cached token")
	}
}

// TestTokenCacheDropUser: DropUser forgets the tokens that act for one
// user, and only those.
func TestTokenCacheDropUser(t *testing.T) {
	ctx := context.Background()
	ann := &flakyStore{tok: Token{ID: "A", Role: RoleIngest, Tenant: "gwynedd", Hash: Hash("ann"), User: 1}}
	ben := &flakyStore{tok: Token{ID: "B", Role: RoleIngest, Tenant: "gwynedd", Hash: Hash("ben"), User: 2}}
	c := &TokenCache{}
	if _, err := c.Authenticate(ctx, ann, "ann"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Authenticate(ctx, ben, "ben"); err != nil {
		t.Fatal(err)
	}
	c.DropUser(1)
	c.Authenticate(ctx, ann, "ann")
	c.Authenticate(ctx, ben, "ben")
	if ann.reads != 2 || ben.reads != 1 {
		t.Errorf("store reads after DropUser(1): ann's %d, ben's %d; want 2 and 1", ann.reads, ben.reads)
	}
}
