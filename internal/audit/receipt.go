package audit

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Receipt is the signed statement of a tenant's removal (offboarding):
// what was deleted, per kind, and the SHA-256 of the export handed over
// first, if any. The server signs it with the audit checkpoint key (the
// same derivation, a different domain tag), so one public key — the one
// GET /api/v1/audit/verify reports — checks both.
type Receipt struct {
	Tenant string `json:"tenant"`
	Name   string `json:"name"`
	// Removed is when the removal finished.
	Removed time.Time `json:"removed"`
	// Actor is the token or user ID that asked for it.
	Actor string `json:"actor"`
	// Deleted counts what was deleted, by kind: "events", "raw_days",
	// "evidence_files", and "state.<table>" for each table's rows.
	Deleted map[string]int64 `json:"deleted"`
	// Export describes the export written before anything was deleted.
	Export *ReceiptExport `json:"export,omitempty"`
	// AuditSeq and AuditHead are the tenant's audit chain's last position
	// and hash when it was deleted (the export holds the chain).
	AuditSeq  int64  `json:"audit_seq"`
	AuditHead string `json:"audit_head,omitempty"`
	// KeyID and PublicKey name the key that signed (hex).
	KeyID     string `json:"key_id"`
	PublicKey string `json:"public_key"`
	// Signature is Ed25519 (hex) over EncodeReceipt.
	Signature string `json:"signature,omitempty"`
}

// ReceiptExport is the export a removal wrote before deleting.
type ReceiptExport struct {
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// receiptTag keeps a receipt's encoding apart from records and checkpoints.
const receiptTag = "tarian-offboarding-receipt-v1"

// EncodeReceipt returns the canonical bytes a receipt's signature covers:
// the domain tag, then the receipt's JSON without its signature (fields in
// declaration order, map keys sorted, times in UTC RFC 3339 with
// nanoseconds: the same bytes from the same receipt, wherever it is
// decoded).
func EncodeReceipt(r Receipt) []byte {
	r.Signature = ""
	r.Removed = r.Removed.UTC()
	body, err := json.Marshal(r)
	if err != nil {
		panic("BUG: receipt does not marshal: " + err.Error())
	}
	var e encoder
	e.str(receiptTag)
	e.str(string(body))
	return e.b
}

// SignReceipt returns r with the signer's key and signature.
func (s *Signer) SignReceipt(r Receipt) Receipt {
	pub := s.PublicKey()
	r.KeyID, r.PublicKey = KeyID(pub), hex.EncodeToString(pub)
	r.Signature = hex.EncodeToString(ed25519.Sign(s.priv, EncodeReceipt(r)))
	return r
}

// ErrBadReceipt is returned by VerifyReceipt for a receipt whose signature
// does not check out.
var ErrBadReceipt = errors.New("receipt signature does not verify")

// VerifyReceipt checks r's signature against pub, or, when pub is nil,
// against the key the receipt names (which proves only that the receipt
// is intact, not who signed it: compare that key with the server's).
func VerifyReceipt(r Receipt, pub ed25519.PublicKey) error {
	if pub == nil {
		k, err := ParsePublicKey(r.PublicKey)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBadReceipt, err)
		}
		pub = k
	} else if r.PublicKey != hex.EncodeToString(pub) {
		return fmt.Errorf("%w: signed by key %s, not %s", ErrBadReceipt, r.KeyID, KeyID(pub))
	}
	sig, err := hex.DecodeString(r.Signature)
	if err != nil || !ed25519.Verify(pub, EncodeReceipt(r), sig) {
		return ErrBadReceipt
	}
	return nil
}
