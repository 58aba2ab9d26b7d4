package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	"github.com/tarian-soc/tarian/internal/backup"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
)

// oldBackup is a backup written by tarian 795e130 (the first with backups,
// state schema 16): the member gwynedd, the rule "whoami run", 20 Sysmon
// events of host G-WS1 (two of them whoami.exe: one alert counting two
// events), made with TARIAN_BOOTSTRAP_TOKEN=adminToken. See
// testdata/README.md.
const (
	oldBackup        = "testdata/backup-schema16.tar.zst"
	oldBackupSchema  = 16
	oldBackupAnalyst = "trn_JtY7bU8zth-xYYtalhB4F64HbNswu2xKR44NfjPoK70" // gwynedd, tenant-analyst
	oldBackupIngest  = "trn_I6Ky6aq02wCEea58TGVRtxBTITxFI1loY5-1xifipHY" // gwynedd, ingest
)

// fileSchema is the schema version of the state database at path.
func fileSchema(t *testing.T, path string) int {
	t.Helper()
	v, err := sqlstore.FileSchema(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestRestoreOlderBackupMigrates restores a backup an older tarian wrote
// (state schema 16) and starts a server on it: the state store is migrated
// to this tarian's schema, and the backup's tokens, events, alert and
// audit trail are all there; new events are stored and detected.
func TestRestoreOlderBackupMigrates(t *testing.T) {
	if os.Getenv(EnvEngines) == "external" {
		t.Skip("tarian restore fills a data directory with embedded engines")
	}
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "restored")
	c := &server{t: t}
	r := c.cli("", "restore", "--data", data, oldBackup)
	if r.code != 0 {
		t.Fatalf("restore: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	want := fmt.Sprintf("the state store is migrated from schema %d to %d when the server starts", oldBackupSchema, sqlstore.Schema())
	if !strings.Contains(r.stdout, fmt.Sprintf("(state schema %d)", oldBackupSchema)) || !strings.Contains(r.stdout, want) {
		t.Errorf("restore printed:\n%s\nwant the schema and %q", r.stdout, want)
	}
	if v := fileSchema(t, filepath.Join(data, "state.db")); v != oldBackupSchema {
		t.Fatalf("restored state schema %d, want the backup's %d", v, oldBackupSchema)
	}

	s := startServer(t, data)
	if got := s.counts(oldBackupAnalyst, "gwynedd", "*"); got["gwynedd"] != 20 {
		t.Errorf("restored events: %v, want 20", got)
	}
	as := s.alertList(oldBackupAnalyst)
	if len(as) != 1 || as[0].Host != "G-WS1" || as[0].Count != 2 || as[0].Tenant != "gwynedd" {
		t.Errorf("restored alerts: %+v", as)
	}
	if out := s.mustCLI(adminToken, "audit", "verify"); !strings.Contains(out, "chain *: intact") {
		t.Errorf("audit verify after restore:\n%s", out)
	}
	s.ingestLines(oldBackupIngest, sysmonProc("G-WS2", `GWYNEDD\new`, `C:\Windows\System32\whoami.exe`, time.Now().UTC(), 1))
	s.waitIndexed()
	s.waitDetected()
	if got := s.counts(oldBackupAnalyst, "gwynedd", "G-WS2"); got["gwynedd"] != 1 {
		t.Errorf("new event after restore: %v", got)
	}
	if as := s.alertList(oldBackupAnalyst); len(as) != 2 {
		t.Errorf("alerts after a new whoami: %+v, want 2", as)
	}
	s.stop()
	if v := fileSchema(t, filepath.Join(data, "state.db")); v != sqlstore.Schema() {
		t.Errorf("state schema after the server ran: %d, want %d", v, sqlstore.Schema())
	}
}

// TestRestoreRefusesNewerSchema: a backup whose state database has a
// migration this tarian does not know is refused, naming both versions,
// and nothing is written; whether the manifest records the schema or
// (a manifest without it) the state database is asked.
func TestRestoreRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	newer := sqlstore.Schema() + 1
	tests := []struct {
		name     string
		schema   int  // the manifest's
		migrate  bool // add migration newer to the state database
		refused  bool
		printed  string
		manifest string
	}{
		{"manifest and database newer", newer, true, true, "", "v9.9.9"},
		{"manifest without schema, database newer", 0, true, true, "", ""},
		{"manifest without schema, database older", 0, false, false, fmt.Sprintf("(state schema %d)", oldBackupSchema), ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := rewriteBackup(t, dir, i, tc.schema, tc.manifest, tc.migrate, newer)
			data := filepath.Join(dir, fmt.Sprintf("data-%d", i))
			r := (&server{t: t}).cli("", "restore", "--data", data, file)
			if !tc.refused {
				if r.code != 0 || !strings.Contains(r.stdout, tc.printed) {
					t.Fatalf("restore: exit %d, want 0 printing %q\n%s\n%s", r.code, tc.printed, r.stdout, r.stderr)
				}
				return
			}
			want := []string{fmt.Sprintf("holds state schema %d", newer), fmt.Sprintf("knows state schema %d at most", sqlstore.Schema()), "newer tarian"}
			if tc.manifest != "" {
				want = append(want, "written by tarian "+tc.manifest)
			}
			for _, w := range want {
				if r.code != 1 || !strings.Contains(r.stderr, w) {
					t.Errorf("restore: exit %d, stderr %q; want exit 1 and %q", r.code, r.stderr, w)
				}
			}
			if _, err := os.Stat(data); !os.IsNotExist(err) {
				t.Errorf("a refused restore created %s: %v", data, err)
			}
		})
	}
}

// rewriteBackup writes a copy of oldBackup with the manifest's schema and
// version set, and with migration newer recorded in its state database if
// migrate.
func rewriteBackup(t *testing.T, dir string, n, schema int, version string, migrate bool, newer int) string {
	t.Helper()
	f, err := os.Open(oldBackup)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	contents := map[string][]byte{}
	m, err := backup.Read(f, func(f backup.File, r io.Reader) error {
		b, err := io.ReadAll(r)
		contents[f.Path] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if migrate {
		path := filepath.Join(dir, fmt.Sprintf("state-%d.db", n))
		if err := os.WriteFile(path, contents["state.db"], 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO schema_migrations (version, applied) VALUES (?, ?)`, newer, time.Now().Unix()); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if contents["state.db"], err = os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
	}
	var es []backup.Entry
	for _, f := range m.Files {
		b := contents[f.Path]
		es = append(es, backup.Entry{Path: f.Path, Size: int64(len(b)), Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }})
	}
	m.Schema, m.Version = schema, version
	var buf bytes.Buffer
	if _, err := backup.Write(&buf, m, es); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, fmt.Sprintf("b-%d.tar.zst", n))
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}
