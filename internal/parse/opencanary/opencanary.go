package opencanary

import (
	"errors"
	"fmt"
	"slices"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
	"github.com/tarian-soc/tarian/internal/parse/envelope"
	"github.com/tarian-soc/tarian/internal/parse/sniff"
)

// Type is the log-source type name used in configuration and `tarian parse --type`.
const Type = "opencanary"

// ECSVersion is the Elastic Common Schema version of the fields written.
const ECSVersion = "8.17.0"

// ErrNotCanary is returned for a JSON object that is not an OpenCanary event.
var ErrNotCanary = errors.New("not an OpenCanary event: no logtype with node_id")

// SniffJSON reports whether a JSON record is an OpenCanary event: a
// logtype and the canary's node_id, with its times (utc_time or
// local_time).
func SniffJSON(j *sniff.JSON) bool {
	return j.Has("logtype") && j.Has("node_id") && (j.Has("utc_time") || j.Has("local_time"))
}

// Sniff reports whether a text payload (a syslog message, a file
// shipper's line sent as text) is such a record: a JSON object SniffJSON
// takes.
func Sniff(payload []byte) bool {
	return sniff.Text(payload, SniffJSON)
}

// Parser reads OpenCanary events. The zero value is ready; it keeps
// buffers between calls and is not safe for concurrent use.
type Parser struct {
	p    fastjson.Parser
	flat envelope.JSON
	set  []byte
}

// Parse reads one event: its time from utc_time, the attacker as
// source.*, the canary's service as destination.*, the log type as
// event.code and its name as event.action, logdata's USERNAME as
// user.name, and every other key under opencanary.* as OpenCanary names
// it (opencanary.logdata.PASSWORD).
func (c *Parser) Parse(payload []byte, dst *event.Event) error {
	v, err := c.p.ParseBytes(payload)
	if err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	obj, err := v.Object()
	if err != nil || obj.Get("logtype") == nil || obj.Get("node_id") == nil {
		return ErrNotCanary
	}
	add := func(name, value string) {
		dst.Fields = append(dst.Fields, event.Field{Name: name, Value: value})
	}
	code := envelope.Text(obj.Get("logtype"))
	lt, known := logTypes[code]
	add("ecs.version", ECSVersion)
	add("event.module", "opencanary")
	add("event.dataset", "opencanary.events")
	add("observer.vendor", "Thinkst")
	add("observer.product", "OpenCanary")
	add("observer.type", "honeypot")
	add("event.code", code)
	// Anything but the canary's own messages (the 1000s) is someone
	// touching a service nobody should use: an alert by itself. Types it
	// does not know (a module's own, LOG_USER_0-9) are alerts too.
	switch {
	case known && lt.category != "":
		add("event.action", lt.action)
		add("event.kind", "alert")
		add("event.category", lt.category)
	case known:
		add("event.action", lt.action)
		add("event.kind", "event")
	case len(code) == 4 && code[0] == '1':
		add("event.kind", "event")
	default:
		add("event.kind", "alert")
	}
	var src, dstHost, user string
	obj.Visit(func(k []byte, v *fastjson.Value) {
		if len(k) == 0 || v.Type() == fastjson.TypeNull {
			return
		}
		key := string(k)
		switch key {
		case "logtype":
			return
		case "utc_time":
			if t, ok := ecs.ParseTime(envelope.Text(v)); ok {
				dst.Time = t
				return
			}
		case "src_host":
			src = envelope.Text(v)
		case "dst_host":
			dstHost = envelope.Text(v)
		case "logdata":
			if v.Type() == fastjson.TypeObject {
				o, _ := v.Object()
				if u := o.Get("USERNAME"); u != nil && u.Type() == fastjson.TypeString {
					user = envelope.Text(u)
				}
			}
		}
		if name := moved[key]; name != "" {
			if s := envelope.Text(v); s != "" && s != "-1" { // OpenCanary's "no port"
				add(name, s)
			}
			return
		}
		if v.Type() == fastjson.TypeObject {
			o, _ := v.Object()
			n := len(dst.Fields)
			dst.Fields = c.flat.FlattenUnder(dst.Fields, "opencanary."+key, o)
			if key == "logdata" && user != "" {
				// USERNAME is user.name.
				tail := slices.DeleteFunc(dst.Fields[n:], func(f event.Field) bool { return f.Name == "opencanary.logdata.USERNAME" })
				dst.Fields = dst.Fields[:n+len(tail)]
			}
			return
		}
		add("opencanary."+key, envelope.Text(v))
	})
	if user != "" {
		add("user.name", user)
	}
	var ok bool
	if c.set, ok = ecs.AppendJSONSet(c.set[:0], src, dstHost); ok {
		add("related.ip", string(c.set))
	}
	return nil
}

// moved are the keys stored under their ECS name.
var moved = map[string]string{
	"src_host": "source.ip", "src_port": "source.port",
	"dst_host": "destination.ip", "dst_port": "destination.port",
	"node_id": "observer.name",
}

// logType is what one of OpenCanary's log types means.
type logType struct {
	action   string // event.action
	category string // event.category; "" for the canary's own messages
}

const (
	auth    = `["authentication","intrusion_detection"]`
	network = `["network","intrusion_detection"]`
	file    = `["file","intrusion_detection"]`
	web     = `["web","intrusion_detection"]`
)

// logTypes are OpenCanary's log types (opencanary/logger.py), by number.
var logTypes = map[string]logType{
	"1000": {"boot", ""}, "1001": {"message", ""}, "1002": {"debug", ""}, "1003": {"error", ""},
	"1004": {"ping", ""}, "1005": {"config_save", ""}, "1006": {"example", ""},
	"2000": {"ftp_login_attempt", auth}, "2001": {"ftp_auth_attempt_initiated", auth},
	"3000": {"http_get", web}, "3001": {"http_post_login_attempt", auth},
	"3002": {"http_unimplemented_method", web}, "3003": {"http_redirect", web},
	"4000": {"ssh_new_connection", network}, "4001": {"ssh_remote_version_sent", network}, "4002": {"ssh_login_attempt", auth},
	"5000": {"smb_file_open", file}, "5001": {"port_syn", network}, "5002": {"port_nmap_os", network},
	"5003": {"port_nmap_null", network}, "5004": {"port_nmap_xmas", network}, "5005": {"port_nmap_fin", network},
	"6001": {"telnet_login_attempt", auth}, "6002": {"telnet_connection_made", network},
	"7001": {"httpproxy_login_attempt", auth}, "8001": {"mysql_login_attempt", auth},
	"9001": {"mssql_login_sqlauth", auth}, "9002": {"mssql_login_winauth", auth}, "9003": {"mysql_connection_made", network},
	"10001": {"tftp", network}, "11001": {"ntp_monlist", network}, "12001": {"vnc", auth}, "13001": {"snmp_cmd", network},
	"14001": {"rdp", network}, "15001": {"sip_request", network}, "16001": {"git_clone_request", network},
	"17001": {"redis_command", network}, "18001": {"tcp_banner_connection_made", network},
	"18002": {"tcp_banner_keep_alive_connection_made", network}, "18003": {"tcp_banner_keep_alive_secret_received", network},
	"18004": {"tcp_banner_keep_alive_data_received", network}, "18005": {"tcp_banner_data_received", network},
	"19001": {"llmnr_query_response", network},
}
