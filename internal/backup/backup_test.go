package backup_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/backup"
	"github.com/tarian-soc/tarian/internal/server"
)

func entry(path, content string) backup.Entry {
	return backup.Entry{Path: path, Size: int64(len(content)), Open: func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(content)), nil
	}}
}

var files = map[string]string{
	"state.db":                        "SQLite format 3\x00 pretend",
	"secret.key":                      "00112233",
	"events/partitions/20261206/x/y":  noise(1 << 20),
	"raw/tenant-a/2026-12-06/records": "raw",
	"evidence/tenant-a/1/abc":         "", // an empty file
}

// noise is n incompressible bytes, so an archive spans many zstd blocks.
func noise(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return string(b)
}

func archive(t *testing.T) ([]byte, backup.Manifest) {
	t.Helper()
	var es []backup.Entry
	for _, p := range []string{"state.db", "secret.key", "events/partitions/20261206/x/y", "raw/tenant-a/2026-12-06/records", "evidence/tenant-a/1/abc"} {
		es = append(es, entry(p, files[p]))
	}
	var buf bytes.Buffer
	m, err := backup.Write(&buf, backup.Manifest{Version: "test", BusSeq: 42, Events: 7, Tenants: 2, SecretKey: true, Created: time.Unix(1, 0).UTC()}, es)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), m
}

func TestWriteRead(t *testing.T) {
	b, want := archive(t)
	got := map[string]string{}
	m, err := backup.Read(bytes.NewReader(b), func(f backup.File, r io.Reader) error {
		c, err := io.ReadAll(r)
		got[f.Path] = string(c)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("manifest read back (-written +read):\n%s", diff)
	}
	if diff := cmp.Diff(files, got); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if m.BusSeq != 42 || len(m.Files) != 5 || m.Files[0].SHA256 == "" {
		t.Errorf("manifest %+v", m)
	}
}

func TestReadRefusesBadArchives(t *testing.T) {
	good, _ := archive(t)
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x40
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a tarian backup"},
		{"not zstd", []byte("hello, this is not a backup"), "backup archive refused"},
		{"truncated", good[:len(good)*2/3], "truncated or corrupt"},
		{"truncated before the end", good[:len(good)-8], "backup archive refused"},
		{"corrupt", flipped, "backup archive refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := backup.Read(bytes.NewReader(tc.data), nil)
			if !errors.Is(err, backup.ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrCorrupt with %q", err, tc.want)
			}
		})
	}
}

// A manifest that does not match a file's content is refused, naming the
// file.
func TestReadRefusesDigestMismatch(t *testing.T) {
	// The content shrinks between the digest and the copy: Write refuses.
	calls := 0
	e := backup.Entry{Path: "raw/a", Size: 10, Open: func() (io.ReadCloser, error) {
		calls++
		return io.NopCloser(strings.NewReader("short")), nil
	}}
	if _, err := backup.Write(io.Discard, backup.Manifest{}, []backup.Entry{e}); err == nil || !strings.Contains(err.Error(), "raw/a: shrank") {
		t.Fatalf("Write of a shrunk file: %v", err)
	}
	// A path outside the data directory is refused.
	if _, err := backup.Write(io.Discard, backup.Manifest{}, []backup.Entry{entry("../etc/passwd", "x")}); err == nil {
		t.Fatal("Write of ../etc/passwd: no error")
	}
}

func TestRestore(t *testing.T) {
	b, _ := archive(t)
	file := filepath.Join(t.TempDir(), "b.tar.zst")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "data")
	var finished uint64
	opts := backup.RestoreOptions{Lock: server.LockData, LockFile: server.LockFile, Finish: func(_ string, m backup.Manifest) error {
		finished = m.BusSeq
		return nil
	}}
	if _, err := backup.Restore(file, dir, opts); err != nil {
		t.Fatal(err)
	}
	for p, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", p, got, err, want)
		}
	}
	if finished != 42 {
		t.Errorf("Finish saw bus position %d, want 42", finished)
	}

	// Again into the same directory: refused, naming what it holds.
	_, err := backup.Restore(file, dir, opts)
	if !errors.Is(err, backup.ErrNotEmpty) || !strings.Contains(err.Error(), "state.db") {
		t.Fatalf("restore into a directory with data: %v", err)
	}
	// With force: replaced.
	if err := os.WriteFile(filepath.Join(dir, "stray"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts.Force = true
	if _, err := backup.Restore(file, dir, opts); err != nil {
		t.Fatalf("restore --force: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "stray")); !os.IsNotExist(err) {
		t.Errorf("stray file survived restore --force: %v", err)
	}

	// A directory a server holds is refused, even with force.
	release, err := server.LockData(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if _, err := backup.Restore(file, dir, opts); !errors.Is(err, server.ErrDataInUse) {
		t.Fatalf("restore into a locked directory: %v", err)
	}
}

// A bad archive is refused before anything is written.
func TestRestoreChecksFirst(t *testing.T) {
	b, _ := archive(t)
	file := filepath.Join(t.TempDir(), "b.tar.zst")
	if err := os.WriteFile(file, b[:len(b)-100], 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "data")
	_, err := backup.Restore(file, dir, backup.RestoreOptions{})
	if !errors.Is(err, backup.ErrCorrupt) || !strings.Contains(err.Error(), file) {
		t.Fatalf("restore of a truncated archive: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("restore of a bad archive created %s: %v", dir, err)
	}
}

// TestRestoreChecksSchema: an archive of a later state schema than this
// tarian knows is refused, naming both versions, before anything is
// written; an earlier or equal one is restored. A manifest that does not
// record the schema gets it from the archive's state database.
func TestRestoreChecksSchema(t *testing.T) {
	write := func(t *testing.T, m backup.Manifest, paths ...string) string {
		t.Helper()
		var es []backup.Entry
		for _, p := range paths {
			es = append(es, entry(p, files[p]))
		}
		var buf bytes.Buffer
		if _, err := backup.Write(&buf, m, es); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "b.tar.zst")
		if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		return file
	}
	// stateSchema stands for sqlstore.FileSchema: the test's state.db
	// holds no database, so it answers 30 for the right content.
	var asked []string
	stateSchema := func(path string) (int, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, err
		}
		asked = append(asked, string(b))
		if string(b) != files["state.db"] {
			return 0, errors.New("not the archive's state database")
		}
		return 30, nil
	}
	opts := backup.RestoreOptions{Schema: 23, Version: "v1.2.0", StateSchema: stateSchema}
	tests := []struct {
		name  string
		m     backup.Manifest
		paths []string
		want  string // "" restores
		asked int
	}{
		{"newer", backup.Manifest{Version: "v1.3.0", Schema: 24}, []string{"state.db", "secret.key"},
			"state schema 24 (written by tarian v1.3.0); this tarian (v1.2.0) knows state schema 23 at most", 0},
		{"same", backup.Manifest{Version: "v1.2.0", Schema: 23}, []string{"state.db", "secret.key"}, "", 0},
		{"older", backup.Manifest{Version: "v1.0.0", Schema: 16}, []string{"state.db", "secret.key"}, "", 0},
		{"no schema recorded, newer database", backup.Manifest{}, []string{"secret.key", "state.db"},
			"state schema 30 (written by tarian of a version not recorded); this tarian (v1.2.0) knows state schema 23 at most", 1},
		{"no schema recorded, no database", backup.Manifest{}, []string{"secret.key"}, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			asked = nil
			file := write(t, tc.m, tc.paths...)
			dir := filepath.Join(t.TempDir(), "data")
			m, err := backup.Restore(file, dir, opts)
			if len(asked) != tc.asked {
				t.Errorf("the state database was read %d times, want %d", len(asked), tc.asked)
			}
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(filepath.Join(dir, "secret.key")); err != nil {
					t.Fatalf("not restored: %v", err)
				}
				return
			}
			if !errors.Is(err, backup.ErrNewerSchema) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrNewerSchema with %q", err, tc.want)
			}
			if m.Schema <= opts.Schema {
				t.Errorf("manifest returned with schema %d", m.Schema)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Fatalf("a refused restore created %s: %v", dir, err)
			}
		})
	}
	// A restore that does not check (Schema 0) takes any archive.
	if _, err := backup.Restore(write(t, backup.Manifest{Schema: 99}, "state.db"), filepath.Join(t.TempDir(), "data"), backup.RestoreOptions{}); err != nil {
		t.Fatalf("unchecked restore: %v", err)
	}
}
