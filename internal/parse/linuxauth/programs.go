package linuxauth

import (
	"strings"
)

// sudo reads "USER : [ERROR ;] TTY=... ; PWD=... ; USER=root ; COMMAND=...".
// The command is the rest of the line (it may hold " ; ").
func (o *out) sudo(m string) bool {
	s := trimSpaces(m)
	i := strings.Index(s, " : ")
	if i <= 0 || strings.IndexByte(s[:i], ' ') >= 0 {
		return false
	}
	user, rest := s[:i], s[i+len(" : "):]
	if !strings.Contains(rest, "COMMAND=") && !strings.HasPrefix(rest, "TTY=") && !strings.Contains(rest, " ; TTY=") {
		return false
	}
	errText := ""
	for rest != "" {
		var part string
		if strings.HasPrefix(rest, "COMMAND=") {
			part, rest = rest, ""
		} else if j := strings.Index(rest, " ; "); j >= 0 {
			part, rest = rest[:j], rest[j+len(" ; "):]
		} else {
			part, rest = rest, ""
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || !upperKey(k) {
			if errText == "" {
				errText = strings.TrimSpace(part)
			}
			continue
		}
		switch k {
		case "TTY":
			o.add("system.auth.sudo.tty", v)
		case "PWD":
			o.add("system.auth.sudo.pwd", v)
		case "USER":
			o.add("system.auth.sudo.user", v)
			o.effName = v
		case "GROUP":
			o.add("system.auth.sudo.group", v)
		case "TSID":
			o.add("system.auth.sudo.tsid", v)
		case "ENV":
			o.add("system.auth.sudo.env", v)
		case "COMMAND":
			o.add("system.auth.sudo.command", v)
		default:
			o.add("system.auth.sudo."+strings.ToLower(k), v)
		}
	}
	o.userName = user
	o.set(catProcess, typeStart)
	if errText != "" {
		o.add("system.auth.sudo.error", errText)
		o.outcome, o.reason = "failure", errText
		if strings.Contains(errText, "password") {
			o.category = catAuthProcess
		}
	} else {
		o.outcome = "success"
	}
	return true
}

// upperKey reports whether k is a sudo log key: upper-case letters.
func upperKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; (c < 'A' || c > 'Z') && c != '_' {
			return false
		}
	}
	return true
}

// su reads su's own messages: "(to root) U on pts/0", "FAILED SU (to
// root) U on pts/0", "Successful su for root by U", "FAILED su for root by
// U", and the old "+ pts/0 U:root" / "- pts/0 U:root".
func (o *out) su(m string) bool {
	ok := true
	switch {
	case strings.HasPrefix(m, "FAILED SU (to "), strings.HasPrefix(m, "(to "):
		if strings.HasPrefix(m, "FAILED ") {
			ok, m = false, m[len("FAILED SU "):]
		}
		target, rest, found := strings.Cut(m[len("(to "):], ") ")
		if !found {
			return false
		}
		user, _ := cutWord(rest)
		o.userName, o.effName = user, target
	case strings.HasPrefix(m, "Successful su for "), strings.HasPrefix(m, "FAILED su for "):
		ok = m[0] == 'S'
		_, rest, _ := strings.Cut(m, " su for ")
		target, user, found := strings.Cut(rest, " by ")
		if !found {
			return false
		}
		o.userName, o.effName = strings.TrimSpace(user), target
	case len(m) > 2 && (m[0] == '+' || m[0] == '-') && m[1] == ' ':
		ok = m[0] == '+'
		_, pair := cutWord(m[2:])
		user, target, found := strings.Cut(pair, ":")
		if !found {
			return false
		}
		o.userName, o.effName = user, target
	default:
		return false
	}
	o.set(catAuth, typeInfo)
	if ok {
		o.outcome = "success"
	} else {
		o.outcome = "failure"
	}
	return true
}

// login reads login(1)'s messages: "FAILED LOGIN 1 FROM X FOR U,
// Authentication failure", "FAILED LOGIN (1) on '/dev/tty1' FOR 'U', ...",
// "ROOT LOGIN ON tty1", "LOGIN ON tty1 BY U".
func (o *out) login(m string) bool {
	switch {
	case strings.HasPrefix(m, "FAILED LOGIN "):
		if i := strings.Index(m, " FOR "); i >= 0 {
			u, reason, _ := strings.Cut(m[i+len(" FOR "):], ", ")
			o.userName, o.reason = strings.Trim(u, `'"`), reason
		}
		if i := strings.Index(m, " FROM "); i >= 0 {
			if a, _ := cutWord(m[i+len(" FROM "):]); isIP(a) {
				o.source(a, "")
			}
		}
		o.set(catAuth, typeInfo)
		o.outcome = "failure"
	case strings.HasPrefix(m, "ROOT LOGIN "):
		o.userName = "root"
		o.set(catAuth, typeStart)
		o.outcome = "success"
	case strings.HasPrefix(m, "LOGIN ON ") && strings.Contains(m, " BY "):
		o.userName = strings.TrimSpace(m[strings.Index(m, " BY ")+len(" BY "):])
		o.set(catAuth, typeStart)
		o.outcome = "success"
	default:
		return false
	}
	return true
}

// logind reads systemd-logind's session messages: "New session 5 of user
// U.", "Removed session 5.", "Session 5 logged out. Waiting for processes
// to exit.".
func (o *out) logind(m string) bool {
	switch {
	case strings.HasPrefix(m, "New session ") && strings.Contains(m, " of user "):
		u := m[strings.Index(m, " of user ")+len(" of user "):]
		o.userName = strings.TrimSuffix(strings.TrimSpace(u), ".")
		o.set(catSession, typeStart)
	case strings.HasPrefix(m, "Removed session "),
		strings.HasPrefix(m, "Session ") && strings.Contains(m, " logged out"):
		o.set(catSession, typeEnd)
	default:
		return false
	}
	return true
}

// cron reads cron's "(U) CMD (command)" and other "(U) ..." messages.
func (o *out) cron(m string) bool {
	if !strings.HasPrefix(m, "(") {
		return false
	}
	user, rest, ok := strings.Cut(m[1:], ") ")
	if !ok || strings.IndexByte(user, ' ') >= 0 {
		return false
	}
	o.userName = user
	if strings.HasPrefix(rest, "CMD ") {
		o.set(catProcess, typeStart)
	} else {
		o.set(catProcess, typeInfo)
	}
	return true
}

// iam reads the messages of the shadow utilities that manage users and
// groups; as in Elastic's pipeline, the program decides event.type.
func (o *out) iam(prog, m string) bool {
	switch prog {
	case "useradd":
		o.set(catIAM, typeUserCreate)
	case "userdel":
		o.set(catIAM, typeUserDelete)
	case "usermod", "passwd", "chpasswd", "chage":
		o.set(catIAM, typeUserChange)
	case "groupadd":
		o.set(catIAM, typeGroupCreate)
	case "groupdel":
		o.set(catIAM, typeGroupDelete)
	default: // groupmod, gpasswd
		o.set(catIAM, typeGroupChange)
	}
	if strings.Contains(m, "fail") {
		o.outcome = "failure"
	} else {
		o.outcome = "success"
	}
	switch {
	case strings.HasPrefix(m, "new user: "):
		o.iamPairs(m[len("new user: "):], true)
	case strings.HasPrefix(m, "new group: "):
		o.iamPairs(m[len("new group: "):], false)
	case strings.HasPrefix(m, "group added to "):
		if _, pairs, ok := strings.Cut(m, ": "); ok {
			o.iamPairs(pairs, false)
		}
	case strings.HasPrefix(m, "add '"):
		// "add 'U' to [shadow ]group 'G'"
		q := quoted(m)
		o.userName = q[0]
		o.groupName = q[1]
		o.action = "group-member-added"
	case strings.HasPrefix(m, "user ") && (strings.Contains(m, " added by ") || strings.Contains(m, " removed by ")):
		// gpasswd: "user U added by B to group G", "user U removed by B from group G"
		target, rest := cutWord(m[len("user "):])
		verb, rest := cutWord(rest)
		_, rest = cutWord(rest) // "by"
		by, rest := cutWord(rest)
		_, rest = cutWord(rest) // "to" or "from"
		_, group := cutWord(rest)
		o.targetName, o.userName, o.groupName = target, by, group
		switch verb {
		case "added":
			o.action = "group-user-added"
		case "removed":
			o.action = "group-user-removed"
		}
	case strings.HasPrefix(m, "password for '") && strings.Contains(m, " changed by '"):
		q := quoted(m)
		o.targetName, o.userName = q[0], q[1]
	case strings.HasPrefix(m, "removed group '"), strings.HasPrefix(m, "removed shadow group '"),
		strings.HasPrefix(m, "group '"):
		q := quoted(m)
		o.groupName = q[0]
		if q[1] != "" {
			o.userName = q[1]
		}
	case strings.HasPrefix(m, "changed password expiry for "):
		o.userName = strings.TrimSpace(m[len("changed password expiry for "):])
	default:
		q := quoted(m)
		if q[0] == "" {
			return false
		}
		if prog == "groupadd" || prog == "groupdel" || prog == "groupmod" {
			o.groupName = q[0]
		} else {
			o.userName = q[0]
		}
	}
	return true
}

// iamPairs reads "name=U, UID=N, GID=N, home=H, shell=S, from=F".
func (o *out) iamPairs(s string, user bool) {
	for s != "" {
		var part string
		part, s, _ = strings.Cut(s, ", ")
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		switch k {
		case "name":
			if user {
				o.userName = v
			} else {
				o.groupName = v
			}
		case "UID":
			o.userID = v
		case "GID":
			o.groupID = v
		case "home":
			o.add("system.auth.useradd.home", v)
		case "shell":
			o.add("system.auth.useradd.shell", v)
		}
	}
}

// quoted returns the first two 'single-quoted' words of s.
func quoted(s string) (q [2]string) {
	for i := range q {
		a := strings.IndexByte(s, '\'')
		if a < 0 {
			return q
		}
		b := strings.IndexByte(s[a+1:], '\'')
		if b < 0 {
			return q
		}
		q[i] = s[a+1 : a+1+b]
		s = s[a+1+b+1:]
	}
	return q
}
