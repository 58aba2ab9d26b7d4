package web

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tarian-soc/tarian/internal/audit"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// AuditTrail records and lists audit records.
type AuditTrail interface {
	audit.Log
	// AuditRecords returns the newest records of scope ("": all).
	AuditRecords(ctx context.Context, scope string, limit int) ([]audit.Record, error)
}

// AuditChains is what an AuditTrail also offers when it keeps the hash
// chains (the SQLite store does); without it a tenant's chain, verify and
// export answer 404.
type AuditChains interface {
	// AuditChain returns chain's newest records below position before.
	AuditChain(ctx context.Context, chain string, before int64, limit int) ([]audit.Record, error)
	// VerifyAudit verifies chain ("": every chain); a break is an
	// *audit.BreakError.
	VerifyAudit(ctx context.Context, chain string, pub ed25519.PublicKey) ([]audit.Result, error)
	// ExportAudit hands over chain's checkpoints, then its records.
	ExportAudit(ctx context.Context, chain string, cp func(audit.Checkpoint) error, rec func(audit.Record) error) error
	// AuditPublicKey verifies the checkpoints (nil: none are signed).
	AuditPublicKey() ed25519.PublicKey
}

// auditChains returns the trail's chains, or a 404 when it keeps none.
func (a *API) auditChains() (AuditChains, error) {
	c, ok := a.d.Audit.(AuditChains)
	if !ok {
		return nil, &apiError{http.StatusNotFound, "not_found", "this server's audit trail keeps no chains"}
	}
	return c, nil
}

func (a *API) registerAudit() {
	a.route("GET /api/v1/audit", admins, a.getAudit)
	a.route("GET /api/v1/audit/verify", admins, a.getAuditVerify)
	a.route("GET /api/v1/audit/export", admins, a.getAuditExport)
}

// auditChain resolves the chain p may read for the request's tenant
// parameter. A provider-admin reads any chain: "" (no parameter) is every
// chain, "*" the provider chain, an ID that tenant's chain (audited in that
// chain, so the member sees the provider looked). A tenant-admin reads its
// own tenant's chain only. Nobody else reads the trail.
func (a *API) auditChain(r *http.Request, p auth.Principal, action string) (string, error) {
	requested := r.URL.Query().Get("tenant")
	switch p.Role {
	case auth.RoleProviderAdmin:
		switch requested {
		case "":
			return "", nil
		case audit.ProviderChain:
			return audit.ProviderChain, nil
		}
		id, err := tenant.Parse(requested)
		if err != nil {
			return "", err
		}
		if _, err := a.d.Tenants.Tenant(r.Context(), id); err != nil {
			return "", err
		}
		if err := a.audit(r.Context(), p, action, string(id), r.URL.RawQuery); err != nil {
			return "", fmt.Errorf("audit: %w", err)
		}
		return string(id), nil
	case auth.RoleTenantAdmin:
		if requested != "" && requested != string(p.Tenant) {
			return "", fmt.Errorf("%w: this token may read tenant %s's audit trail only", auth.ErrForbidden, p.Tenant)
		}
		return string(p.Tenant), nil
	}
	return "", fmt.Errorf("%w: the audit trail is for provider-admin and a tenant's tenant-admin", auth.ErrForbidden)
}

// getAudit lists records, newest first: a chain's (tenant=, paged with
// before=SEQ), or for a provider-admin without tenant= every record
// (scope= filters on the record's scope, as before chains existed).
func (a *API) getAudit(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	q := r.URL.Query()
	limit := 100
	if s := q.Get("limit"); s != "" {
		var err error
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > 10000 {
			return badRequest("limit: want 1..10000")
		}
	}
	var before int64
	if s := q.Get("before"); s != "" {
		var err error
		if before, err = strconv.ParseInt(s, 10, 64); err != nil || before < 1 {
			return badRequest("before: want a position (seq) of the chain")
		}
	}
	chain, err := a.auditChain(r, p, "audit.read")
	if err != nil {
		return err
	}
	var recs []audit.Record
	if chain == "" {
		recs, err = a.d.Audit.AuditRecords(r.Context(), q.Get("scope"), limit)
	} else {
		var chains AuditChains
		if chains, err = a.auditChains(); err == nil {
			recs, err = chains.AuditChain(r.Context(), chain, before, limit)
		}
	}
	if err != nil {
		return err
	}
	if recs == nil {
		recs = []audit.Record{}
	}
	out := map[string]any{"records": recs}
	if chain != "" {
		out["chain"] = chain
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// auditVerifyJSON is the answer of GET /api/v1/audit/verify.
type auditVerifyJSON struct {
	Intact    bool              `json:"intact"`
	KeyID     string            `json:"key_id"`
	PublicKey string            `json:"public_key"`
	Chains    []audit.Result    `json:"chains"`
	Break     *audit.BreakError `json:"break,omitempty"`
}

// getAuditVerify verifies the chain(s) the caller may read. It answers 200
// either way: "intact" says whether the trail holds.
func (a *API) getAuditVerify(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	chains, err := a.auditChains()
	if err != nil {
		return err
	}
	chain, err := a.auditChain(r, p, "audit.verify")
	if err != nil {
		return err
	}
	pub := chains.AuditPublicKey()
	res, err := chains.VerifyAudit(r.Context(), chain, pub)
	out := auditVerifyJSON{Intact: err == nil, Chains: res, KeyID: keyID(pub), PublicKey: hex.EncodeToString(pub)}
	if out.Chains == nil {
		out.Chains = []audit.Result{}
	}
	var be *audit.BreakError
	switch {
	case errors.As(err, &be):
		out.Break = be
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func keyID(pub ed25519.PublicKey) string {
	if pub == nil {
		return ""
	}
	return audit.KeyID(pub)
}

// getAuditExport writes one chain as JSON lines (audit.ExportLine) for the
// member's own auditors: verifiable offline with tarian audit verify --file.
func (a *API) getAuditExport(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	chains, err := a.auditChains()
	if err != nil {
		return err
	}
	if p.Role == auth.RoleProviderAdmin && r.URL.Query().Get("tenant") == "" {
		return badRequest("tenant is required: a tenant ID, or * for the provider chain")
	}
	chain, err := a.auditChain(r, p, "audit.export")
	if err != nil {
		return err
	}
	pub := chains.AuditPublicKey()
	name := chain
	if chain == audit.ProviderChain {
		name = "provider"
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="audit-`+name+`.jsonl"`)
	ew, err := audit.NewExportWriter(w, audit.Header{Chain: chain, PublicKey: hex.EncodeToString(pub), KeyID: keyID(pub), Exported: time.Now().UTC()})
	if err != nil {
		return nil // the client went away
	}
	if err := chains.ExportAudit(r.Context(), chain, ew.Checkpoint, ew.Record); err != nil {
		// The status is sent: a cut export fails verification.
		a.d.Log.Warn("audit export cut short", "tenant", chain, "err", err)
	}
	return nil
}
