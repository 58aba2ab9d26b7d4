package indicators

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/intel/stix"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// ObjectReader reads kept STIX objects (store/sqlstore).
type ObjectReader interface {
	Objects(ctx context.Context, q intel.ObjectQuery) ([]intel.Object, bool, error)
}

// Formats are the importers and the exporter the service uses (package
// intel/imports and intel/stix), given by the server so this package does
// not depend on every format.
type Formats struct {
	// Parse detects a file's format by its name and content and reads it.
	Parse func(name string, data []byte, opts intel.ImportOptions) (intel.Batch, error)
	// Object writes an indicator that did not come as STIX as a STIX
	// indicator.
	Object func(intel.Indicator) (intel.Object, error)
	// Sighting writes a sighting, naming where it was seen only when the
	// member consented.
	Sighting func(s intel.Sighting, whereSighted []string) intel.Object
	// Bundle writes objects as a STIX bundle.
	Bundle func(objs []intel.Object) ([]byte, error)
}

// BadInputError is an import file the importers could not read.
type BadInputError struct{ Err error }

func (e BadInputError) Error() string { return e.Err.Error() }
func (e BadInputError) Unwrap() error { return e.Err }

// BadInput marks the error as the caller's.
func (BadInputError) BadInput() bool { return true }

// ImportFile reads one file with the importers and imports it.
func (s *Service) ImportFile(ctx context.Context, name string, data []byte, opts intel.ImportOptions) (intel.Summary, error) {
	if s.d.Formats.Parse == nil {
		return intel.Summary{}, fmt.Errorf("intel: no importers")
	}
	if opts.Now.IsZero() {
		opts.Now = s.d.Now().UTC()
	}
	if opts.TLP == "" {
		opts.TLP = s.cfg.TLP()
	}
	b, err := s.d.Formats.Parse(name, data, opts)
	if err != nil {
		if !strings.HasPrefix(err.Error(), name+": ") {
			err = fmt.Errorf("%s: %w", name, err) // the format detector names the file itself
		}
		return intel.Summary{}, BadInputError{err}
	}
	return s.Import(ctx, b)
}

// Export writes, as one STIX bundle, the latest version of every kept
// object the viewer may read, and the sightings Tarian made of them: a
// member's own, or every member's for the provider's staff. A sighting
// names the member where it was seen only if that member consented
// (intel.sighting_consent); otherwise it says only how often.
func (s *Service) Export(ctx context.Context, viewer tenant.ID, provider bool) ([]byte, error) {
	if s.d.Objects == nil || s.d.Formats.Bundle == nil {
		return nil, fmt.Errorf("intel: export needs the object store")
	}
	q := intel.ObjectQuery{Viewer: viewer, Provider: provider, Versions: []string{intel.VersionLast}}
	var objs []intel.Object
	for {
		page, more, err := s.d.Objects.Objects(ctx, q)
		if err != nil {
			return nil, err
		}
		objs = append(objs, page...)
		if !more || len(page) == 0 {
			break
		}
		q.Next = intel.ObjectCursor(page[len(page)-1])
	}
	if s.d.Formats.Sighting != nil {
		ss, err := s.exportSightings(ctx, objs, viewer, provider)
		if err != nil {
			return nil, err
		}
		objs = append(objs, ss...)
	}
	return s.d.Formats.Bundle(objs)
}

func (s *Service) exportSightings(ctx context.Context, objs []intel.Object, viewer tenant.ID, provider bool) ([]intel.Object, error) {
	var out []intel.Object
	identities := map[tenant.ID]bool{}
	for _, o := range objs {
		if o.Type != "indicator" {
			continue
		}
		ss, err := s.d.Store.Sightings(ctx, o.ID, viewer, provider)
		if err != nil {
			return nil, err
		}
		for _, x := range ss {
			if x.Tenant == "" {
				continue // a feed's sighting came as an object and is kept
			}
			var where []string
			if slices.Contains(s.cfg.SightingConsent, string(x.Tenant)) {
				where = []string{identityID(x.Tenant)}
				identities[x.Tenant] = true
			}
			so := s.d.Formats.Sighting(x, where)
			so.TLP = intel.Strictest(so.TLP, o.TLP)
			out = append(out, so)
		}
	}
	for t := range identities {
		out = append(out, identityObject(t))
	}
	return out, nil
}

// identityID is the STIX identity of a member body: fixed by its tenant
// ID, so every export names it the same.
func identityID(t tenant.ID) string {
	return stix.DeterministicID("identity", "tarian/tenant/"+string(t))
}

func identityObject(t tenant.ID) intel.Object {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ts := intel.FormatTimestamp(created)
	b, _ := json.Marshal(map[string]any{
		"type": "identity", "spec_version": "2.1", "id": identityID(t), "created": ts, "modified": ts,
		"name": string(t), "identity_class": "organization",
	})
	return intel.Object{ID: identityID(t), Type: "identity", Modified: created, SpecVersion: "2.1", TLP: intel.TLPGreen, JSON: b}
}

// revokedVersion is the next version of kept object id, revoked at now.
func (s *Service) revokedVersion(ctx context.Context, i intel.Indicator) ([]intel.Object, error) {
	if s.d.Objects == nil {
		return nil, nil
	}
	objs, _, err := s.d.Objects.Objects(ctx, intel.ObjectQuery{Provider: true, IDs: []string{i.ID}, Versions: []string{intel.VersionLast}})
	if err != nil || len(objs) == 0 {
		return nil, err
	}
	o := objs[0]
	var m map[string]any
	if err := json.Unmarshal(o.JSON, &m); err != nil {
		return nil, err
	}
	m["revoked"] = true
	m["modified"] = intel.FormatTimestamp(i.Modified)
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	o.JSON, o.Modified, o.Added = b, i.Modified, time.Time{}
	return []intel.Object{o}, nil
}
