package taxii

import (
	"errors"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// ErrNotFound is a status resource (or feed state) the store does not
// hold.
var ErrNotFound = errors.New("not found")

// Status is a TAXII status resource: what became of the objects of one
// POST to a collection's objects endpoint.
type Status struct {
	ID               string         `json:"id"`
	Status           string         `json:"status"` // "complete" or "pending"
	RequestTimestamp string         `json:"request_timestamp,omitempty"`
	TotalCount       int            `json:"total_count"`
	SuccessCount     int            `json:"success_count"`
	Successes        []StatusDetail `json:"successes,omitempty"`
	FailureCount     int            `json:"failure_count"`
	Failures         []StatusDetail `json:"failures,omitempty"`
	PendingCount     int            `json:"pending_count"`
	Pendings         []StatusDetail `json:"pendings,omitempty"`
	// Owner is the member that made the request ("" the provider): only
	// it (and the provider) may read the status.
	Owner tenant.ID `json:"-"`
}

// StatusDetail is one object of a status resource.
type StatusDetail struct {
	ID      string `json:"id"`
	Version string `json:"version,omitempty"`
	Message string `json:"message,omitempty"`
}
