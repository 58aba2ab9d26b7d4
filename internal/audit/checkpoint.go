package audit

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// CheckpointEvery is how many records of a chain pass between two periodic
// checkpoints; the server also checkpoints every chain's head that moved
// every 10 minutes and when it stops.
const CheckpointEvery = 1000

// Checkpoint fixes a chain's hash at one position, signed by the server.
type Checkpoint struct {
	Chain string    `json:"chain"`
	Seq   int64     `json:"seq"`
	Hash  Hash      `json:"hash"`
	Time  time.Time `json:"time"`
	// Signature is Ed25519 over EncodeCheckpoint.
	Signature []byte `json:"signature"`
}

// EncodeCheckpoint returns the canonical bytes a checkpoint signs: the
// domain tag, chain, seq, hash and time (Unix nanoseconds).
func EncodeCheckpoint(c Checkpoint) []byte {
	var e encoder
	e.str(checkpointTag)
	e.str(c.Chain)
	e.int(c.Seq)
	e.b = append(e.b, c.Hash[:]...)
	e.int(c.Time.UnixNano())
	return e.b
}

// Signer signs checkpoints. Its Ed25519 key is derived (HKDF-SHA256) from
// the server's secret key, so there is no second secret to keep, and
// anyone given the public key (an export's auditors) can check a
// signature without being able to make one.
type Signer struct {
	priv ed25519.PrivateKey
}

// signerInfo is the HKDF context: the secret key also seals other secrets,
// and this label keeps the derived key apart from those uses.
const signerInfo = "tarian audit checkpoint signing key v1"

// NewSigner derives the checkpoint key from the server's secret key
// (at least 32 bytes).
func NewSigner(secret []byte) (*Signer, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("audit signing key: secret key has %d bytes, want at least 32", len(secret))
	}
	seed, err := hkdf.Key(sha256.New, secret, nil, signerInfo, ed25519.SeedSize)
	if err != nil {
		return nil, fmt.Errorf("audit signing key: %w", err)
	}
	return &Signer{priv: ed25519.NewKeyFromSeed(seed)}, nil
}

// PublicKey returns the key that verifies the signer's checkpoints.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.priv.Public().(ed25519.PublicKey) }

// Sign returns c with its signature.
func (s *Signer) Sign(c Checkpoint) Checkpoint {
	c.Signature = ed25519.Sign(s.priv, EncodeCheckpoint(c))
	return c
}

// CheckSignature reports whether c is signed by pub.
func CheckSignature(pub ed25519.PublicKey, c Checkpoint) bool {
	return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, EncodeCheckpoint(c), c.Signature)
}

// KeyID is a short name for a public key (the first 8 bytes of its
// SHA-256, in hex), to compare keys by eye.
func KeyID(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return hex.EncodeToString(h[:8])
}

// ParsePublicKey reads a public key written as 64 hex digits.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key: want %d bytes as hex", ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}
