package alert

import (
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
)

func TestEntities(t *testing.T) {
	for _, c := range []struct {
		name       string
		fields     []event.Field
		host, user string
	}{
		{"ECS", []event.Field{{Name: "user.name", Value: "a.jones"}, {Name: "Computer", Value: "DC1"}, {Name: "host.name", Value: "nv-dc01"}}, "nv-dc01", "a.jones"},
		{"Windows names", []event.Field{{Name: "Computer", Value: "WS-77"}, {Name: "SubjectUserName", Value: "-"}, {Name: "TargetUserName", Value: "svc_backup"}}, "WS-77", "svc_backup"},
		{"dash and empty skipped", []event.Field{{Name: "host.name", Value: ""}, {Name: "user.name", Value: "-"}, {Name: "Hostname", Value: "fw1"}}, "fw1", ""},
		{"none", []event.Field{{Name: "message", Value: "hello"}}, "", ""},
	} {
		if h, u := Entities(c.fields); h != c.host || u != c.user {
			t.Errorf("%s: Entities = %q, %q; want %q, %q", c.name, h, u, c.host, c.user)
		}
	}
}

func TestValidLevel(t *testing.T) {
	for _, l := range []string{"informational", "low", "medium", "high", "critical"} {
		if !ValidLevel(l) {
			t.Errorf("ValidLevel(%q) = false", l)
		}
	}
	for _, l := range []string{"", "bogus", "High", "info"} {
		if ValidLevel(l) {
			t.Errorf("ValidLevel(%q) = true", l)
		}
	}
}
