package envelope

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/event"
)

// The records are as internal/ingest/otlp writes them (see its README).
func TestOTLP(t *testing.T) {
	recv := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{
			name: "attributes at ECS names; resource copies once",
			in: `{"@timestamp":"2026-11-25T17:24:18.821Z","message":"Failed password for alice","log.level":"ERROR","event.severity":17,` +
				`"attributes":{"source.ip":"203.0.113.45","enduser.id":"alice","client.address":"198.51.100.7","client.port":50123,` +
				`"http.route":"/login","exception.message":"bad password","custom":"v","user":{"roles":["admin"]}},` +
				`"service.name":"soc-test","host.name":"council-web01",` +
				`"resource.attributes":{"service.name":"soc-test","host.name":"council-web01","host.arch":"amd64","k8s.pod.name":"p-1"},"scope.name":"soc-test"}`,
			want: map[string]string{
				"@timestamp": "2026-11-25T17:24:18.821Z", "message": "Failed password for alice", "log.level": "ERROR", "event.severity": "17",
				// source.ip is an ECS name: it wins over client.address, which keeps its OTLP name.
				"source.ip": "203.0.113.45", "attributes.client.address": "198.51.100.7", "source.port": "50123",
				"user.name": "alice", "user.roles": `["admin"]`, "http.route": "/login", "error.message": "bad password",
				"attributes.custom": "v",
				"service.name":      "soc-test", "host.name": "council-web01", "host.architecture": "amd64",
				"resource.attributes.k8s.pod.name": "p-1", "scope.name": "soc-test",
			},
		},
		{
			name: "structured body",
			in:   `{"body":{"message":"user bob locked out","user":{"name":"bob"},"level":"info"},"attributes":{"server.address":"db.example.org","server.port":5432}}`,
			want: map[string]string{
				"message": "user bob locked out", "user.name": "bob", "body.level": "info",
				"destination.domain": "db.example.org", "destination.port": "5432",
			},
		},
		{
			name: "the record's attribute over the resource's",
			in: `{"message":"m","attributes":{"host.name":"web02","user.name":"carol"},"host.name":"collector",` +
				`"resource.attributes":{"host.name":"collector","user.name":"carol"}}`,
			want: map[string]string{
				"message": "m", "host.name": "web02", "resource.attributes.host.name": "collector", "user.name": "carol",
			},
		},
		{
			name: "the record's own fields and the pipeline's names stay",
			in: `{"message":"own","log.level":"WARN","attributes":{"message":"attr","log.level":"debug","event.original":"x","event.hash":"h",` +
				`"tarian.seq":"5","@timestamp":"2020-01-01T00:00:00Z","enduser.id":"dave","user.name":"erin"}}`,
			want: map[string]string{
				"message": "own", "log.level": "WARN", "attributes.message": "attr", "attributes.log.level": "debug",
				"attributes.event.original": "x", "attributes.event.hash": "h", "attributes.tarian.seq": "5",
				"attributes.@timestamp": "2020-01-01T00:00:00Z",
				// user.name is an ECS name: it wins over enduser.id.
				"user.name": "erin", "attributes.enduser.id": "dave",
			},
		},
		{
			name: "an IPv6 client",
			in:   `{"message":"x","attributes":{"client.address":"2001:db8::1","network.protocol.name":"http"}}`,
			want: map[string]string{"message": "x", "source.ip": "2001:db8::1", "network.protocol": "http"},
		},
	}
	var j JSON
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev event.Event
			if err := j.Parse(event.Raw{Received: recv, Source: "otlp", Data: []byte(tt.in)}, &ev); err != nil {
				t.Fatal(err)
			}
			OTLP(&ev)
			got := map[string]string{}
			for _, f := range ev.Fields {
				if _, dup := got[f.Name]; dup {
					t.Errorf("%s twice", f.Name)
				}
				got[f.Name] = f.Value
			}
			delete(got, event.FieldOriginal)
			delete(got, event.FieldIngested)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("fields (-want +got):\n%s", d)
			}
		})
	}
}
