package advisory

import (
	"errors"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/tenant"
)

func valid() Advisory {
	return Advisory{TitleEN: "Phishing", TitleCY: "Gwe-rwydo", SummaryEN: "s", SummaryCY: "c", TLP: intel.TLPAmber}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*Advisory)
		bad  string // "" valid; else a word of the error
	}{
		{"valid", func(*Advisory) {}, ""},
		{"with actions and audience", func(a *Advisory) { a.ActionsEN, a.ActionsCY, a.Audience = "x", "y", []tenant.ID{"gwynedd"} }, ""},
		{"no english title", func(a *Advisory) { a.TitleEN = " " }, "title_en"},
		{"no welsh summary", func(a *Advisory) { a.SummaryCY = "" }, "summary_cy"},
		{"actions in one language", func(a *Advisory) { a.ActionsEN = "block" }, "actions"},
		{"long title", func(a *Advisory) { a.TitleEN = strings.Repeat("x", maxTitle+1) }, "title_en"},
		{"no tlp", func(a *Advisory) { a.TLP = "" }, "tlp"},
		{"bad tlp", func(a *Advisory) { a.TLP = "purple" }, "tlp"},
		{"red to all", func(a *Advisory) { a.TLP = intel.TLPRed }, "audience"},
		{"amber+strict to all", func(a *Advisory) { a.TLP = intel.TLPAmberStrict }, "audience"},
		{"red to named", func(a *Advisory) { a.TLP, a.Audience = intel.TLPRed, []tenant.ID{"gwynedd"} }, ""},
		{"empty audience", func(a *Advisory) { a.Audience = []tenant.ID{} }, "audience"},
		{"bad member", func(a *Advisory) { a.Audience = []tenant.ID{"Bad_ID"} }, "audience"},
		{"member twice", func(a *Advisory) { a.Audience = []tenant.ID{"gwynedd", "gwynedd"} }, "twice"},
		{"empty indicator", func(a *Advisory) { a.Indicators = []string{""} }, "indicators"},
		{"indicator twice", func(a *Advisory) { a.Indicators = []string{"i", "i"} }, "twice"},
	} {
		a := valid()
		c.edit(&a)
		err := a.Validate()
		switch {
		case c.bad == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.bad != "" && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.bad)):
			t.Errorf("%s: %v, want ErrInvalid naming %s", c.name, err, c.bad)
		}
	}
}

// TestAddressedTo: the rule of intel.Indicator.AppliesTo, for every TLP
// and audience.
func TestAddressedTo(t *testing.T) {
	for _, tlp := range []intel.TLP{intel.TLPClear, intel.TLPGreen, intel.TLPAmber, intel.TLPAmberStrict, intel.TLPRed} {
		for _, audience := range [][]tenant.ID{nil, {"gwynedd"}, {"gwynedd", "conwy"}} {
			a := Advisory{TLP: tlp, Audience: audience}
			i := intel.Indicator{TLP: tlp, Audience: audience}
			for _, m := range []tenant.ID{"gwynedd", "conwy", "powys"} {
				if got, want := a.AddressedTo(m), i.AppliesTo(m); got != want {
					t.Errorf("%s to %v: AddressedTo(%s) = %v, the indicator rule %v", tlp, audience, m, got, want)
				}
				if a.VisibleTo(m) != a.AddressedTo(m) {
					t.Errorf("VisibleTo(%s) differs from AddressedTo", m)
				}
			}
			if a.AddressedTo("") || !a.VisibleTo("") {
				t.Errorf("%s to %v: the provider is no recipient but reads it", tlp, audience)
			}
		}
	}
	a := Advisory{TLP: intel.TLPAmber, Audience: []tenant.ID{"gwynedd", "conwy"}}
	if got := a.ForMember("conwy").Audience; len(got) != 1 || got[0] != "conwy" || len(a.Audience) != 2 {
		t.Errorf("ForMember: %v (original %v)", got, a.Audience)
	}
	if got := (Advisory{TLP: intel.TLPAmber}).ForMember("conwy").Audience; got != nil {
		t.Errorf("ForMember of an advisory to all: %v", got)
	}
}

func TestCheckIndicator(t *testing.T) {
	members := []tenant.ID{"gwynedd", "conwy"}
	for _, c := range []struct {
		name string
		a    Advisory
		i    intel.Indicator
		ok   bool
	}{
		{"shared with all", Advisory{TLP: intel.TLPAmber}, intel.Indicator{TLP: intel.TLPGreen}, true},
		{"looser advisory", Advisory{TLP: intel.TLPGreen}, intel.Indicator{TLP: intel.TLPAmber}, false},
		{"revoked", Advisory{TLP: intel.TLPAmber}, intel.Indicator{TLP: intel.TLPGreen, Revoked: true}, false},
		{"member's own to all", Advisory{TLP: intel.TLPAmber}, intel.Indicator{TLP: intel.TLPAmber, Owner: "gwynedd"}, false},
		{"member's own to it", Advisory{TLP: intel.TLPAmber, Audience: []tenant.ID{"gwynedd"}}, intel.Indicator{TLP: intel.TLPAmber, Owner: "gwynedd"}, true},
		{"named indicator to all", Advisory{TLP: intel.TLPAmber}, intel.Indicator{TLP: intel.TLPAmber, Audience: []tenant.ID{"gwynedd", "conwy"}}, false},
		{"named indicator to a named one", Advisory{TLP: intel.TLPRed, Audience: []tenant.ID{"conwy"}}, intel.Indicator{TLP: intel.TLPRed, Audience: []tenant.ID{"gwynedd", "conwy"}}, true},
		{"named indicator to another", Advisory{TLP: intel.TLPRed, Audience: []tenant.ID{"powys"}}, intel.Indicator{TLP: intel.TLPRed, Audience: []tenant.ID{"gwynedd"}}, false},
	} {
		err := c.a.CheckIndicator(c.i, c.a.Recipients(append(members, "powys")))
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("%s: %v, want ok %v", c.name, err, c.ok)
		}
	}
}
