// Package ingesttest holds what every receiver's tests share: Sink, the
// pipeline boundary in memory (it keeps the records, dead letters and
// counts a receiver writes, per tenant, and can refuse writes to push
// back), and Tokens, an ingest-token table standing where the server's
// token store does, and PKI, a throwaway CA for TLS tests. Only tests
// import it.
package ingesttest

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Sink implements ingest.Sink, ingest.DeadLetters and the receivers'
// metric Counter in memory. It copies what it is given, as the bus and
// the state store do, so receivers may reuse their buffers.
type Sink struct {
	mu       sync.Mutex
	recs     map[tenant.ID][]event.Raw
	dead     map[tenant.ID][]ingest.DeadLetter
	counts   map[string]int
	writes   int
	refuse   int
	failWith error
}

var (
	_ ingest.Sink        = (*Sink)(nil)
	_ ingest.DeadLetters = (*Sink)(nil)
)

// NewSink returns an empty Sink.
func NewSink() *Sink {
	return &Sink{recs: map[tenant.ID][]event.Raw{}, dead: map[tenant.ID][]ingest.DeadLetter{}, counts: map[string]int{}}
}

// Write keeps recs for t, unless it was told to refuse.
func (s *Sink) Write(_ context.Context, t tenant.ID, recs []event.Raw) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if s.failWith != nil {
		return s.failWith
	}
	if s.refuse > 0 {
		s.refuse--
		return fmt.Errorf("%w: stream full (test)", ingest.ErrBackpressure)
	}
	for _, r := range recs {
		r.Data = append([]byte(nil), r.Data...)
		s.recs[t] = append(s.recs[t], r)
	}
	return nil
}

// AddDeadLetters keeps dls for t.
func (s *Sink) AddDeadLetters(_ context.Context, t tenant.ID, dls []ingest.DeadLetter) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range dls {
		d.Data = append([]byte(nil), d.Data...)
		s.dead[t] = append(s.dead[t], d)
	}
	return nil
}

// Count adds n to the counter name of t.
func (s *Sink) Count(name string, t tenant.ID, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[name+"/"+string(t)] += n
}

// RefuseNext makes the next n writes fail with bus back-pressure.
func (s *Sink) RefuseNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = n
}

// FailWith makes every write fail with err until FailWith(nil).
func (s *Sink) FailWith(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failWith = err
}

// Records returns tenant t's records, in the order written.
func (s *Sink) Records(t tenant.ID) []event.Raw {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.recs[t])
}

// DeadLetters returns tenant t's dead letters.
func (s *Sink) DeadLetters(t tenant.ID) []ingest.DeadLetter {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.dead[t])
}

// Tenants returns, sorted, the tenants that have records.
func (s *Sink) Tenants() []tenant.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ts []tenant.ID
	for t, r := range s.recs {
		if len(r) > 0 {
			ts = append(ts, t)
		}
	}
	slices.Sort(ts)
	return ts
}

// Total returns the number of records of every tenant.
func (s *Sink) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.recs {
		n += len(r)
	}
	return n
}

// DeadTotal returns the number of dead letters of every tenant.
func (s *Sink) DeadTotal() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, d := range s.dead {
		n += len(d)
	}
	return n
}

// Counted returns counter name of t ("" for counts without a tenant).
func (s *Sink) Counted(name string, t tenant.ID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[name+"/"+string(t)]
}

// Writes returns how many writes were attempted, refused ones included.
func (s *Sink) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// ReaderToken is a valid token of a role that may not ingest.
const ReaderToken = "trn_reader"

// UnavailableToken is a token that cannot be checked now, as when the
// state store does not answer (auth.ErrUnavailable): the shipper must be
// told to retry, not that its data is refused.
const UnavailableToken = "trn_unavailable"

// Tokens maps ingest-token secrets to tenants, as the server's token store
// does for the receivers; ReaderToken is refused as forbidden and
// UnavailableToken as unavailable.
type Tokens map[string]tenant.ID

// IngestTenant returns the tenant of an ingest token.
func (ts Tokens) IngestTenant(_ context.Context, secret string) (tenant.ID, error) {
	switch secret {
	case ReaderToken:
		return "", fmt.Errorf("%w: role tenant-viewer may not ingest", auth.ErrForbidden)
	case UnavailableToken:
		return "", fmt.Errorf("%w: look up token: database is locked", auth.ErrUnavailable)
	}
	t, ok := ts[secret]
	if !ok {
		return "", fmt.Errorf("%w: unknown token", auth.ErrUnauthenticated)
	}
	return t, nil
}
