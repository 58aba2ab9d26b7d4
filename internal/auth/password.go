package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are argon2id's cost parameters. They are stored with
// every hash (PHC string format), so they can change without invalidating
// stored passwords.
type PasswordParams struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// DefaultPasswordParams are the parameters of new hashes: 19 MiB, 2
// passes, 1 thread (the OWASP baseline for argon2id). On the 2-core
// development machine one hash takes about 50 ms (BenchmarkPasswordHash);
// one thread per hash leaves the other cores to the rest of the server.
func DefaultPasswordParams() PasswordParams {
	return PasswordParams{Memory: 19 * 1024, Time: 2, Threads: 1}
}

const (
	saltLen = 16
	keyLen  = 32
)

// ErrBadHash is a stored password hash that cannot be read.
var ErrBadHash = errors.New("bad password hash")

// HashPassword returns the PHC-encoded argon2id hash of pw:
// $argon2id$v=19$m=19456,t=2,p=1$SALT$HASH (unpadded standard base64).
func HashPassword(pw string, p PasswordParams) string {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// VerifyPassword reports whether pw matches the encoded hash.
func VerifyPassword(pw, encoded string) (bool, error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

func decodeHash(s string) (PasswordParams, []byte, []byte, error) {
	var p PasswordParams
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: not an argon2id PHC string", ErrBadHash)
	}
	var v int
	if _, err := fmt.Sscanf(f[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, fmt.Errorf("%w: version %q", ErrBadHash, f[2])
	}
	var threads uint32
	if _, err := fmt.Sscanf(f[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil {
		return p, nil, nil, fmt.Errorf("%w: parameters %q", ErrBadHash, f[3])
	}
	// Bounds keep a corrupted row from costing unbounded memory or time.
	if p.Memory < 8 || p.Memory > 1<<21 || p.Time < 1 || p.Time > 64 || threads < 1 || threads > 16 {
		return p, nil, nil, fmt.Errorf("%w: parameters out of range", ErrBadHash)
	}
	p.Threads = uint8(threads)
	salt, err := base64.RawStdEncoding.DecodeString(f[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, fmt.Errorf("%w: salt", ErrBadHash)
	}
	key, err := base64.RawStdEncoding.DecodeString(f[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, fmt.Errorf("%w: hash", ErrBadHash)
	}
	return p, salt, key, nil
}

// NewPassword returns a strong random password for a one-time use: 20
// characters of base32 (100 bits) in groups of five.
func NewPassword() string {
	return randomCode(20)
}

// randomCode returns n random characters of lowercase base32 in
// dash-separated groups of five (n a multiple of 5).
func randomCode(n int) string {
	b := make([]byte, n*5/8+1)
	if _, err := rand.Read(b); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	s := strings.ToLower(b32.EncodeToString(b))[:n]
	var out strings.Builder
	for i := 0; i < n; i += 5 {
		if i > 0 {
			out.WriteByte('-')
		}
		out.WriteString(s[i : i+5])
	}
	return out.String()
}
