package cli

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestIncidentEntities: an incident's line names its hosts and users; one
// with neither (password spraying from one address, a phishing sender
// seen only on the mail gateway's logs) names its other entities rather
// than "-".
func TestIncidentEntities(t *testing.T) {
	for _, c := range []struct {
		entities string
		want     []string
	}{
		{`[{"type":"host","value":"ws-1"},{"type":"source.ip","value":"203.0.113.7"},{"type":"user","value":"bo"}]`, []string{"ws-1", "bo"}},
		{`[{"type":"source.ip","value":"203.0.113.77"}]`, []string{"203.0.113.77"}},
		{`[{"type":"email.sender","value":"a@b.example"},{"type":"domain","value":"b.example"}]`, []string{"a@b.example", "b.example"}},
		{`[]`, nil},
	} {
		var es []any
		if err := json.Unmarshal([]byte(c.entities), &es); err != nil {
			t.Fatal(err)
		}
		if got := incidentEntities(es); !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", c.entities, got, c.want)
		}
	}
}
