// Package store holds what the state-store backends (store/sqlstore, on
// SQLite or PostgreSQL) share beyond the consumers' interfaces: the checkpoint
// record of a bus consumer and the secret key's claim. Each backend passes
// store/storetest.
package store

import (
	"database/sql/driver"
	"errors"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Unavailable reports whether err is the state store not answering rather
// than refusing: PostgreSQL unreachable, restarting or shutting down
// (SQLSTATE classes 08 and 57P01-57P03), a connection lost (a network
// error, not a context's deadline).
func Unavailable(err error) bool {
	var ce *pgconn.ConnectError
	var pe *pgconn.PgError
	var ne *net.OpError
	switch {
	case err == nil:
		return false
	case errors.As(err, &ce), errors.Is(err, driver.ErrBadConn):
		return true
	case errors.As(err, &pe):
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	case errors.As(err, &ne):
		return true
	}
	return false
}

// ErrSecretKeyDiffers is returned when a server claims a state store that
// was set up with another secret key.
var ErrSecretKeyDiffers = errors.New("the secret key differs from the state store's")

// Checkpoint is a bus consumer's durable position, kept in the state store.
type Checkpoint struct {
	// Done is the last bus sequence whose effects are durable.
	Done uint64
	// Pending is the last sequence of a batch that was being written when
	// Done was set; on restart, sequences in (Done, Pending] may be partly
	// written and are de-duplicated.
	Pending uint64
}
