package demo

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestEventsAreValidAndRepeatable(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	a := Events(Tenants[1], 500, now, 1)
	b := Events(Tenants[1], 500, now, 1)
	if len(a) != 505 { // 500, the macro's four PowerShell runs and the shadow-copy deletion
		t.Fatalf("got %d events", len(a))
	}
	spray := 0
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatal("same seed gave different events")
		}
		var m map[string]any
		if err := json.Unmarshal(a[i], &m); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if _, ok := m["@timestamp"]; !ok {
			t.Fatalf("event %d has no @timestamp", i)
		}
		if bytes.Contains(a[i], []byte(SprayIP)) {
			spray++
		}
	}
	if spray == 0 || !bytes.Contains(a[500], []byte(" -enc ")) || !bytes.Contains(a[504], []byte("delete shadows")) {
		t.Errorf("campaign missing: %d spray events", spray)
	}
}

func TestRuleFiles(t *testing.T) {
	files := RuleFiles()
	if len(files) < 2 {
		t.Fatalf("%d demo rules", len(files))
	}
	for name, data := range files {
		if !bytes.Contains(data, []byte("author: Tarian demo")) {
			t.Errorf("%s does not name its author", name)
		}
	}
}
