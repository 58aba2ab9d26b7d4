// Package store holds what the state-store backends (store/sqlstore, on
// SQLite or PostgreSQL) share beyond the consumers' interfaces: the checkpoint
// record of a bus consumer and the secret key's claim. Each backend passes
// store/storetest.
package store

import "errors"

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
