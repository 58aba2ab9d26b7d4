package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// TOTP is RFC 6238 with the parameters every authenticator app supports:
// HMAC-SHA-1, 30-second steps, 6 digits. Verification accepts the current
// step and one on either side (clock drift); the caller refuses a step it
// has already accepted, so a code works once.
const (
	TOTPPeriod = 30
	TOTPDigits = 6
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// ErrBadCode is a TOTP code that is not six digits.
var ErrBadCode = errors.New("a TOTP code is six digits")

// NewTOTPSecret returns a new random 160-bit secret (RFC 4226's
// recommended length).
func NewTOTPSecret() []byte {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	return b
}

// TOTPStep is the time step t falls in.
func TOTPStep(t time.Time) int64 { return t.Unix() / TOTPPeriod }

// TOTPCode is the code of secret at step (RFC 4226 HOTP with the step as
// the counter), digits long.
func TOTPCode(secret []byte, step int64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

// ParseTOTPCode checks s is a code of six digits, allowing surrounding
// spaces and one space in the middle ("123 456"), as apps show them.
func ParseTOTPCode(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) == 7 && s[3] == ' ' {
		s = s[:3] + s[4:]
	}
	if len(s) != TOTPDigits {
		return "", ErrBadCode
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", ErrBadCode
		}
	}
	return s, nil
}

// VerifyTOTP returns the step whose code is code, within one step of now
// and after last (the last step accepted for this secret), or false.
func VerifyTOTP(secret []byte, code string, now time.Time, last int64) (int64, bool) {
	c, err := ParseTOTPCode(code)
	if err != nil {
		return 0, false
	}
	cur := TOTPStep(now)
	ok, step := 0, int64(0)
	for s := cur - 1; s <= cur+1; s++ {
		// Compare every candidate in constant time, without an early exit.
		if hmac.Equal([]byte(TOTPCode(secret, s, TOTPDigits)), []byte(c)) && s > last && ok == 0 {
			ok, step = 1, s
		}
	}
	return step, ok == 1
}

// TOTPURI is the otpauth:// URI an authenticator app enrols from (as a QR
// code or pasted).
func TOTPURI(secret []byte, issuer, account string) string {
	label := url.PathEscape(issuer + ":" + account)
	q := url.Values{"secret": {b32.EncodeToString(secret)}, "issuer": {issuer}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}
	return "otpauth://totp/" + label + "?" + q.Encode()
}

// NewRecoveryCodes returns n single-use recovery codes of 100 random bits
// (xxxxx-xxxxx-xxxxx-xxxxx); they are stored as their SHA-256 Hash.
func NewRecoveryCodes(n int) []string {
	codes := make([]string, n)
	for i := range codes {
		codes[i] = randomCode(20)
	}
	return codes
}

// NormaliseRecoveryCode folds case and spacing so a code typed by hand
// hashes as stored.
func NormaliseRecoveryCode(s string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
}
