package audit

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

func export(t *testing.T, s *Signer, recs []Record, cps []Checkpoint) []byte {
	t.Helper()
	var b bytes.Buffer
	pub := s.PublicKey()
	w, err := NewExportWriter(&b, Header{Chain: "council-a", PublicKey: hex.EncodeToString(pub), KeyID: KeyID(pub), Exported: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cps {
		if err := w.Checkpoint(c); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range recs {
		if err := w.Record(r); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func TestVerifyExport(t *testing.T) {
	s := testSigner(t)
	recs, cps := chain(t, s, 6, 3, 6)
	h, res, err := VerifyExport(bytes.NewReader(export(t, s, recs, cps)), nil)
	if err != nil || h.Chain != "council-a" || res.Records != 6 || res.Checkpoints != 2 {
		t.Fatalf("VerifyExport = %+v, %+v, %v", h, res, err)
	}
	// An export whose records were edited, checked against the pinned key.
	recs[4].Actor = "nobody"
	_, _, err = VerifyExport(bytes.NewReader(export(t, s, recs, cps)), s.PublicKey())
	var be *BreakError
	if !errors.As(err, &be) || be.Seq != 5 || be.Kind != KindEdited {
		t.Errorf("edited export: %v", err)
	}
	// A forger who re-signs with their own key passes only a check against
	// the key the file names: the pinned key catches it.
	forger, _ := NewSigner(bytes.Repeat([]byte{9}, 32))
	recs, cps = chain(t, forger, 6, 3, 6)
	forged := export(t, forger, recs, cps)
	if _, _, err := VerifyExport(bytes.NewReader(forged), nil); err != nil {
		t.Errorf("self-consistent export: %v", err)
	}
	if _, _, err := VerifyExport(bytes.NewReader(forged), s.PublicKey()); !errors.As(err, &be) || be.Kind != KindBadSignature {
		t.Errorf("forged export against the pinned key: %v", err)
	}
	for _, bad := range []string{"", "{}\n", `{"type":"record","record":{}}` + "\n", "not json\n"} {
		if _, _, err := VerifyExport(strings.NewReader(bad), nil); !errors.Is(err, ErrBadExport) {
			t.Errorf("VerifyExport(%q) = %v, want ErrBadExport", bad, err)
		}
	}
}

// FuzzVerifyExport: an export file is untrusted input; reading one never
// panics, and an accepted one really is intact.
func FuzzVerifyExport(f *testing.F) {
	s, _ := NewSigner(testSecret)
	recs, cps := chain(f, s, 3, 2)
	var b bytes.Buffer
	w, _ := NewExportWriter(&b, Header{Chain: "council-a", PublicKey: hex.EncodeToString(s.PublicKey())})
	for _, c := range cps {
		w.Checkpoint(c)
	}
	for _, r := range recs {
		w.Record(r)
	}
	f.Add(b.Bytes())
	f.Add([]byte("{}"))
	f.Add([]byte(`{"type":"header","header":{"chain":"x","public_key":""}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, res, err := VerifyExport(bytes.NewReader(data), s.PublicKey())
		if err == nil && res.Break != nil {
			t.Fatalf("accepted with a break: %+v", res)
		}
	})
}
