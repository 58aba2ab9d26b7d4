package windows

import (
	"strings"
)

// c builds a categorization from comma-separated categories and types.
func c(category, typ, action string) categorization {
	list := func(s string) string {
		if s == "" {
			return ""
		}
		return `["` + strings.ReplaceAll(s, ",", `","`) + `"]`
	}
	return categorization{list(category), list(typ), action}
}

// securityEvents follows the categorization of Elastic's system/security
// pipeline (packages/system/data_stream/security, standard.yml).
var securityEvents = map[string]categorization{
	"1100": c("process", "end", "logging-service-shutdown"),
	"1102": c("iam", "admin,change", "audit-log-cleared"),
	"1104": c("iam", "admin", "logging-full"),
	"1105": c("iam", "admin", "auditlog-archieved"),
	"1108": c("iam", "admin", "logging-processing-error"),
	"4610": c("configuration", "access", "authentication-package-loaded"),
	"4611": c("configuration", "change", "trusted-logon-process-registered"),
	"4614": c("configuration", "access", "notification-package-loaded"),
	"4616": c("configuration", "change", "system-time-changed"),
	"4622": c("configuration", "access", "security-package-loaded"),
	"4624": c("authentication", "start", "logged-in"),
	"4625": c("authentication", "start", "logon-failed"),
	"4634": c("authentication", "end", "logged-out"),
	"4647": c("authentication", "end", "logged-out"),
	"4648": c("authentication", "start", "logged-in-explicit"),
	"4657": c("registry,configuration", "change", "registry-value-modified"),
	"4670": c("iam,configuration", "admin,change", "permissions-changed"),
	"4672": c("iam", "admin", "logged-in-special"),
	"4673": c("iam", "admin", "privileged-service-called"),
	"4674": c("iam", "admin", "privileged-operation"),
	"4688": c("process", "start", "created-process"),
	"4689": c("process", "end", "exited-process"),
	"4697": c("iam,configuration", "admin,change", "service-installed"),
	"4698": c("iam,configuration", "creation,admin", "scheduled-task-created"),
	"4699": c("iam,configuration", "deletion,admin", "scheduled-task-deleted"),
	"4700": c("iam,configuration", "change,admin", "scheduled-task-enabled"),
	"4701": c("iam,configuration", "change,admin", "scheduled-task-disabled"),
	"4702": c("iam,configuration", "change,admin", "scheduled-task-updated"),
	"4706": c("configuration", "creation", "domain-trust-added"),
	"4707": c("configuration", "deletion", "domain-trust-removed"),
	"4713": c("configuration", "change", "kerberos-policy-changed"),
	"4714": c("configuration", "change", "encrypted-data-recovery-policy-changed"),
	"4715": c("configuration", "change", "object-audit-policy-changed"),
	"4716": c("configuration", "change", "trusted-domain-information-changed"),
	"4717": c("iam,configuration", "admin,change", "system-security-access-granted"),
	"4718": c("iam,configuration", "admin,deletion", "system-security-access-removed"),
	"4719": c("iam,configuration", "admin,change", "changed-audit-config"),
	"4720": c("iam", "user,creation", "added-user-account"),
	"4722": c("iam", "user,change", "enabled-user-account"),
	"4723": c("iam", "user,change", "changed-password"),
	"4724": c("iam", "user,change", "reset-password"),
	"4725": c("iam", "user,deletion", "disabled-user-account"),
	"4726": c("iam", "user,deletion", "deleted-user-account"),
	"4727": c("iam", "group,creation", "added-group-account"),
	"4728": c("iam", "group,change", "added-member-to-group"),
	"4729": c("iam", "group,change", "removed-member-from-group"),
	"4730": c("iam", "group,deletion", "deleted-group-account"),
	"4731": c("iam", "group,creation", "added-group-account"),
	"4732": c("iam", "group,change", "added-member-to-group"),
	"4733": c("iam", "group,change", "removed-member-from-group"),
	"4734": c("iam", "group,deletion", "deleted-group-account"),
	"4735": c("iam", "group,change", "modified-group-account"),
	"4737": c("iam", "group,change", "modified-group-account"),
	"4738": c("iam", "user,change", "modified-user-account"),
	"4739": c("configuration", "change", "domain-policy-changed"),
	"4740": c("iam", "user,change", "locked-out-user-account"),
	"4741": c("iam", "creation,admin", "added-computer-account"),
	"4742": c("iam", "change,admin", "changed-computer-account"),
	"4743": c("iam", "deletion,admin", "deleted-computer-account"),
	"4744": c("iam", "group,creation", "added-distribution-group-account"),
	"4745": c("iam", "group,change", "changed-distribution-group-account"),
	"4746": c("iam", "group,change", "added-member-to-distribution-group"),
	"4747": c("iam", "group,change", "removed-member-from-distribution-group"),
	"4748": c("iam", "group,deletion", "deleted-distribution-group-account"),
	"4749": c("iam", "group,creation", "added-distribution-group-account"),
	"4750": c("iam", "group,change", "changed-distribution-group-account"),
	"4751": c("iam", "group,change", "added-member-to-distribution-group"),
	"4752": c("iam", "group,change", "removed-member-from-distribution-group"),
	"4753": c("iam", "group,deletion", "deleted-distribution-group-account"),
	"4754": c("iam", "group,creation", "added-group-account"),
	"4755": c("iam", "group,change", "modified-group-account"),
	"4756": c("iam", "group,change", "added-member-to-group"),
	"4757": c("iam", "group,change", "removed-member-from-group"),
	"4758": c("iam", "group,deletion", "deleted-group-account"),
	"4759": c("iam", "group,creation", "added-distribution-group-account"),
	"4760": c("iam", "group,change", "changed-distribution-group-account"),
	"4761": c("iam", "group,change", "added-member-to-distribution-group"),
	"4762": c("iam", "group,change", "removed-member-from-distribution-group"),
	"4763": c("iam", "group,deletion", "deleted-distribution-group-account"),
	"4764": c("iam", "group,change", "type-changed-group-account"),
	"4767": c("iam", "user,change", "unlocked-user-account"),
	"4768": c("authentication", "start", "kerberos-authentication-ticket-requested"),
	"4769": c("authentication", "start", "kerberos-service-ticket-requested"),
	"4770": c("authentication", "start", "kerberos-service-ticket-renewed"),
	"4771": c("authentication", "start", "kerberos-preauth-failed"),
	"4776": c("authentication", "start", "credential-validated"),
	"4778": c("authentication,session", "start", "session-reconnected"),
	"4779": c("authentication,session", "end", "session-disconnected"),
	"4781": c("iam", "user,change", "renamed-user-account"),
	"4798": c("iam", "user,info", "group-membership-enumerated"),
	"4799": c("iam", "group,info", "user-member-enumerated"),
	"4817": c("iam,configuration", "admin,change", "object-audit-changed"),
	"4902": c("iam,configuration", "admin,creation", "user-audit-policy-created"),
	"4904": c("iam,configuration", "admin,change", "security-event-source-added"),
	"4905": c("iam,configuration", "admin,deletion", "security-event-source-removed"),
	"4906": c("iam,configuration", "admin,change", "crash-on-audit-changed"),
	"4907": c("iam,configuration", "admin,change", "audit-setting-changed"),
	"4908": c("iam,configuration", "admin,change", "special-group-table-changed"),
	"4912": c("iam,configuration", "admin,change", "per-user-audit-policy-changed"),
	"4950": c("configuration", "change", "windows-firewall-setting-changed"),
	"4954": c("configuration", "change", "windows-firewall-group-policy-changed"),
	"4964": c("iam", "admin,group", "logged-in-special"),
	"5024": c("process", "start", "windows-firewall-service-started"),
	"5025": c("process", "end", "windows-firewall-service-stopped"),
	"5033": c("driver", "start", "windows-firewall-driver-started"),
	"5034": c("driver", "end", "windows-firewall-driver-stopped"),
	"5037": c("driver", "end", "windows-firewall-driver-error"),
	"5140": c("network,file", "info,access", "network-share-object-accessed"),
	"5145": c("network,file", "info,access", "network-share-object-access-checked"),
}

// logonTypes names the logon types of 4624, 4625 and friends.
var logonTypes = map[string]string{
	"2": "Interactive", "3": "Network", "4": "Batch", "5": "Service", "7": "Unlock", "8": "NetworkCleartext",
	"9": "NewCredentials", "10": "RemoteInteractive", "11": "CachedInteractive",
}

// logonFailureReasons are the %%23xx message-table entries of
// FailureReason.
var logonFailureReasons = map[string]string{
	"2304": "An Error occured during Logon.",
	"2305": "The specified user account has expired.",
	"2306": "The NetLogon component is not active.",
	"2307": "Account locked out.",
	"2308": "The user has not been granted the requested logon type at this machine.",
	"2309": "The specified account's password has expired.",
	"2310": "Account currently disabled.",
	"2311": "Account logon time restriction violation.",
	"2312": "User not allowed to logon at this computer.",
	"2313": "Unknown user name or bad password.",
	"2314": "Domain sid inconsistent.",
	"2315": "Smartcard logon is required and was not used.",
}

// logonStatus describes the Status and SubStatus codes of 4625 and 4776.
var logonStatus = map[string]string{
	"0xc000005e": "There are currently no logon servers available to service the logon request.",
	"0xc0000064": "User logon with misspelled or bad user account",
	"0xc000006a": "User logon with misspelled or bad password",
	"0xc000006d": "This is either due to a bad username or authentication information",
	"0xc000006e": "Unknown user name or bad password.",
	"0xc000006f": "User logon outside authorized hours",
	"0xc0000070": "User logon from unauthorized workstation",
	"0xc0000071": "User logon with expired password",
	"0xc0000072": "User logon to account disabled by administrator",
	"0xc00000dc": "Indicates the Sam Server was in the wrong state to perform the desired operation.",
	"0xc0000133": "Clocks between DC and other computer too far out of sync",
	"0xc000015b": "The user has not been granted the requested logon type (aka logon right) at this machine",
	"0xc000018c": "The logon request failed because the trust relationship between the primary domain and the trusted domain failed.",
	"0xc0000192": "An attempt was made to logon, but the Netlogon service was not started.",
	"0xc0000193": "User logon with expired account",
	"0xc0000224": "User is required to change password at next logon",
	"0xc0000225": "Evidently a bug in Windows and not a risk",
	"0xc0000234": "User logon with account locked",
	"0xc00002ee": "Failure Reason: An Error occurred during Logon",
	"0xc0000413": "Logon Failure: The machine you are logging onto is protected by an authentication firewall. The specified account is not allowed to authenticate to the machine.",
	"0xc0000371": "The local account store does not contain secret material for the specified account",
	"0x0":        "Status OK.",
}

func codeIn(code string, list ...string) bool {
	for _, c := range list {
		if c == code {
			return true
		}
	}
	return false
}

// Event lists of the security pipeline's steps.
var (
	secTargetUser = []string{"4624", "4625", "4634", "4647", "4648", "4768", "4769", "4770", "4771", "4776", "4964"}
	secGroup      = []string{"4727", "4728", "4729", "4730", "4731", "4732", "4733", "4734", "4735", "4737", "4744",
		"4745", "4746", "4747", "4748", "4749", "4750", "4751", "4752", "4753", "4754", "4755", "4756", "4757", "4758",
		"4759", "4760", "4761", "4762", "4763", "4764", "4799"}
	secSubject = []string{"4657", "4670", "4672", "4673", "4674", "4688", "4689", "4697", "4698", "4699", "4700",
		"4701", "4702", "4706", "4707", "4713", "4716", "4717", "4718", "4719", "4720", "4722", "4723", "4724", "4725",
		"4726", "4727", "4728", "4729", "4730", "4731", "4732", "4733", "4734", "4735", "4737", "4738", "4739", "4740",
		"4741", "4742", "4743", "4744", "4745", "4746", "4747", "4748", "4749", "4750", "4751", "4752", "4753", "4754",
		"4755", "4756", "4757", "4758", "4759", "4760", "4761", "4762", "4763", "4764", "4767", "4781", "4798", "4799",
		"4817", "4904", "4905", "4907", "4912", "4648", "5140", "5145"}
	secTargetToTarget = []string{"4670", "4720", "4722", "4723", "4724", "4725", "4726", "4738", "4740", "4767",
		"4798", "4817", "4907"}
	secCommonAuth = []string{"1100", "1102", "1104", "1105", "1108", "4624", "4648", "4625", "4670", "4673", "4674",
		"4689", "4697", "4719", "4720", "4722", "4723", "4724", "4725", "4726", "4727", "4728", "4729", "4730", "4731",
		"4732", "4733", "4734", "4735", "4737", "4738", "4740", "4741", "4742", "4743", "4744", "4745", "4746", "4747",
		"4748", "4749", "4750", "4751", "4752", "4753", "4754", "4755", "4756", "4757", "4758", "4759", "4760", "4761",
		"4762", "4763", "4764", "4767", "4768", "4769", "4770", "4771", "4798", "4799", "4817", "4904", "4905", "4907",
		"4912", "5140", "5145"}
	secRelatedTarget = []string{"4688", "4720", "4722", "4723", "4724", "4725", "4726", "4738", "4740", "4767", "4798"}
)

// userFields collects user.* as the security pipeline's steps set and
// override them, before they are written once.
type userFields struct {
	id, name, domain                      string
	targetID, targetName, targetDomain    string
	effectiveID, effectiveName, effDomain string
	changesName                           string
	groupID, groupName, groupDomain       string
}

// security writes what Elastic's system/security pipeline derives for the
// Security log (Microsoft-Windows-Security-Auditing and Eventlog events).
func (p *Parser) security() {
	r, o := &p.r, &p.out
	code := r.hdr[hEventID]
	prov := r.hdr[hProvider]
	if prov != "Microsoft-Windows-Security-Auditing" && prov != "Microsoft-Windows-Eventlog" {
		o.add("user.id", r.hdr[hUserID])
		return
	}
	if c, ok := securityEvents[code]; ok {
		o.add("event.category", c.category)
		o.add("event.type", c.typ)
		o.add("event.action", c.action)
	}
	get := r.get
	if t, ok := logonTypes[get("LogonType")]; ok {
		o.add("winlog.logon.type", t)
	}
	if fr := strings.TrimPrefix(get("FailureReason"), "%%"); fr != "" {
		o.add("winlog.logon.failure.reason", logonFailureReasons[fr])
	}
	if codeIn(code, "4625", "4776") {
		o.add("winlog.logon.failure.status", logonStatus[get("Status")])
		o.add("winlog.logon.failure.sub_status", logonStatus[get("SubStatus")])
	}

	var u userFields
	var srcIP, srcPort, srcDomain, logonID string
	// Session events.
	if codeIn(code, "4778", "4779") {
		u.name, u.domain = get("AccountName"), get("AccountDomain")
		p.related.user = appendUnique(p.related.user, u.name)
		if a := get("ClientAddress"); a != "" && a != "-" {
			srcIP = a
			p.related.ip = appendUnique(p.related.ip, a)
		}
		srcDomain = get("ClientName")
		logonID = get("LogonID")
	}
	// Target user.
	if codeIn(code, secTargetUser...) {
		id, ok := r.lookup("TargetUserSid")
		if !ok {
			id, ok = r.lookup("TargetSid")
		}
		if ok {
			if u.id == "" {
				u.id = id
			} else {
				u.targetID = id
			}
		}
		if n, ok := r.lookup("TargetUserName"); ok {
			n, _, _ = strings.Cut(n, "@")
			if u.name == "" {
				u.name = n
			} else {
				u.targetName = n
			}
			p.related.user = appendUnique(p.related.user, n)
		}
		if d, ok := r.lookup("TargetDomainName"); ok {
			if u.domain == "" {
				u.domain = d
			} else {
				u.targetDomain = d
			}
		}
	}
	// Group membership.
	if codeIn(code, secGroup...) {
		if m := get("MemberName"); m != "" {
			parts := strings.Split(m, ",")
			name := strings.ReplaceAll(strings.ReplaceAll(parts[0], "CN=", ""), "cn=", "")
			u.targetName = name
			p.related.user = appendUnique(p.related.user, name)
			if len(parts) >= 4 {
				u.targetDomain = strings.ReplaceAll(strings.ReplaceAll(parts[3], "DC=", ""), "dc=", "")
			}
		}
		if v, ok := r.lookup("TargetUserSid"); ok {
			u.groupID = v
		}
		if v, ok := r.lookup("TargetSid"); ok {
			u.groupID = v
		}
		if v, ok := r.lookup("TargetUserName"); ok {
			u.groupName = v
		}
		if v, ok := r.lookup("TargetDomainName"); ok {
			u.groupDomain = strings.ReplaceAll(strings.ReplaceAll(v, "DC=", ""), "dc=", "")
		}
	}
	if codeIn(code, "4741", "4742", "4743") {
		o.add("winlog.computerObject.id", get("TargetSid"))
		o.add("winlog.computerObject.name", get("TargetUserName"))
		o.add("winlog.computerObject.domain", get("TargetDomainName"))
	}
	if codeIn(code, "4634", "4647", "4964") {
		logonID = get("TargetLogonId")
	}
	// Subject user.
	if codeIn(code, secSubject...) {
		if v, ok := r.lookup("SubjectUserSid"); ok {
			u.id = v
		}
		if v, ok := r.lookup("SubjectUserName"); ok {
			u.name = v
			p.related.user = appendUnique(p.related.user, v)
		}
		if v, ok := r.lookup("SubjectDomainName"); ok {
			u.domain = v
		}
	}
	if codeIn(code, secTargetToTarget...) {
		if v := get("TargetSid"); v != "" && v != "-" {
			u.targetID = v
		}
		if v := get("TargetUserName"); v != "" && v != "-" {
			v, _, _ = strings.Cut(v, "@")
			u.targetName = v
			p.related.user = appendUnique(p.related.user, v)
		}
		if v := get("TargetDomainName"); v != "" && v != "-" {
			u.targetDomain = v
		}
	}
	if codeIn(code, "4648", "4688") {
		if v := get("TargetUserSid"); v != "" && v != "-" {
			u.effectiveID = v
		}
		if v := get("TargetUserName"); v != "" && v != "-" {
			v, _, _ = strings.Cut(v, "@")
			u.effectiveName = v
			p.related.user = appendUnique(p.related.user, v)
		}
		if v := get("TargetDomainName"); v != "" && v != "-" {
			u.effDomain = v
		}
	}
	if code == "1102" {
		// The log-cleared event keeps its subject in UserData.
		if v, ok := r.lookup("SubjectUserSid"); ok {
			u.id = v
		}
		if v, ok := r.lookup("SubjectUserName"); ok {
			u.name = v
			p.related.user = appendUnique(p.related.user, v)
		}
		if v, ok := r.lookup("SubjectDomainName"); ok {
			u.domain = v
		}
	}
	if v, ok := r.lookup("SubjectLogonId"); ok {
		logonID = v
	}
	o.add("winlog.logon.id", logonID)

	// Process and source of the common authentication events.
	var pid, exe, parentExe, parentPID string
	if codeIn(code, secCommonAuth...) {
		pid = decodeText(get("ProcessId"))
		exe = get("ProcessName")
		if v := get("IpAddress"); v != "" && v != "-" {
			srcIP = v
		}
		if v := get("IpPort"); v != "" && v != "-" {
			srcPort = decodeText(v)
		}
		if v, ok := r.lookup("WorkstationName"); ok {
			srcDomain = v
		}
		if a := get("ClientAddress"); a != "" && a != "-" {
			p.related.ip = appendUnique(p.related.ip, a)
		}
	}
	if code == "4688" {
		if v := decodeText(get("NewProcessId")); v != "" {
			pid = v
		}
		if v := get("NewProcessName"); v != "" {
			exe = v
		}
		parentExe = get("ParentProcessName")
		parentPID = decodeText(get("ProcessId"))
		if cmd, ok := r.lookup("CommandLine"); ok {
			o.add("process.command_line", cmd)
			p.strs = securityArgs(p.strs[:0], cmd)
			o.add("process.args", p.jsonList(p.strs))
		}
		if v := get("TargetUserName"); v != "" && v != "-" {
			p.related.user = appendUnique(p.related.user, v)
		}
	}
	o.add("process.pid", pid)
	o.add("process.executable", exe)
	if i := strings.LastIndexByte(exe, '\\'); exe != "" {
		o.add("process.name", exe[i+1:])
	}
	o.add("process.parent.executable", parentExe)
	if i := strings.LastIndexByte(parentExe, '\\'); parentExe != "" {
		o.add("process.parent.name", parentExe[i+1:])
	}
	o.add("process.parent.pid", parentPID)
	if codeIn(code, "4624", "4648") {
		if v := get("SubjectUserName"); v != "" && v != "-" {
			p.related.user = appendUnique(p.related.user, v)
		}
	}
	if codeIn(code, secRelatedTarget...) {
		if v := get("TargetUserName"); v != "" && v != "-" {
			p.related.user = appendUnique(p.related.user, v)
		}
	}
	if v := get("OldTargetUserName"); v != "" {
		u.targetName = v
	}
	if v := get("NewTargetUserName"); v != "" {
		u.changesName = v
		if v != "-" {
			p.related.user = appendUnique(p.related.user, v)
		}
	}
	if v := get("OldTargetUserName"); v != "" && v != "-" {
		p.related.user = appendUnique(p.related.user, v)
	}

	o.add("user.id", u.id)
	o.add("user.name", u.name)
	o.add("user.domain", u.domain)
	o.add("user.target.id", u.targetID)
	o.add("user.target.name", u.targetName)
	o.add("user.target.domain", u.targetDomain)
	o.add("user.effective.id", u.effectiveID)
	o.add("user.effective.name", u.effectiveName)
	o.add("user.effective.domain", u.effDomain)
	o.add("user.changes.name", u.changesName)
	o.add("group.id", u.groupID)
	o.add("group.name", u.groupName)
	o.add("group.domain", u.groupDomain)
	if u.targetName != "" || u.targetID != "" || u.targetDomain != "" {
		o.add("user.target.group.id", u.groupID)
		o.add("user.target.group.name", u.groupName)
		o.add("user.target.group.domain", u.groupDomain)
	}

	// File shares.
	if codeIn(code, "5140", "5145") {
		name, dir := get("RelativeTargetName"), get("ShareLocalPath")
		o.add("file.name", name)
		o.add("file.directory", dir)
		if name != "" && dir != "" {
			o.add("file.path", dir+`\`+name)
		}
		if share := get("ShareName"); share != "" && name != "" {
			o.add("file.target_path", share+`\`+name)
		}
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			o.add("file.extension", name[i+1:])
		}
	}

	// Source (default.yml: "::ffff:" dropped, then related.ip).
	srcIP = validIP(strings.ReplaceAll(srcIP, "::ffff:", ""))
	o.add("source.ip", srcIP)
	o.add("source.port", srcPort)
	o.add("source.domain", srcDomain)
	p.related.ip = appendUnique(p.related.ip, srcIP)
}

// securityArgs splits a 4688 command line as the security pipeline does:
// on white space outside double quotes, quotes kept.
func securityArgs(args []string, cmd string) []string {
	start := 0
	inQuote := false
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		if c == '"' {
			inQuote = !inQuote
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') && !inQuote {
			args = append(args, cmd[start:i])
			start = i + 1
		}
		if i == len(cmd)-1 {
			args = append(args, cmd[start:])
		}
	}
	return args
}
