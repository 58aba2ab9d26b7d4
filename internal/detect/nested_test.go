package detect

import (
	"slices"
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
)

// TestArrayOfObjectsFlat: a flat field holding a JSON array of objects
// (Okta's target, as the parse stage stores it) gives each object's keys
// as fields under the array's name, as the same document read whole does:
// target.displayName finds the second target, a nested list its values,
// and the array's own name still holds each object as text.
func TestArrayOfObjectsFlat(t *testing.T) {
	e := compileRules(t, `title: okta target
id: 11111111-0000-4000-8000-000000000001
logsource: {product: okta, service: okta}
detection:
  s: {target.displayName: Super Administrator}
  condition: s
---
title: okta nested
id: 11111111-0000-4000-8000-000000000002
logsource: {product: okta, service: okta}
detection:
  s: {target.detail.roles: helpdesk}
  condition: s
---
title: okta whole
id: 11111111-0000-4000-8000-000000000003
logsource: {product: okta, service: okta}
detection:
  s: {target|contains: '"type":"ROLE"'}
  condition: s
`, Options{})
	const target = `[{"type":"User","displayName":"Bob Jones"},{"type":"ROLE","displayName":"Super Administrator","detail":{"roles":["admin","helpdesk"]}}]`
	fields := []event.Field{{Name: "eventType", Value: "user.account.privilege.grant"}, {Name: "actor.alternateId", Value: "eve@example.org"},
		{Name: "uuid", Value: "u1"}, {Name: "target", Value: target}}
	var flat []string
	e.EvaluateFields(nil, fields, func(m Match) { flat = append(flat, m.RuleID) })
	want := []string{"11111111-0000-4000-8000-000000000001", "11111111-0000-4000-8000-000000000002", "11111111-0000-4000-8000-000000000003"}
	slices.Sort(flat)
	if !slices.Equal(flat, want) {
		t.Errorf("flat fields fired %v, want %v", flat, want)
	}
	var whole []string
	doc := `{"eventType":"user.account.privilege.grant","actor":{"alternateId":"eve@example.org"},"uuid":"u1","target":` + target + `}`
	if err := e.Evaluate([]byte(doc), func(m Match) { whole = append(whole, m.RuleID) }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(whole)
	if !slices.Equal(whole, want[:2]) { // read whole, the array itself has no value
		t.Errorf("the document read whole fired %v, want %v", whole, want[:2])
	}
	// Another target's name is not a match.
	fields[3].Value = `[{"type":"User","displayName":"Bob Jones"}]`
	var none []string
	e.EvaluateFields(nil, fields, func(m Match) { none = append(none, m.RuleID) })
	if len(none) != 0 {
		t.Errorf("fired %v on a user target alone", none)
	}
}
