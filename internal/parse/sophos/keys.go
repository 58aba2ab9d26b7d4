package sophos

// The keys the ECS mapping reads.
const (
	kLogID = iota
	kLogType
	kLogSubtype
	kLogComponent
	kStatus
	kSeverity
	kDevice
	kDeviceName
	kDeviceID
	kDeviceSerialID
	kDate
	kTime
	kTimezone
	kTimestamp
	kDuration
	kInInterface
	kOutInterface
	kSrcZoneType
	kDstZoneType
	kSrcIP
	kDstIP
	kSourceIP
	kDestinationIP
	kLocalInterfaceIP
	kRemoteInterfaceIP
	kSrcPort
	kDstPort
	kTranSrcIP
	kTranDstIP
	kTranSrcPort
	kTranDstPort
	kSrcTransIP
	kDstTransIP
	kSrcTransPort
	kDstTransPort
	kSrcMAC
	kDstMAC
	kSentPkts
	kRecvPkts
	kPacketsSent
	kPacketsReceived
	kSentBytes
	kRecvBytes
	kBytesSent
	kBytesReceived
	kUserName
	kName
	kUserGp
	kUserGroupName
	kFwRuleID
	kFwRuleName
	kPolicyType
	kApplication
	kProtocol
	kURL
	kDomain
	kReferer
	kStatusCode
	kUserAgent
	kMessage
	kAction
	kAuthClient
	kConnEvent
	kConEvent
	kSignatureID
	kSignatureMsg
	kClassification
	numKeys
)

var keyIndex = map[string]int{
	"log_id": kLogID, "log_type": kLogType, "log_subtype": kLogSubtype, "log_component": kLogComponent,
	"status": kStatus, "severity": kSeverity, "device": kDevice, "device_name": kDeviceName,
	"device_id": kDeviceID, "device_serial_id": kDeviceSerialID, "date": kDate, "time": kTime,
	"timezone": kTimezone, "timestamp": kTimestamp, "duration": kDuration,
	"in_interface": kInInterface, "out_interface": kOutInterface, "srczonetype": kSrcZoneType,
	"dstzonetype": kDstZoneType, "src_zone_type": kSrcZoneType, "dst_zone_type": kDstZoneType, "src_ip": kSrcIP, "dst_ip": kDstIP, "sourceip": kSourceIP,
	"destinationip": kDestinationIP, "localinterfaceip": kLocalInterfaceIP,
	"remoteinterfaceip": kRemoteInterfaceIP, "src_port": kSrcPort, "dst_port": kDstPort,
	"tran_src_ip": kTranSrcIP, "tran_dst_ip": kTranDstIP, "tran_src_port": kTranSrcPort,
	"tran_dst_port": kTranDstPort, "src_trans_ip": kSrcTransIP, "dst_trans_ip": kDstTransIP,
	"src_trans_port": kSrcTransPort, "dst_trans_port": kDstTransPort, "src_mac": kSrcMAC,
	"dst_mac": kDstMAC, "sent_pkts": kSentPkts, "recv_pkts": kRecvPkts, "packets_sent": kPacketsSent,
	"packets_received": kPacketsReceived, "sent_bytes": kSentBytes, "recv_bytes": kRecvBytes,
	"bytes_sent": kBytesSent, "bytes_received": kBytesReceived, "user_name": kUserName, "name": kName,
	"user_gp": kUserGp, "usergroupname": kUserGroupName, "user_group": kUserGroupName,
	"fw_rule_id": kFwRuleID, "fw_rule_name": kFwRuleName, "policy_type": kPolicyType,
	"application": kApplication, "protocol": kProtocol, "url": kURL, "domain": kDomain,
	"referer": kReferer, "status_code": kStatusCode, "user_agent": kUserAgent, "message": kMessage,
	"action": kAction, "auth_client": kAuthClient, "connevent": kConnEvent, "con_event": kConEvent,
	"signature_id": kSignatureID, "signature_msg": kSignatureMsg, "classification": kClassification,
}
