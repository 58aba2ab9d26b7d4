package incident

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/tenant"
)

func TestParseTLP(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want TLP
		ok   bool
	}{
		{"", TLPAmber, true},
		{"clear", TLPClear, true},
		{"TLP:GREEN", TLPGreen, true},
		{" amber ", TLPAmber, true},
		{"tlp:amber+strict", TLPAmberStrict, true},
		{"RED", TLPRed, true},
		{"WHITE", "", false}, // TLP 1.0's label, gone in 2.0
		{"amber strict", "", false},
	} {
		got, err := ParseTLP(tt.in)
		if got != tt.want || (err == nil) != tt.ok || err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseTLP(%q) = %q, %v", tt.in, got, err)
		}
	}
}

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func TestApply(t *testing.T) {
	open := Case{ID: 5, Status: StatusOpen}
	working := Case{ID: 5, Status: StatusInProgress, Assignee: "alice"}
	escalated := Case{ID: 5, Status: StatusInProgress, Assignee: "alice", Escalated: t0}
	acked := escalated
	acked.AcknowledgedByMember = t0
	closed := Case{ID: 5, Status: StatusClosed, Assignee: "alice", Closed: t0, Classification: alert.TruePositive, Summary: "done"}
	closedUnassigned := Case{ID: 5, Status: StatusClosed, Closed: t0, Classification: alert.Duplicate, Summary: "dup"}
	closedEscalated := closed
	closedEscalated.Escalated = t0
	now := t0.Add(time.Hour)
	tests := []struct {
		name string
		c    Case
		act  Action
		err  error
		want func(c Case) bool
		msg  string // in the error
	}{
		{"assign open", open, Action{Verb: VerbAssign, Assignee: "bob"}, nil, func(c Case) bool { return c.Status == StatusInProgress && c.Assignee == "bob" }, ""},
		{"reassign", working, Action{Verb: VerbAssign, Assignee: "bob"}, nil, func(c Case) bool { return c.Status == StatusInProgress && c.Assignee == "bob" }, ""},
		{"assign nobody", open, Action{Verb: VerbAssign, Assignee: " "}, ErrInvalid, nil, "assignee is required"},
		{"assign closed", closed, Action{Verb: VerbAssign, Assignee: "bob"}, ErrTransition, nil, "case 5 is closed; reopen it before assigning it"},
		{"escalate open", open, Action{Verb: VerbEscalate}, nil, func(c Case) bool { return c.Escalated.Equal(now) && c.Status == StatusOpen }, ""},
		{"escalate working", working, Action{Verb: VerbEscalate}, nil, func(c Case) bool { return c.Escalated.Equal(now) && c.Status == StatusInProgress }, ""},
		{"escalate twice", escalated, Action{Verb: VerbEscalate}, ErrTransition, nil, "already escalated"},
		{"escalate closed", closed, Action{Verb: VerbEscalate}, ErrTransition, nil, "reopen it before escalating it"},
		{"acknowledge", escalated, Action{Verb: VerbAcknowledge}, nil, func(c Case) bool { return c.AcknowledgedByMember.Equal(now) && c.AcknowledgedBy == "tok-m" }, ""},
		{"acknowledge closed escalation", closedEscalated, Action{Verb: VerbAcknowledge}, nil, func(c Case) bool { return c.AcknowledgedByMember.Equal(now) && c.Status == StatusClosed }, ""},
		{"acknowledge unescalated", working, Action{Verb: VerbAcknowledge}, ErrTransition, nil, "case 5 is not escalated"},
		{"acknowledge twice", acked, Action{Verb: VerbAcknowledge}, ErrTransition, nil, "already acknowledged"},
		{"close open", open, Action{Verb: VerbClose, Classification: alert.FalsePositive, Summary: " backup job "}, nil, func(c Case) bool {
			return c.Status == StatusClosed && c.Closed.Equal(now) && c.Classification == alert.FalsePositive && c.Summary == "backup job"
		}, ""},
		{"close escalated", escalated, Action{Verb: VerbClose, Classification: alert.BenignPositive, Summary: "pen test"}, nil, func(c Case) bool { return c.Status == StatusClosed && !c.Escalated.IsZero() }, ""},
		{"close closed", closed, Action{Verb: VerbClose, Classification: alert.TruePositive, Summary: "x"}, ErrTransition, nil, "case 5 is already closed; reopen it first"},
		{"close unclassified", working, Action{Verb: VerbClose, Summary: "x"}, ErrInvalid, nil, "classification \"\": want one of true-positive"},
		{"close badly classified", working, Action{Verb: VerbClose, Classification: "maybe", Summary: "x"}, ErrInvalid, nil, "classification \"maybe\""},
		{"close without summary", working, Action{Verb: VerbClose, Classification: alert.TruePositive}, ErrInvalid, nil, "summary is required"},
		{"reopen assigned", closed, Action{Verb: VerbReopen}, nil, func(c Case) bool {
			return c.Status == StatusInProgress && c.Closed.IsZero() && c.Classification == "" && c.Summary == ""
		}, ""},
		{"reopen unassigned", closedUnassigned, Action{Verb: VerbReopen}, nil, func(c Case) bool { return c.Status == StatusOpen }, ""},
		{"reopen open", open, Action{Verb: VerbReopen}, ErrTransition, nil, "case 5 is open; only a closed case is reopened"},
		{"reopen working", working, Action{Verb: VerbReopen}, ErrTransition, nil, "is in-progress"},
		{"unknown verb", open, Action{Verb: "delete"}, ErrInvalid, nil, "action \"delete\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			e, err := Apply(&c, tt.act, "tok-m", now)
			if !errors.Is(err, tt.err) || tt.err == nil && err != nil {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("message %q lacks %q", err, tt.msg)
				}
				if c.Status != tt.c.Status || !c.Updated.Equal(tt.c.Updated) || c.Assignee != tt.c.Assignee || c.Escalated != tt.c.Escalated {
					t.Errorf("a refused change changed the case: %+v", c)
				}
				return
			}
			if !tt.want(c) {
				t.Errorf("after: %+v", c)
			}
			if !c.Updated.Equal(now) || e.Kind != KindState || e.Author != "tok-m" || !e.Time.Equal(now) || e.Data["verb"] != tt.act.Verb || e.Text == "" {
				t.Errorf("entry %+v, updated %v", e, c.Updated)
			}
		})
	}
}

func TestApplyPatch(t *testing.T) {
	c := Case{ID: 3, Title: "Old", Severity: "low", TLP: TLPAmber, Status: StatusOpen}
	str := func(s string) *string { return &s }
	e, err := applyPatch(&c, Patch{Title: str(" New "), Severity: str("high"), TLP: str("tlp:red")}, "tok", t0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Title != "New" || c.Severity != "high" || c.TLP != TLPRed || !c.Updated.Equal(t0) {
		t.Errorf("patched: %+v", c)
	}
	if e.Text != "changed title New, severity high, tlp RED" || e.Data["tlp"] != "RED" {
		t.Errorf("entry %+v", e)
	}
	for _, tt := range []struct {
		p   Patch
		msg string
	}{
		{Patch{}, "nothing to change"},
		{Patch{Title: str("New")}, "nothing to change"},
		{Patch{Title: str("")}, "title is required"},
		{Patch{Severity: str("severe")}, "severity \"severe\""},
		{Patch{Severity: str("")}, "severity: want one of"},
		{Patch{TLP: str("white")}, "TLP \"white\""},
		{Patch{Title: str(strings.Repeat("x", maxTitle+1))}, "title is over 500 bytes"},
	} {
		x := c
		if _, err := applyPatch(&x, tt.p, "tok", t0); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%+v: err = %v, want %q", tt.p, err, tt.msg)
		}
	}
	closed := Case{ID: 3, Title: "Old", Status: StatusClosed}
	if _, err := applyPatch(&closed, Patch{Title: str("New")}, "tok", t0); !errors.Is(err, ErrTransition) {
		t.Errorf("patching a closed case: %v", err)
	}
}

func TestAccess(t *testing.T) {
	c := Case{ID: 9, Tenant: "council-a"}
	esc := c
	esc.Escalated = t0
	p := func(role auth.Role, ten string) auth.Principal {
		return auth.Principal{TokenID: "tok", Role: role, Tenant: tenant.ID("council-" + ten)}
	}
	provider := auth.Principal{Role: auth.RoleProviderAnalyst}
	padmin := auth.Principal{Role: auth.RoleProviderAdmin}
	// verdict per verb: "ok", "404" (as if it did not exist), "403".
	type row struct {
		who                          auth.Principal
		c                            Case
		read, comment, ack, escalate string
	}
	for _, r := range []row{
		{provider, c, "ok", "ok", "403", "ok"},
		{padmin, esc, "ok", "ok", "403", "ok"},
		{p(auth.RoleTenantAnalyst, "a"), c, "404", "404", "404", "404"},
		{p(auth.RoleTenantAdmin, "a"), c, "404", "404", "404", "404"},
		{p(auth.RoleTenantViewer, "a"), c, "404", "404", "404", "404"},
		{p(auth.RoleTenantAnalyst, "a"), esc, "ok", "ok", "ok", "403"},
		{p(auth.RoleTenantAdmin, "a"), esc, "ok", "ok", "ok", "403"},
		{p(auth.RoleTenantViewer, "a"), esc, "ok", "403", "403", "403"},
		{p(auth.RoleTenantAnalyst, "b"), esc, "404", "404", "404", "404"},
		{p(auth.RoleTenantAdmin, "b"), esc, "404", "404", "404", "404"},
		{p(auth.RoleIngest, "a"), esc, "404", "404", "404", "404"},
		{auth.Principal{Role: auth.RoleTenantAnalyst}, esc, "404", "404", "404", "404"}, // no tenant
	} {
		for verb, want := range map[string]string{VerbRead: r.read, VerbComment: r.comment, VerbAcknowledge: r.ack, VerbEscalate: r.escalate} {
			err := r.c.Allows(r.who, verb)
			got := "ok"
			switch {
			case errors.Is(err, ErrNotFound):
				got = "404"
				if err.Error() != "not found: case 9" {
					t.Errorf("not-found message %q gives something away", err)
				}
			case errors.Is(err, auth.ErrForbidden):
				got = "403"
			case err != nil:
				got = err.Error()
			}
			if got != want {
				t.Errorf("%s of %s, escalated %v, %s: %s, want %s", r.who.Role, r.who.Tenant, !r.c.Escalated.IsZero(), verb, got, want)
			}
			if vis := r.c.VisibleTo(r.who); vis != (r.read == "ok") {
				t.Errorf("%s of %s: VisibleTo = %v", r.who.Role, r.who.Tenant, vis)
			}
		}
	}
	// Every provider-only verb is refused to members.
	member := p(auth.RoleTenantAdmin, "a")
	for _, verb := range []string{VerbTask, VerbObservable, VerbEvidence, VerbAlerts, VerbEvent, VerbUpdate, VerbAssign, VerbEscalate, VerbClose, VerbReopen} {
		if err := esc.Allows(member, verb); !errors.Is(err, auth.ErrForbidden) {
			t.Errorf("member %s: %v", verb, err)
		}
	}
	if !CanCreate(provider) || CanCreate(member) || CanList(auth.Principal{Role: auth.RoleIngest, Tenant: "council-a"}) || !CanList(member) {
		t.Error("CanCreate/CanList")
	}
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		"mail.eml":                  "mail.eml",
		"../../etc/passwd":          "passwd",
		`C:\Users\x\dump.bin`:       "dump.bin",
		"":                          "evidence",
		"..":                        "evidence",
		"a\x00b\nc.txt":             "abc.txt",
		strings.Repeat("é", 200):    strings.Repeat("é", 127),
		"  <script>.html  ":         "<script>.html",
		"dir/":                      "evidence",
		"résumé – final (2).pdf":    "résumé – final (2).pdf",
		"\u202ereversed\u202c.docx": "\u202ereversed\u202c.docx",
	} {
		if got := cleanName(in); got != want {
			t.Errorf("cleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidSHA256(t *testing.T) {
	good := strings.Repeat("ab", 32)
	for s, want := range map[string]bool{
		good:                              true,
		strings.ToUpper(good):             false,
		good[:63]:                         false,
		good + "0":                        false,
		"../" + good[3:]:                  false,
		strings.Repeat("g", 64):           false,
		"0000000000000000000000000000000": false,
	} {
		if ValidSHA256(s) != want {
			t.Errorf("ValidSHA256(%q) = %v", s, !want)
		}
	}
}

func TestCleanObservable(t *testing.T) {
	o, err := cleanObservable(Observable{Type: " Source.IP ", Value: " 203.0.113.9 "})
	if err != nil || o.Type != "source.ip" || o.Value != "203.0.113.9" {
		t.Errorf("got %+v, %v", o, err)
	}
	for _, bad := range []Observable{{Type: "", Value: "x"}, {Type: "ip", Value: " "}, {Type: "ip addr", Value: "x"}, {Type: "9ip", Value: "x"}, {Type: "ip", Value: strings.Repeat("x", maxValue+1)}} {
		if _, err := cleanObservable(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil || DefaultConfig().MaxEvidenceBytes != 25<<20 {
		t.Errorf("defaults: %+v, %v", DefaultConfig(), err)
	}
	if err := (Config{}).Validate(); err == nil || !strings.Contains(err.Error(), "max_evidence_bytes") {
		t.Errorf("zero limit: %v", err)
	}
}
