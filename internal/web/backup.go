package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/backup"
)

// Backuper makes a consistent backup archive of the server's data while
// it runs. start is called once, just before the first byte of the
// archive, with what the manifest knows then; an error returned before it
// leaves nothing written.
type Backuper interface {
	Backup(ctx context.Context, start func(backup.Manifest) io.Writer) (backup.Manifest, error)
}

// postBackup streams a backup archive (provider-admin). Its start is
// audited (backup.create) with the bus position. An error after the first
// byte aborts the response: the client sees a truncated archive, which
// restore refuses.
func (a *API) postBackup(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if a.d.Backup == nil {
		return &apiError{http.StatusNotFound, "not_found", "this server makes no backups"}
	}
	var auditErr error
	started := false
	_, err := a.d.Backup.Backup(r.Context(), func(m backup.Manifest) io.Writer {
		detail, _ := json.Marshal(map[string]any{"bus_seq": m.BusSeq, "events": m.Events, "tenants": m.Tenants})
		if auditErr = a.audit(r.Context(), p, "backup.create", auth.AllTenants, string(detail)); auditErr != nil {
			return failWriter{auditErr}
		}
		started = true
		// An archive takes as long as it takes: no write timeout.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
		w.Header().Set("Content-Type", "application/zstd")
		w.Header().Set("Content-Disposition", `attachment; filename="tarian-`+strconv.FormatUint(m.BusSeq, 10)+`.tar.zst"`)
		w.Header().Set("X-Tarian-Bus-Seq", strconv.FormatUint(m.BusSeq, 10))
		w.WriteHeader(http.StatusOK)
		return w
	})
	if auditErr != nil {
		return auditErr
	}
	if err != nil && started {
		a.d.Log.Error("backup failed while streaming", "err", err)
		panic(http.ErrAbortHandler)
	}
	return err
}

// failWriter fails every write with its error.
type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }
