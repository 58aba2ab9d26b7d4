package auditd

// class is what a record type or a system call says of an event, as
// Elastic's auditd pipeline (go-libaudit's mappings) has it.
type class struct {
	action, category, typ string
	// copy lists where the record's subjects go: "user", "effective",
	// "target" or "group" (see the copy rules in kinds).
	copy copyRule
}

// copyRule names the subject copies of a record type: the acting user from
// auid, the effective user (or target, or group) from the first of
// acct/id/uid.
type copyRule uint8

const (
	copyNone      copyRule = iota
	copyEffective          // user ← auid; user.effective ← acct|id|uid
	copyTarget             // user ← auid; user.effective ← uid; user.target ← id|acct (ADD_USER, DEL_USER)
	copyGroup              // user ← auid; user.effective ← uid; group ← id|acct (ADD_GROUP, DEL_GROUP)
	copyChauthtok          // user ← auid; user.effective ← uid; user.target ← acct|id|uid
	copyMgmt               // user ← auid; user.target ← acct|id|uid; user.effective ← uid
	copyLogin              // user ← old-auid; user.effective ← new-auid|auid
)

// Arrays as compact JSON text.
const (
	cProcess     = `["process"]`
	cProcConfig  = `["process","configuration"]`
	cFile        = `["file"]`
	cNetwork     = `["network"]`
	cHost        = `["host"]`
	cDriver      = `["driver"]`
	cIAM         = `["iam"]`
	cAuth        = `["authentication"]`
	cSession     = `["session"]`
	cConfig      = `["configuration"]`
	cPackage     = `["package"]`
	cIntrusion   = `["intrusion_detection"]`
	tInfo        = `["info"]`
	tStart       = `["start"]`
	tEnd         = `["end"]`
	tStop        = `["stop"]`
	tChange      = `["change"]`
	tCreation    = `["creation"]`
	tDeletion    = `["deletion"]`
	tAccess      = `["access"]`
	tDenied      = `["denied"]`
	tConnStart   = `["connection","start"]`
	tConnInfo    = `["connection","info"]`
	tUserInfo    = `["user","info"]`
	tUserCreate  = `["user","creation"]`
	tUserDelete  = `["user","deletion"]`
	tUserChange  = `["user","change"]`
	tGroupCreate = `["group","creation"]`
	tGroupDelete = `["group","deletion"]`
	tGroupChange = `["group","change"]`
)

// kinds maps record types to their class. Types not listed here take the
// system call's class (SYSCALL) or a fallback (see fallback).
var kinds = map[string]class{
	"ACCT_LOCK":                {"locked-account", cIAM, tUserInfo, copyNone},
	"ACCT_UNLOCK":              {"unlocked-account", cIAM, tUserInfo, copyNone},
	"ADD_GROUP":                {"added-group-account-to", cIAM, tGroupCreate, copyGroup},
	"ADD_USER":                 {"added-user-account", cIAM, tUserCreate, copyTarget},
	"ANOM_ABEND":               {"crashed-program", cProcess, tEnd, copyNone},
	"ANOM_EXEC":                {"attempted-execution-of-forbidden-program", cProcess, tStart, copyNone},
	"ANOM_LINK":                {"used-suspicious-link", "", "", copyNone},
	"ANOM_LOGIN_FAILURES":      {"failed-log-in-too-many-times-to", "", "", copyNone},
	"ANOM_LOGIN_LOCATION":      {"attempted-log-in-from-unusual-place-to", "", "", copyNone},
	"ANOM_LOGIN_SESSIONS":      {"opened-too-many-sessions-to", "", "", copyNone},
	"ANOM_LOGIN_TIME":          {"attempted-log-in-during-unusual-hour-to", "", "", copyNone},
	"ANOM_PROMISCUOUS":         {"changed-promiscuous-mode-on-device", "", "", copyNone},
	"ANOM_RBAC_INTEGRITY_FAIL": {"tested-file-system-integrity-of", "", "", copyNone},
	"AVC":                      {"violated-selinux-policy", "", "", copyNone},
	"CHGRP_ID":                 {"changed-group", cProcess, tChange, copyNone},
	"CHUSER_ID":                {"changed-user-id", cProcess, tChange, copyNone},
	"CONFIG_CHANGE":            {"changed-audit-configuration", cProcConfig, tChange, copyNone},
	"CRED_ACQ":                 {"acquired-credentials", cAuth, tInfo, copyEffective},
	"CRED_DISP":                {"disposed-credentials", cAuth, tInfo, copyEffective},
	"CRED_REFR":                {"refreshed-credentials", cAuth, tInfo, copyEffective},
	"CRYPTO_KEY_USER":          {"negotiated-crypto-key", cProcess, tInfo, copyNone},
	"CRYPTO_LOGIN":             {"crypto-officer-logged-in", "", "", copyNone},
	"CRYPTO_LOGOUT":            {"crypto-officer-logged-out", cProcess, tInfo, copyNone},
	"CRYPTO_SESSION":           {"started-crypto-session", cProcess, tInfo, copyNone},
	"DAC_CHECK":                {"access-result", "", "", copyNone},
	"DAEMON_ABORT":             {"aborted-auditd-startup", cProcess, tStop, copyNone},
	"DAEMON_ACCEPT":            {"remote-audit-connected", cNetwork, tConnStart, copyNone},
	"DAEMON_CLOSE":             {"remote-audit-disconnected", cNetwork, tConnStart, copyNone},
	"DAEMON_CONFIG":            {"changed-auditd-configuration", cProcConfig, tChange, copyNone},
	"DAEMON_END":               {"shutdown-audit", cProcess, tStop, copyNone},
	"DAEMON_ERR":               {"audit-error", cProcess, tInfo, copyNone},
	"DAEMON_RECONFIG":          {"reconfigured-auditd", cProcConfig, tInfo, copyNone},
	"DAEMON_RESUME":            {"resumed-audit-logging", cProcess, tChange, copyNone},
	"DAEMON_ROTATE":            {"rotated-audit-logs", cProcess, tChange, copyNone},
	"DAEMON_START":             {"started-audit", cProcess, tStart, copyNone},
	"DEL_GROUP":                {"deleted-group-account-from", cIAM, tGroupDelete, copyGroup},
	"DEL_USER":                 {"deleted-user-account", cIAM, tUserDelete, copyTarget},
	"FEATURE_CHANGE":           {"changed-audit-feature", cConfig, tChange, copyNone},
	"FS_RELABEL":               {"relabeled-filesystem", "", "", copyNone},
	"GRP_AUTH":                 {"authenticated-to-group", cAuth, tInfo, copyNone},
	"GRP_CHAUTHTOK":            {"changed-group-password", cIAM, tGroupChange, copyNone},
	"GRP_MGMT":                 {"modified-group-account", cIAM, tGroupChange, copyNone},
	"KERNEL":                   {"initialized-audit-subsystem", cProcess, tInfo, copyNone},
	"KERN_MODULE":              {"loaded-kernel-module", cDriver, tStart, copyNone},
	"LABEL_LEVEL_CHANGE":       {"modified-level-of", "", "", copyNone},
	"LABEL_OVERRIDE":           {"overrode-label-of", "", "", copyNone},
	"LOGIN":                    {"changed-login-id-to", cAuth, tStart, copyLogin},
	"MAC_CHECK":                {"mac-permission", "", "", copyNone},
	"MAC_CONFIG_CHANGE":        {"changed-selinux-boolean", cConfig, tChange, copyNone},
	"MAC_POLICY_LOAD":          {"loaded-selinux-policy", cConfig, tAccess, copyNone},
	"MAC_STATUS":               {"changed-selinux-enforcement", cConfig, tChange, copyNone},
	"NETFILTER_CFG":            {"loaded-firewall-rule-to", cConfig, tChange, copyNone},
	"ROLE_ASSIGN":              {"assigned-user-role-to", cIAM, tUserChange, copyNone},
	"ROLE_MODIFY":              {"modified-role", cIAM, tChange, copyNone},
	"ROLE_REMOVE":              {"removed-user-role-from", cIAM, tUserChange, copyNone},
	"SECCOMP":                  {"violated-seccomp-policy", "", "", copyNone},
	"SELINUX_ERR":              {"caused-mac-policy-error", "", "", copyNone},
	"SERVICE_START":            {"started-service", cProcess, tStart, copyNone},
	"SERVICE_STOP":             {"stopped-service", cProcess, tStop, copyNone},
	"SOFTWARE_UPDATE":          {"package-updated", cPackage, tInfo, copyNone},
	"SYSTEM_BOOT":              {"booted-system", cHost, tInfo, copyNone},
	"SYSTEM_RUNLEVEL":          {"changed-to-runlevel", cHost, tChange, copyNone},
	"SYSTEM_SHUTDOWN":          {"shutdown-system", cHost, tInfo, copyNone},
	"TEST":                     {"sent-test", cProcess, tInfo, copyNone},
	"TRUSTED_APP":              {"unknown", cProcess, tInfo, copyNone},
	"TTY":                      {"typed", "", "", copyNone},
	"USER":                     {"sent-message", "", "", copyNone},
	"USER_ACCT":                {"was-authorized", cAuth, tInfo, copyEffective},
	"USER_AUTH":                {"authenticated", cAuth, tInfo, copyEffective},
	"USER_AVC":                 {"access-permission", "", "", copyNone},
	"USER_CHAUTHTOK":           {"changed-password", cIAM, tUserChange, copyChauthtok},
	"USER_CMD":                 {"ran-command", cProcess, tStart, copyNone},
	"USER_END":                 {"ended-session", cSession, tEnd, copyEffective},
	"USER_ERR":                 {"error", cAuth, tInfo, copyEffective},
	"USER_LOGIN":               {"logged-in", cAuth, tStart, copyEffective},
	"USER_LOGOUT":              {"logged-out", cAuth, tEnd, copyEffective},
	"USER_MAC_CONFIG_CHANGE":   {"changed-mac-configuration", cConfig, tChange, copyNone},
	"USER_MAC_POLICY_LOAD":     {"loaded-mac-policy", cConfig, tAccess, copyNone},
	"USER_MGMT":                {"modified-user-account", cIAM, tUserChange, copyMgmt},
	"USER_ROLE_CHANGE":         {"changed-role-to", "", "", copyNone},
	"USER_SELINUX_ERR":         {"access-error", "", "", copyNone},
	"USER_START":               {"started-session", cSession, tStart, copyEffective},
	"USER_TTY":                 {"typed", "", "", copyNone},
	"USYS_CONFIG":              {"changed-configuration", cConfig, tChange, copyNone},
	"VIRT_CONTROL":             {"issued-vm-control", cHost, tInfo, copyNone},
	"VIRT_CREATE":              {"created-vm-image", cHost, tInfo, copyNone},
	"VIRT_DESTROY":             {"deleted-vm-image", cHost, tInfo, copyNone},
	"VIRT_INTEGRITY_CHECK":     {"checked-integrity-of", cHost, tInfo, copyNone},
	"VIRT_MACHINE_ID":          {"assigned-vm-id", cHost, tCreation, copyNone},
	"VIRT_MIGRATE_IN":          {"migrated-vm-from", cHost, tInfo, copyNone},
	"VIRT_MIGRATE_OUT":         {"migrated-vm-to", cHost, tInfo, copyNone},
	"VIRT_RESOURCE":            {"assigned-vm-resource", cHost, tInfo, copyNone},
}

// syscalls maps system call names to their class (SYSCALL records).
var syscalls = map[string]class{
	"accept": {"accepted-connection-from", cNetwork, tConnStart, 0}, "accept4": {"accepted-connection-from", cNetwork, tConnStart, 0},
	"access": {"checked-metadata-of", cFile, tInfo, 0}, "adjtimex": {"changed-system-time", cHost, tChange, 0},
	"bind": {"bound-socket", cNetwork, tStart, 0}, "brk": {"allocated-memory", cProcess, tInfo, 0},
	"chmod": {"changed-file-permissions-of", cFile, tChange, 0}, "chown": {"changed-file-ownership-of", cFile, tChange, 0},
	"clock_settime": {"changed-system-time", cHost, tChange, 0}, "connect": {"connected-to", cNetwork, tConnStart, 0},
	"creat": {"opened-file", cFile, tCreation, 0}, "delete_module": {"unloaded-kernel-module", cDriver, tEnd, 0},
	"execve": {"executed", cProcess, tStart, 0}, "execveat": {"executed", cProcess, tStart, 0},
	"faccessat": {"checked-metadata-of", cFile, tInfo, 0}, "fallocate": {"opened-file", cFile, tChange, 0},
	"fchmod": {"changed-file-permissions-of", cFile, tChange, 0}, "fchmodat": {"changed-file-permissions-of", cFile, tChange, 0},
	"fchown": {"changed-file-ownership-of", cFile, tChange, 0}, "fchownat": {"changed-file-ownership-of", cFile, tChange, 0},
	"fgetxattr": {"checked-metadata-of", cFile, tInfo, 0}, "finit_module": {"loaded-kernel-module", cDriver, tStart, 0},
	"fremovexattr": {"changed-file-attributes-of", cFile, tChange, 0}, "fsetxattr": {"changed-file-attributes-of", cFile, tChange, 0},
	"fstat": {"checked-metadata-of", cFile, tInfo, 0}, "fstatat": {"checked-metadata-of", cFile, tInfo, 0},
	"fstatfs": {"checked-filesystem-metadata-of", cFile, tInfo, 0}, "ftruncate": {"opened-file", cFile, tChange, 0},
	"futimens": {"changed-timestamp-of", cFile, tInfo, 0}, "futimesat": {"changed-timestamp-of", cFile, tInfo, 0},
	"getxattr": {"checked-metadata-of", cFile, tInfo, 0}, "init_module": {"loaded-kernel-module", cDriver, tStart, 0},
	"kill": {"killed-pid", cProcess, tEnd, 0}, "lchown": {"changed-file-ownership-of", cFile, tChange, 0},
	"lgetxattr": {"checked-metadata-of", cFile, tInfo, 0}, "listen": {"listen-for-connections", cNetwork, tStart, 0},
	"lremovexattr": {"changed-file-attributes-of", cFile, tChange, 0}, "lsetxattr": {"changed-file-attributes-of", cFile, tChange, 0},
	"lstat": {"checked-metadata-of", cFile, tInfo, 0}, "mkdir": {"created-directory", cFile, tCreation, 0},
	"mkdirat": {"created-directory", cFile, tCreation, 0}, "mknod": {"make-device", cFile, tCreation, 0},
	"mknodat": {"make-device", cFile, tCreation, 0}, "mmap": {"allocated-memory", cProcess, tInfo, 0},
	"mmap2": {"allocated-memory", cProcess, tInfo, 0}, "mount": {"mounted", cFile, tCreation, 0},
	"newfstatat": {"checked-metadata-of", cFile, tInfo, 0}, "open": {"opened-file", cFile, tInfo, 0},
	"openat": {"opened-file", cFile, tInfo, 0}, "read": {"read-file", cFile, tInfo, 0},
	"readlink": {"opened-file", cFile, tInfo, 0}, "readlinkat": {"opened-file", cFile, tInfo, 0},
	"recv": {"received-from", cNetwork, tConnInfo, 0}, "recvfrom": {"received-from", cNetwork, tConnInfo, 0},
	"recvmmsg": {"received-from", cNetwork, tConnInfo, 0}, "recvmsg": {"received-from", cNetwork, tConnInfo, 0},
	"removexattr": {"changed-file-attributes-of", cFile, tChange, 0}, "rename": {"renamed", cFile, tChange, 0},
	"renameat": {"renamed", cFile, tChange, 0}, "renameat2": {"renamed", cFile, tChange, 0},
	"rmdir": {"deleted", cFile, tDeletion, 0}, "sched_setattr": {"adjusted-scheduling-policy-of", cProcess, tChange, 0},
	"sched_setparam": {"adjusted-scheduling-policy-of", cProcess, tChange, 0}, "sched_setscheduler": {"adjusted-scheduling-policy-of", cProcess, tChange, 0},
	"send": {"sent-to", cNetwork, tConnInfo, 0}, "sendmmsg": {"sent-to", cNetwork, tConnInfo, 0},
	"sendmsg": {"sent-to", cNetwork, tConnInfo, 0}, "sendto": {"sent-to", cNetwork, tConnInfo, 0},
	"setdomainname": {"changed-system-name", cHost, tChange, 0}, "setegid": {"changed-identity-of", cProcess, tChange, 0},
	"seteuid": {"changed-identity-of", cProcess, tChange, 0}, "setfsgid": {"changed-identity-of", cProcess, tChange, 0},
	"setfsuid": {"changed-identity-of", cProcess, tChange, 0}, "setgid": {"changed-identity-of", cProcess, tChange, 0},
	"sethostname": {"changed-system-name", cHost, tChange, 0}, "setregid": {"changed-identity-of", cProcess, tChange, 0},
	"setresgid": {"changed-identity-of", cProcess, tChange, 0}, "setresuid": {"changed-identity-of", cProcess, tChange, 0},
	"setreuid": {"changed-identity-of", cProcess, tChange, 0}, "settimeofday": {"changed-system-time", cHost, tChange, 0},
	"setuid": {"changed-identity-of", cProcess, tChange, 0}, "setxattr": {"changed-file-attributes-of", cFile, tChange, 0},
	"stat": {"checked-metadata-of", cFile, tInfo, 0}, "stat64": {"checked-metadata-of", cFile, tInfo, 0},
	"statfs": {"checked-filesystem-metadata-of", cFile, tInfo, 0}, "stime": {"changed-system-time", cHost, tChange, 0},
	"symlink": {"symlinked", cFile, tCreation, 0}, "symlinkat": {"symlinked", cFile, tCreation, 0},
	"tgkill": {"killed-pid", cProcess, tEnd, 0}, "tkill": {"killed-pid", cProcess, tEnd, 0},
	"truncate": {"opened-file", cFile, tChange, 0}, "umount": {"unmounted", cFile, tDeletion, 0},
	"umount2": {"unmounted", cFile, tDeletion, 0}, "unlink": {"deleted", cFile, tDeletion, 0},
	"unlinkat": {"deleted", cFile, tDeletion, 0}, "utime": {"changed-timestamp-of", cFile, tInfo, 0},
	"utimensat": {"changed-timestamp-of", cFile, tInfo, 0}, "utimes": {"changed-timestamp-of", cFile, tInfo, 0},
	"write": {"wrote-to-file", cFile, tChange, 0},
}

// x8664 names the x86_64 system call numbers of the calls in syscalls,
// for raw logs that carry only the number (arch=c000003e).
var x8664 = map[string]string{
	"0": "read", "1": "write", "2": "open", "4": "stat", "5": "fstat", "6": "lstat", "9": "mmap", "12": "brk",
	"21": "access", "42": "connect", "43": "accept", "44": "sendto", "45": "recvfrom", "46": "sendmsg",
	"47": "recvmsg", "49": "bind", "50": "listen", "59": "execve", "62": "kill", "76": "truncate",
	"77": "ftruncate", "82": "rename", "83": "mkdir", "84": "rmdir", "85": "creat", "87": "unlink",
	"88": "symlink", "89": "readlink", "90": "chmod", "91": "fchmod", "92": "chown", "93": "fchown",
	"94": "lchown", "105": "setuid", "106": "setgid", "113": "setreuid", "114": "setregid", "117": "setresuid",
	"119": "setresgid", "122": "setfsuid", "123": "setfsgid", "132": "utime", "133": "mknod", "137": "statfs",
	"138": "fstatfs", "159": "adjtimex", "164": "settimeofday", "165": "mount", "166": "umount2",
	"170": "sethostname", "171": "setdomainname", "175": "init_module", "176": "delete_module",
	"188": "setxattr", "189": "lsetxattr", "190": "fsetxattr", "191": "getxattr", "192": "lgetxattr",
	"193": "fgetxattr", "197": "removexattr", "198": "lremovexattr", "199": "fremovexattr", "200": "tkill",
	"227": "clock_settime", "234": "tgkill", "235": "utimes", "257": "openat", "258": "mkdirat", "259": "mknodat",
	"260": "fchownat", "261": "futimesat", "262": "newfstatat", "263": "unlinkat", "264": "renameat",
	"266": "symlinkat", "267": "readlinkat", "268": "fchmodat", "269": "faccessat", "280": "utimensat",
	"285": "fallocate", "288": "accept4", "299": "recvmmsg", "307": "sendmmsg", "313": "finit_module",
	"316": "renameat2", "322": "execveat",
}

// numericTypes names the record types of the kernel's numeric form
// ("type=1400 audit(...)").
var numericTypes = map[string]string{
	"1100": "USER_AUTH", "1101": "USER_ACCT", "1103": "CRED_ACQ", "1104": "CRED_DISP", "1105": "USER_START",
	"1106": "USER_END", "1107": "USER_AVC", "1112": "USER_LOGIN", "1113": "USER_LOGOUT", "1123": "USER_CMD",
	"1130": "SERVICE_START", "1131": "SERVICE_STOP", "1300": "SYSCALL", "1302": "PATH", "1305": "CONFIG_CHANGE",
	"1306": "SOCKADDR", "1307": "CWD", "1309": "EXECVE", "1325": "NETFILTER_CFG", "1326": "SECCOMP",
	"1327": "PROCTITLE", "1334": "BPF", "1400": "AVC", "1401": "SELINUX_ERR", "1701": "ANOM_ABEND",
}

// arches names the audit architecture codes.
var arches = map[string]string{
	"c000003e": "x86_64", "40000003": "i386", "c00000b7": "aarch64", "40000028": "arm",
	"80000016": "s390x", "c0000015": "ppc64le", "80000015": "ppc64",
}

// hexKeys are the keys whose values auditd hex-encodes when they hold
// spaces, quotes or control characters (Elastic's list).
var hexKeys = map[string]bool{
	"exe": true, "cmd": true, "data": true, "path": true, "comm": true, "file": true, "name": true, "watch": true,
	"cwd": true, "acct": true, "dir": true, "vm": true, "old-chardev": true, "new-chardev": true, "old-disk": true,
	"new-disk": true, "old-fs": true, "new-fs": true, "old-net": true, "new-net": true, "device": true,
	"cgroup": true, "apparmor": true, "operation": true, "denied_mask": true, "info": true, "profile": true,
	"requested_mask": true, "old-rng": true, "new-rng": true, "ocomm": true, "grp": true, "new_group": true,
	"invalid_context": true, "sw": true, "root_dir": true, "proctitle": true,
}

// renames are the keys Elastic's pipeline moves to ECS fields; a key whose
// target is already set stays under auditd.log.
var renames = map[string]string{
	"acct": "user.name", "user": "user.name", "uid": "user.id", "gid": "user.group.id",
	"agid": "user.audit.group.id", "auid": "user.audit.id", "fsgid": "user.filesystem.group.id",
	"fsuid": "user.filesystem.id", "egid": "user.effective.group.id", "euid": "user.effective.id",
	"sgid": "user.saved.group.id", "suid": "user.saved.id", "ogid": "user.owner.group.id",
	"ouid": "user.owner.id", "comm": "process.name", "exe": "process.executable", "pid": "process.pid",
	"ppid": "process.parent.pid", "exit": "process.exit_code", "cwd": "process.working_directory",
	"terminal": "user.terminal", "argc": "process.args_count",
}

// enriched maps the upper-case keys of auditd's ENRICHED format (after a
// 0x1d byte) to the ECS names of the interpreted values.
var enriched = map[string]string{
	"UID": "user.name", "AUID": "user.audit.name", "EUID": "user.effective.name", "SUID": "user.saved.name",
	"FSUID": "user.filesystem.name", "GID": "user.group.name", "EGID": "user.effective.group.name",
	"SGID": "user.saved.group.name", "FSGID": "user.filesystem.group.name", "OUID": "user.owner.name",
	"OGID": "user.owner.group.name",
}
