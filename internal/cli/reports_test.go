package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// TestReportsCreate: tarian reports create writes a member's report, HTML
// or PDF, in English or Welsh; another member's is refused.
func TestReportsCreate(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	s.AddTenant(t, "gwynedd")
	s.AddTenant(t, "conwy")
	admin := cmdEnv{url: s.URL, token: servertest.AdminToken}
	dir := t.TempDir()

	pdf := filepath.Join(dir, "r.pdf")
	if code, _, errs := admin.run(t, "", "reports", "create", "--tenant", "gwynedd", "--month", "2026-01", "--lang", "cy", "--pdf", "-o", pdf); code != 0 {
		t.Fatalf("create --pdf: %d %q", code, errs)
	}
	if b, err := os.ReadFile(pdf); err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("%s: %v %.20q", pdf, err, b)
	}
	if _, err := os.Stat(pdf + ".partial"); !os.IsNotExist(err) {
		t.Errorf("the partial file is left: %v", err)
	}
	viewer := cmdEnv{url: s.URL, token: s.Token(t, "gwynedd", "tenant-viewer")}
	code, out, errs := viewer.run(t, "", "reports", "create", "--month", "2026-01", "-o", "-")
	if code != 0 || !strings.Contains(out, "Monthly report") || !strings.Contains(out, "January 2026") {
		t.Fatalf("create -o -: %d %.200q %q", code, out, errs)
	}
	html := filepath.Join(dir, "r.html")
	if code, _, errs := viewer.run(t, "", "reports", "create", "--tenant", "conwy", "--month", "2026-01", "-o", html); code != 1 || !strings.Contains(errs, "403") && !strings.Contains(errs, "forbidden") {
		t.Errorf("another member's: %d %q", code, errs)
	}
	if _, err := os.Stat(html); !os.IsNotExist(err) {
		t.Errorf("a refused report left a file: %v", err)
	}
	for _, args := range [][]string{
		{"reports"},
		{"reports", "create", "--tenant", "gwynedd"},
		{"reports", "create", "--tenant", "gwynedd", "--lang", "fr", "-o", html},
		{"reports", "create", "--tenant", "gwynedd", "--month", "January", "-o", html},
	} {
		if code, _, errs := admin.run(t, "", args...); code != 2 {
			t.Errorf("%q: %d %q, want usage (2)", args, code, errs)
		}
	}
}
