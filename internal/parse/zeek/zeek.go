package zeek

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
	"github.com/tarian-soc/tarian/internal/parse/envelope"
	"github.com/tarian-soc/tarian/internal/parse/sniff"
)

// Type is the log-source type name used in configuration and `tarian parse --type`.
const Type = "zeek"

// ECSVersion is the Elastic Common Schema version of the fields written.
const ECSVersion = "8.17.0"

// ErrNotZeek is returned for a JSON object that is not a Zeek log record.
var ErrNotZeek = errors.New("not a Zeek log record: no ts with its log in _path, Zeek's connection keys (uid, id.orig_h), or an x509 or files record's keys")

// SniffJSON reports whether a JSON record is a Zeek log record: a time in
// ts and its log named in _path (the json-streaming-logs package,
// Corelight), Zeek's connection keys (uid and id.orig_h), or the keys of
// the two logs without a connection, x509 (certificate.serial) and files
// (fuid with seen_bytes).
func SniffJSON(j *sniff.JSON) bool {
	if !j.Has("ts") {
		return false
	}
	return j.Has("_path") || j.Has("uid") && j.Has("id.orig_h") || j.Has("certificate.serial") || j.Has("fuid") && j.Has("seen_bytes")
}

// Sniff reports whether a text payload (a syslog message, a file
// shipper's line sent as text) is such a record: a JSON object SniffJSON
// takes.
func Sniff(payload []byte) bool {
	return sniff.Text(payload, SniffJSON)
}

// Parser reads Zeek log records written as JSON (LogAscii::use_json). The
// zero value is ready; it keeps buffers between calls and is not safe for
// concurrent use.
type Parser struct {
	p    fastjson.Parser
	flat envelope.JSON
	set  []byte
	// vbuf holds the values copied from a record, which become one string
	// when it is done (spans say whose): a record costs one allocation
	// for its values, not one a field.
	vbuf  []byte
	spans []span
	// names caches zeek.<log>.<key> per log and key.
	names map[string]map[string]string
}

// span is a field whose value is vbuf[start:end].
type span struct{ field, start, end int }

// maxNames bounds the field names cached per log: Zeek's logs have a few
// dozen keys; a stream of made-up keys is named afresh, not kept.
const maxNames = 1024

// Parse reads one record: its time from ts, its log from _path or from
// the keys that log always writes, the connection's endpoints as
// source.* and destination.*, the values ECS has a name for under that
// name (moved, so each is stored once), and every other key under
// zeek.<log>.<key> as Zeek names it, as Elastic's Zeek integration does.
func (z *Parser) Parse(payload []byte, dst *event.Event) error {
	v, err := z.p.ParseBytes(payload)
	if err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	obj, err := v.Object()
	if err != nil {
		return ErrNotZeek
	}
	if !zeekRecord(obj) {
		return ErrNotZeek
	}
	log := logName(obj)
	ns := "zeek."
	if log != "" {
		ns += log + "."
	}
	moved := ecsNames[log]
	add := func(name, value string) {
		dst.Fields = append(dst.Fields, event.Field{Name: name, Value: value})
	}
	z.vbuf, z.spans = z.vbuf[:0], z.spans[:0]
	addValue := func(name string, v *fastjson.Value) {
		start := len(z.vbuf)
		if v.Type() == fastjson.TypeString {
			z.vbuf = append(z.vbuf, v.GetStringBytes()...)
		} else {
			z.vbuf = v.MarshalTo(z.vbuf)
		}
		z.spans = append(z.spans, span{len(dst.Fields), start, len(z.vbuf)})
		dst.Fields = append(dst.Fields, event.Field{Name: name})
	}
	names := z.names[log]
	if names == nil {
		if z.names == nil {
			z.names = map[string]map[string]string{}
		}
		names = map[string]string{}
		z.names[log] = names
	}
	add("ecs.version", ECSVersion)
	add("event.module", "zeek")
	if log != "" {
		add("event.dataset", "zeek."+log)
	} else {
		add("event.dataset", "zeek")
	}
	kind, category := "event", `["network"]`
	switch log {
	case "notice":
		kind = "alert"
	case "files", "smb_files":
		category = `["file"]`
	case "x509":
		category = ""
	}
	add("event.kind", kind)
	if category != "" {
		add("event.category", category)
	}
	var srcIP, dstIP, outcome string
	obj.Visit(func(k []byte, v *fastjson.Value) {
		if len(k) == 0 || v.Type() == fastjson.TypeNull {
			return
		}
		switch string(k) {
		case "ts":
			if t, ok := ecs.ParseTime(envelope.Text(v)); ok {
				dst.Time = t
				return
			}
			// Kept under its name when it is not a time.
		case "_path":
			return // event.dataset
		case "id.orig_h":
			srcIP = envelope.Text(v)
		case "id.resp_h":
			dstIP = envelope.Text(v)
		case "auth_success", "success":
			// ssh.log, kerberos.log, ntlm.log: the outcome, besides the
			// value under its own name below.
			switch envelope.Text(v) {
			case "true":
				outcome = "success"
			case "false":
				outcome = "failure"
			}
		}
		if name := common[string(k)]; name != "" {
			addValue(name, v)
			return
		}
		if name := moved[string(k)]; name != "" {
			addValue(name, v)
			return
		}
		if v.Type() == fastjson.TypeObject {
			o, _ := v.Object()
			dst.Fields = z.flat.FlattenUnder(dst.Fields, ns+string(k), o)
			return
		}
		name, ok := names[string(k)]
		if !ok {
			name = ns + string(k)
			if len(names) < maxNames {
				names[string(k)] = name
			}
		}
		addValue(name, v)
	})
	if len(z.spans) > 0 {
		vals := string(z.vbuf)
		for _, sp := range z.spans {
			dst.Fields[sp.field].Value = vals[sp.start:sp.end]
		}
	}
	if outcome != "" {
		add("event.outcome", outcome)
	}
	if log == "dns" {
		z.resolved(dst, obj.Get("answers"))
	}
	var ok bool
	if z.set, ok = ecs.AppendJSONSet(z.set[:0], ipOnly(srcIP), ipOnly(dstIP)); ok {
		add("related.ip", string(z.set))
	}
	return nil
}

// resolved writes the addresses among a DNS reply's answers as
// dns.resolved_ip (the answers stay under zeek.dns.answers).
func (z *Parser) resolved(dst *event.Event, answers *fastjson.Value) {
	if answers == nil || answers.Type() != fastjson.TypeArray {
		return
	}
	var ips []string
	for _, a := range answers.GetArray() {
		if s := ipOnly(string(a.GetStringBytes())); s != "" {
			ips = append(ips, s)
		}
	}
	if set, ok := ecs.AppendJSONSet(z.set[:0], ips...); ok {
		z.set = set
		dst.Fields = append(dst.Fields, event.Field{Name: "dns.resolved_ip", Value: string(set)})
	}
}

// ipOnly returns s when it is an IP address, else "".
func ipOnly(s string) string {
	if _, err := netip.ParseAddr(s); err != nil {
		return ""
	}
	return s
}

// zeekRecord reports whether obj has what SniffJSON looks for, so that a
// record declared as zeek but not one is refused, not stored as a guess.
func zeekRecord(obj *fastjson.Object) bool {
	if obj.Get("ts") == nil {
		return false
	}
	has := func(k string) bool { return obj.Get(k) != nil }
	return has("_path") || has("uid") && has("id.orig_h") || has("certificate.serial") || has("fuid") && has("seen_bytes")
}

// logName returns the record's log: _path when the writer names it, else
// the one whose keys it has (the fields each log always writes), or "".
func logName(obj *fastjson.Object) string {
	if p := obj.Get("_path"); p != nil && p.Type() == fastjson.TypeString {
		return logPath(string(p.GetStringBytes()))
	}
	has := func(k string) bool { return obj.Get(k) != nil }
	switch {
	case has("AA") && has("rejected"):
		return "dns"
	case has("trans_depth") && (has("helo") || has("mailfrom") || has("rcptto")):
		return "smtp"
	case has("trans_depth") && has("request_body_len") && has("response_body_len"):
		return "http"
	case has("conn_state") || has("missed_bytes") && has("proto"):
		return "conn"
	case has("certificate.serial"):
		return "x509"
	case has("fuid") && has("seen_bytes"):
		return "files"
	case has("established") && (has("cipher") || has("server_name") || has("ssl_history")):
		return "ssl"
	case has("action") && has("size") && has("uid"):
		return "smb_files"
	case has("share_type"):
		return "smb_mapping"
	case has("endpoint") && has("operation"):
		return "dce_rpc"
	case has("request_type"):
		return "kerberos"
	case has("cert_count"):
		return "rdp"
	case has("auth_attempts"):
		return "ssh"
	case has("note") && has("msg"):
		return "notice"
	case has("name") && has("notice") && has("peer"):
		return "weird"
	case has("server_nb_computer_name") || has("server_dns_computer_name"):
		return "ntlm"
	case has("msg_types"):
		return "dhcp"
	}
	return ""
}

// logPath turns a _path into a log name fit for a field name: Zeek's own
// are ("dns", "smb_files"); another writer's is lower-cased with anything
// but letters, digits and '_' made '_'.
func logPath(p string) string {
	b := []byte(strings.ToLower(p))
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			b[i] = '_'
		}
	}
	return string(b)
}

// common are the keys every log may have that are stored under another
// name: the connection's endpoints, its uid and Community ID, and the
// json-streaming-logs package's write time.
var common = map[string]string{
	"uid": "zeek.session_id", "id.orig_h": "source.ip", "id.orig_p": "source.port",
	"id.resp_h": "destination.ip", "id.resp_p": "destination.port",
	"community_id": "network.community_id", "_write_ts": "event.created",
}

// ecsNames are, per log, the keys whose values are stored under their ECS
// name instead of their own (the Sigma mapping reads them back by Zeek's
// name: internal/detect/mapping.yaml).
var ecsNames = map[string]map[string]string{
	"conn": {"proto": "network.transport", "service": "network.protocol"},
	"dns": {
		"proto": "network.transport", "query": "dns.question.name", "qtype_name": "dns.question.type",
		"rcode_name": "dns.response_code", "trans_id": "dns.id",
	},
	"http": {
		"method": "http.request.method", "host": "url.domain", "uri": "url.original",
		"referrer": "http.request.referrer", "version": "http.version", "user_agent": "user_agent.original",
		"status_code": "http.response.status_code", "request_body_len": "http.request.body.bytes",
		"response_body_len": "http.response.body.bytes", "username": "user.name",
	},
	"ssl": {
		"server_name": "tls.client.server_name", "cipher": "tls.cipher", "established": "tls.established",
		"resumed": "tls.resumed", "ja3": "tls.client.ja3", "ja3s": "tls.server.ja3s",
	},
	"files": {
		"md5": "file.hash.md5", "sha1": "file.hash.sha1", "sha256": "file.hash.sha256",
		"mime_type": "file.mime_type", "filename": "file.name",
	},
	"smb_files": {"name": "file.name"},
	"ntlm":      {"username": "user.name", "domainname": "user.domain"},
	"smtp": {
		"mailfrom": "email.from.address", "rcptto": "email.to.address", "subject": "email.subject",
		"msg_id": "email.message_id",
	},
	"notice": {"note": "rule.name", "msg": "message"},
}
