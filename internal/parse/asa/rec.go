package asa

// rec gathers what a message says before it is written as fields: the
// message scanners fill it, emit turns it into ECS and native fields.
// Values are substrings of the payload, as logged.
type rec struct {
	v [nSlots]string
}

func (r *rec) set(s slot, v string) {
	if s != sSkip && int(s) < len(r.v) {
		r.v[s] = v
	}
}

func (r *rec) get(s slot) string { return r.v[s] }

// setEnd stores an "iface:addr/port" endpoint.
func (r *rec) setEnd(ifs, as, ps slot, s string) {
	iface, addr, port := endpoint(s)
	r.set(ifs, iface)
	r.set(as, addr)
	r.set(ps, port)
}

// Native fields, written under cisco.asa. (cisco.ftd. for %FTD).
type native uint8

const (
	nMessageID native = iota
	nSourceInterface
	nDestinationInterface
	nConnectionID
	nMappedSourceIP
	nMappedSourcePort
	nMappedDestinationIP
	nMappedDestinationPort
	nMappedSourceHost
	nMappedDestinationHost
	nRuleName
	nIcmpType
	nIcmpCode
	nAAAType
	nRejectionReason
	nSessionType
	nGroupPolicy
	nTunnelGroup
	nCommandLineArguments
	nPrivilegeOld
	nPrivilegeNew
	nConnectionType
	nDAPRecords
	nBurstObject
	nBurstID
	nBurstCurrentRate
	nBurstConfiguredRate
	nBurstAvgRate
	nBurstConfiguredAvgRate
	nBurstCumulativeCount
	nThreatLevel
	nThreatCategory
	nTerminationInitiator
	nTerminationUser
	nSourceUsername
	nDestinationUsername
	nWebVPNGroupName
	nAssignedIP
	nOriginalIANANumber
	nSuffix
	nConnectionsInUse
	nConnectionsMostUsed
	nPeerType
	nTrustpoint
	nInterfaceName
	nRedundantInterfaceName
	nTunnelType
	nMessage
	nNative
)

// The natives emitted are tracked in a uint64.
var _ [64 - nNative]struct{}

var nativeNames = [nNative]string{
	"message_id", "source_interface", "destination_interface", "connection_id",
	"mapped_source_ip", "mapped_source_port", "mapped_destination_ip", "mapped_destination_port",
	"mapped_source_host", "mapped_destination_host", "rule_name", "icmp_type", "icmp_code",
	"aaa_type", "rejection_reason", "session_type", "group_policy", "tunnel_group",
	"command_line_arguments", "privilege.old", "privilege.new", "connection_type", "dap_records",
	"burst.object", "burst.id", "burst.current_rate", "burst.configured_rate", "burst.avg_rate",
	"burst.configured_avg_rate", "burst.cumulative_count", "threat_level", "threat_category",
	"termination_initiator", "termination_user", "source_username", "destination_username",
	"webvpn.group_name", "assigned_ip", "original_iana_number", "suffix",
	"connections_in_use", "connections_most_used", "peer_type", "trustpoint",
	"interface_name", "redundant_interface_name", "tunnel_type", "message",
}

// namespace holds the full native field names of one prefix.
type namespace struct {
	module, dataset, product string
	names                    [nNative]string
	security                 string // prefix of FTD security-event fields
}

func newNamespace(prefix, module, product string) *namespace {
	ns := &namespace{module: module, dataset: module + ".log", product: product, security: prefix + "security."}
	for i, n := range nativeNames {
		ns.names[i] = prefix + n
	}
	return ns
}

var (
	asaNS = newNamespace("cisco.asa.", "cisco_asa", "asa")
	ftdNS = newNamespace("cisco.ftd.", "cisco_ftd", "Firepower Threat Defense")
)
