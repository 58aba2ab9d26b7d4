package poll

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeyFile is the name of the sealing key created in the data directory.
const KeyFile = "secret.key"

// Box seals secrets at rest with AES-256-GCM. Each sealed value is
// version byte, 12-byte nonce, ciphertext and tag; the associated data binds
// it to its tenant, so a sealed secret copied to another tenant's row does
// not open.
type Box struct {
	aead cipher.AEAD
}

const boxVersion = 1

// NewBox returns a Box for a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secret key: want 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// OpenBox returns the Box for key (32 bytes as 64 hex digits or base64, e.g.
// from TARIAN_SECRET_KEY) or, when key is empty, for the key file in dir,
// which it creates with mode 0600 on first use.
func OpenBox(dir, key string) (*Box, error) {
	if key = strings.TrimSpace(key); key != "" {
		k, err := decodeKey(key)
		if err != nil {
			return nil, err
		}
		return NewBox(k)
	}
	path := filepath.Join(dir, KeyFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("secret key file: %w", err)
		}
		_, werr := f.WriteString(hex.EncodeToString(k) + "\n")
		serr := f.Sync()
		if cerr := f.Close(); werr == nil && serr == nil {
			werr = cerr
		}
		if werr == nil {
			werr = serr
		}
		if werr != nil {
			os.Remove(path)
			return nil, fmt.Errorf("secret key file: %w", werr)
		}
		return NewBox(k)
	}
	if err != nil {
		return nil, fmt.Errorf("secret key file: %w", err)
	}
	k, err := decodeKey(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	return NewBox(k)
}

func decodeKey(s string) ([]byte, error) {
	if k, err := hex.DecodeString(s); err == nil && len(k) == 32 {
		return k, nil
	}
	if k, err := base64.StdEncoding.DecodeString(s); err == nil && len(k) == 32 {
		return k, nil
	}
	return nil, errors.New("secret key: want 32 bytes as 64 hex digits or base64")
}

// Seal encrypts secret for tenant-bound associated data ad.
func (b *Box) Seal(secret, ad []byte) ([]byte, error) {
	out := make([]byte, 1+b.aead.NonceSize(), 1+b.aead.NonceSize()+len(secret)+b.aead.Overhead())
	out[0] = boxVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return b.aead.Seal(out, out[1:], secret, ad), nil
}

// ErrSealed is returned when a sealed secret does not open (wrong key,
// tenant or corrupt value).
var ErrSealed = errors.New("sealed secret does not open: wrong secret key or corrupt value")

// Open decrypts a value made by Seal with the same ad.
func (b *Box) Open(sealed, ad []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < 1+n+b.aead.Overhead() || sealed[0] != boxVersion {
		return nil, ErrSealed
	}
	p, err := b.aead.Open(nil, sealed[1:1+n], sealed[1+n:], ad)
	if err != nil {
		return nil, ErrSealed
	}
	return p, nil
}
