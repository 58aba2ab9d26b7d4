package incident

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// caseDir is where case id of tenant t keeps its evidence. Its path is
// built from the tenant's ID (checked again here) and the case number
// only, never from what a user sent.
func (s *Service) caseDir(t tenant.ID, id int64) (string, error) {
	if _, err := tenant.Parse(string(t)); err != nil {
		return "", fmt.Errorf("BUG: evidence of tenant %q: %w", t, err)
	}
	return filepath.Join(s.d.Dir, string(t), strconv.FormatInt(id, 10)), nil
}

// ValidSHA256 reports whether s is a lower-case hex SHA-256.
func ValidSHA256(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// AddEvidence keeps body (at most Config.MaxEvidenceBytes, else
// ErrTooLarge) as an evidence file of case id named name, under
// <Dir>/<tenant>/<id>/<sha256>, and records it on the case. The same
// content added again is the same evidence: the case is unchanged.
func (s *Service) AddEvidence(ctx context.Context, p auth.Principal, t tenant.ID, id int64, name string, body io.Reader) (ev Evidence, before, after Case, err error) {
	// Check first, so that a refused upload writes nothing.
	c, err := s.Case(ctx, p, t, id)
	if err != nil {
		return Evidence{}, Case{}, Case{}, err
	}
	if err := c.Allows(p, VerbEvidence); err != nil {
		return Evidence{}, Case{}, Case{}, err
	}
	if c.Status == StatusClosed {
		return Evidence{}, Case{}, Case{}, closedError(&c, VerbEvidence)
	}
	dir, err := s.caseDir(t, id)
	if err != nil {
		return Evidence{}, Case{}, Case{}, err
	}
	sum, size, created, err := s.writeEvidence(dir, body)
	if err != nil {
		return Evidence{}, Case{}, Case{}, err
	}
	ev = Evidence{SHA256: sum, Name: cleanName(name), Size: size, Author: p.TokenID}
	before, after, err = s.update(ctx, p, t, id, VerbEvidence, func(c *Case, now time.Time) (Additions, error) {
		if c.Status == StatusClosed {
			return Additions{}, closedError(c, VerbEvidence)
		}
		if i := slices.IndexFunc(c.Evidence, func(e Evidence) bool { return e.SHA256 == sum }); i >= 0 {
			ev = c.Evidence[i]
			return Additions{}, nil
		}
		ev.Added = now
		return Additions{
			Evidence: []Evidence{ev},
			Entries: []Entry{{Time: now, Kind: KindEvidence, Text: "evidence added: " + ev.Name,
				Data: map[string]string{"sha256": sum, "name": ev.Name, "size": strconv.FormatInt(size, 10)}}},
		}, nil
	})
	if err != nil {
		if created {
			os.Remove(filepath.Join(dir, sum))
		}
		return Evidence{}, Case{}, Case{}, err
	}
	return ev, before, after, nil
}

// writeEvidence copies body into dir under its SHA-256 and reports
// whether the file is new.
func (s *Service) writeEvidence(dir string, body io.Reader) (sum string, size int64, created bool, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", 0, false, fmt.Errorf("evidence dir: %w", err)
	}
	f, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return "", 0, false, fmt.Errorf("evidence file: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if f != nil {
			f.Close()
		}
		if tmp != "" {
			os.Remove(tmp)
		}
	}()
	h := sha256.New()
	max := s.cfg.MaxEvidenceBytes
	size, err = io.Copy(io.MultiWriter(f, h), io.LimitReader(body, max+1))
	switch {
	case err != nil:
		return "", 0, false, fmt.Errorf("%w: read evidence: %w", ErrInvalid, err)
	case size > max:
		return "", 0, false, fmt.Errorf("%w: an evidence file may hold at most %d bytes (cases.max_evidence_bytes)", ErrTooLarge, max)
	case size == 0:
		return "", 0, false, fmt.Errorf("%w: the evidence file is empty", ErrInvalid)
	}
	if err := f.Sync(); err != nil {
		return "", 0, false, fmt.Errorf("evidence file: %w", err)
	}
	err = f.Close()
	f = nil
	if err != nil {
		return "", 0, false, fmt.Errorf("evidence file: %w", err)
	}
	sum = hex.EncodeToString(h.Sum(nil))
	final := filepath.Join(dir, sum)
	if _, err := os.Stat(final); err == nil {
		return sum, size, false, nil // the same content is there already
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", 0, false, fmt.Errorf("evidence file: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", 0, false, fmt.Errorf("evidence file: %w", err)
	}
	tmp = ""
	if d, err := os.Open(dir); err == nil {
		d.Sync() // the new name survives a crash
		d.Close()
	}
	return sum, size, true, nil
}

// EvidenceFile opens evidence file sum of case id, if p may read the case.
// The caller closes the file.
func (s *Service) EvidenceFile(ctx context.Context, p auth.Principal, t tenant.ID, id int64, sum string) (Evidence, *os.File, error) {
	if !ValidSHA256(sum) {
		return Evidence{}, nil, fmt.Errorf("%w: evidence of case %d: want its SHA-256 in lower-case hex", ErrNotFound, id)
	}
	c, err := s.Case(ctx, p, t, id)
	if err != nil {
		return Evidence{}, nil, err
	}
	i := slices.IndexFunc(c.Evidence, func(e Evidence) bool { return e.SHA256 == sum })
	if i < 0 {
		return Evidence{}, nil, fmt.Errorf("%w: evidence %s of case %d", ErrNotFound, sum, id)
	}
	dir, err := s.caseDir(t, id)
	if err != nil {
		return Evidence{}, nil, err
	}
	f, err := os.Open(filepath.Join(dir, c.Evidence[i].SHA256))
	if err != nil {
		return Evidence{}, nil, fmt.Errorf("evidence %s of case %d: %w", sum, id, err)
	}
	return c.Evidence[i], f, nil
}
