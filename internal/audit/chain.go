package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// ProviderChain is the chain of provider-wide actions (scope "*" or none).
const ProviderChain = "*"

// ChainOf returns the chain a record with scope belongs to: the tenant ID,
// or ProviderChain for "*" and the empty scope.
func ChainOf(scope string) string {
	if scope == "" || scope == "*" {
		return ProviderChain
	}
	return scope
}

// Hash is a SHA-256 digest. It is written as 64 hex digits.
type Hash [sha256.Size]byte

// IsZero reports whether h is all zero (the previous hash of Seq 1).
func (h Hash) IsZero() bool { return h == Hash{} }

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText writes h as hex.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText reads 64 hex digits.
func (h *Hash) UnmarshalText(b []byte) error {
	if len(b) != 2*len(h) {
		return fmt.Errorf("hash: want %d hex digits, got %d", 2*len(h), len(b))
	}
	_, err := hex.Decode(h[:], b)
	if err != nil {
		return fmt.Errorf("hash: %w", err)
	}
	return nil
}

// HashFromBytes copies b (which must be 32 bytes) into a Hash.
func HashFromBytes(b []byte) (Hash, error) {
	var h Hash
	if len(b) != len(h) {
		return h, fmt.Errorf("hash: want %d bytes, got %d", len(h), len(b))
	}
	copy(h[:], b)
	return h, nil
}

// Domain tags keep a record's encoding from ever equalling a checkpoint's.
const (
	recordTag     = "tarian-audit-record-v1"
	checkpointTag = "tarian-audit-checkpoint-v1"
)

// encoder builds a canonical encoding: every string is its length (8
// bytes, big-endian) then its bytes, every integer 8 bytes big-endian, so
// no two different field lists encode the same.
type encoder struct{ b []byte }

func (e *encoder) str(s string) {
	e.b = binary.BigEndian.AppendUint64(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) int(n int64) { e.b = binary.BigEndian.AppendUint64(e.b, uint64(n)) }

// Encode returns r's canonical encoding: the domain tag, then chain, seq,
// time (Unix nanoseconds), actor, role, action, scope, detail and the
// previous hash. The store keeps time in nanoseconds, so what is hashed is
// what is stored.
func Encode(r Record) []byte {
	e := encoder{b: make([]byte, 0, 128+len(r.Actor)+len(r.Role)+len(r.Action)+len(r.Scope)+len(r.Detail)+len(r.Chain))}
	e.str(recordTag)
	e.str(r.Chain)
	e.int(r.Seq)
	e.int(r.Time.UnixNano())
	e.str(r.Actor)
	e.str(r.Role)
	e.str(r.Action)
	e.str(r.Scope)
	e.str(r.Detail)
	e.b = append(e.b, r.PrevHash[:]...)
	return e.b
}

// Sum returns r's hash: SHA-256 of Encode(r). r.Hash and r.ID are not part
// of it.
func Sum(r Record) Hash { return sha256.Sum256(Encode(r)) }

// Link sets r's chain fields as the next record after head (the chain's
// last record; the zero Record for an empty chain) and returns r.
func Link(head, r Record) Record {
	r.Chain = ChainOf(r.Scope)
	r.Seq = head.Seq + 1
	r.PrevHash = head.Hash
	r.Hash = Sum(r)
	return r
}
