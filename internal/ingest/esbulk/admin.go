package esbulk

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// The cluster Tarian poses as. The UUID is fixed: Beats report it in their
// monitoring only.
const (
	clusterName = "tarian"
	clusterUUID = "dGFyaWFuLXNvYy1pbmdlc3Q"
	nodeName    = "tarian-ingest"
)

// infoBody is the GET / reply for version v.
func infoBody(v string) []byte {
	return fmt.Appendf(nil, `{"name":%q,"cluster_name":%q,"cluster_uuid":%q,`+
		`"version":{"number":%q,"build_flavor":"default","build_type":"docker","build_hash":"0000000000000000000000000000000000000000",`+
		`"build_date":"2024-12-11T12:08:05.663969764Z","build_snapshot":false,"lucene_version":"9.12.0",`+
		`"minimum_wire_compatibility_version":"7.17.0","minimum_index_compatibility_version":"7.0.0"},`+
		`"tagline":"You Know, for Search"}`+"\n", nodeName, clusterName, clusterUUID, v)
}

// licenseBody is a basic, active licence without expiry: what Beats and
// Logstash look for before they use ILM and data streams.
const licenseBody = `{"license":{"status":"active","uid":"00000000-0000-4000-8000-7461726961ee","type":"basic",` +
	`"issue_date":"2024-01-01T00:00:00.000Z","issue_date_in_millis":1704067200000,"max_nodes":1000,` +
	`"max_resource_units":null,"issued_to":"tarian","issuer":"elasticsearch","start_date_in_millis":-1}}` + "\n"

const xpackBody = `{"build":{"hash":"0000000000000000000000000000000000000000","date":"2024-12-11T12:08:05.663969764Z"},` +
	`"license":{"uid":"00000000-0000-4000-8000-7461726961ee","type":"basic","mode":"basic","status":"active"},` +
	`"features":{"ilm":{"available":true,"enabled":true},"security":{"available":true,"enabled":true},` +
	`"data_streams":{"available":true,"enabled":true}},"tagline":"You know, for X"}` + "\n"

const healthBody = `{"cluster_name":"` + clusterName + `","status":"green","timed_out":false,"number_of_nodes":1,` +
	`"number_of_data_nodes":1,"active_primary_shards":0,"active_shards":0,"relocating_shards":0,"initializing_shards":0,` +
	`"unassigned_shards":0,"delayed_unassigned_shards":0,"number_of_pending_tasks":0,"number_of_in_flight_fetch":0,` +
	`"task_max_waiting_in_queue_millis":0,"active_shards_percent_as_number":100.0}` + "\n"

const nodesBody = `{"_nodes":{"total":1,"successful":1,"failed":0},"cluster_name":"` + clusterName + `","nodes":{}}` + "\n"

const authenticateBody = `{"username":"tarian-ingest","roles":["ingest"],"full_name":null,"email":null,"metadata":{},` +
	`"enabled":true,"authentication_realm":{"name":"tarian","type":"tarian"},"lookup_realm":{"name":"tarian","type":"tarian"},` +
	`"authentication_type":"token"}` + "\n"

const ackBody = `{"acknowledged":true}` + "\n"

// setupAPI says whether a top-level API is one whose calls are accepted
// and ignored: what shippers call to prepare a cluster. Anything carrying
// documents (_doc, _create, _update, …) is not, and is refused, never
// silently dropped.
func setupAPI(name string) bool {
	switch name {
	case "_index_template", "_template", "_component_template", "_ilm", "_ingest", "_data_stream",
		"_alias", "_aliases", "_cluster", "_nodes", "_xpack", "_license", "_security", "_cat":
		return true
	}
	return false
}

// indexAPI says whether an index-scoped API is a setup one, accepted and
// ignored.
func indexAPI(name string) bool {
	switch name {
	case "_mapping", "_mappings", "_settings", "_alias", "_aliases", "_refresh", "_rollover", "_flush":
		return true
	}
	return false
}

// admin answers everything but _bulk.
func (r *Receiver) admin(w http.ResponseWriter, req *http.Request, _ tenant.ID, segs []string) {
	m := req.Method
	get := m == http.MethodGet || m == http.MethodHead
	switch {
	case len(segs) == 0:
		if !get {
			r.methodNotAllowed(w, req, "GET, HEAD")
			return
		}
		writeBody(w, http.StatusOK, r.info)
		return
	case strings.HasPrefix(segs[0], "_") && setupAPI(segs[0]):
		if !get {
			writeBody(w, http.StatusOK, []byte(ackBody))
			return
		}
		writeBody(w, http.StatusOK, getSetup(segs, req))
		return
	case !strings.HasPrefix(segs[0], "_") && (len(segs) == 1 || indexAPI(segs[1])):
		// An index: create, check, read its settings, mappings or aliases.
		switch {
		case len(segs) == 1 && m == http.MethodPut:
			writeBody(w, http.StatusOK, fmt.Appendf(nil, `{"acknowledged":true,"shards_acknowledged":true,"index":%s}`+"\n", appendString(nil, segs[0])))
		case !get:
			writeBody(w, http.StatusOK, []byte(ackBody))
		default:
			b := appendString([]byte{'{'}, segs[0])
			b = append(b, `:{"aliases":{},"mappings":{},"settings":{}}}`+"\n"...)
			writeBody(w, http.StatusOK, b)
		}
		return
	}
	r.d.Log.Debug("no handler", "method", m, "path", req.URL.Path)
	writeError(w, http.StatusBadRequest, "illegal_argument_exception",
		"no handler found for uri ["+req.URL.Path+"] and method ["+m+"]; Tarian takes documents through _bulk only")
}

// getSetup is the reply to a GET of a setup API: something plausible that
// says "it exists", so shippers do not try to create it.
func getSetup(segs []string, req *http.Request) []byte {
	name := ""
	if len(segs) > 1 {
		name = segs[len(segs)-1]
	}
	q := func(s string) string { return string(appendString(nil, s)) }
	switch segs[0] {
	case "_license":
		return []byte(licenseBody)
	case "_xpack":
		if len(segs) > 1 {
			return []byte("{}\n")
		}
		return []byte(xpackBody)
	case "_cluster":
		if len(segs) > 1 && segs[1] == "health" {
			return []byte(healthBody)
		}
		if len(segs) > 1 && segs[1] == "settings" {
			return []byte(`{"persistent":{},"transient":{}}` + "\n")
		}
	case "_nodes":
		return []byte(nodesBody)
	case "_security":
		if name == "_authenticate" {
			return []byte(authenticateBody)
		}
	case "_cat":
		if req.URL.Query().Get("format") == "json" {
			return []byte("[]\n")
		}
		return nil
	case "_index_template":
		if name == "" {
			return []byte(`{"index_templates":[]}` + "\n")
		}
		return fmt.Appendf(nil, `{"index_templates":[{"name":%s,"index_template":{"index_patterns":[%s],"composed_of":[]}}]}`+"\n", q(name), q(name+"*"))
	case "_component_template":
		if name == "" {
			return []byte(`{"component_templates":[]}` + "\n")
		}
		return fmt.Appendf(nil, `{"component_templates":[{"name":%s,"component_template":{"template":{}}}]}`+"\n", q(name))
	case "_template":
		if name == "" {
			return []byte("{}\n")
		}
		return fmt.Appendf(nil, `{%s:{"order":0,"index_patterns":[%s],"settings":{},"mappings":{},"aliases":{}}}`+"\n", q(name), q(name+"*"))
	case "_ilm":
		if len(segs) > 1 && segs[1] == "status" {
			return []byte(`{"operation_mode":"RUNNING"}` + "\n")
		}
		if len(segs) > 2 && segs[1] == "policy" {
			return fmt.Appendf(nil, `{%s:{"version":1,"modified_date":"2024-01-01T00:00:00.000Z","policy":{"phases":{}}}}`+"\n", q(name))
		}
	case "_ingest":
		if len(segs) > 2 && segs[1] == "pipeline" {
			return fmt.Appendf(nil, `{%s:{"description":"accepted and ignored by Tarian","processors":[]}}`+"\n", q(name))
		}
	case "_data_stream":
		if name == "" {
			return []byte(`{"data_streams":[]}` + "\n")
		}
		return fmt.Appendf(nil, `{"data_streams":[{"name":%s,"timestamp_field":{"name":"@timestamp"},"indices":[],"generation":1,`+
			`"status":"GREEN","template":%s,"hidden":false,"system":false}]}`+"\n", q(name), q(name))
	}
	return []byte("{}\n")
}
