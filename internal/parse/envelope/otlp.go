package envelope

import (
	"net/netip"
	"strings"

	"github.com/tarian-soc/tarian/internal/event"
)

// Where an OTLP record (internal/ingest/otlp), flattened, keeps what the
// shipper sent: the record's attributes, a structured body, the resource's
// attributes.
const (
	otlpAttributes = "attributes."
	otlpBody       = "body."
	otlpResource   = "resource.attributes."
)

// OTLP moves the fields of a flattened OTLP record to their Elastic Common
// Schema names, so that an OpenTelemetry event is searched and correlated
// like any other (user.name, source.ip, host.name):
//
//   - a key of the record's attributes, of a structured body or of the
//     resource's attributes that is an ECS name (under an ECS field set such
//     as user.*, source.*, process.*, url.*, or message, tags, labels.*)
//     takes that name: attributes.user.name becomes user.name;
//   - an OpenTelemetry semantic-convention name with an ECS counterpart takes
//     the ECS name (see otelECS): enduser.id becomes user.name, client.address
//     source.ip (or source.domain when it is not an IP address), host.arch
//     host.architecture, exception.message error.message;
//   - the record's own fields come first, then its attributes, the body, and
//     the resource's attributes last; a name already taken keeps its value,
//     and the later field keeps its OTLP name unless it holds the same value
//     (then it goes: each value is stored once). The receiver's copies of
//     resource attributes (service.name, host.name, ...) are therefore stored
//     once, under the ECS name.
//
// Names the pipeline owns (@timestamp, event.original, event.hash,
// event.ingested, tarian.*) are never taken. Other keys keep their OTLP
// names (attributes.*, body.*, resource.attributes.*, scope.*).
func OTLP(ev *event.Event) {
	fs := ev.Fields
	top := make(map[string]int, len(fs))
	for i, f := range fs {
		if !otlpMapped(f.Name) {
			top[f.Name] = i
		}
	}
	drop := make([]bool, len(fs))
	// The receiver copies some resource attributes to their ECS names; those
	// copies go, and the attributes are lifted below in their turn, after
	// the record's own.
	for _, f := range fs {
		if k, ok := strings.CutPrefix(f.Name, otlpResource); ok {
			if to := otlpName(k, f.Value); to != "" {
				if j, ok := top[to]; ok && fs[j].Value == f.Value {
					drop[j] = true
					delete(top, to)
				}
			}
		}
	}
	for _, prefix := range []string{otlpAttributes, otlpBody, otlpResource} {
		// ECS names first, so that user.name wins over enduser.id.
		for _, named := range []func(k, v string) string{ecsName, otelName} {
			for i := range fs {
				if drop[i] {
					continue
				}
				k, ok := strings.CutPrefix(fs[i].Name, prefix)
				if !ok {
					continue
				}
				to := named(k, fs[i].Value)
				if to == "" {
					continue
				}
				if j, ok := top[to]; ok {
					if fs[j].Value == fs[i].Value {
						drop[i] = true
					}
					continue
				}
				fs[i].Name = to
				top[to] = i
			}
		}
	}
	kept := fs[:0]
	for i, f := range fs {
		if !drop[i] {
			kept = append(kept, f)
		}
	}
	ev.Fields = kept
}

// otlpMapped reports whether name is in one of the OTLP maps.
func otlpMapped(name string) bool {
	return strings.HasPrefix(name, otlpAttributes) || strings.HasPrefix(name, otlpBody) ||
		strings.HasPrefix(name, otlpResource) || strings.HasPrefix(name, "scope.")
}

// ecsFieldSets are the Elastic Common Schema field sets whose fields an
// OTLP key may name (ECS 8.17: the top-level field sets).
var ecsFieldSets = map[string]bool{
	"agent": true, "client": true, "cloud": true, "container": true, "data_stream": true, "destination": true,
	"device": true, "dll": true, "dns": true, "email": true, "error": true, "event": true, "faas": true,
	"file": true, "group": true, "host": true, "http": true, "log": true, "network": true, "observer": true,
	"orchestrator": true, "organization": true, "package": true, "process": true, "registry": true,
	"related": true, "rule": true, "server": true, "service": true, "source": true, "threat": true, "tls": true,
	"url": true, "user": true, "user_agent": true, "vulnerability": true, "labels": true,
}

// ownNames are fields the pipeline writes itself.
var ownNames = map[string]bool{
	event.FieldTimestamp: true, event.FieldOriginal: true, event.FieldIngested: true, "event.hash": true,
}

// otlpName returns the ECS name of the OTLP key k holding v, else "".
func otlpName(k, v string) string {
	if to := otelName(k, v); to != "" {
		return to
	}
	return ecsName(k, v)
}

// ecsName returns k when it is an ECS field name (and not an OpenTelemetry
// name otelName maps), else "".
func ecsName(k, _ string) string {
	if ownNames[k] || strings.HasPrefix(k, "tarian.") || otelECS[k] != "" || otelAddresses[k] != "" {
		return ""
	}
	switch k {
	case event.FieldMessage, "tags", "trace.id", "span.id", "transaction.id":
		return k
	}
	set, rest, ok := strings.Cut(k, ".")
	if !ok || rest == "" || !ecsFieldSets[set] {
		return ""
	}
	return k
}

// otelECS maps OpenTelemetry semantic-convention names (current and the
// older ones shippers still send) to their ECS counterparts. Addresses are
// in otelName.
var otelECS = map[string]string{
	"enduser.id":                  "user.name",
	"client.port":                 "source.port",
	"server.port":                 "destination.port",
	"http.method":                 "http.request.method",
	"http.status_code":            "http.response.status_code",
	"http.url":                    "url.full",
	"http.target":                 "url.original",
	"http.user_agent":             "user_agent.original",
	"http.request.body.size":      "http.request.body.bytes",
	"http.response.body.size":     "http.response.body.bytes",
	"exception.message":           "error.message",
	"exception.type":              "error.type",
	"exception.stacktrace":        "error.stack_trace",
	"code.function":               "log.origin.function",
	"code.function.name":          "log.origin.function",
	"code.filepath":               "log.origin.file.name",
	"code.file.path":              "log.origin.file.name",
	"code.lineno":                 "log.origin.file.line",
	"code.line.number":            "log.origin.file.line",
	"process.executable.path":     "process.executable",
	"process.executable.name":     "process.name",
	"process.owner":               "process.user.name",
	"process.parent_pid":          "process.parent.pid",
	"thread.id":                   "process.thread.id",
	"thread.name":                 "process.thread.name",
	"host.arch":                   "host.architecture",
	"os.type":                     "host.os.type",
	"os.name":                     "host.os.name",
	"os.version":                  "host.os.version",
	"os.description":              "host.os.full",
	"deployment.environment.name": "service.environment",
	"deployment.environment":      "service.environment",
	"service.instance.id":         "service.node.name",
	"cloud.platform":              "cloud.service.name",
	"k8s.namespace.name":          "orchestrator.namespace",
	"k8s.cluster.name":            "orchestrator.cluster.name",
	"network.protocol.name":       "network.protocol",
}

// otelAddresses are the semantic-convention addresses and the ECS field set
// they belong to: the client is the source of a connection, the server its
// destination. An address is an IP address or a domain name.
var otelAddresses = map[string]string{
	"client.address":      "source",
	"source.address":      "source",
	"server.address":      "destination",
	"destination.address": "destination",
}

// otelName returns the ECS name of the semantic-convention name k holding
// v, else "".
func otelName(k, v string) string {
	if set, ok := otelAddresses[k]; ok {
		if _, err := netip.ParseAddr(v); err == nil {
			return set + ".ip"
		}
		return set + ".domain"
	}
	return otelECS[k]
}
