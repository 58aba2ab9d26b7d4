package incident_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/incident"
)

// TestCreateFromTemplate: a case opened with a template (named in any
// case) starts with its tasks, open, in order, and says so on its
// timeline; the tasks stay once stored; an unknown template is refused.
func TestCreateFromTemplate(t *testing.T) {
	cfg := incident.DefaultConfig()
	cfg.Templates = []incident.Template{{Name: "Phishing", Tasks: []string{"Purge the message", " Block the sender "}}}
	f := newFixture(t, cfg)
	c := f.create(t, incident.Draft{Title: "Invoice phishing", Template: "PHISHING"})
	var got []string
	for _, tk := range c.Tasks {
		if tk.Done || tk.ID == 0 || tk.Author != provider.TokenID {
			t.Errorf("task %+v: want stored, open, by the case's author", tk)
		}
		got = append(got, tk.Title)
	}
	if strings.Join(got, "|") != "Purge the message|Block the sender" {
		t.Errorf("tasks %q, want the template's in order", got)
	}
	last := c.Timeline[len(c.Timeline)-1]
	if last.Kind != incident.KindTask || last.Text != "template Phishing: 2 tasks" || last.Data["template"] != "Phishing" || last.Data["tasks"] != "2" {
		t.Errorf("timeline entry %+v", last)
	}
	again, err := f.svc.Case(context.Background(), provider, "council-a", c.ID)
	if err != nil || len(again.Tasks) != 2 {
		t.Errorf("the case read back: %d tasks, %v", len(again.Tasks), err)
	}
	if _, err := f.svc.Create(context.Background(), provider, "council-a", incident.Draft{Title: "x", Template: "Smishing"}); !errors.Is(err, incident.ErrInvalid) || !strings.Contains(err.Error(), `no such case template "Smishing"`) {
		t.Errorf("an unknown template: %v", err)
	}
}

// TestTemplatesChecked: the defaults are valid; a bad template is a
// configuration error naming it.
func TestTemplatesChecked(t *testing.T) {
	if err := incident.DefaultConfig().Validate(); err != nil {
		t.Fatalf("the default templates: %v", err)
	}
	for want, ts := range map[string][]incident.Template{
		"templates[0]: a name is required":                   {{Name: " ", Tasks: []string{"a"}}},
		`templates[1]: "phishing": the name is used twice`:   {{Name: "Phishing", Tasks: []string{"a"}}, {Name: "phishing", Tasks: []string{"b"}}},
		`templates[0]: "Empty": want 1 to 50 tasks`:          {{Name: "Empty"}},
		`templates[0]: "Blank": task 2: want 1 to 500 bytes`: {{Name: "Blank", Tasks: []string{"a", "  "}}},
	} {
		cfg := incident.DefaultConfig()
		cfg.Templates = ts
		if err := cfg.Validate(); err == nil || err.Error() != want {
			t.Errorf("%v: %v, want %q", ts, err, want)
		}
	}
}
