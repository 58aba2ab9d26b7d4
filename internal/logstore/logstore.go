// Package logstore is the vocabulary shared by event stores and their users:
// what a query asks and what a result row holds. Implementations live in
// sub-packages (logstore/vlogs embeds VictoriaLogs); each consumer declares
// the small interface it needs.
package logstore

import (
	"context"
	"errors"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Errors every event store returns.
var (
	// ErrBadQuery wraps a query the store cannot parse; its message is the
	// parser's own, for the user.
	ErrBadQuery = errors.New("bad query")
	// ErrReadOnly is returned by Add while the store refuses writes for
	// lack of disk space; nothing of the batch is stored.
	ErrReadOnly = errors.New("event store is read-only: low free disk space")
	// ErrTooLarge is returned by Add for an event beyond the store's
	// limits (fields, field name length, size); nothing of the batch is
	// stored.
	ErrTooLarge = errors.New("event too large for the event store")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("event store is closed")
	// ErrUnavailable wraps a failure to reach an external event store (a
	// server, front or storage node down): the API answers 503.
	ErrUnavailable = errors.New("event store unavailable")
)

// Resolver maps a tenant to its number in the store (VictoriaLogs'
// AccountID), which never changes.
type Resolver interface {
	Number(ctx context.Context, t tenant.ID) (uint32, error)
}

// Query is one tenant-scoped search. Tenants must not be empty: there is no
// unscoped read.
type Query struct {
	Tenants []tenant.ID
	// LogsQL is the query text in LogsQL.
	LogsQL string
	// From and To bound the event time; zero means unbounded.
	From, To time.Time
	// Limit caps the rows returned, newest first; 0 means the store default.
	Limit int
}

// Row is one result of a query.
type Row struct {
	Tenant tenant.ID
	// Time is the row's event time; zero for rows with no time (stats).
	Time   time.Time
	Fields []event.Field
}

// Stats is what a store reports about itself for metrics.
type Stats struct {
	// Rows is the number of events stored.
	Rows uint64
	// DiskBytes is the on-disk size of stored events.
	DiskBytes uint64
}
