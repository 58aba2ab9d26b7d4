package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/tarian-soc/tarian/internal/audit"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// ErrTenantInUse is returned by Offboarder.RemoveTenant while the
// configuration still sends records to the tenant (409 tenant_in_use).
var ErrTenantInUse = errors.New("tenant still named by the configuration")

// ReceiptTrailer is the HTTP trailer that carries the signed receipt of a
// removal with an export (base64url of its JSON): the export streams
// first, the receipt exists only after the deletion that follows it.
const ReceiptTrailer = "X-Tarian-Receipt"

// Offboarder removes tenants and applies retention (the server).
type Offboarder interface {
	// RemoveTenant removes tenant id and everything of it, after writing
	// its export to what export returns when export is not nil; revoked is
	// called once its credentials are gone.
	RemoveTenant(ctx context.Context, id tenant.ID, actor string, export func() io.Writer, revoked func()) (audit.Receipt, error)
	// ApplyRetention applies every tenant's retention now.
	ApplyRetention(ctx context.Context) ([]RetentionDeleted, error)
}

// RetentionDeleted is what a retention run deleted for one tenant.
type RetentionDeleted struct {
	Tenant      tenant.ID `json:"tenant"`
	Events      int       `json:"events"`
	RawDays     int       `json:"raw_days"`
	DeadLetters int64     `json:"dead_letters"`
}

// deleteTenant removes a tenant (provider-admin), audited in the
// provider's chain (tenant.remove) with the receipt. Without ?export=true
// the answer is the receipt; with it, the export (application/zstd)
// followed by the receipt in the X-Tarian-Receipt trailer. An error after
// the export has started aborts the response.
func (a *API) deleteTenant(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if a.d.Offboard == nil {
		return &apiError{http.StatusNotFound, "not_found", "this server removes no tenants"}
	}
	id, err := tenant.Parse(r.PathValue("id"))
	if err != nil {
		return err
	}
	// A value that is not a boolean is refused: read as false, it would
	// delete the member without the export its caller asked for.
	withExport := false
	if v := r.URL.Query().Get("export"); v != "" {
		if withExport, err = strconv.ParseBool(v); err != nil {
			return badRequest("export=" + strconv.Quote(v) + ": want true or false")
		}
	}
	var users []auth.User
	if a.d.Users != nil {
		if users, err = a.d.Users.Users(r.Context(), id, false); err != nil {
			return err
		}
	}
	revoked := func() {
		a.acct.cache.dropTokens()
		for _, u := range users {
			a.acct.cache.dropUser(u.ID)
		}
	}
	started := false
	var export func() io.Writer
	if withExport {
		export = func() io.Writer {
			started = true
			_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
			w.Header().Set("Content-Type", "application/zstd")
			w.Header().Set("Content-Disposition", `attachment; filename="tarian-`+string(id)+`.tar.zst"`)
			w.Header().Set("Trailer", ReceiptTrailer)
			w.WriteHeader(http.StatusOK)
			return flushWriter{w}
		}
	}
	rec, err := a.d.Offboard.RemoveTenant(r.Context(), id, p.TokenID, export, revoked)
	if errors.Is(err, ErrTenantInUse) {
		return &apiError{http.StatusConflict, "tenant_in_use", err.Error()}
	}
	if err != nil && started {
		a.d.Log.Error("tenant removal failed after its export started", "tenant", id, "err", err)
		panic(http.ErrAbortHandler)
	}
	if err != nil {
		return err
	}
	revoked() // users' sessions are gone with the users
	detail, _ := json.Marshal(map[string]any{"tenant": id, "deleted": rec.Deleted, "export": rec.Export, "signature": rec.Signature})
	// Audited even if the client has gone: the removal has happened.
	if aerr := a.audit(context.WithoutCancel(r.Context()), p, "tenant.remove", auth.AllTenants, string(detail)); aerr != nil {
		a.d.Log.Error("tenant removed but not audited", "tenant", id, "err", aerr)
		if started {
			panic(http.ErrAbortHandler)
		}
		return aerr
	}
	body, _ := json.Marshal(rec)
	if started {
		w.Header().Set(ReceiptTrailer, base64.RawURLEncoding.EncodeToString(body))
		return nil
	}
	writeJSON(w, http.StatusOK, rec)
	return nil
}

// postRetention applies retention now (provider-admin, audited
// retention.run) and answers what it deleted per tenant.
func (a *API) postRetention(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if a.d.Offboard == nil {
		return &apiError{http.StatusNotFound, "not_found", "this server applies no retention"}
	}
	if err := a.audit(r.Context(), p, "retention.run", auth.AllTenants, "{}"); err != nil {
		return err
	}
	res, err := a.d.Offboard.ApplyRetention(r.Context())
	if res == nil {
		res = []RetentionDeleted{}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"tenants": res})
	return nil
}

// flushWriter flushes after each write, so an export streams as it is
// made.
type flushWriter struct{ w http.ResponseWriter }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err == nil {
		err = http.NewResponseController(f.w).Flush()
	}
	return n, err
}
