package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
)

func TestParseCommand(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"mixed.log": "<134>Nov 25 10:00:00 fw01 sshd[12]: session opened\n\n" +
			`{"user":{"name":"alice"},"source":{"port":"443"},"event":{"category":"[\"network\"]"},"vendor":{"x":"1"}}` + "\n",
		"pretty.json": "{\"events\": [\n  {\"a\": 1},\n  {\"a\": 2}\n]}\n",
		"events.xml": "<?xml version=\"1.0\"?>\n<Events>\n<Event xmlns='x'><System><EventID>1</EventID></System></Event>\n" +
			"<Event xmlns='x'>\n<System><EventID>2</EventID></System>\n</Event>\n</Events>\n",
	})
	var c cmdEnv
	code, out, errOut := c.run(t, "", "parse", filepath.Join(dir, "mixed.log"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// Every event carries its record's event.hash, as the server stores it.
	hash := event.Hash([]byte("<134>Nov 25 10:00:00 fw01 sshd[12]: session opened"))
	for _, want := range []string{
		"mixed.log:1 type", "mixed.log:3 type", `message = "session opened"`, `log.syslog.hostname = "fw01"`, `event.hash = "` + hash + `"`,
		"native: (1 field)\n  vendor.x = \"1\"", `user.name = "alice"`, "raw:\n  <134>Nov 25 10:00:00 fw01 sshd[12]: session opened",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	code, out, errOut = c.run(t, "", "parse", "--json", filepath.Join(dir, "mixed.log"), filepath.Join(dir, "pretty.json"))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 4 {
		t.Fatalf("exit %d, %d documents (want 4): %s %s", code, len(lines), out, errOut)
	}
	var doc struct {
		User   struct{ Name string }
		Source struct{ Port int }
		Event  struct {
			Category []string
			Original string
		}
		A string // not an ECS number: text, as every field
	}
	if err := json.Unmarshal([]byte(lines[1]), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.User.Name != "alice" || doc.Source.Port != 443 || len(doc.Event.Category) != 1 || doc.Event.Category[0] != "network" || doc.Event.Original == "" {
		t.Errorf("JSON document %s decoded as %+v", lines[1], doc)
	}
	if err := json.Unmarshal([]byte(lines[3]), &doc); err != nil || doc.A != "2" {
		t.Errorf("second element of the events array: %s", lines[3])
	}

	// XML events are records whatever their lines.
	_, out, _ = c.run(t, "", "parse", filepath.Join(dir, "events.xml"))
	if strings.Count(out, "--- ") != 2 || !strings.Contains(out, "events.xml:3 ") || !strings.Contains(out, "events.xml:4 ") {
		t.Errorf("XML records:\n%s", out)
	}

	// A declared type the records are not: dead letters, exit 1.
	code, _, errOut = c.run(t, "", "parse", "--type", "json", filepath.Join(dir, "mixed.log"))
	if code != 1 || !strings.Contains(errOut, "mixed.log:1: dead letter: json:") || !strings.Contains(errOut, "1 of 2 records would be dead-lettered") {
		t.Errorf("exit %d, stderr %s", code, errOut)
	}
	code, _, errOut = c.run(t, "", "parse", "--type", "nope", filepath.Join(dir, "mixed.log"))
	if code != 2 || !strings.Contains(errOut, `unknown type "nope"`) {
		t.Errorf("unknown type: exit %d, stderr %s", code, errOut)
	}
	code, out, _ = c.run(t, "", "parse", "--list")
	if code != 0 || !strings.Contains(out, "json ") {
		t.Errorf("--list: %d %s", code, out)
	}
	// Standard input when no file is given.
	code, out, _ = c.run(t, `{"k":"v"}`, "parse", "--json")
	if code != 0 || !strings.Contains(out, `"k":"v"`) {
		t.Errorf("stdin: %d %s", code, out)
	}
}
