package parse_test

import (
	"testing"

	"github.com/tarian-soc/tarian/internal/parse"
)

// An OTLP record (as internal/ingest/otlp writes it) has its attributes at
// their ECS names after the parse stage; the same document from another
// receiver is plain JSON, flattened as it is.
func TestOTLPAttributesAtECSNames(t *testing.T) {
	const rec = `{"@timestamp":"2026-11-25T17:24:18.821Z","message":"login failed","log.level":"WARN",` +
		`"attributes":{"enduser.id":"alice","client.address":"203.0.113.45","url.full":"https://intranet.example/login"},` +
		`"service.name":"portal","host.name":"council-web01","resource.attributes":{"service.name":"portal","host.name":"council-web01"}}`
	evs, err := parseRecord(t, parse.Config{}, "cardiff", "otlp", rec)
	if err != nil || len(evs) != 1 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	ev := evs[0]
	for name, want := range map[string]string{
		"user.name": "alice", "source.ip": "203.0.113.45", "url.full": "https://intranet.example/login",
		"service.name": "portal", "host.name": "council-web01", "message": "login failed",
	} {
		if got := get(ev, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	for _, name := range []string{"attributes.enduser.id", "attributes.client.address", "attributes.url.full",
		"resource.attributes.service.name", "resource.attributes.host.name"} {
		if v, ok := ev.Get(name); ok {
			t.Errorf("%s = %q is still there", name, v)
		}
	}

	evs, err = parseRecord(t, parse.Config{}, "cardiff", "http", rec)
	if err != nil || len(evs) != 1 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	if got := get(evs[0], "attributes.enduser.id"); got != "alice" {
		t.Errorf("from http: attributes.enduser.id = %q, want it as sent", got)
	}
}
