package audit

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestReceipt(t *testing.T) {
	s, err := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	r := s.SignReceipt(Receipt{Tenant: "north-vale", Removed: time.Date(2026, 12, 6, 4, 0, 0, 123, time.UTC),
		Deleted: map[string]int64{"events": 3, "state.alerts": 2}, Export: &ReceiptExport{SHA256: "ab", Bytes: 10}})
	// Through JSON, as a file.
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Receipt
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if err := VerifyReceipt(back, s.PublicKey()); err != nil {
		t.Errorf("verify: %v", err)
	}
	if err := VerifyReceipt(back, nil); err != nil {
		t.Errorf("verify with the named key: %v", err)
	}
	tampered := back
	tampered.Deleted = map[string]int64{"events": 2, "state.alerts": 2}
	if err := VerifyReceipt(tampered, s.PublicKey()); !errors.Is(err, ErrBadReceipt) {
		t.Errorf("tampered receipt: %v", err)
	}
	other, _ := NewSigner([]byte("another secret key of 32 bytes!!"))
	if err := VerifyReceipt(back, other.PublicKey()); !errors.Is(err, ErrBadReceipt) {
		t.Errorf("another key: %v", err)
	}
	// A checkpoint signature is never a receipt signature.
	if string(EncodeReceipt(back)[8:8+len(receiptTag)]) != receiptTag {
		t.Errorf("no domain tag")
	}
}
