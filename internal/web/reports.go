package web

import (
	"bytes"
	"context"
	"errors"
	"mime"
	"net/http"
	"time"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/report"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Reports builds a member's monthly report (the server: report.Gather
// over its stores).
type Reports interface {
	Report(ctx context.Context, t tenant.ID, month time.Time) (*report.Report, error)
}

func (a *API) registerReports() {
	a.route("GET /api/v1/reports", readers, a.getReport)
}

// getReport is GET /api/v1/reports?tenant=&month=YYYY-MM&lang=en|cy&format=html|pdf|json:
// one member's report of one calendar month (UTC; default: the month
// before this one). A member's users get their own member's; the
// provider's roles name the member, and their read is audited in its
// chain. The report is the member's view whoever asks.
func (a *API) getReport(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if a.d.Reports == nil {
		return &apiError{http.StatusNotFound, "not_found", "this server makes no reports"}
	}
	q := r.URL.Query()
	requested := q.Get("tenant")
	if requested == auth.AllTenants || requested == "" && p.Role.Provider() {
		return badRequest("tenant: a report is of one member; name it with tenant=<id> (tarian reports create --tenant ID)")
	}
	t, _, err := p.ReadScope(requested)
	if err != nil {
		return err
	}
	now := a.now()
	month := report.PreviousMonth(now)
	if s := q.Get("month"); s != "" {
		if month, err = report.ParseMonth(s); err != nil {
			return badRequest(err.Error())
		}
	}
	lang, err := report.ParseLang(q.Get("lang"))
	if err != nil {
		return badRequest(err.Error())
	}
	format := q.Get("format")
	switch format {
	case "":
		format = "html"
	case "html", "pdf", "json":
	default:
		return badRequest("format: want html, pdf or json")
	}
	if _, err := a.d.Tenants.Tenant(r.Context(), t); err != nil {
		return err
	}
	if err := a.auditProviderRead(r, p, "report.read", t); err != nil {
		return err
	}
	rep, err := a.d.Reports.Report(r.Context(), t, month)
	if errors.Is(err, report.ErrInvalid) {
		return badRequest(err.Error())
	}
	if err != nil {
		return err
	}
	h := w.Header()
	disposition := func(kind, ext string) {
		h.Set("Content-Disposition", mime.FormatMediaType(kind, map[string]string{"filename": report.Filename(t, rep.Month, lang, ext)}))
	}
	switch format {
	case "json":
		disposition("inline", "json")
		writeJSON(w, http.StatusOK, rep)
		return nil
	case "pdf":
		var b bytes.Buffer
		if err := rep.PDF(&b, lang); err != nil {
			return err
		}
		h.Set("Content-Type", "application/pdf")
		disposition("attachment", "pdf")
		w.WriteHeader(http.StatusOK)
		_, err = w.Write(b.Bytes())
		return err
	}
	page, err := rep.HTML(lang)
	if err != nil {
		return err
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", string(lang))
	disposition("inline", "html")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(page)
	return err
}
