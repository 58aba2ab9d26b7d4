package asa

// class is the ECS categorisation of one message id: event.category and
// event.type as JSON array text, event.outcome and event.action.
type class struct {
	category, typ, outcome, action string
}

// Category and type arrays.
const (
	catNetwork        = `["network"]`
	catConfiguration  = `["configuration"]`
	catAuthNetwork    = `["authentication","network"]`
	catNetworkSession = `["network","session"]`
	catNetworkConfig  = `["network","configuration"]`
	catNetworkFile    = `["network","file"]`
	catIAM            = `["iam"]`
	catAuthentication = `["authentication"]`

	typInfo            = `["info"]`
	typChange          = `["change"]`
	typCreation        = `["creation"]`
	typDeletion        = `["deletion"]`
	typAccess          = `["access"]`
	typConnDenied      = `["connection","denied"]`
	typConnAllowed     = `["connection","allowed"]`
	typConnStart       = `["connection","start"]`
	typConnEnd         = `["connection","end"]`
	typConnInfo        = `["connection","info"]`
	typAllowedInfo     = `["allowed","info"]`
	typDeniedInfo      = `["denied","info"]`
	typAccessAllowed   = `["access","allowed"]`
	typAccessDenied    = `["access","denied"]`
	typUserChange      = `["user","change"]`
	typUserCreation    = `["user","creation"]`
	typUserDeletion    = `["user","deletion"]`
	outcomeSuccess     = "success"
	outcomeFailure     = "failure"
	actionFirewallRule = "firewall-rule"
)

var (
	deny        = class{catNetwork, typConnDenied, outcomeFailure, actionFirewallRule}
	flowStart   = class{catNetwork, typConnStart, outcomeSuccess, "flow-creation"}
	flowEnd     = class{catNetwork, typConnEnd, outcomeSuccess, "flow-expiration"}
	flowEndAny  = class{catNetwork, typConnEnd, "", "flow-expiration"}
	loggedIn    = class{catAuthNetwork, typAllowedInfo, outcomeSuccess, "logged-in"}
	logonFailed = class{catAuthNetwork, typDeniedInfo, outcomeFailure, "logon-failed"}
	vpnError    = class{catNetwork, typConnDenied, outcomeFailure, "client-vpn-error"}
	dynInfo     = class{catNetwork, typConnInfo, "", "dynamic-filter"}
	dynDeny     = class{catNetwork, typConnDenied, outcomeFailure, "dynamic-filter"}
	unknown     = class{catNetwork, typInfo, "", ""}
)

// classes follows the categorisation script of Elastic's cisco_asa
// pipeline; ids marked "Tarian" are ours, for messages that pipeline
// leaves uncategorised.
var classes = map[string]class{
	"106001": deny, "106002": deny, "106006": deny, "106007": deny, "106010": deny,
	"106012": deny, "106013": deny, "106014": deny, "106015": deny, "106016": deny,
	"106017": deny, "106018": deny, "106020": deny, "106021": deny, "106022": deny,
	"106023": deny, "106027": deny, "106103": deny,
	"110002": {catNetwork, typConnInfo, outcomeFailure, actionFirewallRule},
	"111007": {catConfiguration, typInfo, outcomeSuccess, "configuration"},
	"111009": {catConfiguration, typInfo, outcomeSuccess, "configuration"},
	"111010": {catConfiguration, typChange, outcomeSuccess, "configuration"},
	"113004": loggedIn, "113005": logonFailed, "113008": loggedIn, "113009": loggedIn,
	"113012": loggedIn, "113015": logonFailed,
	"113019": {catNetwork, typConnEnd, "", "client-vpn-disconnected"},
	"113021": logonFailed,
	"113022": {catNetwork, typInfo, outcomeFailure, "server-failed"},
	"113023": {catNetwork, typInfo, outcomeSuccess, "server-active"},
	"113029": vpnError, "113030": vpnError, "113031": vpnError, "113032": vpnError,
	"113033": vpnError, "113034": vpnError, "113035": vpnError, "113036": vpnError,
	"113037": vpnError, "113038": vpnError, "113040": vpnError,
	"113039": {catNetworkSession, typConnStart, outcomeSuccess, "client-vpn-connected"},
	"302013": flowStart, "302015": flowStart, "302020": flowStart, "302022": flowStart,
	"302024": flowStart, "302026": flowStart,
	"302014": flowEndAny, "302036": flowEndAny, "302304": flowEndAny, "302306": flowEndAny,
	"302016": flowEnd, "302018": flowEnd, "302021": flowEnd, "302023": flowEnd,
	"302025": flowEnd, "302027": flowEnd,
	"303002": {catNetworkFile, typAccess, outcomeSuccess, "ftp"},
	"304001": {catNetwork, typAccessAllowed, outcomeSuccess, "url-access"},
	"304002": {catNetwork, typAccessDenied, outcomeFailure, "url-access"},
	"305011": {catNetworkConfig, typCreation, outcomeSuccess, "nat-slot"},
	"305012": {catNetworkConfig, typDeletion, outcomeSuccess, "nat-slot"},
	"313001": deny, "313004": deny, "313005": deny, "313008": deny, "313009": deny,
	"315011": {catNetwork, typConnEnd, "", "ssh-session-ended"},
	"322001": deny,
	"338001": dynInfo, "338002": dynInfo, "338003": dynInfo, "338004": dynInfo,
	"338005": dynDeny, "338006": dynDeny, "338007": dynDeny, "338008": dynDeny,
	"338101": dynInfo, "338102": dynInfo, "338103": dynInfo, "338104": dynInfo,
	"338201": dynInfo, "338202": dynInfo, "338203": dynDeny, "338204": dynDeny,
	"338301": {catNetwork, typConnInfo, "", actionFirewallRule},
	"419002": {catNetwork, typConnInfo, "", actionFirewallRule},
	"425005": {catNetwork, typInfo, "", "interface-switchover"},
	"434002": deny,
	"434004": {catNetwork, typInfo, "", "bypass"},
	"502103": {catIAM, typUserChange, outcomeSuccess, "privilege-level-changed"},
	"507003": {catNetwork, typConnEnd, "", "flow-termination"},
	"602303": {catNetwork, typConnStart, outcomeSuccess, "sa-created"},
	"602304": {catNetwork, typConnEnd, outcomeSuccess, "sa-deleted"},
	"605004": logonFailed, "605005": loggedIn,
	"607001": {catNetwork, typInfo, outcomeSuccess, actionFirewallRule},
	"609001": flowStart, "609002": flowEnd,
	"611101": loggedIn, "611102": logonFailed,
	"611103": {catAuthNetwork, typInfo, outcomeSuccess, "logged-out"},
	"710003": deny, "710005": deny, "710006": deny,
	"713049": {catNetwork, typConnStart, outcomeSuccess, actionFirewallRule},
	"713120": {catNetwork, typConnInfo, outcomeSuccess, actionFirewallRule},
	"713202": {catNetwork, typConnInfo, "", actionFirewallRule},
	"713901": {catNetwork, typInfo, outcomeFailure, "client-vpn-error"},
	"713902": {catNetwork, typInfo, outcomeFailure, "client-vpn-error"},
	"713903": {catNetwork, typInfo, "", ""}, "713904": {catNetwork, typInfo, "", ""},
	"713905": {catNetwork, typInfo, "", ""}, "713906": {catNetwork, typInfo, "", ""},
	"716002": {catNetwork, typConnEnd, "", "client-vpn-disconnected"},
	"716003": {catAuthNetwork, typAllowedInfo, outcomeSuccess, ""},
	"716039": logonFailed,
	"716058": {catNetwork, typConnEnd, "", "client-vpn-disconnected"},
	"716059": {catNetwork, typConnStart, "", "client-vpn-resumed"},
	"721016": {catNetwork, typConnStart, outcomeSuccess, "client-vpn-connected"},
	"721018": {catNetwork, typConnEnd, outcomeSuccess, "client-vpn-disconnected"},
	"722011": {catNetwork, typInfo, "", ""},
	"722022": {catNetwork, typConnInfo, outcomeSuccess, ""},
	"722023": {catNetwork, typConnEnd, outcomeSuccess, ""},
	"722028": {catNetwork, typConnEnd, outcomeSuccess, ""},
	"722032": {catNetwork, typConnStart, outcomeSuccess, ""},
	"722033": {catNetwork, typConnStart, outcomeSuccess, ""},
	"722034": {catNetwork, typConnInfo, "", ""},
	"722037": {catNetwork, typConnEnd, "", ""},
	"722051": {catNetwork, typConnInfo, outcomeSuccess, "address-assigned"},
	"722055": {catNetwork, typConnInfo, "", ""},
	"725001": {catNetwork, typConnStart, outcomeSuccess, ""},
	"725002": {catNetwork, typConnInfo, outcomeSuccess, ""},
	"725007": {catNetwork, typConnEnd, outcomeFailure, ""},
	"725016": {catNetwork, typConnInfo, outcomeSuccess, ""},
	"733100": {catNetwork, typInfo, "", ""},
	"734001": loggedIn,
	"737003": {catNetwork, typConnInfo, outcomeFailure, ""},
	"737006": {catNetwork, typConnInfo, outcomeSuccess, ""},
	"737016": {catNetwork, typConnInfo, outcomeSuccess, ""},
	"737026": {catNetwork, typConnInfo, outcomeSuccess, ""},
	"737034": {catNetwork, typConnInfo, outcomeFailure, ""},
	"750002": {catNetwork, typConnStart, outcomeSuccess, "connection-started"},
	"750003": {catNetwork, typConnStart, outcomeFailure, ""},
	"805001": {catNetwork, typConnStart, outcomeSuccess, "flow-offload-started"},
	"805002": {catNetwork, typConnEnd, outcomeSuccess, "flow-offload-ended"},

	// Tarian: messages Elastic's pipeline does not categorise.
	"106100": {catNetwork, typConnInfo, "", actionFirewallRule}, // refined by its outcome
	"106102": {catNetwork, typConnInfo, "", actionFirewallRule},
	"111002": {catConfiguration, typInfo, outcomeSuccess, "configuration"},
	"111003": {catConfiguration, typDeletion, outcomeSuccess, "configuration"},
	"111004": {catConfiguration, typInfo, "", "configuration"}, // refined by its outcome
	"111005": {catConfiguration, typInfo, "", "configuration"},
	"111008": {catConfiguration, typInfo, outcomeSuccess, "configuration"},
	"113006": {catAuthentication, typInfo, outcomeFailure, "user-locked-out"},
	"308001": {catAuthentication, typInfo, outcomeFailure, "logon-failed"},
	"108004": deny,
	"202010": {catNetwork, typConnDenied, outcomeFailure, "pat-pool-exhausted"},
	"209005": deny,
	"401004": deny,
	"410001": deny,
	"418001": deny,
	"420002": deny,
	"421001": deny,
	"500003": deny,
	"500004": deny,
	"502101": {catIAM, typUserCreation, outcomeSuccess, "user-created"},
	"502102": {catIAM, typUserDeletion, outcomeSuccess, "user-deleted"},
	"603108": {catNetwork, typConnStart, outcomeSuccess, ""},
	"603109": {catNetwork, typConnEnd, outcomeSuccess, ""},
	"710004": deny,
	"430001": {`["intrusion_detection","network"]`, typInfo, "", ""},
	"430002": {catNetwork, typConnStart, "", ""},
	"430003": {catNetwork, typConnEnd, "", ""},
	"430004": {catNetworkFile, typInfo, "", ""},
	"430005": {catNetwork, typInfo, "", ""},
	"716001": {catNetworkSession, typConnStart, outcomeSuccess, "client-vpn-connected"},
}

// outcomeClasses refine a class by the outcome the message states.
var outcomeClasses = map[string]map[string]class{
	"106100": {
		"denied":      {catNetwork, typConnDenied, outcomeFailure, actionFirewallRule},
		"permitted":   {catNetwork, typConnAllowed, outcomeSuccess, actionFirewallRule},
		"est-allowed": {catNetwork, typConnAllowed, outcomeSuccess, actionFirewallRule},
	},
	"106102": {
		"denied":    {catNetwork, typConnDenied, outcomeFailure, actionFirewallRule},
		"permitted": {catNetwork, typConnAllowed, outcomeSuccess, actionFirewallRule},
	},
	"111004": {
		"failed": {catConfiguration, typInfo, outcomeFailure, "configuration"},
		"ok":     {catConfiguration, typChange, outcomeSuccess, "configuration"},
	},
	"111005": {
		"failed": {catConfiguration, typInfo, outcomeFailure, "configuration"},
		"ok":     {catConfiguration, typChange, outcomeSuccess, "configuration"},
	},
}

// ftdActions names the FTD security events.
var ftdActions = map[string]string{
	"430001": "intrusion-detected",
	"430002": "connection-started",
	"430003": "connection-finished",
	"430004": "file-detected",
	"430005": "malware-detected",
}

// levels are log.level by syslog severity, as Elastic's pipeline names them.
var levels = [8]string{"unknown", "alert", "critical", "error", "warning", "notification", "informational", "debug"}
