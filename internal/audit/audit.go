// Package audit defines the audit trail: who did what, in which tenant
// scope. Every cross-tenant read by a provider role is recorded.
//
// The trail is append-only and hash-chained per chain: a tenant's records
// form one chain (named by the tenant ID), provider-wide actions another
// ("*"). Each record carries its position (Seq 1, 2, ...), the hash of the
// chain's previous record and its own hash, SHA-256 over a canonical
// encoding (chain.go). Signed checkpoints (checkpoint.go) fix a chain's
// hash at a position with a key only the server holds, so a chain
// recomputed after an edit no longer matches. Verify (verify.go) walks a
// chain and names the first broken record. The package is pure: the store
// keeps the records, the server holds the key.
package audit

import (
	"context"
	"time"
)

// Record is one audited action.
type Record struct {
	ID    int64     `json:"id"`
	Time  time.Time `json:"time"`
	Actor string    `json:"actor"` // token ID
	Role  string    `json:"role"`
	// Action is a short verb phrase such as "search" or "tenant.create".
	Action string `json:"action"`
	// Scope is the tenant acted on, or "*" for every tenant.
	Scope  string `json:"scope"`
	Detail string `json:"detail"`

	// The chain fields are set by the store when it appends the record.

	// Chain is the chain the record belongs to: ChainOf(Scope).
	Chain string `json:"chain,omitempty"`
	// Seq is the record's position in its chain, from 1.
	Seq int64 `json:"seq,omitempty"`
	// PrevHash is the hash of the chain's previous record (zero for Seq 1).
	PrevHash Hash `json:"prev_hash,omitzero"`
	// Hash is Sum(record).
	Hash Hash `json:"hash,omitzero"`
}

// Log is where audit records go.
type Log interface {
	Append(ctx context.Context, r Record) error
}
