package cef

import "strings"

// kind is the data type the CEF standard gives an extension key.
type kind uint8

const (
	kString kind = iota
	kInteger
	kLong
	kFloat
	kDouble
	kIP
	kMAC
	kTime
)

// def describes one extension key of the CEF dictionary (ArcSight Common
// Event Format, revision 25): its short name, full name and type, and the
// ECS field Elastic's decode_cef processor maps it to.
type def struct {
	short, full string
	kind        kind
	ecs         string
	// translate, when set, turns the value into the ECS value; ok false
	// leaves the ECS field unset.
	translate func(string) (string, bool)
}

// key is a def with what is derived from the whole dictionary.
type key struct {
	def
	// field is "cef.extensions.<full>"; label the key naming this custom
	// field's label ("" for other keys); shared whether another key or
	// the header may set the same ECS field.
	field  string
	label  string
	shared bool
}

// dictionary is defs with the derived fields, built once.
var dictionary = func() []key {
	targets := map[string]int{}
	fulls := map[string]bool{}
	for _, d := range defs {
		targets[d.ecs]++
		fulls[d.full] = true
	}
	ks := make([]key, len(defs))
	for i, d := range defs {
		k := key{def: d, field: extPrefix + d.full}
		if fulls[d.full+"Label"] {
			k.label = d.full + "Label"
		}
		k.shared = d.ecs != "" && (targets[d.ecs] > 1 || headerTargets[d.ecs])
		ks[i] = k
	}
	return ks
}()

var defs = []def{
	{"agt", "agentAddress", kIP, "agent.ip", nil},
	{"agentDnsDomain", "agentDnsDomain", kString, "agent.name", nil},
	{"ahost", "agentHostName", kString, "agent.name", nil},
	{"aid", "agentId", kString, "agent.id", nil},
	{"amac", "agentMacAddress", kMAC, "agent.mac", nil},
	{"agentNtDomain", "agentNtDomain", kString, "", nil},
	{"art", "agentReceiptTime", kTime, "event.created", nil},
	{"atz", "agentTimeZone", kString, "", nil},
	{"agentTranslatedAddress", "agentTranslatedAddress", kIP, "", nil},
	{"agentTranslatedZoneExternalID", "agentTranslatedZoneExternalID", kString, "", nil},
	{"agentTranslatedZoneURI", "agentTranslatedZoneURI", kString, "", nil},
	{"at", "agentType", kString, "agent.type", nil},
	{"av", "agentVersion", kString, "agent.version", nil},
	{"agentZoneExternalID", "agentZoneExternalID", kString, "", nil},
	{"agentZoneURI", "agentZoneURI", kString, "", nil},
	{"app", "applicationProtocol", kString, "network.application", nil},
	{"cnt", "baseEventCount", kInteger, "", nil},
	{"in", "bytesIn", kInteger, "source.bytes", nil},
	{"out", "bytesOut", kInteger, "destination.bytes", nil},
	{"customerExternalID", "customerExternalID", kString, "organization.id", nil},
	{"customerURI", "customerURI", kString, "organization.name", nil},
	{"dst", "destinationAddress", kIP, "destination.ip", nil},
	{"destinationDnsDomain", "destinationDnsDomain", kString, "destination.domain", nil},
	{"dlat", "destinationGeoLatitude", kDouble, "destination.geo.location.lat", nil},
	{"dlong", "destinationGeoLongitude", kDouble, "destination.geo.location.lon", nil},
	{"dhost", "destinationHostName", kString, "destination.domain", nil},
	{"dmac", "destinationMacAddress", kMAC, "destination.mac", nil},
	{"dntdom", "destinationNtDomain", kString, "", nil},
	{"dpt", "destinationPort", kInteger, "destination.port", nil},
	{"dpid", "destinationProcessId", kInteger, "destination.process.pid", nil},
	{"dproc", "destinationProcessName", kString, "destination.process.name", nil},
	{"destinationServiceName", "destinationServiceName", kString, "destination.service.name", nil},
	{"destinationTranslatedAddress", "destinationTranslatedAddress", kIP, "destination.nat.ip", nil},
	{"destinationTranslatedPort", "destinationTranslatedPort", kInteger, "destination.nat.port", nil},
	{"destinationTranslatedZoneExternalID", "destinationTranslatedZoneExternalID", kString, "", nil},
	{"destinationTranslatedZoneURI", "destinationTranslatedZoneURI", kString, "", nil},
	{"duid", "destinationUserId", kString, "destination.user.id", nil},
	{"duser", "destinationUserName", kString, "destination.user.name", nil},
	{"dpriv", "destinationUserPrivileges", kString, "destination.user.group.name", nil},
	{"destinationZoneExternalID", "destinationZoneExternalID", kString, "", nil},
	{"destinationZoneURI", "destinationZoneURI", kString, "", nil},
	{"act", "deviceAction", kString, "event.action", nil},
	{"dvc", "deviceAddress", kIP, "observer.ip", nil},
	{"deviceCustomDate1", "deviceCustomDate1", kTime, "", nil},
	{"deviceCustomDate1Label", "deviceCustomDate1Label", kString, "", nil},
	{"deviceCustomDate2", "deviceCustomDate2", kTime, "", nil},
	{"deviceCustomDate2Label", "deviceCustomDate2Label", kString, "", nil},
	{"cfp1", "deviceCustomFloatingPoint1", kFloat, "", nil},
	{"cfp1Label", "deviceCustomFloatingPoint1Label", kString, "", nil},
	{"cfp2", "deviceCustomFloatingPoint2", kFloat, "", nil},
	{"cfp2Label", "deviceCustomFloatingPoint2Label", kString, "", nil},
	{"cfp3", "deviceCustomFloatingPoint3", kFloat, "", nil},
	{"cfp3Label", "deviceCustomFloatingPoint3Label", kString, "", nil},
	{"cfp4", "deviceCustomFloatingPoint4", kFloat, "", nil},
	{"cfp4Label", "deviceCustomFloatingPoint4Label", kString, "", nil},
	{"c6a1", "deviceCustomIPv6Address1", kIP, "", nil},
	{"c6a1Label", "deviceCustomIPv6Address1Label", kString, "", nil},
	{"c6a2", "deviceCustomIPv6Address2", kIP, "", nil},
	{"c6a2Label", "deviceCustomIPv6Address2Label", kString, "", nil},
	{"c6a3", "deviceCustomIPv6Address3", kIP, "", nil},
	{"c6a3Label", "deviceCustomIPv6Address3Label", kString, "", nil},
	{"c6a4", "deviceCustomIPv6Address4", kIP, "", nil},
	{"c6a4Label", "deviceCustomIPv6Address4Label", kString, "", nil},
	{"cn1", "deviceCustomNumber1", kLong, "", nil},
	{"cn1Label", "deviceCustomNumber1Label", kString, "", nil},
	{"cn2", "deviceCustomNumber2", kLong, "", nil},
	{"cn2Label", "deviceCustomNumber2Label", kString, "", nil},
	{"cn3", "deviceCustomNumber3", kLong, "", nil},
	{"cn3Label", "deviceCustomNumber3Label", kString, "", nil},
	{"cs1", "deviceCustomString1", kString, "", nil},
	{"cs1Label", "deviceCustomString1Label", kString, "", nil},
	{"cs2", "deviceCustomString2", kString, "", nil},
	{"cs2Label", "deviceCustomString2Label", kString, "", nil},
	{"cs3", "deviceCustomString3", kString, "", nil},
	{"cs3Label", "deviceCustomString3Label", kString, "", nil},
	{"cs4", "deviceCustomString4", kString, "", nil},
	{"cs4Label", "deviceCustomString4Label", kString, "", nil},
	{"cs5", "deviceCustomString5", kString, "", nil},
	{"cs5Label", "deviceCustomString5Label", kString, "", nil},
	{"cs6", "deviceCustomString6", kString, "", nil},
	{"cs6Label", "deviceCustomString6Label", kString, "", nil},
	{"deviceDirection", "deviceDirection", kInteger, "network.direction", direction},
	{"deviceDnsDomain", "deviceDnsDomain", kString, "observer.hostname", nil},
	{"cat", "deviceEventCategory", kString, "", nil},
	{"deviceExternalId", "deviceExternalId", kString, "", nil},
	{"deviceFacility", "deviceFacility", kString, "", nil},
	{"dvchost", "deviceHostName", kString, "observer.hostname", nil},
	{"deviceInboundInterface", "deviceInboundInterface", kString, "observer.ingress.interface.name", nil},
	{"dvcmac", "deviceMacAddress", kMAC, "observer.mac", nil},
	{"deviceNtDomain", "deviceNtDomain", kString, "", nil},
	{"deviceOutboundInterface", "deviceOutboundInterface", kString, "observer.egress.interface.name", nil},
	{"devicePayloadId", "devicePayloadId", kString, "event.id", nil},
	{"dvcpid", "deviceProcessId", kInteger, "process.pid", nil},
	{"deviceProcessName", "deviceProcessName", kString, "process.name", nil},
	{"rt", "deviceReceiptTime", kTime, "", nil},
	{"dtz", "deviceTimeZone", kString, "event.timezone", nil},
	{"deviceTranslatedAddress", "deviceTranslatedAddress", kIP, "", nil},
	{"deviceTranslatedZoneExternalID", "deviceTranslatedZoneExternalID", kString, "", nil},
	{"deviceTranslatedZoneURI", "deviceTranslatedZoneURI", kString, "", nil},
	{"deviceZoneExternalID", "deviceZoneExternalID", kString, "", nil},
	{"deviceZoneURI", "deviceZoneURI", kString, "", nil},
	{"end", "endTime", kTime, "event.end", nil},
	{"eventId", "eventId", kLong, "event.id", nil},
	{"outcome", "eventOutcome", kString, "event.outcome", nil},
	{"externalId", "externalId", kString, "", nil},
	{"fileCreateTime", "fileCreateTime", kTime, "file.created", nil},
	{"fileHash", "fileHash", kString, "", nil},
	{"fileId", "fileId", kString, "file.inode", nil},
	{"fileModificationTime", "fileModificationTime", kTime, "file.mtime", nil},
	{"fname", "filename", kString, "file.name", nil},
	{"filePath", "filePath", kString, "file.path", nil},
	{"filePermission", "filePermission", kString, "file.group", nil},
	{"fsize", "fileSize", kInteger, "file.size", nil},
	{"fileType", "fileType", kString, "file.type", nil},
	{"flexDate1", "flexDate1", kTime, "", nil},
	{"flexDate1Label", "flexDate1Label", kString, "", nil},
	{"flexNumber1", "flexNumber1", kLong, "", nil},
	{"flexNumber1Label", "flexNumber1Label", kString, "", nil},
	{"flexNumber2", "flexNumber2", kLong, "", nil},
	{"flexNumber2Label", "flexNumber2Label", kString, "", nil},
	{"flexString1", "flexString1", kString, "", nil},
	{"flexString1Label", "flexString1Label", kString, "", nil},
	{"flexString2", "flexString2", kString, "", nil},
	{"flexString2Label", "flexString2Label", kString, "", nil},
	{"msg", "message", kString, "message", nil},
	{"oldFileCreateTime", "oldFileCreateTime", kTime, "", nil},
	{"oldFileHash", "oldFileHash", kString, "", nil},
	{"oldFileId", "oldFileId", kString, "", nil},
	{"oldFileModificationTime", "oldFileModificationTime", kTime, "", nil},
	{"oldFileName", "oldFileName", kString, "", nil},
	{"oldFilePath", "oldFilePath", kString, "", nil},
	{"oldFilePermission", "oldFilePermission", kString, "", nil},
	{"oldFileSize", "oldFileSize", kInteger, "", nil},
	{"oldFileType", "oldFileType", kString, "", nil},
	{"rawEvent", "rawEvent", kString, "", nil},
	{"reason", "Reason", kString, "", nil},
	{"requestClientApplication", "requestClientApplication", kString, "user_agent.original", nil},
	{"requestContext", "requestContext", kString, "http.request.referrer", referrer},
	{"requestCookies", "requestCookies", kString, "", nil},
	{"requestMethod", "requestMethod", kString, "http.request.method", nil},
	{"request", "requestUrl", kString, "url.original", nil},
	{"src", "sourceAddress", kIP, "source.ip", nil},
	{"sourceDnsDomain", "sourceDnsDomain", kString, "source.domain", nil},
	{"slat", "sourceGeoLatitude", kDouble, "source.geo.location.lat", nil},
	{"slong", "sourceGeoLongitude", kDouble, "source.geo.location.lon", nil},
	{"shost", "sourceHostName", kString, "source.domain", nil},
	{"smac", "sourceMacAddress", kMAC, "source.mac", nil},
	{"sntdom", "sourceNtDomain", kString, "", nil},
	{"spt", "sourcePort", kInteger, "source.port", nil},
	{"spid", "sourceProcessId", kInteger, "source.process.pid", nil},
	{"sproc", "sourceProcessName", kString, "source.process.name", nil},
	{"sourceServiceName", "sourceServiceName", kString, "source.service.name", nil},
	{"sourceTranslatedAddress", "sourceTranslatedAddress", kIP, "source.nat.ip", nil},
	{"sourceTranslatedPort", "sourceTranslatedPort", kInteger, "source.nat.port", nil},
	{"sourceTranslatedZoneExternalID", "sourceTranslatedZoneExternalID", kString, "", nil},
	{"sourceTranslatedZoneURI", "sourceTranslatedZoneURI", kString, "", nil},
	{"suid", "sourceUserId", kString, "source.user.id", nil},
	{"suser", "sourceUserName", kString, "source.user.name", nil},
	{"spriv", "sourceUserPrivileges", kString, "source.user.group.name", nil},
	{"sourceZoneExternalID", "sourceZoneExternalID", kString, "", nil},
	{"sourceZoneURI", "sourceZoneURI", kString, "", nil},
	{"start", "startTime", kTime, "event.start", nil},
	{"proto", "transportProtocol", kString, "network.transport", lower},
	{"type", "type", kInteger, "event.kind", nil},
	// ArcSight categorisation keys in common use whose short names the
	// standard does not list.
	{"catdt", "categoryDeviceType", kString, "", nil},
	{"mrt", "managerReceiptTime", kTime, "", nil},
	// Legacy spellings of the geographic keys (ArcSight connectors before
	// revision 25); the logstash codec takes them too.
	{"destinationLongitude", "destinationLongitude", kDouble, "destination.geo.location.lon", nil},
	{"destinationLatitude", "destinationLatitude", kDouble, "destination.geo.location.lat", nil},
	{"sourceLongitude", "sourceLongitude", kDouble, "source.geo.location.lon", nil},
	{"sourceLatitude", "sourceLatitude", kDouble, "source.geo.location.lat", nil},
}

func direction(v string) (string, bool) {
	switch v {
	case "0":
		return "inbound", true
	case "1":
		return "outbound", true
	}
	return "", false
}

func referrer(v string) (string, bool) { return v, strings.HasPrefix(v, "http") }

func lower(v string) (string, bool) {
	switch v {
	case "TCP":
		return "tcp", true
	case "UDP":
		return "udp", true
	case "ICMP":
		return "icmp", true
	}
	return strings.ToLower(v), true
}

// byName finds a dictionary key by short or full name, exact spelling
// first, then ignoring case (as decode_cef does). Built once, only read.
var byName, byLower = func() (exact, folded map[string]*key) {
	exact = make(map[string]*key, 2*len(dictionary))
	folded = make(map[string]*key, 2*len(dictionary))
	for i := range dictionary {
		k := &dictionary[i]
		for _, n := range []string{k.full, k.short} {
			exact[n] = k
			folded[strings.ToLower(n)] = k
		}
	}
	return exact, folded
}()

func lookup(name string) *key {
	if k, ok := byName[name]; ok {
		return k
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= 'A' && c <= 'Z' {
			return byLower[strings.ToLower(name)]
		}
	}
	return byLower[name]
}

// headerTargets are the ECS fields the header and the integration's own
// steps set, which an extension may set again.
var headerTargets = map[string]bool{
	"observer.vendor": true, "observer.product": true, "observer.version": true, "event.code": true,
	"message": true, "event.severity": true, "event.outcome": true, "event.kind": true, "user.name": true,
}

// labelOf returns the label key that names a custom field ("cs1" →
// "deviceCustomString1Label"), or "" for other keys.
func labelOf(e *ext) string {
	if e.key != nil {
		return e.key.label
	}
	full := e.name
	for _, p := range [...]string{"deviceCustomString", "deviceCustomNumber", "deviceCustomFloatingPoint", "deviceCustomIPv6Address", "deviceCustomDate", "flexString", "flexNumber", "flexDate"} {
		if strings.HasPrefix(full, p) && len(full) > len(p) && !strings.HasSuffix(full, "Label") {
			return full + "Label"
		}
	}
	return ""
}
