// Package alert is the alert model and the alert store contract: what a
// detection produced, for which tenant, from which rule and event.
package alert

import (
	"context"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Alert is one detection: a rule that fired on one tenant's event (or, for
// a correlation rule, on a group of events).
type Alert struct {
	ID     int64
	Tenant tenant.ID
	RuleID string
	Title  string
	// Author is the rule's author, shown with every alert (SigmaHQ's licence
	// asks for it).
	Author string
	// Level is the rule's level: informational, low, medium, high, critical.
	Level string
	// Tags are the rule's tags, ATT&CK ones as attack.tNNNN.
	Tags []string
	// EventRef names the event that fired the rule: its bus position
	// "<seq>:<idx>". With Tenant and RuleID it identifies the alert, so a
	// replayed event never raises the same alert twice.
	EventRef  string
	EventTime time.Time
	Created   time.Time
	// Fields are the event's values of the fields the rule tests (for a
	// correlation, its group-by values).
	Fields []event.Field
	Status string
}

// Statuses of an alert.
const StatusNew = "new"

// Filter selects alerts.
type Filter struct {
	// Status and Level match exactly when set.
	Status, Level string
	// Before pages: only alerts with ID below it (0: from the newest).
	Before int64
	Limit  int
}

// Store keeps alerts per tenant.
type Store interface {
	// AddAlerts stores alerts, ignoring any whose (tenant, rule, event)
	// is already stored, and returns how many were new.
	AddAlerts(ctx context.Context, t tenant.ID, as []Alert) (int, error)
	// Alerts lists tenant t's alerts, newest first.
	Alerts(ctx context.Context, t tenant.ID, f Filter) ([]Alert, error)
}
