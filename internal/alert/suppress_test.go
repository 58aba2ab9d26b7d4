package alert

import (
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
)

// TestSuppressionMatchesEntityFieldNames: a member writes a condition with
// the field name it searches events by (host.name, user.name, Computer);
// the detection carries the host and user as entities and only the fields
// its rule tested, so the condition must match through the entity, else
// the suppression silently stops nothing.
func TestSuppressionMatchesEntityFieldNames(t *testing.T) {
	now := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	d := &Detection{
		RuleID:   "r1",
		Entities: []Entity{{Type: EntityHost, Value: "BACKUP02"}, {Type: EntityUser, Value: "svc"}, {Type: EntityDomain, Value: "evil.example"}},
		Fields:   []event.Field{{Name: "CommandLine", Value: "noisything run"}},
	}
	for _, tc := range []struct {
		where []Condition
		want  bool
	}{
		{[]Condition{{"host", "BACKUP02"}}, true},
		{[]Condition{{"host.name", "BACKUP02"}}, true},
		{[]Condition{{"host.name", "backup02"}}, true},
		{[]Condition{{"Computer", "BACKUP02"}}, true},
		{[]Condition{{"host.name", "BACKUP01"}}, false},
		{[]Condition{{"user.name", "svc"}, {"host.name", "BACKUP02"}}, true},
		{[]Condition{{"user.name", "svc"}, {"host.name", "OTHER"}}, false},
		{[]Condition{{"dns.question.name", "Evil.Example."}}, true},
		{[]Condition{{"CommandLine", "noisything run"}}, true},
		{[]Condition{{"CommandLine", "other"}}, false},
		// A field that is neither an entity nor tested by the rule matches nothing.
		{[]Condition{{"process.name", "BACKUP02"}}, false},
		// The host's value under the user's name is no match.
		{[]Condition{{"user.name", "BACKUP02"}}, false},
	} {
		s := Suppression{RuleID: "r1", Where: tc.where}
		if got := s.Matches(d, now); got != tc.want {
			t.Errorf("where %v: matches %v, want %v", tc.where, got, tc.want)
		}
	}
}

func TestSuppressionRuleAndExpiry(t *testing.T) {
	now := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	d := &Detection{RuleID: "r1", Entities: []Entity{{Type: EntityHost, Value: "h"}}}
	if (Suppression{RuleID: "r2"}).Matches(d, now) {
		t.Error("another rule's suppression matched")
	}
	if !(Suppression{RuleID: "r1", Expires: now.Add(time.Minute)}).Matches(d, now) {
		t.Error("an active suppression did not match")
	}
	if (Suppression{RuleID: "r1", Expires: now}).Matches(d, now) {
		t.Error("an expired suppression matched")
	}
}
