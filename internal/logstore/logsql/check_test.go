package logsql

import "testing"

func TestCheck(t *testing.T) {
	for q, ok := range map[string]bool{
		"*": true, `process.command_line:"-enc"`: true, "event.code:4625 | stats by (user.name) count() as n": true,
		"event.code:(4625": false, "* | stats by (": false, "| sort": false,
	} {
		if err := Check(q); (err == nil) != ok {
			t.Errorf("Check(%q) = %v", q, err)
		}
	}
}
