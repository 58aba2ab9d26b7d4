package web

import (
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/incident"
)

// TestCaseHTMLLinkedAlertSubject: the export's linked alerts name their
// host and user or, for an alert with neither (password spraying from one
// address), its other entity; an alert with no entity renders too.
func TestCaseHTMLLinkedAlertSubject(t *testing.T) {
	linked := []AlertJSON{
		{ID: 1, Title: "whoami", Host: "pc-a", User: "bob", Entities: []alert.Entity{{Type: alert.EntityHost, Value: "pc-a"}, {Type: alert.EntityUser, Value: "bob"}}},
		{ID: 2, Title: "spray", Entities: []alert.Entity{{Type: alert.EntitySourceIP, Value: "203.0.113.77"}}},
		{ID: 3, Title: "bare", Entities: []alert.Entity{}},
	}
	page, err := caseHTML(incident.Case{ID: 7, Title: "c", Alerts: []int64{1, 2, 3}}, linked, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<td>pc-a / bob</td>", "<td>203.0.113.77</td>", "<td>bare</td>"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}
