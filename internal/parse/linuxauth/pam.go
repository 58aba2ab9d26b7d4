package linuxauth

import (
	"strings"

	"github.com/tarian-soc/tarian/internal/parse/ecs"
)

// pamPrefixed reads "pam_MODULE(SERVICE:TYPE): TEXT".
func (o *out) pamPrefixed(m string) bool {
	i := strings.IndexByte(m, '(')
	j := strings.Index(m, "): ")
	if i < 0 || j < i {
		return false
	}
	svc, typ, _ := strings.Cut(m[i+1:j], ":")
	return o.pam(m[:i], svc, typ, m[j+len("): "):])
}

// pam reads the text of a PAM module's message. module, svc and typ may
// be empty when the line does not name them.
func (o *out) pam(module, svc, typ, text string) bool {
	o.addNonEmpty("system.auth.pam.module", module)
	o.addNonEmpty("system.auth.pam.service", svc)
	o.addNonEmpty("system.auth.pam.type", typ)
	switch {
	case strings.Contains(text, "authentication failure"):
		// "authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=ADDR  user=U"
		if i := strings.IndexByte(text, ';'); i >= 0 {
			o.pamPairs(text[i+1:])
		}
		o.authFailure()
	case strings.HasPrefix(text, "session opened for user "):
		o.forBy(text[len("session opened for user "):])
		o.set(catSession, typeStart)
		o.action = "logged-on"
	case strings.HasPrefix(text, "session closed for user "):
		o.forBy(text[len("session closed for user "):])
		o.set(catSession, typeEnd)
		o.action = "logged-off"
	case strings.HasPrefix(text, "check pass; user unknown"):
		o.reason = "user unknown"
		o.authFailure()
	case strings.HasPrefix(text, "password changed for "):
		o.userName = strings.TrimSpace(text[len("password changed for "):])
		o.targetName = o.userName
		o.set(catIAM, typeChange)
		o.action, o.outcome = "password-changed", "success"
	case strings.HasPrefix(text, "auth could not identify password for ["):
		o.userName = strings.TrimSuffix(text[len("auth could not identify password for ["):], "]")
		o.authFailure()
	case strings.HasPrefix(text, "password check failed for user ("):
		o.userName = strings.TrimSuffix(text[len("password check failed for user ("):], ")")
		o.authFailure()
	case strings.HasPrefix(text, "account ") && strings.Contains(text, " has expired"):
		o.userName, _ = cutWord(text[len("account "):])
		o.set(catAuth, typeInfo)
		o.outcome, o.reason = "failure", "account expired"
	case module == "pam_faillock" || strings.Contains(text, "account temporarily locked"):
		// "Consecutive login failures for user U account temporarily locked"
		if i := strings.Index(text, "for user "); i >= 0 {
			o.userName, _ = cutWord(text[i+len("for user "):])
		}
		o.set(catAuth, typeInfo)
		o.action, o.outcome = "account-locked", "failure"
	default:
		o.quotedUser(text)
		switch typ {
		case "auth", "account":
			o.set(catAuth, typeInfo)
		case "session":
			o.set(catSession, typeInfo)
		case "password", "chauthtok":
			o.set(catIAM, typeChange)
		default:
			o.set(catAuth, typeInfo)
		}
		if failed(text) {
			o.outcome = "failure"
		} else if typ == "auth" || typ == "account" {
			o.outcome = "success"
		}
	}
	return true
}

func (o *out) authFailure() {
	o.set(catAuth, typeInfo)
	o.action, o.outcome = "authentication_failure", "failure"
}

// failed reports whether a PAM message says something failed.
func failed(text string) bool {
	for _, w := range [...]string{"fail", "denied", "not met", "unknown", "expired", "error", "could not", "Failed", "invalid"} {
		if strings.Contains(text, w) {
			return true
		}
	}
	return false
}

// pamPairs reads PAM's "logname= uid=0 euid=0 tty=ssh ruser= rhost=ADDR
// user=U": runs of spaces separate pairs, and values may be empty.
func (o *out) pamPairs(s string) {
	for s != "" {
		s = trimSpaces(s)
		var w string
		w, s = cutWord(s)
		k, v, ok := strings.Cut(w, "=")
		if !ok || v == "" {
			continue
		}
		switch k {
		case "user":
			o.userName = v
		case "rhost":
			o.source(v, "")
		case "ruser":
			o.relUser(v)
		}
	}
}

// forBy reads "U[(uid=N)][ by [B][(uid=M)]]", what follows "session
// opened for user ". As Elastic does, the user acting (B) is user.name and
// the one the session is for is user.effective.name; without B, the
// session's user is user.name.
func (o *out) forBy(s string) {
	s = strings.TrimSpace(s)
	forUser, by, hasBy := strings.Cut(s, " by ")
	forUser, _ = cutUID(strings.Trim(forUser, `"'`))
	byUser, byUID := "", ""
	if hasBy {
		byUser, byUID = cutUID(strings.TrimSpace(by))
		byUser = strings.Trim(byUser, `"'`)
	}
	if byUser != "" {
		o.userName, o.effName = byUser, forUser
	} else {
		o.userName = forUser
	}
	o.userID = byUID
}

// cutUID splits "name(uid=N)" into name and N.
func cutUID(s string) (name, uid string) {
	if i := strings.Index(s, "(uid="); i >= 0 && strings.HasSuffix(s, ")") {
		if id := s[i+len("(uid=") : len(s)-1]; ecs.IsDigits(id) {
			return s[:i], id
		}
	}
	return s, ""
}

// quotedUser reads a user named in quotes after " user " ("not met by
// user \"root\""), as Elastic's pipeline does for any PAM message.
func (o *out) quotedUser(text string) {
	i := strings.Index(text, " user ")
	if i < 0 || i+len(" user ") >= len(text) {
		return
	}
	r := text[i+len(" user "):]
	q := r[0]
	if q != '"' && q != '\'' {
		return
	}
	if j := strings.IndexByte(r[1:], q); j >= 0 {
		o.userName = r[1 : 1+j]
	}
}
