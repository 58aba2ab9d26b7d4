package detect

import (
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/sigma"
)

// renameMapping exercises the rename forms of a log-source alternative:
// several fields, "*" segments (the last one giving keys too), a prefix,
// and two log sources renaming one Sigma field differently on one event.
const renameMapping = `
logsources:
  - product: acme
    service: signin
    when:
      - event.dataset: acme.signin
        rename:
          Status: [event.outcome, message]
          Target: targets.*.id
          Modified: targets.*.changes.*.new
          Parameters: params.*
          user: [user.name]
          "*": acme.log.*
  - category: firewall
    when:
      - {observer.type: firewall, rename: {action: event.action}}
`

func renameEngine(t *testing.T, opts Options) *Engine {
	t.Helper()
	m, err := ParseMapping([]byte(renameMapping))
	if err != nil {
		t.Fatal(err)
	}
	var rules []*sigma.Rule
	for _, r := range []struct{ id, logsource, detection string }{
		{"status-success", "{product: acme, service: signin}", "s: {Status: success}"},
		{"status-mfa", "{product: acme, service: signin}", "s: {Status|contains: MFA denied}"},
		{"target", "{product: acme, service: signin}", "s: {Target: t2}"},
		{"modified", "{product: acme, service: signin}", "s: {Modified|contains: State\":0}"},
		{"param-name", "{product: acme, service: signin}", "s: {Parameters|contains: ForwardTo}"},
		{"param-value", "{product: acme, service: signin}", "s: {Parameters|endswith: '@evil.example'}"},
		{"prefix", "{product: acme, service: signin}", "s: {action: Add, cfgpath: user.local}"},
		{"explicit-wins", "{product: acme, service: signin}", "s: {user: bob}"},
		{"firewall", "{category: firewall}", "s: {action: accept}"},
	} {
		src := "title: " + r.id + "\nid: " + r.id + "\nlogsource: " + r.logsource + "\ndetection:\n  " + r.detection + "\n  condition: s\n"
		rs, err := sigma.Parse(r.id+".yml", []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", r.id, err)
		}
		rules = append(rules, rs...)
	}
	opts.Mapping = m
	e, err := Compile(rules, opts)
	if err != nil || len(e.Skipped()) != 0 {
		t.Fatalf("compile: %v %+v", err, e.Skipped())
	}
	return e
}

func TestLogSourceRenames(t *testing.T) {
	tests := []struct {
		name   string
		fields string // name=value lines
		want   []string
	}{
		{"outcome", "event.dataset=acme.signin\nevent.outcome=success", []string{"status-success"}},
		{"message", "event.dataset=acme.signin\nevent.outcome=failure\nmessage=Authentication failed (MFA denied; user declined)", []string{"status-mfa"}},
		{"own field wins", "event.dataset=acme.signin\nStatus=failure\nevent.outcome=success", nil},
		{"star segment", "event.dataset=acme.signin\ntargets.0.id=t1\ntargets.1.id=t2", []string{"target"}},
		{"two star segments", "event.dataset=acme.signin\ntargets.1.changes.3.new={\"State\":0}\ntargets.1.changes.3.old=x", []string{"modified"}},
		{"star segment, other depth", "event.dataset=acme.signin\ntargets.id=t2\ntargets.0.x.id=t2", nil},
		{"last star gives keys", "event.dataset=acme.signin\nparams.ForwardTo=x@evil.example", []string{"param-name", "param-value"}},
		{"prefix", "event.dataset=acme.signin\nacme.log.action=Add\nacme.log.cfgpath=user.local", []string{"prefix"}},
		{"explicit rename over prefix", "event.dataset=acme.signin\nacme.log.user=eve\nuser.name=bob", []string{"explicit-wins"}},
		// One event in both log sources: each sees its own rename of action.
		{"renames per log source", "event.dataset=acme.signin\nobserver.type=firewall\nevent.action=accept\nacme.log.action=Add\nacme.log.cfgpath=user.local",
			[]string{"firewall", "prefix"}},
		{"outside the log source", "event.dataset=other\nevent.outcome=success\nacme.log.action=Add\nacme.log.cfgpath=user.local", nil},
	}
	for _, naive := range []bool{false, true} {
		e := renameEngine(t, Options{Naive: naive})
		for _, tt := range tests {
			var fields []event.Field
			for _, l := range strings.Split(tt.fields, "\n") {
				name, value, _ := strings.Cut(l, "=")
				fields = append(fields, event.Field{Name: name, Value: value})
			}
			var got []string
			e.EvaluateFields(nil, fields, func(m Match) { got = append(got, m.RuleID) })
			sort.Strings(got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("naive=%v %s (-want +got):\n%s", naive, tt.name, diff)
			}
		}
	}
}

func TestLogSourceRenameMatchFields(t *testing.T) {
	e := renameEngine(t, Options{})
	fields := []event.Field{{Name: "event.dataset", Value: "acme.signin"}, {Name: "targets.0.id", Value: "t1"}, {Name: "targets.1.id", Value: "t2"}}
	var got []Field
	e.EvaluateFields(nil, fields, func(m Match) { got = append(got, m.Fields...) })
	if want := []Field{{"Target", "t1"}, {"Target", "t2"}}; !slices.Equal(got, want) {
		t.Errorf("match fields %v, want %v", got, want)
	}
}

func TestRenameErrors(t *testing.T) {
	for _, doc := range []string{
		`logsources: [{product: x, when: [{a: b, rename: {"*": acme.log}}]}]`,
		`logsources: [{product: x, when: [{a: b, rename: {"*": [a.*, b.*]}}]}]`,
		`logsources: [{product: x, when: [{a: b, rename: {F: []}}]}]`,
		`logsources: [{product: x, when: [{a: b, rename: {F: {g: h}}}]}]`,
		`logsources: [{product: x, when: [{a: b, rename: [F]}]}]`,
	} {
		if _, err := ParseMapping([]byte(doc)); !errors.Is(err, ErrMapping) {
			t.Errorf("%s: err %v, want ErrMapping", doc, err)
		}
	}
}
