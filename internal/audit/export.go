package audit

import (
	"bufio"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// An export is JSON lines: one header, then the chain's checkpoints, then
// its records in storage order, each with its hashes, so the member's
// auditors can verify it offline (tarian audit verify --file).
//
//	{"type":"header","chain":"council-a","public_key":"<hex>","key_id":"…","exported":"…"}
//	{"type":"checkpoint","checkpoint":{…}}
//	{"type":"record","record":{…}}
type ExportLine struct {
	Type       string      `json:"type"`
	Header     *Header     `json:"header,omitempty"`
	Checkpoint *Checkpoint `json:"checkpoint,omitempty"`
	Record     *Record     `json:"record,omitempty"`
}

// Header opens an export.
type Header struct {
	Chain string `json:"chain"`
	// PublicKey (hex) verifies the checkpoints. It is what the server
	// says: an auditor compares its KeyID with one obtained apart from the
	// file (the server's `tarian audit verify` prints it).
	PublicKey string    `json:"public_key"`
	KeyID     string    `json:"key_id"`
	Exported  time.Time `json:"exported"`
}

// ErrBadExport means a file is not an export.
var ErrBadExport = errors.New("not an audit export")

// VerifyExport reads an export from r and verifies its chain with pub, or
// with the key its header names when pub is nil. It returns the header
// and what was checked; a broken chain is a *BreakError.
func VerifyExport(r io.Reader, pub ed25519.PublicKey) (Header, Result, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	var h Header
	var cps []Checkpoint
	var v *Verifier
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var l ExportLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return h, Result{}, fmt.Errorf("%w: line %d: %v", ErrBadExport, line, err)
		}
		switch {
		case line == 1 && l.Type == "header" && l.Header != nil:
			h = *l.Header
			if pub == nil {
				b, err := hex.DecodeString(h.PublicKey)
				if err != nil || len(b) != ed25519.PublicKeySize {
					return h, Result{}, fmt.Errorf("%w: header: bad public key", ErrBadExport)
				}
				pub = b
			}
		case line == 1:
			return h, Result{}, fmt.Errorf("%w: line 1 is not the header", ErrBadExport)
		case l.Type == "checkpoint" && l.Checkpoint != nil && v == nil:
			cps = append(cps, *l.Checkpoint)
		case l.Type == "record" && l.Record != nil:
			if v == nil {
				v = NewVerifier(h.Chain, cps, pub)
			}
			v.Add(*l.Record)
		default:
			return h, Result{}, fmt.Errorf("%w: line %d: unexpected %q line", ErrBadExport, line, l.Type)
		}
	}
	if err := sc.Err(); err != nil {
		return h, Result{}, fmt.Errorf("read export: %w", err)
	}
	if line == 0 {
		return h, Result{}, fmt.Errorf("%w: empty", ErrBadExport)
	}
	if v == nil {
		v = NewVerifier(h.Chain, cps, pub)
	}
	res, err := v.Finish()
	return h, res, err
}

// ExportWriter writes an export: the header first, then the checkpoints,
// then the records.
type ExportWriter struct{ enc *json.Encoder }

// NewExportWriter writes h to w and returns the writer of the rest.
func NewExportWriter(w io.Writer, h Header) (*ExportWriter, error) {
	e := &ExportWriter{enc: json.NewEncoder(w)}
	return e, e.enc.Encode(ExportLine{Type: "header", Header: &h})
}

// Checkpoint writes one checkpoint (all of them before any record).
func (e *ExportWriter) Checkpoint(c Checkpoint) error {
	return e.enc.Encode(ExportLine{Type: "checkpoint", Checkpoint: &c})
}

// Record writes one record.
func (e *ExportWriter) Record(r Record) error {
	return e.enc.Encode(ExportLine{Type: "record", Record: &r})
}
