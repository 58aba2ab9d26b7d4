package microsoft

import (
	"errors"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
)

// M365 parses Microsoft 365 unified audit records (TypeM365) into the
// fields Elastic's o365 integration gives them (data stream o365.audit).
// The zero value is ready; it keeps buffers between calls and is not safe
// for concurrent use.
type M365 struct {
	base
	cats, types list
	dests       list
	ruleIDs     list
	ruleNames   list
}

// recordTypes names the Management Activity API record types, as Elastic
// writes them to event.code.
var recordTypes = map[string]string{
	"1": "ExchangeAdmin", "2": "ExchangeItem", "3": "ExchangeItemGroup", "4": "SharePoint",
	"6": "SharePointFileOperation", "7": "OneDrive", "8": "AzureActiveDirectory",
	"9": "AzureActiveDirectoryAccountLogon", "10": "DataCenterSecurityCmdlet",
	"11": "ComplianceDLPSharePoint", "12": "Sway", "13": "ComplianceDLPExchange",
	"14": "SharePointSharingOperation", "15": "AzureActiveDirectoryStsLogon",
	"16": "SkypeForBusinessPSTNUsage", "17": "SkypeForBusinessUsersBlocked",
	"18": "SecurityComplianceCenterEOPCmdlet", "19": "ExchangeAggregatedOperation",
	"20": "PowerBIAudit", "21": "CRM", "22": "Yammer", "23": "SkypeForBusinessCmdlets",
	"24": "Discovery", "25": "MicrosoftTeams", "28": "ThreatIntelligence", "29": "MailSubmission",
	"30": "MicrosoftFlow", "31": "AeD", "32": "MicrosoftStream",
	"33": "ComplianceDLPSharePointClassification", "34": "ThreatFinder", "35": "Project",
	"36": "SharePointListOperation", "37": "SharePointCommentOperation", "38": "DataGovernance",
	"39": "Kaizala", "40": "SecurityComplianceAlerts", "41": "ThreatIntelligenceUrl",
	"42": "SecurityComplianceInsights", "43": "MIPLabel", "44": "WorkplaceAnalytics",
	"45": "PowerAppsApp", "46": "PowerAppsPlan", "47": "ThreatIntelligenceAtpContent",
	"48": "LabelContentExplorer", "49": "TeamsHealthcare", "50": "ExchangeItemAggregated",
	"51": "HygieneEvent", "52": "DataInsightsRestApiAudit", "53": "InformationBarrierPolicyApplication",
	"54": "SharePointListItemOperation", "55": "SharePointContentTypeOperation",
	"56": "SharePointFieldOperation", "57": "MicrosoftTeamsAdmin", "58": "HRSignal",
	"59": "MicrosoftTeamsDevice", "60": "MicrosoftTeamsAnalytics", "61": "InformationWorkerProtection",
	"62": "Campaign", "63": "DLPEndpoint", "64": "AirInvestigation", "65": "Quarantine",
	"66": "MicrosoftForms", "67": "ApplicationAudit", "68": "ComplianceSupervisionExchange",
	"69": "CustomerKeyServiceEncryption", "70": "OfficeNative", "71": "MipAutoLabelSharePointItem",
	"72": "MipAutoLabelSharePointPolicyLocation", "73": "MicrosoftTeamsShifts",
	"75": "MipAutoLabelExchangeItem", "76": "CortanaBriefing", "78": "WDATPAlerts",
	"82": "SensitivityLabelPolicyMatch", "83": "SensitivityLabelAction",
	"84": "SensitivityLabeledFileAction", "85": "AttackSim", "86": "AirManualInvestigation",
	"87": "SecurityComplianceRBAC", "88": "UserTraining", "89": "AirAdminActionInvestigation",
	"90": "MSTIC", "91": "PhysicalBadgingSignal", "93": "AipDiscover", "94": "AipSensitivityLabelAction",
	"95": "AipProtectionAction", "96": "AipFileDeleted", "97": "AipHeartBeat", "98": "MCASAlerts",
	"99": "OnPremisesFileShareScannerDlp", "100": "OnPremisesSharePointScannerDlp",
	"101": "ExchangeSearch", "102": "SharePointSearch", "103": "PrivacyInsights",
	"105": "MyAnalyticsSettings", "106": "SecurityComplianceUserChange",
	"107": "ComplianceDLPExchangeClassification", "109": "MipExactDataMatch",
	"113": "MS365DCustomDetection", "147": "CoreReportingSettings", "148": "ComplianceConnector",
	"174": "DataShareOperation", "181": "EduDataLakeDownloadOperation",
}

// knownCode reports whether a RecordType given by name is one of the
// record types (Sentinel's OfficeActivity sometimes writes names).
func knownCode(name string) bool {
	for _, n := range recordTypes {
		if n == name {
			return true
		}
	}
	return false
}

var platforms = map[string]string{"0": "Unknown", "1": "Windows", "2": "MacOS", "3": "iOS", "4": "Android", "5": "Web Browser"}

// The file operations Elastic's pipeline categorises.
var (
	fileOps = map[string]string{
		"FileAccessed": "access", "FileDownloaded": "access",
		"FileModified": "change", "FileMoved": "change", "FileRenamed": "change", "FileRestored": "change",
		"FolderModified": "change", "FolderMoved": "change", "FolderRenamed": "change", "FolderRestored": "change",
		"FileDeleted": "deletion", "FolderDeleted": "deletion",
		"FileUploaded": "creation", "FolderCopied": "creation", "FolderCreated": "creation",
	}
	yammerConfig  = []string{"NetworkConfigurationUpdated", "NetworkSecurityConfigurationUpdated", "SoftDeleteSettingsUpdated", "ProcessProfileFields", "SupervisorAdminToggled"}
	yammerIAM     = []string{"NetworkSecurityConfigurationUpdated", "GroupCreation", "GroupDeletion", "NetworkUserSuspended", "UserSuspension"}
	yammerFile    = []string{"FileCreated", "FileDownloaded", "FileShared", "FileUpdateDescription", "FileUpdateName", "FileVisited"}
	yammerCreate  = []string{"FileCreated", "GroupCreation", "FileUpdateName"}
	yammerAccess  = []string{"FileDownloaded", "FileShared", "FileUpdateDescription", "FileVisited"}
	yammerGroupOp = []string{"GroupCreation", "GroupDeletion"}
)

func in(s string, set []string) bool {
	for _, x := range set {
		if x == s {
			return true
		}
	}
	return false
}

// Parse reads one unified audit record: as the Management Activity API
// returns it (also wrapped by Wazuh as {"integration":"office365",
// "office365":{...}}), or a Sentinel OfficeActivity row.
func (m *M365) Parse(payload []byte, dst *event.Event) error {
	n0 := len(dst.Fields)
	v, err := m.begin(payload, dst)
	if err != nil {
		return fail(dst, n0, err)
	}
	obj, _ := v.Object()
	if str(obj.Get("Type")) == "OfficeActivity" || obj.Get("OfficeWorkload") != nil {
		obj = m.sentinelOffice(obj)
	}
	if !isOffice(obj) {
		return fail(dst, n0, errors.New("not a unified audit record: no CreationTime, Operation, RecordType or Workload"))
	}
	m.cats.reset()
	m.types.reset()
	m.dests.reset()
	m.ruleIDs.reset()
	m.ruleNames.reset()
	m.emitOffice(obj, dst)
	m.o.finish()
	return nil
}

func isOffice(obj *fastjson.Object) bool {
	for _, k := range [...]string{"CreationTime", "Operation", "RecordType", "Workload", "tenant_id"} {
		if obj.Get(k) != nil {
			return true
		}
	}
	return false
}

// sentinelOffice shapes a Sentinel OfficeActivity row as the Management
// Activity API returns the record.
func (m *M365) sentinelOffice(obj *fastjson.Object) *fastjson.Object {
	ar := &m.arena
	root := ar.NewObject()
	ro, _ := root.Object()
	obj.Visit(func(k []byte, v *fastjson.Value) {
		switch key := string(k); key {
		case "TimeGenerated":
			if obj.Get("CreationTime") == nil {
				ro.Set("CreationTime", v)
			}
		case "OfficeWorkload":
			ro.Set("Workload", v)
		case "OfficeId":
			ro.Set("Id", v)
		case "Client_IPAddress":
			ro.Set("ClientIPAddress", v)
		case "Logon_Type":
			ro.Set("LogonType", v)
		case "TenantId", "SourceSystem", "Type", "SourceRecordId", "OrganizationId_", "UserId_",
			"OfficeTenantId", "OfficeTenantId_", "_ResourceId":
		default:
			ro.Set(key, m.sub(v))
		}
	})
	return ro
}

// office is what the ECS fields are built from.
type office struct {
	code, action    string
	client, server  string
	userID          string
	userEmail       string
	fullName        string
	orgID, orgName  string
	targetID        string
	sourceUserEmail string
	destUserID      string
	ua              string
	fileOwner       string
	paramUser       string
	kind            string
	outcome         string
	severity        int64
	haveClient      bool
}

// emitOffice adds the fields of Elastic's o365 audit pipeline.
func (m *M365) emitOffice(obj *fastjson.Object, dst *event.Event) {
	o, n := &m.o, &m.n
	var of office
	of.kind = "event"
	m.types.add("info")
	m.cats.add("web")

	if t, ok := timeValue(obj.Get("CreationTime")); ok {
		dst.Time = t
	}
	// The client address: the first of these the record has.
	clientKey := ""
	for _, k := range [...]string{"ClientIPAddress", "ClientIP", "ActorIpAddress"} {
		if x := obj.Get(k); x != nil {
			clientKey, of.client, of.haveClient = k, text(x), true
			break
		}
	}
	of.userID = text(obj.Get("UserId"))
	of.action = text(obj.Get("Operation"))
	rt := text(obj.Get("RecordType"))
	of.code = recordTypes[rt]
	if of.code == "" && knownCode(rt) {
		of.code = rt
	}
	switch strings.ToLower(str(obj.Get("ResultStatus"))) {
	case "succeeded", "success", "partiallysucceeded", "true":
		of.outcome = "success"
	case "failed", "false":
		of.outcome = "failure"
	default:
		of.outcome = "success"
	}
	switch str(obj.Get("Severity")) {
	case "informational":
		of.severity = 1
	case "low":
		of.severity = 2
	case "medium":
		of.severity = 3
	case "high":
		of.severity = 4
	}
	code := of.code
	exch := code == "ExchangeAdmin" || code == "ExchangeItem"
	spFile := code == "SharePointFileOperation" || code == "SharePointSharingOperation"
	dlp := code == "ComplianceDLPSharePoint" || code == "ComplianceDLPExchange"

	const ns = "o365.audit."
	obj.Visit(func(k []byte, v *fastjson.Value) {
		key := string(k) // no allocation: only compared
		switch {
		case key == clientKey:
			return
		case key == "Id":
			o.value("event.id", v)
			return
		case key == "Workload":
			o.value("event.provider", v)
			return
		case key == "Operation":
			return // event.action, below
		case key == "OrganizationId":
			of.orgID = strings.ToLower(text(v))
			return
		case key == "UserAgent":
			of.ua = text(v)
			return
		case key == "Parameters":
			m.nameValues(ns+"Parameters", v, &of.paramUser, nil)
			return
		case key == "ExtendedProperties":
			m.nameValues(ns+"ExtendedProperties", v, nil, &of.ua)
			return
		case key == "ModifiedProperties":
			m.modifiedProperties(ns+"ModifiedProperties", v)
			return
		case key == "AlertLinks" && v.Type() == fastjson.TypeArray:
			m.alertLinks(ns+"AlertLinks", v, code == "SecurityComplianceAlerts")
			return
		case key == "OperationProperties":
			n.walkValue(o, ns+"OperationProperties", m.sub(v), false)
			return
		case key == "Platform":
			if p, ok := platforms[text(v)]; ok {
				o.addString(ns+"Platform", p)
				return
			}
		case key == "Actor" || key == "Target":
			if v.Type() == fastjson.TypeArray {
				start := len(o.vbuf)
				o.vbuf = appendTypeAsString(o.vbuf, v)
				o.mark(n.join(ns, k, false), start)
				return
			}
		case key == "Data":
			m.data(ns+"Data.", v)
			return
		case exch && key == "OrganizationName":
			of.orgName = text(v)
			return
		case exch && key == "OriginatingServer":
			of.server = text(v)
			return
		case code == "ExchangeItem" && key == "MailboxOwnerUPN":
			of.userEmail = text(v)
			return
		case code == "ExchangeItem" && key == "LogonUserDisplayName":
			of.fullName = text(v)
			return
		case code == "ExchangeItem" && key == "ClientProcessName":
			o.value("process.name", v)
			return
		case code == "AzureActiveDirectory" && key == "ObjectId":
			of.targetID = text(v)
		case code == "MicrosoftTeams" && key == "ObjectId" && of.action == "Delete user.":
			of.targetID = text(v)
			return
		case spFile && key == "ObjectId":
			o.value("url.original", v)
			return
		case spFile && key == "SourceRelativeUrl":
			o.value("file.directory", v)
			return
		case spFile && key == "SourceFileName":
			o.value("file.name", v)
			return
		case spFile && key == "SourceFileExtension":
			o.value("file.extension", v)
			return
		case code == "SecurityComplianceAlerts" && m.complianceAlert(key, v):
			of.kind = "alert"
			return
		case dlp && m.dlp(key, v, &of):
			return
		case code == "Yammer" && m.yammer(key, v, &of):
			return
		case code == "MicrosoftTeams" && key == "TeamName":
			o.value("group.name", v)
			return
		case code == "MicrosoftTeams" && key == "Members":
			for _, mem := range v.GetArray() {
				m.users.add(str(mem.Get("UPN")))
			}
		}
		n.walkValue(o, n.join(ns, k, false), v, false)
	})

	if code == "ExchangeItem" && of.userID == "" {
		if sid := text(obj.Get("LogonUserSid")); sid != "" {
			of.userID = sid
		}
	}
	if code == "SecurityComplianceAlerts" {
		of.kind = "alert"
	}
	if dlp {
		of.kind = "alert"
		m.cats.add("file")
		m.types.add("access")
		m.dlpPolicies(obj, &of)
	}
	m.categorise(&of)

	o.lit("event.kind", of.kind)
	if of.action != "" {
		o.addString("event.action", of.action)
	}
	if code != "" {
		o.addString("event.code", code)
	}
	o.lit("event.outcome", of.outcome)
	if of.severity > 0 {
		o.int("event.severity", of.severity)
	}

	// Addresses.
	if of.haveClient && of.client != "" {
		addr, domain, port := clientAddress(of.client)
		if addr != "" {
			o.addString("client.address", addr)
		}
		if domain != "" {
			o.addString("client.domain", domain)
		}
		if ip, ok := parseIP(addr); ok {
			o.addString("client.ip", ip)
			o.addString("source.ip", ip)
			m.ips.add(ip)
			if strings.Contains(ip, ":") {
				o.lit("network.type", "ipv6")
			} else {
				o.lit("network.type", "ipv4")
			}
		}
		if port != "" {
			o.addString("client.port", port)
			o.addString("source.port", port)
		}
	}
	if of.server != "" {
		addr, domain := serverAddress(of.server)
		if addr != "" {
			o.addString("server.address", addr)
		}
		if domain != "" {
			o.addString("server.domain", domain)
		}
		if ip, ok := parseIP(addr); ok {
			o.addString("server.ip", ip)
			o.addString("destination.ip", ip)
			m.ips.add(ip)
		}
	}

	// Users.
	userName, userDomain := "", ""
	if of.userID != "" {
		o.addString("user.id", of.userID)
		if name, domain, ok := splitUPN(of.userID); ok {
			of.userEmail, userName, userDomain = of.userID, name, domain
			o.addString("user.name", name)
			o.addString("user.domain", domain)
		}
	}
	if of.userEmail != "" {
		o.addString("user.email", of.userEmail)
	}
	if of.fullName != "" {
		o.addString("user.full_name", of.fullName)
	}
	m.users.add(userName)
	if of.targetID != "" {
		o.addString("user.target.id", of.targetID)
		if name, domain, ok := splitUPN(of.targetID); ok {
			o.addString("user.target.email", of.targetID)
			o.addString("user.target.name", name)
			o.addString("user.target.domain", domain)
			m.users.add(name)
		}
	}
	if of.sourceUserEmail != "" {
		o.addString("source.user.email", of.sourceUserEmail)
	}
	if of.destUserID != "" {
		o.addString("destination.user.id", of.destUserID)
	}
	m.dests.emit(o, "destination.user.email")
	m.users.add(of.fileOwner)
	m.users.add(of.paramUser)

	// The tenant: organization and host.
	if of.orgID != "" {
		o.addString("organization.id", of.orgID)
		o.addString("host.id", of.orgID)
	}
	if of.orgName != "" {
		o.addString("organization.name", of.orgName)
		o.addString("host.name", of.orgName)
	} else if userDomain != "" {
		o.addString("host.name", userDomain)
	}
	if of.ua != "" {
		userAgent(o, of.ua)
	}
	m.ips.emit(o, "related.ip")
	m.users.emit(o, "related.user")
	m.cats.emit(o, "event.category")
	m.types.emit(o, "event.type")
	o.lit("event.module", "o365")
	o.lit("event.dataset", "o365.audit")
	o.lit("observer.vendor", "Microsoft")
	o.lit("observer.product", "Microsoft 365")
	o.lit("cloud.provider", "azure")
	o.lit("ecs.version", ecsVersion)
}

// categorise adds event.category and event.type as Elastic's pipeline
// does for the operations it knows, and renames Entra and Teams actions.
func (m *M365) categorise(of *office) {
	code, action := of.code, of.action
	switch {
	case code == "AzureActiveDirectory" && action == "Add user.":
		of.action = "added-user-account"
		m.cats.add("iam")
		m.types.add("user")
		m.types.add("creation")
	case code == "AzureActiveDirectory" && action == "Update user.":
		of.action = "modified-user-account"
		m.cats.add("iam")
		m.types.add("user")
		m.types.add("change")
	case (code == "AzureActiveDirectory" || code == "MicrosoftTeams") && action == "Delete user.":
		of.action = "deleted-user-account"
		m.cats.add("iam")
		m.types.add("user")
		m.types.add("deletion")
	case code == "AzureActiveDirectoryStsLogon":
		m.cats.add("authentication")
		m.types.add("start")
		m.types.add("access")
	case code == "MicrosoftTeams" && action == "TeamCreated":
		of.action = "added-group-account-to"
		m.cats.add("iam")
		m.types.add("group")
		m.types.add("creation")
	case code == "MicrosoftTeams" && action == "MemberAdded":
		of.action = "added-users-to-group"
		m.cats.add("iam")
		m.types.add("group")
		m.types.add("change")
	}
	if t, ok := fileOps[of.action]; ok {
		m.cats.add("file")
		m.types.add(t)
	}
	if of.action == "ComplianceSettingChanged" {
		m.cats.add("configuration")
		m.types.add("change")
	}
	if code == "Yammer" {
		a := of.action
		if in(a, yammerConfig) {
			m.cats.add("configuration")
			m.types.add("change")
		}
		if in(a, yammerIAM) {
			m.cats.add("iam")
		}
		if in(a, yammerFile) {
			m.cats.add("file")
		}
		if a == "NetworkSecurityConfigurationUpdated" {
			m.types.add("admin")
		}
		if in(a, yammerCreate) {
			m.types.add("creation")
		}
		if a == "GroupDeletion" {
			m.types.add("deletion")
		}
		if in(a, yammerAccess) {
			m.types.add("access")
		}
		if in(a, yammerGroupOp) {
			m.types.add("group")
		}
	}
}

// nameValues adds a [{"Name":n,"Value":v},...] list as prefix.n = v
// (a string as prefix._raw). It reports Parameters.User and
// ExtendedProperties.UserAgent, which Elastic moves elsewhere.
func (m *M365) nameValues(prefix string, v *fastjson.Value, user, ua *string) {
	o, n := &m.o, &m.n
	switch v.Type() {
	case fastjson.TypeString:
		o.value(prefix+"._raw", v)
		return
	case fastjson.TypeArray:
	default:
		n.walkValue(o, prefix, v, false)
		return
	}
	p := n.dot(prefix)
	for _, item := range v.GetArray() {
		name, val := item.Get("Name"), item.Get("Value")
		if name == nil || val == nil || val.Type() == fastjson.TypeNull {
			continue
		}
		key := name.GetStringBytes()
		if name.Type() != fastjson.TypeString {
			key = []byte(text(name))
		}
		if ua != nil && string(key) == "UserAgent" {
			*ua = text(val)
			continue
		}
		if user != nil && string(key) == "User" {
			*user = text(val)
		}
		n.walkValue(o, n.join(p, key, false), val, false)
	}
}

// modifiedProperties adds [{"Name":n,"NewValue":x,"OldValue":y},...] as
// prefix.<n with spaces and dots as '_'>.NewValue / .OldValue, for entries
// that have both.
func (m *M365) modifiedProperties(prefix string, v *fastjson.Value) {
	o, n := &m.o, &m.n
	switch v.Type() {
	case fastjson.TypeString:
		o.value(prefix+"._raw", v)
		return
	case fastjson.TypeArray:
	default:
		n.walkValue(o, prefix, v, false)
		return
	}
	p := n.dot(prefix)
	var key []byte
	for _, item := range v.GetArray() {
		if item.Type() != fastjson.TypeObject {
			continue // a bare name holds an empty object: no leaves
		}
		nv, ov := item.Get("NewValue"), item.Get("OldValue")
		if nv == nil || ov == nil || nv.Type() == fastjson.TypeNull || ov.Type() == fastjson.TypeNull {
			continue
		}
		key = append(key[:0], text(item.Get("Name"))...)
		for i, c := range key {
			if c == ' ' || c == '.' {
				key[i] = '_'
			}
		}
		q := n.dot(n.join(p, key, false))
		n.walkValue(o, q+"NewValue", nv, false)
		n.walkValue(o, q+"OldValue", ov, false)
	}
}

// alertLinks keeps the AlertLinkHref of each link; a compliance alert's
// links go to rule.reference.
func (m *M365) alertLinks(name string, v *fastjson.Value, alert bool) {
	var hrefs list
	for _, l := range v.GetArray() {
		if h := l.Get("AlertLinkHref"); h != nil && h.Type() == fastjson.TypeString {
			hrefs.items = append(hrefs.items, str(h))
		}
	}
	if alert {
		name = "rule.reference"
	}
	hrefs.emit(&m.o, name)
}

// complianceAlert renames the fields of a SecurityComplianceAlerts record
// Elastic moves to rule.* and message; it reports whether key was one.
func (m *M365) complianceAlert(key string, v *fastjson.Value) bool {
	o := &m.o
	switch key {
	case "Comments":
		o.value("message", v)
	case "Name":
		o.value("rule.name", v)
	case "PolicyId":
		o.value("rule.id", v)
	case "Category":
		o.value("rule.category", v)
	case "EntityType":
		o.value("rule.ruleset", v)
	case "AlertEntityId":
		o.value("rule.description", v)
	default:
		return false
	}
	return true
}

// dlp renames the fields of a DLP record Elastic maps; it reports whether
// key was one.
func (m *M365) dlp(key string, v *fastjson.Value, of *office) bool {
	o, n := &m.o, &m.n
	const ns = "o365.audit."
	switch key {
	case "SharePointMetaData":
		if v.Type() != fastjson.TypeObject {
			return false
		}
		obj, _ := v.Object()
		obj.Visit(func(k []byte, x *fastjson.Value) {
			switch string(k) {
			case "From":
				if of.userID == "" {
					of.userID = text(x)
					return
				}
			case "FileName":
				o.value("file.name", x)
				return
			case "FilePathUrl":
				o.value("url.original", x)
				return
			case "UniqueId", "UniqueID":
				o.value("file.inode", x)
				return
			case "FileOwner":
				of.fileOwner = text(x)
				o.value("file.owner", x)
				return
			case "LastModifiedTime":
				if t, ok := timeValue(x); ok {
					o.addString("file.mtime", t.Format(isoMillis))
				}
			}
			n.walkValue(o, n.join(ns+"SharePointMetaData.", k, false), x, false)
		})
	case "ExchangeMetaData":
		if v.Type() != fastjson.TypeObject {
			return false
		}
		obj, _ := v.Object()
		obj.Visit(func(k []byte, x *fastjson.Value) {
			switch string(k) {
			case "From":
				of.sourceUserEmail = text(x)
				return
			case "Subject":
				o.value("message", x)
				return
			case "To", "CC", "BCC":
				if x.Type() == fastjson.TypeArray {
					for _, e := range x.GetArray() {
						m.dests.add(str(e))
					}
				} else {
					m.dests.add(str(x))
				}
			}
			n.walkValue(o, n.join(ns+"ExchangeMetaData.", k, false), x, false)
		})
	case "PolicyId":
		if v.Type() == fastjson.TypeString {
			m.ruleIDs.add(str(v))
		}
	case "PolicyName":
		if v.Type() == fastjson.TypeString {
			m.ruleNames.add(str(v))
		}
	case "ExceptionInfo":
		if v.Type() != fastjson.TypeString {
			return false
		}
		o.value(ns+"ExceptionInfo.Reason", v)
	default:
		return false
	}
	return true
}

// dlpPolicies reads a DLP record's PolicyDetails: rule.id and rule.name of
// its rules, event.severity the highest rule severity, and the outcome
// failure when a rule blocked access.
func (m *M365) dlpPolicies(obj *fastjson.Object, of *office) {
	policies := obj.Get("PolicyDetails")
	if policies != nil && policies.Type() == fastjson.TypeArray {
		maxSev, allowed := int64(0), true
		for _, p := range policies.GetArray() {
			for _, r := range p.GetArray("Rules") {
				id, name := str(r.Get("RuleId")), str(r.Get("RuleName"))
				if id != "" && name != "" {
					m.ruleIDs.items = append(m.ruleIDs.items, id)
					m.ruleNames.items = append(m.ruleNames.items, name)
				}
				var sev int64
				switch strings.ToLower(str(r.Get("Severity"))) {
				case "informational":
					sev = 1
				case "low":
					sev = 2
				case "medium":
					sev = 3
				case "high":
					sev = 4
				}
				maxSev = max(maxSev, sev)
				for _, a := range r.GetArray("Actions") {
					if str(a) == "BlockAccess" {
						allowed = false
					}
				}
			}
		}
		of.severity = maxSev
		switch {
		case allowed, of.action == "DlpRuleUndo":
			of.outcome = "success"
		case of.action == "DlpInfo":
			of.outcome = "failure"
		default:
			of.outcome = "failure"
			if e := obj.Get("ExceptionInfo"); e != nil && e.Type() != fastjson.TypeNull && !isEmptyObject(e) {
				of.outcome = "success"
			}
		}
	}
	m.ruleIDs.emit(&m.o, "rule.id")
	m.ruleNames.emit(&m.o, "rule.name")
}

// yammer renames the fields of a Yammer record Elastic maps.
func (m *M365) yammer(key string, v *fastjson.Value, of *office) bool {
	o := &m.o
	switch key {
	case "ActorUserId":
		of.userEmail = text(v)
	case "ActorYammerUserId":
		if of.userID == "" {
			of.userID = text(v)
		}
		o.addString("o365.audit.ActorYammerUserId", text(v))
	case "FileId":
		o.value("file.inode", v)
	case "FileName":
		o.value("file.name", v)
	case "GroupName":
		o.value("group.name", v)
	case "TargetUserId":
		m.dests.add(text(v))
	case "TargetYammerUserId":
		of.destUserID = text(v)
	default:
		return false
	}
	return true
}

// dataKeys are the keys of an alert's Data Elastic copies out of
// Data.flattened.
var dataKeys = []string{"ad", "af", "aii", "ail", "alk", "als", "an", "at",
	"cid", "cpid", "dm", "dpn", "eid", "etps", "etype", "f3u", "fvs",
	"imsgid", "lon", "mat", "md", "ms", "od", "op", "ot", "plk", "pud",
	"reid", "rid", "sev", "sict", "sid", "sip", "sitmi", "srt", "ssic",
	"suid", "tdc", "te", "thn", "tht", "tid", "tpid", "tpt", "trc", "ts",
	"tsd", "ttdt", "ttr", "upfc", "upfv", "ut", "von", "wl", "zfh", "zfn",
	"zmfh", "zmfn", "zu"}

// data adds an alert's Data (JSON text) as Data.flattened.* and its known
// keys as Data.<key>, times as ISO 8601.
func (m *M365) data(prefix string, v *fastjson.Value) {
	o, n := &m.o, &m.n
	d := m.sub(v)
	if d.Type() != fastjson.TypeObject {
		n.walkValue(o, prefix+"flattened", d, false)
		return
	}
	n.walkValue(o, prefix+"flattened", d, false)
	for _, k := range dataKeys {
		x := d.Get(k)
		if x == nil || x.Type() == fastjson.TypeNull {
			continue
		}
		switch k {
		case "at", "md", "te", "ts", "ttdt":
			if t, ok := timeValue(x); ok {
				o.addString(prefix+k, t.Format(isoMillis))
				continue
			}
		case "f3u", "suid", "tsd", "trc":
			if s := str(x); len(s) >= 3 && strings.Count(s, "@") == 1 {
				m.users.add(s)
			}
		}
		n.walkValue(o, prefix+k, x, false)
	}
}

// appendTypeAsString appends an Actor or Target list with each Type as a
// string, as Elastic converts it.
func appendTypeAsString(b []byte, v *fastjson.Value) []byte {
	b = append(b, '[')
	for i, item := range v.GetArray() {
		if i > 0 {
			b = append(b, ',')
		}
		obj, err := item.Object()
		if err != nil {
			b = appendJSON(b, item, false)
			continue
		}
		b = append(b, '{')
		first := true
		obj.Visit(func(k []byte, x *fastjson.Value) {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = ecs.AppendJSONString(b, k)
			b = append(b, ':')
			if string(k) == "Type" && x.Type() == fastjson.TypeNumber {
				b = ecs.AppendJSONString(b, x.String())
			} else {
				b = appendJSON(b, x, false)
			}
		})
		b = append(b, '}')
	}
	return append(b, ']')
}

// clientAddress reads a ClientIP value as Elastic's grok does: an IP with
// or without brackets and port, ::ffff: mapped IPv4, "host (ip)", or a
// bare host name (client.domain).
func clientAddress(s string) (addr, domain, port string) {
	if i := strings.Index(s, "::ffff:"); i >= 0 {
		rest := s[i+7:]
		j := 0
		for j < len(rest) && (rest[j] >= '0' && rest[j] <= '9' || rest[j] == '.') {
			j++
		}
		if _, ok := parseIP(rest[:j]); ok && strings.Count(rest[:j], ".") == 3 {
			s = s[:i] + rest
		}
	}
	if strings.HasPrefix(s, "[") {
		if end := strings.IndexByte(s, ']'); end > 0 {
			host, rest := s[1:end], s[end+1:]
			if _, ok := parseIP(host); ok {
				if rest == "" {
					return host, "", ""
				}
				if p := strings.TrimPrefix(rest, ":"); p != rest && isDigits(p) {
					return host, "", p
				}
			}
		}
	}
	if _, ok := parseIP(s); ok {
		return s, "", ""
	}
	if i := strings.LastIndexByte(s, ':'); i > 0 && isDigits(s[i+1:]) {
		if _, ok := parseIP(s[:i]); ok && strings.Count(s[:i], ":") == 0 {
			return s[:i], "", s[i+1:]
		}
	}
	if !strings.ContainsAny(s, " \t") {
		return "", s, ""
	}
	if h, a, ok := hostAndIP(s); ok {
		return a, h, ""
	}
	return s, "", ""
}

// serverAddress reads an OriginatingServer value: "HOST (ip)" or the
// whole value as the address.
func serverAddress(s string) (addr, domain string) {
	s = strings.NewReplacer("\n", "", "\r", "").Replace(s)
	t := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if h, a, ok := hostAndIP(t); ok {
		return a, h
	}
	if h, a, ok := hostAndIP(s); ok {
		return a, h
	}
	return s, ""
}

// hostAndIP splits "host (address)".
func hostAndIP(s string) (host, addr string, ok bool) {
	i := strings.IndexByte(s, ' ')
	if i <= 0 || i+2 >= len(s) || s[i+1] != '(' {
		return "", "", false
	}
	j := strings.IndexByte(s[i+2:], ')')
	if j < 0 {
		return "", "", false
	}
	return s[:i], s[i+2 : i+2+j], true
}

// isoMillis is how Elasticsearch's date processor writes a time.
const isoMillis = "2006-01-02T15:04:05.000Z07:00"

func isEmptyObject(v *fastjson.Value) bool {
	o, err := v.Object()
	return err == nil && o.Len() == 0
}

func isDigits(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s[0] != '0'
}
