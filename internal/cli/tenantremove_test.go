package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/audit"
	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// TestTenantRemoveRefusesBeforeRemoving: an unknown member, or an export
// path that is a directory, is refused before the server removes anything
// (a directory used to get DIR/.partial, and the rename that failed after
// the removal lost the receipt); a good removal writes FILE and its
// receipt.
func TestTenantRemoveRefusesBeforeRemoving(t *testing.T) {
	cfg := servertest.Config(t.TempDir())
	cfg.Bus.PublishTimeout = 200 * time.Millisecond
	s := servertest.Start(t, cfg)
	s.AddTenant(t, "north-vale")
	admin := cmdEnv{url: s.URL, token: servertest.AdminToken}
	dir := t.TempDir()

	code, _, errs := admin.run(t, "", "tenant", "remove", "no-such-member")
	if code != 1 || !strings.Contains(errs, "tenant not found: no-such-member") || strings.Contains(errs, "removing") {
		t.Errorf("unknown member: exit %d, %q; want 1, not found, and no word of removing", code, errs)
	}

	for _, export := range []string{dir, dir + "/"} {
		code, _, errs := admin.run(t, "", "tenant", "remove", "north-vale", "--export", export)
		if code != 1 || !strings.Contains(errs, "is a directory") || strings.Contains(errs, "removing") {
			t.Errorf("--export %s: exit %d, %q; want 1, is a directory", export, code, errs)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".partial")); !os.IsNotExist(err) {
		t.Errorf("a directory export left %s/.partial: %v", dir, err)
	}
	var list struct {
		Tenants []struct{ ID string } `json:"tenants"`
	}
	s.JSON(t, "GET", "/api/v1/tenants", servertest.AdminToken, nil, &list)
	if len(list.Tenants) != 1 || list.Tenants[0].ID != "north-vale" {
		t.Fatalf("after refused removals the tenants are %+v, want north-vale still there", list.Tenants)
	}

	// An export asked for in a way the server does not read is refused,
	// not taken as no export (which deleted the member without one).
	if status, body := s.Do(t, "DELETE", "/api/v1/tenants/north-vale?export=yes", servertest.AdminToken, nil); status != 400 || !strings.Contains(string(body), "export") {
		t.Errorf("DELETE ?export=yes: %d %s, want 400", status, body)
	}
	s.JSON(t, "GET", "/api/v1/tenants", servertest.AdminToken, nil, &list)
	if len(list.Tenants) != 1 {
		t.Fatalf("after DELETE ?export=yes the tenants are %+v, want north-vale still there", list.Tenants)
	}

	export := filepath.Join(dir, "north-vale.tar.zst")
	code, out, errs := admin.run(t, "", "tenant", "remove", "north-vale", "--export", export)
	if code != 0 {
		t.Fatalf("remove --export: exit %d, %q", code, errs)
	}
	var rec audit.Receipt
	if err := json.Unmarshal([]byte(out), &rec); err != nil || rec.Tenant != "north-vale" || rec.Export == nil {
		t.Fatalf("printed receipt %q: %v", out, err)
	}
	if _, err := os.Stat(export); err != nil {
		t.Errorf("export: %v", err)
	}
	if code, out, errs := admin.run(t, "", "tenant", "verify-receipt", export+".receipt.json", "--export", export); code != 0 || !strings.Contains(out, "signature good") {
		t.Errorf("verify-receipt: exit %d, %q %q", code, out, errs)
	}
}

// TestOpenPartialRefusesDirectory: backup and reports write through
// openPartial too, so `tarian backup /backups/` fails at once instead of
// after the whole backup, leaving /backups/.partial.
func TestOpenPartialRefusesDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{dir, dir + "/"} {
		if f, err := openPartial(p); err == nil || !strings.Contains(err.Error(), "is a directory") {
			if f != nil {
				f.Close()
			}
			t.Errorf("openPartial(%q): %v, want is a directory", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".partial")); !os.IsNotExist(err) {
		t.Errorf("left %s/.partial: %v", dir, err)
	}
	f, err := openPartial(filepath.Join(dir, "b.tar.zst"))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}
