package panos

// Column names after the generated time (column 7 on), per log type, as
// PAN-OS 10.x/11.x documents them and Elastic's panw integration names
// them. A name starting with '_' is not written as a native field: the
// parser reads it for an ECS field (see special). "" is a FUTURE_USE
// column.
var columns = map[string][]string{
	"TRAFFIC": {
		"source.ip", "destination.ip", "source.nat.ip", "destination.nat.ip", "ruleset",
		"_srcuser", "_dstuser", "network.application", "virtual_sys", "source.zone", "destination.zone",
		"inbound_interface", "outbound_interface", "log_profile", "", "flow_id", "repeat_count",
		"source.port", "destination.port", "source.nat.port", "destination.nat.port", "_labels",
		"protocol", "action", "network.bytes", "bytes_sent", "bytes_received", "network.packets",
		"start_time", "elapsed_time", "url.category", "", "sequence_number", "action_flags",
		"_srcloc", "_dstloc", "", "packets_sent", "packets_received", "endreason",
		"device_group_hierarchy1", "device_group_hierarchy2", "device_group_hierarchy3", "device_group_hierarchy4",
		"vsys_name", "device_name", "action_source", "source_vm_uuid", "destination_vm_uuid", "imsi", "imei",
		"parent_session.id", "parent_session.start_time", "tunnel_type", "sctp.assoc_id", "sctp.chunks",
		"sctp.chunks_sent", "sctp.chunks_received", "rule_uuid", "http2_connection", "link.change_count",
		"policy.id", "link.switches", "sdwan.cluster.name", "sdwan.device_type", "sdwan.cluster.type",
		"sdwan.site", "dynamic_user.group.name", "xff.ip", "src.category", "src.profile", "src.model",
		"src.vendor", "src.os.family", "src.os.version", "src.host", "src.mac", "dst.category", "dst.profile",
		"dst.model", "dst.vendor", "dst.os.family", "dst.os.version", "dst.host", "dst.mac", "container.id",
		"pod.namespace", "pod.name", "src.external_dynamic_list", "dst.external_dynamic_list", "host.id",
		"serial_number", "src.dynamic_address_group", "dst.dynamic_address_group", "session.owner",
		"_high_res_timestamp", "nsdsai_sst", "nsdsai_sd", "application.sub_category", "application.category",
		"application.technology", "application.risk_level", "application.characteristics",
		"application.container", "application.tunneled", "application.is_saas", "application.is_sanctioned",
		"is_offloaded",
	},
	"THREAT": {
		"source.ip", "destination.ip", "source.nat.ip", "destination.nat.ip", "ruleset",
		"_srcuser", "_dstuser", "network.application", "virtual_sys", "source.zone", "destination.zone",
		"inbound_interface", "outbound_interface", "log_profile", "_logged_time", "flow_id", "repeat_count",
		"source.port", "destination.port", "source.nat.port", "destination.nat.port", "_labels",
		"protocol", "action", "misc", "threat.name", "url.category", "severity", "_direction",
		"sequence_number", "action_flags", "_srcloc", "_dstloc", "", "http_content_type",
		"network.pcap_id", "file.hash", "wildfire.name", "url_idx", "_user_agent", "file.type",
		"_forwarded_ip", "referrer", "sender", "subject", "recipient", "wildfire.report_id",
		"device_group_hierarchy1", "device_group_hierarchy2", "device_group_hierarchy3", "device_group_hierarchy4",
		"vsys_name", "device_name", "", "source_vm_uuid", "destination_vm_uuid", "http_method", "imsi", "imei",
		"parent_session.id", "parent_session.start_time", "tunnel_type", "threat_category", "content_version",
		"", "sctp.assoc_id", "payload_protocol_id", "http_headers", "url_category_list", "rule_uuid",
		"http2_connection", "dynamic_user.group.name", "xff.ip", "src.category", "src.profile", "src.model",
		"src.vendor", "src.os.family", "src.os.version", "src.host", "src.mac", "dst.category", "dst.profile",
		"dst.model", "dst.vendor", "dst.os.family", "dst.os.version", "dst.host", "dst.mac", "container.id",
		"pod.namespace", "pod.name", "src.external_dynamic_list", "dst.external_dynamic_list", "host.id",
		"serial_number", "domain_edl", "src.dynamic_address_group", "dst.dynamic_address_group", "partial_hash",
		"_high_res_timestamp", "reason", "justification", "nssai_sst", "application.sub_category",
		"application.category", "application.technology", "application.risk_level",
		"application.characteristics", "application.container", "application.tunneled",
		"application.is_saas", "application.is_sanctioned", "cloud_report.id",
	},
	"SYSTEM": {
		"virtual_sys", "event.id", "object.id", "", "", "module", "severity", "description",
		"sequence_number", "action_flags", "device_group_hierarchy1", "device_group_hierarchy2",
		"device_group_hierarchy3", "device_group_hierarchy4", "vsys_name", "device_name", "", "",
		"_high_res_timestamp",
	},
	"CONFIG": {
		"host.ip", "virtual_sys", "cmd", "admin", "client_type", "result", "path",
		"before_change_detail", "after_change_detail", "sequence_number", "action_flags",
		"device_group_hierarchy1", "device_group_hierarchy2", "device_group_hierarchy3", "device_group_hierarchy4",
		"vsys_name", "device_name", "device_group_id", "comment",
	},
	"GLOBALPROTECT": {
		"virtual_sys", "event.id", "stage", "auth_method", "tunnel_type", "_srcuser", "_srcloc",
		"machine.name", "public.ip", "_public_ipv6", "private.ip", "_private_ipv6", "host.id",
		"serial_number", "client_ver", "client.os", "client.os_version", "repeat_count", "event.reason",
		"error_message", "description", "event.status", "location", "login_duration", "connect_method",
		"error_code", "portal", "sequence_number", "action_flags", "_high_res_timestamp", "selection_type",
		"response_time", "priority", "attempted_gateways", "gateway", "device_group_hierarchy1",
		"device_group_hierarchy2", "device_group_hierarchy3", "device_group_hierarchy4", "vsys_name",
		"device_name", "vsys_id",
	},
	"USERID": {
		"virtual_sys", "source.ip", "_srcuser", "datasourcename", "event.id", "repeat_count", "timeout",
		"source.port", "destination.port", "datasource", "datasourcetype", "sequence_number", "action_flags",
		"device_group_hierarchy1", "device_group_hierarchy2", "device_group_hierarchy3", "device_group_hierarchy4",
		"vsys_name", "device_name", "vsys_id", "factortype", "factorcompletiontime", "factorno", "ugflags",
		"user_by_source", "tag.name", "_high_res_timestamp",
	},
	"AUTHENTICATION": {
		"virtual_sys", "source.ip", "_user", "normalize_user", "object.id", "authentication.policy",
		"repeat_count", "authentication.id", "vendor", "log_profile", "server_profile", "description",
		"client_type", "event.result", "factorno", "sequence_number", "action_flags",
		"device_group_hierarchy1", "device_group_hierarchy2", "device_group_hierarchy3", "device_group_hierarchy4",
		"vsys_name", "device_name", "vsys_id", "authentication.protocol", "rule_uuid", "_high_res_timestamp",
		"src.category", "src.profile", "src.model", "src.vendor", "src.os.family", "src.os.version",
		"src.host", "src.mac", "region", "", "_user_agent", "flow_id",
	},
	"HIPMATCH": {
		"_srcuser", "virtual_sys", "machine.name", "machine.os", "source.ip", "matchname", "repeat_count",
		"matchtype", "", "", "sequence_number", "action_flags", "device_group_hierarchy1",
		"device_group_hierarchy2", "device_group_hierarchy3", "device_group_hierarchy4", "vsys_name",
		"device_name", "vsys_id", "_source_ipv6", "host.id", "serial_number", "machine.mac_address",
		"_high_res_timestamp",
	},
	"DECRYPTION": {
		"source.ip", "destination.ip", "source.nat.ip", "destination.nat.ip", "ruleset",
		"_srcuser", "_dstuser", "network.application", "virtual_sys", "source.zone", "destination.zone",
		"inbound_interface", "outbound_interface", "log_profile", "_logged_time", "flow_id", "repeat_count",
		"source.port", "destination.port", "source.nat.port", "destination.nat.port", "_labels",
		"protocol", "action", "tunnel_type", "", "", "source_vm_uuid", "destination_vm_uuid", "rule_uuid",
		"hs_stage_c2f", "hs_stage_f2s", "_tls", "tls.key_exchange_algorithm", "tls.encryption", "tls.auth",
		"policy.name", "elliptic_curve", "tls.error_type", "root_certificate_status", "chain_status",
		"proxy_type", "certificate.serial_number", "_hash", "certificate.not_before", "certificate.not_after",
		"certificate.version", "certificate.size", "subject_common_name.length", "issuer_common_name.length",
		"root_common_name.length", "server_name_indication.length", "certificate.flags",
		"subject_common_name.value", "issuer_common_name.value", "root_common_name.value",
		"server_name_indication.value", "error_message", "container.id", "pod.namespace", "pod.name",
		"src.external_dynamic_list", "dst.external_dynamic_list", "src.dynamic_address_group",
		"dst.dynamic_address_group", "_high_res_timestamp", "src.category", "src.profile", "src.model",
		"src.vendor", "src.os.family", "src.os.version", "src.host", "src.mac", "dst.category", "dst.profile",
		"dst.model", "dst.vendor", "dst.os.family", "dst.os.version", "dst.host", "dst.mac",
		"sequence_number", "action_flags", "device_group_hierarchy1", "device_group_hierarchy2",
		"device_group_hierarchy3", "device_group_hierarchy4", "vsys_name", "device_name", "vsys_id",
		"application.sub_category", "application.category", "application.technology",
		"application.risk_level", "application.characteristics", "application.container",
		"application.tunneled", "application.is_saas", "application.is_sanctioned",
	},
}

// typeAliases maps the type names devices write to the column sets.
var typeAliases = map[string]string{
	"TRAFFIC": "TRAFFIC", "THREAT": "THREAT", "SYSTEM": "SYSTEM", "CONFIG": "CONFIG",
	"GLOBALPROTECT": "GLOBALPROTECT", "USERID": "USERID", "AUTH": "AUTHENTICATION",
	"AUTHENTICATION": "AUTHENTICATION", "HIPMATCH": "HIPMATCH", "HIP-MATCH": "HIPMATCH",
	"DECRYPTION": "DECRYPTION",
}

// numeric are the native fields Elastic's pipeline converts to numbers.
var numeric = map[string]bool{
	"repeat_count": true, "source.port": true, "destination.port": true, "source.nat.port": true,
	"destination.nat.port": true, "network.bytes": true, "network.packets": true, "bytes_sent": true,
	"bytes_received": true, "packets_sent": true, "packets_received": true, "elapsed_time": true,
	"sequence_number": true, "sctp.chunks": true, "sctp.chunks_sent": true, "sctp.chunks_received": true,
	"timeout": true, "error_code": true, "factorno": true, "certificate.size": true,
	"subject_common_name.length": true, "issuer_common_name.length": true, "root_common_name.length": true,
	"server_name_indication.length": true, "link.change_count": true, "login_duration": true,
	"application.risk_level": true, "response_time": true,
}

// dates are the native fields Elastic's pipeline reads as dates.
var dates = map[string]bool{
	"start_time": true, "parent_session.start_time": true, "factorcompletiontime": true,
	"certificate.not_before": true, "certificate.not_after": true,
}

// flagLabels are the bits of the flags column, as labels.* (Elastic's names).
var flagLabels = []struct {
	bit  uint64
	name string
}{
	{0x80000000, "labels.pcap_included"},
	{0x40000000, "labels.connect_to_destination_host"},
	{0x20000000, "labels.file_submitted_to_WildFire"},
	{0x10000000, "labels.enterprise_credential_submission"},
	{0x08000000, "labels.source_flow_allow_list"},
	{0x02000000, "labels.ipv6_session"},
	{0x01000000, "labels.ssl_decrypted"},
	{0x00800000, "labels.url_filter_denied"},
	{0x00400000, "labels.nat_translated"},
	{0x00200000, "labels.captive_portal"},
	{0x00100000, "labels.non_standard_port_usage"},
	{0x00080000, "labels.x_forwarded_for"},
	{0x00040000, "labels.http_proxy"},
	{0x00020000, "labels.client_server_policy_based_forwarding"},
	{0x00010000, "labels.server_client_policy_based_forwarding"},
	{0x00008000, "labels.container_page"},
	{0x00002000, "labels.temporary_match"},
	{0x00000800, "labels.symmetric_return"},
	{0x00000400, "labels.decrypted_traffic"},
	{0x00000100, "labels.payload_outer_tunnel"},
}

// subtypeActions is event.action by subtype (traffic, threat).
var subtypeActions = map[string]string{
	"start": "flow_started", "end": "flow_terminated", "drop": "flow_dropped", "deny": "flow_denied",
	"data": "data_match", "file": "file_match", "flood": "flood_detected", "packet": "packet_attack",
	"scan": "scan_detected", "spyware": "spyware_detected", "url": "url_filtering",
	"virus": "virus_detected", "vulnerability": "exploit_detected", "wildfire": "wildfire_verdict",
	"wildfire-virus": "wildfire_virus_detected",
}

// severities is event.severity by PAN-OS severity (log.level).
var severities = map[string]string{
	"critical": "1", "high": "2", "medium": "3", "low": "4", "informational": "5",
}

// configActions is event.action by CONFIG command.
var configActions = map[string]string{
	"add": "cmd-add", "clone": "cmd-clone", "commit": "cmd-commit", "delete": "cmd-delete",
	"edit": "cmd-edit", "move": "cmd-move", "rename": "cmd-rename", "set": "cmd-set",
}
