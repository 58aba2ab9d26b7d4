package asa

import "strings"

// secKey is where one key of an FTD security event (43000x) goes: its
// native name under <ns>.security. and, optionally, a record slot or an
// ECS field. Names follow Elastic's pipeline.
type secKey struct {
	target string
	slot   slot
	ecs    string
}

var secKeys = map[string]secKey{
	"ACPolicy":                 {target: "ac_policy", ecs: "rule"},
	"AccessControlRuleAction":  {target: "access_control_rule_action", ecs: "event.outcome"},
	"AccessControlRuleName":    {target: "access_control_rule_name", ecs: "rule"},
	"AccessControlRuleReason":  {target: "access_control_rule_reason"},
	"ApplicationProtocol":      {target: "application_protocol", slot: sProtocol},
	"ArchiveFileName":          {target: "archive_file_name", ecs: "file.name"},
	"ArchiveSHA256":            {target: "archive_sha256", ecs: "file.hash.sha256"},
	"Classification":           {target: "classification"},
	"Client":                   {target: "client", ecs: "network.application"},
	"ClientVersion":            {target: "client_version"},
	"ConnectionDuration":       {target: "connection_duration", slot: sDuration},
	"DNSQuery":                 {target: "dns_query", ecs: "dns.question.name"},
	"DNSRecordType":            {target: "dns_record_type", ecs: "dns.question.type"},
	"DNSResponseType":          {target: "dns_response_type", ecs: "dns.response_code"},
	"DstIP":                    {target: "dst_ip", slot: sDst},
	"DstPort":                  {target: "dst_port", slot: sDstPort},
	"EgressInterface":          {target: "egress_interface", slot: sDstIf},
	"EgressZone":               {target: "egress_zone"},
	"FileAction":               {target: "file_action"},
	"FileDirection":            {target: "file_direction"},
	"FileName":                 {target: "file_name", ecs: "file.name"},
	"FilePolicy":               {target: "file_policy", ecs: "rule"},
	"FileSHA256":               {target: "file_sha256", ecs: "file.hash.sha256"},
	"FileSize":                 {target: "file_size", ecs: "file.size"},
	"FileType":                 {target: "file_type"},
	"GID":                      {target: "gid", ecs: "service.id"},
	"HTTPReferer":              {target: "http_referer", ecs: "http.request.referrer"},
	"HTTPResponse":             {target: "http_response", ecs: "http.response.status_code"},
	"ICMPCode":                 {target: "icmp_code"},
	"ICMPType":                 {target: "icmp_type"},
	"IngressInterface":         {target: "ingress_interface", slot: sSrcIf},
	"IngressZone":              {target: "ingress_zone"},
	"InitiatorBytes":           {target: "initiator_bytes", ecs: "source.bytes"},
	"InitiatorPackets":         {target: "initiator_packets", ecs: "source.packets"},
	"InlineResult":             {target: "inline_result", ecs: "event.outcome"},
	"IntrusionPolicy":          {target: "intrusion_policy", ecs: "rule"},
	"Message":                  {target: "message", ecs: "message"},
	"NAPPolicy":                {target: "nap_policy"},
	"NetBIOSDomain":            {target: "net_bios_domain", ecs: "host.hostname"},
	"Prefilter Policy":         {target: "prefilter_policy"},
	"Priority":                 {target: "priority"},
	"Protocol":                 {target: "protocol", slot: sTransport},
	"ReferencedHost":           {target: "referenced_host", ecs: "url.domain"},
	"ResponderBytes":           {target: "responder_bytes", ecs: "destination.bytes"},
	"ResponderPackets":         {target: "responder_packets", ecs: "destination.packets"},
	"Revision":                 {target: "revision"},
	"SHA_Disposition":          {target: "sha_disposition"},
	"SID":                      {target: "sid"},
	"SSLActualAction":          {target: "ssl_actual_action", ecs: "event.outcome"},
	"SSLServerName":            {target: "ssl_server_name", ecs: "server.domain"},
	"SSLVersion":               {target: "ssl_version"},
	"SrcIP":                    {target: "src_ip", slot: sSrc},
	"SrcPort":                  {target: "src_port", slot: sSrcPort},
	"ThreatName":               {target: "threat_name", ecs: "threat_category"},
	"ThreatScore":              {target: "threat_score", ecs: "threat_level"},
	"URI":                      {target: "uri", slot: sURL},
	"URL":                      {target: "url", slot: sURL},
	"URLCategory":              {target: "url_category"},
	"URLReputation":            {target: "url_reputation"},
	"User":                     {target: "user", slot: sUser},
	"UserAgent":                {target: "user_agent", ecs: "user_agent.original"},
	"VLAN_ID":                  {target: "vlan_id"},
	"WebApplication":           {target: "web_application", ecs: "network.application"},
	"originalClientSrcIP":      {target: "original_client_src_ip", ecs: "client.address"},
	"Tunnel or Prefilter Rule": {target: "tunnel_or_prefilter_rule"},
	"Endpoint Profile":         {target: "endpoint_profile"},
	"Security Group":           {target: "security_group"},
}

// security reads the comma-separated "Key: Value" list of an FTD security
// event. A comma starts a new pair only when a key and a colon follow it,
// so values may hold commas.
func (p *Parser) security(msg string) {
	p.mixed = true
	s := msg
	for s != "" {
		end := nextPair(s)
		pair := s[:end]
		if end < len(s) {
			s = s[end+1:]
		} else {
			s = ""
		}
		k, v, ok := strings.Cut(pair, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		sk, known := secKeys[k]
		if !known || v == "" {
			continue
		}
		p.extra = append(p.extra, fieldOf(p.ns.security+sk.target, v))
		switch {
		case sk.slot != sSkip:
			if p.r.get(sk.slot) == "" {
				p.r.set(sk.slot, v)
			}
		case sk.ecs == "rule":
			p.rules = append(p.rules, v)
		case sk.ecs == "event.outcome":
			p.secOutcome = lower(v)
		case sk.ecs == "threat_category":
			p.native(nThreatCategory, v)
		case sk.ecs == "threat_level":
			p.native(nThreatLevel, v)
		case sk.ecs == "message":
			p.secMessage = v
		case sk.ecs != "":
			p.extra = append(p.extra, fieldOf(sk.ecs, secValue(sk.ecs, v)))
		}
		if k == "SHA_Disposition" {
			p.shaDisposition = v
		}
	}
}

// nextPair returns the end of the pair at the start of s: the first comma
// followed by a key ([A-Za-z0-9_ ]+) and a colon, or len(s).
func nextPair(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] != ',' {
			continue
		}
		j := i + 1
		for j < len(s) && s[j] == ' ' {
			j++
		}
		k := j
		for k < len(s) && (s[k] >= 'A' && s[k] <= 'Z' || s[k] >= 'a' && s[k] <= 'z' || s[k] >= '0' && s[k] <= '9' || s[k] == '_' || s[k] == ' ') {
			k++
		}
		if k > j && k < len(s) && s[k] == ':' {
			return i
		}
	}
	return len(s)
}

// secValue normalises the values Elastic's pipeline maps.
func secValue(name, v string) string {
	switch name {
	case "dns.question.type":
		if m, ok := dnsTypes[strings.ToLower(v)]; ok {
			return m
		}
	case "dns.response_code":
		if m, ok := dnsCodes[strings.ToLower(v)]; ok {
			return m
		}
	case "http.response.status_code", "file.size", "source.bytes", "destination.bytes", "source.packets", "destination.packets":
		if n := number(v); n != "" {
			return n
		}
	}
	return v
}

var dnsTypes = map[string]string{
	"a host address": "A", "ip6 address": "AAAA", "text strings": "TXT",
	"a domain name pointer": "PTR", "an authoritative name server": "NS",
	"the canonical name for an alias": "CNAME", "marks the start of a zone of authority": "SOA",
	"mail exchange": "MX", "server selection": "SRV",
}

var dnsCodes = map[string]string{
	"non-existent domain": "NXDOMAIN", "server failure": "SERVFAIL",
	"query refused": "REFUSED", "no error": "NOERROR",
}
