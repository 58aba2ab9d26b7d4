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
	// Host and User name the machine and account of the event that fired
	// the rule, when it names them (see Entities); empty otherwise.
	Host, User string
	// Fields are the event's values of the fields the rule tests (for a
	// correlation, its group-by values).
	Fields []event.Field
	Status string
}

// Statuses of an alert.
const StatusNew = "new"

// Levels lists the alert levels, lowest first, as messages name them.
const Levels = "informational, low, medium, high, critical"

// ValidLevel reports whether l is one of Levels.
func ValidLevel(l string) bool {
	switch l {
	case "informational", "low", "medium", "high", "critical":
		return true
	}
	return false
}

// Entities returns the host and user an event's fields name ("" when they
// name none): ECS host.name and user.name, else Windows-style names such
// as Computer and TargetUserName.
func Entities(fields []event.Field) (host, user string) {
	host = first(fields, "host.name", "host.hostname", "winlog.computer_name", "Computer", "Hostname")
	user = first(fields, "user.name", "winlog.user.name", "TargetUserName", "SubjectUserName", "User", "UserName")
	return host, user
}

// first returns the value of the first of names that fields hold, skipping
// empty values and Windows' "-".
func first(fields []event.Field, names ...string) string {
	for _, name := range names {
		for _, f := range fields {
			if f.Name == name && f.Value != "" && f.Value != "-" {
				return f.Value
			}
		}
	}
	return ""
}

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
