package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// TestBackupRestore: tarian backup refuses a directory before the server
// makes anything; a backup restores into an empty directory, and restore
// says how to get in (the backup's tokens; no admin.token is written).
func TestBackupRestore(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	s.AddTenant(t, "gwynedd")
	admin := cmdEnv{url: s.URL, token: servertest.AdminToken}
	dir := t.TempDir()

	if code, _, errs := admin.run(t, "", "backup", dir); code != 1 || !strings.Contains(errs, "is a directory") {
		t.Errorf("backup into a directory: exit %d, %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, ".partial")); !os.IsNotExist(err) {
		t.Errorf("backup into a directory left %s/.partial: %v", dir, err)
	}
	file := filepath.Join(dir, "b.tar.zst")
	if code, out, errs := admin.run(t, "", "backup", file); code != 0 || !strings.Contains(out, "1 tenants") {
		t.Fatalf("backup: exit %d, %q %q", code, out, errs)
	}
	data := filepath.Join(dir, "restored")
	code, out, errs := admin.run(t, "", "restore", "--data", data, file)
	if code != 0 || !strings.Contains(out, "restored "+file) || !strings.Contains(out, "TARIAN_BOOTSTRAP_TOKEN") {
		t.Fatalf("restore: exit %d, %q %q", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(data, "state.db")); err != nil {
		t.Errorf("restored state.db: %v", err)
	}
	if code, _, errs := admin.run(t, "", "restore", "--data", data, file); code != 1 || !strings.Contains(errs, "not empty") {
		t.Errorf("restore into the restored directory again: exit %d, %q", code, errs)
	}
}
