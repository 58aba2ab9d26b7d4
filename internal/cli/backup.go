package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/backup"
	"github.com/tarian-soc/tarian/internal/buildinfo"
	"github.com/tarian-soc/tarian/internal/bus"
	"github.com/tarian-soc/tarian/internal/server"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
)

// runBackup asks the running server for a backup (POST /api/v1/backup)
// and writes it to FILE: to FILE.partial, checked whole (every file's
// SHA-256 against the manifest), fsynced, then renamed.
func runBackup(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("backup", env)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: tarian backup FILE")
	}
	file := pos[0]
	c, err := newClient(env)
	if err != nil {
		return err
	}
	hc := *c.hc
	hc.Timeout = 0 // an archive takes as long as it takes; ctx ends it
	c.hc = &hc
	began := time.Now()
	partial := file + ".partial"
	f, err := openPartial(file)
	if err != nil {
		return err
	}
	resp, err := c.do(ctx, "POST", "/api/v1/backup", nil, "")
	if err != nil {
		f.Close()
		os.Remove(partial)
		return err
	}
	defer resp.Body.Close()
	n, err := io.Copy(f, resp.Body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(partial)
		return fmt.Errorf("receive backup: %w (the server logs why; nothing kept)", err)
	}
	m, err := backup.Verify(partial)
	if err != nil {
		return fmt.Errorf("the server's archive does not check out (kept as %s): %w", partial, err)
	}
	if err := os.Rename(partial, file); err != nil {
		return err
	}
	if err := syncDirOf(file); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "backup %s: %s in %v\n", file, sizeString(n), time.Since(began).Round(time.Millisecond))
	printManifest(env.Stdout, m)
	return nil
}

// runRestore restores a backup into the data directory of a stopped server.
// A backup of a later state schema than this tarian knows (a newer tarian
// wrote it) is refused; an earlier one is migrated when the server starts.
func runRestore(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("restore", env)
	dir := fs.String("data", "", "the data directory to restore into (required)")
	force := fs.Bool("force", false, "replace the data a directory holds")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *dir == "" {
		return usageError("usage: tarian restore --data DIR [--force] FILE")
	}
	m, err := backup.Restore(pos[0], *dir, backup.RestoreOptions{
		Force:    *force,
		Lock:     server.LockData,
		LockFile: server.LockFile,
		Finish: func(dir string, m backup.Manifest) error {
			if m.BusSeq == 0 {
				return nil
			}
			return bus.WriteNextSeq(dir, m.BusSeq+1)
		},
		Schema:      sqlstore.Schema(),
		Version:     buildinfo.String(),
		StateSchema: func(path string) (int, error) { return sqlstore.FileSchema(ctx, path) },
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "restored %s into %s\n", pos[0], *dir)
	printManifest(env.Stdout, m)
	if m.Schema != 0 && m.Schema < sqlstore.Schema() {
		fmt.Fprintf(env.Stdout, "the state store is migrated from schema %d to %d when the server starts; keep the backup to go back to the tarian that wrote it\n", m.Schema, sqlstore.Schema())
	}
	if !m.SecretKey {
		fmt.Fprintln(env.Stdout, "the archive holds no secret key (the server had TARIAN_SECRET_KEY): start the server with the same TARIAN_SECRET_KEY")
	}
	// The restored server has the backup's tokens, so it writes no new
	// admin.token; say how to get in when the old one is lost.
	fmt.Fprintln(env.Stdout, "tokens are the backup's (admin.token is not in it): use the old provider-admin token, or start the server once with TARIAN_BOOTSTRAP_TOKEN")
	return nil
}

func printManifest(w io.Writer, m backup.Manifest) {
	fmt.Fprintf(w, "  made %s by tarian %s (state schema %d)\n", m.Created.Format(time.RFC3339), m.Version, m.Schema)
	fmt.Fprintf(w, "  bus position %d: the restored bus continues at %d\n", m.BusSeq, m.BusSeq+1)
	fmt.Fprintf(w, "  %d tenants, %d events, secret key included: %v\n", m.Tenants, m.Events, m.SecretKey)
	parts := map[string][2]int64{}
	for _, f := range m.Files {
		top := f.Path
		top, _, _ = strings.Cut(top, "/")
		p := parts[top]
		parts[top] = [2]int64{p[0] + 1, p[1] + f.Size}
	}
	for _, top := range []string{"state.db", "events", "raw", "evidence", "secret.key"} {
		if p, ok := parts[top]; ok {
			fmt.Fprintf(w, "  %-10s %6d files %10s\n", top, p[0], sizeString(p[1]))
		}
	}
	fmt.Fprintf(w, "  total      %6d files %10s (uncompressed)\n", len(m.Files), sizeString(m.Bytes()))
}

func sizeString(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// openPartial creates FILE.partial, where a download goes until it checks
// out; callers open it before they ask the server for anything, so a path
// that cannot be written fails before the server does any work. A FILE
// that is a directory (or ends in a slash) is refused here: the download
// would otherwise go to DIR/.partial and fail only at its rename, after
// the server's work (for a tenant removal, after the tenant is gone).
func openPartial(file string) (*os.File, error) {
	if fi, err := os.Stat(file); err == nil && fi.IsDir() || strings.HasSuffix(file, "/") || strings.HasSuffix(file, string(os.PathSeparator)) {
		return nil, fmt.Errorf("cannot write %s: it is a directory; name a file (DIR/NAME)", file)
	}
	f, err := os.OpenFile(file+".partial", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", file, err)
	}
	return f, nil
}

func syncDirOf(file string) error {
	d, err := os.Open(filepath.Dir(file))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
