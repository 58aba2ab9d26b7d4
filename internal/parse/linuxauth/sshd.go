package linuxauth

import (
	"strings"
)

// sshd reads an OpenSSH server message; it reports whether it knew it.
func (o *out) sshd(m string) bool {
	m = trimMarker(m)
	for _, l := range [...]string{"error: ", "fatal: ", "warning: "} {
		if strings.HasPrefix(m, l) {
			m = m[len(l):]
			break
		}
	}
	switch {
	case strings.HasPrefix(m, "Accepted "), strings.HasPrefix(m, "Failed "),
		strings.HasPrefix(m, "Postponed "), strings.HasPrefix(m, "Partial "):
		return o.sshLogin(m)
	case strings.HasPrefix(m, "Invalid user "), strings.HasPrefix(m, "Illegal user "):
		// "Invalid user U from ADDR[ port P]"
		rest := m[len("Invalid user "):]
		user, addr, port, _ := userFrom(rest)
		o.add("system.auth.ssh.event", "Invalid")
		o.userName = user
		o.source(addr, port)
		o.sshFail()
		return true
	case strings.HasPrefix(m, "input_userauth_request: invalid user "):
		o.add("system.auth.ssh.event", "Invalid")
		o.userName = strings.TrimSpace(m[len("input_userauth_request: invalid user "):])
		o.sshFail()
		return true
	case strings.HasPrefix(m, "User ") && strings.Contains(m, " not allowed because "):
		// "User U from ADDR not allowed because not listed in AllowUsers"
		rest := m[len("User "):]
		i := strings.Index(rest, " not allowed because ")
		if i < 0 {
			return false
		}
		user, addr, _, _ := userFrom(rest[:i])
		o.userName = user
		o.source(addr, "")
		o.reason = rest[i+1:]
		o.sshFail()
		return true
	case strings.HasPrefix(m, "maximum authentication attempts exceeded for "):
		rest := trimUserKind(m[len("maximum authentication attempts exceeded for "):])
		user, addr, port, _ := userFrom(rest)
		o.userName = user
		o.source(addr, port)
		o.reason = "maximum authentication attempts exceeded"
		o.sshFail()
		return true
	case strings.HasPrefix(m, "PAM: "):
		// "PAM: authentication error for [illegal user ]U from ADDR"
		rest := m[len("PAM: "):]
		i := strings.Index(rest, " for ")
		if i < 0 {
			return false
		}
		user, addr, port, _ := userFrom(trimUserKind(rest[i+len(" for "):]))
		o.userName = user
		o.source(addr, port)
		o.reason = rest[:i]
		o.sshFail()
		return true
	case strings.HasPrefix(m, "Did not receive identification string from "):
		addr, port, _ := addrPort(m[len("Did not receive identification string from "):])
		o.dropped = addr
		o.srcPort = port
		o.set(catNetwork, typeConnEnd)
		o.reason = "did not receive identification string"
		return true
	case strings.HasPrefix(m, "Connection from "):
		// "Connection from ADDR port P on ADDR port P[ rdomain ""]"
		addr, port, _ := addrPort(m[len("Connection from "):])
		o.source(addr, port)
		o.set(catNetwork, typeConnStart)
		return true
	case strings.HasPrefix(m, "Connection closed by "), strings.HasPrefix(m, "Connection reset by "),
		strings.HasPrefix(m, "Disconnected from "), strings.HasPrefix(m, "Disconnecting "),
		strings.HasPrefix(m, "Received disconnect from "), strings.HasPrefix(m, "Timeout before authentication for "),
		strings.HasPrefix(m, "Read error from remote host "):
		return o.sshClose(m)
	case strings.HasPrefix(m, "Disconnecting: "), strings.HasPrefix(m, "Unable to negotiate"),
		strings.HasPrefix(m, "Bad protocol version identification "), strings.HasPrefix(m, "banner exchange: "),
		strings.HasPrefix(m, "kex_exchange_identification: "), strings.HasPrefix(m, "ssh_dispatch_run_fatal: "):
		return o.sshRefused(m)
	case strings.HasPrefix(m, "Address ") && strings.Contains(m, " maps to "):
		// "Address ADDR maps to HOST, but this does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!"
		addr, _ := cutWord(m[len("Address "):])
		o.source(addr, "")
		o.set(catNetwork, typeInfo)
		return true
	case strings.HasPrefix(m, "reverse mapping checking getaddrinfo for "):
		// "... for HOST [ADDR] failed - POSSIBLE BREAK-IN ATTEMPT!"
		rest := m[len("reverse mapping checking getaddrinfo for "):]
		if i, j := strings.IndexByte(rest, '['), strings.IndexByte(rest, ']'); i >= 0 && j > i {
			o.source(rest[i+1:j], "")
		}
		o.set(catNetwork, typeInfo)
		return true
	case strings.HasPrefix(m, "Authentication refused: "):
		o.reason = m[len("Authentication refused: "):]
		o.set(catAuth, typeInfo)
		o.outcome = "failure"
		return true
	case strings.HasPrefix(m, "Starting session: "):
		// "Starting session: shell on pts/0 for U from ADDR port P id 0"
		if i := strings.Index(m, " for "); i > 0 {
			user, addr, port, _ := userFrom(m[i+len(" for "):])
			o.userName = user
			o.source(addr, port)
		}
		o.set(catSession, typeStart)
		return true
	case strings.HasPrefix(m, "Close session: user "):
		user, addr, port, _ := userFrom(m[len("Close session: user "):])
		o.userName = user
		o.source(addr, port)
		o.set(catSession, typeEnd)
		return true
	case strings.HasPrefix(m, "subsystem request for "):
		// "subsystem request for sftp by user U[ failed, subsystem not found]"
		if i := strings.Index(m, " by user "); i > 0 {
			u, _ := cutWord(m[i+len(" by user "):])
			o.userName = strings.TrimSuffix(u, ",")
		}
		o.set(catSession, typeInfo)
		if strings.HasSuffix(m, "not found") {
			o.outcome = "failure"
		}
		return true
	case strings.HasPrefix(m, "Could not get shadow information for "):
		o.userName = strings.TrimSpace(m[len("Could not get shadow information for "):])
		o.set(catAuth, typeInfo)
		o.outcome = "failure"
		return true
	case strings.HasPrefix(m, "PAM ") && strings.Contains(m, " more authentication failure"):
		// "PAM 2 more authentication failures; logname= uid=0 ... rhost=ADDR  user=U"
		return o.pam("", "sshd", "auth", m)
	}
	return false
}

// sshLogin reads "EVENT METHOD for [invalid user ]USER from ADDR port P
// ssh2[: SIGNATURE]" (EVENT Accepted, Failed, Postponed, Partial).
func (o *out) sshLogin(m string) bool {
	ev, rest := cutWord(m)
	i := strings.Index(rest, " for ")
	if i < 0 {
		return false
	}
	method := rest[:i]
	rest = rest[i+len(" for "):]
	rest = trimUserKind(rest)
	user, addr, port, tail := userFrom(rest)
	if addr == "" {
		return false
	}
	o.add("system.auth.ssh.event", ev)
	o.add("system.auth.ssh.method", method)
	if j := strings.Index(tail, "ssh2: "); j >= 0 {
		o.add("system.auth.ssh.signature", tail[j+len("ssh2: "):])
	}
	o.userName = user
	o.source(addr, port)
	switch ev {
	case "Accepted":
		o.set(catAuthSession, typeInfo)
		o.action, o.outcome = "ssh_login", "success"
	case "Failed":
		o.sshFail()
	default:
		o.set(catAuth, typeInfo)
		o.action = "ssh_login"
	}
	return true
}

// sshFail classifies a failed SSH login.
func (o *out) sshFail() {
	o.set(catAuth, typeInfo)
	o.action, o.outcome = "ssh_login", "failure"
}

// sshClose reads the messages that end a connection: "Connection closed
// by [authenticating user U |invalid user U ]ADDR port P", "Disconnected
// from ...", "Disconnecting ... ADDR port P: REASON", "Received disconnect
// from ADDR port P:11: REASON", "Timeout before authentication for ADDR
// port P", "Read error from remote host ADDR[ port P]: REASON".
func (o *out) sshClose(m string) bool {
	var rest string
	for _, p := range [...]string{"Connection closed by ", "Connection reset by ", "Disconnected from ",
		"Disconnecting ", "Received disconnect from ", "Timeout before authentication for ", "Read error from remote host "} {
		if strings.HasPrefix(m, p) {
			rest = m[len(p):]
			break
		}
	}
	user := ""
	for _, k := range [...]string{"authenticating user ", "invalid user ", "user "} {
		if strings.HasPrefix(rest, k) {
			rest = rest[len(k):]
			// The user is everything before the address, the word before " port ".
			if j := strings.LastIndex(rest, " port "); j > 0 {
				if a := strings.LastIndexByte(rest[:j], ' '); a > 0 {
					user, rest = rest[:a], rest[a+1:]
				}
			} else if a := strings.IndexByte(rest, ' '); a > 0 {
				user, rest = rest[:a], rest[a+1:]
			}
			if k == "invalid user " {
				o.add("system.auth.ssh.event", "Invalid")
			}
			break
		}
	}
	addr, port, tail := addrPort(rest)
	o.userName = user
	o.source(addr, port)
	if i := strings.Index(tail, ": "); i >= 0 {
		r := tail[i+2:]
		// "port 22:11: Bye Bye": skip the disconnect code.
		if c, after := cutCode(r); c != "" {
			r = after
		}
		o.reason = r
	}
	o.set(catNetwork, typeConnEnd)
	return true
}

// sshRefused reads the messages of a connection sshd refused before
// authentication: protocol, key exchange and cipher negotiation failures.
func (o *out) sshRefused(m string) bool {
	switch {
	case strings.HasPrefix(m, "Unable to negotiate with "):
		addr, port, tail := addrPort(m[len("Unable to negotiate with "):])
		o.source(addr, port)
		o.reason = strings.TrimPrefix(tail, ": ")
	case strings.HasPrefix(m, "Bad protocol version identification "):
		if i := strings.LastIndex(m, " from "); i > 0 {
			addr, port, _ := addrPort(m[i+len(" from "):])
			o.source(addr, port)
		}
		o.reason = "bad protocol version identification"
	case strings.HasPrefix(m, "banner exchange: Connection from "):
		addr, port, tail := addrPort(m[len("banner exchange: Connection from "):])
		o.source(addr, port)
		o.reason = strings.TrimPrefix(tail, ": ")
	default:
		if i := strings.Index(m, ": "); i > 0 {
			o.reason = m[i+2:]
		}
	}
	o.set(catNetwork, typeConnEnd)
	return true
}

// trimMarker drops the " [preauth]" (or " [net]", " [postauth]") marker
// sshd ends privilege-separated messages with.
func trimMarker(m string) string {
	if n := len(m); n > 0 && m[n-1] == ']' {
		if i := strings.LastIndex(m, " ["); i >= 0 && !strings.ContainsAny(m[i+2:n-1], " []") {
			return m[:i]
		}
	}
	return m
}

// trimUserKind drops "invalid user " or "illegal user " in front of a user
// name.
func trimUserKind(s string) string {
	for _, k := range [...]string{"invalid user ", "illegal user "} {
		if strings.HasPrefix(s, k) {
			return s[len(k):]
		}
	}
	return s
}

// userFrom reads "USER from ADDR[ port P][tail]". The user is everything
// before the last " from " (a user name may hold spaces).
func userFrom(s string) (user, addr, port, tail string) {
	i := strings.LastIndex(s, " from ")
	if i < 0 {
		if strings.HasPrefix(s, "from ") {
			addr, port, tail = addrPort(s[len("from "):])
			return "", addr, port, tail
		}
		return strings.TrimSpace(s), "", "", ""
	}
	addr, port, tail = addrPort(s[i+len(" from "):])
	return s[:i], addr, port, tail
}

// addrPort reads "ADDR[ port P]" and returns what follows (the tail, with
// its leading space or colon). A colon after the address or port ("ADDR:"
// or "port 22:11:") ends it.
func addrPort(s string) (addr, port, tail string) {
	addr, tail = cutWord(s)
	if tail != "" {
		tail = " " + tail
	}
	if strings.HasSuffix(addr, ",") {
		addr = addr[:len(addr)-1]
		tail = "," + tail
	}
	if strings.HasSuffix(addr, ":") && !isIP(addr) {
		addr = addr[:len(addr)-1]
		tail = ":" + tail
	}
	if strings.HasPrefix(tail, " port ") {
		p := tail[len(" port "):]
		j := 0
		for j < len(p) && isDigit(p[j]) {
			j++
		}
		port, tail = p[:j], p[j:]
	}
	return addr, port, tail
}

// cutCode reads a leading "NN: " disconnect code.
func cutCode(s string) (code, rest string) {
	j := 0
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j > 0 && strings.HasPrefix(s[j:], ": ") {
		return s[:j], s[j+2:]
	}
	return "", s
}
