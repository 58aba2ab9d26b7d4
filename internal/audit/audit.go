// Package audit defines the audit trail: who did what, in which tenant
// scope. Every cross-tenant read by a provider role is recorded.
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
}

// Log is where audit records go.
type Log interface {
	Append(ctx context.Context, r Record) error
}
