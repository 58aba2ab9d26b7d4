package alert

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// Suppression stops one rule's detections whose fields hold the given
// values, in one tenant, until it expires. It is applied before an alert
// is raised, and counts what it stopped.
type Suppression struct {
	ID     int64
	Tenant tenant.ID
	RuleID string
	// Where are field conditions, all of which must hold: a field is an
	// entity type (host, user, source.ip, ...), a field that names one
	// (host.name, user.name, Computer: see entityOf) or an event field
	// name, and matches when the detection has that value
	// (case-insensitively).
	Where   []Condition
	Reason  string
	Author  string
	Created time.Time
	// Expires is when it stops applying (zero: never).
	Expires time.Time
	// Hits counts the detections it stopped.
	Hits int64
}

// Condition is one FIELD=VALUE of a suppression.
type Condition struct {
	Field string `json:"field"`
	Value string `json:"value"`
}

// ParseCondition reads "FIELD=VALUE".
func ParseCondition(s string) (Condition, error) {
	f, v, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(f) == "" {
		return Condition{}, fmt.Errorf("%w: condition %q: want FIELD=VALUE", ErrInvalid, s)
	}
	return Condition{Field: strings.TrimSpace(f), Value: v}, nil
}

// Validate checks a suppression about to be added.
func (s Suppression) Validate() error {
	switch {
	case s.RuleID == "":
		return fmt.Errorf("%w: a suppression needs a rule", ErrInvalid)
	case strings.TrimSpace(s.Reason) == "":
		return fmt.Errorf("%w: a suppression needs a reason", ErrInvalid)
	case !s.Expires.IsZero() && !s.Expires.After(s.Created):
		return fmt.Errorf("%w: expiry %s is not after now", ErrInvalid, s.Expires.Format(time.RFC3339))
	}
	return nil
}

// Active reports whether s applies at now.
func (s Suppression) Active(now time.Time) bool {
	return s.Expires.IsZero() || now.Before(s.Expires)
}

// Matches reports whether s stops detection d at now.
func (s Suppression) Matches(d *Detection, now time.Time) bool {
	if d.RuleID != s.RuleID || !s.Active(now) {
		return false
	}
	for _, c := range s.Where {
		if !has(d, c) {
			return false
		}
	}
	return true
}

func has(d *Detection, c Condition) bool {
	if typ := entityOf(c.Field); typ != "" {
		v := c.Value
		if cv := clean(typ, v); cv != "" {
			v = cv
		}
		for _, e := range d.Entities {
			if e.Type == typ && strings.EqualFold(e.Value, v) {
				return true
			}
		}
	}
	for _, f := range d.Fields {
		if f.Name == c.Field && strings.EqualFold(f.Value, c.Value) {
			return true
		}
	}
	return false
}

// entityOf returns the entity type a condition's field stands for: the
// field itself when it is an entity type (host, user, ...), or the type
// whose ECS or native field it names (host.name and Computer stand for
// host, user.name for user), so that a member who writes the field as it
// searches events suppresses what it means; "" for any other field. A
// detection's fields hold only what its rule tested, so without this
// host.name=X would match no detection of a rule that does not test
// host.name, and the suppression would silently stop nothing.
func entityOf(field string) string {
	for _, ef := range entityFields {
		if ef.typ == field {
			return ef.typ
		}
		for _, f := range ef.fields {
			if f == field {
				return ef.typ
			}
		}
	}
	return ""
}

// Suppressions keeps suppressions per tenant.
type Suppressions interface {
	// AddSuppression stores s and returns it with its ID.
	AddSuppression(ctx context.Context, s Suppression) (Suppression, error)
	// Suppressions lists tenant t's suppressions, expired ones included.
	Suppressions(ctx context.Context, t tenant.ID) ([]Suppression, error)
	// AllSuppressions lists every tenant's suppressions (for the pipeline).
	AllSuppressions(ctx context.Context) ([]Suppression, error)
	// RemoveSuppression deletes one of tenant t's suppressions.
	RemoveSuppression(ctx context.Context, t tenant.ID, id int64) (Suppression, error)
	// CountSuppressed adds hits per suppression ID of tenant t.
	CountSuppressed(ctx context.Context, t tenant.ID, hits map[int64]int64) error
}

// fieldValue returns d's value of a key field: an entity type or an event
// field name ("" when it has none).
func fieldValue(d *Detection, name string) string {
	for _, e := range d.Entities {
		if e.Type == name {
			return e.Value
		}
	}
	for _, f := range d.Fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}
