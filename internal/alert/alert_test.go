package alert

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/event"
)

func TestEntities(t *testing.T) {
	for _, c := range []struct {
		name   string
		fields []event.Field
		want   []Entity
	}{
		{"ECS", []event.Field{{Name: "user.name", Value: "a.jones"}, {Name: "Computer", Value: "DC1"}, {Name: "host.name", Value: "nv-dc01"}},
			[]Entity{{EntityHost, "nv-dc01"}, {EntityUser, "a.jones"}}},
		{"Windows names", []event.Field{{Name: "Computer", Value: "WS-77"}, {Name: "SubjectUserName", Value: "-"}, {Name: "TargetUserName", Value: "svc_backup"}, {Name: "IpAddress", Value: "::ffff:10.1.2.3"}},
			[]Entity{{EntityHost, "WS-77"}, {EntityUser, "svc_backup"}, {EntitySourceIP, "10.1.2.3"}}},
		{"dash, empty and loopback skipped", []event.Field{{Name: "host.name", Value: ""}, {Name: "user.name", Value: "-"}, {Name: "Hostname", Value: "fw1"}, {Name: "source.ip", Value: "127.0.0.1"}},
			[]Entity{{EntityHost, "fw1"}}},
		{"network and mail", []event.Field{{Name: "destination.ip", Value: "203.0.113.9"}, {Name: "dns.question.name", Value: "Evil.Example."}, {Name: "url.original", Value: "http://evil.example/x"}, {Name: "email.from.address", Value: "Boss@Example.org"}},
			[]Entity{{EntityDestinationIP, "203.0.113.9"}, {EntityDomain, "evil.example"}, {EntityURL, "http://evil.example/x"}, {EntityEmailSender, "boss@example.org"}}},
		{"Sysmon hashes", []event.Field{{Name: "Hashes", Value: "SHA1=AA,MD5=BB,SHA256=CCDD"}}, []Entity{{EntityHash, "ccdd"}}},
		{"none", []event.Field{{Name: "message", Value: "hello"}}, nil},
	} {
		if diff := cmp.Diff(c.want, Entities(c.fields)); diff != "" {
			t.Errorf("%s: Entities (-want +got):\n%s", c.name, diff)
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
