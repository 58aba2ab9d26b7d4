package auth

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"golang.org/x/crypto/argon2"
)

// UnusablePasswordHash returns a well-formed argon2id hash (parameters p)
// that no password matches: its key is random, not derived from anything.
// Users who sign in through an identity provider hold one, so a password
// login as them fails like any wrong password, at the same cost and with
// the same answer, and costs nothing to make.
func UnusablePasswordHash(p PasswordParams) string {
	b := make([]byte, saltLen+keyLen)
	if _, err := rand.Read(b); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(b[:saltLen]), b64.EncodeToString(b[saltLen:]))
}
