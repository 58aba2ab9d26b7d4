package fortigate

// The FortiOS keys the mapping reads, by number, so that a lookup is an
// array index rather than a map operation. Keys not listed here are kept
// as fortinet.firewall.<key> in the order they came.
type key uint16

const (
	kAction key = iota
	kAddr
	kAddrgrp
	kAdminprof
	kAdvpnsc
	kAgent
	kApp
	kAppcat
	kApplist
	kAssignip
	kAuditid
	kAudittime
	kAuthalgo
	kCatdesc
	kCcertissuer
	kCerthash
	kCipher
	kCn
	kCollectedemail
	kComment
	kDaddr
	kDate
	kDesc
	kDevid
	kDevname
	kDeviceID
	kDir
	kDirection
	kDisklograte
	kDstHost
	kDstInt
	kDstPort2 // dst_port
	kDstcollectedemail
	kDstintf
	kDstip
	kDstmac
	kDstname
	kDstport
	kDstunauthuser
	kDtype
	kDuration
	kEapuser
	kError
	kErrorNum
	kErrorcode
	kEventID2 // event_id
	kEventid
	kEventsubtype
	kEventtime
	kEventtype
	kFazlograte
	kFile
	kFilehash
	kFilename
	kFilesize
	kFiletype
	kFrom
	kGroup
	kHandshake
	kHostname
	kHttpmethod
	kInfectedfilename
	kInfectedfilesize
	kInfectedfiletype
	kInterface
	kIP
	kIpaddr
	kIssuer
	kJitter
	kKeyalgo
	kKeysize
	kKxcurve
	kLanin
	kLanout
	kLatency
	kLevel
	kLocip
	kLocport
	kLogID2 // log_id
	kLogdesc
	kLogid
	kMatchedfilename
	kMatchedfiletype
	kMem
	kMsg
	kNotafter
	kNotbefore
	kPolicyID2 // policy_id
	kPolicyid
	kPolicyname
	kPolicytype
	kPoluuid
	kPri
	kProfile
	kProto
	kQclass
	kQname
	kQtype
	kQuotamax
	kQuotaused
	kRcvdbyte
	kRcvdpkt
	kReason
	kRecipient
	kRef
	kReferralurl
	kRemip
	kRemoteIP
	kRemotePort
	kRemport
	kResult
	kSaddr
	kSan
	kScertcname
	kScertissuer
	kSender
	kSentbyte
	kSentpkt
	kService
	kSessDuration
	kSetuprate
	kSize
	kSn
	kSni
	kSourceMac
	kSrcInt
	kSrcPort2 // src_port
	kSrcdomain
	kSrcintf
	kSrcip
	kSrcmac
	kSrcname
	kSrcport
	kSrcthreatfeed
	kStatus
	kSubject
	kSubtype
	kTime
	kTlsver
	kTranip
	kTranport
	kTransip
	kTransport
	kTunnelip
	kType
	kTz
	kUI
	kUnauthuser
	kURL
	kUser
	kUserfrom
	kUtmaction
	kValid
	kWanin
	kWanout
	kXauthuser
	kXid
)

// numKeys is the number of numbered keys: those above, then keys no ECS
// field takes, numbered only so that their native names are built once.
const numKeys = key(len(keyNames))

// keyNames are the FortiOS spellings of the keys above, in the same order.
var keyNames = [...]string{
	"action", "addr", "addrgrp", "adminprof", "advpnsc", "agent", "app", "appcat", "applist", "assignip",
	"auditid", "audittime", "authalgo", "catdesc", "ccertissuer", "certhash", "cipher", "cn", "collectedemail", "comment",
	"daddr", "date", "desc", "devid", "devname", "device_id", "dir", "direction", "disklograte", "dst_host",
	"dst_int", "dst_port", "dstcollectedemail", "dstintf", "dstip", "dstmac", "dstname", "dstport", "dstunauthuser", "dtype",
	"duration", "eapuser", "error", "error_num", "errorcode", "event_id", "eventid", "eventsubtype", "eventtime", "eventtype",
	"fazlograte", "file", "filehash", "filename", "filesize", "filetype", "from", "group", "handshake", "hostname",
	"httpmethod", "infectedfilename", "infectedfilesize", "infectedfiletype", "interface", "ip", "ipaddr", "issuer", "jitter", "keyalgo",
	"keysize", "kxcurve", "lanin", "lanout", "latency", "level", "locip", "locport", "log_id", "logdesc",
	"logid", "matchedfilename", "matchedfiletype", "mem", "msg", "notafter", "notbefore", "policy_id", "policyid", "policyname",
	"policytype", "poluuid", "pri", "profile", "proto", "qclass", "qname", "qtype", "quotamax", "quotaused",
	"rcvdbyte", "rcvdpkt", "reason", "recipient", "ref", "referralurl", "remip", "remote_ip", "remote_port", "remport",
	"result", "saddr", "san", "scertcname", "scertissuer", "sender", "sentbyte", "sentpkt", "service", "sess_duration",
	"setuprate", "size", "sn", "sni", "source_mac", "src_int", "src_port", "srcdomain", "srcintf", "srcip",
	"srcmac", "srcname", "srcport", "srcthreatfeed", "status", "subject", "subtype", "time", "tlsver", "tranip",
	"tranport", "transip", "transport", "tunnelip", "type", "tz", "ui", "unauthuser", "url", "user",
	"userfrom", "utmaction", "valid", "wanin", "wanout", "xauthuser", "xid",
	"srcintfrole", "dstintfrole", "sessionid", "srccountry", "dstcountry", "trandisp", "appid", "apprisk",
	"vd", "srcuuid", "dstuuid", "vwlid", "srcserver", "mastersrcmac", "dstserver", "countapp",
	"crscore", "craction", "crlevel", "utmref", "osname", "srcfamily", "srchwvendor", "devtype",
	"srcswversion", "dsthwvendor", "dstosname", "masterdstmac", "authserver", "method", "reqtype", "cat",
	"attack", "attackid", "severity", "incidentserialno", "cfgtid", "cfgpath", "cfgobj", "cfgattr",
	"logtime", "sentdelta", "rcvddelta", "countweb", "countips", "countav", "countdns", "countssl",
	"vpntype", "vpn", "policymode", "shapersentname", "shaperdropsentbyte", "shaperrcvdname", "shaperdroprcvdbyte", "shaperperipname",
	"shaperperipdropbyte", "outintf", "cookies", "vpntunnel", "tunnelid", "tunneltype", "nextstat", "fctuid",
	"eapauthgroup", "peer_notif", "useralt", "xauthgroup", "init", "mode", "stage", "role",
	"stacount", "poolname", "reqlength", "resplength", "rawdata", "dstinetsvc", "srcinetsvc", "sslaction",
	"fortiguardresp", "ssid", "channel", "radioband", "apscan", "ha_group", "vcluster", "uuid",
}

// keyTable finds a key's number by its spelling: an open-addressing hash
// table built once and only read, cheaper than a map for short keys.
var keyTable = func() (t [keySlots]key) {
	for i := range t {
		t[i] = numKeys
	}
	for i, n := range keyNames {
		h := keyHash(n)
		for t[h] != numKeys {
			h = (h + 1) & (keySlots - 1)
		}
		t[h] = key(i)
	}
	return t
}()

const keySlots = 1024

func keyHash(k string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(k); i++ {
		h = (h ^ uint32(k[i])) * 16777619
	}
	return h & (keySlots - 1)
}

// lookup returns the number of key k, if it has one.
func lookup(k string) (key, bool) {
	h := keyHash(k)
	for {
		id := keyTable[h]
		if id == numKeys {
			return 0, false
		}
		if keyNames[id] == k {
			return id, true
		}
		h = (h + 1) & (keySlots - 1)
	}
}

// The ECS fields the mapping writes, by number; emitted in this order.
type field uint8

const (
	fEventKind field = iota
	fEventAction
	fEventOutcome
	fEventCode
	fEventReason
	fEventID
	fEventMessage
	fEventReference
	fEventTimezone
	fEventStart
	fEventDuration
	fMessage
	fLogLevel
	fLogSyslogPriority
	fLogSyslogFacility
	fLogSyslogSeverity
	fObserverName
	fObserverSerial
	fObserverEgress
	fObserverIngress
	fHostName
	fUserName
	fEmailSubject
	fRuleID
	fRuleName
	fRuleUUID
	fRuleRuleset
	fRuleCategory
	fRuleDescription
	// source.* and destination.* fields come in pairs (see swapped), user
	// fields last.
	fSourceIP
	fSourcePort
	fSourceBytes
	fSourcePackets
	fSourceMac
	fSourceAddress
	fSourceDomain
	fSourceNatIP
	fSourceNatPort
	fDestinationIP
	fDestinationPort
	fDestinationBytes
	fDestinationPackets
	fDestinationMac
	fDestinationAddress
	fDestinationDomain
	fDestinationNatIP
	fDestinationNatPort
	fSourceUserName
	fSourceUserGroup
	fDestinationUserName
	fNetworkIANA
	fNetworkTransport
	fNetworkProtocol
	fNetworkApplication
	fNetworkDirection
	fNetworkBytes
	fNetworkPackets
	fErrorCode
	fUserAgent
	fFileName
	fFileSize
	fFileExtension
	fURLOriginal
	fURLScheme
	fURLDomain
	fURLPort
	fURLPath
	fURLQuery
	fURLFragment
	fURLExtension
	fURLUsername
	fURLPassword
	fThreatFeed
	fHTTPMethod
	fHTTPReferrer
	fDNSQuestionName
	fDNSQuestionClass
	fDNSQuestionType
	fDNSRegisteredDomain
	fDNSTopLevelDomain
	fDNSSubdomain
	fDNSID
	fTLSServerIssuer
	fTLSClientIssuer
	fTLSServerKeyAlgo
	fTLSClientKeyAlgo
	fTLSServerNotBefore
	fTLSServerNotAfter
	fTLSServerX509NotBefore
	fTLSServerX509NotAfter
	fTLSServerKeySize
	fTLSServerSerial
	fTLSServerSHA1
	fTLSCurve
	fTLSCipher
	fTLSServerName
	fTLSEstablished
	fTLSVersionProtocol
	fTLSVersion
	fFileHashCRC32
	numFields
)

var fieldNames = [numFields]string{
	"event.kind", "event.action", "event.outcome", "event.code", "event.reason", "event.id", "event.message", "event.reference", "event.timezone", "event.start", "event.duration",
	"message", "log.level", "log.syslog.priority", "log.syslog.facility.code", "log.syslog.severity.code",
	"observer.name", "observer.serial_number", "observer.egress.interface.name", "observer.ingress.interface.name",
	"host.name", "user.name", "email.subject",
	"rule.id", "rule.name", "rule.uuid", "rule.ruleset", "rule.category", "rule.description",
	"source.ip", "source.port", "source.bytes", "source.packets", "source.mac", "source.address", "source.domain", "source.nat.ip", "source.nat.port",
	"destination.ip", "destination.port", "destination.bytes", "destination.packets", "destination.mac", "destination.address", "destination.domain", "destination.nat.ip", "destination.nat.port",
	"source.user.name", "source.user.group.name", "destination.user.name",
	"network.iana_number", "network.transport", "network.protocol", "network.application", "network.direction", "network.bytes", "network.packets",
	"error.code", "user_agent.original", "file.name", "file.size", "file.extension",
	"url.original", "url.scheme", "url.domain", "url.port", "url.path", "url.query", "url.fragment", "url.extension", "url.username", "url.password",
	"threat.feed.name", "http.request.method", "http.request.referrer",
	"dns.question.name", "dns.question.class", "dns.question.type", "dns.question.registered_domain", "dns.question.top_level_domain", "dns.question.subdomain", "dns.id",
	"tls.server.issuer", "tls.client.issuer", "tls.server.x509.public_key_algorithm", "tls.client.x509.public_key_algorithm",
	"tls.server.not_before", "tls.server.not_after", "tls.server.x509.not_before", "tls.server.x509.not_after",
	"tls.server.x509.public_key_size", "tls.server.x509.serial_number", "tls.server.hash.sha1",
	"tls.curve", "tls.cipher", "tls.client.server_name", "tls.established", "tls.version_protocol", "tls.version",
	"fortinet.file.hash.crc32",
}

// The ECS array fields, emitted as JSON arrays.
type array uint8

const (
	aEventCategory array = iota
	aEventType
	aRelatedIP
	aRelatedUser
	aRelatedHosts
	aRelatedHash
	aUserRoles
	aSourceUserRoles
	aEmailTo
	aEmailFrom
	aEmailSender
	aDNSResolvedIP
	aTLSServerSubjectCN
	aTLSServerIssuerCN
	aTLSClientIssuerCN
	aTLSServerAltNames
	aVulnCategory
	numArrays
)

var arrayNames = [numArrays]string{
	"event.category", "event.type", "related.ip", "related.user", "related.hosts", "related.hash",
	"user.roles", "source.user.roles", "email.to.address", "email.from.address", "email.sender.address",
	"dns.resolved_ip", "tls.server.x509.subject.common_name", "tls.server.x509.issuer.common_name",
	"tls.client.x509.issuer.common_name", "tls.server.x509.alternative_names", "vulnerability.category",
}

// nativePrefix names FortiOS keys kept as they came.
const nativePrefix = "fortinet.firewall."

// knownNames are the native names of the numbered keys, built once so that
// emitting one does not allocate.
var knownNames = func() (n [numKeys]string) {
	for i, k := range keyNames {
		n[i] = nativePrefix + k
	}
	return n
}()
