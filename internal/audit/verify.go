package audit

import (
	"crypto/ed25519"
	"fmt"
	"sort"
)

// Kind says how a chain is broken.
type Kind string

// The ways a chain breaks.
const (
	// KindEdited: a record's content no longer matches its hash, or the
	// chain was recomputed and no longer matches a signed checkpoint.
	KindEdited Kind = "edited"
	// KindDeleted: a position of the chain is missing.
	KindDeleted Kind = "deleted"
	// KindReordered: records are out of their chain order, a position
	// appears twice, or a record does not link to its predecessor
	// (inserted).
	KindReordered Kind = "reordered"
	// KindBadSignature: a checkpoint's signature does not verify with the
	// server's key.
	KindBadSignature Kind = "bad-signature"
)

// BreakError names the first broken record of a chain.
type BreakError struct {
	Chain string `json:"chain"`
	// Seq is the position that is broken (for a deletion, the first
	// missing one).
	Seq int64 `json:"seq"`
	// ID is the stored record's ID, 0 when there is none (deleted).
	ID     int64  `json:"id,omitempty"`
	Kind   Kind   `json:"kind"`
	Reason string `json:"reason"`
}

func (e *BreakError) Error() string {
	id := ""
	if e.ID != 0 {
		id = fmt.Sprintf(" (id %d)", e.ID)
	}
	return fmt.Sprintf("chain %s: record seq %d%s %s: %s", e.Chain, e.Seq, id, e.Kind, e.Reason)
}

// Result is what a verification checked.
type Result struct {
	Chain       string `json:"chain"`
	Records     int64  `json:"records"`
	Checkpoints int    `json:"checkpoints"`
	// Head is the chain's last position and hash.
	Head     int64 `json:"head"`
	HeadHash Hash  `json:"head_hash,omitzero"`
	// Unsigned counts the records after the last checkpoint: covered by
	// the hash chain only (a stopped server leaves none).
	Unsigned int64 `json:"unsigned"`
	// Break is the chain's first broken record, as the error returned.
	Break *BreakError `json:"break,omitempty"`
}

// Verifier checks one chain's records, given in storage order (by ID), and
// its checkpoints. Add each record, then Finish. It keeps only the
// checkpoints and a few hashes, so a chain of any length streams through.
type Verifier struct {
	res      Result
	pub      ed25519.PublicKey
	cps      map[int64]Checkpoint
	checked  int // checkpoints matched to their record
	expected int64
	prev     Hash
	lastSeq  int64 // the last checkpoint's seq
	brk      *BreakError
	cpBrk    *BreakError // a bad checkpoint, found before any record
	// missing is the first position skipped; seeing it later makes the
	// break a reordering rather than a deletion.
	missing int64
}

// NewVerifier starts verifying chain against its checkpoints, signed by
// pub. A checkpoint of another chain, or two for one position, break it.
func NewVerifier(chain string, cps []Checkpoint, pub ed25519.PublicKey) *Verifier {
	v := &Verifier{res: Result{Chain: chain}, pub: pub, cps: make(map[int64]Checkpoint, len(cps)), expected: 1}
	sorted := append([]Checkpoint(nil), cps...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Seq < sorted[j].Seq })
	for _, c := range sorted {
		switch {
		case c.Chain != chain:
			v.cpBrk = &BreakError{Chain: chain, Seq: c.Seq, Kind: KindBadSignature, Reason: fmt.Sprintf("checkpoint of chain %q stored with this chain", c.Chain)}
		case !CheckSignature(pub, c):
			v.cpBrk = &BreakError{Chain: chain, Seq: c.Seq, Kind: KindBadSignature, Reason: fmt.Sprintf("checkpoint signature does not verify with the server's key %s (forged or altered checkpoint)", KeyID(pub))}
		case v.cps[c.Seq].Signature != nil:
			v.cpBrk = &BreakError{Chain: chain, Seq: c.Seq, Kind: KindBadSignature, Reason: "two checkpoints for one position"}
		case c.Seq < 1:
			v.cpBrk = &BreakError{Chain: chain, Seq: c.Seq, Kind: KindBadSignature, Reason: "checkpoint at a position before the chain's start"}
		}
		if v.cpBrk != nil {
			break
		}
		v.cps[c.Seq] = c
		v.lastSeq = max(v.lastSeq, c.Seq)
	}
	v.res.Checkpoints = len(cps)
	return v
}

// Add checks the next record in storage order. It returns the first
// record break found so far (and keeps returning it); Finish returns the
// first break of the records and checkpoints.
func (v *Verifier) Add(r Record) error {
	v.res.Records++
	if v.brk != nil {
		if v.brk.Kind == KindDeleted && r.Seq == v.missing && r.Chain == v.res.Chain {
			// The "missing" position comes later: moved, not deleted.
			v.brk.Kind = KindReordered
			v.brk.Reason = fmt.Sprintf("found later in the chain, after seq %d: records are out of order", v.brk.Seq-1)
			v.brk.ID = r.ID
		}
		return v.brk
	}
	bad := func(kind Kind, format string, args ...any) error {
		v.brk = &BreakError{Chain: v.res.Chain, Seq: r.Seq, ID: r.ID, Kind: kind, Reason: fmt.Sprintf(format, args...)}
		return v.brk
	}
	if r.Chain != v.res.Chain {
		return bad(KindReordered, "belongs to chain %q (inserted into this one)", r.Chain)
	}
	if r.Chain != ChainOf(r.Scope) {
		return bad(KindEdited, "scope %q does not belong to this chain", r.Scope)
	}
	if Sum(r) != r.Hash {
		return bad(KindEdited, "content does not match its hash")
	}
	switch {
	case r.Seq > v.expected:
		v.missing = v.expected
		v.brk = &BreakError{Chain: v.res.Chain, Seq: v.expected, Kind: KindDeleted,
			Reason: fmt.Sprintf("missing: the next stored record (id %d) is seq %d", r.ID, r.Seq)}
		if r.Seq-v.expected > 1 {
			v.brk.Reason = fmt.Sprintf("missing with %d more: the next stored record (id %d) is seq %d", r.Seq-v.expected-1, r.ID, r.Seq)
		}
		return v.brk
	case r.Seq < v.expected:
		return bad(KindReordered, "comes after seq %d: out of order or repeated", v.expected-1)
	}
	if r.PrevHash != v.prev {
		return bad(KindReordered, "does not link to the hash of seq %d: inserted, or the chain was renumbered", r.Seq-1)
	}
	if c, ok := v.cps[r.Seq]; ok {
		if c.Hash != r.Hash {
			return bad(KindEdited, "differs from the checkpoint signed at %s: the chain was rewritten up to here", c.Time.UTC().Format("2006-01-02T15:04:05Z"))
		}
		v.checked++
	}
	v.prev = r.Hash
	v.res.Head = r.Seq
	v.res.HeadHash = r.Hash
	v.expected++
	return nil
}

// Finish returns what was checked, and the first break, if any: a
// checkpoint past the chain's end means its last records were deleted.
func (v *Verifier) Finish() (Result, error) {
	v.res.Unsigned = max(v.res.Head-v.lastSeq, 0)
	if v.cpBrk != nil && (v.brk == nil || v.cpBrk.Seq <= v.brk.Seq) {
		v.res.Break = v.cpBrk
		return v.res, v.cpBrk
	}
	if v.brk != nil {
		v.res.Break = v.brk
		return v.res, v.brk
	}
	if v.lastSeq > v.res.Head {
		v.res.Break = &BreakError{Chain: v.res.Chain, Seq: v.res.Head + 1, Kind: KindDeleted,
			Reason: fmt.Sprintf("missing: the chain ends at seq %d but a signed checkpoint covers seq %d (records deleted from the end)", v.res.Head, v.lastSeq)}
		return v.res, v.res.Break
	}
	if v.checked != len(v.cps) {
		// Unreachable: every checkpoint at or below the head met its record.
		panic("BUG: audit: checkpoint not matched")
	}
	return v.res, nil
}

// Verify checks a whole chain: recs in storage order, its checkpoints.
func Verify(chain string, recs []Record, cps []Checkpoint, pub ed25519.PublicKey) (Result, error) {
	v := NewVerifier(chain, cps, pub)
	for _, r := range recs {
		v.Add(r)
	}
	return v.Finish()
}
