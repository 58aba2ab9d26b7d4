package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"
)

var testSecret = bytes.Repeat([]byte{7}, 32)

func testSigner(t testing.TB) *Signer {
	t.Helper()
	s, err := NewSigner(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// chain builds n linked records of chain "council-a", a checkpoint at
// every seq in cpAt.
func chain(t testing.TB, s *Signer, n int, cpAt ...int64) ([]Record, []Checkpoint) {
	t.Helper()
	var recs []Record
	var head Record
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	for i := range n {
		r := Link(head, Record{ID: int64(i + 1), Time: t0.Add(time.Duration(i) * time.Second), Actor: "tok1", Role: "tenant-admin",
			Action: "alert.ack", Scope: "council-a", Detail: fmt.Sprintf(`{"id":%d}`, i)})
		recs = append(recs, r)
		head = r
	}
	var cps []Checkpoint
	for _, seq := range cpAt {
		cps = append(cps, s.Sign(Checkpoint{Chain: "council-a", Seq: seq, Hash: recs[seq-1].Hash, Time: t0.Add(time.Hour)}))
	}
	return recs, cps
}

func TestVerifyIntact(t *testing.T) {
	s := testSigner(t)
	recs, cps := chain(t, s, 10, 5, 10)
	res, err := Verify("council-a", recs, cps, s.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 10 || res.Checkpoints != 2 || res.Head != 10 || res.Unsigned != 0 || res.HeadHash != recs[9].Hash {
		t.Errorf("result = %+v", res)
	}
	res, err = Verify("council-a", recs[:7], cps[:1], s.PublicKey())
	if err != nil || res.Unsigned != 2 {
		t.Errorf("Verify(7 records, checkpoint at 5) = %+v, %v; want 2 unsigned", res, err)
	}
	if _, err := Verify("empty", nil, nil, s.PublicKey()); err != nil {
		t.Errorf("empty chain: %v", err)
	}
}

func TestVerifyBreaks(t *testing.T) {
	s := testSigner(t)
	other, _ := NewSigner(bytes.Repeat([]byte{8}, 32))
	tests := []struct {
		name    string
		tamper  func(recs []Record, cps []Checkpoint) ([]Record, []Checkpoint)
		kind    Kind
		seq, id int64
	}{
		{"detail edited", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			r[3].Detail = "nothing to see"
			return r, c
		}, KindEdited, 4, 4},
		{"time edited", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			r[3].Time = r[3].Time.Add(time.Nanosecond)
			return r, c
		}, KindEdited, 4, 4},
		{"hash edited", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			r[0].Hash[0] ^= 1
			return r, c
		}, KindEdited, 1, 1},
		{"deleted", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			return append(r[:4:4], r[5:]...), c
		}, KindDeleted, 5, 0},
		{"first deleted", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			return r[1:], c
		}, KindDeleted, 1, 0},
		{"tail deleted below a checkpoint", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			return r[:8], c
		}, KindDeleted, 9, 0},
		{"swapped", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			r[2], r[3] = r[3], r[2]
			return r, c
		}, KindReordered, 3, 3},
		{"moved to the end", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			moved := r[1]
			return append(append(r[:1:1], r[2:]...), moved), c
		}, KindReordered, 2, 2},
		{"repeated", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			return append(r[:5:5], r[4:]...), c
		}, KindReordered, 5, 5},
		{"inserted, relinked from there", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			// A forger recomputes hashes from the insertion on: the
			// signed checkpoint at 5 catches it.
			fake := Link(r[1], Record{ID: 99, Time: r[2].Time, Actor: "x", Role: "provider-admin", Action: "nothing", Scope: "council-a"})
			out := append(r[:2:2], fake)
			head := fake
			for _, x := range r[2:] {
				x = Link(head, x)
				out = append(out, x)
				head = x
			}
			return out, c
		}, KindEdited, 5, 4},
		{"record linked to the wrong predecessor", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			r[6].PrevHash = r[4].Hash
			r[6].Hash = Sum(r[6])
			return r, c
		}, KindReordered, 7, 7},
		{"record of another chain", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			r[6].Chain, r[6].Scope = "council-b", "council-b"
			r[6].Hash = Sum(r[6])
			return r, c
		}, KindReordered, 7, 7},
		{"forged checkpoint", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			c[1] = other.Sign(c[1])
			return r, c
		}, KindBadSignature, 10, 0},
		{"checkpoint moved", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			c[0].Seq = 6
			return r, c
		}, KindBadSignature, 6, 0},
		{"edit before a forged checkpoint", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			r[1].Actor = "someone"
			c[1].Signature[0] ^= 1
			return r, c
		}, KindEdited, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, cps := chain(t, s, 10, 5, 10)
			recs, cps = tt.tamper(recs, cps)
			_, err := Verify("council-a", recs, cps, s.PublicKey())
			var be *BreakError
			if !errors.As(err, &be) {
				t.Fatalf("Verify = %v, want a BreakError", err)
			}
			if be.Kind != tt.kind || be.Seq != tt.seq || be.ID != tt.id || be.Chain != "council-a" {
				t.Errorf("break = %+v (%v), want %s at seq %d id %d", be, err, tt.kind, tt.seq, tt.id)
			}
		})
	}
}

func TestEncodeUnambiguous(t *testing.T) {
	a := Record{Chain: "x", Actor: "ab", Role: "c", Time: time.Unix(0, 1)}
	b := Record{Chain: "x", Actor: "a", Role: "bc", Time: time.Unix(0, 1)}
	if bytes.Equal(Encode(a), Encode(b)) || Sum(a) == Sum(b) {
		t.Error("moving a byte between fields keeps the encoding")
	}
	if bytes.Equal(EncodeCheckpoint(Checkpoint{Chain: "x"}), Encode(Record{Chain: "x"})) {
		t.Error("checkpoint and record encodings collide")
	}
}

func TestSignerDeterministic(t *testing.T) {
	a, b := testSigner(t), testSigner(t)
	if !a.PublicKey().Equal(b.PublicKey()) {
		t.Error("one secret gives two keys")
	}
	if _, err := NewSigner([]byte("short")); err == nil {
		t.Error("a short secret is accepted")
	}
	pub, err := ParsePublicKey(fmt.Sprintf("%x", []byte(a.PublicKey())))
	if err != nil || !pub.Equal(a.PublicKey()) || KeyID(pub) != KeyID(a.PublicKey()) {
		t.Errorf("ParsePublicKey = %v", err)
	}
}

func TestRecordJSON(t *testing.T) {
	s := testSigner(t)
	recs, cps := chain(t, s, 3, 3)
	b, err := json.Marshal(struct {
		R []Record
		C []Checkpoint
	}{recs, cps})
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		R []Record
		C []Checkpoint
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify("council-a", back.R, back.C, s.PublicKey()); err != nil {
		t.Errorf("after a JSON round trip: %v", err)
	}
}

// FuzzVerify tampers a valid chain with fuzzed edits: Verify never
// panics, accepts the chain only when the edit left it as it was (same
// records, same checkpoints), and a break names a position.
func FuzzVerify(f *testing.F) {
	f.Add(uint8(0), uint8(0), "", int64(0), uint8(0))
	f.Add(uint8(1), uint8(3), "x", int64(2), uint8(1))
	f.Add(uint8(2), uint8(5), "", int64(-1), uint8(2))
	f.Add(uint8(3), uint8(9), "council-b", int64(1<<62), uint8(3))
	f.Fuzz(func(t *testing.T, op, at uint8, s string, n int64, cpOp uint8) {
		sg := testSigner(t)
		recs, cps := chain(t, sg, 12, 4, 8, 12)
		origRecs, origCPs := chain(t, sg, 12, 4, 8, 12)
		i := int(at) % len(recs)
		switch op % 8 {
		case 1:
			recs[i].Detail = s
		case 2:
			recs = append(recs[:i:i], recs[i+1:]...)
		case 3:
			j := int(n&0x7fffffff) % len(recs)
			recs[i], recs[j] = recs[j], recs[i]
		case 4:
			recs[i].Seq = n
		case 5:
			recs[i].Scope, recs[i].Chain = s, ChainOf(s)
			recs[i].Hash = Sum(recs[i])
		case 6:
			recs[i].Time = time.Unix(0, n).UTC()
		case 7:
			recs = append(recs[:i:i], append([]Record{recs[i]}, recs[i:]...)...)
		}
		switch cpOp % 4 {
		case 1:
			cps[int(at)%len(cps)].Seq = n
		case 2:
			cps = cps[:len(cps)-1]
		case 3:
			cps[int(at)%len(cps)].Signature = []byte(s)
		}
		res, err := Verify("council-a", recs, cps, sg.PublicKey())
		// Intact means: a prefix of the chain (dropping the tail together
		// with the checkpoints over it cannot be seen), its own checkpoints.
		now, _ := json.Marshal(recs)
		was, _ := json.Marshal(origRecs[:min(len(recs), len(origRecs))])
		nowCP, _ := json.Marshal(cps)
		wasCP, _ := json.Marshal(origCPs[:len(cps)])
		intact := bytes.Equal(now, was) && bytes.Equal(nowCP, wasCP)
		for _, c := range cps {
			intact = intact && c.Seq <= int64(len(recs))
		}
		if err == nil && !intact {
			t.Fatalf("tampered chain verifies: op %d cpOp %d: %+v", op%8, cpOp%4, res)
		}
		if err != nil && intact {
			t.Fatalf("intact chain fails: %v", err)
		}
		var be *BreakError
		if err != nil && (!errors.As(err, &be) || be.Chain != "council-a" || be.Kind == "") {
			t.Fatalf("error %v is not a break of the chain", err)
		}
	})
}
